"""Pure array kernels: exposure, competing-risk events, news, perceived risk, utility, choice.

Every function here takes arrays, parameters and (where needed) random numbers handed in, and
returns arrays. None touches a model object, so the same kernel serves the model, the tests and
the benchmarks. The choice kernel itself is compiled and lives in
:mod:`migration_sim.model.choice`; the readable per-group version of the decision rule lives in
:class:`migration_sim.model.groups.CriminalGroup`.

Notation: N groups, K platforms, ``member`` is the (N, K) presence matrix, rows are groups.
The equations are written out in ``docs/model.md`` exactly as computed here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp

__all__ = [
    "UtilityWeights",
    "exposure",
    "size_score",
    "first_event",
    "spread_news",
    "update_risk",
    "update_attention",
    "observed_enforcement",
    "calibrate_constants",
    "tally",
]


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
    ban: float = 0.0
    follow: float = 0.0
    attention: float = 0.0


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
    type_weight: np.ndarray,
    crime_type: np.ndarray,
    active: np.ndarray,
    size01: np.ndarray,
    reach_need: np.ndarray,
    reach: np.ndarray,
    u: np.ndarray,
    work: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw at most one event per group over its platforms, by competing risks.

    The hazard of active group i on platform k is ``h_ik = m_ik * a_k * (b_c(i) / 2) * v'_ik``
    with ``a_k = platform_weight``, ``b_c = type_weight`` of the group's crime type and
    ``v'_ik = size01_i + reach_k * reach_need_i`` (twice the visibility). An event happens
    with probability ``1 - exp(-H_i)``, ``H_i = sum_k h_ik``, and falls on platform k with
    probability ``h_ik / H_i`` (the first event of competing exponential clocks). One uniform
    per group decides both: an event if ``u_i < p_i``, and the platform as the first k whose
    cumulative hazard exceeds ``(u_i / p_i) H_i``.

    Compiled with numba: one parallel pass over the presence matrix (each group on its own, so
    the result does not depend on the thread count), then the groups with an event in
    ascending order. ``work`` is an optional int64 array of length N that the pass may
    overwrite; a caller that draws events every step passes the same one each time, which
    spares allocating (and page-faulting) N fresh integers per call. Complexity: O(N K).

    Returns
    -------
    groups, platforms : numpy.ndarray
        Indices of the groups with an event and the platform of each (int64).
    """
    chosen = np.empty(member.shape[0], np.int64) if work is None else work
    _event_platforms(
        member, platform_weight, type_weight, crime_type, active, size01, reach_need, reach, u,
        chosen,
    )  # fmt: skip
    groups = np.flatnonzero(chosen >= 0).astype(np.int64, copy=False)
    return groups, chosen[groups]


@numba.njit(cache=True, parallel=True)
def _event_platforms(
    member, platform_weight, type_weight, crime_type, active, size01, reach_need, reach, u, out
):
    """``out[i]`` = the platform of group i's event (see :func:`first_event`), or -1 if none."""
    n, k_count = member.shape
    for i in numba.prange(n):
        out[i] = -1
        if not active[i] or type_weight[crime_type[i]] == 0.0:
            continue
        half_b = type_weight[crime_type[i]] * 0.5
        total = 0.0
        for k in range(k_count):
            if member[i, k]:
                total += platform_weight[k] * half_b * (size01[i] + reach[k] * reach_need[i])
        # p = 1 - exp(-H) <= H, so u >= H means no event without computing p
        if u[i] >= total:
            continue
        p_event = -np.expm1(-total)
        if u[i] < p_event:
            threshold = (u[i] / p_event) * total
            cum = 0.0
            chosen = -1
            for k in range(k_count):
                if member[i, k]:
                    h = platform_weight[k] * half_b * (size01[i] + reach[k] * reach_need[i])
                    if h > 0.0:
                        chosen = k
                        cum += h
                        if cum > threshold:
                            break
            out[i] = chosen


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


def update_risk(
    risk: np.ndarray,
    severity: np.ndarray,
    exposure_k: np.ndarray,
    news: np.ndarray,
    news_cols: np.ndarray,
    observed_groups: np.ndarray,
    observed_platforms: np.ndarray,
    observed_share: np.ndarray,
    memory: float,
    w_policy: float,
    w_observed: float,
    w_news: float,
) -> None:
    """Update perceived risk in place for one step.

    ``R'_ik = memory * R_ik + sev_i * ((1 - memory) * w_policy * e_k)
    + (1 - memory) * w_news * S_ik + (1 - memory) * w_observed * O_ik``, added in this order.
    ``O_ik`` is the share of i's contacts disrupted on platform k this step, passed sparsely as
    (group, platform, share) triples with unique pairs; ``S`` is read only in ``news_cols`` (the
    platforms with salience; 0 elsewhere). Complexity: O(N K), one pass.
    """
    lam = 1.0 - memory
    _decay_and_add_policy(risk, severity, (lam * w_policy) * exposure_k, memory)
    if w_news and news_cols.size:
        risk[:, news_cols] += (lam * w_news) * news[:, news_cols]
    if observed_groups.size and w_observed:
        risk[observed_groups, observed_platforms] += (lam * w_observed) * observed_share


def update_attention(
    attention: np.ndarray,
    news: np.ndarray,
    news_cols: np.ndarray,
    memory: float,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Attention to disclosure after this step's news (a new array, or ``out``).

    ``A'_i = max(memory * A_i, max_k S_ik)``: news about any platform draws the group's
    attention to the disclosure of every platform; it fades by ``memory`` per step once the
    news is gone. ``S`` is read only in ``news_cols`` (0 elsewhere). ``out`` may be
    ``attention`` itself: the model updates it in place every step rather than allocating N
    floats. Complexity: O(N K).
    """
    out = np.multiply(attention, memory, out=out)
    if news_cols.size:
        np.maximum(out, news[:, news_cols].max(axis=1), out=out)
    return out


@numba.njit(cache=True)
def _decay_and_add_policy(risk, severity, scaled_exposure, memory):
    """``risk = risk * memory + severity_i * scaled_exposure_k`` in one pass, in place."""
    n, k_count = risk.shape
    for i in range(n):
        for k in range(k_count):
            risk[i, k] = risk[i, k] * memory + severity[i] * scaled_exposure[k]


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
    # exp(beta V0) once; the shares are homogeneous in each row's weights, so
    # exp(beta (V0 + alpha)) = exp(beta V0) exp(beta alpha) needs no exp per iteration
    weights = np.exp(beta * (v0 - v0.max(axis=1, keepdims=True)))
    for _ in range(max_iter):
        mean_pi = _mean_stationary_shares(weights, np.exp(beta * alpha), np.exp(-beta * switch))
        gap = log_target - np.log(mean_pi[fit])
        if np.max(np.abs(gap)) < tol:
            return alpha
        alpha[fit] += gap / (2.0 * beta)
        alpha -= alpha[fit].mean()
    raise RuntimeError(
        f"platform constants did not converge in {max_iter} iterations "
        f"(largest log-share gap {np.max(np.abs(gap)):.3g})"
    )


@numba.njit(cache=True, inline="always")
def _stationary_row(weights, scale, b, out):
    """Row of :func:`stationary_shares` for weights ``a_k = weights_k scale_k``, into ``out``."""
    k_count = weights.size
    a_sum = 0.0
    for k in range(k_count):
        out[k] = weights[k] * scale[k]
        a_sum += out[k]
    norm = 0.0
    for k in range(k_count):
        out[k] = out[k] * (out[k] * (1.0 - b) + b * a_sum)
        norm += out[k]
    for k in range(k_count):
        out[k] /= norm


@numba.njit(cache=True)
def _mean_stationary_shares(weights, scale, b):
    """Mean over rows of :func:`stationary_shares` for weights ``a_ik = weights_ik scale_k``.

    One pass, no (N, K) temporaries (the calibration calls this once per iteration).
    """
    n, k_count = weights.shape
    total = np.zeros(k_count)
    pi = np.empty(k_count)
    for i in range(n):
        _stationary_row(weights[i], scale, b, pi)
        for k in range(k_count):
            total[k] += pi[k]
    return total / max(n, 1)


@numba.njit(cache=True)
def tally(
    member: np.ndarray,
    primary: np.ndarray,
    active: np.ndarray,
    crime_type: np.ndarray,
    n_types: int,
    risk: np.ndarray,
    primary_before: np.ndarray,
    active_before: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Count the state in one pass over the groups (compiled with numba).

    Returns
    -------
    presence_by_type, primary_by_type : numpy.ndarray
        (C, K) counts of active groups present on / with primary platform k, by crime type.
    platforms_hist : numpy.ndarray
        (K + 1,) number of active groups present on exactly j platforms.
    risk_sum : numpy.ndarray
        (K,) sum of perceived risk over active groups.
    flows : numpy.ndarray
        (K + 1, K + 1) groups active before the step, by primary before and after (index K =
        no platform: dark or removed).

    Complexity: O(N K).
    """
    n, k_count = member.shape
    presence = np.zeros((n_types, k_count), np.int64)
    primaries = np.zeros((n_types, k_count), np.int64)
    hist = np.zeros(k_count + 1, np.int64)
    risk_sum = np.zeros(k_count)
    flows = np.zeros((k_count + 1, k_count + 1), np.int64)
    for i in range(n):
        if active_before[i]:
            a = primary_before[i] if primary_before[i] >= 0 else k_count
            b = primary[i] if primary[i] >= 0 else k_count
            flows[a, b] += 1
        if not active[i]:
            continue
        c = crime_type[i]
        on = 0
        for k in range(k_count):
            risk_sum[k] += risk[i, k]
            if member[i, k]:
                presence[c, k] += 1
                on += 1
        hist[on] += 1
        if primary[i] >= 0:
            primaries[c, primary[i]] += 1
    return presence, primaries, hist, risk_sum, flows


# ---------------------------------------------------------------------------- compile notice
_KERNEL_MODULES = ("model.choice", "model.kernels", "model.network", "metrics.step_kernels")
_notice_given = False


def uncompiled_kernels() -> list[str]:
    """Modules of the package whose numba kernels have no usable on-disk cache yet.

    The cache is missing after installation, an upgrade or an edit of the module; the first
    call then compiles the kernels (about 40 s for all of them). A module counts as compiled
    when numba's cache index (``__pycache__/*.nbi``) of at least one of its kernels is usable
    (helpers inlined into other kernels never get an index of their own); a cache that cannot
    be inspected counts as compiled.

    Returns
    -------
    list of str
        ``migration_sim.<module>`` of each module whose kernels will compile on first use.
    """
    import importlib

    missing = []
    for name in _KERNEL_MODULES:
        module = importlib.import_module(f"migration_sim.{name}")
        caches = [
            obj._cache
            for obj in vars(module).values()
            if isinstance(obj, numba.core.registry.CPUDispatcher)
            and getattr(obj, "_cache", None) is not None
        ]
        try:
            usable = any(c._cache_file._load_index() for c in caches)  # numba internals
        except Exception:  # noqa: BLE001 - a cache numba cannot read is not our concern
            usable = True
        if caches and not usable:
            missing.append(module.__name__)
    return missing


def compile_notice() -> None:
    """Say once per process, on stderr, that the first run compiles the kernels (~40 s)."""
    import sys

    global _notice_given
    if _notice_given:
        return
    _notice_given = True
    missing = uncompiled_kernels()
    if missing:
        print(
            "migration_sim: compiling the numba kernels of "
            + ", ".join(m.removeprefix("migration_sim.") for m in missing)
            + " for this machine (first run after installing or upgrading; about 40 s, "
            "cached for later runs)...",
            file=sys.stderr,
            flush=True,
        )
