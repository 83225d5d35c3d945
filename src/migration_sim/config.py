"""Model parameters: the schema, its defaults, validation and dotted-key overrides.

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
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "ConfigError",
    "Config",
    "PlatformSpec",
    "CrimeTypeSpec",
    "default_config",
    "load_catalogue",
    "flatten",
]


class ConfigError(ValueError):
    """A configuration value is missing, unknown or outside its allowed range."""


def _param(default: Any, doc: str, kind: str, source: str = "judgement", **extra: Any) -> Any:
    """Declare a documented, validated scalar parameter.

    ``kind`` is one of ``prob`` ([0, 1]), ``nonneg`` (>= 0), ``pos`` (> 0), ``int_nonneg``,
    ``int_pos``, ``choice`` (``options=`` lists the allowed strings), ``str``, ``bool``,
    ``real`` (any finite number), ``seq_str`` (list of strings).
    """
    meta = {"doc": doc, "kind": kind, "source": source, **extra}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


_KIND_TEXT = {
    "prob": "a number in [0, 1]",
    "nonneg": "a number >= 0",
    "pos": "a number > 0",
    "int_nonneg": "an integer >= 0",
    "int_pos": "an integer >= 1",
    "str": "a string",
    "bool": "true or false",
    "real": "a finite number",
    "seq_str": "a list of strings",
    "seq_int": "a list of integers >= 0",
}


def allowed_text(meta: Mapping[str, Any]) -> str:
    """Describe the values a parameter accepts, for errors and documentation."""
    if meta["kind"] == "choice":
        return "one of " + ", ".join(repr(o) for o in meta["options"])
    text = _KIND_TEXT[meta["kind"]]
    if "max" in meta:
        text += f" and <= {meta['max']}"
    return text


def _check_value(key: str, value: Any, meta: Mapping[str, Any]) -> Any:
    """Validate one scalar against its metadata; return it normalised (ints as float etc.)."""
    kind = meta["kind"]

    def fail() -> ConfigError:
        return ConfigError(f"{key} = {value!r} is not allowed: expected {allowed_text(meta)}")

    if kind == "bool":
        if not isinstance(value, bool):
            raise fail()
        return value
    if kind in ("str", "choice"):
        if not isinstance(value, str) or (kind == "choice" and value not in meta["options"]):
            raise fail()
        return value
    if kind == "seq_str":
        if isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise fail()
        return list(value)
    if kind == "seq_int":
        if isinstance(value, str | bytes) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
        ):
            raise fail()
        return sorted(set(value))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail()
    if kind.startswith("int"):
        if isinstance(value, float) and not value.is_integer():
            raise fail()
        value = int(value)
        if value < (1 if kind == "int_pos" else 0):
            raise fail()
    else:
        value = float(value)
        if not math.isfinite(value):
            raise fail()
        if kind == "prob" and not 0.0 <= value <= 1.0:
            raise fail()
        if kind == "nonneg" and value < 0.0:
            raise fail()
        if kind == "pos" and value <= 0.0:
            raise fail()
    if "max" in meta and value > meta["max"]:
        raise fail()
    return value


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunConfig:
    """How long to run, the time unit of a step, seeds and replicates."""

    steps: int = _param(365, "Number of steps to simulate after initialisation.", "int_nonneg")
    warmup_steps: int = _param(
        100,
        "Steps of the choice process run before step 0 (spin-up) while the platform "
        "constants are tuned to hold the initial primary shares; needs "
        "choice.calibrate_constants. Not recorded.",
        "int_nonneg",
    )
    warmup_speedup: float = _param(
        5.0,
        "Time compression of the warm-up: revision probability and ban hazard are "
        "multiplied by this factor during warm-up steps.",
        "pos",
    )
    step_unit: str = _param(
        "day",
        "Calendar length of one step; used to label every time axis and output column.",
        "choice",
        options=("day", "week"),
    )
    seed: int = _param(
        2024, "Master seed of the run (a numpy SeedSequence entropy value).", "int_nonneg"
    )
    replicates: int = _param(
        1,
        "Replicates run by the command line; replicate r uses SeedSequence(seed).spawn().",
        "int_pos",
    )


@dataclass(frozen=True)
class GroupsConfig:
    """The population of criminal groups and how their attributes are drawn."""

    n_groups: int = _param(2000, "Number of criminal groups (agents).", "int_pos")
    max_platforms: int = _param(
        3,
        "Most platforms a group can be present on at once (1 = single-homing).",
        "int_pos",
        source="Cyberint via Techopedia 2024: multi-homing rather than exit",
    )
    beta_concentration: float = _param(
        4.0,
        "Concentration c of the Beta(c*m, c*(1-m)) draws of reach need, sophistication and "
        "risk aversion around each crime type's mean m.",
        "pos",
        source="shared/research/groups.md (judgement)",
    )
    sophistication_risk_correlation: float = _param(
        0.5,
        "Gaussian-copula correlation between a group's sophistication and its risk aversion.",
        "prob",
        source="shared/research/groups.md: skilled actors left first (judgement)",
    )
    size_median: float = _param(
        2000.0,
        "Median audience size (subscribers) of a group's venue; lognormal.",
        "pos",
        source="shared/research/groups.md: observed venues 900-47k",
    )
    size_sigma: float = _param(
        1.8, "Log-scale standard deviation of the audience size.", "pos", source="groups.md"
    )
    size_min: float = _param(
        50.0, "Lower truncation of the audience size.", "pos", source="groups.md"
    )
    size_max: float = _param(
        250000.0,
        "Upper truncation of the audience size.",
        "pos",
        source="groups.md: Telegram supergroup cap 200,000; Xinbi 233k",
    )
    p_initial_secondary: float = _param(
        0.35,
        "Probability that a group starts with one secondary platform besides its primary.",
        "prob",
        source="judgement (multi-homing is common: Cyberint 2024)",
    )


@dataclass(frozen=True)
class NetworkConfig:
    """The contact network between groups (suppliers, buyers, partners)."""

    generator: str = _param(
        "holme_kim",
        "Generator of the contact network: preferential attachment with triad formation "
        "and crime-type homophily. Ignored when a graph or a file is given.",
        "choice",
        options=("holme_kim",),
        source="Bracci et al. 2022 (heavy tails); Holme & Kim 2002",
    )
    mean_degree: float = _param(
        6.0,
        "Mean number of contacts per group (2 x edges per new node).",
        "pos",
        source="groups.md (judgement)",
    )
    within_type_share: float = _param(
        0.65,
        "Target share of ties that join two groups of the same crime type. Must be at least "
        "the share expected under random mixing (sum of squared type shares).",
        "prob",
        source="Nieto et al. 2024 (54% of stable groups specialise); groups.md",
    )
    p_triad: float = _param(
        0.5,
        "Probability that each further tie of a new group closes a triangle (Holme-Kim).",
        "prob",
        source="Heiler et al. 2023 (triadic closure); groups.md",
    )
    path: str = _param(
        "",
        "Optional GraphML or edge-list file with the contact network (nodes 0..n_groups-1). "
        "Relative paths resolve against the scenario file's folder.",
        "str",
    )


@dataclass(frozen=True)
class RiskConfig:
    """How groups perceive the enforcement risk of each platform."""

    memory: float = _param(
        0.9,
        "Weight on last step's perceived risk; (1 - memory) goes to this step's signal.",
        "prob",
    )
    w_policy: float = _param(
        1.0, "Weight of the policy signal (exposure x crime severity).", "nonneg"
    )
    w_observed: float = _param(
        3.0,
        "Weight of enforcement observed among contacts on the platform (share disrupted).",
        "nonneg",
    )
    w_news: float = _param(1.0, "Weight of the news salience of the platform.", "nonneg")
    news_retention: float = _param(
        0.95, "Share of news salience kept from one step to the next (decay).", "prob"
    )
    news_spread: float = _param(
        0.5,
        "Attenuation of news passed on by contacts: salience rises to news_spread x the "
        "mean salience among contacts when that is higher.",
        "prob",
    )


@dataclass(frozen=True)
class EnforcementConfig:
    """Disruption of groups by law enforcement."""

    intensity: float = _param(
        0.002,
        "Base hazard per step of disrupting a fully exposed, top-priority, fully visible group.",
        "nonneg",
        source="calibration target: Germany 2020, 28 suspects among ~8,000 members (0.35%)",
    )
    identification_without_disclosure: float = _param(
        0.2,
        "Weight of identifiability when the operator does not disclose: exposure = "
        "disclosure + this x identifiability x (1 - disclosure).",
        "prob",
    )
    outcome: str = _param(
        "shrink",
        "What a disruption does: 'remove' (group leaves the model), 'shrink' (size x "
        "shrink_factor; removed below size_min) or 'recover' (only the event is recorded).",
        "choice",
        options=("remove", "shrink", "recover"),
    )
    shrink_factor: float = _param(
        0.5, "Size multiplier applied by a disruption when outcome = 'shrink'.", "prob"
    )


@dataclass(frozen=True)
class ModerationConfig:
    """Bans of groups' channels by platform moderation."""

    intensity: float = _param(
        0.01,
        "Base hazard per step of a ban for a fully visible group on a platform with moderation 1.",
        "nonneg",
        source="Kaspersky DFI: blocked criminal channels lived ~7 months (second-hand)",
    )
    p_backup: float = _param(
        0.8,
        "Probability that a banned group re-spawns at once from a backup channel.",
        "prob",
        source="DarkGram (arXiv 2409.14596): channels re-spawn with little loss",
    )
    backup_retention: float = _param(
        0.9,
        "Share of audience kept when re-spawning from a backup channel.",
        "prob",
        source="DarkGram: little subscriber loss (judgement)",
    )


@dataclass(frozen=True)
class ChoiceConfig:
    """The multinomial-logit platform choice."""

    p_revise: float = _param(
        0.05, "Probability per step that a group revises where it operates.", "prob"
    )
    beta: float = _param(1.0, "Intensity of choice of the logit.", "nonneg")
    w_reach: float = _param(3.0, "Weight of reach x need for reach.", "nonneg")
    w_network: float = _param(
        0.5,
        "Weight of the local network effect (share of contacts present on the platform).",
        "nonneg",
        source="Brock & Durlauf 2001; La Cava et al. 2023",
    )
    w_popularity: float = _param(
        0.5,
        "Weight of global popularity (share of active groups with the platform as primary).",
        "nonneg",
        source="ElBahrawy et al. 2020: migrants concentrate on the largest venue",
    )
    w_risk: float = _param(
        2.0, "Weight of perceived risk x risk aversion x severity (a cost).", "nonneg"
    )
    w_switch: float = _param(
        2.5,
        "Switching cost of a platform the group is not present on (a cost).",
        "nonneg",
        source="ISD: ~8% of a channel's audience followed it to SimpleX (second-hand)",
    )
    w_usability: float = _param(
        1.0,
        "Weight of usability x (1 - sophistication): usability matters less to skilled groups.",
        "nonneg",
    )
    calibrate_constants: bool = _param(
        True,
        "Calibrate platform constants alpha_k (Berry 1994 contraction) so that the initial "
        "primary shares are the steady state of the choice rule; false sets alpha_k = 0.",
        "bool",
        source="Berry 1994, RAND J. Econ. 25(2): market-share inversion of logit models",
    )
    multihoming_margin: float = _param(
        -1.0,
        "Utility margin below the primary platform at which a secondary presence is as "
        "likely kept as not: the outside option of the add and drop decisions.",
        "real",
    )


@dataclass(frozen=True)
class MetricsConfig:
    """Fragmentation and monitoring measures."""

    every: int = _param(
        1,
        "Compute the fragmentation measures every this many steps (0 = never). One "
        "computation costs about 20 ms, a little more than one step, at 100,000 groups and "
        "mean degree 10; 3 keeps the overhead under 50% (benchmarks/README.md).",
        "int_nonneg",
    )
    monitored: list[str] = _param(
        [],
        "Platforms that authorities monitor. Empty = every platform whose disclosure is at "
        "least monitored_min_disclosure at the time of measurement.",
        "seq_str",
    )
    monitored_min_disclosure: float = _param(
        0.5, "Disclosure at or above which a platform counts as monitored by default.", "prob"
    )
    graph_steps: list[int] = _param(
        [],
        "Steps at which the communication graph (ties whose ends share a platform) is kept "
        "for GraphML export (Results.communication_graph / write_graphml).",
        "seq_int",
    )


@dataclass(frozen=True)
class TiesConfig:
    """Dynamics of the contact network."""

    dissolve_after: int = _param(
        30,
        "Steps a tie may go without a shared platform before it can dissolve.",
        "int_pos",
    )
    p_dissolve: float = _param(
        0.0,
        "Probability per step that a tie past dissolve_after dissolves (0 = ties never "
        "dissolve; the default keeps the network static so shocks are compared on one graph).",
        "prob",
    )
    p_form: float = _param(
        0.0,
        "Probability per step and group of forming a new tie with a random group present on "
        "one of its platforms, scaled by that platform's reach (0 = static network).",
        "prob",
    )


_PLATFORM_SOURCE = "shared/research/platforms.md, section C (per-platform sources below)"
_GROUPS_SOURCE = "shared/research/groups.md, Proposed defaults (per-type sources below)"

_PLATFORM_FIELDS = ("disclosure", "identifiability", "e2ee", "reach", "usability", "moderation")


@dataclass(frozen=True)
class PlatformSpec:
    """One row of the platform catalogue. All numeric attributes lie in [0, 1]."""

    name: str = _param("", "Platform name (unique).", "str")
    disclosure: float = _param(
        0.0,
        "Chance that a valid legal request yields identifying data.",
        "prob",
        source=_PLATFORM_SOURCE,
    )
    identifiability: float = _param(
        0.0,
        "How much identifying data the operator holds (phone, metadata).",
        "prob",
        source=_PLATFORM_SOURCE,
    )
    e2ee: float = _param(
        0.0, "End-to-end encryption by default (1 yes, 0 no).", "prob", source=_PLATFORM_SOURCE
    )
    reach: float = _param(
        0.0,
        "Public reach: channels, search, bots, group size, users.",
        "prob",
        source=_PLATFORM_SOURCE,
    )
    usability: float = _param(
        0.0, "Ease of use for non-technical members and buyers.", "prob", source=_PLATFORM_SOURCE
    )
    moderation: float = _param(
        0.0, "How hard the operator moderates and bans.", "prob", source=_PLATFORM_SOURCE
    )
    initial_share: float = _param(
        0.0, "Share of groups with this platform as primary at step 0.", "prob"
    )
    immune: bool = _param(False, "Policy contagion can never make it disclose.", "bool")
    sources: str = _param("", "Where the values come from.", "str")
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class CrimeTypeSpec:
    """One crime type: its share, enforcement priority and typical attributes."""

    name: str = _param("", "Crime type name (unique).", "str")
    share: float = _param(0.0, "Share of groups of this type.", "prob", source=_GROUPS_SOURCE)
    priority: float = _param(0.0, "Enforcement priority (severity).", "prob", source=_GROUPS_SOURCE)
    reach_need: float = _param(0.0, "Mean need for public reach.", "prob", source=_GROUPS_SOURCE)
    sophistication: float = _param(
        0.0, "Mean technical sophistication.", "prob", source=_GROUPS_SOURCE
    )
    risk_aversion: float = _param(0.0, "Mean risk aversion.", "prob", source=_GROUPS_SOURCE)
    sources: str = _param("", "Where the values come from.", "str")


SECTIONS: dict[str, type] = {
    "run": RunConfig,
    "groups": GroupsConfig,
    "network": NetworkConfig,
    "risk": RiskConfig,
    "enforcement": EnforcementConfig,
    "moderation": ModerationConfig,
    "choice": ChoiceConfig,
    "metrics": MetricsConfig,
    "ties": TiesConfig,
}
_TABLES = {"platforms": PlatformSpec, "crime_types": CrimeTypeSpec}


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
        """Return the value at a dotted key, e.g. ``"choice.beta"`` or ``"platforms.Tox.reach"``."""
        flat = flatten(self.to_dict())
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
        from migration_sim.shocks import resolved_shocks  # late import: shocks need Config

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
            from migration_sim.shocks import validate_shocks  # late import: shocks need Config

            validate_shocks(self)


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


def _field_meta(cls: type) -> dict[str, Mapping[str, Any]]:
    return {f.name: f.metadata for f in fields(cls) if f.metadata}


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
                row["variants"] = _check_variants(f"{table}.{name}.variants", value)
                continue
            if key not in metas or key == "name":
                allowed = ", ".join(k for k in metas if k != "name")
                raise ConfigError(f"unknown config key '{table}.{name}.{key}'; allowed: {allowed}")
            row[key] = _check_value(f"{table}.{name}.{key}", value, metas[key])
    return rows


def _check_variants(key: str, value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key} must be a table of named variants, got {value!r}")
    metas = _field_meta(PlatformSpec)
    out: dict[str, dict[str, Any]] = {}
    for vname, attrs in value.items():
        if not isinstance(attrs, Mapping):
            raise ConfigError(f"{key}.{vname} must be a table of attributes, got {attrs!r}")
        out[vname] = {}
        for k, v in attrs.items():
            if k not in (*_PLATFORM_FIELDS, "sources"):
                raise ConfigError(
                    f"unknown config key '{key}.{vname}.{k}'; allowed: "
                    + ", ".join((*_PLATFORM_FIELDS, "sources"))
                )
            out[vname][k] = _check_value(f"{key}.{vname}.{k}", v, metas[k])
    return out


def _apply_shocks(shocks: list[dict[str, Any]], value: Any) -> list[dict[str, Any]]:
    """Replace the schedule (a list) or update named shocks (a table keyed by shock name)."""
    if isinstance(value, list):
        if not all(isinstance(s, Mapping) for s in value):
            raise ConfigError("shocks must be a list of tables (one per shock)")
        return [dict(s) for s in value]
    if isinstance(value, Mapping):
        by_name = {s.get("name"): s for s in shocks}
        for name, attrs in value.items():
            if name not in by_name:
                raise ConfigError(
                    f"unknown shock {name!r}; named shocks: {sorted(map(str, by_name))}"
                )
            if not isinstance(attrs, Mapping):
                raise ConfigError(f"shocks.{name} must be a table of parameters, got {attrs!r}")
            by_name[name].update(attrs)
        return shocks
    raise ConfigError(
        f"shocks must be a list of tables or a table keyed by shock name, got {value!r}"
    )


# --------------------------------------------------------------------------------------------
# Catalogues and defaults
# --------------------------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"catalogue file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_catalogue(path: str | Path, table: str = "platforms") -> tuple[Any, ...]:
    """Read a platform (or crime-type) catalogue TOML file into validated specs.

    A platform file holds ``[[platform]]`` tables; a crime-type file ``[[crime_type]]`` tables.
    A platform may carry named variants (``[platform.post_sep_2024]``) of its attributes.
    """
    if table not in _TABLES:
        raise ConfigError(f"table {table!r} is not a catalogue; allowed: {sorted(_TABLES)}")
    path = Path(path)
    data = _read_toml(path)
    entry = "platform" if table == "platforms" else "crime_type"
    rows = data.get(entry)
    if not isinstance(rows, list) or not rows:
        raise ConfigError(f"{path}: expected one or more [[{entry}]] tables")
    cls = _TABLES[table]
    metas = _field_meta(cls)
    specs = []
    for i, row in enumerate(rows):
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
            raise ConfigError(f"{path}: {entry} {name!r} lacks {', '.join(missing)}")
        for key in row:
            if key not in metas:
                raise ConfigError(
                    f"{path}: unknown key '{key}' in {entry} {name!r}; allowed: " + ", ".join(metas)
                )
        kwargs = {
            k: _check_value(f"{path}: {entry} {name!r} {k}", v, metas[k]) for k, v in row.items()
        }
        if variants:
            kwargs["variants"] = _check_variants(f"{path}: {entry} {name!r}", variants)
        specs.append(cls(**kwargs))
    return tuple(specs)


def _default_table(table: str) -> tuple[Any, ...]:
    fname = "platforms.toml" if table == "platforms" else "crime_types.toml"
    with resources.as_file(resources.files("migration_sim") / "data" / fname) as path:
        return load_catalogue(path, table)


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
