"""Policy shocks in action: what each kind of shock does to a running model.

The parameters, defaults and validation of each kind are declared in
:mod:`migration_sim.config.shocks`; the classes here extend them with ``apply``, called by the
model at the start of the steps where :meth:`~migration_sim.config.shocks.Shock.applies_at` is
true. A shock reads and writes the model only through :class:`ShockTarget`.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from migration_sim.config import shocks as specs
from migration_sim.config.shocks import Catalogue, make_shock

__all__ = ["SHOCK_CLASSES", "ShockTarget", "build_shocks"]


class ShockTarget(Protocol):
    """The parts of a :class:`~migration_sim.model.MigrationModel` that shocks act on."""

    params: Any
    platform: Any
    population: Any
    streams: dict[str, np.random.Generator]
    recorder: Any
    displaced: np.ndarray
    unsettled: np.ndarray
    in_news: np.ndarray
    news_retention: np.ndarray
    news_spread: np.ndarray
    type_enforcement_multiplier: np.ndarray
    crime_type_names: list[str]
    shock_log: list[dict[str, Any]]

    def drop_presence(  # noqa: D102
        self, groups: np.ndarray, platforms: np.ndarray, *, banned: bool = False
    ) -> None: ...

    def primary_share(self) -> np.ndarray:  # noqa: D102
        ...

    def ban_groups(  # noqa: D102
        self,
        groups: np.ndarray,
        platforms: np.ndarray,
        u: np.ndarray,
        p_backup: float,
        t: int | None,
    ) -> np.ndarray: ...


class DisclosureChange(specs.DisclosureChange):
    """A disclosure change (parameters: :class:`migration_sim.config.shocks.DisclosureChange`)."""

    def apply(self, model: ShockTarget, t: int) -> None:
        """Apply a disclosure change: set the platform's disclosure, or its variant's attributes."""
        k = model.platform.index(self.platform)
        if self.to is not None:
            model.platform.disclosure[k] = self.to
            return
        spec = model.params.platforms[k]
        for attr, value in spec.variants[self.variant].items():
            if attr != "sources":
                getattr(model.platform, attr)[k] = value


class Salience(specs.Salience):
    """News (parameters: :class:`migration_sim.config.shocks.Salience`)."""

    def apply(self, model: ShockTarget, t: int) -> None:
        """Apply news: groups hear it with the given probabilities; it then spreads and fades."""
        pop = model.population
        u = model.streams["shocks"].random(pop.n)
        for name in self.platforms:
            k = model.platform.index(name)
            p = np.where(pop.member[:, k], self.p_members, self.p_others) * pop.active
            hears = u < p
            pop.news[hears, k] = np.maximum(pop.news[hears, k], self.magnitude)
            # news already held stays in the news even if nobody hears this one
            model.in_news[k] |= bool(hears.any() and self.magnitude > 0)
            if self.retention is not None:
                model.news_retention[k] = self.retention
            if self.spread is not None:
                model.news_spread[k] = self.spread


class Takedown(specs.Takedown):
    """A takedown (parameters: :class:`migration_sim.config.shocks.Takedown`)."""

    def apply(self, model: ShockTarget, t: int) -> None:
        """Apply a takedown: the platform becomes unavailable; every presence there is dropped."""
        pop = model.population
        k = model.platform.index(self.platform)
        u = model.streams["shocks"].random(pop.n)
        model.platform.available[k] = False
        on_k = np.flatnonzero(pop.member[:, k])
        model.drop_presence(on_k, np.full(on_k.size, k))
        # only a group left with no presence at all can go dark; one that still holds a
        # secondary platform must choose a new primary like the others
        goes_dark = model.displaced & (u < self.p_dark) & ~pop.member.any(axis=1)
        model.displaced[goes_dark] = False
        model.unsettled[goes_dark] = 0.0


class Crackdown(specs.Crackdown):
    """A crackdown (parameters: :class:`migration_sim.config.shocks.Crackdown`)."""

    def apply(self, model: ShockTarget, t: int) -> None:
        """Apply a crackdown: scale the enforcement hazard at start, undo it after end."""
        f = self.factor if t == self.start else 1.0 / self.factor
        if self.crime_type is not None:
            model.type_enforcement_multiplier[model.crime_type_names.index(self.crime_type)] *= f
        if self.platform is not None:
            model.platform.enforcement_multiplier[model.platform.index(self.platform)] *= f


class BanWave(specs.BanWave):
    """A ban wave (parameters: :class:`migration_sim.config.shocks.BanWave`)."""

    def apply(self, model: ShockTarget, t: int) -> None:
        """Apply a ban wave: one-off bans with backup re-spawns, or a sustained factor."""
        k = model.platform.index(self.platform)
        if self.mode == "sustained":
            f = self.factor if t == self.start else 1.0 / self.factor
            model.platform.moderation_multiplier[k] *= f
            return
        pop = model.population
        u = model.streams["shocks"].random((pop.n, 2))
        banned = np.flatnonzero(pop.member[:, k] & (u[:, 0] < self.share))
        p_backup = model.params.moderation.p_backup if self.p_backup is None else self.p_backup
        model.ban_groups(banned, np.full(banned.size, k), u[banned, 1], p_backup, t)


class PolicyContagion(specs.PolicyContagion):
    """The domino effect (parameters: :class:`migration_sim.config.shocks.PolicyContagion`)."""

    def apply(self, model: ShockTarget, t: int) -> None:
        """Apply the domino effect: each candidate platform adopts disclosure with its hazard."""
        plat = model.platform
        u = model.streams["shocks"].random(len(plat.names))
        share = model.primary_share()
        for k, name in enumerate(plat.names):
            if plat.immune[k] or name in self.adopted or name in self.exclude:
                continue
            if self.platforms and name not in self.platforms:
                continue
            p = 1.0 - np.exp(-(self.pressure + self.w_share * share[k]))
            if u[k] < p:
                plat.disclosure[k] = max(plat.disclosure[k], self.to)
                self.adopted.append(name)
                model.shock_log.append(
                    {"step": t, "shock": self.name, "kind": "adoption", "platform": name}
                )


SHOCK_CLASSES: dict[str, type[specs.Shock]] = {
    cls.kind: cls
    for cls in (DisclosureChange, Salience, Takedown, Crackdown, BanWave, PolicyContagion)
}


def build_shocks(cfg: Catalogue) -> list[Any]:
    """Instantiate the configuration's shock schedule (fresh objects for each run)."""
    return [make_shock(dict(entry), i, SHOCK_CLASSES) for i, entry in enumerate(cfg.shocks)]
