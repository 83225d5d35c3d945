"""Dotted-key and nested overrides: flattening, nesting and applying them to sections and tables."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from migration_sim.config.catalogue import _default_table, load_catalogue
from migration_sim.config.errors import echo
from migration_sim.config.schema import (
    _TABLES,
    SECTIONS,
    ConfigError,
    _check_value,
    _check_variants,
    _field_meta,
)

# --------------------------------------------------------------------------------------------
# Helpers for applying overrides
# --------------------------------------------------------------------------------------------


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten a nested mapping to dotted keys (lists are kept as values)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, full + "."))
        else:
            out[full] = value
    return out


def _nest(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Turn dotted keys into nested dicts, merging with nested input."""
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        if not isinstance(key, str) or not key:
            raise ConfigError(f"config keys must be non-empty strings, got {key!r}")
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"config key {key!r} conflicts with a value given for {part!r}")
            node = nxt
        leaf = parts[-1]
        if isinstance(value, Mapping):
            merged = _nest(value)
            existing = node.setdefault(leaf, {})
            if not isinstance(existing, dict):
                raise ConfigError(f"config key {key!r} given both as a value and as a table")
            _deep_merge(existing, merged)
        else:
            node[leaf] = value
    return out


def _deep_merge(dst: dict[str, Any], src: Mapping[str, Any]) -> None:
    for k, v in src.items():
        if isinstance(v, Mapping) and isinstance(dst.get(k), dict):
            _deep_merge(dst[k], v)
        else:
            dst[k] = v


def _apply_section(section: str, values: dict[str, Any], updates: Any) -> None:
    if not isinstance(updates, Mapping):
        raise ConfigError(f"{section} must be a table of parameters, got {updates!r}")
    metas = _field_meta(SECTIONS[section])
    for key, value in updates.items():
        if key not in metas:
            raise ConfigError(
                f"unknown config key '{section}.{key}'; allowed keys in [{section}]: "
                + ", ".join(metas)
            )
        values[key] = _check_value(f"{section}.{key}", value, metas[key])


def _apply_table(
    table: str, rows: dict[str, dict[str, Any]], updates: Any, base_dir: Path | None
) -> dict[str, dict[str, Any]]:
    if not isinstance(updates, Mapping):
        raise ConfigError(f"{table} must be a table keyed by name, got {updates!r}")
    cls = _TABLES[table]
    updates = dict(updates)
    catalogue = updates.pop("catalogue", None)
    if catalogue is not None:
        if catalogue == "inline":
            rows = {}
        elif catalogue == "default":
            rows = {s.name: dataclasses.asdict(s) for s in _default_table(table)}
        elif isinstance(catalogue, str):
            path = Path(catalogue)
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            rows = {s.name: dataclasses.asdict(s) for s in load_catalogue(path, table)}
        else:
            raise ConfigError(
                f"{table}.catalogue = {catalogue!r} is not allowed: expected 'default', "
                "'inline' or a path to a TOML file"
            )
    metas = _field_meta(cls)
    required = [n for n in metas if n not in ("name", "sources", "immune")]
    for name, attrs in updates.items():
        if not isinstance(attrs, Mapping):
            raise ConfigError(f"{table}.{name} must be a table of attributes, got {attrs!r}")
        if name not in rows:
            missing = [k for k in required if k not in attrs]
            if missing:
                raise ConfigError(
                    f"unknown {table[:-1].replace('_', ' ')} {name!r}; known: {sorted(rows)}. "
                    f"To add it, give every attribute (missing: {', '.join(missing)})"
                )
            rows[name] = dataclasses.asdict(cls(name=name))
        row = rows[name]
        for key, value in attrs.items():
            if key == "variants" and table == "platforms":
                # per attribute, like every other override: other variants and attributes stay
                merged = {v: dict(attrs) for v, attrs in (row.get("variants") or {}).items()}
                for vname, vattrs in _check_variants(f"{table}.{name}.variants", value).items():
                    merged.setdefault(vname, {}).update(vattrs)
                row["variants"] = merged
                continue
            if key not in metas or key == "name":
                allowed = ", ".join(k for k in metas if k != "name")
                raise ConfigError(f"unknown config key '{table}.{name}.{key}'; allowed: {allowed}")
            row[key] = _check_value(f"{table}.{name}.{key}", value, metas[key])
    return rows


def _apply_shocks(shocks: list[dict[str, Any]], value: Any) -> list[dict[str, Any]]:
    """Replace the schedule (a list) or update named shocks (a table keyed by shock name)."""
    if isinstance(value, list):
        if not all(isinstance(s, Mapping) for s in value):
            raise ConfigError("shocks must be a list of tables (one per shock)")
        return [dict(s) for s in value]
    if isinstance(value, Mapping):
        by_name = {s.get("name"): s for s in shocks if isinstance(s.get("name"), str)}
        for name, attrs in value.items():
            if name not in by_name:
                raise ConfigError(f"unknown shock {echo(name)}; named shocks: {sorted(by_name)}")
            if not isinstance(attrs, Mapping):
                raise ConfigError(
                    f"shocks.{echo(name)} must be a table of parameters, got {echo(attrs)}"
                )
            by_name[name].update(attrs)
        return shocks
    raise ConfigError(
        f"shocks must be a list of tables or a table keyed by shock name, got {echo(value)}"
    )
