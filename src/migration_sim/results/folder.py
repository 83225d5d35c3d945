"""Results folders: tables, figures and provenance, written atomically.

Folders are built in a hidden temporary sibling and appear whole or not at all; ``force``
replaces only a results folder of migration_sim (see :mod:`migration_sim.results.staging`).
The layout is documented in ``docs/scenarios.md``.
"""

from __future__ import annotations

import io
import platform
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from migration_sim.config import Config
from migration_sim.config.scenario import save_scenario
from migration_sim.results.core import Results, atomic_write_bytes, atomic_write_text, to_json
from migration_sim.results.plots import (
    fragmentation_columns,
    plot_compare,
    plot_differences,
    plot_flows,
    plot_fragmentation,
    plot_share_bands,
    plot_shares,
    save_figure,
    shock_marks,
)
from migration_sim.results.provenance import package_version, source_provenance
from migration_sim.results.staging import (
    COMPLETE,
    OutputExistsError,
    check_destination,
    is_complete,
    is_results_folder,
    staged_folder,
)

__all__ = [
    "COMPLETE",
    "OutputExistsError",
    "check_destination",
    "comparison_table",
    "environment",
    "final_outcomes",
    "is_complete",
    "is_results_folder",
    "provenance",
    "replicate_comparison",
    "staged_folder",
    "summary_table",
    "load_results",
    "write_comparison",
    "write_run",
    "write_run_files",
]


def _write_frame(df: pd.DataFrame, folder: Path, stem: str, formats: Sequence[str]) -> list[str]:
    names = []
    for fmt in formats:
        name = f"{stem}.{fmt}"
        if fmt == "parquet":
            buf = io.BytesIO()
            df.to_parquet(buf)
            atomic_write_bytes(folder / name, buf.getvalue())
        else:
            atomic_write_text(folder / name, df.to_csv())
        names.append(name)
    return names


def summary_table(results: Results) -> pd.DataFrame:
    """Key outcomes at the start, just before each shock and at the end.

    Rows: the primary share of each platform (``share.<P>``), ``share_multihoming``,
    ``mean_platforms``, ``n_active`` and the fragmentation measures present (their last
    computed value at or before the step). Columns: ``start (<unit> 0)``, ``before <shock>
    (<unit> s-1)`` for each shock's first step s, and ``end (<unit> T)``.

    Parameters
    ----------
    results : Results
        A finished run.

    Returns
    -------
    pandas.DataFrame
    """
    ts = results.timeseries
    unit = results.step_unit
    cols = [c for c in ts.columns if c.startswith("share.")]
    cols += ["share_multihoming", "mean_platforms", "n_active", *fragmentation_columns(ts)]
    filled = ts[cols].ffill()
    marks: list[tuple[str, int]] = [(f"start ({unit} 0)", 0)]
    for step, names in shock_marks(results, starts_only=True):
        if 1 <= step <= results.n_steps:
            marks.append((f"before {names} ({unit} {step - 1})", step - 1))
    marks.append((f"end ({unit} {results.n_steps})", results.n_steps))
    return pd.DataFrame({label: filled.loc[row] for label, row in marks})


def final_outcomes(results: Results) -> pd.Series:
    """Outcomes at the end of a run, for comparisons and replicate tables.

    Entries: ``share.<P>`` and ``presence.<P>`` per platform; ``share_multihoming``,
    ``mean_platforms``, ``n_active``, ``n_dark``; ``disruptions_total`` and ``bans_total`` over
    the run; ``share.<P0>.<type>`` (the primary share of the platform with the largest share at
    step 0 among the groups of each crime type that have a primary platform); and the last
    computed value of every fragmentation measure.

    Parameters
    ----------
    results : Results
        A finished run.

    Returns
    -------
    pandas.Series
    """
    ts = results.timeseries
    last = ts.iloc[-1]
    out: dict[str, float] = {}
    for p in results.platforms:
        out[f"share.{p}"] = last[f"share.{p}"]
    for p in results.platforms:
        out[f"presence.{p}"] = last[f"presence.{p}"]
    for col in ("share_multihoming", "mean_platforms", "n_active", "n_dark"):
        out[col] = last[col]
    out["disruptions_total"] = float(results.arrays["disruptions"].sum())
    out["bans_total"] = float(results.arrays["bans"].sum())
    a = results.arrays
    k0 = int(np.argmax(a["primary"][0]))
    by_type = a["primary_by_type"][-1]
    n_by_type = by_type.sum(axis=1)
    for c, name in enumerate(results.crime_types):
        share = by_type[c, k0] / n_by_type[c] if n_by_type[c] else np.nan
        out[f"share.{results.platforms[k0]}.{name}"] = share
    for col in results.metrics:
        values = ts[col].dropna()
        out[col] = values.iloc[-1] if len(values) else np.nan
    return pd.Series(out, dtype=float)


def write_run_files(results: Results, folder: str | Path, *, figures: bool = True) -> list[str]:
    """Write one run's tables (and figures) into an existing folder.

    Files: ``timeseries.parquet/.csv``, ``by_crime_type.parquet/.csv``, ``flows.csv``,
    ``events.parquet/.csv``, ``shock_log.csv``, ``summary.csv``, the lossless
    ``results.npz`` and ``results.json`` read back by :func:`load_results`, one
    ``graph_step_<s>.graphml`` per step in ``metrics.graph_steps`` (the communication graph, see
    :meth:`Results.communication_graph`); with ``figures``: ``shares.png``, ``flows.png`` and,
    when the run holds fragmentation measures, ``fragmentation.png``.

    Parameters
    ----------
    results : Results
        A finished run.
    folder : str or pathlib.Path
        An existing folder.
    figures : bool
        Also write the PNG figures.

    Returns
    -------
    list of str
        The file names written.
    """
    folder = Path(folder)
    both = ("parquet", "csv")
    names = _write_frame(results.timeseries, folder, "timeseries", both)
    names += _write_frame(results.by_crime_type.set_index("step"), folder, "by_crime_type", both)
    names += _write_frame(results.flows, folder, "flows", ("csv",))
    names += _write_frame(results.events.set_index("step"), folder, "events", both)
    shock_log = pd.DataFrame(
        results.shock_log, columns=["step", "shock", "kind", "phase", "platform"]
    )
    names += _write_frame(shock_log.set_index("step"), folder, "shock_log", ("csv",))
    names += _write_frame(summary_table(results), folder, "summary", ("csv",))
    names += results.save(folder)
    for step in sorted(results.graphs):
        name = f"graph_step_{step}.graphml"
        results.write_graphml(step, folder / name)
        names.append(name)
    if figures:
        names.append(save_figure(plot_shares(results), folder / "shares.png").name)
        names.append(save_figure(plot_flows(results), folder / "flows.png").name)
        if fragmentation_columns(results):
            names.append(
                save_figure(plot_fragmentation(results), folder / "fragmentation.png").name
            )
    return names


def load_results(folder: str | Path) -> Results | list[Results]:
    """Read a results folder written by ``migration-sim run`` (or :func:`write_run`) back.

    Parameters
    ----------
    folder : str or pathlib.Path
        A one-run folder, or a replicate folder (subfolders ``rep_000``, ``rep_001``, ...).

    Returns
    -------
    Results or list of Results
        The run, with its shock log (figures of it mark the shocks), configuration and seed;
        for a replicate folder, the replicates in order.

    Raises
    ------
    FileNotFoundError
        If the folder is not a results folder holding saved runs.

    Examples
    --------
    >>> import tempfile
    >>> from migration_sim.model import run_scenario
    >>> res = run_scenario("telegram_2024", seed=1, steps=5)
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = res.save(folder)
    >>> load_results(folder).timeseries.equals(res.timeseries)
    True
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"results folder {folder} does not exist")
    reps = sorted(p for p in folder.glob("rep_[0-9][0-9][0-9]") if p.is_dir())
    if reps and not (folder / "results.json").is_file():
        return [Results.load(p) for p in reps]
    return Results.load(folder)


def environment() -> dict[str, Any]:
    """Versions and source of the software that produced a result (for ``metadata.json``)."""
    return {
        "package_version": package_version(),
        "git_commit": source_provenance()["git_commit"],
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }


def provenance(
    config: Config,
    *,
    source: str,
    seed: int,
    runs: Sequence[Results],
    started: datetime,
    finished: datetime,
    command: Sequence[str],
) -> dict[str, Any]:
    """Metadata of a run or a set of replicates (the content of ``metadata.json``).

    Parameters
    ----------
    config : Config
        The resolved scenario that was run.
    source : str
        Where the scenario came from (a file path or ``builtin:<name>``).
    seed : int
        The master seed.
    runs : sequence of Results
        The runs (one, or the replicates in order).
    started, finished : datetime.datetime
        Wall-clock start and end (timezone-aware).
    command : sequence of str
        The command line.

    Returns
    -------
    dict
        ``scenario_source``, ``scenario`` (resolved), ``seed``, ``replicates``,
        ``replicate_seeds`` (entropy and spawn key of each run), ``steps``, ``step_unit``,
        ``shock_steps``, ``started``, ``finished``, ``elapsed_seconds``, ``command`` and the
        entries of :func:`environment`.
    """
    return {
        "scenario_source": source,
        "scenario": config.to_dict(),
        "seed": seed,
        "replicates": len(runs),
        "replicate_seeds": [r.seed for r in runs],
        "steps": runs[0].n_steps,
        "step_unit": config.run.step_unit,
        "shock_steps": runs[0].shock_steps,
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "elapsed_seconds": round((finished - started).total_seconds(), 3),
        "command": list(command),
        **environment(),
    }


def write_run(
    dest: str | Path,
    runs: Results | Sequence[Results],
    *,
    metadata: Mapping[str, Any],
    config: Config,
    force: bool = False,
) -> Path:
    """Write a complete results folder for one run or for replicates, atomically.

    One run: its files (see :func:`write_run_files`) at the top level. Replicates: one
    subfolder ``rep_000``, ``rep_001``, ... per replicate (tables only), plus at the top level
    ``timeseries.parquet/.csv`` (all replicates, with a ``replicate`` column),
    ``replicates.csv`` (one row of final outcomes per replicate, with its seed) and
    ``shares.png`` (median and 10-90% band). Both hold ``scenario.toml``, ``metadata.json``
    and, last, ``COMPLETE``.

    Parameters
    ----------
    dest : str or pathlib.Path
        The results folder to create.
    runs : Results or sequence of Results
        A single run, or replicates (a sequence, even of one).
    metadata : mapping
        Provenance (see :func:`provenance`); the list of files is added.
    config : Config
        The resolved scenario, written as ``scenario.toml``.
    force : bool
        Replace ``dest`` if it exists.

    Returns
    -------
    pathlib.Path
        ``dest``.
    """
    dest = Path(dest)
    with staged_folder(dest, force=force) as tmp:
        if isinstance(runs, Results):
            files = write_run_files(runs, tmp)
        else:
            files = []
            for r, res in enumerate(runs):
                sub = f"rep_{r:03d}"
                (tmp / sub).mkdir()
                files += [f"{sub}/{n}" for n in write_run_files(res, tmp / sub, figures=False)]
            combined = (
                pd.concat([res.timeseries.assign(replicate=r) for r, res in enumerate(runs)])
                .set_index("replicate", append=True)
                .reorder_levels(["replicate", "step"])
            )
            files += _write_frame(combined, tmp, "timeseries", ("parquet", "csv"))
            table = pd.DataFrame([final_outcomes(res) for res in runs])
            table.insert(0, "seed_spawn_key", [str(res.seed["spawn_key"]) for res in runs])
            table.index.name = "replicate"
            files += _write_frame(table, tmp, "replicates", ("csv",))
            files.append(save_figure(plot_share_bands(list(runs)), tmp / "shares.png").name)
        save_scenario(config, tmp / "scenario.toml", comment=_scenario_comment(metadata))
        files.append("scenario.toml")
        meta = {**metadata, "files": sorted([*files, "metadata.json", COMPLETE])}
        atomic_write_text(tmp / "metadata.json", to_json(meta) + "\n")
    return dest


def write_comparison(
    dest: str | Path,
    runs: Mapping[str, Results] | Mapping[str, Sequence[Results]],
    *,
    configs: Mapping[str, Config],
    metadata: Mapping[str, Any],
    force: bool = False,
) -> Path:
    """Write a comparison folder for scenarios run with the same seeds, atomically.

    With one run per scenario: ``comparison.csv`` (one row per outcome of
    :func:`final_outcomes`, one column per scenario, then ``diff.<label>`` = that scenario minus
    the first), ``timeseries.parquet/.csv`` (all scenarios, with a ``scenario`` column) and
    ``shares.png`` (one panel per scenario). With replicates (a sequence of Results per
    scenario, replicate r of each run with the same seed): ``comparison.csv`` is
    :func:`replicate_comparison` (means, mean differences, intervals over seeds and whether
    each is distinguishable from zero), ``replicates.csv`` holds every replicate's final
    outcomes (columns ``scenario``, ``replicate``), the time series gain a ``replicate``
    level, ``differences.png`` draws the differences with their intervals and
    ``shares_<label>.png`` each scenario's replicate bands. Both hold
    ``scenarios/<label>.toml`` (each resolved scenario), ``metadata.json`` and ``COMPLETE``.

    Parameters
    ----------
    dest : str or pathlib.Path
        The comparison folder to create.
    runs : mapping of label to Results, or of label to sequence of Results
        The runs (or replicates), the reference (first) scenario first.
    configs : mapping of label to Config
        The resolved scenarios.
    metadata : mapping
        Provenance; the list of files is added.
    force : bool
        Replace ``dest`` if it exists.

    Returns
    -------
    pathlib.Path
        ``dest``.
    """
    dest = Path(dest)
    replicated = not all(isinstance(r, Results) for r in runs.values())
    with staged_folder(dest, force=force) as tmp:
        if replicated:
            table = replicate_comparison(runs)  # type: ignore[arg-type]
            files = _write_frame(table, tmp, "comparison", ("csv",))
            finals = pd.concat(
                [
                    pd.DataFrame([final_outcomes(r) for r in reps]).assign(scenario=label)
                    for label, reps in runs.items()
                ]
            )
            finals.index.name = "replicate"
            finals = finals.set_index("scenario", append=True).reorder_levels([1, 0])
            files += _write_frame(finals, tmp, "replicates", ("csv",))
            frames = [
                res.timeseries.assign(scenario=label, replicate=r)
                for label, reps in runs.items()
                for r, res in enumerate(reps)  # type: ignore[arg-type]
            ]
            levels = ["scenario", "replicate", "step"]
            outcomes = [o for o in COMPARE_OUTCOMES if o in table.index]
            figure = plot_differences(table, outcomes)
            files.append(save_figure(figure, tmp / "differences.png").name)
            for label, reps in runs.items():
                bands = plot_share_bands(list(reps), title=f"{label}: median and 10-90% band")  # type: ignore[arg-type]
                files.append(save_figure(bands, tmp / f"shares_{label}.png").name)
        else:
            table = comparison_table(runs)  # type: ignore[arg-type]
            files = _write_frame(table, tmp, "comparison", ("csv",))
            frames = [res.timeseries.assign(scenario=label) for label, res in runs.items()]
            levels = ["scenario", "step"]
            files.append(save_figure(plot_compare(runs), tmp / "shares.png").name)  # type: ignore[arg-type]
        combined = pd.concat(frames).set_index(levels[:-1], append=True).reorder_levels(levels)
        files += _write_frame(combined, tmp, "timeseries", ("parquet", "csv"))
        (tmp / "scenarios").mkdir()
        for label, cfg in configs.items():
            save_scenario(cfg, tmp / "scenarios" / f"{label}.toml", comment=f"scenario {label}")
            files.append(f"scenarios/{label}.toml")
        meta = {**metadata, "files": sorted([*files, "metadata.json", COMPLETE])}
        atomic_write_text(tmp / "metadata.json", to_json(meta) + "\n")
    return dest


#: Outcomes drawn in ``differences.png`` and printed by ``migration-sim compare``, when present.
COMPARE_OUTCOMES = (
    "share.Telegram",
    "share_multihoming",
    "mean_platforms",
    "effective_platforms_primary",
    "broken_tie_share",
    "comm_giant_share",
    "coverage_groups",
    "coverage_severity",
)


def comparison_table(runs: Mapping[str, Results]) -> pd.DataFrame:
    """Final outcomes side by side, one column per scenario, then differences to the first.

    Parameters
    ----------
    runs : mapping of label to Results
        The reference scenario first.

    Returns
    -------
    pandas.DataFrame
        Index ``outcome``; columns: the labels, then ``diff.<label>`` for every other label.
    """
    if not runs:
        raise ValueError("runs is empty: give at least one scenario")
    table = pd.DataFrame({label: final_outcomes(res) for label, res in runs.items()})
    table.index.name = "outcome"
    labels = list(runs)
    for label in labels[1:]:
        table[f"diff.{label}"] = table[label] - table[labels[0]]
    return table


def replicate_comparison(
    runs: Mapping[str, Sequence[Results]], *, level: float = 0.95
) -> pd.DataFrame:
    """Mean differences to the first scenario over replicates, with intervals over seeds.

    Replicate r of every scenario must use the same seed (common random numbers: the
    difference of replicate r is paired). For each outcome of :func:`final_outcomes` and each
    scenario after the first, the paired differences d_r = scenario_r - reference_r give the
    mean difference, its standard error s/sqrt(R) and a Student-t interval at ``level``; a
    difference is *distinguishable from zero* when the interval excludes 0.

    Parameters
    ----------
    runs : mapping of label to sequence of Results
        Replicates of each scenario, the reference scenario first; replicate r of each used
        the same seed. At least 2 replicates each, the same number everywhere.
    level : float
        Confidence level of the intervals, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        Index ``outcome``; columns ``mean.<label>`` for every scenario, then per other label
        ``diff.<label>``, ``lo.<label>``, ``hi.<label>`` and ``distinguishable.<label>`` (bool).

    Raises
    ------
    ValueError
        For fewer than two scenarios, fewer than two replicates, unequal replicate counts or
        a level outside (0, 1).
    """
    from scipy import stats

    labels = list(runs)
    counts = {label: len(r) for label, r in runs.items()}
    if len(labels) < 2:
        raise ValueError(f"runs has {len(labels)} scenario(s): give at least two")
    if len(set(counts.values())) != 1 or min(counts.values()) < 2:
        raise ValueError(
            f"replicates per scenario = {counts} is not allowed: expected the same number, "
            "at least 2, for every scenario"
        )
    if not 0.0 < level < 1.0:
        raise ValueError(f"level = {level!r} is not allowed: expected a number in (0, 1)")
    tables = {
        label: pd.DataFrame([final_outcomes(res) for res in reps]) for label, reps in runs.items()
    }
    n = counts[labels[0]]
    t = float(stats.t.ppf(0.5 + level / 2, n - 1))
    out = pd.DataFrame({f"mean.{label}": tables[label].mean() for label in labels})
    out.index.name = "outcome"
    ref = tables[labels[0]]
    for label in labels[1:]:
        d = tables[label] - ref
        mean, half = d.mean(), t * d.std(ddof=1) / np.sqrt(n)
        out[f"diff.{label}"] = mean
        out[f"lo.{label}"] = mean - half
        out[f"hi.{label}"] = mean + half
        out[f"distinguishable.{label}"] = (mean - half > 0) | (mean + half < 0)
    return out


def _scenario_comment(metadata: Mapping[str, Any]) -> str:
    return (
        f"Resolved scenario from {metadata.get('scenario_source', '?')}, written by "
        f"migration_sim {package_version()}.\n"
        "Every parameter is listed; load it with migration_sim.load_scenario or run it with "
        "migration-sim run."
    )
