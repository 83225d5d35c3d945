"""Policy shocks as data: each kind's parameters, their defaults and their validation.

This module declares what a shock *is* (the part of the configuration); what a shock *does* to a
running model lives in :mod:`migration_sim.model.shocks`, whose classes extend these with
``apply``.

A shock is declared in a scenario as a table with a ``kind``, a unique ``name`` and a ``start``
step (and, for lasting shocks, an ``end`` step, inclusive). Shocks at step t are applied at the
start of step t, before enforcement, so nothing recorded before t can change. Any number of
shocks compose, in schedule order.

Kinds: ``disclosure_change``, ``salience``, ``takedown``, ``crackdown``, ``ban_wave``,
``policy_contagion``. Each class documents its parameters; :func:`validate_shocks` checks a
whole schedule against the configuration and names the offending key on error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Protocol

import numpy as np

from migration_sim.config.errors import echo, shorten
from migration_sim.config.schema import ConfigError, PlatformSpec

__all__ = ["SHOCK_KINDS", "Catalogue", "Shock", "make_shock", "resolved_shocks", "validate_shocks"]


class Catalogue(Protocol):
    """What shock validation reads of a configuration (a :class:`~migration_sim.config.Config`)."""

    platforms: tuple[PlatformSpec, ...]

    @property
    def platform_names(self) -> list[str]:  # noqa: D102
        ...

    @property
    def crime_type_names(self) -> list[str]:  # noqa: D102
        ...

    @property
    def shocks(self) -> tuple[dict[str, Any], ...]:  # noqa: D102
        ...


@dataclass
class Shock:
    """Base class: a named event applied at ``start`` (and, if lasting, undone after ``end``).

    Parameters
    ----------
    name : str
        Unique name in the schedule (used for overrides: ``shocks.<name>.<param>``).
    start : int
        First step at which the shock acts (>= 1).
    end : int or None
        Last step of a lasting shock (inclusive); None = permanent or one-off.
    """

    kind: ClassVar[str] = ""
    name: str
    start: int
    end: int | None = None

    def applies_at(self, t: int) -> bool:
        """True on the steps at which :meth:`apply` must be called."""
        return t == self.start or (self.end is not None and t == self.end + 1)

    # ------------------------------------------------------------------ validation helpers
    def check(self, cfg: Catalogue) -> None:
        """Validate parameters against the configuration; raise ConfigError naming the key."""
        if (
            isinstance(self.start, bool)
            or not isinstance(self.start, int | np.integer)
            or self.start < 1
        ):
            raise self.error("start", self.start, "an integer step >= 1")
        if self.end is not None and (
            isinstance(self.end, bool)
            or not isinstance(self.end, int | np.integer)
            or self.end < self.start
        ):
            raise self.error("end", self.end, f"an integer step >= start ({self.start})")

    def error(self, key: str, value: Any, allowed: str) -> ConfigError:
        """A ConfigError naming this shock's key, the value and what is allowed."""
        return ConfigError(
            f"shocks.{self.name}.{key} = {echo(value)} is not allowed: expected {allowed}"
        )

    def check_platforms(self, cfg: Catalogue, key: str, names: list[str]) -> None:
        """Every name must be a catalogue platform."""
        known = cfg.platform_names
        if not isinstance(names, list | tuple) or not names:
            raise self.error(key, names, "a non-empty list of platform names")
        for n in names:
            if n not in known:
                raise self.error(key, n, "one of " + ", ".join(known))

    def check_prob(self, key: str, value: Any) -> None:
        """Value must be a number in [0, 1]."""
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float | np.number)
            or not 0 <= value <= 1
        ):
            raise self.error(key, value, "a number in [0, 1]")

    def check_nonneg(self, key: str, value: Any) -> None:
        """Value must be a finite number >= 0."""
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float | np.number)
            or not np.isfinite(value)
            or value < 0
        ):
            raise self.error(key, value, "a finite number >= 0")


@dataclass
class DisclosureChange(Shock):
    """A platform changes what it discloses to authorities (Telegram, 23 September 2024).

    Parameters
    ----------
    platform : str
        The platform.
    to : float or None
        New disclosure in [0, 1].
    variant : str or None
        Name of a catalogue variant of the platform (e.g. ``"post_sep_2024"``) whose attributes
        (disclosure and any others it lists) replace the current ones. Give ``to`` or
        ``variant``, not both.
    """

    kind: ClassVar[str] = "disclosure_change"
    platform: str = ""
    to: float | None = None
    variant: str | None = None

    def check(self, cfg: Catalogue) -> None:  # noqa: D102
        super().check(cfg)
        if self.end is not None:
            raise self.error(
                "end",
                self.end,
                "no end: a policy change is permanent (schedule a second "
                "disclosure_change to revert it)",
            )
        self.check_platforms(cfg, "platform", [self.platform])
        if (self.to is None) == (self.variant is None):
            raise self.error("to", self.to, "exactly one of 'to' or 'variant'")
        if self.to is not None:
            self.check_prob("to", self.to)
        else:
            spec = cfg.platforms[cfg.platform_names.index(self.platform)]
            if self.variant not in spec.variants:
                raise self.error(
                    "variant",
                    self.variant,
                    f"a variant of {self.platform}: {sorted(spec.variants)}",
                )


@dataclass
class Salience(Shock):
    """News that raises the perceived risk of platforms (an arrest; news of handovers).

    Groups that hear the news directly get salience ``magnitude`` for each listed platform; it
    then spreads through contacts and fades (see :func:`migration_sim.model.kernels.spread_news`).

    Parameters
    ----------
    platforms : list of str
        Platforms the news is about.
    magnitude : float
        Salience in [0, 1] for those who hear it directly.
    p_members : float
        Probability that a group present on the platform hears it directly (default 1).
    p_others : float
        Probability that any other active group hears it directly (default 0).
    retention : float or None
        Share of salience kept per step for these platforms from now on (default: the
        model's ``risk.news_retention``).
    spread : float or None
        Attenuation when passed on by contacts (default: ``risk.news_spread``).
    """

    kind: ClassVar[str] = "salience"
    platforms: list[str] = field(default_factory=list)
    magnitude: float = 0.5
    p_members: float = 1.0
    p_others: float = 0.0
    retention: float | None = None
    spread: float | None = None

    def check(self, cfg: Catalogue) -> None:  # noqa: D102
        super().check(cfg)
        if self.end is not None:
            raise self.error("end", self.end, "no end: news is a one-off; use retention for decay")
        self.check_platforms(cfg, "platforms", self.platforms)
        for key in ("magnitude", "p_members", "p_others"):
            self.check_prob(key, getattr(self, key))
        for key in ("retention", "spread"):
            if getattr(self, key) is not None:
                self.check_prob(key, getattr(self, key))


@dataclass
class Takedown(Shock):
    """A platform becomes unavailable (EncroChat 2020, Sky ECC 2021).

    Every group loses its presence there at once; none can join it again. A group whose
    primary it was goes dark with probability ``p_dark`` (it may come back when it next
    revises) and otherwise must choose a new primary in this step's choice process.

    Parameters
    ----------
    platform : str
        The platform taken down.
    p_dark : float
        Probability that a displaced group goes dark instead of moving at once.
    """

    kind: ClassVar[str] = "takedown"
    platform: str = ""
    p_dark: float = 0.0

    def check(self, cfg: Catalogue) -> None:  # noqa: D102
        super().check(cfg)
        if self.end is not None:
            raise self.error("end", self.end, "no end: a takedown is permanent")
        self.check_platforms(cfg, "platform", [self.platform])
        self.check_prob("p_dark", self.p_dark)


@dataclass
class Crackdown(Shock):
    """Enforcement intensity is scaled for one crime type and/or one platform for a period.

    Parameters
    ----------
    crime_type : str or None
        Crime type targeted (None = all).
    platform : str or None
        Platform targeted (None = all). At least one of the two must be given.
    factor : float
        Multiplier of the enforcement hazard (>= 0) from ``start`` to ``end``.
    """

    kind: ClassVar[str] = "crackdown"
    crime_type: str | None = None
    platform: str | None = None
    factor: float = 2.0

    def check(self, cfg: Catalogue) -> None:  # noqa: D102
        super().check(cfg)
        if self.crime_type is None and self.platform is None:
            raise self.error("crime_type", None, "a crime type and/or a platform")
        if self.crime_type is not None and self.crime_type not in cfg.crime_type_names:
            raise self.error(
                "crime_type", self.crime_type, "one of " + ", ".join(cfg.crime_type_names)
            )
        if self.platform is not None:
            self.check_platforms(cfg, "platform", [self.platform])
        self.check_nonneg("factor", self.factor)
        if self.factor == 0 and self.end is not None:
            raise self.error("factor", 0, "a factor > 0 for a crackdown with an end")

        # with both given, the hazard of that type on that platform is scaled by factor**2
        # (documented in docs/scenarios.md)


@dataclass
class BanWave(Shock):
    """A platform's moderation removes groups' channels, once or as a sustained campaign.

    Parameters
    ----------
    platform : str
        The platform.
    mode : {"once", "sustained"}
        ``once``: at ``start`` each group present is banned with probability ``share``.
        ``sustained``: the moderation hazard is multiplied by ``factor`` from start to end.
    share : float
        Probability of a ban per present group (``once``).
    factor : float
        Moderation-hazard multiplier (``sustained``, > 0).
    p_backup : float or None
        Probability that a banned group re-spawns at once from a backup channel (``once``;
        default: ``moderation.p_backup``; sustained waves always use the model's value).
    """

    kind: ClassVar[str] = "ban_wave"
    platform: str = ""
    mode: str = "once"
    share: float = 0.1
    factor: float = 5.0
    p_backup: float | None = None

    def check(self, cfg: Catalogue) -> None:  # noqa: D102
        super().check(cfg)
        self.check_platforms(cfg, "platform", [self.platform])
        if self.mode not in ("once", "sustained"):
            raise self.error("mode", self.mode, "'once' or 'sustained'")
        self.check_prob("share", self.share)
        self.check_nonneg("factor", self.factor)
        if self.mode == "sustained" and self.factor == 0:
            raise self.error("factor", self.factor, "a number > 0")
        if self.mode == "once" and self.end is not None:
            raise self.error("end", self.end, "no end for mode 'once'")
        if self.p_backup is not None:
            self.check_prob("p_backup", self.p_backup)


@dataclass
class PolicyContagion(Shock):
    """Other platforms adopt disclosure (the domino effect).

    Each step from ``start`` to ``end`` (or the end of the run), every platform that is not
    immune, not yet adopted, and listed (or any, if ``platforms`` is empty) adopts with
    probability ``p = 1 - exp(-(pressure + w_share * presence_share_k))``, where
    ``presence_share_k`` is the share of active groups present on it: the more criminal
    activity a platform hosts, the more pressure it is under. Adoption raises its disclosure to
    ``max(current, to)``. Immune platforms never adopt.

    Parameters
    ----------
    to : float
        Disclosure adopted, in [0, 1].
    pressure : float
        Baseline outside pressure (hazard per step, >= 0).
    w_share : float
        Weight of the hosted share of criminal activity (>= 0).
    platforms : list of str
        Candidate platforms (empty = all non-immune platforms).
    exclude : list of str
        Platforms never considered (e.g. the one that started the domino).
    """

    kind: ClassVar[str] = "policy_contagion"
    to: float = 0.5
    pressure: float = 0.0
    w_share: float = 0.05
    platforms: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list, init=False)

    def applies_at(self, t: int) -> bool:  # noqa: D102
        return t >= self.start and (self.end is None or t <= self.end)

    def check(self, cfg: Catalogue) -> None:  # noqa: D102
        super().check(cfg)
        self.check_prob("to", self.to)
        self.check_nonneg("pressure", self.pressure)
        self.check_nonneg("w_share", self.w_share)
        for key in ("platforms", "exclude"):
            names = getattr(self, key)
            if names:
                self.check_platforms(cfg, key, names)


SHOCK_KINDS: dict[str, type[Shock]] = {
    cls.kind: cls
    for cls in (DisclosureChange, Salience, Takedown, Crackdown, BanWave, PolicyContagion)
}


def make_shock(
    entry: dict[str, Any], index: int, kinds: dict[str, type[Shock]] | None = None
) -> Shock:
    """Build the shock of one schedule entry, naming the key on error.

    ``kinds`` maps each kind to its class (default :data:`SHOCK_KINDS`; the model passes the
    classes that can also ``apply``).
    """
    kinds = SHOCK_KINDS if kinds is None else kinds
    if not isinstance(entry, Mapping):
        raise ConfigError(
            f"shocks[{index}] = {echo(entry)} is not allowed: expected a table (one per shock)"
        )
    name = entry.get("name", f"[{index}]")
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f"shocks[{index}].name = {echo(name)} is not allowed: expected a non-empty string"
        )
    label = shorten(name, 40)
    kind = entry.get("kind")
    if not isinstance(kind, str) or kind not in kinds:
        raise ConfigError(
            f"shocks.{label}.kind = {echo(kind)} is not allowed: expected one of "
            + ", ".join(kinds)
        )
    cls = kinds[kind]
    allowed = [f.name for f in fields(cls) if f.init]
    params = {k: v for k, v in entry.items() if k != "kind"}
    params.setdefault("name", f"{kind}_{index}")
    for key in params:
        if key not in allowed:
            raise ConfigError(
                f"unknown config key 'shocks.{label}.{shorten(str(key), 40)}' for kind "
                f"{kind!r}; allowed: " + ", ".join(["kind", *allowed])
            )
    if "start" not in params:
        raise ConfigError(f"shocks.{label}.start is missing: every shock needs a start step")
    return cls(**params)


def resolved_shocks(shocks: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    """The shock tables with every parameter filled in (defaults included), for saving."""
    out = []
    for i, entry in enumerate(shocks):
        shock = make_shock(dict(entry), i)
        table: dict[str, Any] = {"kind": shock.kind}
        for f in fields(shock):
            value = getattr(shock, f.name)
            if f.init and value is not None:
                table[f.name] = list(value) if isinstance(value, list) else value
        out.append(table)
    return out


def validate_shocks(cfg: Catalogue) -> None:
    """Check every shock of the schedule; raise ConfigError naming the key on the first error."""
    shocks = [make_shock(dict(entry), i) for i, entry in enumerate(cfg.shocks)]
    names = [s.name for s in shocks]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"shocks: duplicate shock names {dup}; names must be unique")
    for s in shocks:
        s.check(cfg)
