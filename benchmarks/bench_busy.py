"""Busy-machine benchmark: the thread policy against one thread while other processes hog the CPUs.

Starts ``--load`` busy processes (default: one per CPU) that spin until the benchmark ends (each
also stops by itself after ``--max-seconds``), then, in a child process per policy, builds two
copies of each model and times them taking turns step by step: one under the thread policy
being measured, one pinned to one numba thread. The ratio (policy / one thread) is printed for
set-up and steps; the target is at most 1.2. Policies:

* ``migration_sim``: the package's own policy (``migration_sim.model.threads``: idle OpenMP threads
  sleep, one thread below ``MIN_GROUPS_PARALLEL`` groups);
* ``numba defaults``: what a run got before the policy (libgomp's default spinning wait, every
  kernel on all of numba's threads).

Models: the ``telegram_2024`` scenario (3,000 groups) and a 100,000-group default model. Usage::

    python benchmarks/bench_busy.py [--load 2] [--steps 120] [--big-steps 20] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time


def spin(deadline: float) -> None:
    """Busy loop until the wall-clock deadline (the background load)."""
    x = 0
    while time.time() < deadline:
        for _ in range(100_000):
            x += 1


def child(policy: str, steps: int, big_steps: int, rounds: int) -> dict:
    """Time the models of one policy (runs in its own process; prints JSON)."""
    import numba

    import migration_sim as ms
    from migration_sim.model import threads

    if policy == "numba defaults":
        # undo the package's settings; libgomp reads the variable when numba first loads it
        os.environ.pop("OMP_WAIT_POLICY", None)
        threads.MIN_GROUPS_PARALLEL = 0
    telegram = ms.builtin_scenario("telegram_2024").with_overrides({"run.steps": steps})
    big = ms.default_config().with_overrides(
        {
            "groups.n_groups": 100_000,
            "network.mean_degree": 10,
            "run.steps": big_steps,
            "run.warmup_steps": 20,
        }
    )
    ms.run({"groups.n_groups": 300}, steps=2)  # compile outside the timings
    all_threads = numba.get_num_threads()
    out = {"policy": policy, "threads": all_threads, "wait": os.environ.get("OMP_WAIT_POLICY")}
    for label, cfg in (("telegram_2024 (3,000 groups)", telegram), ("100,000 groups", big)):
        setup = {"policy": 0.0, "one": 0.0}
        run = {"policy": 0.0, "one": 0.0}
        for r in range(rounds):
            models = {}
            order = ("policy", "one") if r % 2 == 0 else ("one", "policy")
            for key in order:
                numba.set_num_threads(all_threads if key == "policy" else 1)
                t0 = time.perf_counter()
                models[key] = ms.MigrationModel(cfg, rng=r + 1)
                setup[key] += time.perf_counter() - t0
            for _ in range(cfg.run.steps):
                for key in order:
                    numba.set_num_threads(all_threads if key == "policy" else 1)
                    t0 = time.perf_counter()
                    models[key].step()
                    run[key] += time.perf_counter() - t0
            same = models["policy"].results.timeseries.equals(models["one"].results.timeseries)
            if not same:
                raise AssertionError("results differ between thread counts")
        out[label] = {"setup": setup, "run": run}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--load", type=int, default=os.cpu_count(), help="busy processes")
    ap.add_argument("--steps", type=int, default=120, help="steps of telegram_2024")
    ap.add_argument("--big-steps", type=int, default=20, help="steps of the 100,000-group model")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--max-seconds", type=float, default=1800.0, help="load stops by then")
    ap.add_argument("--policies", nargs="+", default=["migration_sim", "numba defaults"])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        result = child(args.child, args.steps, args.big_steps, args.rounds)
        print(json.dumps(result))
        return

    deadline = time.time() + args.max_seconds
    loaders = [mp.Process(target=spin, args=(deadline,), daemon=True) for _ in range(args.load)]
    for p in loaders:
        p.start()
    print(
        f"{args.load} busy processes on {os.cpu_count()} CPUs; load average before: "
        f"{os.getloadavg()[0]:.1f}"
    )
    try:
        for policy in args.policies:
            cmd = [sys.executable, __file__, "--child", policy, "--steps", str(args.steps)]
            cmd += ["--big-steps", str(args.big_steps), "--rounds", str(args.rounds)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            res = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"policy {policy!r}: numba threads {res['threads']}, OMP_WAIT_POLICY={res['wait']}"
            )
            for label in ("telegram_2024 (3,000 groups)", "100,000 groups"):
                for phase in ("setup", "run"):
                    t = res[label][phase]
                    print(
                        f"  {label:<30s} {phase:<5s} policy {t['policy']:7.2f} s, one thread "
                        f"{t['one']:7.2f} s: RATIO {t['policy'] / t['one']:.2f}x"
                    )
    finally:
        for p in loaders:
            p.terminate()
            p.join()
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other processes add to it)")


if __name__ == "__main__":
    main()
