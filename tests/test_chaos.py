"""Chaos: a Dask worker killed mid-sweep costs nothing.

A local Dask cluster (scheduler and workers on 127.0.0.1 only) runs a sweep of the real model.
While tasks are running, one worker process is killed with SIGKILL. Its nanny starts a new
worker, Dask reruns the lost tasks, and the sweep must complete with every run stored once
and outcomes identical, bit for bit, to a serial run of the same spec.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pandas as pd
import pytest

from migration_sim.sweep import Parameter, SweepSpec, load_summary, run_sweep

pytestmark = pytest.mark.slow


def test_killing_a_dask_worker_mid_sweep_loses_nothing(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    spec = SweepSpec(
        parameters=[Parameter("choice.beta", values=tuple(0.5 + 0.5 * i for i in range(10)))],
        outcomes=["final:n_active", "final:share.Telegram"],
        fixed={"groups.n_groups": 60},
        replicates=4,
        steps=3,
        seed=3,
    )
    run_sweep(spec, tmp_path / "serial", workers=1, progress=False)
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as probe,
    ):
        result: dict[str, object] = {}

        def sweep() -> None:
            try:
                result["report"] = run_sweep(
                    spec,
                    tmp_path / "dask",
                    scheduler=cluster.scheduler_address,
                    runs_per_task=1,
                    progress=False,
                )
            except BaseException as exc:  # reported below
                result["error"] = exc

        thread = threading.Thread(target=sweep)
        thread.start()
        deadline = time.monotonic() + 120
        while not any(probe.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # some runs are done, others in flight
        busy = [addr for addr, tasks in probe.processing().items() if tasks]
        assert busy, "no worker was busy: the sweep ended too early"
        pids = probe.run(os.getpid)
        os.kill(pids[busy[0]], signal.SIGKILL)
        thread.join(timeout=300)
        assert not thread.is_alive()
    assert "error" not in result, result.get("error")
    report = result["report"]
    assert report.n_ok == spec.n_runs and report.n_failed == 0
    cols = ["final:n_active", "final:share.Telegram"]
    dask = load_summary(tmp_path / "dask")
    assert sorted(dask.index) == list(range(spec.n_runs))  # each run stored exactly once
    pd.testing.assert_frame_equal(
        dask[cols].sort_index(), load_summary(tmp_path / "serial")[cols].sort_index()
    )
