"""Matplotlib figures from results.

Every function takes a :class:`~migration_sim.results.Results` (or its time-series DataFrame)
and returns a :class:`ReportFigure`, a :class:`matplotlib.figure.Figure` built without
``pyplot``: no global figure state leaks and nothing is shown on a screen. A ReportFigure
renders itself as PNG through IPython's rich display (``_repr_png_``), so in Jupyter a figure
returned by a cell shows inline whatever matplotlib backend is active (``matplotlib.use("Agg")``
included, no ``%matplotlib inline`` needed). :func:`save_figure` writes one atomically.

Conventions shared by the figures: each platform keeps one colour everywhere
(:func:`platform_colours`); time axes show calendar dates when the run has a start date
(``run.start_date``) and elapsed days otherwise; shocks are dashed vertical lines numbered at the
top of the axes, with a key naming each number (numbers do not overlap where long labels
would); share figures split the platforms into a full-scale panel for the large ones and a
zoomed panel for those that never reach ``small`` (default 25%).

Examples
--------
>>> from migration_sim import run_scenario
>>> res = run_scenario("telegram_2024", seed=1, steps=40)
>>> fig = plot_shares(res)
>>> [t.get_text() for t in fig.axes[0].texts]
['1']
>>> fig._repr_png_()[1:4]
b'PNG'
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from migration_sim.results.core import Results, atomic_write_bytes, unknown_name_message

__all__ = [
    "FRAGMENTATION_MEASURES",
    "ReplicateEvent",
    "ReportFigure",
    "fragmentation_columns",
    "platform_colours",
    "plot_compare",
    "plot_differences",
    "plot_flows",
    "plot_fragmentation",
    "plot_network",
    "plot_share_bands",
    "plot_shares",
    "replicate_events",
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

#: Fixed colours of the catalogue's platforms: distinct hues, Telegram and Signal far apart.
_NAMED_COLOURS = {
    "Telegram": "#1f77b4",  # blue
    "Signal": "#ff7f0e",  # orange
    "Session": "#2ca02c",  # green
    "SimpleX": "#d62728",  # red
    "Matrix": "#9467bd",  # purple
    "Jabber": "#8c564b",  # brown
    "Tox": "#e377c2",  # pink
    "Discord": "#7f7f7f",  # grey
    "WhatsApp": "#bcbd22",  # olive
    "Threema": "#17becf",  # cyan
    "Forums": "#000000",  # black (dark-web forums)
    "(none)": "#c7c7c7",
}

#: Shares below this at every step put a platform in the zoomed panel of share figures.
SMALL_SHARE = 0.25


class ReportFigure(Figure):
    """A Figure that displays itself in Jupyter and IPython as a PNG image.

    IPython asks an object returned by a cell for ``_repr_png_``; plain Figures built without
    pyplot have none when the inline backend is not active, so the notebook shows only their
    text repr. This subclass renders with Agg, independent of the active backend.
    """

    def _repr_png_(self) -> bytes:
        """Render the figure as PNG bytes (Agg, 100 dpi, tight bounding box)."""
        FigureCanvasAgg(self)
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        return buf.getvalue()


def _figure(**kwargs: object) -> ReportFigure:
    return ReportFigure(layout="constrained", **kwargs)  # type: ignore[arg-type]


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


def platform_colours(platforms: Sequence[str]) -> dict[str, str | tuple[float, ...]]:
    """One colour per platform: fixed for the catalogue's platforms, tab20 for others.

    Parameters
    ----------
    platforms : sequence of str
        Platform names.

    Returns
    -------
    dict
        Name to matplotlib colour.
    """
    cmap = colormaps["tab20"]
    out: dict[str, str | tuple[float, ...]] = {}
    extra = 0
    for p in platforms:
        if p in _NAMED_COLOURS:
            out[p] = _NAMED_COLOURS[p]
        else:
            out[p] = cmap((2 * extra + 1) % cmap.N)  # the light shades: unlike the named ones
            extra += 1
    return out


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


@dataclass(frozen=True)
class ReplicateEvent:
    """A stochastic event seen across replicates (for example a platform's adoption).

    Attributes
    ----------
    label : str
        What happened, e.g. ``"WhatsApp adopts"``.
    steps : tuple of int
        The step at which it happened, in each replicate where it did.
    n_replicates : int
        Number of replicates looked at.
    """

    label: str
    steps: tuple[int, ...]
    n_replicates: int


def replicate_events(runs: Sequence[Results]) -> tuple[list[tuple[int, str]], list[ReplicateEvent]]:
    """Marks shared by all replicates, and the spread of the events that differ between them.

    Scheduled shocks start (and end) at the same step in every replicate: they are returned as
    marks. Events whose step varies (policy-contagion adoptions, or a mark missing from some
    replicates) are returned as :class:`ReplicateEvent` with one step per replicate in which
    they happened.

    Parameters
    ----------
    runs : sequence of Results
        Replicates of one scenario.

    Returns
    -------
    (list of (int, str), list of ReplicateEvent)
        The common marks, sorted by step, and the varying events, sorted by median step.
    """
    per_run = []
    for res in runs:
        labels: dict[str, int] = {}
        for step, label in shock_marks(res):
            for part in label.split(" + "):
                labels.setdefault(part, step)
        per_run.append(labels)
    all_labels = list(dict.fromkeys(lab for labels in per_run for lab in labels))
    common: dict[int, list[str]] = {}
    varying = []
    for lab in all_labels:
        steps = [labels[lab] for labels in per_run if lab in labels]
        if len(steps) == len(runs) and len(set(steps)) == 1:
            common.setdefault(steps[0], []).append(lab)
        else:
            varying.append(ReplicateEvent(lab, tuple(steps), len(runs)))
    varying.sort(key=lambda e: float(np.median(e.steps)))
    marks = [(s, " + ".join(labs)) for s, labs in sorted(common.items())]
    return marks, varying


def _timeseries(data: Results | pd.DataFrame) -> pd.DataFrame:
    if isinstance(data, Results):
        return data.timeseries
    if isinstance(data, pd.DataFrame):
        return data
    raise TypeError(f"expected Results or a time-series DataFrame, got {type(data).__name__}")


def _x(ts: pd.DataFrame) -> tuple[np.ndarray, str]:
    """The time axis (dates when the run has a start date, else elapsed days) and its label."""
    days = ts["days"].to_numpy() if "days" in ts.columns else ts.index.to_numpy()
    start = ts.attrs.get("start_date")
    if start:
        return np.datetime64(start, "D") + days.astype("timedelta64[D]"), "date"
    if "days" in ts.columns:
        unit = ts.attrs.get("step_unit", "day")
        return days, "days" if unit == "day" else f"days ({unit}ly steps)"
    return days, "step"


def _format_time_axis(ax: Axes, xlabel: str) -> None:
    if xlabel == "date":
        locator = AutoDateLocator(maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.set_xlabel(xlabel)


def _when(ts: pd.DataFrame, step: int) -> str:
    """A step as text: its calendar date when known, else the elapsed days."""
    x, label = _x(ts)
    pos = ts.index.get_indexer([step])[0]
    if pos < 0:
        return f"step {step}"
    if label == "date":
        return pd.Timestamp(x[pos]).strftime("%d %b %Y")
    return f"day {x[pos]:g}"


def _mark_shocks(ax: Axes, ts: pd.DataFrame, marks: Sequence[tuple[int, str]]) -> None:
    """Dashed vertical lines numbered 1, 2, ... just above the axes; close numbers staggered."""
    x, _ = _x(ts)
    xf = x.astype("datetime64[D]").astype(float) if x.dtype.kind == "M" else x.astype(float)
    span = float(xf[-1] - xf[0]) if len(xf) > 1 else 1.0
    last, level = -np.inf, 0
    for number, (step, _) in enumerate(marks, start=1):
        if step not in ts.index:
            continue
        i = ts.index.get_loc(step)
        level = (level + 1) % 3 if xf[i] - last < 0.025 * span else 0
        last = xf[i]
        ax.axvline(x[i], color="0.35", lw=0.8, ls="--", zorder=0)
        ax.text(
            x[i],
            1.01 + 0.045 * level,
            str(number),
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=7,
            color="0.2",
            clip_on=False,
        )


def _mark_key(ts: pd.DataFrame, marks: Sequence[tuple[int, str]]) -> list[str]:
    """The key of the numbered marks: ``"1  arrest_news (24 Aug 2024)"``."""
    return [
        f"{n}  {label} ({_when(ts, step)})"
        for n, (step, label) in enumerate(marks, start=1)
        if step in ts.index
    ]


def _add_keys(
    fig: Figure,
    colours: Mapping[str, object],
    platforms: Sequence[str],
    ts: pd.DataFrame,
    marks: Sequence[tuple[int, str]],
    extra: Sequence[tuple[str, Line2D]] = (),
) -> None:
    """Platform legend, then the shock key, outside the axes on the right."""
    handles = [Line2D([], [], color=colours[p], lw=1.6) for p in platforms]
    labels = list(platforms)
    for label, handle in extra:
        handles.append(handle)
        labels.append(label)
    for text in _mark_key(ts, marks):
        handles.append(Line2D([], [], color="0.35", lw=0.8, ls="--"))
        labels.append(text)
    fig.legend(handles, labels, loc="outside right upper", fontsize=7.5, frameon=False)


def _share_platforms(ts: pd.DataFrame) -> list[str]:
    return [c.removeprefix("share.") for c in ts.columns if c.startswith("share.")]


def _split(frames: Sequence[pd.DataFrame], platforms: Sequence[str], small: float | None):
    """Platforms for the full-scale panel and for the zoomed panel (empty: one panel)."""
    if small is None:
        return list(platforms), []
    peak = {
        p: max(float(np.nanmax(f[f"share.{p}"].to_numpy(dtype=float))) for f in frames)
        for p in platforms
    }
    big = [p for p in platforms if peak[p] >= small]
    little = [p for p in platforms if peak[p] < small]
    if not big or not little:
        return list(platforms), []
    return big, little


def _share_axes(fig: Figure, rows: int, zoom: bool) -> np.ndarray:
    """Axes grid: one row per panel set, two rows each (full scale, zoom) when zooming."""
    n = rows * (2 if zoom else 1)
    ratios = [1.6, 1.0] * rows if zoom else [1.0] * rows
    return fig.subplots(n, 1, sharex=True, squeeze=False, height_ratios=ratios)[:, 0]


def _finish_share_axes(
    ax_big: Axes, ax_small: Axes | None, little: Sequence[str], small: float | None
) -> None:
    ax_big.set_ylim(0, 1.02)
    ax_big.set_ylabel("share of active groups")
    ax_big.margins(x=0)
    if ax_small is not None:
        ax_small.set_ylim(bottom=0)
        ax_small.set_ylabel(f"share (zoom:\nplatforms < {small:.0%})", fontsize=8)
        ax_small.margins(x=0)


def plot_shares(
    data: Results | pd.DataFrame,
    *,
    marks: Sequence[tuple[int, str]] | None = None,
    title: str = "Primary platform shares",
    small: float | None = SMALL_SHARE,
) -> ReportFigure:
    """Primary-platform shares over time, with shocks marked by numbered vertical lines.

    Platforms whose share stays below ``small`` throughout are drawn in a second, zoomed panel
    under the full-scale one, so that small platforms are readable.

    Parameters
    ----------
    data : Results or pandas.DataFrame
        A run, or its ``timeseries`` (columns ``share.<platform>``).
    marks : sequence of (step, label), optional
        Steps to mark; default :func:`shock_marks` of a Results, none for a DataFrame.
    title : str
        Figure title.
    small : float or None
        Threshold of the zoomed panel; None draws a single panel.

    Returns
    -------
    ReportFigure
    """
    ts = _timeseries(data)
    if marks is None:
        marks = shock_marks(data) if isinstance(data, Results) else []
    platforms = _share_platforms(ts)
    if not platforms:
        raise ValueError("no share.<platform> columns to plot")
    colours = platform_colours(platforms)
    big, little = _split([ts], platforms, small)
    x, xlabel = _x(ts)
    fig = _figure(figsize=(10, 6.4 if little else 4.8))
    axes = _share_axes(fig, 1, bool(little))
    for ax, names in zip(axes, (big, little), strict=False):
        for p in names:
            ax.plot(x, ts[f"share.{p}"].to_numpy(), label=p, color=colours[p], lw=1.4)
        _mark_shocks(ax, ts, marks)
    extra = []
    if "share_multihoming" in ts.columns:
        axes[0].plot(
            x, ts["share_multihoming"].to_numpy(), label="multi-homing", color="k", lw=1.0, ls=":"
        )
        extra.append(("multi-homing (any 2+ platforms)", Line2D([], [], color="k", ls=":")))
    _finish_share_axes(axes[0], axes[1] if little else None, little, small)
    _format_time_axis(axes[-1], xlabel)
    _add_keys(fig, colours, platforms, ts, marks, extra)
    fig.suptitle(title)
    return fig


def plot_share_bands(
    runs: Sequence[Results | pd.DataFrame],
    *,
    quantiles: tuple[float, float] = (0.1, 0.9),
    marks: Sequence[tuple[int, str]] | None = None,
    title: str | None = None,
    small: float | None = SMALL_SHARE,
) -> ReportFigure:
    """Median primary shares over replicates, with a quantile band per platform.

    Shocks common to every replicate are numbered lines; events whose timing differs between
    replicates (policy-contagion adoptions) are drawn as a range from the earliest to the
    latest replicate with a dot at the median, and the key says in how many replicates they
    happened (see :func:`replicate_events`).

    Parameters
    ----------
    runs : sequence of Results or DataFrame
        Replicates of one scenario (same steps and platforms).
    quantiles : (float, float)
        Lower and upper quantile of the band.
    marks : sequence of (step, label), optional
        Steps to mark; default: the marks common to every replicate (Results only).
    title : str, optional
        Figure title (a default describes the content).
    small : float or None
        Threshold of the zoomed panel (see :func:`plot_shares`).

    Returns
    -------
    ReportFigure
    """
    if not runs:
        raise ValueError("runs is empty: give at least one replicate")
    frames = [_timeseries(r) for r in runs]
    events: list[ReplicateEvent] = []
    if all(isinstance(r, Results) for r in runs):
        common, events = replicate_events(runs)  # type: ignore[arg-type]
        marks = common if marks is None else marks
    marks = marks or []
    ts0 = frames[0]
    platforms = _share_platforms(ts0)
    colours = platform_colours(platforms)
    big, little = _split(frames, platforms, small)
    x, xlabel = _x(ts0)
    lo, hi = quantiles
    fig = _figure(figsize=(11.5, 6.4 if little else 4.8))
    axes = _share_axes(fig, 1, bool(little))
    for ax, names in zip(axes, (big, little), strict=False):
        for p in names:
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
    extra = _draw_event_spreads(axes[0], ts0, events, colours)
    _finish_share_axes(axes[0], axes[1] if little else None, little, small)
    _format_time_axis(axes[-1], xlabel)
    _add_keys(fig, colours, platforms, ts0, marks, extra)
    fig.suptitle(
        title
        or f"Primary platform shares: median and {lo:.0%}-{hi:.0%} band over "
        f"{len(frames)} replicates"
    )
    return fig


def _draw_event_spreads(
    ax: Axes,
    ts: pd.DataFrame,
    events: Sequence[ReplicateEvent],
    colours: Mapping[str, object],
) -> list[tuple[str, Line2D]]:
    """Horizontal range (earliest to latest replicate) and median dot of each varying event."""
    x, _ = _x(ts)
    out = []
    for i, ev in enumerate(events):
        pos = [x[ts.index.get_loc(s)] for s in ev.steps if s in ts.index]
        if not pos:
            continue
        colour = colours.get(ev.label.removesuffix(" adopts"), "0.3")
        y = 0.95 - 0.07 * i
        trans = ax.get_xaxis_transform()
        ax.plot([min(pos), max(pos)], [y, y], color=colour, lw=2.5, transform=trans)
        steps = np.asarray(ev.steps)
        median = int(np.median(steps))
        med = x[ts.index.get_indexer([median])[0]] if median in ts.index else pos[0]
        ax.plot([med], [y], "o", color=colour, ms=5, transform=trans, mec="k", mew=0.6)
        text = (
            f"{ev.label} in {len(ev.steps)}/{ev.n_replicates} replicates:\n"
            f"  {_when(ts, int(steps.min()))} to {_when(ts, int(steps.max()))}, "
            f"median {_when(ts, median)}"
        )
        handle = Line2D([], [], color=colour, lw=2.5, marker="o", mec="k", mew=0.6, ms=5)
        out.append((text, handle))
    return out


def plot_flows(
    data: Results | pd.DataFrame,
    *,
    start: int | None = None,
    end: int | None = None,
    title: str | None = None,
) -> ReportFigure:
    """Heatmap of net switches of primary platform (row to column), each pair once.

    Cell (i, j) holds the switches from i to j minus those from j to i when that is positive,
    and is empty otherwise; the diagonal (groups that kept their primary) is excluded.

    Parameters
    ----------
    data : Results or pandas.DataFrame
        A run, or a square gross flow matrix such as :attr:`Results.flows`.
    start, end : int, optional
        With a Results, count only the switches of steps ``start < t <= end`` (default: the
        whole run).
    title : str, optional
        Figure title (a default describes the content).

    Returns
    -------
    ReportFigure
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
    none = [lab for lab in flows.index if lab == "(none)" and not flows.loc[lab].any()]
    if none and not flows[none[0]].any():
        flows = flows.drop(index=none, columns=none)  # nobody went dark: no empty row
    gross = flows.to_numpy(dtype=float)
    net = gross - gross.T
    values = np.where(net > 0, net, np.nan)
    fig = _figure(figsize=(8, 6.5))
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis")
    fig.colorbar(image, ax=ax, shrink=0.8, label="net groups switching (row to column)")
    n = values.shape[0]
    ax.set_xticks(range(n), labels=[str(c) for c in flows.columns], rotation=60, ha="right")
    ax.set_yticks(range(n), labels=[str(i) for i in flows.index])
    ax.set(xlabel="to", ylabel="from")
    finite = values[np.isfinite(values)]
    top = finite.max() if finite.size else 0.0
    for i, j in zip(*np.nonzero(np.isfinite(values)), strict=True):
        v = values[i, j]
        ax.text(
            j,
            i,
            f"{v:.0f}",
            ha="center",
            va="center",
            fontsize=6,
            color="k" if v > 0.6 * top else "w",
        )
    ax.set_title(title or f"Net switches of primary platform{period}")
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
) -> ReportFigure:
    """Fragmentation measures over time, one panel each, with shocks marked.

    Plots whichever of :data:`FRAGMENTATION_MEASURES` the time series holds and that vary;
    a measure constant over the run gets no panel and is named, with its value, under the
    figure. Steps at which a measure was not computed (NaN) are skipped.

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
    ReportFigure

    Raises
    ------
    ValueError
        If none of the measures is present.
    """
    ts = _timeseries(data)
    present = fragmentation_columns(ts)
    if not present:
        raise ValueError(
            "no fragmentation measures in the time series; expected any of "
            + ", ".join(FRAGMENTATION_MEASURES)
        )
    if marks is None:
        marks = shock_marks(data) if isinstance(data, Results) else []
    flat = {c: float(ts[c].dropna().iloc[0]) for c in present if np.ptp(ts[c].dropna()) < 1e-12}
    cols = [c for c in present if c not in flat] or present
    x, xlabel = _x(ts)
    ncols = 2 if len(cols) > 1 else 1
    nrows = -(-len(cols) // ncols)
    fig = _figure(figsize=(5.2 * ncols + 2.2, 2.6 * nrows + 0.8))
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
    for ax, col in zip(axes.flat, cols, strict=False):
        y = ts[col].to_numpy(dtype=float)
        ok = np.isfinite(y)
        ax.plot(x[ok], y[ok], color="0.15", lw=1.4)
        _mark_shocks(ax, ts, marks)
        ax.set_title(_FRAGMENTATION_LABELS[col], fontsize=9, pad=22)
        ax.margins(x=0)
    for ax in axes.flat[len(cols) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        _format_time_axis(ax, xlabel)
    key = _mark_key(ts, marks)
    if key:
        handles = [Line2D([], [], color="0.35", lw=0.8, ls="--") for _ in key]
        fig.legend(handles, key, loc="outside right upper", fontsize=7.5, frameon=False)
    if flat and cols is not present:
        title += (
            "\n(constant over the run, no panel: "
            + "; ".join(f"{_FRAGMENTATION_LABELS[c].lower()} = {v:.3g}" for c, v in flat.items())
            + ")"
        )
    fig.suptitle(title)
    return fig


def plot_compare(
    runs: Mapping[str, Results | pd.DataFrame],
    *,
    title: str = "Primary platform shares by scenario (same seed)",
    small: float | None = SMALL_SHARE,
) -> ReportFigure:
    """Primary shares over time, one panel set per scenario, same colours and axes.

    Each scenario gets a full-scale panel and, when some platform stays below ``small`` in
    every scenario, a zoomed panel for those platforms. Shock numbers restart in each
    scenario; the key lists them per scenario.

    Parameters
    ----------
    runs : mapping of label to Results or DataFrame
        The scenarios, in panel order.
    title : str
        Figure title.
    small : float or None
        Threshold of the zoomed panels; None draws one panel per scenario.

    Returns
    -------
    ReportFigure
    """
    if not runs:
        raise ValueError("runs is empty: give at least one scenario")
    frames = {label: _timeseries(r) for label, r in runs.items()}
    platforms = list(dict.fromkeys(p for ts in frames.values() for p in _share_platforms(ts)))
    colours = platform_colours(platforms)
    full = [f.reindex(columns=[f"share.{p}" for p in platforms]) for f in frames.values()]
    big, little = _split(full, platforms, small)
    n = len(frames)
    per = 2 if little else 1
    fig = _figure(figsize=(10, (3.6 if little else 2.6) * n + 0.8))
    axes = _share_axes(fig, n, bool(little))
    key: list[str] = []
    for r, (label, ts) in enumerate(frames.items()):
        x, xlabel = _x(ts)
        result = runs[label]
        marks = shock_marks(result) if isinstance(result, Results) else []
        panel = axes[r * per : (r + 1) * per]
        for ax, names in zip(panel, (big, little), strict=False):
            for p in names:
                if f"share.{p}" in ts.columns:
                    ax.plot(x, ts[f"share.{p}"].to_numpy(), color=colours[p], lw=1.3)
            _mark_shocks(ax, ts, marks)
        panel[0].set_title(label, fontsize=10, loc="left")
        _finish_share_axes(panel[0], panel[1] if little else None, little, small)
        key += [f"{label}: {k}" for k in _mark_key(ts, marks)]
    _format_time_axis(axes[-1], xlabel)
    handles = [Line2D([], [], color=colours[p], lw=1.3) for p in platforms]
    handles += [Line2D([], [], color="0.35", lw=0.8, ls="--") for _ in key]
    fig.legend(handles, [*platforms, *key], loc="outside right upper", fontsize=7.5, frameon=False)
    fig.suptitle(title)
    return fig


def plot_network(
    results: Results,
    steps: Sequence[int],
    *,
    sample: int = 300,
    seed: int = 0,
    title: str = "Contact network coloured by primary platform",
) -> ReportFigure:
    """The contact network at chosen steps, nodes coloured by primary platform.

    One panel per step, the same sample of groups at the same positions in each (a spring
    layout of the sample's contact ties at the first step), so a panel-to-panel change of
    colour is a group that moved. Solid grey edges are ties whose two groups share a platform
    (they can talk); faint dotted red edges are ties without a common platform (broken). A
    square is a group present on a monitored platform at that step (disclosure at least
    ``metrics.monitored_min_disclosure``, or the platforms listed in ``metrics.monitored``), a
    circle one that is not; groups with no platform are light grey. Needs the steps in
    ``metrics.graph_steps``.

    Parameters
    ----------
    results : Results
        A run that kept its communication graph at ``steps``.
    steps : sequence of int
        Steps to draw, left to right.
    sample : int
        Number of groups drawn (the largest connected part of a random sample is favoured by
        drawing neighbours of random seeds groups).
    seed : int
        Seed of the sample and layout.
    title : str
        Figure title.

    Returns
    -------
    ReportFigure

    Raises
    ------
    ValueError
        If a step has no stored graph.
    """
    import networkx as nx

    missing = [s for s in steps if s not in results.graphs]
    if missing or not steps:
        raise ValueError(
            f"steps = {list(steps)!r}: no stored communication graph at {missing or 'any'}; "
            f"stored steps: {sorted(results.graphs)} (set metrics.graph_steps)"
        )
    member0, _, _, eu, ev = results.graphs[steps[0]]
    n = member0.shape[0]
    rng = np.random.default_rng(seed)
    contacts = nx.Graph()
    contacts.add_nodes_from(range(n))
    contacts.add_edges_from(zip(eu.tolist(), ev.tolist(), strict=True))
    chosen: list[int] = []
    seen: set[int] = set()
    for start in rng.permutation(n).tolist():
        if len(chosen) >= sample:
            break
        if start in seen:
            continue
        for node in nx.bfs_tree(contacts, start, depth_limit=2):
            if node not in seen and len(chosen) < sample:
                seen.add(node)
                chosen.append(node)
    sub = contacts.subgraph(chosen)
    pos = nx.spring_layout(sub, seed=seed, iterations=60)
    nodes = np.array(chosen)
    xy = np.array([pos[i] for i in chosen])
    index = {node: i for i, node in enumerate(chosen)}
    edges = np.array([(index[u], index[v]) for u, v in sub.edges()], dtype=np.int64).reshape(-1, 2)
    colours = platform_colours(results.platforms)
    cfg_metrics = results.config.get("metrics", {})
    named = list(cfg_metrics.get("monitored", []))
    threshold = float(cfg_metrics.get("monitored_min_disclosure", 0.5))
    fig = _figure(figsize=(5.2 * len(steps) + 2.4, 5.4))
    axes = fig.subplots(1, len(steps), squeeze=False)[0]
    ts = results.timeseries
    used: set[str] = set()
    for ax, step in zip(axes, steps, strict=True):
        member, primary, active, _, _ = results.graphs[step]
        if named:
            monitored = np.isin(results.platforms, named)
        else:
            monitored = results.arrays["disclosure"][step] >= threshold
        m = member[nodes]
        shared = (m[edges[:, 0]] & m[edges[:, 1]]).any(axis=1) if edges.size else np.zeros(0, bool)
        for ok, style in (
            (False, dict(color="#d62728", lw=0.4, ls=":", alpha=0.5)),
            (True, dict(color="0.55", lw=0.5, alpha=0.6)),
        ):
            for a, b in edges[shared == ok]:
                ax.plot(*xy[[a, b]].T, zorder=1, **style)
        prim = primary[nodes]
        face = [
            colours[results.platforms[p]] if (p >= 0 and active[g]) else _NAMED_COLOURS["(none)"]
            for p, g in zip(prim, nodes, strict=True)
        ]
        used.update(results.platforms[p] for p in prim if p >= 0)
        watched = (m & monitored).any(axis=1) & active[nodes]
        face = np.array(face, dtype=object)
        for mask, marker, size in ((watched, "s", 26), (~watched, "o", 22)):
            ax.scatter(
                xy[mask, 0],
                xy[mask, 1],
                s=size,
                c=list(face[mask]),
                marker=marker,
                zorder=2,
                edgecolors="white",
                linewidths=0.4,
            )
        broken = 1.0 - shared.mean() if shared.size else float("nan")
        ax.set_title(
            f"{_when(ts, step)}: {watched.mean():.0%} of drawn groups on a monitored "
            f"platform,\n{broken:.0%} of drawn ties without a common platform",
            fontsize=9,
        )
        ax.set_axis_off()
    order = [p for p in results.platforms if p in used]
    handles = [Line2D([], [], ls="", marker="o", color=colours[p]) for p in order]
    handles += [
        Line2D([], [], ls="", marker="s", color="0.4"),
        Line2D([], [], ls="", marker="o", color="0.4"),
        Line2D([], [], color="0.55", lw=0.8),
        Line2D([], [], color="#d62728", lw=0.8, ls=":"),
    ]
    labels = [
        *order,
        "square: on a monitored platform",
        "circle: on none",
        "tie with a common platform",
        "tie without one (broken)",
    ]
    fig.legend(handles, labels, loc="outside right upper", fontsize=7.5, frameon=False)
    fig.suptitle(f"{title} ({len(chosen)} of {n} groups)")
    return fig


def plot_differences(
    table: pd.DataFrame,
    outcomes: Sequence[str],
    *,
    title: str = "Difference to the reference scenario: mean over replicates and interval",
) -> ReportFigure:
    """Mean differences with their intervals, one panel per outcome, one row per scenario.

    A filled marker is a difference distinguishable from zero (its interval excludes 0), a
    hollow one is not; the dotted line is no difference.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`migration_sim.results.folder.replicate_comparison` table.
    outcomes : sequence of str
        Rows of ``table`` to draw, one panel each.
    title : str
        Figure title.

    Returns
    -------
    ReportFigure

    Raises
    ------
    ValueError
        If an outcome is not in the table (the message suggests the closest names).
    """
    labels = [c.removeprefix("diff.") for c in table.columns if c.startswith("diff.")]
    if not labels:
        raise ValueError("table has no diff.<label> columns: expected a replicate_comparison")
    for name in outcomes:
        if name not in table.index:
            raise ValueError(unknown_name_message("outcome", name, list(map(str, table.index))))
    ncols = min(3, len(outcomes))
    nrows = -(-len(outcomes) // ncols)
    fig = _figure(figsize=(4.2 * ncols, 0.45 * len(labels) * nrows + 1.2 * nrows + 0.6))
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    y = np.arange(len(labels))[::-1]
    for ax, name in zip(axes.flat, outcomes, strict=False):
        row = table.loc[name]
        for yi, label in zip(y, labels, strict=True):
            mean, lo, hi = (float(row[f"{k}.{label}"]) for k in ("diff", "lo", "hi"))
            solid = bool(row[f"distinguishable.{label}"])
            ax.plot([lo, hi], [yi, yi], color="0.2", lw=1.6)
            ax.plot([mean], [yi], "o", ms=6, color="0.2", mfc="0.2" if solid else "white", mew=1.4)
        ax.axvline(0.0, color="0.5", ls=":", lw=1)
        ax.set_title(name, fontsize=9)
        ax.set_yticks(y, labels=labels)
    for ax in axes.flat[len(outcomes) :]:
        ax.set_visible(False)
    handles = [
        Line2D([], [], ls="", marker="o", color="0.2", mfc="0.2"),
        Line2D([], [], ls="", marker="o", color="0.2", mfc="white", mew=1.4),
    ]
    fig.legend(
        handles,
        ["interval excludes 0", "interval includes 0"],
        loc="outside lower center",
        ncols=2,
        fontsize=8,
        frameon=False,
    )
    fig.suptitle(title)
    return fig
