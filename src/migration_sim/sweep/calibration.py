"""Calibration by the simulated method of moments over a grid of a few named parameters.

A calibration spec (TOML) names the free parameters and the values to try, and the settings
of the runs::

    replicates = 3          # replicates per grid point (common seeds for every point)
    seed = 7                # master seed of the replicates
    n_groups = 2000         # population size of every run
    workers = 2             # processes
    [parameters]
    "choice.w_follow" = [4.0, 6.0, 8.0]
    "choice.w_ban" = [0.25, 0.5, 1.0]

The moments are the patterns with ``use = "calibration"`` in the patterns file
(:mod:`migration_sim.sweep.validation`); every grid point is run over the same replicate seeds
(common random numbers, so differences between points are not seed noise) and scored by

    ``J(theta) = sum_p ((mean_p(theta) - target_p) / tolerance_p)^2``,

the method-of-moments distance with a diagonal weight: each moment's error is measured in
units of its tolerance. The calibrated value is the grid point with the smallest J; the other
patterns are never used and stay validation-only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from migration_sim.config import ConfigError, default_config
from migration_sim.config.errors import read_toml_file
from migration_sim.sweep.validation import (
    Pattern,
    evaluate,
    load_patterns,
    run_replicates,
    scenario_configs,
    summarise,
)

__all__ = ["CalibrationSpec", "load_spec", "calibrate", "distance"]


@dataclass(frozen=True)
class CalibrationSpec:
    """Free parameters (dotted keys) with their grid values, and the run settings."""

    parameters: Mapping[str, Sequence[float]]
    replicates: int = 3
    seed: int = 7
    n_groups: int = 2000
    workers: int = 1

    @property
    def grid(self) -> list[dict[str, float]]:
        """Every combination of the parameter values, in spec order."""
        keys = list(self.parameters)
        return [
            dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*self.parameters.values())
        ]


def load_spec(path: str | Path) -> CalibrationSpec:
    """Read and check a calibration spec (see the module docstring).

    Raises
    ------
    ConfigError
        Naming the key, the value and what is allowed.
    """
    data = read_toml_file(path, "calibration spec")
    allowed = {"parameters", "replicates", "seed", "n_groups", "workers"}
    for key in data:
        if key not in allowed:
            raise ConfigError(f"unknown calibration key {key!r}; allowed: {sorted(allowed)}")
    params = data.get("parameters")
    if not isinstance(params, dict) or not params:
        raise ConfigError(
            f"parameters = {params!r} is not allowed: expected a table of parameter -> values"
        )
    flat = default_config()
    for key, values in params.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(
                f"parameters.{key} = {values!r} is not allowed: expected a non-empty list"
            )
        for v in values:  # every value must be valid for the model
            flat.with_overrides({key: v})
    for key in ("replicates", "n_groups", "workers"):
        v = data.get(key, 1)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ConfigError(f"{key} = {v!r} is not allowed: expected an integer >= 1")
    seed = data.get("seed", 7)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed = {seed!r} is not allowed: expected an integer >= 0")
    return CalibrationSpec(
        parameters={k: [float(x) for x in v] for k, v in params.items()},
        **{k: data[k] for k in ("replicates", "seed", "n_groups", "workers") if k in data},
    )


def distance(summary: pd.DataFrame) -> float:
    """Method-of-moments distance ``sum ((mean - target) / tolerance)^2`` (inf if any nan)."""
    z = (summary["mean"] - summary["target"]) / summary["tolerance"]
    return float((z**2).sum()) if np.isfinite(z).all() else math.inf


def calibrate(
    spec: CalibrationSpec,
    patterns: Sequence[Pattern] | None = None,
    *,
    log: Callable[[str], None] | None = None,
) -> tuple[dict[str, float], pd.DataFrame]:
    """Score every grid point of ``spec`` on the calibration patterns.

    ``log`` (e.g. ``print``) receives one line per grid point as it is scored.

    Returns
    -------
    best : dict
        The parameter values with the smallest distance.
    table : pandas.DataFrame
        One row per grid point: the parameter values, the mean of each calibration pattern
        and the distance, sorted by distance.
    """
    pats = [p for p in (load_patterns() if patterns is None else patterns)]
    moments = [p for p in pats if p.use == "calibration"]
    if not moments:
        raise ConfigError("no pattern has use = 'calibration': nothing to calibrate against")
    rows: list[dict[str, Any]] = []
    for point in spec.grid:
        configs = scenario_configs(moments, n_groups=spec.n_groups, overrides=point)
        results = run_replicates(configs, spec.replicates, seed=spec.seed, workers=spec.workers)
        summary = summarise(moments, evaluate(moments, results))
        rows.append(
            {
                **point,
                **dict(zip(summary["name"], summary["mean"], strict=True)),
                "distance": distance(summary),
            }
        )
        if log is not None:
            log(f"[{len(rows)}/{len(spec.grid)}] {point}: distance {rows[-1]['distance']:.3f}")
    table = pd.DataFrame(rows).sort_values("distance", kind="stable").reset_index(drop=True)
    best = {k: float(table.loc[0, k]) for k in spec.parameters}
    return best, table
