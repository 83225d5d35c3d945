"""Engine benchmark: vectorised kernels at scale vs the per-group reference rule.

Times the vectorised engine at 100,000 groups, 10 platforms, mean degree 10 and 200 steps
(results recorded every step) without fragmentation measures and with them every 1 and every 3
steps (overhead as a share of step time), and the per-group reference rule on the same model at
2,000 groups, and prints the ratio of time per agent-step. Usage::

    python benchmarks/bench_engine.py [--groups 100000] [--steps 200] [--ref-groups 2000]
                                      [--every 1 3]
"""

from __future__ import annotations

import argparse
import gc
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
    del model
    gc.collect()  # free this model before the next one is built
    return t1 - t0, t2 - t1


def time_interleaved(configs: dict[int, dict], steps: int) -> dict[int, float]:
    """Seconds spent in ``steps`` steps of one model per config, the models taking turns."""
    models = {key: MigrationModel(cfg, rng=1) for key, cfg in configs.items()}
    spent = dict.fromkeys(models, 0.0)
    for _ in range(steps):
        for key, model in models.items():
            t0 = time.perf_counter()
            model.step()
            spent[key] += time.perf_counter() - t0
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--groups", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--ref-groups", type=int, default=2_000)
    ap.add_argument("--ref-steps", type=int, default=10)
    ap.add_argument(
        "--every", type=int, nargs="+", default=[1, 3], help="metrics.every values to time"
    )
    args = ap.parse_args()

    # compile the numba kernels once, outside the timings
    time_model(ten_platform_config(500, 2), "vectorised", 2)

    n, steps = args.groups, args.steps
    setup, no_metrics = time_model(
        ten_platform_config(n, steps, **{"metrics.every": 0}), "vectorised", steps
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # one model
    print(f"vectorised, {n} groups x {steps} steps, results every step:")
    print(f"  setup (network, population, calibration, warm-up): {setup:.2f} s")
    print(
        f"  steps without fragmentation measures: {no_metrics:.2f} s "
        f"({no_metrics / steps * 1e3:.1f} ms/step)"
    )
    print(f"  peak RSS {peak_mb:.0f} MB")
    configs = {0: ten_platform_config(n, steps, **{"metrics.every": 0})}
    for every in args.every:
        configs[every] = ten_platform_config(n, steps, **{"metrics.every": every})
    spent = time_interleaved(configs, steps)
    print("  interleaved (the models take turns step by step, so machine noise hits all alike):")
    for every, secs in spent.items():
        label = "no measures" if every == 0 else f"measures every {every} step(s)"
        line = f"    {label:<30s} {secs / steps * 1e3:6.1f} ms/step"
        if every:
            line += f"; overhead {(secs - spent[0]) / spent[0]:.0%} of step time"
        print(line)
    fast_per = no_metrics / (n * steps)

    small = ten_platform_config(
        args.ref_groups, args.ref_steps, **{"run.warmup_steps": 0, "metrics.every": 0}
    )
    _, fast_small = time_model(small, "vectorised", args.ref_steps)
    _, ref_small = time_model(small, "reference", args.ref_steps)
    per = args.ref_groups * args.ref_steps
    ref_per, small_per = ref_small / per, fast_small / per
    print(
        f"reference rule, {args.ref_groups} groups x {args.ref_steps} steps: {ref_small:.2f} s "
        f"({ref_per * 1e6:.1f} us per agent-step); vectorised on the same model: "
        f"{small_per * 1e9:.0f} ns per agent-step"
    )
    print(
        f"RATIO reference / vectorised per agent-step: {ref_per / fast_per:.0f}x "
        f"(vectorised at {n} groups), {ref_per / small_per:.0f}x (same {args.ref_groups}-group "
        "model)"
    )


if __name__ == "__main__":
    main()
