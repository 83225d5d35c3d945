"""Tests of sweep analysis against functions with known sensitivity indices."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sweep_fakes import fake_run, ishigami_run, linear_run

from migration_sim.sweep.executors import Design, Parameter, SweepSpec, run_sweep
from migration_sim.sweep.sensitivity import (
    SensitivityError,
    analyze,
    grid_heatmap,
    load_sweep,
    morris_indices,
    replicate_bands,
    sobol_indices,
)

PNG = b"\x89PNG\r\n\x1a\n"
PI = math.pi


@pytest.fixture(scope="module")
def ishigami_dir(tmp_path_factory):
    spec = SweepSpec(
        parameters=[Parameter(f"x{i}", range=(-PI, PI)) for i in (1, 2, 3)],
        outcomes=["final:y"],
        design=Design("sobol", n=1024),
        seed=2024,
    )
    out = tmp_path_factory.mktemp("ishigami")
    run_sweep(spec, out, run_fn=ishigami_run, workers=1, progress=False)
    return out


def test_sobol_indices_recover_the_ishigami_values(ishigami_dir):
    # Analytical values for a = 7, b = 0.1 (Ishigami & Homma 1990; Saltelli et al. 2008).
    table = sobol_indices(load_sweep(ishigami_dir), "final:y")
    assert table.index.tolist() == ["x1", "x2", "x3"]
    assert table["S1"].to_numpy() == pytest.approx([0.3139, 0.4424, 0.0], abs=0.03)
    assert table["ST"].to_numpy() == pytest.approx([0.5576, 0.4424, 0.2437], abs=0.03)
    assert (table[["S1_conf", "ST_conf"]].to_numpy() > 0).all()
    assert (table["S1_conf"] < 0.1).all()


def test_analyze_writes_sobol_table_and_chart(ishigami_dir, tmp_path):
    report = analyze(ishigami_dir, tmp_path)
    table = pd.read_csv(tmp_path / "sobol.csv")
    assert table.columns.tolist() == ["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    pd.testing.assert_frame_equal(
        table.set_index("parameter").drop(columns="outcome"),
        sobol_indices(load_sweep(ishigami_dir), "final:y"),
        check_exact=False,
        rtol=1e-9,
    )
    chart = tmp_path / "sobol_final_y.png"
    assert chart in report.files and chart.read_bytes().startswith(PNG)
    assert not list(tmp_path.glob(".*.tmp"))


def test_second_order_sobol_finds_the_x1_x3_interaction(tmp_path):
    spec = SweepSpec(
        parameters=[Parameter(f"x{i}", range=(-PI, PI)) for i in (1, 2, 3)],
        outcomes=["final:y"],
        design=Design("sobol", n=512, second_order=True),
        seed=7,
    )
    run_sweep(spec, tmp_path, run_fn=ishigami_run, workers=1, progress=False)
    table = sobol_indices(load_sweep(tmp_path), "final:y")
    # Ishigami: the only interaction is x1-x3, S13 = ST1 - S1 = 0.2437.
    assert table.loc["x1", "S2:x3"] == pytest.approx(0.2437, abs=0.08)
    assert table.loc["x1", "S2:x2"] == pytest.approx(0.0, abs=0.08)
    assert table.loc["x3", "S2:x1"] == table.loc["x1", "S2:x3"]


def test_morris_measures_equal_the_linear_coefficients(tmp_path):
    spec = SweepSpec(
        parameters=[Parameter(f"x{i}", range=(0.0, 1.0)) for i in (1, 2, 3)],
        outcomes=["final:y"],
        design=Design("morris", n=10, levels=4),
        seed=3,
    )
    run_sweep(spec, tmp_path, run_fn=linear_run, workers=1, progress=False)
    table = morris_indices(load_sweep(tmp_path), "final:y")
    assert table["mu_star"].to_numpy() == pytest.approx([3.0, 0.0, 2.0])
    assert table["mu"].to_numpy() == pytest.approx([3.0, 0.0, -2.0])
    assert table["sigma"].to_numpy() == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    report = analyze(tmp_path)
    assert (tmp_path / "analysis" / "morris_final_y.png").read_bytes().startswith(PNG)
    assert report.tables["morris"]["mu_star"].round(9).tolist() == [3.0, 0.0, 2.0]


def test_sensitivity_needs_every_design_point(tmp_path):
    spec = SweepSpec(
        parameters=[Parameter(f"x{i}", range=(0.0, 1.0)) for i in (1, 2, 3)],
        outcomes=["final:y", "final:missing"],
        design=Design("morris", n=4),
    )
    run_sweep(spec, tmp_path, run_fn=linear_run, workers=1, progress=False, fail_fast=None)
    sweep = load_sweep(tmp_path)
    with pytest.raises(SensitivityError, match="'final:y' has no value at 16 of 16"):
        morris_indices(sweep, "final:y")  # every run failed: 'final:missing' has no column
    with pytest.raises(SensitivityError, match="need a 'sobol' design"):
        sobol_indices(sweep, "final:y")
    with pytest.raises(SensitivityError, match="'nope' is not known"):
        morris_indices(sweep, "nope")


def test_replicate_bands_are_per_point_statistics(tmp_path):
    spec = SweepSpec(
        parameters=[Parameter("a", values=(0.0, 5.0)), Parameter("b", values=(1.0, 2.0))],
        outcomes=["final:y", "mean:z"],
        replicates=20,
        seed=1,
    )
    run_sweep(spec, tmp_path, run_fn=fake_run, workers=1, progress=False)
    sweep = load_sweep(tmp_path)
    bands = replicate_bands(sweep, quantiles=(0.1, 0.9))
    assert len(bands) == 4 * 2
    y = bands[bands["outcome"] == "final:y"].set_index("point_id")
    # final y = a + 10 b + N(0, 0.1): mean within 4 standard errors, std near 0.1
    expect = np.array([10.0, 20.0, 15.0, 25.0])
    assert np.abs(y["mean"].to_numpy() - expect).max() < 4 * 0.1 / math.sqrt(20)
    assert y["std"].to_numpy() == pytest.approx([0.1] * 4, rel=0.5)
    assert (y["n"] == 20).all()
    assert (y["q0.1"] < y["mean"]).all() and (y["mean"] < y["q0.9"]).all()
    summary = sweep.summary
    point2 = summary.loc[summary["point_id"] == 2, "final:y"]
    assert y.loc[2, "mean"] == pytest.approx(point2.mean())
    assert y.loc[2, "q0.9"] == pytest.approx(point2.quantile(0.9))
    assert y[["a", "b"]].to_numpy().tolist() == [[0, 1], [0, 2], [5, 1], [5, 2]]


def test_grid_heatmap_averages_over_replicates_and_other_parameters(tmp_path):
    spec = SweepSpec(
        parameters=[
            Parameter("a", values=(0.0, 1.0, 2.0)),
            Parameter("b", values=(1.0, 2.0)),
            Parameter("shock", values=(2, 8)),
        ],
        outcomes=["final:n", "tail = mean_from:shock:n"],
        replicates=2,
    )
    run_sweep(spec, tmp_path, run_fn=fake_run, workers=1, progress=False)
    sweep = load_sweep(tmp_path)
    table = grid_heatmap(sweep, "tail", "a", "shock")
    # n_t = 2t over steps 0..10: mean over steps >= s is s + 10; independent of a
    assert table.index.tolist() == [2, 8] and table.columns.tolist() == [0.0, 1.0, 2.0]
    assert table.to_numpy().tolist() == [[12.0] * 3, [18.0] * 3]
    report = analyze(tmp_path)
    names = sorted(p.name for p in report.files if p.suffix == ".png")
    assert len(names) == 2 * 3  # two outcomes x three parameter pairs
    assert "heatmap_tail__a__shock.png" in names
    assert all(p.read_bytes().startswith(PNG) for p in report.files if p.suffix == ".png")


def test_one_parameter_grid_gets_a_band_plot(tmp_path):
    spec = SweepSpec(
        parameters=[Parameter("b", values=(0.5, 1.0, 2.0))],
        outcomes=["final:y"],
        replicates=4,
    )
    run_sweep(spec, tmp_path, run_fn=fake_run, workers=1, progress=False)
    report = analyze(tmp_path)
    assert (tmp_path / "analysis" / "bands_final_y.png") in report.files
    bands = pd.read_csv(tmp_path / "analysis" / "bands.csv")
    assert bands["mean"].to_numpy() == pytest.approx([5.0, 10.0, 20.0], abs=0.2)
