"""migration_sim: cybercriminal groups migrating between messaging platforms under shocks.

Public entry points::

    import migration_sim as ms
    res = ms.run({"groups.n_groups": 2000}, seed=1, steps=365)
    res.timeseries            # one row per step
    model = ms.MigrationModel(ms.default_config(), rng=1)
    res = ms.run_scenario("telegram_2024", seed=1)   # a scenario file or built-in name
    cfg = ms.load_scenario("experiments/domino.toml")
    res = ms.load_results("results/telegram_2024-...")  # a results folder, back as Results
    ms.metrics.effective_number([50, 30, 20])       # the measures, as plain functions

The package is layered; each sub-package imports only from the ones below it (see
``docs/architecture.md``)::

    cli  ->  sweep  ->  model  ->  results  ->  metrics  ->  config

The public names and the sub-packages are imported on first use (PEP 562), so
``import migration_sim`` and ``migration-sim --help`` do not pay for Mesa, numba, pandas and
matplotlib until something needs them.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from migration_sim import _compat
from migration_sim._openmp import set_wait_policy

set_wait_policy()  # numba loads its OpenMP layer at the first parallel region, not at import

_compat.install()

#: Public name -> the module that defines it.
_EXPORTS = {
    "Config": "migration_sim.config",
    "ConfigError": "migration_sim.config",
    "builtin_scenario": "migration_sim.config",
    "default_config": "migration_sim.config",
    "load_scenario": "migration_sim.config",
    "save_scenario": "migration_sim.config",
    "CriminalGroup": "migration_sim.model",
    "MigrationModel": "migration_sim.model",
    "run": "migration_sim.model",
    "run_scenario": "migration_sim.model",
    "Results": "migration_sim.results",
    "load_results": "migration_sim.results.folder",
}

__all__ = [
    "Config",
    "ConfigError",
    "CriminalGroup",
    "MigrationModel",
    "Results",
    "builtin_scenario",
    "default_config",
    "load_results",
    "load_scenario",
    "metrics",
    "run",
    "run_scenario",
    "save_scenario",
    "__version__",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from migration_sim import metrics
    from migration_sim.config import (
        Config,
        ConfigError,
        builtin_scenario,
        default_config,
        load_scenario,
        save_scenario,
    )
    from migration_sim.model import CriminalGroup, MigrationModel, run, run_scenario
    from migration_sim.results import Results
    from migration_sim.results.folder import load_results

    __version__: str


def __getattr__(name: str) -> Any:
    """Import a public name or a sub-package on first access."""
    if name == "__version__":
        value = importlib.import_module("migration_sim.results.provenance").package_version()
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
