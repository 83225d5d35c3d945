"""Broken ties: contact-network ties whose two ends share no platform."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from migration_sim.metrics.inputs import (
    _as_bool_vector,
    _as_edges,
    _as_float_vector,
    _as_membership,
)

# ---------------------------------------------------------------------------------------------
# 2. Broken ties
# ---------------------------------------------------------------------------------------------


def platform_bits(membership: ArrayLike, active: ArrayLike | None = None) -> NDArray[np.int64]:
    """Pack each group's platform set into the bits of one int64.

    Parameters
    ----------
    membership : array_like of bool, shape (N, K)
        Presence matrix, ``K <= MAX_PLATFORMS``.
    active : array_like of bool, shape (N,), optional
        When given, inactive groups get an empty set (0).

    Returns
    -------
    ndarray of int64, shape (N,)
        Bit k of entry i is set when group i is present on platform k. Two groups share a
        platform exactly when ``bits[u] & bits[v] != 0``.

    Notes
    -----
    Time complexity: O(N K).

    Examples
    --------
    >>> platform_bits(np.array([[True, False, True], [False, False, False]]))
    array([5, 0])
    """
    m = _as_membership(membership)
    weights = np.left_shift(np.int64(1), np.arange(m.shape[1], dtype=np.int64))
    bits = m.view(np.uint8) @ weights
    if active is not None:
        act = _as_bool_vector(active, "active", m.shape[0])
        bits[~act] = 0
    return bits.astype(np.int64, copy=False)


class BrokenTies(NamedTuple):
    """Ties whose two active groups no longer share a platform."""

    n_ties: int
    """Ties with both ends active."""
    n_broken: int
    """Of those, ties whose two groups share no platform."""
    share: float
    """``n_broken / n_ties`` (nan when there is no tie)."""
    weighted_share: float
    """Size-weighted share (nan when no size was given or there is no tie)."""


def _weighted_ratio(
    weight: NDArray[np.float64], num: NDArray[np.integer], den: NDArray[np.integer]
) -> float:
    """``weight @ num / weight @ den`` (shared by both backends so results are identical)."""
    d = _dot(weight, den)
    return _dot(weight, num) / d if d > 0 else math.nan


def _dot(x: NDArray[np.float64], y: NDArray) -> float:
    """Dot product without BLAS (whose worker threads make timings erratic on a busy machine).

    ``y`` is first converted to float64 so that both backends feed identical arrays to the same
    reduction and get bit-identical sums.
    """
    return float(np.einsum("i,i->", x, y.astype(np.float64)))


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def broken_ties(
    membership: ArrayLike,
    active: ArrayLike,
    edges_u: ArrayLike,
    edges_v: ArrayLike,
    size: ArrayLike | None = None,
) -> BrokenTies:
    r"""Share of contact ties that no platform carries any more.

    Parameters
    ----------
    membership : array_like of bool, shape (N, K)
        Presence matrix.
    active : array_like of bool, shape (N,)
        Active groups.
    edges_u, edges_v : array_like of int, shape (E,)
        Contact ties, ``edges_u < edges_v``.
    size : array_like of float, shape (N,), optional
        Group sizes, for the weighted share.

    Returns
    -------
    BrokenTies
        ``(n_ties, n_broken, share, weighted_share)``.

    Notes
    -----
    Only ties with both ends active count; a tie with an inactive end is gone and appears in
    neither numerator nor denominator. A tie (u, v) is *broken* when
    :math:`P_u \cap P_v = \emptyset` (``P_i`` the platforms of group i), so a tie touching an
    active dark group is always broken. ``share = n_broken / n_ties`` and the share kept on a
    common platform is ``1 - share``.

    The weighted share gives tie (u, v) the weight :math:`w_{uv} = s_u + s_v` (the members of the
    two groups it links):

    .. math:: \frac{\sum_{\text{broken}} (s_u + s_v)}{\sum_{\text{ties}} (s_u + s_v)}
              = \frac{\sum_i s_i\, b_i}{\sum_i s_i\, d_i}

    with :math:`d_i` the active ties and :math:`b_i` the broken ties of group i. We chose the sum
    over the product :math:`s_u s_v` because the product lets the few largest pairs dominate.
    Both shares lie in ``[0, 1]``; ``nan`` when there is no tie.

    Time complexity: O(N K + E).

    Examples
    --------
    >>> m = np.array([[True, False], [True, True], [False, True]])
    >>> broken_ties(m, np.ones(3, bool), [0, 0, 1], [1, 2, 2]).share  # only (0, 2) is broken
    0.3333333333333333
    """
    m = _as_membership(membership)
    n = m.shape[0]
    act = _as_bool_vector(active, "active", n)
    u, v = _as_edges(edges_u, edges_v, n)
    bits = platform_bits(m, act)
    tie = act[u] & act[v]
    brk = tie & ((bits[u] & bits[v]) == 0)
    n_ties = int(np.count_nonzero(tie))
    n_broken = int(np.count_nonzero(brk))
    weighted = math.nan
    if size is not None:
        s = _as_float_vector(size, "size", n)
        deg_tie = _degrees(u, v, tie, n)
        deg_brk = _degrees(u, v, brk, n)
        weighted = _weighted_ratio(s, deg_brk, deg_tie)
    return BrokenTies(n_ties, n_broken, _ratio(n_broken, n_ties), weighted)


def _degrees(
    u: NDArray[np.int64], v: NDArray[np.int64], mask: NDArray[np.bool_], n: int
) -> NDArray[np.int64]:
    """Count the masked ties at each group."""
    return (np.bincount(u[mask], minlength=n) + np.bincount(v[mask], minlength=n)).astype(np.int64)
