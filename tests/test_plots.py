"""Figures: content of each plot, shock marks, atomic saving, no pyplot state."""

from __future__ import annotations

import dataclasses
import datetime
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from migration_sim.config import builtin_scenario
from migration_sim.model.runner import run_scenario
from migration_sim.results.plots import (
    FRAGMENTATION_MEASURES,
    ReplicateEvent,
    fragmentation_columns,
    platform_colours,
    plot_compare,
    plot_flows,
    plot_fragmentation,
    plot_share_bands,
    plot_shares,
    replicate_events,
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


def _legend_texts(fig):
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def test_plot_shares_draws_every_platform_and_numbers_shocks(res):
    fig = plot_shares(res)
    assert isinstance(fig, Figure)
    big, small = fig.axes[:2]
    drawn = [line.get_label() for ax in (big, small) for line in ax.get_lines()]
    assert set(res.platforms) <= set(drawn) and "multi-homing" in drawn
    ts = res.timeseries
    peak = {p: ts[f"share.{p}"].max() for p in res.platforms}
    # platforms that never reach 25% go to the zoomed panel, the others stay full scale
    assert {line.get_label() for line in small.get_lines() if line.get_linestyle() == "-"} == {
        p for p, v in peak.items() if v < 0.25
    }
    assert big.get_ylim() == (0, 1.02) and small.get_ylim()[1] < 0.27
    telegram = next(line for line in big.get_lines() if line.get_label() == "Telegram")
    np.testing.assert_allclose(telegram.get_ydata(), ts["share.Telegram"].to_numpy())
    marks = shock_marks(res)
    assert [t.get_text() for t in big.texts] == [str(i + 1) for i in range(len(marks))]
    key = [t for t in _legend_texts(fig) if t[0].isdigit()]
    assert [k.split("  ")[1].split(" (")[0] for k in key] == [label for _, label in marks]
    assert key[0].endswith("(24 Aug 2024)")  # run.start_date = 2024-07-25, arrest at step 30
    vlines = [line for line in big.get_lines() if line.get_linestyle() == "--"]
    first = np.datetime64("2024-07-25") + np.array([m[0] for m in marks]).astype("timedelta64[D]")
    assert sorted(line.get_xdata()[0] for line in vlines) == list(first)


def test_platform_colours_keep_the_platforms_apart(res):
    colours = platform_colours([*res.platforms, "Newcomer"])
    assert len(set(map(str, colours.values()))) == len(colours)
    assert colours["Telegram"] != colours["Signal"]
    rgb = {p: np.array(to_rgb(c)) for p, c in colours.items()}
    assert np.abs(rgb["Telegram"] - rgb["Signal"]).sum() > 0.5


def test_figures_display_as_png_in_ipython(res):
    formatter = pytest.importorskip("IPython.core.formatters").DisplayFormatter()
    data, _ = formatter.format(plot_shares(res))
    assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"


def test_without_start_date_the_axis_counts_days(res):
    cfg = {**res.config, "run": {**res.config["run"], "start_date": ""}}
    plain = dataclasses.replace(res, config=cfg)
    assert plain.start_date is None and plain.date_of(3) is None
    ax = plot_shares(plain).axes[-1]
    assert ax.get_xlabel() == "days"
    assert res.date_of(30) == datetime.date(2024, 8, 24)


def test_plot_shares_from_dataframe_with_explicit_marks(res):
    fig = plot_shares(res.timeseries, marks=[(30, "thirty"), (999, "after the end")])
    assert [t.get_text() for t in fig.axes[0].texts] == ["1"]
    assert [t for t in _legend_texts(fig) if t.startswith("1 ")] == ["1  thirty (24 Aug 2024)"]
    with pytest.raises(ValueError, match="share"):
        plot_shares(pd.DataFrame({"x": [1, 2]}))
    with pytest.raises(TypeError, match="Results"):
        plot_shares([1, 2, 3])


def test_plot_flows_shows_net_flows_once_per_pair(res):
    fig = plot_flows(res)
    ax = fig.axes[0]
    image = ax.get_images()[0].get_array()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    gross = res.flows.loc[labels, labels].to_numpy().astype(float)
    net = gross - gross.T
    assert image.shape == gross.shape
    assert image.mask[np.diag_indices(len(labels))].all()
    shown = ~image.mask
    np.testing.assert_array_equal(image.data[shown], net[shown])
    assert (net[shown] > 0).all() and not (shown & shown.T).any()
    assert shown.sum() == (net > 0).sum()
    assert labels[: len(res.platforms)] == res.platforms
    assert "days 1-100" in ax.get_title() and "Net" in ax.get_title()


def test_plot_flows_window_counts_only_that_window(res):
    fig = plot_flows(res, start=60, end=100)
    image = fig.axes[0].get_images()[0].get_array()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    idx = [[*res.platforms, "(none)"].index(lab) for lab in labels]
    gross = res.flows_between(60, 100).astype(float)[np.ix_(idx, idx)]
    net = gross - gross.T
    np.testing.assert_array_equal(image.data[~image.mask], net[~image.mask])
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
    assert [t.get_text() for t in visible[1].texts] == ["1"]
    with pytest.raises(ValueError, match="effective_platforms_primary"):
        plot_fragmentation(df[["days", "unrelated"]])
    assert set(FRAGMENTATION_MEASURES) >= {
        "effective_platforms_primary",
        "broken_tie_share",
        "comm_giant_share",
        "coverage_groups",
    }


def test_plot_fragmentation_leaves_out_flat_measures_and_names_them():
    steps = np.arange(4)
    df = pd.DataFrame(
        {"days": steps, "coverage_groups": [0.2, 0.3, 0.8, 0.8], "dark_share": 0.0},
        index=pd.Index(steps, name="step"),
    )
    fig = plot_fragmentation(df)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["Share of groups on a monitored platform"]
    assert "share of groups with no platform = 0" in fig.get_suptitle()


def test_plot_compare_one_panel_set_per_scenario(res):
    other = res.timeseries.copy()
    fig = plot_compare({"a": res, "b": other})
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert titles == ["a", "b"]
    assert len(fig.axes) == 4  # each scenario: full scale and zoom
    assert _legend_texts(fig)[: len(res.platforms)] == res.platforms


def test_plot_share_bands_median_and_band(res):
    ts = res.timeseries
    shifted = ts.copy()
    shifted["share.Telegram"] = ts["share.Telegram"] + 0.1
    fig = plot_share_bands([ts, shifted], quantiles=(0.0, 1.0), small=None)
    ax = fig.axes[0]
    assert len(ax.collections) == len(res.platforms)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), ts["share.Telegram"] + 0.05)
    assert "2 replicates" in fig.get_suptitle()
    with pytest.raises(ValueError, match="replicate"):
        plot_share_bands([])


def test_replicate_figures_mark_the_spread_of_adoptions_not_replicate_0(res):
    def adopting(r, steps):
        log = [{"step": 30, "shock": "news", "kind": "salience", "phase": "start"}]
        log += [
            {"step": s, "shock": "dom", "kind": "adoption", "platform": "WhatsApp"} for s in steps
        ]
        return dataclasses.replace(r, shock_log=log)

    runs = [adopting(res, [40]), adopting(res, [70]), adopting(res, [55]), adopting(res, [])]
    marks, events = replicate_events(runs)
    assert marks == [(30, "news")]
    assert events == [ReplicateEvent("WhatsApp adopts", (40, 70, 55), 4)]
    fig = plot_share_bands(runs)
    key = [t for t in _legend_texts(fig) if "WhatsApp adopts" in t]
    assert key == [
        "WhatsApp adopts in 3/4 replicates:\n  03 Sep 2024 to 03 Oct 2024, median 18 Sep 2024"
    ]
    ax = fig.axes[0]
    spans = [line.get_xdata() for line in ax.get_lines() if line.get_linewidth() == 2.5]
    assert [list(x) for x in spans] == [[np.datetime64("2024-09-03"), np.datetime64("2024-10-03")]]


def test_save_figure_writes_png_atomically_without_pyplot_state(tmp_path, res):
    path = save_figure(plot_shares(res), tmp_path / "shares.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["shares.png"]
    save_figure(plot_flows(res), tmp_path / "flows.svg")
    assert (tmp_path / "flows.svg").read_text().lstrip().startswith("<?xml")
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []
