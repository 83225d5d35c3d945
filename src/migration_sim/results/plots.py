"""Matplotlib figures from results.

Every function takes a :class:`~migration_sim.results.Results` (or its time-series DataFrame)
and returns a :class:`matplotlib.figure.Figure` built directly, without ``pyplot``: no global
figure state leaks, nothing is shown, and the figures render with the Agg backend whatever
backend is active. In a notebook, a returned Figure displays itself; :func:`save_figure` writes
one atomically.

Examples
--------
>>> from migration_sim import run_scenario
>>> res = run_scenario("telegram_2024", seed=1, steps=40)
>>> fig = plot_shares(res)
>>> [t.get_text() for t in fig.axes[0].texts]
['arrest_news']
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from migration_sim.results.core import Results, atomic_write_bytes

__all__ = [
    "FRAGMENTATION_MEASURES",
    "fragmentation_columns",
    "plot_compare",
    "plot_flows",
    "plot_fragmentation",
    "plot_share_bands",
    "plot_shares",
    "save_figure",
    "shock_marks",
]

#: Fragmentation measures plotted and summarised when the results hold them, in this order.
FRAGMENTATION_MEASURES = (
    "effective_platforms_primary",
    "effective_platforms_presence",
    "broken_tie_share",
    "comm_giant_share",
    "coverage_groups",
    "coverage_severity",
    "dark_share",
)

_FRAGMENTATION_LABELS = {
    "effective_platforms_primary": "Effective number of platforms (primary, 1/HHI)",
    "effective_platforms_presence": "Effective number of platforms (presence, 1/HHI)",
    "broken_tie_share": "Share of ties without a common platform",
    "comm_giant_share": "Giant component of the communication graph (share of groups)",
    "coverage_groups": "Share of groups on a monitored platform",
    "coverage_severity": "Severity-weighted monitoring coverage",
    "dark_share": "Share of groups with no platform",
}


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 120) -> Path:
    """Render ``fig`` with Agg and write it atomically (format from the file suffix).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or pathlib.Path
        Destination, e.g. ``shares.png`` (any format Agg can write: png, pdf, svg).
    dpi : int
        Resolution of raster formats.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".") or "png", dpi=dpi)
    atomic_write_bytes(path, buf.getvalue())
    return path


def shock_marks(results: Results, *, starts_only: bool = False) -> list[tuple[int, str]]:
    """Steps to mark on time axes, with labels, from a run's shock log.

    A shock is marked at its first step with its name; unless ``starts_only``, a lasting shock
    also at the step it is undone (``"<name> ends"``) and a policy-contagion adoption as
    ``"<platform> adopts"``. Labels of marks at the same step are joined with ``" + "``.

    Parameters
    ----------
    results : Results
        A run.
    starts_only : bool
        Mark only the first step of each shock.

    Returns
    -------
    list of (int, str)
        Sorted by step.
    """
    seen: set[str] = set()
    by_step: dict[int, list[str]] = {}
    for entry in results.shock_log:
        step, name = int(entry["step"]), str(entry["shock"])
        if entry.get("kind") == "adoption":
            if starts_only:
                continue
            label = f"{entry['platform']} adopts"
        elif name not in seen:
            seen.add(name)
            label = name
        elif starts_only or entry.get("kind") == "policy_contagion":
            continue
        else:
            label = f"{name} ends"
        by_step.setdefault(step, []).append(label)
    return [(s, " + ".join(labels)) for s, labels in sorted(by_step.items())]


def _timeseries(data: Results | pd.DataFrame) -> pd.DataFrame:
    if isinstance(data, Results):
        return data.timeseries
    if isinstance(data, pd.DataFrame):
        return data
    raise TypeError(f"expected Results or a time-series DataFrame, got {type(data).__name__}")


def _x(ts: pd.DataFrame) -> tuple[np.ndarray, str]:
    """The time axis (elapsed days when known, else steps) and its label."""
    if "days" in ts.columns:
        unit = ts.attrs.get("step_unit", "day")
        return ts["days"].to_numpy(), "days" if unit == "day" else f"days ({unit}ly steps)"
    return ts.index.to_numpy(), "step"


def _platform_colours(platforms: Sequence[str]) -> dict[str, tuple[float, ...]]:
    cmap = colormaps["tab20" if len(platforms) > 10 else "tab10"]
    return {p: cmap(i % cmap.N) for i, p in enumerate(platforms)}


def _mark_shocks(ax: Axes, ts: pd.DataFrame, marks: Sequence[tuple[int, str]]) -> None:
    """Dashed vertical lines with rotated labels; labels of nearby marks are staggered."""
    x, _ = _x(ts)
    span = float(x[-1] - x[0]) if len(x) > 1 else 1.0
    last, level = -np.inf, 0
    for step, label in marks:
        if step not in ts.index:
            continue
        pos = x[ts.index.get_loc(step)]
        level = (level + 1) % 3 if pos - last < 0.03 * span else 0
        last = pos
        ax.axvline(pos, color="0.35", lw=0.8, ls="--", zorder=0)
        ax.text(
            pos,
            0.98 - 0.3 * level,
            label,
            transform=ax.get_xaxis_transform(),
            rotation=90,
            ha="right",
            va="top",
            fontsize=7,
            color="0.25",
        )


def _share_platforms(ts: pd.DataFrame) -> list[str]:
    return [c.removeprefix("share.") for c in ts.columns if c.startswith("share.")]


def plot_shares(
    data: Results | pd.DataFrame,
    *,
    marks: Sequence[tuple[int, str]] | None = None,
    title: str = "Primary platform shares",
) -> Figure:
    """Primary-platform shares over time, with shocks marked by labelled vertical lines.

    Parameters
    ----------
    data : Results or pandas.DataFrame
        A run, or its ``timeseries`` (columns ``share.<platform>``).
    marks : sequence of (step, label), optional
        Steps to mark; default :func:`shock_marks` of a Results, none for a DataFrame.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ts = _timeseries(data)
    if marks is None:
        marks = shock_marks(data) if isinstance(data, Results) else []
    platforms = _share_platforms(ts)
    if not platforms:
        raise ValueError("no share.<platform> columns to plot")
    colours = _platform_colours(platforms)
    x, xlabel = _x(ts)
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax = fig.add_subplot()
    for p in platforms:
        ax.plot(x, ts[f"share.{p}"].to_numpy(), label=p, color=colours[p], lw=1.4)
    if "share_multihoming" in ts.columns:
        ax.plot(
            x, ts["share_multihoming"].to_numpy(), label="multi-homing", color="k", lw=1.0, ls=":"
        )
    _mark_shocks(ax, ts, marks)
    ax.set(xlabel=xlabel, ylabel="share of active groups", title=title, ylim=(0, 1.02))
    ax.margins(x=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig


def plot_share_bands(
    runs: Sequence[Results | pd.DataFrame],
    *,
    quantiles: tuple[float, float] = (0.1, 0.9),
    marks: Sequence[tuple[int, str]] | None = None,
    title: str | None = None,
) -> Figure:
    """Median primary shares over replicates, with a quantile band per platform.

    Parameters
    ----------
    runs : sequence of Results or DataFrame
        Replicates of one scenario (same steps and platforms).
    quantiles : (float, float)
        Lower and upper quantile of the band.
    marks : sequence of (step, label), optional
        Steps to mark; default: the first replicate's :func:`shock_marks`.
    title : str, optional
        Figure title (a default describes the content).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not runs:
        raise ValueError("runs is empty: give at least one replicate")
    frames = [_timeseries(r) for r in runs]
    if marks is None:
        marks = shock_marks(runs[0]) if isinstance(runs[0], Results) else []
    ts0 = frames[0]
    platforms = _share_platforms(ts0)
    colours = _platform_colours(platforms)
    x, xlabel = _x(ts0)
    lo, hi = quantiles
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax = fig.add_subplot()
    for p in platforms:
        values = np.stack([f[f"share.{p}"].to_numpy() for f in frames])
        ax.fill_between(
            x,
            np.quantile(values, lo, axis=0),
            np.quantile(values, hi, axis=0),
            color=colours[p],
            alpha=0.25,
            lw=0,
        )
        ax.plot(x, np.median(values, axis=0), color=colours[p], label=p, lw=1.4)
    _mark_shocks(ax, ts0, marks)
    ax.set(
        xlabel=xlabel,
        ylabel="share of active groups",
        ylim=(0, 1.02),
        title=title
        or f"Primary platform shares: median and {lo:.0%}-{hi:.0%} band over "
        f"{len(frames)} replicates",
    )
    ax.margins(x=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig


def plot_flows(
    data: Results | pd.DataFrame,
    *,
    start: int | None = None,
    end: int | None = None,
    title: str | None = None,
) -> Figure:
    """Heatmap of switches of primary platform (rows from, columns to), diagonal excluded.

    Parameters
    ----------
    data : Results or pandas.DataFrame
        A run, or a square flow matrix such as :attr:`Results.flows`.
    start, end : int, optional
        With a Results, count only the switches of steps ``start < t <= end`` (default: the
        whole run).
    title : str, optional
        Figure title (a default describes the content).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if isinstance(data, Results):
        s, e = start or 0, data.n_steps if end is None else end
        labels = data.flows.index
        flows = pd.DataFrame(data.flows_between(s, e), index=labels, columns=data.flows.columns)
        period = f", {data.step_unit}s {s + 1}-{e}"
    elif isinstance(data, pd.DataFrame):
        flows, period = data, ""
    else:
        raise TypeError(f"expected Results or a flow-matrix DataFrame, got {type(data).__name__}")
    if flows.shape[0] != flows.shape[1]:
        raise ValueError(f"the flow matrix must be square, got shape {flows.shape}")
    values = flows.to_numpy(dtype=float).copy()
    np.fill_diagonal(values, np.nan)
    fig = Figure(figsize=(8, 6.5), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis")
    fig.colorbar(image, ax=ax, shrink=0.8, label="groups switching (group-steps)")
    n = values.shape[0]
    ax.set_xticks(range(n), labels=[str(c) for c in flows.columns], rotation=60, ha="right")
    ax.set_yticks(range(n), labels=[str(i) for i in flows.index])
    ax.set(xlabel="to", ylabel="from")
    finite = values[np.isfinite(values)]
    top = finite.max() if finite.size else 0.0
    for i in range(n):
        for j in range(n):
            v = values[i, j]
            if np.isfinite(v) and v > 0:
                ax.text(
                    j,
                    i,
                    f"{v:.0f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="k" if v > 0.6 * top else "w",
                )
    ax.set_title(title or f"Switches of primary platform{period} (diagonal excluded)")
    return fig


def fragmentation_columns(data: Results | pd.DataFrame) -> list[str]:
    """The :data:`FRAGMENTATION_MEASURES` present (with some value) in a run's time series."""
    ts = _timeseries(data)
    return [c for c in FRAGMENTATION_MEASURES if c in ts.columns and ts[c].notna().any()]


def plot_fragmentation(
    data: Results | pd.DataFrame,
    *,
    marks: Sequence[tuple[int, str]] | None = None,
    title: str = "Fragmentation measures",
) -> Figure:
    """Fragmentation measures over time, one panel each, with shocks marked.

    Plots whichever of :data:`FRAGMENTATION_MEASURES` the time series holds; steps at which a
    measure was not computed (NaN) are skipped.

    Parameters
    ----------
    data : Results or pandas.DataFrame
        A run, or its ``timeseries``.
    marks : sequence of (step, label), optional
        Steps to mark; default :func:`shock_marks` of a Results, none for a DataFrame.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If none of the measures is present.
    """
    ts = _timeseries(data)
    cols = fragmentation_columns(ts)
    if not cols:
        raise ValueError(
            "no fragmentation measures in the time series; expected any of "
            + ", ".join(FRAGMENTATION_MEASURES)
        )
    if marks is None:
        marks = shock_marks(data) if isinstance(data, Results) else []
    x, xlabel = _x(ts)
    ncols = 2 if len(cols) > 1 else 1
    nrows = -(-len(cols) // ncols)
    fig = Figure(figsize=(5 * ncols, 2.6 * nrows + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
    for ax, col in zip(axes.flat, cols, strict=False):
        y = ts[col].to_numpy(dtype=float)
        ok = np.isfinite(y)
        ax.plot(x[ok], y[ok], color="C0", lw=1.4)
        _mark_shocks(ax, ts, marks)
        ax.set_title(_FRAGMENTATION_LABELS[col], fontsize=9)
        ax.margins(x=0)
    for ax in axes.flat[len(cols) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(xlabel)
    fig.suptitle(title)
    return fig


def plot_compare(
    runs: Mapping[str, Results | pd.DataFrame],
    *,
    title: str = "Primary platform shares by scenario (same seed)",
) -> Figure:
    """Primary shares over time, one panel per scenario, same colours and axes.

    Parameters
    ----------
    runs : mapping of label to Results or DataFrame
        The scenarios, in panel order.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not runs:
        raise ValueError("runs is empty: give at least one scenario")
    frames = {label: _timeseries(r) for label, r in runs.items()}
    platforms = list(dict.fromkeys(p for ts in frames.values() for p in _share_platforms(ts)))
    colours = _platform_colours(platforms)
    n = len(frames)
    fig = Figure(figsize=(9, 2.6 * n + 0.8), layout="constrained")
    axes = fig.subplots(n, 1, squeeze=False, sharex=True, sharey=True)[:, 0]
    for ax, (label, ts) in zip(axes, frames.items(), strict=True):
        x, xlabel = _x(ts)
        for p in _share_platforms(ts):
            ax.plot(x, ts[f"share.{p}"].to_numpy(), color=colours[p], lw=1.3, label=p)
        result = runs[label]
        _mark_shocks(ax, ts, shock_marks(result) if isinstance(result, Results) else [])
        ax.set_title(label, fontsize=10)
        ax.set_ylabel("share")
        ax.set_ylim(0, 1.02)
        ax.margins(x=0)
    axes[-1].set_xlabel(xlabel)
    handles = [Line2D([], [], color=colours[p], lw=1.3) for p in platforms]
    fig.legend(handles, platforms, loc="outside right upper", fontsize=8, frameon=False)
    fig.suptitle(title)
    return fig
