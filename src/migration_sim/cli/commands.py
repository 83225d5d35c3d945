"""The ``migration-sim`` command: run, compare and validate scenarios.

Subcommands ``run``, ``compare``, ``validate`` and ``dashboard`` live here; ``sweep`` and
``analyze`` come from :mod:`migration_sim.cli.sweep_commands`, ``validate-model`` and
``calibrate`` from :mod:`migration_sim.cli.validation_commands`. Exit codes: 0 success, 1 an
output or runtime problem (for example the output folder exists, permission denied, disk full),
2 an invalid scenario, input file or argument, 130 interrupted, 143 terminated. Every error is one
line on stderr (see :mod:`migration_sim.cli.guard`); ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from migration_sim.cli.args import nonneg_int, pos_int
from migration_sim.cli.guard import add_debug_option, guarded, run_cli
from migration_sim.config import (
    DEFAULT_SCENARIO,
    Config,
    ConfigError,
    builtin_scenario_names,
    resolve_scenario,
)
from migration_sim.config.errors import EnvironmentFailure, read_toml_file

if TYPE_CHECKING:
    import pandas as pd

# The heavy modules (the model, pandas, matplotlib) are imported inside the commands, so that
# ``migration-sim --help`` and argument errors answer at once.

__all__ = ["build_parser", "main"]


#: Shares below this at every reported time are left out of the printed summary.
_PRINT_MIN_SHARE = 0.005


class _Version(argparse.Action):
    """``--version``: reads the version only when asked (it lives beside pandas imports)."""

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: D102
        from migration_sim.results.provenance import package_version

        parser.exit(message=f"{parser.prog} {package_version()}\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the ``migration-sim`` argument parser with every subcommand.

    Returns
    -------
    argparse.ArgumentParser
    """
    builtins = ", ".join(builtin_scenario_names())
    scenario_help = f"a scenario TOML file, or the name of a built-in scenario ({builtins})"
    parser = argparse.ArgumentParser(
        prog="migration-sim",
        description="Agent-based simulation of criminal groups migrating between messaging "
        "platforms under enforcement shocks.",
        epilog="Exit codes: 0 success; 1 output or environment problem (folder exists, "
        "permission denied, disk full); 2 invalid scenario, input file or arguments; 130 "
        "interrupted (Ctrl-C); 143 terminated (SIGTERM). Errors are one line; --debug adds the "
        "traceback. Scenario format and results layout: docs/scenarios.md.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run a scenario and write a results folder",
        description="Run a scenario (once, or as replicates) and write a results folder: time "
        "series (parquet, CSV), flow matrix, by-crime-type table, events log, summary, figures, "
        "the resolved scenario.toml and metadata.json. The folder is built in a hidden "
        "temporary sibling and renamed into place when complete.",
    )
    run.add_argument(
        "scenario",
        nargs="?",
        default=None,
        metavar="SCENARIO",
        help=f"{scenario_help}; default: the built-in {DEFAULT_SCENARIO}",
    )
    run.add_argument(
        "--seed",
        type=nonneg_int,
        default=None,
        metavar="N",
        help="master seed (default: the scenario's run.seed); replicates use "
        "numpy.random.SeedSequence(N).spawn(R)",
    )
    run.add_argument(
        "--steps",
        type=nonneg_int,
        default=None,
        metavar="N",
        help="number of steps to run (default: the scenario's run.steps)",
    )
    run.add_argument(
        "--replicates",
        type=pos_int,
        default=None,
        metavar="R",
        help="number of replicates (default: the scenario's run.replicates). With R > 1 each "
        "replicate gets a subfolder rep_000, rep_001, ... and the top level holds combined "
        "tables; with R = 1 the run uses the seed itself",
    )
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="results folder to create (default: results/<scenario>-<YYYYmmdd-HHMMSS>)",
    )
    run.add_argument(
        "--force", action="store_true", help="replace the results folder if it already exists"
    )
    run.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar and no summary table (only the results folder is printed)",
    )
    run.set_defaults(func=cmd_run)

    compare = sub.add_parser(
        "compare",
        help="run scenarios with the same seed and compare their outcomes",
        description="Run two or more scenarios with the same seed (common random numbers), "
        "then write comparison.csv (final outcomes, one column per scenario, and differences "
        "to the first scenario), the combined time series and a figure of shares over time "
        "with one panel per scenario.",
    )
    compare.add_argument(
        "scenarios",
        nargs="+",
        metavar="SCENARIO",
        help=f"two or more scenarios, the reference first; each is {scenario_help}",
    )
    compare.add_argument(
        "--seed",
        type=nonneg_int,
        default=None,
        metavar="N",
        help="seed used for every scenario (default: the first scenario's run.seed)",
    )
    compare.add_argument(
        "--steps",
        type=nonneg_int,
        default=None,
        metavar="N",
        help="steps to run in every scenario (default: their run.steps, which must agree)",
    )
    compare.add_argument(
        "--replicates",
        type=pos_int,
        default=1,
        metavar="R",
        help="replicates per scenario (default 1). With R >= 2 replicate r of every scenario "
        "uses seed SeedSequence(N).spawn(R)[r] (common random numbers), comparison.csv holds "
        "the mean difference to the first scenario with a 95%% interval over the seeds, and "
        "the printed table says which differences are distinguishable from zero",
    )
    compare.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="comparison folder to create (default: "
        "results/compare-<A>-vs-<B>...-<YYYYmmdd-HHMMSS>)",
    )
    compare.add_argument(
        "--force", action="store_true", help="replace the comparison folder if it exists"
    )
    compare.add_argument(
        "--quiet", action="store_true", help="no progress bar and no printed table"
    )
    compare.set_defaults(func=cmd_compare)

    validate = sub.add_parser(
        "validate",
        help="check scenario files without running them",
        description="Load and validate scenario files without running them. Prints OK for "
        "each valid file; prints the error (file, key, value and what is allowed) on stderr "
        "and exits with code 2 if any is invalid. A sweep spec (a file with [parameters] and "
        "outcomes, such as experiments/sweep_telegram_sobol.toml) is validated as a sweep "
        "spec, its base scenario and parameter paths included, so experiments/*.toml works.",
    )
    validate.add_argument(
        "scenarios", nargs="+", metavar="SCENARIO", help=f"one or more of: {scenario_help}"
    )
    validate.set_defaults(func=cmd_validate)

    dashboard = sub.add_parser(
        "dashboard",
        help="open the interactive dashboard in the browser",
        description="Serve the SolaraViz dashboard (needs the 'dashboard' extra: pip install "
        "-e '.[dashboard]') and print its address. Choose a scenario, move the sliders, press "
        "Reset, then Step or play. Stop it with Ctrl-C.",
    )
    dashboard.add_argument(
        "scenario",
        nargs="?",
        default=DEFAULT_SCENARIO,
        help=f"{scenario_help}; default %(default)s",
    )
    dashboard.add_argument(
        "--groups", type=pos_int, default=1000, help="groups to start with (default %(default)s)"
    )
    dashboard.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default %(default)s)"
    )
    dashboard.add_argument(
        "--port",
        type=nonneg_int,
        default=8765,
        help="port (default %(default)s; 0: any free port)",
    )
    dashboard.set_defaults(func=cmd_dashboard)

    from migration_sim.cli.validation_commands import add_subcommands as add_validation

    add_validation(sub)
    try:
        from migration_sim.cli.sweep_commands import add_subcommands
    except ModuleNotFoundError as exc:
        if exc.name != "migration_sim.cli.sweep_commands":
            raise
    else:
        add_subcommands(sub)
    add_debug_option(parser, sub)
    return parser


# ---------------------------------------------------------------------------- helpers


def _source(arg: str | None, label: str) -> str:
    if arg is not None and Path(arg).is_file():
        return str(Path(arg).resolve())
    return f"builtin:{label}"


def _warn_late_shocks(cfg: Config, label: str) -> None:
    from migration_sim.model.shocks import build_shocks

    for shock in build_shocks(cfg):
        if shock.start > cfg.run.steps:
            print(
                f"migration-sim: warning: {label}: shock {shock.name!r} starts at step "
                f"{shock.start}, after the last step {cfg.run.steps}; it will not act",
                file=sys.stderr,
            )


def _check_inputs(cfg: Config, scenario: str) -> None:
    """Check what a run of ``cfg`` reads; errors start with the scenario they come from."""
    from migration_sim.model.inputs import check_run_inputs

    try:
        check_run_inputs(cfg)
    except ConfigError as exc:
        raise type(exc)(f"{scenario}: {exc}") from None


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%d-%H%M%S")


def _number(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 and float(v).is_integer() else f"{v:.3f}"


def _print_table(table: pd.DataFrame) -> None:
    share_rows = [i for i in table.index if str(i).startswith("share.") and str(i).count(".") == 1]
    hidden = [i for i in share_rows if table.loc[i].abs().max() < _PRINT_MIN_SHARE]
    shown = table.drop(index=hidden)
    print(shown.to_string(float_format=_number))
    if hidden:
        names = ", ".join(str(i).removeprefix("share.") for i in hidden)
        print(f"(primary share below {_PRINT_MIN_SHARE:.1%} throughout, not shown: {names})")


def _command_line(argv: Sequence[str] | None) -> list[str]:
    return ["migration-sim", *(sys.argv[1:] if argv is None else argv)]


# ---------------------------------------------------------------------------- subcommands


def cmd_run(args: argparse.Namespace) -> int:
    """Run ``migration-sim run`` with parsed arguments; return the exit code."""
    from migration_sim.model.runner import run_scenario
    from migration_sim.results.core import Results
    from migration_sim.results.folder import (
        check_destination,
        provenance,
        summary_table,
        write_run,
    )

    started = datetime.now().astimezone()
    cfg, label = resolve_scenario(args.scenario)
    if args.steps is not None:
        cfg = cfg.with_overrides({"run.steps": args.steps})
    _check_inputs(cfg, args.scenario or label)
    seed = cfg.run.seed if args.seed is None else args.seed
    n_rep = cfg.run.replicates if args.replicates is None else args.replicates
    out = args.out or Path("results") / f"{label}-{_stamp(started)}"
    check_destination(out, force=args.force)
    _warn_late_shocks(cfg, label)
    runs = run_scenario(
        cfg,
        seed=seed,
        replicates=None if n_rep == 1 else n_rep,
        progress=False if args.quiet else label,
    )
    run_list = [runs] if isinstance(runs, Results) else runs
    meta = provenance(
        cfg,
        source=_source(args.scenario, label),
        seed=seed,
        runs=run_list,
        started=started,
        finished=datetime.now().astimezone(),
        command=args.command_line,
    )
    write_run(out, runs, metadata=meta, config=cfg, force=args.force)
    if not args.quiet:
        tables = [summary_table(r) for r in run_list]
        title = f"{label}: {cfg.groups.n_groups} groups, {cfg.run.steps} {cfg.run.step_unit}s"
        if len(tables) > 1:
            title += f", mean over {len(tables)} replicates (seed {seed})"
        else:
            title += f", seed {seed}"
        print(title)
        _print_table(sum(tables[1:], start=tables[0]) / len(tables))
    print(f"results: {out}")
    return 0


def _unique_labels(labels: Sequence[str]) -> list[str]:
    out: list[str] = []
    for label in labels:
        candidate, i = label, 2
        while candidate in out:
            candidate, i = f"{label}_{i}", i + 1
        out.append(candidate)
    return out


def cmd_compare(args: argparse.Namespace) -> int:
    """Run ``migration-sim compare`` with parsed arguments; return the exit code."""
    from migration_sim.model.runner import run_scenario
    from migration_sim.results.core import Results
    from migration_sim.results.folder import (
        check_destination,
        comparison_table,
        environment,
        replicate_comparison,
        write_comparison,
    )

    started = datetime.now().astimezone()
    if len(args.scenarios) < 2:
        raise ConfigError("give at least two scenarios to compare")
    resolved = [resolve_scenario(s) for s in args.scenarios]
    labels = _unique_labels([label for _, label in resolved])
    configs = dict(zip(labels, (cfg for cfg, _ in resolved), strict=True))
    if args.steps is None:
        steps = {label: cfg.run.steps for label, cfg in configs.items()}
        if len(set(steps.values())) > 1:
            raise ConfigError(
                f"run.steps differ between the scenarios ({steps}); pass --steps N to run "
                "them all for the same number of steps"
            )
    else:
        configs = {k: c.with_overrides({"run.steps": args.steps}) for k, c in configs.items()}
    for arg, cfg in zip(args.scenarios, configs.values(), strict=True):
        _check_inputs(cfg, arg)
    seed = resolved[0][0].run.seed if args.seed is None else args.seed
    out = args.out or Path("results") / ("compare-" + "-vs-".join(labels) + f"-{_stamp(started)}")
    check_destination(out, force=args.force)
    for label, cfg in configs.items():
        _warn_late_shocks(cfg, label)
    reps = None if args.replicates == 1 else args.replicates
    runs = {
        label: run_scenario(
            cfg, seed=seed, replicates=reps, progress=False if args.quiet else label
        )
        for label, cfg in configs.items()
    }
    finished = datetime.now().astimezone()
    meta = {
        "scenario_sources": {
            label: _source(arg, lab)
            for label, arg, (_, lab) in zip(labels, args.scenarios, resolved, strict=True)
        },
        "seed": seed,
        "common_random_numbers": True,
        "replicates": args.replicates,
        "run_seeds": {
            label: res.seed if isinstance(res, Results) else [r.seed for r in res]
            for label, res in runs.items()
        },
        "steps": cfg.run.steps,
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "elapsed_seconds": round((finished - started).total_seconds(), 3),
        "command": args.command_line,
        **environment(),
    }
    write_comparison(out, runs, configs=configs, metadata=meta, force=args.force)
    if not args.quiet:
        if reps is None:
            table = comparison_table(runs)  # type: ignore[arg-type]
            print(f"final outcomes, seed {seed} for every scenario (diff = scenario - {labels[0]})")
            print("one seed shows one history; use --replicates R to see which differences hold")
            _print_table(table.loc[_compare_rows(table)])
        else:
            _print_replicate_table(replicate_comparison(runs), labels, seed, reps)  # type: ignore[arg-type]
    print(f"results: {out}")
    return 0


def _compare_rows(table: pd.DataFrame) -> list[str]:
    from migration_sim.results.plots import FRAGMENTATION_MEASURES

    return [
        str(i)
        for i in table.index
        if (str(i).startswith("share.") and str(i).count(".") == 1)
        or i in ("share_multihoming", "mean_platforms", *FRAGMENTATION_MEASURES)
    ]


def _print_replicate_table(table: pd.DataFrame, labels: list[str], seed: int, n: int) -> None:
    import pandas as pd

    rows = [
        r
        for r in _compare_rows(table)
        if table.loc[r, [f"mean.{x}" for x in labels]].abs().max() >= _PRINT_MIN_SHARE
        or not r.startswith("share.")
    ]
    print(
        f"final outcomes: mean over {n} replicates (seeds SeedSequence({seed}).spawn({n}), "
        f"the same for every scenario); diff = scenario - {labels[0]}, paired by seed, with a "
        "95% interval; * = interval excludes 0 (distinguishable from zero)"
    )
    shown = pd.DataFrame(index=rows)
    for label in labels:
        shown[label] = table.loc[rows, f"mean.{label}"].map(_number)
    for label in labels[1:]:
        shown[f"diff {label}"] = [
            f"{table.loc[r, f'diff.{label}']:+.3f} [{table.loc[r, f'lo.{label}']:+.3f}, "
            f"{table.loc[r, f'hi.{label}']:+.3f}]"
            + (" *" if table.loc[r, f"distinguishable.{label}"] else "")
            for r in rows
        ]
    print(shown.to_string())


def _is_sweep_spec(path: str) -> bool:
    """True for a TOML file with the ``parameters`` and ``outcomes`` of a sweep spec."""
    if not Path(path).is_file():
        return False
    try:
        data = read_toml_file(path, "scenario file")
    except ConfigError:
        return False  # the scenario loader reports it
    return "parameters" in data and "outcomes" in data


def _check_sweep_spec(path: str) -> None:
    """Validate a sweep spec with its base scenario and parameter paths; print OK."""
    from migration_sim.config import default_config, load_scenario
    from migration_sim.sweep.spec import check_against_config, load_sweep_spec

    spec = load_sweep_spec(path)
    if spec.model == "migration_sim:run":  # another model has its own schema
        base = default_config() if spec.scenario is None else load_scenario(spec.scenario)
        check_against_config(spec, base)
    print(
        f"OK {path}: sweep spec, {len(spec.parameters)} parameters, "
        f"{spec.design.method} design, {spec.n_points} points x {spec.replicates} "
        f"replicates = {spec.n_runs} runs"
    )


def cmd_validate(args: argparse.Namespace) -> int:
    """Run ``migration-sim validate`` with parsed arguments; return the exit code.

    Each scenario is checked as a run would read it: the file, its catalogues, its network
    file (parsed and matched against ``groups.n_groups``) and the memory the run needs. A file
    holding ``parameters`` and ``outcomes`` is validated as a sweep spec (with its base scenario
    and parameter paths).
    """
    code = 0
    for scenario in args.scenarios:

        def check(scenario: str = scenario) -> int:
            if _is_sweep_spec(scenario):
                _check_sweep_spec(scenario)
                return 0
            cfg, _ = resolve_scenario(scenario)
            _check_inputs(cfg, scenario)
            print(
                f"OK {scenario}: {len(cfg.platforms)} platforms, {len(cfg.crime_types)} crime "
                f"types, {len(cfg.shocks)} shocks, {cfg.run.steps} {cfg.run.step_unit}s"
            )
            return 0

        code = max(code, guarded("validate", check, debug=args.debug))
    return code


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve the dashboard: this process becomes ``solara run migration_sim.cli.dashboard``."""
    resolve_scenario(args.scenario)  # an unknown scenario fails here, with exit code 2
    if importlib.util.find_spec("solara") is None:
        raise EnvironmentFailure("solara is not installed: pip install -e '.[dashboard]'")
    env = {
        **os.environ,
        "MIGRATION_SIM_DASHBOARD_SCENARIO": str(args.scenario),
        "MIGRATION_SIM_DASHBOARD_GROUPS": str(args.groups),
    }
    command = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "migration_sim.cli.dashboard",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
        "--no-open",
        "--no-check-version",
    ]
    sys.stdout.flush()
    sys.stderr.flush()
    # become the server (no child process left behind): Ctrl-C and signals reach it directly
    os.execve(sys.executable, command, env)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``migration-sim``.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code (see the parser's epilog).
    """
    parser = build_parser()
    parser.set_defaults(command_line=_command_line(argv))
    return run_cli(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
