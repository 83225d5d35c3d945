"""Sweep benchmark: throughput at 1 and 2 workers, and the store's overhead per run.

Runs a random-design sweep of ``--runs`` runs (default 200) of a ``--groups``-group model
(default 1,000; ``--steps`` steps, default 100) once per worker count, prints runs per second,
the speed-up of the last worker count over the first (target >= 1.7 at 2 workers on 2 cores)
and the time the store spends writing chunks, per run. ``workers=1`` runs in-process; larger
counts use the process pool. Its one-off start-up (the forkserver importing the package) is
timed separately and the speed-up is printed without and with it. ``--fake`` replaces the
model by a CPU-bound stand-in (~0.1 s per run) that needs no model at all. Usage::

    python benchmarks/bench_sweep.py [--runs 200] [--groups 1000] [--steps 100] [--fake]
                                     [--workers 1 2] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from migration_sim.sweep.executors import (
    Design,
    Parameter,
    SweepSpec,
    _forkserver,
    load_summary,
    run_sweep,
)
from migration_sim.sweep.store import SweepStore


def busy_run(config, *, seed, steps=None):
    """CPU-bound stand-in for the model: elementwise numpy work per step, 70 columns."""

    class Result:
        pass

    rng = np.random.default_rng(seed)
    steps = steps or 100
    x = rng.random(40_000)
    for _ in range(steps):
        x = np.sin(x * 3.0) ** 2 + np.sqrt(x + 1.0) - 1.0
    res = Result()
    res.timeseries = pd.DataFrame(
        rng.random((steps + 1, 70)) * config["choice.beta"],
        columns=[f"c{i}" for i in range(69)] + ["share.Telegram"],
        index=pd.Index(range(steps + 1), name="step"),
    )
    return res


def timed_store() -> list[float]:
    """Wrap SweepStore.write_chunk to record its wall time per call."""
    times: list[float] = []
    original = SweepStore.write_chunk

    def write_chunk(self, outcomes, timeseries):
        t0 = time.perf_counter()
        try:
            return original(self, outcomes, timeseries)
        finally:
            times.append(time.perf_counter() - t0)

    SweepStore.write_chunk = write_chunk
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--groups", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--fake", action="store_true", help="CPU-bound stand-in for the model")
    ap.add_argument("--repeat", type=int, default=1, help="best of this many sweeps each")
    args = ap.parse_args()

    spec = SweepSpec(
        name="bench",
        parameters=[
            Parameter("choice.beta", range=(0.5, 4.0)),
            Parameter("choice.w_risk", range=(1.0, 8.0)),
        ],
        outcomes=[
            "final:share.Telegram",
            "mean:share.Telegram",
            "tg_change = change:share.Telegram",
        ],
        design=Design("random", n=args.runs),
        steps=args.steps,
        fixed={} if args.fake else {"groups.n_groups": args.groups},
        seed=1,
    )
    run_fn = busy_run if args.fake else None
    store_times = timed_store()
    model = "CPU-bound stand-in" if args.fake else f"{args.groups}-group model"
    print(f"{args.runs} runs of the {model}, {args.steps} steps; {os.cpu_count()} CPUs")
    startup = 0.0
    if max(args.workers) > 1:
        t0 = time.perf_counter()
        # start the pool's server (it imports the package once) outside the timed sweeps
        n = max(args.workers)
        with ProcessPoolExecutor(max_workers=n, mp_context=_forkserver()) as pool:
            list(pool.map(abs, range(n)))
        startup = time.perf_counter() - t0
        print(f"process-pool start-up (forkserver importing the package): {startup:.1f} s")
    rates = {}
    summaries = {}
    for workers in args.workers:
        best = None
        for _ in range(args.repeat):
            store_times.clear()
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "sweep"
                t0 = time.perf_counter()
                run_sweep(spec, out, workers=workers, run_fn=run_fn, progress=False)
                elapsed = time.perf_counter() - t0
                summary = load_summary(out)
            if best is None or elapsed < best[0]:
                best = (elapsed, summary, sum(store_times), len(store_times))
        elapsed, summary, store_time, n_chunks = best
        summaries[workers] = summary.drop(columns="run_time")
        rates[workers] = args.runs / elapsed
        run_time = summary["run_time"].sum()
        print(
            f"workers={workers}: {elapsed:6.1f} s, {rates[workers]:6.2f} runs/s; "
            f"mean run {run_time / args.runs * 1e3:.0f} ms; store {n_chunks} chunks, "
            f"{store_time / args.runs * 1e3:.2f} ms/run"
        )
        if workers == 1:
            overhead = (elapsed - run_time) / args.runs
            print(f"  runner + store overhead in-process: {overhead * 1e3:.2f} ms/run")
    first, last = args.workers[0], args.workers[-1]
    print(f"speed-up {last} vs {first} workers: {rates[last] / rates[first]:.2f}x")
    if last > 1 and first == 1:
        cold = args.runs / (args.runs / rates[last] + startup)
        print(f"  counting the pool start-up: {cold / rates[first]:.2f}x")
    same = all(s.equals(summaries[first]) for s in summaries.values())
    print(f"results identical across worker counts: {same}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (other processes skew timings)")


if __name__ == "__main__":
    main()
