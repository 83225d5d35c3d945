"""The ``validate-model`` and ``calibrate`` subcommands of ``migration-sim``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from migration_sim.cli.args import nonneg_int, pos_int
from migration_sim.config.files import atomic_write_text

__all__ = ["add_subcommands", "cmd_validate_model", "cmd_calibrate"]


def add_subcommands(sub: Any) -> None:
    """Register ``validate-model`` and ``calibrate`` on the subparsers object ``sub``."""
    val = sub.add_parser(
        "validate-model",
        help="run the declared patterns and write the validation report",
        description="Run every pattern of the patterns file (default: the packaged "
        "data/patterns.toml) over replicates, each against the baseline with the same seed, "
        "and write a report folder: validation.md, one figure per pattern (img/), and the "
        "values as CSV. Exit code 0 when every pattern holds, 3 when some do not (the report "
        "is written either way), 2 for an invalid patterns file.",
    )
    val.add_argument("--out", default="validation", metavar="DIR", help="report folder")
    val.add_argument("--patterns", default=None, metavar="FILE", help="patterns TOML file")
    val.add_argument("--replicates", type=pos_int, default=5, metavar="N")
    val.add_argument("--seed", type=nonneg_int, default=2024, metavar="N", help="master seed")
    val.add_argument(
        "--groups", type=pos_int, default=None, metavar="N", help="population size of every run"
    )
    val.add_argument("--workers", type=pos_int, default=1, metavar="N", help="processes")
    val.set_defaults(func=cmd_validate_model)

    cal = sub.add_parser(
        "calibrate",
        help="calibrate the free parameters of a spec by the simulated method of moments",
        description="Run every grid point of a calibration spec on the patterns with use = "
        "'calibration' and write the scored grid (CSV) and the best values; see "
        "migration_sim.sweep.calibration for the spec format and the distance.",
    )
    cal.add_argument("spec", metavar="SPEC", help="calibration spec TOML file")
    cal.add_argument("--out", default="calibration", metavar="DIR", help="output folder")
    cal.add_argument("--patterns", default=None, metavar="FILE", help="patterns TOML file")
    cal.set_defaults(func=cmd_calibrate)


def cmd_validate_model(args: argparse.Namespace) -> int:
    """Run ``migration-sim validate-model``; return the exit code."""
    import pandas as pd

    from migration_sim.sweep.validation import load_patterns, run_patterns, write_report

    patterns = load_patterns(args.patterns)
    summary, values = run_patterns(
        patterns,
        replicates=args.replicates,
        seed=args.seed,
        n_groups=args.groups,
        workers=args.workers,
    )
    settings = {
        "replicates": args.replicates,
        "seed": args.seed,
        "groups": args.groups or "scenario default",
    }
    path = write_report(summary, values, args.out, settings=settings)
    with pd.option_context("display.width", 160):
        print(summary[["name", "target", "lower", "upper", "mean", "sd", "holds"]].to_string())
    print(f"report: {path}")
    return 0 if summary["holds"].all() else 3


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Run ``migration-sim calibrate``; return the exit code."""
    import pandas as pd

    from migration_sim.sweep.calibration import calibrate, load_spec
    from migration_sim.sweep.validation import load_patterns

    spec = load_spec(args.spec)
    patterns = load_patterns(args.patterns)
    best, table = calibrate(spec, patterns, log=lambda line: print(line, flush=True))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "grid.csv", table.to_csv(index=False))
    lines = [f'"{k}" = {v!r}' for k, v in best.items()]
    atomic_write_text(out / "best.toml", "\n".join(lines) + "\n")
    with pd.option_context("display.width", 160):
        print(table.to_string())
    print("best: " + ", ".join(f"{k} = {v}" for k, v in best.items()))
    print(f"results: {out}")
    return 0
