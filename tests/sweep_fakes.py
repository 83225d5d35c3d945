"""Fake run functions for the sweep tests, importable by worker and child processes.

Each returns an object shaped like ``migration_sim.results.Results`` (a ``timeseries``
DataFrame indexed by step, and ``shock_steps``) derived only from its config and seed, so the
sweep machinery can be tested independently of the model's numbers.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class FakeResults:
    timeseries: pd.DataFrame
    shock_steps: list[int] = field(default_factory=list)


def fake_run(config: dict[str, Any], *, seed: Any, steps: int | None = None) -> FakeResults:
    """y_t = a + b t + N(0, 0.1) noise, z_t ~ U(0, 1), n_t = 2t; shock at ``shock`` (5).

    Raises ValueError when ``config["fail"]`` is true, or when the environment variable
    ``SWEEP_FAKE_FAIL_ABOVE`` is set and ``a`` exceeds it (a transient failure).
    """
    if config.get("fail"):
        raise ValueError(f"fake failure for a={config.get('a')}")
    limit = os.environ.get("SWEEP_FAKE_FAIL_ABOVE")
    if limit is not None and config.get("a", 0.0) > float(limit):
        raise RuntimeError(f"transient failure for a={config['a']}")
    steps = 10 if steps is None else steps
    rng = np.random.default_rng(seed)
    t = np.arange(steps + 1)
    ts = pd.DataFrame(
        {
            "y": config.get("a", 0.0) + config.get("b", 1.0) * t + rng.normal(0.0, 0.1, t.size),
            "z": rng.random(t.size),
            "n": 2 * t,
        },
        index=pd.Index(t, name="step"),
    )
    return FakeResults(ts, [int(config.get("shock", 5))])


def slow_run(config: dict[str, Any], *, seed: Any, steps: int | None = None) -> FakeResults:
    """fake_run after sleeping ``SWEEP_FAKE_DELAY`` seconds (default 0)."""
    time.sleep(float(os.environ.get("SWEEP_FAKE_DELAY", "0")))
    return fake_run(config, seed=seed, steps=steps)


def ishigami(x1: float, x2: float, x3: float, a: float = 7.0, b: float = 0.1) -> float:
    return math.sin(x1) + a * math.sin(x2) ** 2 + b * x3**4 * math.sin(x1)


def ishigami_run(config: dict[str, Any], *, seed: Any, steps: int | None = None) -> FakeResults:
    """The Ishigami function of x1, x2, x3 as a constant two-step series ``y``."""
    y = ishigami(config["x1"], config["x2"], config["x3"])
    return FakeResults(pd.DataFrame({"y": [y, y]}, index=pd.Index([0, 1], name="step")))


def linear_run(config: dict[str, Any], *, seed: Any, steps: int | None = None) -> FakeResults:
    """y = 3 x1 + 0 x2 - 2 x3 (Morris mu* is exactly 3, 0, 2) plus N(0, 1) noise in ``noisy``."""
    y = 3.0 * config["x1"] - 2.0 * config["x3"]
    noisy = y + np.random.default_rng(seed).normal()
    return FakeResults(
        pd.DataFrame({"y": [y, y], "noisy": [noisy, noisy]}, index=pd.Index([0, 1], name="step"))
    )
