"""Scaling curve: set-up and steps from 1,000 to 1,000,000 groups, with memory per group.

Each size runs in its own process (so that its peak RSS is its own): the default model with
mean degree 10, 200 steps, fragmentation measures every 10 steps, the package's thread policy.
Prints, per size, the set-up split into its parts (population, network, constant calibration,
warm-up, the rest), the time of the steps and of the measures, time per agent-step, the set-up
as a share of the 200-step run, and peak RSS per group; writes ``--json`` and a PNG plot
(``--png``). Usage::

    python benchmarks/bench_scaling.py [--sizes 1000 10000 100000 1000000] [--steps 200]
                                       [--json scaling.json] [--png scaling.png]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def timed(obj, name: str, label: str, spent: dict[str, float]) -> None:
    """Wrap ``obj.name`` so that its wall time accumulates in ``spent[label]``."""
    original = getattr(obj, name)

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - t0

    setattr(obj, name, wrapper)


def child(n: int, steps: int, every: int) -> dict:
    """Build and run one model of ``n`` groups; return its timings (runs in its own process)."""
    import numba

    import migration_sim as ms
    from migration_sim.model import model as model_module
    from migration_sim.model import threads

    ms.run({"groups.n_groups": 300}, steps=2)  # compile outside the timings
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    spent: dict[str, float] = {}
    timed(model_module, "draw_population", "population", spent)
    timed(model_module.MigrationModel, "_build_network", "network", spent)
    timed(model_module.MigrationModel, "_calibrate_constants", "calibration", spent)
    timed(model_module.MigrationModel, "_warm_up", "warm-up", spent)
    timed(model_module.MigrationModel, "_fragmentation", "measures", spent)
    cfg = ms.default_config().with_overrides(
        {
            "groups.n_groups": n,
            "network.mean_degree": 10,
            "run.steps": steps,
            "metrics.every": every,
        }
    )
    t0 = time.perf_counter()
    model = ms.MigrationModel(cfg, rng=1)
    setup = time.perf_counter() - t0
    setup_measures = spent.pop("measures", 0.0)  # the step-0 snapshot belongs to the run
    parts = dict(spent)
    spent.clear()
    t0 = time.perf_counter()
    model.run(steps)
    run = time.perf_counter() - t0 + setup_measures
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "n": n,
        "steps": steps,
        "threads": min(numba.get_num_threads(), threads.threads_for(n)),
        "setup": setup - setup_measures,
        "setup_parts": parts,
        "run": run,
        "measures": spent.get("measures", 0.0) + setup_measures,
        "peak_rss": peak,
        "base_rss": base_rss,
    }


def plot(rows: list[dict], path: Path) -> None:
    """Time per agent-step, set-up share and memory per group against the number of groups."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["n"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    per = [r["run"] / (r["n"] * r["steps"]) * 1e9 for r in rows]
    axes[0].plot(n, per, "o-", label="steps (measures every 10)")
    meas = [r["measures"] / (r["n"] * r["steps"]) * 1e9 for r in rows]
    axes[0].plot(n, meas, "s--", label="of which measures")
    axes[0].set_ylabel("ns per agent-step")
    axes[0].legend()
    share = [r["setup"] / r["run"] * 100 for r in rows]
    axes[1].plot(n, share, "o-", label="set-up / 200-step run")
    warm = [r["setup_parts"].get("warm-up", 0.0) / r["run"] * 100 for r in rows]
    axes[1].plot(n, warm, "s--", label="of which warm-up")
    axes[1].axhline(15, color="grey", lw=0.8, ls=":", label="target 15%")
    axes[1].set_ylabel("% of the 200-step run")
    axes[1].legend()
    mem = [(r["peak_rss"] - r["base_rss"]) / r["n"] / 1024 for r in rows]
    axes[2].plot(n, mem, "o-")
    axes[2].set_ylabel("peak RSS above import, KiB per group")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("groups")
        ax.grid(alpha=0.3)
    fig.suptitle(
        "migration_sim scaling: mean degree 10, 200 steps, measures every 10 steps "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000, 300_000, 1_000_000]
    )
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--every", type=int, default=10, help="metrics.every")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--png", type=Path, default=None)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.steps, args.every)))
        return
    rows = []
    print(
        f"{'groups':>9s} {'thr':>3s} {'set-up':>7s} {'(pop':>6s} {'net':>6s} {'calib':>6s} "
        f"{'warm)':>6s} {'run':>7s} {'meas':>6s} {'ns/ag-step':>10s} {'setup%':>6s} "
        f"{'total':>7s} {'peak GB':>7s} {'KiB/grp':>7s}"
    )
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--child", str(n), "--steps", str(args.steps)]
        cmd += ["--every", str(args.every)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(r)
        p = r["setup_parts"]
        print(
            f"{n:9d} {r['threads']:3d} {r['setup']:7.2f} {p.get('population', 0):6.2f} "
            f"{p.get('network', 0):6.2f} {p.get('calibration', 0):6.2f} "
            f"{p.get('warm-up', 0):6.2f} {r['run']:7.2f} {r['measures']:6.2f} "
            f"{r['run'] / (n * r['steps']) * 1e9:10.1f} {r['setup'] / r['run'] * 100:5.0f}% "
            f"{r['setup'] + r['run']:7.1f} {r['peak_rss'] / 2**30:7.2f} "
            f"{(r['peak_rss'] - r['base_rss']) / n / 1024:7.2f}",
            flush=True,
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    if args.png:
        plot(rows, args.png)


if __name__ == "__main__":
    main()
