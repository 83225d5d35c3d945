"""Tests of the sweep machinery: specs, designs, outcomes, seeds, runner, store, resume, CLI."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sweep_fakes import fake_run, slow_run

from migration_sim.cli.sweep_commands import main as cli_main
from migration_sim.sweep.executors import (
    Design,
    Parameter,
    SweepError,
    SweepSpec,
    SweepSpecError,
    load_summary,
    load_sweep_spec,
    load_timeseries,
    reproduce_run,
    run_seed,
    run_sweep,
)
from migration_sim.sweep.outcomes import OutcomeError, evaluate_outcomes, parse_outcome
from migration_sim.sweep.spec import check_against_config
from migration_sim.sweep.store import SpecMismatchError, SweepStore, SweepStoreError

TESTS = Path(__file__).parent


def grid_spec(**kw) -> SweepSpec:
    args = {
        "parameters": [Parameter("a", values=(0.0, 1.0, 2.0)), Parameter("b", values=(1, 2))],
        "outcomes": ["final:y", "tail = mean_after:shock:y", "at:3:n", "std:z"],
        "replicates": 3,
        "seed": 11,
    }
    return SweepSpec(**(args | kw))


FAILING = [Parameter("a", values=(0.0, 1.0)), Parameter("fail", values=(False, True))]


def outcomes_only(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.drop(columns=["run_time"])


def expected_row(spec: SweepSpec, run_id: int) -> dict:
    """What the summary must hold for a run, computed directly from the fake."""
    point = spec.sample().iloc[run_id // spec.replicates]
    params = {p.path: point[p.path].item() for p in spec.parameters}
    res = fake_run({**spec.fixed, **params}, seed=run_seed(spec.seed, run_id), steps=spec.steps)
    return params | evaluate_outcomes(spec.parsed_outcomes, res)


# ---------------------------------------------------------------------------- outcomes
def test_outcome_grammar_on_known_series():
    ts = pd.DataFrame({"x": [1.0, 3.0, 2.0, 6.0, 4.0]}, index=pd.Index(range(5), name="step"))
    cases = {
        "final:x": 4.0,
        "initial:x": 1.0,
        "mean:x": 3.2,
        "median:x": 3.0,
        "min:x": 1.0,
        "max:x": 6.0,
        "sum:x": 16.0,
        "std:x": float(np.std([1, 3, 2, 6, 4])),
        "change:x": 3.0,
        "mean_after:2:x": 5.0,
        "mean_from:2:x": 4.0,
        "sum_before:2:x": 4.0,
        "max_until:2:x": 3.0,
        "final_before:3:x": 2.0,
        "change_from:shock:x": 2.0,
        "at:shock2:x": 6.0,
        "at:0:x": 1.0,
    }
    for expr, want in cases.items():
        assert parse_outcome(expr).evaluate(ts, shock_steps=[2, 3]) == pytest.approx(want), expr


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("final", "expected REDUCER:COLUMN"),
        ("avg:x", "unknown reducer 'avg'"),
        ("mean_during:3:x", "unknown window"),
        ("at_after:3:x", "unknown window"),
        ("mean_after:x", "STEP"),
        ("mean_after:-1:x", "got step '-1'"),
        ("at:shock0:x", "count from 1"),
        ("", "non-empty"),
    ],
)
def test_outcome_grammar_rejects_malformed(expr, fragment):
    with pytest.raises(OutcomeError, match=fragment):
        parse_outcome(expr)


def test_outcome_errors_at_evaluation_name_the_problem():
    ts = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index([0, 1], name="step"))
    with pytest.raises(OutcomeError, match="column 'y' is not known. Known: x"):
        parse_outcome("final:y").evaluate(ts)
    with pytest.raises(OutcomeError, match="no steps after step 1"):
        parse_outcome("mean_after:1:x").evaluate(ts)
    with pytest.raises(OutcomeError, match="'shock' but the run has 0 shock"):
        parse_outcome("mean_after:shock:x").evaluate(ts)
    with pytest.raises(OutcomeError, match="step 7 is not in the time series"):
        parse_outcome("at:7:x").evaluate(ts)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=40),
    st.integers(0, 45),
)
def test_outcome_windows_partition_the_run(values, step):
    """sum_before:s + sum_from:s == sum, and the windows' sizes add up."""
    ts = pd.DataFrame({"x": values}, index=pd.Index(range(len(values)), name="step"))
    total = parse_outcome("sum:x").evaluate(ts)
    parts = []
    for expr in (f"sum_before:{step}:x", f"sum_from:{step}:x"):
        try:
            parts.append(parse_outcome(expr).evaluate(ts))
        except OutcomeError:
            parts.append(0.0)  # empty window
    assert sum(parts) == pytest.approx(total, rel=1e-9, abs=1e-3)


# ---------------------------------------------------------------------------- spec
def write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_toml_spec_round_trips_and_flattens_nested_keys(tmp_path):
    path = write(
        tmp_path,
        """
        replicates = 2
        seed = 9
        outcomes = ["final:y"]
        [fixed]
        "groups.n_groups" = 200
        [design]
        method = "lhs"
        n = 8
        [parameters]
        "choice.beta" = { range = [0.5, 4.0] }
        network.mean_degree = { range = [4, 16], integer = true }
        "platforms.Signal.disclosure" = [0.0, 0.5]
        """,
    )
    spec = load_sweep_spec(path)
    assert spec.name == "sweep"
    assert [p.path for p in spec.parameters] == [
        "choice.beta",
        "network.mean_degree",
        "platforms.Signal.disclosure",
    ]
    assert spec.parameters[2].values == (0.0, 0.5)
    assert spec.fixed == {"groups.n_groups": 200}
    assert SweepSpec.from_dict(spec.to_dict()) == spec
    assert spec.n_runs == 16


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ({"colour": 1}, "unknown sweep spec key\\(s\\) \\['colour'\\]"),
        ({"parameters": {"a": {"range": [3, 1]}}}, "range = \\[3, 1\\] is empty"),
        ({"parameters": {"a": {"range": [1, 1]}}}, "is empty"),
        ({"parameters": {"a": {"values": []}}}, "'a'.values is empty"),
        ({"parameters": {"a": {"values": [1, "x"]}}}, "mixes types"),
        ({"parameters": {"a": {"range": [0, 1], "step": 2}}}, "unknown key\\(s\\) \\['step'\\]"),
        ({"parameters": {}}, "parameters is empty"),
        (
            {"design": {"method": "grid"}, "parameters": {"a": {"range": [0, 1]}}},
            "'a' has range \\[0, 1\\] but design 'grid' needs 'values'",
        ),
        (
            {"design": {"method": "sobol", "n": 8}, "parameters": {"a": [1, 2], "b": [3, 4]}},
            "'a' has values \\[1, 2\\] but design 'sobol' needs a numeric 'range'",
        ),
        ({"design": {"method": "sobol", "n": 12}}, "design.n = 12 .*power of two"),
        ({"design": {"method": "lhs"}}, "design.n = None is not allowed for method 'lhs'"),
        ({"design": {"method": "factorial"}}, "design.method = 'factorial'"),
        ({"outcomes": ["final:y", "final:y"]}, "clash"),
        ({"outcomes": ["status = final:y"]}, "clash"),
        ({"outcomes": ["avg:y"]}, "outcomes: outcome 'avg:y': unknown reducer"),
        ({"replicates": 0}, "replicates = 0: expected an integer >= 1"),
        ({"seed": -1}, "seed = -1"),
        ({"fixed": {"a": 1}}, "fixed: \\['a'\\] are also swept"),
        ({"parameters": {"a": {"range": [0, 2], "log": True}}}, "log range needs low > 0"),
        ({"model": "nocolon"}, "model = 'nocolon'"),
    ],
)
def test_invalid_specs_name_field_and_value(tmp_path, table, fragment):
    base = {"outcomes": ["final:y"], "parameters": {"a": {"range": [0.0, 1.0]}}}
    base |= {"design": {"method": "random", "n": 4}}
    path = write(tmp_path, "")
    import tomli_w

    path.write_text(tomli_w.dumps(base | table))
    with pytest.raises(SweepSpecError, match=fragment) as info:
        load_sweep_spec(path)
    assert str(path) in str(info.value)


def test_design_sizes_and_sample_properties():
    lhs = SweepSpec(
        parameters=[Parameter("a", range=(0.0, 10.0)), Parameter("k", range=(1, 4), integer=True)],
        outcomes=["final:y"],
        design=Design("lhs", n=40),
        seed=3,
    ).sample()
    # Latin hypercube: each of the 40 strata of 'a' holds exactly one point.
    assert sorted(np.floor(lhs["a"] / 0.25).astype(int)) == list(range(40))
    # integer range: integers only, each of 1..4 equally often (10 strata each).
    assert lhs["k"].dtype == np.int64
    assert lhs["k"].value_counts().sort_index().tolist() == [10, 10, 10, 10]

    params = [Parameter("a", range=(0.1, 10.0), log=True), Parameter("b", range=(-1.0, 1.0))]
    sobol = SweepSpec(parameters=params, outcomes=["final:y"], design=Design("sobol", n=16))
    assert sobol.n_points == 16 * (2 + 2) == len(sobol.sample())
    s = sobol.sample()
    assert s["a"].between(0.1, 10.0).all()
    assert np.allclose(np.log(s["a"]), s["sample:a"])
    second = SweepSpec(
        parameters=params, outcomes=["final:y"], design=Design("sobol", n=16, second_order=True)
    )
    assert second.n_points == 16 * (2 * 2 + 2) == len(second.sample())
    morris = SweepSpec(parameters=params, outcomes=["final:y"], design=Design("morris", n=5))
    assert morris.n_points == 5 * 3 == len(morris.sample())

    cat = [Parameter("c", values=("x", "y", "z")), Parameter("b", range=(0.0, 1.0))]
    r1 = SweepSpec(parameters=cat, outcomes=["final:y"], design=Design("random", n=300), seed=1)
    r2 = SweepSpec(parameters=cat, outcomes=["final:y"], design=Design("random", n=300), seed=2)
    assert r1.sample().equals(r1.sample())
    assert not r1.sample().equals(r2.sample())
    assert set(r1.sample()["c"]) == {"x", "y", "z"}


def test_check_against_config_rejects_unknown_paths_and_bad_values():
    from migration_sim.config import default_config

    base = default_config()
    ok = SweepSpec(
        parameters=[
            Parameter("choice.beta", range=(0.5, 4.0)),
            Parameter("platforms.Signal.disclosure", values=(0.0, 0.3)),
            Parameter("network.mean_degree", range=(4, 12), integer=True),
        ],
        outcomes=["final:n_active"],
        design=Design("random", n=2),
    )
    check_against_config(ok, base)
    bad_path = SweepSpec(parameters=[Parameter("choice.betta", values=(1.0,))], outcomes=["max:y"])
    with pytest.raises(SweepSpecError, match="parameters.'choice.betta'.*betta"):
        check_against_config(bad_path, base)
    bad_value = SweepSpec(
        parameters=[Parameter("platforms.Signal.disclosure", range=(0.5, 1.5))],
        outcomes=["final:y"],
        design=Design("random", n=2),
    )
    with pytest.raises(SweepSpecError, match="value 1.5 .*disclosure = 1.5 is not allowed"):
        check_against_config(bad_value, base)


# ---------------------------------------------------------------------------- seeds
def test_seeds_follow_seedsequence_spawn_by_run_index(tmp_path):
    spec = grid_spec(replicates=2)
    children = np.random.SeedSequence(spec.seed).spawn(spec.n_runs)
    for i in (0, 5, spec.n_runs - 1):
        assert (run_seed(spec.seed, i).generate_state(4) == children[i].generate_state(4)).all()
    run_sweep(spec, tmp_path / "s", run_fn=fake_run, workers=1, progress=False)
    summary = load_summary(tmp_path / "s")
    assert summary["seed_spawn_key"].tolist() == list(range(spec.n_runs))
    crn = grid_spec(replicates=2, common_random_numbers=True)
    run_sweep(crn, tmp_path / "crn", run_fn=fake_run, workers=1, progress=False)
    crn_sum = load_summary(tmp_path / "crn")
    assert crn_sum["seed_spawn_key"].tolist() == [0, 1] * crn.n_points
    # common random numbers: z (pure noise) is identical across points for the same replicate
    z = crn_sum.groupby("replicate")["std:z"].nunique()
    assert z.tolist() == [1, 1]


# ---------------------------------------------------------------------------- runner + store
def test_summary_holds_every_run_with_direct_results(tmp_path):
    spec = grid_spec(save_timeseries=["y"])
    report = run_sweep(spec, tmp_path / "s", run_fn=fake_run, workers=1, progress=False)
    assert (report.n_runs, report.n_ok, report.n_failed, report.n_skipped) == (18, 18, 0, 0)
    summary = load_summary(tmp_path / "s")
    assert summary.index.tolist() == list(range(18))
    assert (summary["status"] == "ok").all() and summary["error"].isna().all()
    for run_id in (0, 7, 17):
        row = summary.loc[run_id]
        for key, value in expected_row(spec, run_id).items():
            assert row[key] == value, (run_id, key)
    ts = load_timeseries(tmp_path / "s", run_ids=[4])
    direct = fake_run({"a": 0.0, "b": 2}, seed=run_seed(spec.seed, 4)).timeseries
    assert ts.loc[4]["y"].equals(direct["y"])
    assert list(ts.columns) == ["y"]
    meta = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert meta["model"] == "sweep_fakes:fake_run"
    assert meta["package_version"] == "0.1.0"
    assert "git_commit" in meta and meta["spec"] == spec.to_dict()


def test_failing_runs_are_recorded_and_the_sweep_goes_on(tmp_path):
    spec = grid_spec(parameters=FAILING)
    report = run_sweep(spec, tmp_path / "s", run_fn=fake_run, workers=1, progress=False)
    assert (report.n_ok, report.n_failed) == (6, 6)
    summary = load_summary(tmp_path / "s")
    failed = summary[summary["fail"]]
    assert (failed["status"] == "failed").all()
    assert failed["error"].str.startswith("ValueError: fake failure for a=").all()
    assert failed["traceback"].str.contains("sweep_fakes.py").all()
    assert failed["final:y"].isna().all()
    assert (summary.loc[~summary["fail"], "status"] == "ok").all()


def test_a_sweep_whose_first_runs_all_fail_stops_early(tmp_path):
    spec = grid_spec(outcomes=["final:y", "final:typo"], replicates=10)
    with pytest.raises(SweepError, match=r"first (\d+) runs all failed .*'final:typo' reads") as e:
        run_sweep(spec, tmp_path, run_fn=fake_run, workers=1, progress=False, runs_per_task=3)
    summary = load_summary(tmp_path)
    assert len(summary) == 9 and (summary["status"] == "failed").all()
    assert "first 9 runs" in str(e.value)
    assert summary["error"].str.startswith("OutcomeError").all()


def test_results_do_not_depend_on_workers_or_chunking(tmp_path):
    spec = grid_spec()
    run_sweep(spec, tmp_path / "serial", run_fn=fake_run, workers=1, progress=False)
    run_sweep(
        spec,
        tmp_path / "pool",
        run_fn=fake_run,
        workers=2,
        progress=False,
        runs_per_task=4,
        flush_runs=5,
    )
    serial = load_summary(tmp_path / "serial")
    pool = load_summary(tmp_path / "pool")
    assert len(list((tmp_path / "pool" / "chunks" / "outcomes").glob("part-*"))) > 1
    pd.testing.assert_frame_equal(outcomes_only(serial), outcomes_only(pool))


def test_resume_runs_only_missing_runs(tmp_path):
    spec = grid_spec()
    out = tmp_path / "s"
    run_sweep(spec, out, run_fn=fake_run, workers=1, progress=False, runs_per_task=1, flush_runs=4)
    clean = load_summary(out)
    # lose the second chunk and its index entry
    index = json.loads((out / "index.json").read_text())
    lost = index["chunks"].pop(1)
    (out / lost["outcomes"]).unlink()
    (out / "index.json").write_text(json.dumps(index))
    report = run_sweep(spec, out, run_fn=fake_run, workers=1, progress=False)
    assert report.n_skipped == spec.n_runs - len(lost["ok"]) and report.n_ok == len(lost["ok"])
    pd.testing.assert_frame_equal(outcomes_only(load_summary(out)), outcomes_only(clean))
    again = run_sweep(spec, out, run_fn=fake_run, workers=1, progress=False)
    assert (again.n_skipped, again.n_ok) == (spec.n_runs, 0)


def test_chunk_written_but_not_indexed_is_adopted_not_rerun(tmp_path):
    spec = grid_spec()
    out = tmp_path / "s"
    run_sweep(spec, out, run_fn=fake_run, workers=1, progress=False, runs_per_task=1, flush_runs=6)
    clean = load_summary(out)
    index = json.loads((out / "index.json").read_text())
    index["chunks"].pop()  # as if killed between writing the chunk and the index
    (out / "index.json").write_text(json.dumps(index))
    (out / "chunks" / "outcomes" / ".part-000009.parquet.abc.tmp").write_bytes(b"partial")
    report = run_sweep(spec, out, run_fn=fake_run, workers=1, progress=False)
    assert report.n_skipped == spec.n_runs
    assert not list((out / "chunks").rglob(".*.tmp"))
    pd.testing.assert_frame_equal(outcomes_only(load_summary(out)), outcomes_only(clean))


def test_failed_runs_rerun_only_with_retry_failed(tmp_path, monkeypatch):
    spec = grid_spec()
    out = tmp_path / "s"
    monkeypatch.setenv("SWEEP_FAKE_FAIL_ABOVE", "1.5")  # runs with a = 2 fail
    first = run_sweep(spec, out, run_fn=fake_run, workers=1, progress=False)
    assert first.n_failed == 6
    monkeypatch.delenv("SWEEP_FAKE_FAIL_ABOVE")
    plain = run_sweep(spec, out, run_fn=fake_run, workers=1, progress=False)
    assert (plain.n_ok, plain.n_failed, plain.n_skipped) == (0, 0, 18)
    assert (load_summary(out)["status"] == "failed").sum() == 6
    retry = run_sweep(spec, out, run_fn=fake_run, workers=1, progress=False, retry_failed=True)
    assert (retry.n_ok, retry.n_skipped) == (6, 12)
    summary = load_summary(out)
    assert summary.index.is_unique and len(summary) == 18
    assert (summary["status"] == "ok").all()
    run_sweep(spec, tmp_path / "clean", run_fn=fake_run, workers=1, progress=False)
    clean = load_summary(tmp_path / "clean")
    pd.testing.assert_frame_equal(outcomes_only(summary), outcomes_only(clean))


def test_each_table_reads_as_a_clean_parquet_dataset(tmp_path, monkeypatch):
    import pyarrow.dataset as ds

    spec = grid_spec(save_timeseries=["y"])
    out = tmp_path / "s"
    monkeypatch.setenv("SWEEP_FAKE_FAIL_ABOVE", "1.5")  # runs with a = 2 fail, then are retried
    run_sweep(spec, out, run_fn=fake_run, workers=1, progress=False, flush_runs=5)
    monkeypatch.delenv("SWEEP_FAKE_FAIL_ABOVE")
    run_sweep(spec, out, run_fn=fake_run, workers=1, progress=False, retry_failed=True)
    summary = load_summary(out)
    outcomes = ds.dataset(out / "chunks" / "outcomes", format="parquet").to_table().to_pandas()
    assert sorted(outcomes["run_id"]) == list(range(18))  # one row per run, retried rows gone
    assert set(outcomes.columns) == {"run_id", *summary.columns}
    got = outcomes.set_index("run_id").sort_index()[summary.columns]
    pd.testing.assert_frame_equal(outcomes_only(got), outcomes_only(summary))
    series = pd.read_parquet(out / "chunks" / "timeseries")
    assert set(series.columns) == {"run_id", "step", "y"}  # no outcome column mixed in
    assert len(series) == len(load_timeseries(out))
    duckdb = pytest.importorskip("duckdb")
    glob = str(out / "chunks" / "outcomes" / "*.parquet")
    assert duckdb.sql(f"select count(distinct run_id) from '{glob}'").fetchall() == [(18,)]
    polars = pytest.importorskip("polars")
    assert polars.read_parquet(glob).height == 18


def test_folder_with_a_different_spec_is_refused_unless_forced(tmp_path):
    out = tmp_path / "s"
    run_sweep(grid_spec(), out, run_fn=fake_run, workers=1, progress=False)
    other = grid_spec(replicates=1)
    with pytest.raises(SpecMismatchError, match="differs in: replicates"):
        run_sweep(other, out, run_fn=fake_run, workers=1, progress=False)
    with pytest.raises(SpecMismatchError, match="model"):
        run_sweep(grid_spec(), out, run_fn=slow_run, workers=1, progress=False)
    report = run_sweep(other, out, run_fn=fake_run, workers=1, progress=False, force=True)
    assert report.n_ok == other.n_runs
    assert len(load_summary(out)) == other.n_runs


def test_a_second_writer_is_locked_out(tmp_path):
    spec = grid_spec()
    meta = {"fingerprint": "x", "spec": {}}
    with SweepStore.open(tmp_path, meta, spec.to_dict(), spec.sample()):
        with pytest.raises(SweepStoreError, match="another process"):
            run_sweep(spec, tmp_path, run_fn=fake_run, workers=1, progress=False)


def test_reproduce_run_matches_the_stored_outcomes(tmp_path):
    spec = grid_spec(fixed={"shock": 3}, steps=12)
    run_sweep(spec, tmp_path, run_fn=fake_run, workers=1, progress=False)
    summary = load_summary(tmp_path)
    res = reproduce_run(tmp_path, 13, run_fn=fake_run)
    assert evaluate_outcomes(spec.parsed_outcomes, res) == {
        o.name: summary.loc[13, o.name] for o in spec.parsed_outcomes
    }
    assert len(res.timeseries) == 13


def test_progress_bar_reports_runs_and_failures_without_a_tty(tmp_path, capsys):
    spec = grid_spec(parameters=FAILING)
    run_sweep(spec, tmp_path, run_fn=fake_run, workers=1, progress=True)
    err = capsys.readouterr().err
    assert "12/12" in err and "failed=6" in err and "run/s" in err
    run_sweep(spec, tmp_path / "q", run_fn=fake_run, workers=1, progress=False)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------------- crash + resume
def test_sigkill_mid_sweep_then_resume_loses_and_duplicates_nothing(tmp_path):
    spec_path = write(
        tmp_path,
        """
        name = "killme"
        model = "sweep_fakes:slow_run"
        replicates = 4
        seed = 5
        outcomes = ["final:y", "mean:z"]
        save_timeseries = ["y"]
        [parameters]
        a = [0.0, 1.0, 2.0, 3.0, 4.0]
        b = [1, 2]
        """,
    )
    out = tmp_path / "out"
    env = os.environ | {"PYTHONPATH": str(TESTS), "SWEEP_FAKE_DELAY": "0.08"}
    code = (
        "from migration_sim.sweep.executors import run_sweep\n"
        "if __name__ == '__main__':\n"
        f"    run_sweep({str(spec_path)!r}, {str(out)!r}, workers=2, runs_per_task=1,\n"
        "              flush_runs=3, progress=False, allow_import=True)\n"
    )
    script = tmp_path / "child.py"
    script.write_text(code)
    proc = subprocess.Popen([sys.executable, str(script)], env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            index = out / "index.json"
            if index.exists() and len(json.loads(index.read_text())["chunks"]) >= 3:
                break
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.02)
        else:
            pytest.fail("no chunks written within 60 s")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    partial = load_summary(out)
    spec = load_sweep_spec(spec_path)
    assert 0 < len(partial) < spec.n_runs, "killed part-way"
    report = run_sweep(spec, out, workers=1, progress=False, allow_import=True)
    assert report.n_skipped == len(partial)
    resumed = load_summary(out)
    assert resumed.index.tolist() == list(range(spec.n_runs))  # each run id exactly once
    run_sweep(spec, tmp_path / "clean", workers=1, progress=False, allow_import=True)
    clean = load_summary(tmp_path / "clean")
    pd.testing.assert_frame_equal(outcomes_only(resumed), outcomes_only(clean))
    pd.testing.assert_frame_equal(load_timeseries(out), load_timeseries(tmp_path / "clean"))


# ---------------------------------------------------------------------------- dask
def test_dask_cluster_results_equal_serial_bit_for_bit(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    spec = grid_spec()
    run_sweep(spec, tmp_path / "serial", run_fn=fake_run, workers=1, progress=False)
    with distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        report = run_sweep(
            spec,
            tmp_path / "dask",
            run_fn=fake_run,
            scheduler=cluster.scheduler_address,
            progress=False,
            runs_per_task=2,
        )
    assert report.n_ok == spec.n_runs
    pd.testing.assert_frame_equal(
        outcomes_only(load_summary(tmp_path / "serial")),
        outcomes_only(load_summary(tmp_path / "dask")),
    )


# ---------------------------------------------------------------------------- CLI
def test_cli_sweep_and_analyze(tmp_path, capsys):
    spec_path = write(
        tmp_path,
        """
        model = "sweep_fakes:fake_run"
        replicates = 2
        outcomes = ["final:y"]
        [parameters]
        a = [0.0, 1.0]
        b = [1, 2, 3]
        """,
    )
    out = tmp_path / "out"
    from migration_sim.cli.commands import main as migration_sim_main  # the installed entry point

    argv = ["sweep", str(spec_path), "--workers", "1", "--out", str(out), "--quiet"]
    argv.append("--allow-import")  # the spec's model is a test module, not an installed model
    assert migration_sim_main(argv) == 0
    assert "12 runs: 0 already done, 12 ok and 0 failed now" in capsys.readouterr().out
    assert cli_main(argv) == 0
    assert "12 already done, 0 ok" in capsys.readouterr().out
    assert cli_main(["analyze", str(out), "--out", str(tmp_path / "an")]) == 0
    assert (tmp_path / "an" / "heatmap_final_y__a__b.png").exists()
    spec_path.write_text(spec_path.read_text().replace("replicates = 2", "replicates = 3"))
    assert cli_main(argv) == 1
    assert "differs in: replicates" in capsys.readouterr().err
    bad = write(tmp_path, 'outcomes = ["final:y"]\n[parameters]\na = {range = [2, 1]}', "b.toml")
    assert cli_main(["sweep", str(bad), "--out", str(tmp_path / "b")]) == 2
    assert "'a'.range = [2, 1] is empty" in capsys.readouterr().err
    assert cli_main(["sweep", str(spec_path), "--workers", "0", "--out", str(out)]) == 2
    assert "workers = 0 is not allowed: expected an integer >= 1" in capsys.readouterr().err
    assert cli_main(["analyze", str(tmp_path / "nothing")]) == 1
    assert "is not a sweep folder" in capsys.readouterr().err


# ---------------------------------------------------------------------------- EMA Workbench
def test_ema_model_is_a_plain_function_of_params():
    from migration_sim.sweep.executors import EMAModel

    f = EMAModel(["last = final:y", "mean:n"], steps=4, run_fn=fake_run)
    out = f(seed=3, a=1.5, b=2.0)
    direct = fake_run({"a": 1.5, "b": 2.0}, seed=3, steps=4).timeseries
    assert out == {"last": direct["y"].iloc[-1], "mean:n": 4.0}
    import pickle

    assert pickle.loads(pickle.dumps(f))(seed=3, a=1.5, b=2.0) == out


# ---------------------------------------------------------------------------- the real model
TINY = {"groups.n_groups": 200}


def test_real_model_sweep_equals_direct_runs(tmp_path):
    import migration_sim

    spec = SweepSpec(
        parameters=[Parameter("choice.beta", values=(1.0, 3.0))],
        outcomes=["final:share.Telegram", "mean:n_active", "change:mean_platforms"],
        replicates=2,
        seed=17,
        steps=20,
        fixed=TINY,
    )
    report = run_sweep(spec, tmp_path, workers=1, progress=False)
    assert report.n_ok == 4
    summary = load_summary(tmp_path)
    for run_id in range(4):
        beta = (1.0, 3.0)[run_id // 2]
        res = migration_sim.run(TINY | {"choice.beta": beta}, seed=run_seed(17, run_id), steps=20)
        assert len(res.timeseries) == 21
        got = summary.loc[run_id, [o.name for o in spec.parsed_outcomes]].to_dict()
        assert got == evaluate_outcomes(spec.parsed_outcomes, res)
    again = reproduce_run(tmp_path, 3)
    assert again.timeseries.equals(
        migration_sim.run(TINY | {"choice.beta": 3.0}, seed=run_seed(17, 3), steps=20).timeseries
    )
    meta = json.loads((tmp_path / "sweep.json").read_text())
    assert meta["model"] == "migration_sim.model:run"


def test_real_model_paths_are_checked_before_anything_runs(tmp_path):
    spec = SweepSpec(
        parameters=[Parameter("platforms.Signal.disclosur", values=(0.1, 0.2))],
        outcomes=["final:n_active"],
        fixed=TINY,
    )
    with pytest.raises(SweepSpecError, match="'platforms.Signal.disclosur'.*disclosur"):
        run_sweep(spec, tmp_path / "never", workers=1, progress=False)
    assert not (tmp_path / "never").exists()


def test_model_works_from_mesa_batch_run():
    import mesa

    from migration_sim import MigrationModel, run

    configs = [TINY | {"run.steps": 8, "choice.beta": b} for b in (1.0, 3.0)]
    start_method = multiprocessing.get_start_method(allow_none=True)
    try:
        rows = mesa.batch_run(
            MigrationModel,
            parameters={"config": configs},
            rng=[4, 5],
            max_steps=8,
            number_processes=1,
            display_progress=False,
        )
    finally:  # batch_run forces the global start method to spawn; restore it
        multiprocessing.set_start_method(start_method, force=True)
    assert len(rows) == 4
    for row in rows:
        final = run(row["config"], seed=row["rng"], steps=8).timeseries.iloc[-1]
        assert row["share.Telegram"] == final["share.Telegram"]
        assert row["n_active"] == final["n_active"]


def test_ema_model_runs_the_real_model():
    import migration_sim
    from migration_sim.sweep.executors import EMAModel

    f = EMAModel(["tg = final:share.Telegram"], steps=6)
    out = f(seed=2, groups__n_groups=200, choice__beta=2.0)
    res = migration_sim.run({"groups.n_groups": 200, "choice.beta": 2.0}, seed=2, steps=6)
    assert out == {"tg": res.timeseries["share.Telegram"].iloc[-1]}

    from migration_sim.config.scenario import load_scenario

    scenario = TESTS.parent / "experiments" / "telegram_2024.toml"
    g = EMAModel(["at:shock:n_active", "final:share.Telegram"], scenario=scenario, steps=32)
    out = g(seed=2, **{"groups.n_groups": 200})
    cfg = load_scenario(scenario).with_overrides({"groups.n_groups": 200})
    res = migration_sim.run(cfg, seed=2, steps=32)
    assert out == evaluate_outcomes(g.outcomes, res)
    assert res.shock_steps == [30]


def test_canonical_telegram_sobol_sweep_runs_on_its_scenario(tmp_path):
    """The experiments/ sweep validates against its scenario; a 7-run miniature completes."""
    from migration_sim.config.scenario import load_scenario

    spec = load_sweep_spec(TESTS.parent / "experiments" / "sweep_telegram_sobol.toml")
    check_against_config(spec, load_scenario(spec.scenario))
    assert spec.n_runs == 64 * (4 + 2)
    mini = SweepSpec.from_dict(
        spec.to_dict()
        | {"design": {"method": "sobol", "n": 1}, "steps": 95, "fixed": TINY, "name": "mini"}
    )
    report = run_sweep(mini, tmp_path, workers=1, progress=False)
    summary = load_summary(tmp_path)
    assert report.n_ok == 6, summary["error"].dropna().tolist()
    assert summary[[o.name for o in mini.parsed_outcomes]].notna().all().all()
    assert json.loads((tmp_path / "sweep.json").read_text())["base_config"]["shocks"]


def test_default_ema_model_outcomes_exist_in_the_real_model():
    from migration_sim.sweep.executors import DEFAULT_EMA_OUTCOMES, EMAModel, ema_model

    out = EMAModel(steps=5)(seed=1, groups__n_groups=200)
    assert list(out) == [o.split(" = ")[0] for o in DEFAULT_EMA_OUTCOMES]
    assert all(np.isfinite(v) for v in out.values())
    assert ema_model.steps is None and ema_model.outcomes == EMAModel().outcomes


def test_experiments_sweep_on_dask_equals_local_with_the_real_model(tmp_path):
    """The experiments/ sweep (miniature, real model) gives identical outcomes on a local Dask
    cluster and in-process."""
    distributed = pytest.importorskip("dask.distributed")
    spec = load_sweep_spec(TESTS.parent / "experiments" / "sweep_telegram_sobol.toml")
    mini = SweepSpec.from_dict(
        spec.to_dict()
        | {"design": {"method": "sobol", "n": 1}, "steps": 95, "fixed": TINY, "name": "mini"}
    )
    run_sweep(mini, tmp_path / "local", workers=1, progress=False)
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:  # fmt: skip
        report = run_sweep(
            mini, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False
        )
    assert report.n_ok == mini.n_runs
    pd.testing.assert_frame_equal(
        outcomes_only(load_summary(tmp_path / "local")),
        outcomes_only(load_summary(tmp_path / "dask")),
    )
