"""Benchmark of metrics.snapshot() at model scale.

Builds a random state of 100,000 groups on 10 platforms with a heavy-tailed contact network of
mean degree about 10 (E about 500,000), then times ``snapshot()`` and its parts.

    .venv/bin/python benchmarks/bench_metrics.py            # default sizes, 20 repetitions
    .venv/bin/python benchmarks/bench_metrics.py --graph ba # networkx Barabasi-Albert, m = 5
    .venv/bin/python benchmarks/bench_metrics.py --shuffle  # ties in random order

The state:
- primary platform drawn from a skewed popularity vector (one dominant platform, like Telegram);
  each group is also present on each other platform with probability 0.04 (about 1.35 platforms
  per group); 3% of groups are dark (no platform) and 5% are inactive;
- the graph is Chung-Lu (endpoints drawn in proportion to Pareto weights, alpha 2.5), or
  Barabasi-Albert with m = 5 from networkx (slower to build). Ties are sorted by (u, v), as
  ``network.ContactNetwork`` stores them, unless --shuffle.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from migration_sim import metrics
from migration_sim.metrics import step

POPULARITY = np.array([0.55, 0.12, 0.08, 0.06, 0.05, 0.04, 0.04, 0.03, 0.02, 0.01])


def chung_lu_edges(n: int, mean_degree: float, rng: np.random.Generator) -> np.ndarray:
    weights = rng.pareto(2.5, n) + 1.0
    p = weights / weights.sum()
    n_draw = int(n * mean_degree / 2 * 1.03)  # a few are lost as self loops and duplicates
    a = rng.choice(n, size=n_draw, p=p)
    b = rng.choice(n, size=n_draw, p=p)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    return np.unique(lo[keep] * n + hi[keep])


def ba_edges(n: int, m: int, seed: int) -> np.ndarray:
    import networkx as nx

    g = nx.barabasi_albert_graph(n, m, seed=seed)
    e = np.array(g.edges(), dtype=np.int64)
    lo, hi = e.min(axis=1), e.max(axis=1)
    return np.unique(lo * n + hi)


def build_state(n: int, k: int, graph: str, shuffle: bool, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    pop = POPULARITY[:k] / POPULARITY[:k].sum() if k <= POPULARITY.size else np.ones(k) / k
    primary = rng.choice(k, size=n, p=pop).astype(np.int64)
    membership = rng.random((n, k)) < 0.04
    membership[np.arange(n), primary] = True
    dark = rng.random(n) < 0.03
    membership[dark] = False
    primary[dark] = -1
    active = rng.random(n) >= 0.05
    membership[~active] = False
    primary[~active] = -1
    key = chung_lu_edges(n, 10.0, rng) if graph == "chunglu" else ba_edges(n, 5, seed)
    if shuffle:
        rng.shuffle(key)
    monitored = np.zeros(k, dtype=bool)
    monitored[[1, 2]] = True
    return {
        "membership": membership,
        "active": active,
        "primary": primary,
        "edges_u": key // n,
        "edges_v": key % n,
        "size": rng.lognormal(2.0, 1.0, n),
        "severity": rng.choice([0.2, 0.5, 0.8, 1.0], size=n),
        "monitored": monitored,
        "crime_type": rng.integers(0, 5, n),
    }


def timings_ms(fn, reps: int) -> np.ndarray:
    times = np.empty(reps)
    for i in range(reps):
        t0 = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - t0
    return 1e3 * times


def median_ms(fn, reps: int) -> float:
    return float(np.median(timings_ms(fn, reps)))


def in_model(n: int, steps: int) -> None:
    """Stage times of the snapshots a model run takes, with the step's data in the caches."""
    from bench_engine import ten_platform_config

    from migration_sim import MigrationModel

    stages: dict[str, list[float]] = {}
    plain = step._counts_numba

    def timed(*args):  # noqa: ANN002, ANN202
        return plain(*args, timings=stages)

    model = MigrationModel(ten_platform_config(n, steps), rng=1)
    step._counts_numba = timed
    try:
        t0 = time.perf_counter()
        model.run(steps)
        per_step = (time.perf_counter() - t0) / steps
    finally:
        step._counts_numba = plain
    total = sum(np.median(v) for v in stages.values())
    print(
        f"\nin a model run ({n:,} groups, {steps} steps, measures every step; "
        f"{1e3 * per_step:.1f} ms per step including them):"
    )
    for name, secs in stages.items():
        print(f"    {name:<50s} {1e3 * np.median(secs):7.2f} ms")
    print(f"    {'sum of the stages':<50s} {1e3 * total:7.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--graph", choices=["chunglu", "ba"], default="chunglu")
    ap.add_argument("--shuffle", action="store_true", help="ties in random order")
    ap.add_argument("--numpy-reps", type=int, default=3, help="repetitions of the numpy path")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--model-steps", type=int, default=60, help="steps of the in-model breakdown (0: skip)"
    )
    args = ap.parse_args()

    t0 = time.perf_counter()
    st = build_state(args.n, args.k, args.graph, args.shuffle, args.seed)
    n_edges = st["edges_u"].shape[0]
    print(
        f"state: N={args.n:,} K={args.k} E={n_edges:,} (mean degree {2 * n_edges / args.n:.2f}), "
        f"graph={args.graph}{' shuffled' if args.shuffle else ' sorted'}, "
        f"built in {time.perf_counter() - t0:.1f} s"
    )
    names = [f"P{i}" for i in range(args.k)]
    call = {k: st[k] for k in st if k != "crime_type"}

    def snap(backend: str, types: bool = False) -> dict[str, float]:
        extra = {"crime_type": st["crime_type"], "crime_type_names": list("ABCDE")} if types else {}
        return metrics.snapshot(**call, platform_names=names, backend=backend, **extra)

    if metrics.HAVE_NUMBA:
        t0 = time.perf_counter()
        snap("numba")
        print(f"first numba call (compile or load cache): {time.perf_counter() - t0:.2f} s")
        timings_ms(lambda: snap("numba"), 5)  # warm up the allocator
        t = timings_ms(lambda: snap("numba"), args.reps)
        total_t = median_ms(lambda: snap("numba", types=True), args.reps)
        print(
            f"\nsnapshot(backend='numba'): median {np.median(t):.2f} ms per call (wall; min "
            f"{t.min():.2f}, max {t.max():.2f}; {args.reps} reps, "
            f"{numba.get_num_threads()} numba threads)"
        )
        print(f"  with per-crime-type concentration: median {total_t:.2f} ms (wall)")

        stages: dict[str, list[float]] = {}
        for _ in range(args.reps):
            step._counts_numba(
                st["membership"], st["active"], st["primary"], st["edges_u"], st["edges_v"],
                int(sum(1 << int(i) for i in np.flatnonzero(st["monitored"]))), None, 0, stages,
            )  # fmt: skip
        print("  stages (median wall time; the groups and ties passes run on numba's threads):")
        for name, secs in stages.items():
            print(f"    {name:<50s} {1e3 * np.median(secs):7.2f} ms")
        if args.model_steps:
            in_model(args.n, args.model_steps)

    total_np = median_ms(lambda: snap("numpy"), args.numpy_reps)
    print(
        f"\nsnapshot(backend='numpy'): median {total_np:.1f} ms per call ({args.numpy_reps} reps)"
    )
    if metrics.HAVE_NUMBA:
        print(f"RATIO numpy / numba snapshot: {total_np / np.median(t):.1f}x")
    s = st
    a, mem, u, v = s["active"], s["membership"], s["edges_u"], s["edges_v"]
    per = {
        "presence_counts + concentration": lambda: metrics.concentration(
            metrics.presence_counts(mem, a)
        ),
        "primary_counts + concentration": lambda: metrics.concentration(
            metrics.primary_counts(s["primary"], a, args.k)
        ),
        "broken_ties (weighted)": lambda: metrics.broken_ties(mem, a, u, v, s["size"]),
        "communication_components": lambda: metrics.communication_components(mem, a, u, v),
        "platform_components": lambda: metrics.platform_components(mem, a, u, v),
        "primary_modularity": lambda: metrics.primary_modularity(s["primary"], a, u, v),
        "monitoring_coverage": lambda: metrics.monitoring_coverage(
            mem, a, u, v, s["severity"], s["monitored"]
        ),
        "coverage_curve": lambda: metrics.coverage_curve(mem, a),
    }
    print("  per-measure numpy functions:")
    for name, fn in per.items():
        print(f"    {name:<50s} {median_ms(fn, args.numpy_reps):7.2f} ms")

    res = snap("auto")
    print("\nvalues:")
    for key, val in res.items():
        print(f"  {key:<32s} {val:.6g}")


if __name__ == "__main__":
    main()
