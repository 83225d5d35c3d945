"""Signals during a sweep, with real processes: completed runs are kept, no process survives.

A sweep (of a test model that sleeps 0.1 s per run) runs in a subprocess with two pool
workers. After the workers have been busy for a
while it gets SIGTERM (what a cluster scheduler sends at the wall-time limit) or, like Ctrl-C
in a terminal, SIGINT sent to its whole process group. Checked: the exit code (143 / 130),
a one-line message, runs completed before the signal are stored (the buffer is flushed
although no flush was due), every descendant process (pool workers, forkserver) is gone,
and resuming completes the sweep with outcomes identical to an uninterrupted run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from migration_sim.sweep import load_summary, run_sweep

pytestmark = pytest.mark.slow

SPEC = """
name = "sig"
model = "sweep_fakes:slow_run"
replicates = 4
seed = 11
outcomes = ["final:y", "mean:z"]

[parameters]
a = { values = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0] }
b = { values = [1, 2, 3, 4, 5] }
"""
N_RUNS = 200
DELAY = 0.1  # seconds per run in the interrupted sweep: 10 s of work for two workers
TESTS = Path(__file__).parent
CLI = "import sys; from migration_sim.cli import main; sys.exit(main())"


def _children(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _interrupt(tmp_path: Path, send: str) -> tuple[int, str, set[int]]:
    (tmp_path / "spec.toml").write_text(SPEC, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, "sweep", "spec.toml", "--out", "out", "--workers", "2"]
        + ["--allow-import", "--quiet"],
        cwd=tmp_path,
        env=os.environ | {"PYTHONPATH": str(TESTS), "SWEEP_FAKE_DELAY": str(DELAY)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while len(_children(proc.pid)) < 3 and time.monotonic() < deadline:  # server + 2 workers
            time.sleep(0.2)
        time.sleep(4)  # the workers complete some runs; the 30 s flush is not due yet
        descendants = _children(proc.pid)
        assert proc.poll() is None, "the sweep ended before the signal; make it longer"
        if send == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        else:  # Ctrl-C: the terminal signals the whole foreground process group
            os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, err, descendants


@pytest.mark.parametrize(("send", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_signal_flushes_stops_workers_and_resumes(tmp_path, send, code):
    returncode, err, descendants = _interrupt(tmp_path, send)
    assert returncode == code, err
    assert "Traceback" not in err
    assert "completed runs are saved" in err
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in descendants) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in descendants if _alive(p)], "pool workers or forkserver survived"

    stored = load_summary(tmp_path / "out")
    assert 0 < len(stored) < N_RUNS  # completed runs were flushed, the rest were not run
    assert (stored["status"] == "ok").all()

    spec = tmp_path / "spec.toml"
    report = run_sweep(spec, tmp_path / "out", workers=1, progress=False, allow_import=True)
    assert report.n_skipped == len(stored)
    assert report.n_ok == N_RUNS - len(stored)
    reference = run_sweep(spec, tmp_path / "ref", workers=1, progress=False, allow_import=True)
    assert reference.n_ok == N_RUNS
    cols = ["final:y", "mean:z"]
    resumed = load_summary(tmp_path / "out")[cols].sort_index()
    whole = load_summary(tmp_path / "ref")[cols].sort_index()
    assert len(whole) == N_RUNS
    pd.testing.assert_frame_equal(resumed, whole)
