"""Pure array kernels: exposure, competing-risk events, news, perceived risk, utility, choice.

Every function here takes arrays, parameters and (where needed) random numbers handed in, and
returns arrays. None touches a model object, so the same kernel serves the model, the tests and
the benchmarks. The choice kernel itself is compiled and lives in
:mod:`migration_sim.choice`; the readable per-group version of the decision rule lives in
:class:`migration_sim.groups.CriminalGroup`.

Notation: N groups, K platforms, ``member`` is the (N, K) presence matrix, rows are groups.
The equations are written out in ``docs/model.md`` exactly as computed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

__all__ = [
    "UtilityWeights",
    "exposure",
    "size_score",
    "first_event",
    "spread_news",
    "update_risk",
    "policy_term",
    "observed_enforcement",
    "calibrate_constants",
    "membership_codes",
    "code_bits",
    "weighted_presence",
    "presence_histogram",
]

#: Above this many platforms presence rows are not packed into integer codes.
MAX_CODE_PLATFORMS = 16


def membership_codes(member: np.ndarray) -> np.ndarray | None:
    """Pack each presence row into an integer code (bit k = platform k), or None if K > 16.

    Codes turn per-group sums over platforms into one table lookup and per-platform counts into
    one ``bincount``. Complexity: O(N K / 8).
    """
    k = member.shape[1]
    if k > MAX_CODE_PLATFORMS:
        return None
    codes = np.zeros(member.shape[0], np.int64)
    for j in range(k):
        codes |= member[:, j].astype(np.int64) << j
    return codes


@lru_cache(maxsize=8)
def code_bits(n_platforms: int) -> np.ndarray:
    """(2**K, K) float matrix: row c holds the bits of code c (read-only)."""
    c = np.arange(2**n_platforms)[:, None]
    bits = ((c >> np.arange(n_platforms)[None, :]) & 1).astype(np.float64)
    bits.flags.writeable = False
    return bits


def weighted_presence(
    member: np.ndarray, codes: np.ndarray | None, weights: np.ndarray
) -> np.ndarray:
    """``sum_k m_ik w_k`` for every group: a table lookup with codes, a product without."""
    if codes is None:
        return member.astype(np.float64) @ weights
    return (code_bits(member.shape[1]) @ weights)[codes]


def presence_histogram(codes: np.ndarray, labels: np.ndarray, n_labels: int, k: int) -> np.ndarray:
    """Count groups per (label, code): an (n_labels, 2**K) histogram from one bincount."""
    return np.bincount(labels * (1 << k) + codes, minlength=n_labels << k).reshape(n_labels, -1)


@dataclass(frozen=True)
class UtilityWeights:
    """Weights of the utility terms and the logit's intensity of choice (see ChoiceConfig)."""

    reach: float
    network: float
    popularity: float
    risk: float
    switch: float
    usability: float
    beta: float
    margin: float


def exposure(disclosure: np.ndarray, identifiability: np.ndarray, iota: float) -> np.ndarray:
    """Enforcement exposure of each platform.

    ``e_k = d_k + iota * I_k * (1 - d_k)``: identifying data reaches authorities either through
    the operator's disclosure or, with weight ``iota``, through the data the platform makes
    identifiable without the operator's help. In [0, 1] when its inputs are.
    """
    return disclosure + iota * identifiability * (1.0 - disclosure)


def size_score(size: np.ndarray, size_min: float, size_max: float) -> np.ndarray:
    """Map audience size to [0, 1] on a log scale: ``log(size/min) / log(max/min)``."""
    return np.log(size / size_min) / np.log(size_max / size_min)


def first_event(
    member: np.ndarray,
    platform_weight: np.ndarray,
    group_weight: np.ndarray,
    size01: np.ndarray,
    reach_need: np.ndarray,
    reach: np.ndarray,
    u: np.ndarray,
    codes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw at most one event per group over its platforms, by competing risks.

    The hazard of group i on platform k is ``h_ik = m_ik * a_k * b_i * v_ik`` with visibility
    ``v_ik = (size01_i + reach_k * reach_need_i) / 2``. An event happens with probability
    ``1 - exp(-H_i)``, ``H_i = sum_k h_ik``, and falls on platform k with probability
    ``h_ik / H_i`` (the first event of competing exponential clocks). One uniform per group
    decides both: an event if ``u_i < p_i``, and the platform by inverse CDF at ``u_i / p_i``.

    ``codes`` (from :func:`membership_codes`) make the totals O(N) table lookups.
    Complexity: O(N K) without codes, O(N + 2**K K) with them; O(n_events K) for the platforms.

    Returns
    -------
    groups, platforms : numpy.ndarray
        Indices of the groups with an event and the platform of each (int64).
    """
    total = (group_weight * 0.5) * (
        size01 * weighted_presence(member, codes, platform_weight)
        + reach_need * weighted_presence(member, codes, platform_weight * reach)
    )
    p_event = -np.expm1(-total)
    hit = np.flatnonzero(u < p_event)
    if hit.size == 0:
        return hit, hit.copy()
    h = member[hit] * platform_weight * (size01[hit, None] + reach[None, :] * reach_need[hit, None])
    h *= (group_weight[hit] * 0.5)[:, None]
    cum = np.cumsum(h, axis=1)
    w = (u[hit] / p_event[hit]) * cum[:, -1]
    k = np.argmax(cum > w[:, None], axis=1)
    return hit, k.astype(np.int64)


def spread_news(
    news: np.ndarray,
    adjacency: sp.csr_array,
    degree: np.ndarray,
    retention: np.ndarray,
    spread: np.ndarray,
    cols: np.ndarray,
) -> np.ndarray:
    """Advance news salience one step (returns a new array).

    ``S'_ik = retention_k * max(S_ik, spread_k * mean_{j in contacts(i)} S_jk)``: news reaches
    a group through its contacts, attenuated by ``spread_k``, and fades by ``retention_k`` per
    step (both per platform, shape (K,)).
    Only the platforms ``cols`` (those with some salience) are updated; every other column
    must be 0 and stays 0. Values below 1e-9 are set to 0.
    Complexity: O(nnz(A) * len(cols)).
    """
    out = news.copy()
    if cols.size == 0:
        return out
    inv_deg = np.divide(1.0, degree, out=np.zeros(degree.size), where=degree > 0)
    heard = (adjacency @ news[:, cols]) * inv_deg[:, None] * spread[cols]
    sub = np.maximum(news[:, cols], heard) * retention[cols]
    sub[sub < 1e-9] = 0.0
    out[:, cols] = sub
    return out


def policy_term(
    severity: np.ndarray, exposure_k: np.ndarray, memory: float, w_policy: float
) -> np.ndarray:
    """The policy part of the risk update, ``sev_i * ((1 - memory) * w_policy * e_k)``, (N, K).

    It changes only when a platform's exposure changes, so the model caches it.
    """
    return severity[:, None] * (((1.0 - memory) * w_policy) * exposure_k)[None, :]


def update_risk(
    risk: np.ndarray,
    policy: np.ndarray,
    news: np.ndarray,
    news_cols: np.ndarray,
    observed_groups: np.ndarray,
    observed_platforms: np.ndarray,
    observed_share: np.ndarray,
    memory: float,
    w_observed: float,
    w_news: float,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Perceived risk after one step.

    ``R'_ik = memory * R_ik + sev_i * ((1 - memory) * w_policy * e_k)
    + (1 - memory) * w_news * S_ik + (1 - memory) * w_observed * O_ik``, added in this order;
    the second term is ``policy`` (see :func:`policy_term`). ``O_ik`` is the share of i's
    contacts disrupted on platform k this step, passed sparsely as (group, platform, share)
    triples with unique pairs; ``S`` is read only in ``news_cols`` (0 elsewhere). With
    ``out`` (which may be ``risk`` itself) the update is written there without temporaries.
    Complexity: O(N K).
    """
    lam = 1.0 - memory
    out = np.multiply(risk, memory, out=out)
    out += policy
    if w_news and news_cols.size:
        out[:, news_cols] += (lam * w_news) * news[:, news_cols]
    if observed_groups.size and w_observed:
        out[observed_groups, observed_platforms] += (lam * w_observed) * observed_share
    return out


def observed_enforcement(
    adjacency: sp.csr_array,
    degree: np.ndarray,
    event_groups: np.ndarray,
    event_platforms: np.ndarray,
    n_platforms: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share of each group's contacts disrupted on each platform this step, as sparse triples.

    ``O_ik = #{j in contacts(i) disrupted on k} / degree_i``. Complexity: O(sum of the degrees
    of the disrupted groups).

    Returns
    -------
    groups, platforms, share : numpy.ndarray
        Unique (group, platform) pairs with ``O > 0`` and their share.
    """
    if event_groups.size == 0:
        e = np.empty(0, np.int64)
        return e, e.copy(), np.empty(0)
    indptr, indices = adjacency.indptr, adjacency.indices
    starts, ends = indptr[event_groups], indptr[event_groups + 1]
    counts = ends - starts
    nbrs = indices[np.repeat(starts, counts) + _ranges(counts)].astype(np.int64)
    plats = np.repeat(event_platforms, counts)
    key, n_seen = np.unique(nbrs * n_platforms + plats, return_counts=True)
    groups, platforms = key // n_platforms, key % n_platforms
    return groups, platforms, n_seen / degree[groups]


def _ranges(counts: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(c)`` for each c in counts, without a Python loop."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)


def stationary_shares(v0: np.ndarray, beta: float, switch: float) -> np.ndarray:
    """Long-run share of time each group spends on each platform under single-homing.

    A revising group on platform j moves to k with probability proportional to
    ``a_k = exp(beta V0_k)`` for k != j and ``a_j exp(beta switch)`` for staying (the
    switching cost). This chain is reversible, with stationary distribution
    ``pi_k  proportional to  a_k (a_k (1 - b) + b A)``, ``b = exp(-beta switch)``,
    ``A = sum_k a_k``. Returns pi, shape (N, K), rows summing to 1.
    """
    a = np.exp(beta * (v0 - v0.max(axis=1, keepdims=True)))
    b = np.exp(-beta * switch)
    pi = a * (a * (1.0 - b) + b * a.sum(axis=1, keepdims=True))
    return pi / pi.sum(axis=1, keepdims=True)


def calibrate_constants(
    v0: np.ndarray,
    target: np.ndarray,
    beta: float,
    switch: float,
    tol: float = 1e-8,
    max_iter: int = 500,
) -> np.ndarray:
    """Platform constants alpha that make the initial state a steady state of the choice.

    Finds ``alpha`` such that the mean over groups of :func:`stationary_shares` of
    ``V0 + alpha`` equals the target primary shares, by the contraction of Berry (1994):
    ``alpha <- alpha + (log target - log mean_pi) / (2 beta)`` (half steps, because the switching
    cost can double the share elasticity). Platforms with a target share of 0 keep alpha = 0.
    With ``beta == 0`` choices ignore utility and alpha is 0.

    Raises
    ------
    RuntimeError
        If the iteration has not converged after ``max_iter`` steps.
    """
    alpha = np.zeros(v0.shape[1])
    if beta == 0.0:
        return alpha
    fit = target > 0
    log_target = np.log(target[fit])
    for _ in range(max_iter):
        mean_pi = stationary_shares(v0 + alpha, beta, switch).mean(axis=0)
        gap = log_target - np.log(mean_pi[fit])
        if np.max(np.abs(gap)) < tol:
            return alpha
        alpha[fit] += gap / (2.0 * beta)
        alpha -= alpha[fit].mean()
    raise RuntimeError(
        f"platform constants did not converge in {max_iter} iterations "
        f"(largest log-share gap {np.max(np.abs(gap)):.3g})"
    )
