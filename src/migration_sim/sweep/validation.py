"""Pattern-oriented validation: the model against patterns of real migrations.

Patterns are data (``data/patterns.toml``): each names a built-in scenario, a measure of this
module (:data:`MEASURES`) with its parameters, a target, a tolerance, a source and its use
(``calibration`` or ``validation``). :func:`run_patterns` runs every scenario the patterns
need, plus the baseline, over replicates that share their seeds across scenarios (common random
numbers), evaluates each measure on each replicate against the baseline run with the same seed,
and returns one row per pattern. :func:`write_report` turns that table into a markdown report
with one figure per pattern (simulated values per seed, mean and spread against the target
band).
"""

from __future__ import annotations

import inspect
import math
import multiprocessing
import tomllib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from migration_sim.config import Config, ConfigError
from migration_sim.config.errors import read_toml_file
from migration_sim.config.files import atomic_write_text
from migration_sim.config.scenario import builtin_scenario, builtin_scenario_names
from migration_sim.model.model import MigrationModel
from migration_sim.model.runner import replicate_seeds
from migration_sim.results.core import Results

__all__ = [
    "Pattern",
    "MEASURES",
    "load_patterns",
    "run_patterns",
    "write_report",
    "run_replicates",
    "evaluate",
    "BASELINE",
]

#: Scenario every measure is compared against (same seed: common random numbers).
BASELINE = "baseline"

USES = ("calibration", "validation")


# ------------------------------------------------------------------------------ measures
def _share(res: Results, platform: str, step: int) -> float:
    a = res.arrays
    k = res.platforms.index(platform)
    return float(a["primary"][step, k] / max(int(a["n_active"][step]), 1))


def _presence(res: Results, platform: str, step: int) -> float:
    a = res.arrays
    k = res.platforms.index(platform)
    return float(a["presence"][step, k] / max(int(a["n_active"][step]), 1))


def share_drift(res: Results, base: Results, *, platform: str, step: int) -> float:
    """Primary share of ``platform`` at ``step`` minus at step 0, in the scenario itself."""
    return _share(res, platform, step) - _share(res, platform, 0)


def top_destination_share(
    res: Results, base: Results, *, source: str, horizon: int, shock: int | None = None
) -> float:
    """Share of the landed migrants from ``source`` on their top destination (group level)."""
    return float(res.migration_response(source, _shock_step(res, shock), horizon)[
        "top_destination_share"
    ])  # fmt: skip


def split_share(
    res: Results, base: Results, *, source: str, horizon: int, shock: int | None = None
) -> float:
    """Share of the landed migrants present on two or more new platforms (group level)."""
    return float(res.migration_response(source, _shock_step(res, shock), horizon)["split_share"])


def presence_response(res: Results, base: Results, *, platform: str, step: int) -> float:
    """Relative change of presence on ``platform`` at ``step`` against the baseline."""
    return _presence(res, platform, step) / _presence(base, platform, step) - 1.0


def loss_taken_by(
    res: Results, base: Results, *, source: str, platforms: Sequence[str], step: int
) -> float:
    """Share of the primary share ``source`` lost (against the baseline) gained by ``platforms``.

    ``sum_p (s_p - b_p) / (b_source - s_source)`` at ``step``; nan if ``source`` lost nothing.
    """
    loss = _share(base, source, step) - _share(res, source, step)
    if loss <= 0:
        return math.nan
    gain = sum(_share(res, p, step) - _share(base, p, step) for p in platforms)
    return gain / loss


def lead_over_next(res: Results, base: Results, *, platform: str, step: int) -> float:
    """Primary share of ``platform`` minus the largest share of any other platform."""
    others = [_share(res, p, step) for p in res.platforms if p != platform]
    return _share(res, platform, step) - max(others)


def multihoming_change(res: Results, base: Results, *, step: int) -> float:
    """Share of multi-homing active groups at ``step`` minus the baseline's."""

    def share(r: Results) -> float:
        a = r.arrays
        return float(a["n_multihoming"][step] / max(int(a["n_active"][step]), 1))

    return share(res) - share(base)


def exit_gap(res: Results, base: Results, *, source: str, min_priority: float, step: int) -> float:
    """Exit rate of the high-priority types from ``source`` minus that of the others.

    Exit rate of a set of types: ``1 - P_res / P_base``, with P the number of groups of those
    types with ``source`` as primary at ``step``; high-priority types have
    ``priority >= min_priority``.
    """
    k = res.platforms.index(source)
    table = res.config["crime_types"]
    priority = np.array([table[name]["priority"] for name in res.crime_types])
    high = priority >= min_priority

    def exit_rate(mask: np.ndarray) -> float:
        kept = res.arrays["primary_by_type"][step, mask, k].sum()
        return 1.0 - kept / max(int(base.arrays["primary_by_type"][step, mask, k].sum()), 1)

    return exit_rate(high) - exit_rate(~high)


def _shock_step(res: Results, shock: int | None) -> int:
    if shock is not None:
        return shock
    if not res.shock_steps:
        raise ValueError("the scenario has no shock: give the measure a 'shock' step")
    return res.shock_steps[0]


#: Measures a pattern may name: ``f(results, baseline_results, **params) -> float``.
MEASURES: dict[str, Callable[..., float]] = {
    f.__name__: f
    for f in (
        share_drift,
        top_destination_share,
        split_share,
        presence_response,
        loss_taken_by,
        lead_over_next,
        multihoming_change,
        exit_gap,
    )
}

#: Measures that follow groups one by one and need per-group state at two steps.
_GROUP_LEVEL = ("top_destination_share", "split_share")


# ------------------------------------------------------------------------------ patterns
@dataclass(frozen=True)
class Pattern:
    """One pattern: a measure of a scenario, its target band and where the target comes from.

    The pattern holds when the mean over replicates lies in ``[target - tolerance,
    target + tolerance]``; with ``every_replicate``, when every replicate does.
    """

    name: str
    scenario: str
    measure: str
    target: float
    tolerance: float
    source: str
    use: str
    params: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    every_replicate: bool = False

    @property
    def lower(self) -> float:
        """Lowest accepted value."""
        return self.target - self.tolerance

    @property
    def upper(self) -> float:
        """Highest accepted value."""
        return self.target + self.tolerance

    def graph_steps(self, cfg: Config) -> list[int]:
        """Steps whose per-group state the measure needs (see ``metrics.graph_steps``)."""
        if self.measure not in _GROUP_LEVEL:
            return []
        shock = self.params.get("shock")
        if shock is None:
            shock = min(int(s["start"]) for s in cfg.shocks)
        return [shock - 1, shock + int(self.params["horizon"])]


def _pattern(entry: Mapping[str, Any], i: int) -> Pattern:
    label = entry.get("name", f"[{i}]")

    def fail(key: str, allowed: str) -> ConfigError:
        return ConfigError(
            f"pattern.{label}.{key} = {entry.get(key)!r} is not allowed: expected {allowed}"
        )

    allowed_keys = {f for f in Pattern.__dataclass_fields__}
    for key in entry:
        if key not in allowed_keys:
            raise ConfigError(
                f"unknown key 'pattern.{label}.{key}'; allowed: {', '.join(sorted(allowed_keys))}"
            )
    for key in ("name", "scenario", "measure", "source", "use"):
        if not isinstance(entry.get(key), str) or not entry.get(key):
            raise fail(key, "a non-empty string")
    if entry["measure"] not in MEASURES:
        raise fail("measure", "one of " + ", ".join(MEASURES))
    if entry["use"] not in USES:
        raise fail("use", "one of " + ", ".join(USES))
    for key in ("target", "tolerance"):
        v = entry.get(key)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise fail(key, "a finite number")
    if entry["tolerance"] < 0:
        raise fail("tolerance", "a number >= 0")
    if not isinstance(entry.get("every_replicate", False), bool):
        raise fail("every_replicate", "true or false")
    if entry["scenario"] not in builtin_scenario_names():
        raise fail("scenario", "a built-in scenario: " + ", ".join(builtin_scenario_names()))
    params = entry.get("params", {})
    if not isinstance(params, Mapping):
        raise fail("params", "a table of the measure's parameters")
    accepted = inspect.signature(MEASURES[entry["measure"]]).parameters
    named = [n for n, q in accepted.items() if q.kind is inspect.Parameter.KEYWORD_ONLY]
    needed = [n for n in named if accepted[n].default is inspect.Parameter.empty]
    unknown = [k for k in params if k not in named]
    missing = [k for k in needed if k not in params]
    if unknown or missing:
        problem = f"unknown {unknown}" if unknown else f"missing {missing}"
        raise ConfigError(
            f"pattern.{label}.params: {problem}; measure {entry['measure']!r} takes "
            f"{', '.join(named)} (required: {', '.join(needed)})"
        )
    return Pattern(**{**entry, "params": dict(params)})


def load_patterns(path: str | Path | None = None) -> list[Pattern]:
    """Read the patterns file (default: the packaged ``data/patterns.toml``).

    Raises
    ------
    ConfigError
        Naming the pattern and key of the first invalid entry, or a repeated name.
    """
    if path is None:
        packaged = resources.files("migration_sim").joinpath("data/patterns.toml").read_text()
        data = tomllib.loads(packaged)
    else:
        data = read_toml_file(path, "patterns file")
    entries = data.get("pattern", [])
    if not entries:
        raise ConfigError(f"{path or 'patterns.toml'}: no [[pattern]] tables")
    patterns = [_pattern(e, i) for i, e in enumerate(entries)]
    names = [p.name for p in patterns]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"patterns: duplicate names {dup}; names must be unique")
    return patterns


# ------------------------------------------------------------------------------ running
def _run_one(task: tuple[Config, Any]) -> Results:
    cfg, seed = task
    model = MigrationModel(cfg, rng=seed)
    model.run(cfg.run.steps)
    return model.results


def scenario_configs(
    patterns: Sequence[Pattern],
    *,
    n_groups: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Config]:
    """The configuration of each scenario the patterns need (and the baseline).

    Fragmentation measures are switched off (``metrics.every = 0``: the patterns do not use
    them) and ``metrics.graph_steps`` holds the steps the group-level measures need.
    ``overrides`` (dotted keys) apply to every scenario, e.g. parameters under calibration.
    """
    names = [BASELINE, *dict.fromkeys(p.scenario for p in patterns)]
    out: dict[str, Config] = {}
    for name in dict.fromkeys(names):
        cfg = builtin_scenario(name)
        steps = sorted({s for p in patterns if p.scenario == name for s in p.graph_steps(cfg)})
        extra: dict[str, Any] = {"metrics.every": 0, "metrics.graph_steps": steps}
        if n_groups is not None:
            extra["groups.n_groups"] = n_groups
        out[name] = cfg.with_overrides({**(overrides or {}), **extra})
    return out


def run_patterns(
    patterns: Sequence[Pattern] | None = None,
    *,
    replicates: int = 5,
    seed: int = 2024,
    n_groups: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    workers: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the patterns' scenarios over replicates and evaluate every pattern.

    Replicate r of every scenario uses ``SeedSequence(seed).spawn(replicates)[r]``, so each
    measure compares a scenario with the baseline under common random numbers.

    Returns
    -------
    summary : pandas.DataFrame
        One row per pattern: name, scenario, measure, use, target, tolerance, lower, upper,
        mean, sd, min, max, n (replicates with a finite value), holds, source, note.
    values : pandas.DataFrame
        One row per pattern and replicate: name, replicate, value.
    """
    patterns = list(load_patterns() if patterns is None else patterns)
    configs = scenario_configs(patterns, n_groups=n_groups, overrides=overrides)
    results = run_replicates(configs, replicates, seed=seed, workers=workers)
    values = evaluate(patterns, results)
    return summarise(patterns, values), values


def run_replicates(
    configs: Mapping[str, Config], replicates: int, *, seed: int, workers: int = 1
) -> dict[tuple[str, int], Results]:
    """Run every configuration over ``replicates`` common seeds; key (scenario, replicate)."""
    seeds = replicate_seeds(seed, replicates)
    tasks = [(name, r) for name in configs for r in range(replicates)]
    jobs = [(configs[name], seeds[r]) for name, r in tasks]
    if workers > 1:
        # forkserver: forking a process whose numba threads use OpenMP is unsafe
        ctx = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            runs = list(pool.map(_run_one, jobs))
    else:
        runs = [_run_one(j) for j in jobs]
    return dict(zip(tasks, runs, strict=True))


def evaluate(
    patterns: Sequence[Pattern], results: Mapping[tuple[str, int], Results]
) -> pd.DataFrame:
    """Each pattern's measure on each replicate against the baseline with the same seed.

    Returns a table with columns name, replicate, value.
    """
    replicates = sorted({r for _, r in results})
    rows = [
        {
            "name": p.name,
            "replicate": r,
            "value": float(
                MEASURES[p.measure](results[(p.scenario, r)], results[(BASELINE, r)], **p.params)
            ),
        }
        for p in patterns
        for r in replicates
    ]
    return pd.DataFrame(rows, columns=["name", "replicate", "value"])


def summarise(patterns: Sequence[Pattern], values: pd.DataFrame) -> pd.DataFrame:
    """One row per pattern from the per-replicate values (see :func:`run_patterns`)."""
    rows = []
    for p in patterns:
        v = values.loc[values["name"] == p.name, "value"].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        mean = float(v.mean()) if v.size else math.nan
        inside = (
            (p.lower <= v) & (v <= p.upper) if p.every_replicate else [p.lower <= mean <= p.upper]
        )
        rows.append(
            {
                "name": p.name,
                "scenario": p.scenario,
                "measure": p.measure,
                "use": p.use,
                "target": p.target,
                "tolerance": p.tolerance,
                "lower": p.lower,
                "upper": p.upper,
                "mean": mean,
                "sd": float(v.std(ddof=1)) if v.size > 1 else math.nan,
                "min": float(v.min()) if v.size else math.nan,
                "max": float(v.max()) if v.size else math.nan,
                "n": int(v.size),
                "holds": bool(v.size and np.all(inside)),
                "source": p.source,
                "note": p.note,
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ report
def plot_pattern(row: Mapping[str, Any], values: np.ndarray) -> Any:
    """Figure of one pattern: values per seed, mean +- sd, and the target band."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0, 1.8))
    ax = fig.subplots()
    ax.axvspan(row["lower"], row["upper"], color="tab:green", alpha=0.2, label="target band")
    ax.axvline(row["target"], color="tab:green", lw=1.5, label="target")
    jitter = np.linspace(-0.15, 0.15, max(values.size, 1))[: values.size]
    ax.plot(values, jitter, "o", color="0.4", ms=4, label="replicates")
    if np.isfinite(row["mean"]):
        sd = row["sd"] if np.isfinite(row["sd"]) else 0.0
        colour = "tab:blue" if row["holds"] else "tab:red"
        ax.errorbar(
            row["mean"], 0.35, xerr=sd, fmt="D", color=colour, capsize=4, label="mean +- sd"
        )
    finite = values[np.isfinite(values)]
    lo = min(row["lower"], finite.min() if finite.size else row["lower"])
    hi = max(row["upper"], finite.max() if finite.size else row["upper"])
    pad = 0.1 * (hi - lo or 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(-0.5, 0.7)
    ax.set_yticks([])
    ax.set_title(f"{row['name']} ({row['use']})", fontsize=9)
    ax.set_xlabel(row["measure"], fontsize=8)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=6, loc="upper right", ncol=4, frameon=False)
    fig.tight_layout()
    return fig


def report_markdown(
    summary: pd.DataFrame, *, settings: Mapping[str, Any], image_dir: str = "img"
) -> str:
    """The validation report as markdown (table, then one figure and source per pattern)."""
    n_hold = int(summary["holds"].sum())
    lines = [
        "# Validation report",
        "",
        "Generated by `migration-sim validate-model`; do not edit by hand. Settings: "
        + ", ".join(f"{k} = {v}" for k, v in settings.items())
        + ".",
        "",
        f"**{n_hold} of {len(summary)} patterns hold.** A pattern holds when the mean over the "
        "replicates lies in the target band (target +- tolerance). Every measure is taken "
        "against the baseline run with the same seed (common random numbers). `use` says "
        "whether the pattern was a target of `migration-sim calibrate` or only validated.",
        "",
        "| pattern | scenario | use | target | band | simulated mean +- sd [min, max] | holds |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, r in summary.iterrows():
        lines.append(
            f"| {r['name']} | {r['scenario']} | {r['use']} | {r['target']:.3g} | "
            f"[{r['lower']:.3g}, {r['upper']:.3g}] | {r['mean']:.3f} +- {r['sd']:.3f} "
            f"[{r['min']:.3f}, {r['max']:.3f}] | {'yes' if r['holds'] else '**no**'} |"
        )
    lines.append("")
    for _, r in summary.iterrows():
        lines += [
            f"## {r['name']}",
            "",
            f"![{r['name']}]({image_dir}/validation_{r['name']}.png)",
            "",
            f"- measure: `{r['measure']}` on scenario `{r['scenario']}`; {r['note']}",
            f"- source: {r['source']}",
            "",
        ]
    return "\n".join(lines)


def write_report(
    summary: pd.DataFrame,
    values: pd.DataFrame,
    out: str | Path,
    *,
    settings: Mapping[str, Any],
    markdown_name: str = "validation.md",
    image_dir: str = "img",
) -> Path:
    """Write the markdown report, one PNG per pattern and the values as CSV into ``out``.

    Every file is written atomically. Returns the path of the markdown file.
    """
    from migration_sim.results.plots import save_figure

    out = Path(out)
    (out / image_dir).mkdir(parents=True, exist_ok=True)
    for _, r in summary.iterrows():
        v = values.loc[values["name"] == r["name"], "value"].to_numpy(dtype=float)
        save_figure(plot_pattern(r, v), out / image_dir / f"validation_{r['name']}.png")
    atomic_write_text(out / "validation_values.csv", values.to_csv(index=False))
    atomic_write_text(out / "validation_summary.csv", summary.to_csv(index=False))
    path = out / markdown_name
    atomic_write_text(path, report_markdown(summary, settings=settings, image_dir=image_dir))
    return path
