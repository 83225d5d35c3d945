"""Command-line wiring of ``migration-sim sweep`` and ``migration-sim analyze``.

The main ``migration-sim`` parser calls :func:`add_subcommands`; each subcommand sets
``func`` (``args.func(args) -> int`` exit code). ``python -m migration_sim.cli.sweep_commands``
runs the two subcommands on their own. Errors go through :mod:`migration_sim.cli.guard`.

Exit codes: 0 done (the sweep may hold failed runs, reported on stderr), 1 the sweep stopped
(a worker died, every run failed; rerun to resume) or a folder or environment problem, 2 an
invalid spec or request, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM); on 130 and 143
completed runs are saved and the workers are stopped.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from migration_sim.cli.guard import add_debug_option, run_cli
from migration_sim.config.errors import clip

__all__ = ["add_subcommands", "cmd_analyze", "cmd_sweep", "main"]


def add_subcommands(subparsers: Any) -> None:
    """Add the ``sweep`` and ``analyze`` subcommands.

    Parameters
    ----------
    subparsers
        The object returned by ``ArgumentParser.add_subparsers()``.
    """
    sweep = subparsers.add_parser(
        "sweep",
        help="run or resume a parameter sweep",
        description="Run a parameter sweep from a TOML spec, or resume it in the same folder: "
        "complete runs are skipped.",
    )
    sweep.add_argument("spec", type=Path, metavar="SWEEP.toml", help="sweep spec file")
    sweep.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: CPU count)"
    )
    sweep.add_argument(
        "--scheduler", metavar="ADDRESS", default=None, help="Dask scheduler address"
    )
    sweep.add_argument(
        "--out", type=Path, default=None, help="sweep folder (default: results/<spec name>)"
    )
    sweep.add_argument(
        "--force", action="store_true", help="replace a folder holding a different sweep"
    )
    sweep.add_argument("--retry-failed", action="store_true", help="rerun failed runs too")
    sweep.add_argument(
        "--allow-import",
        action="store_true",
        help="import the spec's model even if it is not an installed model (entry point "
        "group migration_sim.models); this runs code named by the spec, so trust it first",
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(
        func=cmd_sweep,
        interrupted="completed runs are saved; run the same command again to resume",
    )

    analyze = subparsers.add_parser(
        "analyze",
        help="analyse a sweep folder",
        description="Write replicate bands, sensitivity indices and figures for a sweep.",
    )
    analyze.add_argument("sweep_dir", type=Path, metavar="SWEEP_DIR", help="sweep folder")
    analyze.add_argument(
        "--out", type=Path, default=None, help="output folder (default: SWEEP_DIR/analysis)"
    )
    analyze.set_defaults(func=cmd_analyze)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run ``migration-sim sweep`` with parsed arguments; return the exit code."""
    from migration_sim.sweep.executors import run_sweep

    report = run_sweep(
        args.spec,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        force=args.force,
        retry_failed=args.retry_failed,
        allow_import=args.allow_import,
        progress=not args.quiet,
    )
    summary = report.summary()
    failed = summary[summary["status"] != "ok"] if not summary.empty else summary
    print(
        f"{report.n_runs} runs: {report.n_skipped} already done, {report.n_ok} ok and "
        f"{report.n_failed} failed now, in {report.elapsed:.1f} s -> {report.directory}"
    )
    if len(failed):
        first = clip(str(failed["error"].iloc[0]), 300)
        advice = (
            "runs are deterministic, so retrying fails the same way until the cause is fixed"
            if args.retry_failed
            else "fix the cause, then rerun with --retry-failed to run them again"
        )
        print(
            f"{len(failed)} run(s) failed (first error: {first}); every error and traceback "
            f"is in the summary (migration_sim.sweep.load_summary); {advice}",
            file=sys.stderr,
        )
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    """Run ``migration-sim analyze`` with parsed arguments; return the exit code."""
    from migration_sim.sweep.sensitivity import analyze

    report = analyze(args.sweep_dir, args.out)
    for name in ("sobol", "morris"):
        if name in report.tables:
            print(report.tables[name].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for path in report.files:
        print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` for the two subcommands alone and run one.

    Returns
    -------
    int
        The exit code.
    """
    parser = argparse.ArgumentParser(prog="migration-sim")
    sub = parser.add_subparsers(dest="command", required=True)
    add_subcommands(sub)
    add_debug_option(parser, sub)
    return run_cli(parser, argv)
