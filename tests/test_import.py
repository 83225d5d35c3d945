"""Start-up: light ``import migration_sim``, ``python -m migration_sim``, compile notice."""

from __future__ import annotations

import subprocess
import sys

import pytest

from migration_sim.model import kernels


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    return done.stdout.strip()


def test_import_and_help_do_not_load_the_heavy_modules():
    heavy = ("mesa", "numba", "matplotlib", "pandas", "scipy", "networkx")
    code = (
        "import sys, migration_sim, migration_sim.cli as c; c.build_parser(); "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    assert _python(code) == ""


def test_public_names_and_submodules_load_on_first_use():
    code = (
        "import migration_sim as ms; "
        "print(ms.run.__module__, ms.load_results.__module__, ms.results.plots.__name__, "
        "'run' in dir(ms))"
    )
    assert _python(code) == (
        "migration_sim.model migration_sim.results.folder migration_sim.results.plots True"
    )
    import migration_sim as ms

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ms.nope  # noqa: B018


def test_python_dash_m_is_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "migration_sim", "validate", "baseline"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and done.stdout.startswith("OK baseline:")


def test_compile_notice_names_the_kernels_without_cache(monkeypatch, capsys):
    monkeypatch.setattr(kernels, "_notice_given", False)
    monkeypatch.setattr(
        kernels,
        "uncompiled_kernels",
        lambda: ["migration_sim.model.choice", "migration_sim.metrics.step_kernels"],
    )
    kernels.compile_notice()
    kernels.compile_notice()  # once per process
    err = capsys.readouterr().err
    assert err.count("compiling the numba kernels of model.choice, metrics.step_kernels") == 1
    monkeypatch.setattr(kernels, "_notice_given", False)
    monkeypatch.setattr(kernels, "uncompiled_kernels", list)
    kernels.compile_notice()
    assert capsys.readouterr().err == ""


def test_after_a_run_no_kernel_module_is_left_to_compile():
    import migration_sim as ms

    ms.run({"groups.n_groups": 50}, seed=1, steps=2)
    assert kernels.uncompiled_kernels() == []
