"""Old module paths of the flat layout (before 0.2), kept importable for one release.

``import migration_sim.groups`` and ``from migration_sim.sweep_store import SweepStore`` still
work, with a :class:`DeprecationWarning` naming the new place. The old module is a copy of the
namespace of its new module(s); it is not the new module itself, so patching it changes nothing.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings

__all__ = ["MOVED_MODULES", "install"]

#: Old module -> the module(s) that now hold its names, in the order their names are merged.
MOVED_MODULES: dict[str, tuple[str, ...]] = {
    "migration_sim.choice": ("migration_sim.model.choice",),
    "migration_sim.groups": ("migration_sim.model.groups",),
    "migration_sim.kernels": ("migration_sim.model.kernels",),
    "migration_sim.network": ("migration_sim.model.network",),
    "migration_sim.platforms": ("migration_sim.model.platforms",),
    "migration_sim.ties": ("migration_sim.model.ties",),
    "migration_sim.shocks": ("migration_sim.config.shocks", "migration_sim.model.shocks"),
    "migration_sim.paramdoc": ("migration_sim.config.paramdoc",),
    "migration_sim.scenario": ("migration_sim.config.scenario", "migration_sim.model.runner"),
    "migration_sim.output": ("migration_sim.results.folder",),
    "migration_sim.plots": ("migration_sim.results.plots",),
    "migration_sim.provenance": ("migration_sim.results.provenance",),
    "migration_sim.sweep_spec": ("migration_sim.sweep.spec",),
    "migration_sim.sweep_store": ("migration_sim.sweep.store",),
    "migration_sim.sweep_outcomes": ("migration_sim.sweep.outcomes",),
    "migration_sim.sensitivity": ("migration_sim.sweep.sensitivity",),
    "migration_sim.cli_sweep": ("migration_sim.cli.sweep_commands",),
}


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the old module names and loads each as a copy of its new module(s)."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: D102
        if fullname not in MOVED_MODULES:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):  # noqa: D102
        return types.ModuleType(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:  # noqa: D102
        targets = MOVED_MODULES[module.__name__]
        warnings.warn(
            f"{module.__name__} has moved to {' and '.join(targets)}; the old path will be "
            "removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        for target in targets:
            new = importlib.import_module(target)
            module.__dict__.update(
                {
                    k: v
                    for k, v in vars(new).items()
                    if not (k.startswith("__") and k.endswith("__"))
                }
            )
        module.__doc__ = f"Deprecated alias of {', '.join(targets)}."


def install() -> None:
    """Put the finder for the old module paths on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _MovedModuleFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())
