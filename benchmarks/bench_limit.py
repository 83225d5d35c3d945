"""Sweep-sized run against the limit proxy: telegram_2024 on one thread vs a fused one-kernel step.

The limit proxy (``../shared/bench/limit_kernel.py``: per group, count neighbours per platform,
logit over K platforms, one draw; nothing else) runs the same number of agent-steps (3,000
groups x 365 steps, K = the scenario's platforms, degree 10). The two take turns ``--rounds``
times; printed: set-up and steps of the model (default measures, every step), the proxy's time,
and RATIO proxy / model (1.0 would be the proxy's speed; the target is 0.5). Usage::

    python benchmarks/bench_limit.py [--rounds 3] [--proxy ../shared/bench/limit_kernel.py]
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numba
import numpy as np
import scipy.sparse as sp

import migration_sim as ms

DEFAULT_PROXY = Path(__file__).resolve().parents[2] / "shared" / "bench" / "limit_kernel.py"


def proxy_seconds(step, n: int, steps: int, k: int, degree: int) -> float:
    """Seconds of ``steps`` proxy steps on a random graph (set-up excluded), as in its main()."""
    rng = np.random.default_rng(1)
    rows = np.repeat(np.arange(n), degree // 2)
    cols = rng.integers(0, n, n * degree // 2)
    a = sp.coo_matrix((np.ones(rows.size, np.float32), (rows, cols)), shape=(n, n)).tocsr()
    a = (a + a.T).tocsr()
    choice = rng.integers(0, k, n).astype(np.int32)
    out = np.empty_like(choice)
    base = rng.normal(size=k)
    risk = rng.random((n, k))
    step(a.indptr, a.indices, choice, base, risk, 2.0, 1.5, rng.random(n), out)  # compile
    t0 = time.perf_counter()
    for _ in range(steps):
        step(a.indptr, a.indices, choice, base, risk, 2.0, 1.5, rng.random(n), out)
        choice, out = out, choice
        np.bincount(choice, minlength=k)
    return time.perf_counter() - t0


def load_proxy(path: Path) -> ModuleType:
    """Import the proxy from a private copy, so numba's cache (``cache=True``) lives beside it.

    The shared folder is read-only for us and its ``__pycache__`` may hold entries compiled by
    other loaders that this process cannot unpickle; a fresh copy compiles once per run.
    """
    folder = Path(tempfile.mkdtemp(prefix="limit_proxy_"))
    atexit.register(shutil.rmtree, folder, True)
    shutil.copy(path, folder / "limit_kernel.py")
    sys.path.insert(0, str(folder))
    return importlib.import_module("limit_kernel")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--proxy", type=Path, default=DEFAULT_PROXY)
    args = ap.parse_args()
    limit = load_proxy(args.proxy)
    numba.set_num_threads(1)
    cfg = ms.builtin_scenario("telegram_2024")
    n, steps, k = cfg.groups.n_groups, cfg.run.steps, len(cfg.platform_names)
    ms.run(cfg.with_overrides({"groups.n_groups": 300}), steps=3)  # compile
    setup = run = proxy = 0.0
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        model = ms.MigrationModel(cfg)
        t1 = time.perf_counter()
        model.run()
        t2 = time.perf_counter()
        setup, run = setup + t1 - t0, run + t2 - t1
        proxy += proxy_seconds(limit.step, n, steps, k, 10)
    r = args.rounds
    print(f"telegram_2024: {n} groups x {steps} steps, one thread, measures every step")
    print(f"  model set-up {setup / r:.2f} s, steps {run / r:.2f} s; proxy {proxy / r:.2f} s")
    print(
        f"  RATIO proxy / model steps: {proxy / run:.2f}x; with set-up {proxy / (run + setup):.2f}x"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
