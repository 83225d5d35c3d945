"""Monitoring coverage: what monitors of a set of platforms still see."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from migration_sim.metrics.broken_ties import _dot, _ratio, platform_bits
from migration_sim.metrics.concentration import presence_counts
from migration_sim.metrics.inputs import (
    _as_bool_vector,
    _as_edges,
    _as_float_vector,
    _as_membership,
)

# ---------------------------------------------------------------------------------------------
# 6. Monitoring coverage
# ---------------------------------------------------------------------------------------------


class Coverage(NamedTuple):
    """What monitors of a set of platforms can see."""

    groups: float
    """Share of active groups present on at least one monitored platform."""
    ties: float
    """Share of ties (both ends active) whose two ends share a monitored platform."""
    severity: float
    """Severity-weighted share of active groups that are visible."""


def _as_monitored(monitored: ArrayLike, k: int) -> NDArray[np.bool_]:
    mon = np.asarray(monitored)
    if mon.dtype != np.bool_:
        raise ValueError(
            f"monitored must be a boolean mask with one flag per platform, got dtype {mon.dtype}"
        )
    if mon.shape != (k,):
        raise ValueError(
            f"monitored must have length K={k} (one flag per platform), got shape {mon.shape}"
        )
    return mon


def _mask_to_bits(mon: NDArray[np.bool_]) -> int:
    return int(sum(1 << int(k) for k in np.flatnonzero(mon)))


def monitored_mask(names: Sequence[str] | str, platform_names: Sequence[str]) -> NDArray[np.bool_]:
    """Boolean mask of the monitored platforms, from their names.

    Parameters
    ----------
    names : sequence of str
        Names of the monitored platforms (a single string is one name).
    platform_names : sequence of str, length K
        All platform names, in platform-index order.

    Returns
    -------
    ndarray of bool, shape (K,)

    Raises
    ------
    ValueError
        If a name is not a platform name; the message lists the allowed names.

    Notes
    -----
    Time complexity: O(K + len(names)).

    Examples
    --------
    >>> monitored_mask(["Signal"], ["Telegram", "Signal", "Session"])
    array([False,  True, False])
    """
    if isinstance(names, str):
        names = [names]
    allowed = list(platform_names)
    index = {name: i for i, name in enumerate(allowed)}
    mask = np.zeros(len(allowed), dtype=bool)
    for name in names:
        if name not in index:
            raise ValueError(f"unknown platform name {name!r} in names; allowed: {allowed}")
        mask[index[name]] = True
    return mask


def monitoring_coverage(
    membership: ArrayLike,
    active: ArrayLike,
    edges_u: ArrayLike,
    edges_v: ArrayLike,
    severity: ArrayLike,
    monitored: ArrayLike,
) -> Coverage:
    r"""Measure what monitors of a set of platforms can see.

    Parameters
    ----------
    membership : array_like of bool, shape (N, K)
        Presence matrix.
    active : array_like of bool, shape (N,)
        Active groups.
    edges_u, edges_v : array_like of int, shape (E,)
        Contact ties.
    severity : array_like of float, shape (N,)
        Enforcement priority of each group's crime type.
    monitored : array_like of bool, shape (K,)
        Platforms the monitors watch (see :func:`monitored_mask`).

    Returns
    -------
    Coverage
        ``groups``: share of the A active groups present on a monitored platform.
        ``ties``: share of the ties with both ends active whose two ends share a monitored
        platform (the conversation itself is on a watched platform).
        ``severity``: :math:`\sum_{i\ \mathrm{visible}} \sigma_i / \sum_{i\ \mathrm{active}}
        \sigma_i`. All three lie in ``[0, 1]``; ``nan`` when the denominator is zero.

    Raises
    ------
    ValueError
        If ``monitored`` is not a boolean mask of length K.

    Notes
    -----
    Time complexity: O(N K + E).
    """
    m = _as_membership(membership)
    n, k = m.shape
    act = _as_bool_vector(active, "active", n)
    u, v = _as_edges(edges_u, edges_v, n)
    sev = _as_float_vector(severity, "severity", n)
    mon_bits = _mask_to_bits(_as_monitored(monitored, k))
    bits = platform_bits(m, act)
    covered = (bits & mon_bits) != 0
    tie = act[u] & act[v]
    visible = (bits[u] & bits[v] & mon_bits) != 0
    return Coverage(
        _ratio(int(np.count_nonzero(covered)), int(np.count_nonzero(act))),
        _ratio(int(np.count_nonzero(visible)), int(np.count_nonzero(tie))),
        _severity_share(sev, covered, act),
    )


def _severity_share(
    sev: NDArray[np.float64], covered: NDArray[np.bool_], act: NDArray[np.bool_]
) -> float:
    den = _dot(sev, act)
    return _dot(sev, covered) / den if den > 0 else math.nan


def platform_ranking(membership: ArrayLike, active: ArrayLike) -> NDArray[np.int64]:
    """Platform indices from most to least active groups present (ties: lower index first).

    Parameters
    ----------
    membership : array_like of bool, shape (N, K)
        Presence matrix.
    active : array_like of bool, shape (N,)
        Active groups.

    Returns
    -------
    ndarray of int64, shape (K,)

    Notes
    -----
    Time complexity: O(N K + K log K).
    """
    counts = presence_counts(membership, active)
    return np.argsort(-counts, kind="stable").astype(np.int64)


def top_platforms(membership: ArrayLike, active: ArrayLike, k: int) -> NDArray[np.bool_]:
    """Mask of the k platforms with the most active groups present.

    Parameters
    ----------
    membership : array_like of bool, shape (N, K)
        Presence matrix.
    active : array_like of bool, shape (N,)
        Active groups.
    k : int
        How many platforms to select, ``1 <= k <= K``.

    Returns
    -------
    ndarray of bool, shape (K,)
        True for the first k platforms of :func:`platform_ranking`.

    Raises
    ------
    ValueError
        If k is not an integer in ``[1, K]``.

    Notes
    -----
    Time complexity: O(N K + K log K).
    """
    m = _as_membership(membership)
    n_plat = m.shape[1]
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= n_plat:
        raise ValueError(f"k must be an integer in [1, {n_plat}] (K platforms), got {k!r}")
    mask = np.zeros(n_plat, dtype=bool)
    mask[platform_ranking(m, active)[: int(k)]] = True
    return mask


def coverage_curve(
    membership: ArrayLike, active: ArrayLike, presence: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Group coverage when the k largest platforms are monitored, for k = 1 .. K.

    Parameters
    ----------
    membership : array_like of bool, shape (N, K)
        Presence matrix.
    active : array_like of bool, shape (N,)
        Active groups.
    presence : array_like of int, shape (K,), optional
        :func:`presence_counts` of the same state, if already known (saves one pass).

    Returns
    -------
    ndarray of float64, shape (K,)
        Entry ``k - 1`` is :attr:`Coverage.groups` when the platforms
        ``platform_ranking(...)[:k]`` are monitored. ``nan`` without active groups.

    Notes
    -----
    A group is first seen at the best rank among its platforms, so the curve is the cumulative
    histogram of that rank divided by the number A of active groups. It is non-decreasing and
    ends at ``1 - dark share`` (1 when every active group is on some platform).

    Time complexity: O(N K + K log K).

    Examples
    --------
    >>> m = np.array([[True, False], [True, True], [False, True], [True, False]])
    >>> coverage_curve(m, np.ones(4, bool))
    array([0.75, 1.  ])
    """
    m = _as_membership(membership)
    n, k = m.shape
    act = _as_bool_vector(active, "active", n)
    n_act = int(np.count_nonzero(act))
    if n_act == 0:
        return np.full(k, np.nan)
    if presence is None:
        order = platform_ranking(m, act)
    else:
        order = np.argsort(-np.asarray(presence), kind="stable")
    return np.cumsum(_first_seen(m, act, order)) / n_act


def _first_seen(
    m: NDArray[np.bool_], act: NDArray[np.bool_], order: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Active groups whose best-ranked platform is ``order[r]``, for each rank r."""
    # add the platforms in rank order; a group counts once, at its best-ranked platform
    seen = ~act
    newly = np.empty(m.shape[0], dtype=bool)
    hist = np.zeros(m.shape[1], dtype=np.int64)
    for r, p in enumerate(order.tolist()):
        np.greater(m[:, p], seen, out=newly)  # present on p and not yet seen
        hist[r] = np.count_nonzero(newly)
        seen |= newly
    return hist
