"""Platform and crime-type catalogues: TOML files read into validated specs, and the defaults."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from migration_sim.config.errors import echo, read_toml_file
from migration_sim.config.schema import (
    _TABLES,
    ConfigError,
    _check_value,
    _check_variants,
    _field_meta,
)

# --------------------------------------------------------------------------------------------
# Catalogues and defaults
# --------------------------------------------------------------------------------------------


def load_catalogue(path: str | Path, table: str = "platforms") -> tuple[Any, ...]:
    """Read a platform (or crime-type) catalogue TOML file into validated specs.

    A platform file holds ``[[platform]]`` tables; a crime-type file ``[[crime_type]]`` tables.
    A platform may carry named variants (``[platform.post_sep_2024]``) of its attributes.
    """
    if table not in _TABLES:
        raise ConfigError(f"table {table!r} is not a catalogue; allowed: {sorted(_TABLES)}")
    path = Path(path)
    data = read_toml_file(path, "catalogue file")
    entry = "platform" if table == "platforms" else "crime_type"
    rows = data.get(entry)
    if not isinstance(rows, list) or not rows:
        raise ConfigError(f"{path}: expected one or more [[{entry}]] tables")
    cls = _TABLES[table]
    metas = _field_meta(cls)
    specs = []
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise ConfigError(
                f"{path}: {entry} number {i + 1} = {echo(row)} is not allowed: expected a "
                f"[[{entry}]] table"
            )
        row = dict(row)
        name = row.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{path}: [[{entry}]] number {i + 1} has no name")
        variants = {}
        for key in list(row):
            if isinstance(row[key], Mapping) and table == "platforms":
                variants[key] = row.pop(key)
        missing = [k for k in metas if k not in row and k not in ("sources", "immune")]
        if missing:
            raise ConfigError(f"{path}: {entry} {echo(name)} lacks {', '.join(missing)}")
        for key in row:
            if key not in metas:
                raise ConfigError(
                    f"{path}: unknown key {echo(key)} in {entry} {echo(name)}; allowed: "
                    + ", ".join(metas)
                )
        kwargs = {
            k: _check_value(f"{path}: {entry} {echo(name)} {k}", v, metas[k])
            for k, v in row.items()
        }
        if variants:
            kwargs["variants"] = _check_variants(f"{path}: {entry} {echo(name)}", variants)
        specs.append(cls(**kwargs))
    return tuple(specs)


def _default_table(table: str) -> tuple[Any, ...]:
    fname = "platforms.toml" if table == "platforms" else "crime_types.toml"
    with resources.as_file(resources.files("migration_sim") / "data" / fname) as path:
        return load_catalogue(path, table)
