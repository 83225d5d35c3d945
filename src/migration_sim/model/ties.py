"""Tie dynamics: contact ties dissolve without a shared platform and form on shared platforms.

A tie whose two active groups have shared no platform for more than ``dissolve_after`` steps
dissolves with probability ``p_dissolve`` per step. Each active group forms, with probability
``p_form * reach_k``, one new tie with a random other group present on a platform k drawn
uniformly from its own platforms. Both rates default to 0 (a static network), so that scenario
comparisons run on one fixed graph; switch them on to let fragmentation persist or heal.
"""

from __future__ import annotations

import numpy as np

from migration_sim.config import TiesConfig
from migration_sim.model.choice import presence_codes
from migration_sim.model.groups import Population
from migration_sim.model.network import ContactNetwork
from migration_sim.model.platforms import PlatformState

__all__ = ["TieDynamics"]

_PLATFORM_BITS = (1 << 62) - 1  # presence bits of presence_codes, without the active flag


class TieDynamics:
    """Evolves a :class:`ContactNetwork` in place of the model's network.

    Parameters
    ----------
    network : ContactNetwork
        The initial network; the dynamics replace ``self.network`` when ties change.
    cfg : TiesConfig
        Rates and the grace period.
    """

    def __init__(self, network: ContactNetwork, cfg: TiesConfig) -> None:
        self.network = network
        self.cfg = cfg
        self.unshared = np.zeros(network.edges_u.size, np.int64)
        self.n_dissolved = 0
        self.n_formed = 0

    @property
    def enabled(self) -> bool:
        """True when either rate is positive."""
        return self.cfg.p_dissolve > 0.0 or self.cfg.p_form > 0.0

    def step(
        self, pop: Population, platform: PlatformState, rng: np.random.Generator
    ) -> ContactNetwork:
        """Dissolve and form ties for one step; return the (possibly new) network.

        Random numbers: one uniform per current tie, then three per group, always drawn, so the
        stream stays aligned across scenarios.
        """
        net = self.network
        u_tie = rng.random(net.edges_u.size)
        u_form = rng.random((pop.n, 3))
        bits = presence_codes(pop.member, pop.active)
        both = pop.active[net.edges_u] & pop.active[net.edges_v]
        shared = (bits[net.edges_u] & bits[net.edges_v] & _PLATFORM_BITS) != 0
        self.unshared = np.where(shared | ~both, 0, self.unshared + 1)
        dissolve = (self.unshared > self.cfg.dissolve_after) & (u_tie < self.cfg.p_dissolve)
        keep = ~dissolve
        new_u, new_v = self._formed(pop, platform, u_form)
        if not dissolve.any() and new_u.size == 0:
            return net
        self.n_dissolved += int(dissolve.sum())
        old_key = net.edges_u[keep] * net.n + net.edges_v[keep]  # sorted: edges are unique-sorted
        old_unshared = self.unshared[keep]
        u = np.concatenate([net.edges_u[keep], new_u])
        v = np.concatenate([net.edges_v[keep], new_v])
        self.network = ContactNetwork.from_edges(net.n, u, v)
        key = self.network.edges_u * net.n + self.network.edges_v
        if old_key.size:
            pos = np.minimum(np.searchsorted(old_key, key), old_key.size - 1)
            self.unshared = np.where(old_key[pos] == key, old_unshared[pos], 0)
        else:
            self.unshared = np.zeros(key.size, np.int64)
        self.n_formed += int(self.network.edges_u.size - keep.sum())
        return self.network

    def _formed(
        self, pop: Population, platform: PlatformState, u: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """New ties (unordered pairs; duplicates and existing ties are removed later)."""
        if self.cfg.p_form <= 0.0:
            e = np.empty(0, np.int64)
            return e, e.copy()
        counts = pop.member.sum(axis=1)
        cand = np.flatnonzero(pop.active & (counts > 0))
        # which of its platforms each candidate uses: the floor(u * count)-th present one
        nth = np.floor(u[cand, 0] * counts[cand]).astype(np.int64)
        cum = np.cumsum(pop.member[cand], axis=1)
        plat = np.argmax(cum > nth[:, None], axis=1)
        forms = u[cand, 1] < self.cfg.p_form * platform.reach[plat]
        src, plat = cand[forms], plat[forms]
        us, vs = [], []
        for k in np.unique(plat):
            on_k = np.flatnonzero(pop.member[:, k])
            who = src[plat == k]
            partner = on_k[np.floor(u[who, 2] * on_k.size).astype(np.int64)]
            ok = partner != who
            us.append(who[ok])
            vs.append(partner[ok])
        if not us:
            e = np.empty(0, np.int64)
            return e, e.copy()
        return np.concatenate(us), np.concatenate(vs)
