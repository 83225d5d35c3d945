"""The parameter schema: one frozen dataclass per section, the platform and crime-type specs.

Every scalar field carries metadata (meaning, kind, allowed range, source) from which
``docs/parameters.md`` is generated, so the schema and its documentation cannot drift apart.
Values are checked against that metadata by :func:`_check_value`; bad values raise
:class:`ConfigError` naming the key, the value and what is allowed. Nothing is clamped.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from migration_sim.config.errors import ConfigError, echo


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
    "date": "an ISO date YYYY-MM-DD (or a TOML date), or an empty string for none",
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
        return ConfigError(f"{key} = {echo(value)} is not allowed: expected {allowed_text(meta)}")

    if isinstance(value, np.generic):  # numpy scalars count as the Python number they hold
        value = value.item()

    if kind == "bool":
        if not isinstance(value, bool):
            raise fail()
        return value
    if kind in ("str", "choice"):
        if not isinstance(value, str) or (kind == "choice" and value not in meta["options"]):
            raise fail()
        return value
    if kind == "date":
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value.isoformat()
        if not isinstance(value, str):
            raise fail()
        if value:
            try:
                return datetime.date.fromisoformat(value).isoformat()
            except ValueError:
                raise fail() from None
        return value
    if kind == "seq_str":
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise fail()
        return list(value)
    if kind == "seq_int":
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 0 for v in value
        ):
            raise fail()
        return sorted({int(v) for v in value})
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
    start_date: str = _param(
        "",
        "Calendar date of step 0 (ISO YYYY-MM-DD, or a TOML date); time axes and shock keys "
        "of figures then show dates. Empty = no calendar: axes count elapsed days.",
        "date",
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
    attention_memory: float = _param(
        0.995,
        "Weight on last step's attention to disclosure: attention A' = max(attention_memory x "
        "A, largest news salience the group holds about any platform). Used only when "
        "choice.w_attention > 0.",
        "prob",
        source="calibrated with choice.w_attention (SMM grid, experiments/calibration/"
        "attention_to_disclosure.toml) on telegram_2024_privacy_destinations: half-life about "
        "140 days; the grid has a ridge (w_attention 40 with memory 0.99 fits as well)",
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
    max_backups: int = _param(
        3,
        "Backup channels a group holds ready; each re-spawn uses one (0 = unlimited, never "
        "run out).",
        "int_nonneg",
        source="Kaspersky DFI / Check Point: banned channels come back from prepared backups "
        "(count: judgement)",
    )
    backup_refill: float = _param(
        1.0 / 60.0,
        "Backup channels a group prepares per step, up to max_backups.",
        "nonneg",
        source="judgement (about one new backup channel every two months)",
    )
    ban_memory: float = _param(
        0.98,
        "Weight on last step's ban pressure; this step's bans are added on top.",
        "prob",
        source="judgement (bans weigh for about 50 days)",
    )
    w_ban_seen: float = _param(
        1.0,
        "Weight of the share of a group's contacts banned on a platform this step, added to "
        "its ban pressure there (its own ban adds 1).",
        "nonneg",
        source="Amarasingam, Maher & Winter 2021: bans seen across a community pushed it off",
    )
    w_rejoin: float = _param(
        1.0,
        "Re-joining the platform that just banned a group costs w_switch x min(1, w_rejoin x "
        "its ban pressure there before the ban): free after a first ban, full price once the "
        "platform keeps banning (0 = always free).",
        "nonneg",
        source="Amarasingam, Maher & Winter 2021: repeated bans made return costly (judgement)",
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
    w_ban: float = _param(
        1.0,
        "Weight of ban pressure (bans of the group and its contacts on the platform) as a "
        "cost, whatever the crime type (0 = bans do not enter the choice).",
        "nonneg",
        source="calibrated (simulated method of moments, grid 0.25/0.5/1 x w_follow 4/6/8/10, "
        "3 replicates x 2,000 groups; experiments/calibration/coordination_and_bans.toml) on "
        "ban_strong_sustained (Amarasingam, Maher & Winter 2021), takedown_top_destination "
        "and telegram_2024_privacy_destinations; see docs/validation.md",
    )
    w_follow: float = _param(
        8.0,
        "Coordination weight: an unsettled group values a platform by the share of unsettled "
        "groups that have it as primary (where the movers went; 0 = no coordination).",
        "nonneg",
        source="calibrated twice by SMM grid: with w_ban (experiments/calibration/"
        "coordination_and_bans.toml, on takedown_top_destination: 6), then with "
        "choice.unsettled_steps (experiments/calibration/unsettled_window.toml, 6 replicates x "
        "3,000 groups, also on takedown_few_split: 8, unsettled_steps kept at 14); targets "
        "ElBahrawy et al. 2020 (top destination ~2/3 of migrants, few split); mechanism: "
        "La Cava et al. 2023",
    )
    w_attention: float = _param(
        10.0,
        "Attention to disclosure: news about a platform makes a group weigh the disclosure of "
        "every platform; adds w_attention x attention x exposure_k to the perceived risk of "
        "every platform k in the choice (0 = off).",
        "nonneg",
        source="calibrated (simulated method of moments, grid 10-80 x risk.attention_memory "
        "0.95-0.998, 3 replicates x 2,000 groups; experiments/calibration/"
        "attention_to_disclosure.toml) on telegram_2024_privacy_destinations; mechanism: "
        "salience raises an attribute's weight in choice (Bordalo, Gennaioli & Shleifer 2013, "
        "judgement to apply it here); after the 2024 news forums discussed Jabber, Tox and "
        "Matrix (Intel 471) and Session was rated the best substitute (Cyberint; "
        "shared/research/groups.md)",
    )
    unsettled_steps: int = _param(
        14,
        "Steps a group stays unsettled after it was displaced or changed its primary platform.",
        "int_nonneg",
        source="ElBahrawy et al. 2020: the top destination's gain saturates within about a week",
    )
    p_resettle: float = _param(
        0.3,
        "Probability per step that an unsettled group revises (instead of p_revise).",
        "prob",
        source="judgement (announcements of a move circulate within days)",
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


def _field_meta(cls: type) -> dict[str, Mapping[str, Any]]:
    return {f.name: f.metadata for f in fields(cls) if f.metadata}


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
