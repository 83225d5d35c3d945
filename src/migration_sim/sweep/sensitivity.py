"""Analysis of stored sweeps: replicate bands, Sobol and Morris indices, grid heatmaps.

:func:`analyze` reads a sweep folder and writes, into ``<sweep>/analysis`` (or ``out``):

- ``bands.csv``: per design point and outcome, the number of successful replicates, mean,
  standard deviation and quantiles;
- Sobol designs: ``sobol.csv`` (S1, ST with confidence intervals; S2 with second order) and a
  bar chart ``sobol_<outcome>.png`` per outcome;
- Morris designs: ``morris.csv`` (mu, mu*, sigma, mu* confidence) and ``morris_<outcome>.png``;
- grids: ``heatmap_<outcome>__<x>__<y>.png`` for every pair of parameters (mean over
  replicates and the other parameters) or, with one parameter, ``bands_<outcome>.png``.

SALib indices are computed on the mean over replicates at each design point. Figures are drawn
with matplotlib's Agg canvas (no pyplot, no global backend change) and written atomically.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from migration_sim.config.errors import ConfigError
from migration_sim.results.core import unknown_name_message
from migration_sim.sweep.spec import SAMPLE_PREFIX, SweepSpec
from migration_sim.sweep.store import atomic_write, load_design, load_summary, read_meta

__all__ = [
    "AnalysisReport",
    "SensitivityError",
    "Sweep",
    "analyze",
    "grid_heatmap",
    "load_sweep",
    "morris_indices",
    "plot_bands",
    "plot_heatmap",
    "plot_indices",
    "point_means",
    "replicate_bands",
    "sobol_indices",
]

DEFAULT_QUANTILES = (0.05, 0.5, 0.95)
_QUANTILE = re.compile(r"^q(?:0(?:\.\d+)?|1(?:\.0*)?)$")


class SensitivityError(ConfigError):
    """An analysis cannot be computed from the sweep as stored."""


@dataclass(frozen=True)
class Sweep:
    """A stored sweep, loaded: its spec, design points, summary and metadata."""

    directory: Path
    spec: SweepSpec
    design: pd.DataFrame
    summary: pd.DataFrame
    meta: dict[str, Any]

    @property
    def parameters(self) -> list[str]:
        """The swept parameter paths, in design order."""
        return [p.path for p in self.spec.parameters]

    @property
    def outcomes(self) -> list[str]:
        """The outcome column names."""
        return [o.name for o in self.spec.parsed_outcomes]


def load_sweep(directory: str | Path) -> Sweep:
    """Load a sweep folder for analysis.

    Parameters
    ----------
    directory
        A folder written by :func:`migration_sim.sweep.run_sweep`.

    Returns
    -------
    Sweep
    """
    meta = read_meta(directory)
    return Sweep(
        directory=Path(directory),
        spec=SweepSpec.from_dict(meta["spec"]),
        design=load_design(directory),
        summary=load_summary(directory),
        meta=meta,
    )


def _ok(sweep: Sweep) -> pd.DataFrame:
    summary = sweep.summary
    if summary.empty:
        return summary
    return summary[summary["status"] == "ok"]


def _check_outcome(sweep: Sweep, outcome: str) -> None:
    if outcome not in sweep.outcomes:
        raise SensitivityError(
            unknown_name_message("outcome", outcome, list(sweep.outcomes))
            + " (outcomes recorded by this sweep)"
        )


# ---------------------------------------------------------------------------- replicate bands
def replicate_bands(
    sweep: Sweep,
    outcomes: Sequence[str] | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
) -> pd.DataFrame:
    """Summarise the replicates at each design point.

    Parameters
    ----------
    sweep
        The loaded sweep.
    outcomes
        Outcomes to summarise (default all).
    quantiles
        Quantile levels in [0, 1].

    Returns
    -------
    pandas.DataFrame
        One row per (point, outcome): ``point_id``, the parameter values, ``outcome``, ``n``
        (successful replicates with a finite value), ``mean``, ``std`` (ddof 1; NaN for
        n < 2) and ``q<level>`` columns (e.g. ``q0.05``). Points without a value have n = 0.
    """
    outcomes = list(sweep.outcomes if outcomes is None else outcomes)
    for o in outcomes:
        _check_outcome(sweep, o)
    ok = _ok(sweep)
    frames = []
    for o in outcomes:
        values = ok[["point_id", o]].dropna() if not ok.empty else pd.DataFrame()
        grouped = values.groupby("point_id")[o] if not values.empty else None
        stats = pd.DataFrame(index=sweep.design.index)
        stats["outcome"] = o
        if grouped is None:
            stats["n"] = 0
            stats["mean"] = stats["std"] = np.nan
            for q in quantiles:
                stats[f"q{q:g}"] = np.nan
        else:
            stats["n"] = grouped.size().reindex(stats.index, fill_value=0)
            stats["mean"] = grouped.mean()
            stats["std"] = grouped.std(ddof=1)
            for q in quantiles:
                stats[f"q{q:g}"] = grouped.quantile(q)
        frames.append(sweep.design[sweep.parameters].join(stats))
    return pd.concat(frames).reset_index()


def point_means(sweep: Sweep, outcome: str) -> np.ndarray:
    """Return the mean of an outcome over successful replicates, per design point.

    Returns
    -------
    numpy.ndarray
        Length ``n_points``, in design order; NaN where no replicate has a value.
    """
    _check_outcome(sweep, outcome)
    ok = _ok(sweep)
    means = ok.groupby("point_id")[outcome].mean() if not ok.empty else pd.Series(dtype=float)
    return means.reindex(sweep.design.index).to_numpy(dtype=np.float64)


def _complete_means(sweep: Sweep, outcome: str) -> np.ndarray:
    y = point_means(sweep, outcome)
    missing = np.flatnonzero(~np.isfinite(y))
    if missing.size:
        raise SensitivityError(
            f"outcome {outcome!r} has no value at {missing.size} of {y.size} design points "
            f"(first: {missing[:5].tolist()}); the {sweep.spec.design.method} analysis needs "
            "every point: finish the sweep (rerun it, with --retry-failed for failed runs)"
        )
    return y


# ---------------------------------------------------------------------------- SALib indices
def sobol_indices(
    sweep: Sweep,
    outcome: str,
    *,
    conf_level: float = 0.95,
    num_resamples: int = 100,
    seed: int = 1,
) -> pd.DataFrame:
    """Sobol sensitivity indices of one outcome (SALib, Saltelli/Jansen estimators).

    Parameters
    ----------
    sweep
        A sweep with a ``sobol`` design.
    outcome
        The outcome to analyse.
    conf_level
        Confidence level of the bootstrap intervals.
    num_resamples
        Bootstrap resamples.
    seed
        Seed of the bootstrap, >= 1 (SALib leaves the bootstrap unseeded for 0).

    Returns
    -------
    pandas.DataFrame
        Index ``parameter``; columns ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (half-widths of
        the confidence intervals) and, for second-order designs, ``S2:<other>`` and
        ``S2_conf:<other>``.

    Raises
    ------
    SensitivityError
        If the design is not Sobol or a point has no value.
    """
    from SALib.analyze import sobol

    if sweep.spec.design.method != "sobol":
        raise SensitivityError(
            f"Sobol indices need a 'sobol' design; this sweep's is {sweep.spec.design.method!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 1:
        raise SensitivityError(f"seed = {seed!r}: expected an integer >= 1")
    y = _complete_means(sweep, outcome)
    second = sweep.spec.design.second_order
    res = sobol.analyze(
        sweep.spec.salib_problem(),
        y,
        calc_second_order=second,
        num_resamples=num_resamples,
        conf_level=conf_level,
        seed=seed,
    )
    table = pd.DataFrame(
        {k: res[k] for k in ("S1", "S1_conf", "ST", "ST_conf")},
        index=pd.Index(sweep.parameters, name="parameter"),
    )
    if second:
        for j, other in enumerate(sweep.parameters):
            s2 = np.where(np.isnan(res["S2"][:, j]), res["S2"][j, :], res["S2"][:, j])
            conf = res["S2_conf"]
            c2 = np.where(np.isnan(conf[:, j]), conf[j, :], conf[:, j])
            table[f"S2:{other}"] = s2
            table[f"S2_conf:{other}"] = c2
    return table


def morris_indices(
    sweep: Sweep,
    outcome: str,
    *,
    conf_level: float = 0.95,
    num_resamples: int = 100,
    seed: int = 1,
) -> pd.DataFrame:
    """Morris elementary-effect screening measures of one outcome (SALib).

    Parameters
    ----------
    sweep
        A sweep with a ``morris`` design.
    outcome
        The outcome to analyse.
    conf_level, num_resamples, seed
        Bootstrap of the mu* confidence interval.

    Returns
    -------
    pandas.DataFrame
        Index ``parameter``; columns ``mu``, ``mu_star``, ``sigma``, ``mu_star_conf``, in
        outcome units per unit of the parameter's sampling space (log units for log ranges).

    Raises
    ------
    SensitivityError
        If the design is not Morris or a point has no value.
    """
    from SALib.analyze import morris

    if sweep.spec.design.method != "morris":
        raise SensitivityError(
            f"Morris measures need a 'morris' design; this sweep's is {sweep.spec.design.method!r}"
        )
    y = _complete_means(sweep, outcome)
    x = sweep.design[[SAMPLE_PREFIX + p for p in sweep.parameters]].to_numpy(dtype=np.float64)
    res = morris.analyze(
        sweep.spec.salib_problem(),
        x,
        y,
        num_resamples=num_resamples,
        conf_level=conf_level,
        num_levels=sweep.spec.design.levels,
        seed=seed,
    )
    return pd.DataFrame(
        {
            k: np.asarray(res[k], dtype=np.float64)
            for k in ("mu", "mu_star", "sigma", "mu_star_conf")
        },
        index=pd.Index(sweep.parameters, name="parameter"),
    )


# ---------------------------------------------------------------------------- grids
def grid_heatmap(sweep: Sweep, outcome: str, x: str, y: str) -> pd.DataFrame:
    """Mean of an outcome over two grid parameters.

    Averages over replicates and over every other parameter, with equal weight per run.

    Parameters
    ----------
    sweep
        A sweep with a ``grid`` design.
    outcome
        The outcome.
    x, y
        Parameter paths for the columns and the rows.

    Returns
    -------
    pandas.DataFrame
        Rows are ``y`` values, columns ``x`` values, in the order the spec lists them.
    """
    _check_outcome(sweep, outcome)
    params = {p.path: p for p in sweep.spec.parameters}
    for name in (x, y):
        if name not in params:
            raise SensitivityError(f"{name!r} is not a swept parameter; swept: {sweep.parameters}")
    if x == y:
        raise SensitivityError(f"a heatmap needs two different parameters, got {x!r} twice")
    ok = _ok(sweep)
    table = ok.pivot_table(index=y, columns=x, values=outcome, aggfunc="mean", dropna=False)
    return table.reindex(index=list(params[y].values), columns=list(params[x].values))


# ---------------------------------------------------------------------------- figures
def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    atomic_write(path, lambda fh: fh.write(buf.getvalue()))
    return path


def _label(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def plot_indices(table: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Draw a bar chart of sensitivity indices with confidence intervals.

    Parameters
    ----------
    table
        Output of :func:`sobol_indices` (bars S1 and ST) or :func:`morris_indices` (bars mu*).
    path
        PNG file to write (atomically).
    title
        Figure title.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    bars = ["S1", "ST"] if "S1" in table.columns else ["mu_star"]
    fig = Figure(figsize=(max(4.0, 1.2 * len(table) + 2), 3.5))
    ax = fig.add_subplot()
    pos = np.arange(len(table))
    width = 0.8 / len(bars)
    for k, col in enumerate(bars):
        ax.bar(
            pos + (k - (len(bars) - 1) / 2) * width,
            table[col],
            width,
            yerr=table[f"{col}_conf"],
            capsize=3,
            label=col,
        )
    ax.set_xticks(pos, [str(i) for i in table.index], rotation=30, ha="right")
    ax.axhline(0.0, color="black", linewidth=0.5)
    ax.set_ylabel("index" if "S1" in bars else "mu* (elementary effect)")
    ax.legend()
    ax.set_title(title)
    return _save(fig, Path(path))


def plot_heatmap(table: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Draw a heatmap of a :func:`grid_heatmap` table (annotated when small).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    fig = Figure(figsize=(1.0 + 0.9 * max(3, table.shape[1]), 1.0 + 0.7 * max(3, table.shape[0])))
    ax = fig.add_subplot()
    image = ax.imshow(table.to_numpy(dtype=np.float64), origin="lower", aspect="auto")
    ax.set_xticks(range(table.shape[1]), [_label(v) for v in table.columns])
    ax.set_yticks(range(table.shape[0]), [_label(v) for v in table.index])
    ax.set_xlabel(str(table.columns.name))
    ax.set_ylabel(str(table.index.name))
    if table.size <= 144:
        for (i, j), v in np.ndenumerate(table.to_numpy(dtype=np.float64)):
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=7, color="white")
    fig.colorbar(image, ax=ax)
    ax.set_title(title)
    return _save(fig, Path(path))


def plot_bands(
    bands: pd.DataFrame, x: str, outcome: str, path: str | Path, *, title: str = ""
) -> Path:
    """Draw an outcome's replicate mean and outer quantile band against one parameter.

    Parameters
    ----------
    bands
        Output of :func:`replicate_bands` for a one-parameter sweep.
    x
        The parameter.
    outcome
        The outcome.
    path
        PNG file to write (atomically).
    title
        Figure title.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    rows = bands[bands["outcome"] == outcome]
    qcols = sorted((c for c in rows.columns if _QUANTILE.match(c)), key=lambda c: float(c[1:]))
    fig = Figure(figsize=(5.0, 3.5))
    ax = fig.add_subplot()
    pos = np.arange(len(rows))
    numeric = pd.api.types.is_numeric_dtype(rows[x]) and not pd.api.types.is_bool_dtype(rows[x])
    xs = rows[x].to_numpy(dtype=np.float64) if numeric else pos
    if len(qcols) >= 2:
        band = f"{qcols[0]}-{qcols[-1]}"
        ax.fill_between(xs, rows[qcols[0]], rows[qcols[-1]], alpha=0.3, label=band)
    ax.plot(xs, rows["mean"], marker="o", label="mean")
    if not numeric:
        ax.set_xticks(pos, [str(v) for v in rows[x]])
    ax.set_xlabel(x)
    ax.set_ylabel(outcome)
    ax.legend()
    ax.set_title(title)
    return _save(fig, Path(path))


# ---------------------------------------------------------------------------- the report
@dataclass(frozen=True)
class AnalysisReport:
    """Files written by :func:`analyze` and the tables behind them."""

    directory: Path
    files: list[Path] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def _write_csv(table: pd.DataFrame, path: Path) -> Path:
    data = table.to_csv(index=False).encode()
    atomic_write(path, lambda fh: fh.write(data))
    return path


def analyze(
    directory: str | Path,
    out: str | Path | None = None,
    *,
    outcomes: Sequence[str] | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
) -> AnalysisReport:
    """Analyse a stored sweep and write tables and figures.

    Parameters
    ----------
    directory
        The sweep folder.
    out
        Output folder; default ``<directory>/analysis``.
    outcomes
        Outcomes to analyse (default all).
    quantiles
        Quantile levels of the replicate bands.

    Returns
    -------
    AnalysisReport
        The files written and the tables (``bands``, ``sobol`` or ``morris``).

    Raises
    ------
    SensitivityError
        If a Sobol or Morris analysis lacks design points (finish the sweep first).
    """
    sweep = load_sweep(directory)
    outcomes = list(sweep.outcomes if outcomes is None else outcomes)
    out_dir = Path(out) if out is not None else sweep.directory / "analysis"
    out_dir.mkdir(parents=True, exist_ok=True)
    report = AnalysisReport(directory=out_dir)
    bands = replicate_bands(sweep, outcomes, quantiles)
    report.tables["bands"] = bands
    report.files.append(_write_csv(bands, out_dir / "bands.csv"))
    method = sweep.spec.design.method
    if method in ("sobol", "morris"):
        compute = sobol_indices if method == "sobol" else morris_indices
        tables = []
        for o in outcomes:
            table = compute(sweep, o)
            report.files.append(
                plot_indices(table, out_dir / f"{method}_{_slug(o)}.png", title=f"{method}: {o}")
            )
            tables.append(table.reset_index().assign(outcome=o))
        combined = pd.concat(tables, ignore_index=True)
        combined = combined[["outcome", *[c for c in combined.columns if c != "outcome"]]]
        report.tables[method] = combined
        report.files.append(_write_csv(combined, out_dir / f"{method}.csv"))
    elif method == "grid":
        varied = [p.path for p in sweep.spec.parameters if len(p.values) > 1]
        for o in outcomes:
            if len(varied) == 1:
                path = out_dir / f"bands_{_slug(o)}.png"
                report.files.append(plot_bands(bands, varied[0], o, path, title=o))
            for x, y in itertools.combinations(varied, 2):
                path = out_dir / f"heatmap_{_slug(o)}__{_slug(x)}__{_slug(y)}.png"
                table = grid_heatmap(sweep, o, x, y)
                report.files.append(plot_heatmap(table, path, title=f"mean {o}"))
    return report
