"""Scenario files: load, validate, save and run TOML scenarios.

A scenario file has the structure of :meth:`Config.to_dict`: the sections ``[run]``,
``[groups]``, ``[network]``, ``[risk]``, ``[enforcement]``, ``[moderation]``, ``[choice]``,
``[metrics]`` and ``[ties]``; a ``[platforms]`` table with an optional ``catalogue`` key
(``"default"``, ``"inline"`` or a path) and one override table per platform; ``[crime_types]``
likewise; and one ``[[shocks]]`` table per shock. Everything not given keeps its default;
unknown keys are errors. Relative paths (``catalogue``, ``network.path``) resolve against the
folder of the scenario file. See ``docs/scenarios.md``.

The canonical scenarios live in ``experiments/`` and ship with the package as data (identical
copies, checked by the tests) so that :func:`builtin_scenario` works from an installed package.

Examples
--------
>>> cfg = builtin_scenario("telegram_2024")
>>> [s["name"] for s in cfg.shocks]
['arrest_news', 'disclosure_policy', 'handover_news']
"""

from __future__ import annotations

import sys
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w
from tqdm import tqdm

from migration_sim.config import Config, ConfigError
from migration_sim.model import MigrationModel
from migration_sim.results import Results, atomic_write_text

__all__ = [
    "DEFAULT_SCENARIO",
    "builtin_scenario",
    "builtin_scenario_names",
    "load_scenario",
    "replicate_seeds",
    "resolve_scenario",
    "run_scenario",
    "save_scenario",
]

#: Name of the built-in scenario used when none is given.
DEFAULT_SCENARIO = "telegram_2024"

_BUILTIN_PACKAGE = "migration_sim"
_BUILTIN_FOLDER = ("data", "scenarios")


def load_scenario(path: str | Path) -> Config:
    """Read and validate a scenario file.

    Parameters
    ----------
    path : str or pathlib.Path
        The TOML scenario file.

    Returns
    -------
    Config
        The validated configuration (defaults filled in).

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, holds an unknown key or a value outside its
        allowed range. The message starts with the file path and names the key, the value and
        what is allowed.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: scenario file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the scenario file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    base_dir = path.resolve().parent
    try:
        cfg = Config.from_dict(data, base_dir=base_dir)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if cfg.network.path and not Path(cfg.network.path).is_file():
        raise ConfigError(
            f"{path}: network.path = {cfg.network.path!r} is not allowed: expected an existing "
            f"GraphML or edge-list file (relative paths resolve against {base_dir})"
        )
    return cfg


def save_scenario(config: Config, path: str | Path, *, comment: str = "") -> None:
    """Write the resolved scenario (every parameter, inline catalogues) atomically.

    Loading the file with :func:`load_scenario` gives a Config equal to ``config``.

    Parameters
    ----------
    config : Config
        The configuration to write.
    path : str or pathlib.Path
        Destination file; it is replaced atomically.
    comment : str
        Text written as a ``#`` comment header (one comment line per line of text).
    """
    if not isinstance(config, Config):
        raise TypeError(f"config must be a Config, got {type(config).__name__}")
    header = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines())
    body = tomli_w.dumps(config.to_dict())
    atomic_write_text(path, header + ("\n" if header else "") + body)


def builtin_scenario_names() -> list[str]:
    """Names of the scenarios shipped with the package (file names without ``.toml``)."""
    folder = resources.files(_BUILTIN_PACKAGE).joinpath(*_BUILTIN_FOLDER)
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    )


def builtin_scenario(name: str = DEFAULT_SCENARIO) -> Config:
    """Load a scenario shipped with the package, by name.

    Parameters
    ----------
    name : str
        One of :func:`builtin_scenario_names` (default ``"telegram_2024"``).

    Returns
    -------
    Config
    """
    names = builtin_scenario_names()
    if name not in names:
        raise ConfigError(
            f"scenario = {name!r} is not allowed: expected a built-in scenario, one of "
            + ", ".join(names)
        )
    entry = resources.files(_BUILTIN_PACKAGE).joinpath(*_BUILTIN_FOLDER, f"{name}.toml")
    with resources.as_file(entry) as path:
        return load_scenario(path)


def resolve_scenario(scenario: str | Path | Config | None) -> tuple[Config, str]:
    """Turn a scenario argument into a Config and a short label.

    Parameters
    ----------
    scenario : str, pathlib.Path, Config or None
        A scenario file, the name of a built-in scenario, a Config, or None for the default
        built-in scenario. An existing file wins over a built-in name.

    Returns
    -------
    (Config, str)
        The configuration and a label (the file stem, the built-in name or ``"config"``).
    """
    if scenario is None:
        return builtin_scenario(DEFAULT_SCENARIO), DEFAULT_SCENARIO
    if isinstance(scenario, Config):
        return scenario, "config"
    if not isinstance(scenario, str | Path):
        raise ConfigError(
            f"scenario = {scenario!r} is not allowed: expected a file path, a built-in name "
            "or a Config"
        )
    path = Path(scenario)
    if path.is_file():
        return load_scenario(path), path.stem
    if isinstance(scenario, str) and scenario in builtin_scenario_names():
        return builtin_scenario(scenario), scenario
    raise ConfigError(
        f"scenario = {str(scenario)!r} is not allowed: expected an existing scenario file or a "
        "built-in scenario, one of " + ", ".join(builtin_scenario_names())
    )


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
