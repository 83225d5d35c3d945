"""Criminal groups: the population's state arrays and the ``CriminalGroup`` Mesa view.

Group state lives in arrays indexed by group id (struct of arrays, see DESIGN.md). A
:class:`CriminalGroup` is a thin Mesa agent that reads and writes those arrays through
properties, and carries the readable, per-group reference version of the decision rule
(:meth:`CriminalGroup.perceive` and :meth:`CriminalGroup.choose`). Tests prove the vectorised
kernels in :mod:`migration_sim.model.kernels` give the same results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import mesa
import numba
import numpy as np
from scipy import special

from migration_sim.config import Config

__all__ = ["Population", "draw_population", "CriminalGroup", "GroupHost"]


class GroupHost(Protocol):
    """The model state a :class:`CriminalGroup` views and its reference rule reads.

    :class:`~migration_sim.model.MigrationModel` provides it; declaring it here keeps this module
    free of an import of the model.
    """

    population: Population
    network: Any
    params: Config
    platform: Any
    weights: Any
    constants: np.ndarray
    popularity: np.ndarray
    banned_from: np.ndarray
    exposure_k: np.ndarray
    attention: np.ndarray
    news_retention: np.ndarray
    news_spread: np.ndarray
    n_platforms: int
    platform_names: list[str]
    crime_type_names: list[str]
    type_priority: np.ndarray


@dataclass
class Population:
    """Per-group state arrays (length N; (N, K) for per-platform state).

    ``member[i, k]`` is True when group i is present on platform k; ``primary[i]`` is its
    primary platform (-1 when it has none: dark or removed). Removed groups keep their row with
    ``active`` False and no presence; ids are never reused.
    """

    crime_type: np.ndarray
    size: np.ndarray
    risk_aversion: np.ndarray
    reach_need: np.ndarray
    sophistication: np.ndarray
    active: np.ndarray
    primary: np.ndarray
    member: np.ndarray
    risk: np.ndarray
    news: np.ndarray

    @property
    def n(self) -> int:
        """Number of groups, active or not."""
        return self.size.size


#: Draws of one Beta law from which its quantile function is tabulated (see _beta_ppf).
TABULATE_FROM = 4_096

#: Nodes of the tabulated quantile function, evenly spaced in logit(u) on [-37, 37].
_TABLE_NODES = 2_049
_TABLE_LOGIT = 37.0


def _beta_ppf(
    u: np.ndarray, type_mean: np.ndarray, crime_type: np.ndarray, concentration: float
) -> np.ndarray:
    """Quantile ``u`` of Beta(c*m, c*(1-m)), m the mean of each group's crime type.

    A mean of exactly 0 or 1 gives that constant. A law drawn fewer than
    :data:`TABULATE_FROM` times is inverted exactly (``scipy.special.betaincinv``, about 1.3
    us per draw); a law drawn more often is inverted through a table of its quantile function:
    cubic Hermite interpolation in ``s = logit(u)`` between 2,049 exact nodes on [-37, 37], with
    the exact slopes ``dx/ds = u (1 - u) / pdf(x)``. The table's largest absolute error is below
    5e-10 on the laws of the catalogue and 1e-8 on Beta(0.3, 0.5) (``tests/test_groups.py``),
    at a twentieth of the cost; draws outside the table fall back to the exact inverse.
    """
    out = type_mean[crime_type].astype(np.float64)
    for c, m in enumerate(type_mean):
        if not 0.0 < m < 1.0:
            continue
        rows = np.flatnonzero(crime_type == c)
        a, b = concentration * m, concentration * (1.0 - m)
        if rows.size < TABULATE_FROM:
            out[rows] = special.betaincinv(a, b, u[rows])
            continue
        x, slope, first, last = _quantile_table(a, b)
        values = np.empty(rows.size)
        exact = _interpolate_quantile(u[rows], x, slope, first, last, values)
        values[exact] = special.betaincinv(a, b, u[rows][exact])
        out[rows] = values
    return out


def _quantile_table(a: float, b: float) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Exact Beta(a, b) quantiles and their slopes in logit(u) at the table's nodes.

    Returns the nodes' quantiles and slopes and the first and last node of the longest run of
    nodes inside (0, 1) with finite slopes (at extreme u the quantile rounds to 0 or 1).
    """
    s = np.linspace(-_TABLE_LOGIT, _TABLE_LOGIT, _TABLE_NODES)
    u = special.expit(s)
    x = special.betaincinv(a, b, u)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pdf = (a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x) - special.betaln(a, b)
        slope = np.exp(np.log(u) + np.log1p(-u) - log_pdf)
    ok = (x > 0.0) & (x < 1.0) & np.isfinite(slope)
    # longest run of usable nodes
    edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]])))
    starts, ends = edges[::2], edges[1::2]
    longest = int(np.argmax(ends - starts))
    return x, slope, int(starts[longest]), int(ends[longest]) - 1


@numba.njit(cache=True)
def _interpolate_quantile(u, x, slope, first, last, out):
    """Cubic Hermite interpolation of the table; returns the mask of draws it cannot serve."""
    h = 2.0 * _TABLE_LOGIT / (_TABLE_NODES - 1)
    exact = np.zeros(u.size, np.bool_)
    for i in range(u.size):
        ui = u[i]
        if not 0.0 < ui < 1.0:
            exact[i] = True
            continue
        f = (np.log(ui) - np.log1p(-ui) + _TABLE_LOGIT) / h
        j = int(np.floor(f))
        if j < first or j >= last:
            exact[i] = True
            continue
        t = f - j
        t2 = t * t
        t3 = t2 * t
        out[i] = (
            (2.0 * t3 - 3.0 * t2 + 1.0) * x[j]
            + (t3 - 2.0 * t2 + t) * h * slope[j]
            + (3.0 * t2 - 2.0 * t3) * x[j + 1]
            + (t3 - t2) * h * slope[j + 1]
        )
    return exact


def draw_population(cfg: Config, rng: np.random.Generator) -> Population:
    """Draw the initial population from the configuration.

    * crime type ~ Categorical(crime_types.*.share);
    * size ~ LogNormal(log(size_median), size_sigma) truncated to [size_min, size_max]
      (inverse-CDF sampling, so the truncation is exact);
    * reach need ~ Beta(c m, c (1 - m)) around the type mean m;
    * sophistication and risk aversion: Beta quantiles of a Gaussian copula with correlation
      ``groups.sophistication_risk_correlation``;
    * primary platform ~ Categorical(platforms.*.initial_share); with probability
      ``p_initial_secondary`` (and max_platforms > 1) one secondary platform drawn from the
      initial shares of the other platforms.

    The draws are made in a fixed order from one generator, so a population depends only on
    the configuration and the stream.
    """
    g = cfg.groups
    n, k = g.n_groups, len(cfg.platforms)
    types = cfg.crime_types
    shares = np.array([c.share for c in types])
    crime_type = rng.choice(len(types), size=n, p=shares / shares.sum())

    mu = math.log(g.size_median)
    lo = special.ndtr((math.log(g.size_min) - mu) / g.size_sigma)
    hi = special.ndtr((math.log(g.size_max) - mu) / g.size_sigma)
    u = lo + (hi - lo) * rng.random(n)
    size = np.clip(np.exp(mu + g.size_sigma * special.ndtri(u)), g.size_min, g.size_max)

    def type_mean(attr: str) -> np.ndarray:
        return np.array([getattr(c, attr) for c in types], dtype=np.float64)

    c = g.beta_concentration
    reach_need = _beta_ppf(rng.random(n), type_mean("reach_need"), crime_type, c)
    rho = g.sophistication_risk_correlation
    z = rng.standard_normal((n, 2))
    z_soph = z[:, 0]
    z_risk = rho * z[:, 0] + math.sqrt(1.0 - rho * rho) * z[:, 1]
    sophistication = _beta_ppf(special.ndtr(z_soph), type_mean("sophistication"), crime_type, c)
    risk_aversion = _beta_ppf(special.ndtr(z_risk), type_mean("risk_aversion"), crime_type, c)

    init = np.array([p.initial_share for p in cfg.platforms])
    primary = rng.choice(k, size=n, p=init / init.sum())
    member = np.zeros((n, k), dtype=bool)
    member[np.arange(n), primary] = True
    u_sec = rng.random((n, 2))
    if g.max_platforms > 1 and k > 1:
        wants = u_sec[:, 0] < g.p_initial_secondary
        weights = np.broadcast_to(init, (n, k)).copy()
        weights[np.arange(n), primary] = 0.0
        cum = np.cumsum(weights, axis=1)
        has = cum[:, -1] > 0
        pick = np.argmax(cum > (u_sec[:, 1] * cum[:, -1])[:, None], axis=1)
        sel = wants & has
        member[np.flatnonzero(sel), pick[sel]] = True

    return Population(
        crime_type=crime_type.astype(np.int64),
        size=size,
        risk_aversion=risk_aversion,
        reach_need=reach_need,
        sophistication=sophistication,
        active=np.ones(n, dtype=bool),
        primary=primary.astype(np.int64),
        member=member,
        risk=np.zeros((n, k)),
        news=np.zeros((n, k)),
    )


class CriminalGroup(mesa.Agent):
    """A criminal group: a Mesa agent that views row ``group_id`` of the model's arrays.

    Attribute reads and writes go straight to the arrays, so ``model.agents``, AgentSet
    selection and Mesa's tooling see the live state. The methods :meth:`perceive`,
    :meth:`utilities` and :meth:`choose` are the readable reference version of the decision
    rule: plain Python over one group, term by term, in the same order as the kernels.
    """

    def __init__(self, model: GroupHost, group_id: int) -> None:
        super().__init__(model)
        self.group_id = int(group_id)

    # ------------------------------------------------------------------ state views
    @property
    def _pop(self) -> Population:
        return self.model.population

    @property
    def crime_type(self) -> str:
        """Name of the group's crime type."""
        return self.model.crime_type_names[self._pop.crime_type[self.group_id]]

    @property
    def severity(self) -> float:
        """Enforcement priority of the group's crime type, in [0, 1]."""
        return float(self.model.type_priority[self._pop.crime_type[self.group_id]])

    @property
    def size(self) -> float:
        """Audience size of the group's venue."""
        return float(self._pop.size[self.group_id])

    @size.setter
    def size(self, value: float) -> None:
        if not value > 0:
            raise ValueError(f"size = {value!r} is not allowed: expected a number > 0")
        self._pop.size[self.group_id] = value

    @property
    def risk_aversion(self) -> float:
        """Risk aversion in [0, 1]."""
        return float(self._pop.risk_aversion[self.group_id])

    @property
    def reach_need(self) -> float:
        """Need for public reach in [0, 1]."""
        return float(self._pop.reach_need[self.group_id])

    @property
    def sophistication(self) -> float:
        """Technical sophistication in [0, 1]."""
        return float(self._pop.sophistication[self.group_id])

    @property
    def active(self) -> bool:
        """False once the group has been removed from the model."""
        return bool(self._pop.active[self.group_id])

    @property
    def primary(self) -> str | None:
        """Name of the primary platform, or None when the group has none."""
        p = int(self._pop.primary[self.group_id])
        return None if p < 0 else self.model.platform_names[p]

    @property
    def platforms(self) -> list[str]:
        """Names of the platforms the group is present on."""
        row = self._pop.member[self.group_id]
        return [name for name, on in zip(self.model.platform_names, row, strict=True) if on]

    @property
    def perceived_risk(self) -> dict[str, float]:
        """Perceived risk of each platform."""
        row = self._pop.risk[self.group_id]
        return {name: float(r) for name, r in zip(self.model.platform_names, row, strict=True)}

    def contacts(self) -> list[int]:
        """Ids of the group's contacts."""
        return self.model.network.neighbours(self.group_id).tolist()

    # ------------------------------------------------------------------ reference rule
    def perceive(
        self, observed: dict[int, float], news_before: np.ndarray, in_news: list[bool]
    ) -> tuple[list[float], list[float]]:
        """Reference rule: this step's news salience and perceived risk of every platform.

        Parameters
        ----------
        observed
            ``{platform: share of this group's contacts disrupted there this step}``.
        news_before
            The (N, K) news salience at the start of the step (read-only).
        in_news
            Per platform, whether any group had salience for it at the start of the step.

        Returns
        -------
        news, risk : list of float
            The group's new rows (the model writes them after every group has perceived).
        """
        m = self.model
        p = m.params
        i = self.group_id
        contacts = self.contacts()
        news_row: list[float] = []
        risk_row: list[float] = []
        for k in range(m.n_platforms):
            s_ik = float(news_before[i, k])
            if in_news[k]:
                heard = 0.0
                if contacts:
                    total = 0.0
                    for j in contacts:
                        total += float(news_before[j, k])
                    heard = total * (1.0 / len(contacts)) * float(m.news_spread[k])
                s_new = max(s_ik, heard) * float(m.news_retention[k])
                if s_new < 1e-9:
                    s_new = 0.0
            else:
                s_new = s_ik * float(m.news_retention[k])
            news_row.append(s_new)

            lam = 1.0 - p.risk.memory
            r = float(self._pop.risk[i, k]) * p.risk.memory
            r += self.severity * ((lam * p.risk.w_policy) * float(m.exposure_k[k]))  # policy
            if p.risk.w_news and in_news[k]:
                r += (lam * p.risk.w_news) * s_new
            if k in observed and p.risk.w_observed:
                r += (lam * p.risk.w_observed) * observed[k]
            risk_row.append(r)
        return news_row, risk_row

    def attend(self, news_row: list[float], in_news: list[bool]) -> float:
        """Reference rule: attention to disclosure after this step's news ``news_row``.

        ``A' = max(attention_memory * A, max_k S_k)`` over the platforms in the news at the
        start of the step (``in_news``), as :meth:`perceive` reads them.
        """
        a = float(self.model.attention[self.group_id]) * self.model.params.risk.attention_memory
        for s, heard in zip(news_row, in_news, strict=True):
            if heard:
                a = max(a, float(s))
        return a

    def utilities(self) -> tuple[list[float], list[float]]:
        """Reference rule: utility of each platform, with and without the switching cost.

        ``V0_k = w_reach reach_k need + w_network L_k + w_popularity G_k
        - w_risk R_k ra sev + w_usability usability_k (1 - soph) + alpha_k - w_ban P_k
        + w_follow F_k - w_risk w_attention A e_k ra sev`` (the follow term only while the
        group is unsettled; ``A`` its attention to disclosure, ``e_k`` the exposure);
        ``V_k = V0_k - w_switch c_k`` with ``c_k`` 0 on a platform the group is on, the model's
        ``rejoin_cost`` on the platform that just banned it, and 1 otherwise. ``L_k`` is the
        share of the group's active contacts present on k; ``G_k`` the share of active groups
        present on k; ``P_k`` its ban pressure on k; ``F_k`` the share of unsettled groups with
        k as primary.
        """
        m = self.model
        w = m.weights
        i = self.group_id
        active_contacts = [j for j in self.contacts() if self._pop.active[j]]
        unsettled = bool(m.unsettled_now[i])
        v_list: list[float] = []
        v0_list: list[float] = []
        for k in range(m.n_platforms):
            if active_contacts:
                on_k = sum(1 for j in active_contacts if self._pop.member[j, k])
                share = on_k * (1.0 / len(active_contacts))
            else:
                share = 0.0
            v0 = w.reach * (self.reach_need * float(m.platform.reach[k]))
            v0 = v0 + w.network * share
            v0 = v0 + w.popularity * float(m.popularity[k])
            v0 = v0 - w.risk * (float(self._pop.risk[i, k]) * (self.risk_aversion * self.severity))
            v0 = v0 + w.usability * ((1.0 - self.sophistication) * float(m.platform.usability[k]))
            v0 = v0 + float(m.constants[k])
            v0 = v0 - w.ban * float(m.ban_pressure[i, k])
            if unsettled:
                v0 = v0 + w.follow * float(m.follow[k])
            if w.attention != 0.0:
                salient = w.attention * float(m.attention[i]) * float(m.exposure_k[k])
                v0 = v0 - w.risk * (salient * (self.risk_aversion * self.severity))
            if bool(self._pop.member[i, k]):
                cost = 0.0
            elif int(m.banned_from[i]) == k:
                cost = float(m.rejoin_cost[i])
            else:
                cost = 1.0
            v_list.append(v0 - w.switch * cost)
            v0_list.append(v0)
        return v_list, v0_list

    def choose(self, u: tuple[float, float, float]) -> tuple[int, list[bool]]:
        """Reference rule: revise primary and secondary platforms with three uniforms.

        The steps (primary logit, keep, trim, drop logit, add logit) are those documented in
        :mod:`migration_sim.model.choice`.

        Returns
        -------
        primary, member : int, list of bool
            The new primary (-1 when dark) and presence row.
        """
        m = self.model
        w = m.weights
        k_count = m.n_platforms
        avail = [bool(a) for a in m.platform.available]
        v, v0 = self.utilities()
        before = [bool(x) for x in self._pop.member[self.group_id]]

        unsettled = bool(m.unsettled_now[self.group_id])  # chooses its primary cost-free
        primary = _pick([w.beta * x for x in (v0 if unsettled else v)], avail, u[0])
        if primary < 0:
            return -1, [False] * k_count
        member = [before[k] and avail[k] for k in range(k_count)]
        member[primary] = True
        if sum(member) > m.params.groups.max_platforms:
            secondaries = [k for k in range(k_count) if member[k] and k != primary]
            worst = min(secondaries, key=lambda k: (v0[k], k))
            member[worst] = False
        if m.params.groups.max_platforms > 1:
            anchor = v0[primary] - w.margin
            secondaries = [k for k in range(k_count) if member[k] and k != primary]
            if secondaries:
                logits = [-w.beta * (v0[k] - anchor) for k in range(k_count)] + [0.0]
                allowed = [member[k] and k != primary for k in range(k_count)] + [True]
                pick = _pick(logits, allowed, u[1])
                if pick < k_count:
                    member[pick] = False
            if sum(member) < m.params.groups.max_platforms:
                logits = [w.beta * (v[k] - anchor) for k in range(k_count)] + [0.0]
                allowed = [avail[k] and not member[k] for k in range(k_count)] + [True]
                pick = _pick(logits, allowed, u[2])
                if pick < k_count:
                    member[pick] = True
        return primary, member


def _pick(logits: list[float], allowed: list[bool], u: float) -> int:
    """Inverse-CDF draw from softmax(logits) over allowed options; -1 if none is allowed."""
    finite = [x for x, ok in zip(logits, allowed, strict=True) if ok]
    if not finite:
        return -1
    last = max(k for k, ok in enumerate(allowed) if ok)
    top = max(finite)
    weights = [float(np.exp(x - top)) if ok else 0.0 for x, ok in zip(logits, allowed, strict=True)]
    total = sum(weights)
    cum = 0.0
    threshold = u * total
    # cumulative sums in the same order as numpy's cumsum
    for k, wk in enumerate(weights):
        cum += wk
        if cum > threshold:
            return k
    return last
