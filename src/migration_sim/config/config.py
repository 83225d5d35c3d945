"""The complete parameter set of a run: :class:`Config`, its validation and the defaults.

A :class:`Config` is an immutable tree of small frozen dataclasses, one per concern of the model
(run, groups, network, risk, enforcement, moderation, choice, metrics, ties), plus the platform
catalogue, the crime-type table and the shock schedule. Every scalar field carries metadata
(meaning, allowed range, source) from which ``docs/parameters.md`` is generated, so the schema and
its documentation cannot drift apart.

Overrides are plain dicts, nested or with dotted keys::

    cfg = default_config().with_overrides({"network.mean_degree": 10,
                                           "platforms.Signal.disclosure": 0.3})

Bad values raise :class:`ConfigError` naming the key, the value and what is allowed. Nothing is
clamped.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migration_sim.config.catalogue import _default_table
from migration_sim.config.overrides import (
    _apply_section,
    _apply_shocks,
    _apply_table,
    _nest,
    flatten,
)
from migration_sim.config.schema import (
    _TABLES,
    SECTIONS,
    ChoiceConfig,
    ConfigError,
    CrimeTypeSpec,
    EnforcementConfig,
    GroupsConfig,
    MetricsConfig,
    ModerationConfig,
    NetworkConfig,
    PlatformSpec,
    RiskConfig,
    RunConfig,
    TiesConfig,
)
from migration_sim.config.shocks import resolved_shocks, validate_shocks


@dataclass(frozen=True)
class Config:
    """The complete, validated parameter set of one model run.

    Build it with :func:`default_config`, :meth:`from_dict` or :meth:`with_overrides`; it is
    immutable. ``to_dict`` gives a nested plain dict that ``from_dict`` reads back to an equal
    Config and that can be written as TOML.
    """

    run: RunConfig = field(default_factory=RunConfig)
    groups: GroupsConfig = field(default_factory=GroupsConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    risk: RiskConfig = field(default_factory=RiskConfig)
    enforcement: EnforcementConfig = field(default_factory=EnforcementConfig)
    moderation: ModerationConfig = field(default_factory=ModerationConfig)
    choice: ChoiceConfig = field(default_factory=ChoiceConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    ties: TiesConfig = field(default_factory=TiesConfig)
    platforms: tuple[PlatformSpec, ...] = ()
    crime_types: tuple[CrimeTypeSpec, ...] = ()
    shocks: tuple[dict[str, Any], ...] = ()

    # ---------------------------------------------------------------- accessors
    @property
    def platform_names(self) -> list[str]:
        """Platform names in catalogue order (the platform index order)."""
        return [p.name for p in self.platforms]

    @property
    def crime_type_names(self) -> list[str]:
        """Crime-type names in table order (the crime-type index order)."""
        return [c.name for c in self.crime_types]

    def get(self, key: str) -> Any:
        """Return the value at a dotted key, e.g. ``"choice.beta"`` or ``"platforms.Tox.reach"``.

        Shock parameters are addressed by shock name, as in overrides:
        ``"shocks.arrest_news.magnitude"``; ``"shocks"`` is the whole schedule (a list).
        """
        if key == "shocks":
            return [dict(s) for s in self.shocks]
        flat = flatten({**self.to_dict(), "shocks": {s["name"]: s for s in self.shocks}})
        if key not in flat:
            raise ConfigError(f"unknown config key {key!r}")
        return flat[key]

    # ---------------------------------------------------------------- conversion
    def to_dict(self) -> dict[str, Any]:
        """Return the resolved config as a nested dict of plain values (TOML-serialisable)."""
        out: dict[str, Any] = {}
        for name in SECTIONS:
            out[name] = dataclasses.asdict(getattr(self, name))
        for table, _cls in _TABLES.items():
            rows: dict[str, Any] = {"catalogue": "inline"}
            for spec in getattr(self, table):
                row = dataclasses.asdict(spec)
                name = row.pop("name")
                if not row.get("variants"):
                    row.pop("variants", None)
                rows[name] = row
            out[table] = rows
        out["shocks"] = [dict(s) for s in self.shocks]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base_dir: Path | None = None) -> Config:
        """Build a Config from a nested dict of overrides on the defaults.

        Parameters
        ----------
        data
            Nested sections as in :meth:`to_dict`. Missing keys keep their defaults; unknown
            keys raise :class:`ConfigError`. ``platforms.catalogue`` (and
            ``crime_types.catalogue``) may be ``"default"``, ``"inline"`` (start from an empty
            table) or a path to a catalogue TOML file.
        base_dir
            Folder against which relative catalogue and network paths resolve.
        """
        return default_config().with_overrides(data, base_dir=base_dir)

    def with_overrides(
        self, overrides: Mapping[str, Any] | None, *, base_dir: Path | None = None
    ) -> Config:
        """Return a copy with overrides applied (nested dicts and/or dotted keys).

        Examples
        --------
        >>> cfg = default_config().with_overrides({"choice.beta": 2, "network": {"p_triad": 0.1}})
        >>> cfg.choice.beta, cfg.network.p_triad
        (2.0, 0.1)
        """
        if not overrides:
            return self
        if not isinstance(overrides, Mapping):
            raise ConfigError(f"config overrides must be a mapping, got {type(overrides).__name__}")
        sections = {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}
        tables = {t: {s.name: dataclasses.asdict(s) for s in getattr(self, t)} for t in _TABLES}
        shocks = [dict(s) for s in self.shocks]
        nested = _nest(overrides)
        for top, value in nested.items():
            if top in SECTIONS:
                _apply_section(top, sections[top], value)
            elif top in _TABLES:
                tables[top] = _apply_table(top, tables[top], value, base_dir)
            elif top == "shocks":
                shocks = _apply_shocks(shocks, value)
            else:
                allowed = ", ".join([*SECTIONS, *_TABLES, "shocks"])
                raise ConfigError(f"unknown config section {top!r}; allowed: {allowed}")
        if base_dir is not None and sections["network"]["path"]:
            p = Path(sections["network"]["path"])
            if not p.is_absolute():
                sections["network"]["path"] = str((base_dir / p).resolve())
        cfg = Config(
            **{name: SECTIONS[name](**vals) for name, vals in sections.items()},
            platforms=tuple(PlatformSpec(**row) for row in tables["platforms"].values()),
            crime_types=tuple(CrimeTypeSpec(**row) for row in tables["crime_types"].values()),
            shocks=tuple(resolved_shocks(tuple(shocks))),
        )
        cfg.validate()
        return cfg

    # ---------------------------------------------------------------- validation
    def validate(self) -> None:
        """Check cross-field constraints; raise :class:`ConfigError` on the first violation."""
        if not self.platforms:
            raise ConfigError("platforms: the catalogue is empty; at least one platform is needed")
        if len(self.platforms) > 62:
            raise ConfigError(f"platforms: {len(self.platforms)} platforms; at most 62 allowed")
        if not self.crime_types:
            raise ConfigError("crime_types: the table is empty; at least one crime type is needed")
        for table in ("platforms", "crime_types"):
            names = [s.name for s in getattr(self, table)]
            dup = {n for n in names if names.count(n) > 1}
            if dup:
                raise ConfigError(f"{table}: duplicate names {sorted(dup)}")
        total = sum(p.initial_share for p in self.platforms)
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ConfigError(f"platforms.*.initial_share sum to {total:.6g}; they must sum to 1")
        total = sum(c.share for c in self.crime_types)
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ConfigError(f"crime_types.*.share sum to {total:.6g}; they must sum to 1")
        g = self.groups
        if g.size_min >= g.size_max:
            raise ConfigError(
                f"groups.size_min = {g.size_min} must be below groups.size_max = {g.size_max}"
            )
        if g.max_platforms > len(self.platforms):
            raise ConfigError(
                f"groups.max_platforms = {g.max_platforms} exceeds the number of platforms "
                f"({len(self.platforms)})"
            )
        if self.network.mean_degree >= g.n_groups:
            raise ConfigError(
                f"network.mean_degree = {self.network.mean_degree} must be below "
                f"groups.n_groups = {g.n_groups}"
            )
        random_mixing = sum(c.share**2 for c in self.crime_types)
        if self.network.within_type_share < random_mixing - 1e-12:
            raise ConfigError(
                f"network.within_type_share = {self.network.within_type_share} is below the "
                f"random-mixing share {random_mixing:.4f} (sum of squared crime-type shares); "
                "allowed: a value in [that share, 1]"
            )
        known = set(self.platform_names)
        for name in self.metrics.monitored:
            if name not in known:
                raise ConfigError(
                    f"metrics.monitored names unknown platform {name!r}; known: {sorted(known)}"
                )
        if self.shocks:
            validate_shocks(self)


def default_config() -> Config:
    """Return the default configuration: defaults of every section and the shipped catalogues.

    Examples
    --------
    >>> cfg = default_config()
    >>> cfg.platform_names[:3]
    ['Telegram', 'Signal', 'Session']
    """
    cfg = Config(platforms=_default_table("platforms"), crime_types=_default_table("crime_types"))
    cfg.validate()
    return cfg
