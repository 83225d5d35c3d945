"""Scenario files: load, validate and save TOML scenarios (to run: :mod:`migration_sim.model`).

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

from importlib import resources
from pathlib import Path

import tomli_w

from migration_sim.config.config import Config
from migration_sim.config.errors import check_input_file, echo, read_toml_file
from migration_sim.config.files import atomic_write_text
from migration_sim.config.schema import ConfigError

__all__ = [
    "DEFAULT_SCENARIO",
    "builtin_scenario",
    "builtin_scenario_names",
    "load_scenario",
    "resolve_scenario",
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
    if not isinstance(path, str | Path):
        raise ConfigError(f"scenario = {echo(path)} is not allowed: expected a file path")
    path = Path(path)
    data = read_toml_file(path, "scenario file")
    base_dir = path.resolve().parent
    try:
        cfg = Config.from_dict(data, base_dir=base_dir)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if cfg.network.path:
        try:
            check_input_file(cfg.network.path, "network file")
        except ConfigError as exc:
            raise type(exc)(f"{path}: network.path: {exc}") from None
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
            f"scenario = {echo(scenario)} is not allowed: expected a file path, a built-in name "
            "or a Config"
        )
    path = Path(scenario)
    try:
        exists = path.exists()
    except (OSError, ValueError):  # a name too long, or with a NUL, is no file
        exists = False
    if isinstance(scenario, str) and scenario in builtin_scenario_names() and not exists:
        return builtin_scenario(scenario), scenario
    if exists or path.suffix or len(path.parts) > 1:  # names a file: say what is wrong
        return load_scenario(path), path.stem
    raise ConfigError(
        f"scenario = {echo(str(scenario))} is not allowed: expected an existing scenario file or a "
        "built-in scenario, one of " + ", ".join(builtin_scenario_names())
    )
