"""The package's layers: imports point one way, and no module imports itself back.

Every import in the source is read with ``ast`` (top-level, inside functions, and under
``TYPE_CHECKING``), so a late or type-only import that turns an arrow around fails here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import migration_sim

PACKAGE_DIR = Path(migration_sim.__file__).parent

#: Sub-packages from the top layer to the bottom one; a module may import from its own layer
#: and the layers below it. ``docs/architecture.md`` draws the same picture.
LAYERS = ("cli", "sweep", "model", "results", "metrics", "config")

#: Modules at the package root: the public facade, ``python -m migration_sim``, the OpenMP wait
#: policy set at import and the shim for
#: old paths. They sit above every layer (the facade imports from all of them; nothing imports
#: the facade).
ROOT_MODULES = (
    "migration_sim",
    "migration_sim.__main__",
    "migration_sim._compat",
    "migration_sim._openmp",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """Every ``migration_sim`` module that the module at ``path`` imports, wherever it does."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    known = _modules()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            # "from migration_sim.model import choice" names the sub-module choice, not the
            # package's __init__ (which every import of a sub-module runs anyway)
            subs = {f"{module}.{a.name}" for a in node.names} & known.keys()
            found.update(subs if len(subs) == len(node.names) else {module, *subs})
    return {m for m in found if m in known and m != name}


def _layer(module: str) -> int:
    """Index in LAYERS (0 = top); the root modules get -1, above every layer."""
    if module in ROOT_MODULES:
        return -1
    return LAYERS.index(module.split(".")[1])


def test_every_module_belongs_to_a_layer() -> None:
    for name in _modules():
        assert name in ROOT_MODULES or name.split(".")[1] in LAYERS, name


def test_imports_point_down_the_layers() -> None:
    wrong = []
    for name, path in _modules().items():
        for target in _imports(name, path):
            if _layer(target) < _layer(name):
                wrong.append(f"{name} imports {target}")
    assert not wrong, "imports against the layer order:\n" + "\n".join(sorted(wrong))


def test_no_import_cycles_between_modules() -> None:
    graph = {name: _imports(name, path) for name, path in _modules().items()}
    # a package's __init__ re-exports its modules; an arrow from a module to its own package's
    # __init__ would be a cycle through the facade, so it is checked like any other arrow
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_late_and_type_only_imports(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from migration_sim.model.model import MigrationModel\n"
        "def f():\n    from migration_sim.sweep import run_sweep\n"
        "from . import files\n"
    )
    path = tmp_path / "fake.py"
    path.write_text(source)
    found = _imports("migration_sim.config.fake", path)
    assert found == {
        "migration_sim.model.model",
        "migration_sim.sweep",
        "migration_sim.config.files",
    }


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("migration_sim.groups", "migration_sim.model.groups", "CriminalGroup"),
        ("migration_sim.sweep_store", "migration_sim.sweep.store", "SweepStore"),
        ("migration_sim.output", "migration_sim.results.folder", "write_run"),
        ("migration_sim.scenario", "migration_sim.model.runner", "run_scenario"),
        ("migration_sim.scenario", "migration_sim.config.scenario", "load_scenario"),
        ("migration_sim.shocks", "migration_sim.model.shocks", "build_shocks"),
    ],
)
def test_old_module_paths_still_import_with_a_warning(old: str, new: str, name: str) -> None:
    code = (
        "import importlib, warnings\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        f"    old = importlib.import_module({old!r})\n"
        f"new = importlib.import_module({new!r})\n"
        f"assert getattr(old, {name!r}) is getattr(new, {name!r})\n"
        "msgs = [str(x.message) for x in w if issubclass(x.category, DeprecationWarning)]\n"
        f"assert any({new!r} in m and 'moved' in m for m in msgs), msgs\n"
    )
    # a fresh interpreter: the old module must not already be cached by another test
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_public_api_keeps_its_names() -> None:
    import migration_sim as ms
    from migration_sim.sweep import run_sweep

    assert callable(ms.run) and callable(ms.run_scenario) and callable(run_sweep)
    assert ms.metrics.effective_number([1, 1]) == pytest.approx(2.0)
    assert ms.MigrationModel.__mro__[1].__module__.startswith("mesa")
    # sweeps fingerprint the run function by this name: it must not follow the code around
    assert f"{ms.run.__module__}:{ms.run.__qualname__}" == "migration_sim.model:run"
