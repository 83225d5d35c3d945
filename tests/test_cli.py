"""The migration-sim command: run, compare, validate, atomic output and help."""

from __future__ import annotations

import argparse
import datetime
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from canonical import CANONICAL, EXPERIMENTS

import migration_sim
import migration_sim as ms
from migration_sim import cli
from migration_sim.config import load_scenario
from migration_sim.model.runner import run_scenario
from migration_sim.results import folder as output
from migration_sim.results.folder import COMPLETE, is_complete, write_run_files
from migration_sim.results.plots import plot_shares

SMALL = """
[run]
steps = 50
seed = 7

[groups]
n_groups = 400

[[shocks]]
kind = "salience"
name = "arrest_news"
start = 10
platforms = ["Telegram"]
magnitude = 0.6

[[shocks]]
kind = "disclosure_change"
name = "disclosure_policy"
start = 20
platform = "Telegram"
variant = "post_sep_2024"
"""

RUN_FILES = {
    "COMPLETE",
    "metadata.json",
    "scenario.toml",
    "timeseries.parquet",
    "timeseries.csv",
    "by_crime_type.parquet",
    "by_crime_type.csv",
    "flows.csv",
    "events.parquet",
    "events.csv",
    "shock_log.csv",
    "summary.csv",
    "shares.png",
    "flows.png",
}


@pytest.fixture
def small(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ------------------------------------------------------------------------------ run


def test_run_writes_every_promised_file_and_metadata(small, capsys):
    assert cli.main(["run", str(small), "--out", "out", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    out = small.parent / "out"
    assert RUN_FILES <= {p.name for p in out.iterdir()}
    if any(c in printed for c in ("effective_platforms_primary", "coverage_groups")):
        assert (out / "fragmentation.png").is_file()
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["scenario_source"] == str(small.resolve())
    assert meta["seed"] == 3
    assert meta["replicate_seeds"] == [{"entropy": 3, "spawn_key": []}]
    assert meta["package_version"] == migration_sim.__version__
    assert "git_commit" in meta
    assert meta["command"] == ["migration-sim", "run", str(small), "--out", "out", "--seed", "3"]
    assert meta["started"] <= meta["finished"]
    assert meta["shock_steps"] == [10, 20]
    assert set(meta["files"]) == {p.name for p in out.iterdir()}
    cfg = load_scenario(small)
    assert load_scenario(out / "scenario.toml") == cfg
    assert meta["scenario"] == cfg.to_dict()
    # the written tables are the run's results
    expected = run_scenario(cfg, seed=3)
    ts = pd.read_parquet(out / "timeseries.parquet")
    pd.testing.assert_frame_equal(ts, expected.timeseries, check_like=False)
    csv = pd.read_csv(out / "timeseries.csv", index_col="step")
    np.testing.assert_allclose(csv["share.Telegram"], expected.timeseries["share.Telegram"])
    flows = pd.read_csv(out / "flows.csv", index_col=0)
    np.testing.assert_array_equal(flows.to_numpy(), expected.flows.to_numpy())
    events = pd.read_parquet(out / "events.parquet")
    assert len(events) == len(expected.events)
    summary = pd.read_csv(out / "summary.csv", index_col=0)
    assert list(summary.columns) == [
        "start (day 0)",
        "before arrest_news (day 9)",
        "before disclosure_policy (day 19)",
        "end (day 50)",
    ]
    assert summary.loc["share.Telegram", "end (day 50)"] == pytest.approx(
        expected.timeseries["share.Telegram"].iloc[-1]
    )
    # the printed summary holds the same table and the folder
    assert "before arrest_news (day 9)" in printed and "share_multihoming" in printed
    assert printed.rstrip().endswith("results: out")


def test_fragmentation_figure_written_when_measures_exist(tmp_path, small):
    res = run_scenario(small, steps=5)
    res.metrics["effective_platforms_primary"] = np.linspace(2, 3, res.n_steps + 1)
    res.metrics["coverage_groups"] = np.full(res.n_steps + 1, 0.5)
    folder = tmp_path / "f"
    folder.mkdir()
    names = write_run_files(res, folder)
    assert "fragmentation.png" in names and (folder / "fragmentation.png").is_file()
    summary = pd.read_csv(folder / "summary.csv", index_col=0)
    assert summary.loc["effective_platforms_primary"].iloc[-1] == 3.0


def test_run_without_scenario_uses_the_builtin_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "--steps", "2", "--out", "d", "--quiet"]) == 0
    meta = json.loads((tmp_path / "d" / "metadata.json").read_text())
    assert meta["scenario_source"] == "builtin:telegram_2024"
    assert meta["steps"] == 2


def test_run_replicates_subfolders_and_combined_tables(small):
    assert cli.main(["run", str(small), "--replicates", "3", "--steps", "8", "--out", "r"]) == 0
    out = small.parent / "r"
    assert is_complete(out)
    for r in range(3):
        sub = out / f"rep_{r:03d}"
        assert (sub / "timeseries.parquet").is_file() and (sub / "events.csv").is_file()
    meta = json.loads((out / "metadata.json").read_text())
    spawned = np.random.SeedSequence(7).spawn(3)
    assert meta["replicate_seeds"] == [
        {"entropy": 7, "spawn_key": list(s.spawn_key)} for s in spawned
    ]
    table = pd.read_csv(out / "replicates.csv", index_col="replicate")
    assert list(table.index) == [0, 1, 2]
    combined = pd.read_parquet(out / "timeseries.parquet")
    assert combined.index.names == ["replicate", "step"]
    rep1 = pd.read_parquet(out / "rep_001" / "timeseries.parquet")
    np.testing.assert_allclose(combined.loc[1]["share.Telegram"], rep1["share.Telegram"])
    assert table.loc[1, "share.Telegram"] == pytest.approx(rep1["share.Telegram"].iloc[-1])
    assert (out / "shares.png").is_file()


def test_run_folder_loads_back_with_shocks_and_graphml(small):
    text = small.read_text() + "\n[metrics]\ngraph_steps = [0, 12]\n"
    small.write_text(text.replace("[run]\n", '[run]\nstart_date = "2024-07-25"\n'))
    assert cli.main(["run", str(small), "--steps", "12", "--out", "g", "--quiet"]) == 0
    out = small.parent / "g"
    graphs = sorted(p.name for p in out.glob("*.graphml"))
    assert graphs == ["graph_step_0.graphml", "graph_step_12.graphml"]
    loaded = ms.load_results(out)
    direct = run_scenario(load_scenario(small), seed=7, steps=12)
    pd.testing.assert_frame_equal(loaded.timeseries, direct.timeseries)
    pd.testing.assert_frame_equal(loaded.events, direct.events)
    pd.testing.assert_frame_equal(loaded.by_crime_type, direct.by_crime_type)
    assert loaded.shock_log == direct.shock_log and loaded.shock_steps == [10]
    assert loaded.start_date == datetime.date(2024, 7, 25)
    assert [t.get_text() for t in plot_shares(loaded).axes[0].texts] == ["1"]
    g = nx.read_graphml(out / "graph_step_12.graphml")
    expected = direct.communication_graph(12)
    assert (g.number_of_nodes(), g.number_of_edges()) == (
        expected.number_of_nodes(),
        expected.number_of_edges(),
    )
    assert cli.main(["run", str(small), "--steps", "3", "--replicates", "2", "--out", "rr"]) == 0
    reps = ms.load_results(small.parent / "rr")
    assert [r.seed["spawn_key"] for r in reps] == [[0], [1]]
    with pytest.raises(FileNotFoundError, match="results.npz"):
        ms.load_results(small.parent)  # a folder, but not a run's


def test_compare_replicates_reports_intervals_over_common_seeds(small, capsys):
    quiet = small.parent / "quiet.toml"
    quiet.write_text(SMALL.split("[[shocks]]")[0], encoding="utf-8")
    argv = ["compare", str(quiet), str(small), str(quiet), "--replicates", "3", "--steps", "25"]
    assert cli.main([*argv, "--seed", "5", "--out", "cr"]) == 0
    printed = capsys.readouterr().out
    assert "mean over 3 replicates" in printed and "distinguishable from zero" in printed
    out = small.parent / "cr"
    table = pd.read_csv(out / "comparison.csv", index_col="outcome")
    finals = pd.read_csv(out / "replicates.csv", index_col=["scenario", "replicate"])
    # paired differences over the same seeds, Student t interval with 2 degrees of freedom
    d = finals.loc["small", "share.Telegram"] - finals.loc["quiet", "share.Telegram"]
    half = 4.302652729911275 * d.std(ddof=1) / np.sqrt(3)
    row = table.loc["share.Telegram"]
    assert row["diff.small"] == pytest.approx(d.mean())
    assert (row["lo.small"], row["hi.small"]) == pytest.approx((d.mean() - half, d.mean() + half))
    assert row["distinguishable.small"] == (abs(d.mean()) > half)
    # the same scenario twice with common random numbers: identical, not distinguishable
    assert (table["diff.quiet_2"] == 0).all() and not table["distinguishable.quiet_2"].any()
    expected = run_scenario(small, seed=5, steps=25, replicates=3)
    assert finals.loc["small", "share.Telegram"].tolist() == pytest.approx(
        [r.timeseries["share.Telegram"].iloc[-1] for r in expected]
    )
    names = {p.name for p in out.iterdir()}
    assert {"differences.png", "shares_small.png", "shares_quiet.png"} <= names
    combined = pd.read_parquet(out / "timeseries.parquet")
    assert combined.index.names == ["scenario", "replicate", "step"]


def test_existing_output_needs_force(small, capsys):
    assert cli.main(["run", str(small), "--steps", "2", "--out", "taken", "--quiet"]) == 0
    (small.parent / "taken" / "stale.txt").write_text("x")
    assert cli.main(["run", str(small), "--steps", "2", "--out", "taken", "--quiet"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["run", str(small), "--steps", "2", "--out", "taken", "--force"]) == 0
    assert is_complete(small.parent / "taken")
    assert not (small.parent / "taken" / "stale.txt").exists()
    assert leftovers(small.parent) == []


# ------------------------------------------------------------------------------ atomicity


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_interrupted_writing_leaves_no_complete_looking_output(small, monkeypatch, error):
    calls = []

    def failing_save(fig, path, **kwargs):
        calls.append(path)
        raise error

    monkeypatch.setattr(output, "save_figure", failing_save)
    code = cli.main(["run", str(small), "--steps", "3", "--out", "o", "--quiet"])
    assert code == (130 if isinstance(error, KeyboardInterrupt) else 1)
    assert calls, "the failing writer was never reached"
    assert not (small.parent / "o").exists()
    assert leftovers(small.parent) == []


def test_killed_process_leaves_no_complete_looking_output(small):
    log = small.parent / "stderr.txt"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "migration_sim.cli.commands",
                "run",
                str(small),
                "--out",
                "k",
                "--quiet",
            ],
            cwd=small.parent,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        tmp = small.parent / f".k.tmp-{proc.pid}"
        deadline = time.monotonic() + 120
        try:
            while not tmp.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            started_writing = tmp.exists()
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert started_writing, (
        f"the run ended (exit {proc.returncode}) or timed out before it started writing: "
        + log.read_text()
    )
    assert not (small.parent / "k").exists()
    assert not (tmp / COMPLETE).exists()


# ------------------------------------------------------------------------------ validate


def test_validate_ok_for_every_experiment(capsys):
    files = [str(EXPERIMENTS / f"{name}.toml") for name in CANONICAL]
    assert cli.main(["validate", *files]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(files) and all(line.startswith("OK ") for line in lines)


def test_validate_takes_the_sweep_spec_among_the_experiments(small, capsys):
    files = sorted(str(p) for p in EXPERIMENTS.glob("*.toml"))
    assert any("sweep_telegram_sobol" in f for f in files)
    assert cli.main(["validate", *files]) == 0
    lines = capsys.readouterr().out.splitlines()
    sweep = [line for line in lines if "sweep_telegram_sobol" in line]
    assert sweep == [
        f"OK {EXPERIMENTS / 'sweep_telegram_sobol.toml'}: sweep spec, 4 parameters, sobol "
        "design, 384 points x 1 replicates = 384 runs"
    ]
    bad = small.parent / "bad_sweep.toml"
    bad.write_text(
        'outcomes = ["x = final:share.Telegram"]\n[parameters]\n"choice.betta" = '
        "{ values = [1.0, 2.0] }\n",
        encoding="utf-8",
    )
    assert cli.main(["validate", str(bad)]) == 2
    assert "choice.betta" in capsys.readouterr().err


def test_validate_error_exit_2_names_file_and_key(small, capsys):
    bad = small.parent / "bad.toml"
    bad.write_text("[choice]\nbeta = -1\n\n[groups]\nn_groups = 10\n", encoding="utf-8")
    assert cli.main(["validate", str(small), str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith(f"OK {small}")
    assert str(bad) in captured.err and "choice.beta = -1" in captured.err
    assert cli.main(["validate", "no_such_scenario"]) == 2


def test_run_invalid_scenario_exit_2(small, capsys):
    bad = small.parent / "bad.toml"
    bad.write_text("[groups]\nsize = 3\n", encoding="utf-8")
    assert cli.main(["run", str(bad), "--out", "x"]) == 2
    assert "groups.size" in capsys.readouterr().err
    assert not (small.parent / "x").exists()


def test_bad_arguments_exit_2(small):
    for argv in (["run", "--seed", "-1"], ["run", "--replicates", "0"], ["frobnicate"]):
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code == 2


# ------------------------------------------------------------------------------ compare


def test_compare_same_seed_one_column_per_scenario(small, capsys):
    other = small.parent / "quiet.toml"
    other.write_text(SMALL.split("[[shocks]]")[0], encoding="utf-8")
    argv = ["compare", str(other), str(small), str(other), "--seed", "4", "--out", "c"]
    assert cli.main(argv) == 0
    out = small.parent / "c"
    table = pd.read_csv(out / "comparison.csv", index_col="outcome")
    assert list(table.columns) == ["quiet", "small", "quiet_2", "diff.small", "diff.quiet_2"]
    # same seed for every scenario: the same scenario twice gives identical outcomes
    assert (table["diff.quiet_2"] == 0).all()
    assert table.loc["share.Telegram", "diff.small"] != 0
    expected = run_scenario(small, seed=4)
    assert table.loc["share.Telegram", "small"] == pytest.approx(
        expected.timeseries["share.Telegram"].iloc[-1]
    )
    assert table.loc["share.Telegram.csam", "diff.small"] == pytest.approx(
        table.loc["share.Telegram.csam", "small"] - table.loc["share.Telegram.csam", "quiet"]
    )
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["seed"] == 4
    assert {json.dumps(s) for s in meta["run_seeds"].values()} == {
        json.dumps({"entropy": 4, "spawn_key": []})
    }
    assert {p.name for p in (out / "scenarios").iterdir()} == {
        "quiet.toml",
        "small.toml",
        "quiet_2.toml",
    }
    combined = pd.read_parquet(out / "timeseries.parquet")
    assert list(combined.index.get_level_values("scenario").unique()) == [
        "quiet",
        "small",
        "quiet_2",
    ]
    assert (out / "shares.png").is_file() and is_complete(out)
    assert "diff.small" in capsys.readouterr().out


def test_compare_runs_the_ban_wave_pair_and_rejects_different_lengths(small, capsys):
    weak, strong = EXPERIMENTS / "ban_wave_weak.toml", EXPERIMENTS / "ban_wave_strong.toml"
    argv = ["compare", str(weak), str(strong), "--steps", "35", "--out", "bw", "--quiet"]
    assert cli.main(argv) == 0
    table = pd.read_csv(small.parent / "bw" / "comparison.csv", index_col="outcome")
    assert list(table.columns[:2]) == ["ban_wave_weak", "ban_wave_strong"]
    # small.toml runs 50 steps, the experiments 365: without --steps that is an error
    assert cli.main(["compare", str(small), str(weak), "--out", "z"]) == 2
    assert "--steps" in capsys.readouterr().err
    assert cli.main(["compare", str(small), "--out", "z"]) == 2


# ------------------------------------------------------------------------------ help


def test_every_option_has_help():
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert {"run", "compare", "validate", "sweep", "analyze"} <= set(subparsers.choices)
    for name in ("run", "compare", "validate"):
        sub = subparsers.choices[name]
        assert sub.description
        for action in sub._actions:
            assert action.help, f"{name}: {action.dest} has no help"
    run_help = subparsers.choices["run"].format_help()
    for option in ("--seed", "--steps", "--replicates", "--out", "--quiet", "--force"):
        assert option in run_help
    assert "telegram_2024" in run_help


def test_help_exits_0(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    assert "compare" in capsys.readouterr().out
