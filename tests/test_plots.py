"""Figures: content of each plot, shock marks, atomic saving, no pyplot state."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from migration_sim.config import builtin_scenario
from migration_sim.model.runner import run_scenario
from migration_sim.results.plots import (
    FRAGMENTATION_MEASURES,
    fragmentation_columns,
    plot_compare,
    plot_flows,
    plot_fragmentation,
    plot_share_bands,
    plot_shares,
    save_figure,
    shock_marks,
)


@pytest.fixture(scope="module")
def res():
    cfg = builtin_scenario("domino").with_overrides({"groups.n_groups": 400})
    return run_scenario(cfg, seed=3, steps=100)


def test_shock_marks_first_step_ends_and_adoptions(res):
    log = [
        {"step": 5, "shock": "news", "kind": "salience"},
        {"step": 8, "shock": "dom", "kind": "policy_contagion"},
        {"step": 9, "shock": "dom", "kind": "policy_contagion"},
        {"step": 9, "shock": "dom", "kind": "adoption", "platform": "Signal"},
        {"step": 10, "shock": "camp", "kind": "ban_wave"},
        {"step": 10, "shock": "dom", "kind": "policy_contagion"},
        {"step": 20, "shock": "camp", "kind": "ban_wave"},
    ]
    assert shock_marks(dataclasses.replace(res, shock_log=log)) == [
        (5, "news"),
        (8, "dom"),
        (9, "Signal adopts"),
        (10, "camp"),
        (20, "camp ends"),
    ]
    assert shock_marks(dataclasses.replace(res, shock_log=log), starts_only=True) == [
        (5, "news"),
        (8, "dom"),
        (10, "camp"),
    ]


def test_plot_shares_draws_every_platform_and_labels_shocks(res):
    fig = plot_shares(res)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[: len(res.platforms)] == res.platforms
    assert "multi-homing" in labels
    telegram = ax.get_lines()[0].get_ydata()
    np.testing.assert_allclose(telegram, res.timeseries["share.Telegram"].to_numpy())
    texts = [t.get_text() for t in ax.texts]
    for name in ("arrest_news", "disclosure_policy", "domino", "handover_news"):
        assert name in texts
    vlines = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert sorted(line.get_xdata()[0] for line in vlines) == [m[0] for m in shock_marks(res)]


def test_plot_shares_from_dataframe_with_explicit_marks(res):
    fig = plot_shares(res.timeseries, marks=[(30, "thirty"), (999, "after the end")])
    assert [t.get_text() for t in fig.axes[0].texts] == ["thirty"]
    with pytest.raises(ValueError, match="share"):
        plot_shares(pd.DataFrame({"x": [1, 2]}))
    with pytest.raises(TypeError, match="Results"):
        plot_shares([1, 2, 3])


def test_plot_flows_excludes_the_diagonal(res):
    fig = plot_flows(res)
    ax = fig.axes[0]
    image = ax.get_images()[0].get_array()
    flows = res.flows.to_numpy()
    n = flows.shape[0]
    assert image.shape == (n, n)
    assert image.mask[np.diag_indices(n)].all()
    off = ~np.eye(n, dtype=bool)
    np.testing.assert_array_equal(image.data[off], flows[off])
    assert [t.get_text() for t in ax.get_xticklabels()] == [*res.platforms, "(none)"]
    assert "days 1-100" in ax.get_title()


def test_plot_flows_window_counts_only_that_window(res):
    fig = plot_flows(res, start=60, end=100)
    image = fig.axes[0].get_images()[0].get_array()
    expected = res.flows_between(60, 100).astype(float)
    off = ~np.eye(expected.shape[0], dtype=bool)
    np.testing.assert_array_equal(image.data[off], expected[off])
    with pytest.raises(ValueError, match="square"):
        plot_flows(pd.DataFrame(np.zeros((2, 3))))


def test_plot_fragmentation_one_panel_per_present_measure():
    steps = np.arange(6)
    df = pd.DataFrame(
        {
            "days": steps,
            "effective_platforms_primary": [2.0, np.nan, 2.5, np.nan, 3.0, np.nan],
            "coverage_groups": np.linspace(0.9, 0.5, 6),
            "broken_tie_share": np.nan,  # present but never computed: not plotted
            "unrelated": 1.0,
        },
        index=pd.Index(steps, name="step"),
    )
    assert fragmentation_columns(df) == ["effective_platforms_primary", "coverage_groups"]
    fig = plot_fragmentation(df, marks=[(2, "shock")])
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2
    x, y = visible[0].get_lines()[0].get_data()
    np.testing.assert_array_equal(x, [0, 2, 4])
    np.testing.assert_array_equal(y, [2.0, 2.5, 3.0])
    assert [t.get_text() for t in visible[1].texts] == ["shock"]
    with pytest.raises(ValueError, match="effective_platforms_primary"):
        plot_fragmentation(df[["days", "unrelated"]])
    assert set(FRAGMENTATION_MEASURES) >= {
        "effective_platforms_primary",
        "broken_tie_share",
        "comm_giant_share",
        "coverage_groups",
    }


def test_plot_compare_one_panel_per_scenario(res):
    other = res.timeseries.copy()
    fig = plot_compare({"a": res, "b": other})
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["a", "b"]
    assert len(fig.legends[0].get_texts()) == len(res.platforms)


def test_plot_share_bands_median_and_band(res):
    ts = res.timeseries
    shifted = ts.copy()
    shifted["share.Telegram"] = ts["share.Telegram"] + 0.1
    fig = plot_share_bands([ts, shifted], quantiles=(0.0, 1.0))
    ax = fig.axes[0]
    assert len(ax.collections) == len(res.platforms)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), ts["share.Telegram"] + 0.05)
    assert "2 replicates" in ax.get_title()
    with pytest.raises(ValueError, match="replicate"):
        plot_share_bands([])


def test_save_figure_writes_png_atomically_without_pyplot_state(tmp_path, res):
    path = save_figure(plot_shares(res), tmp_path / "shares.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["shares.png"]
    save_figure(plot_flows(res), tmp_path / "flows.svg")
    assert (tmp_path / "flows.svg").read_text().lstrip().startswith("<?xml")
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []
