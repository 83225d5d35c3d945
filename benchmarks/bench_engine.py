"""Engine benchmark: vectorised kernels at scale vs the per-group reference rule.

Times the vectorised engine at 100,000 groups, 10 platforms, mean degree 10 and 200 steps
(results recorded every step), and the per-group reference rule on the same model at 2,000
groups, and prints the ratio of time per agent-step. Usage::

    python benchmarks/bench_engine.py [--groups 100000] [--steps 200] [--ref-groups 2000]
"""

from __future__ import annotations

import argparse
import resource
import time

from migration_sim import MigrationModel, default_config


def ten_platform_config(n_groups: int, steps: int, **extra):
    """Default config with the 10 platforms of the issue (Threema folded into Forums)."""
    cfg = default_config().to_dict()
    threema = cfg["platforms"].pop("Threema")
    cfg["platforms"]["Forums"]["initial_share"] += threema["initial_share"]
    cfg["groups"]["n_groups"] = n_groups
    cfg["network"]["mean_degree"] = 10.0
    cfg["run"]["steps"] = steps
    for key, value in extra.items():
        section, name = key.split(".")
        cfg[section][name] = value
    return cfg


def time_model(cfg, engine: str, steps: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    model = MigrationModel(cfg, rng=1, engine=engine)
    t1 = time.perf_counter()
    model.run(steps)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--groups", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--ref-groups", type=int, default=2_000)
    ap.add_argument("--ref-steps", type=int, default=10)
    args = ap.parse_args()

    big = ten_platform_config(args.groups, args.steps)
    setup, stepping = time_model(big, "vectorised", args.steps)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fast_per = stepping / (args.groups * args.steps)
    print(
        f"vectorised: {args.groups} groups x {args.steps} steps: setup {setup:.2f} s "
        f"(network, population, calibration, warm-up), steps {stepping:.2f} s, "
        f"total {setup + stepping:.2f} s; {fast_per * 1e9:.1f} ns per agent-step; "
        f"peak RSS {peak_mb:.0f} MB"
    )

    small = ten_platform_config(args.ref_groups, args.ref_steps, **{"run.warmup_steps": 0})
    _, fast_small = time_model(small, "vectorised", args.ref_steps)
    _, ref_small = time_model(small, "reference", args.ref_steps)
    ref_per = ref_small / (args.ref_groups * args.ref_steps)
    small_per = fast_small / (args.ref_groups * args.ref_steps)
    print(
        f"reference:  {args.ref_groups} groups x {args.ref_steps} steps: {ref_small:.2f} s; "
        f"{ref_per * 1e6:.1f} us per agent-step"
    )
    print(f"vectorised at {args.ref_groups} groups: {small_per * 1e9:.0f} ns per agent-step")
    print(
        f"RATIO reference / vectorised per agent-step: {ref_per / fast_per:.0f}x at scale, "
        f"{ref_per / small_per:.0f}x at the same size"
    )


if __name__ == "__main__":
    main()
