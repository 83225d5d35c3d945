"""Running scenarios: one run or seeded replicates of a scenario file, built-in name or Config."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from migration_sim.config import Config, ConfigError, resolve_scenario
from migration_sim.model.model import MigrationModel
from migration_sim.results import Results

__all__ = ["replicate_seeds", "run_scenario"]


def replicate_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    """Seeds of ``n`` replicates: ``numpy.random.SeedSequence(seed).spawn(n)``.

    Examples
    --------
    >>> [s.spawn_key for s in replicate_seeds(7, 2)]
    [(0,), (1,)]
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"replicates = {n!r} is not allowed: expected an integer >= 1")
    return np.random.SeedSequence(seed).spawn(n)


def run_scenario(
    scenario: str | Path | Config | None = None,
    *,
    seed: int | None = None,
    steps: int | None = None,
    replicates: int | None = None,
    progress: bool | str = False,
) -> Results | list[Results]:
    """Run a scenario once, or as replicates.

    Parameters
    ----------
    scenario : str, pathlib.Path, Config or None
        A scenario file, a built-in scenario name, a Config, or None for the default
        built-in scenario (``telegram_2024``).
    seed : int or None
        Master seed; None uses the scenario's ``run.seed``.
    steps : int or None
        Steps to run; None uses the scenario's ``run.steps``.
    replicates : int or None
        None runs once with ``seed`` itself and returns one Results. An integer n runs n
        replicates seeded with ``SeedSequence(seed).spawn(n)`` and returns a list.
    progress : bool or str
        Show a progress bar on stderr (only when stderr is a terminal); a string is its
        label (default: the scenario's label).

    Returns
    -------
    Results or list of Results

    Examples
    --------
    >>> res = run_scenario("baseline", seed=1, steps=5)
    >>> res.n_steps
    5
    """
    cfg, label = resolve_scenario(scenario)
    if steps is not None:
        cfg = cfg.with_overrides({"run.steps": steps})
    master = cfg.run.seed if seed is None else seed
    seeds: list[Any] = [master] if replicates is None else replicate_seeds(master, replicates)
    n_steps = cfg.run.steps
    with tqdm(
        total=n_steps * len(seeds),
        desc=progress if isinstance(progress, str) else label,
        unit=cfg.run.step_unit,
        file=sys.stderr,
        disable=None if progress else True,
        leave=False,
    ) as bar:
        out = []
        for s in seeds:
            model = MigrationModel(cfg, rng=s)
            for _ in range(n_steps):
                model.step()
                bar.update(1)
            out.append(model.results)
    return out[0] if replicates is None else out
