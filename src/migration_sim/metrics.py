"""Fragmentation and monitoring measures of the criminal platform ecosystem.

Every function here is pure: arrays in, numbers out. None of them sees a model object, so the
model, the tests, the benchmarks and analysts in notebooks all call the same code.

State conventions
-----------------
``N`` groups and ``K`` platforms (``K <= MAX_PLATFORMS``).

membership : (N, K) bool
    ``membership[i, k]`` is True when group ``i`` is present on platform ``k``.
active : (N,) bool
    False for groups removed by enforcement. Rows of inactive groups in ``membership`` are
    ignored, whatever they hold (the model keeps them all False).
primary : (N,) int64
    Index of the group's primary platform, ``-1`` for a group with none ("dark").
edges_u, edges_v : (E,) int64
    The undirected contact network, one entry per tie, ``edges_u < edges_v``, no duplicates.
    Ties that touch an inactive group stay in these arrays; every measure treats such a tie as
    gone (it is not counted anywhere, neither as kept nor as broken).
size : (N,) float64
    Group size (> 0).
severity : (N,) float64
    Enforcement priority of the group's crime type, in ``[0, 1]``.
crime_type : (N,) int64
    Crime-type index in ``[0, C)``.

Conventions for the results: shares are fractions in ``[0, 1]``; a measure whose denominator is
empty (no active group, no tie, no presence) is ``nan``, never a silent zero.

Speed
-----
The per-measure functions below are written with numpy and scipy and are the reference
implementations. :func:`snapshot` computes all per-step measures at once; when numba is
installed (and ``K <= NUMBA_MAX_PLATFORMS``) it uses compiled kernels (one pass over the groups,
one over the ties and a union-find for all components, on numba's threads) and otherwise
composes the numpy functions. Both paths return identical values: integer counts are
computed by both and every floating-point reduction is shared code. Ties sorted by ``edges_u``
(as ``network.ContactNetwork`` stores them) are faster than ties in random order.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

try:  # numba is an optional accelerator: every measure has a numpy implementation.
    import numba
except ImportError:  # pragma: no cover - exercised only where numba is absent
    numba = None

__all__ = [
    "HAVE_NUMBA",
    "MAX_PLATFORMS",
    "NUMBA_MAX_PLATFORMS",
    "BrokenTies",
    "Components",
    "Concentration",
    "Coverage",
    "MigrationResponse",
    "PlatformComponents",
    "broken_ties",
    "check_edges",
    "communication_components",
    "communication_labels",
    "concentration",
    "coverage_curve",
    "effective_number",
    "fragmentation_summary",
    "hhi",
    "migration_response",
    "modularity",
    "monitored_mask",
    "monitoring_coverage",
    "net_flows",
    "platform_bits",
    "platform_components",
    "platform_ranking",
    "presence_counts",
    "presence_counts_by_type",
    "primary_counts",
    "primary_counts_by_type",
    "primary_modularity",
    "shannon_entropy",
    "snapshot",
    "snapshot_columns",
    "steps_to_fraction",
    "top_platforms",
]

HAVE_NUMBA: bool = numba is not None
"""True when numba is importable and :func:`snapshot` can use its compiled kernels."""

MAX_PLATFORMS: int = 62
"""Largest K supported: platform sets are packed into the bits of an int64."""

NUMBA_MAX_PLATFORMS: int = 24
"""Largest K the numba kernel handles; ``backend="auto"`` uses numpy above it."""

# The numba kernel packs each group into one int64, so that a tie needs one load per end:
#   bits  0..23  platform presence (bit k = platform k)
#   bits 24..28  primary platform + 1 (0 = none)
#   bit  29      active
#   bits 32..63  index of the group's first (group, platform) presence pair
_PRIMARY_SHIFT = 24
_ACTIVE_SHIFT = 29
_OFFSET_SHIFT = 32

Backend = Literal["auto", "numba", "numpy"]


# ---------------------------------------------------------------------------------------------
# Input checking
# ---------------------------------------------------------------------------------------------


def _as_membership(membership: ArrayLike) -> NDArray[np.bool_]:
    m = np.asarray(membership)
    if m.ndim != 2:
        raise ValueError(
            f"membership must be a 2-D (N, K) boolean array, got an array of shape {m.shape}"
        )
    if m.dtype != np.bool_:
        raise ValueError(f"membership must have dtype bool, got dtype {m.dtype}")
    if m.shape[1] > MAX_PLATFORMS:
        raise ValueError(
            f"membership has K={m.shape[1]} platforms; at most MAX_PLATFORMS={MAX_PLATFORMS} "
            "are supported"
        )
    return m


def _as_bool_vector(x: ArrayLike, name: str, n: int) -> NDArray[np.bool_]:
    a = np.asarray(x)
    if a.dtype != np.bool_:
        raise ValueError(f"{name} must have dtype bool, got dtype {a.dtype}")
    if a.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got shape {a.shape}")
    return a


def _as_int_vector(x: ArrayLike, name: str, n: int | None = None) -> NDArray[np.int64]:
    a = np.asarray(x)
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, got dtype {a.dtype}")
    a = a.astype(np.int64, copy=False)
    if a.ndim != 1 or (n is not None and a.shape[0] != n):
        want = f"({n},)" if n is not None else "(E,)"
        raise ValueError(f"{name} must have shape {want}, got shape {a.shape}")
    return a


def _as_float_vector(x: ArrayLike, name: str, n: int) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64)
    if a.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got shape {a.shape}")
    return a


def _check_range(a: NDArray[np.int64], name: str, lo: int, hi: int) -> None:
    """Raise unless every value of ``a`` lies in ``[lo, hi)``."""
    if a.size == 0:
        return
    amin, amax = int(a.min()), int(a.max())
    if amin < lo or amax >= hi:
        bad = amin if amin < lo else amax
        raise ValueError(f"{name} must lie in [{lo}, {hi - 1}], got value {bad}")


def _as_edges(
    edges_u: ArrayLike, edges_v: ArrayLike, n: int, *, check: bool = True
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    u = _as_int_vector(edges_u, "edges_u")
    v = _as_int_vector(edges_v, "edges_v")
    if u.shape != v.shape:
        raise ValueError(
            f"edges_u and edges_v must have the same length, got {u.shape[0]} and {v.shape[0]}"
        )
    if check and u.size:
        _check_range(u, "edges_u", 0, n)
        _check_range(v, "edges_v", 0, n)
        bad = np.flatnonzero(u >= v)
        if bad.size:
            e = int(bad[0])
            raise ValueError(
                f"edges_u must be < edges_v for every tie (no self loops), got edge {e}: "
                f"({int(u[e])}, {int(v[e])})"
            )
    return u, v


def check_edges(edges_u: ArrayLike, edges_v: ArrayLike, n: int) -> None:
    """Check that an edge list follows the contact-network conventions.

    Parameters
    ----------
    edges_u, edges_v : array_like of int, shape (E,)
        Tie endpoints.
    n : int
        Number of groups N.

    Raises
    ------
    ValueError
        If the arrays differ in length, an endpoint is outside ``[0, n)``, a tie has
        ``edges_u >= edges_v`` (self loop or wrong order) or a tie is listed twice.

    Notes
    -----
    The measures check ranges and order themselves; only this function looks for duplicate ties.
    Time complexity: O(E log E) (one sort).
    """
    u, v = _as_edges(edges_u, edges_v, n)
    if u.size:
        key = np.sort(u * n + v)
        dup = np.flatnonzero(key[1:] == key[:-1])
        if dup.size:
            k = int(key[dup[0]])
            raise ValueError(f"edges contain the tie ({k // n}, {k % n}) more than once")


def _resolve_backend(backend: str, k: int) -> bool:
    """Return True when the numba path should be used for K = k platforms."""
    if backend == "auto":
        return HAVE_NUMBA and k <= NUMBA_MAX_PLATFORMS
    if backend == "numba":
        if not HAVE_NUMBA:
            raise ValueError("backend='numba' was requested but numba is not installed")
        if k > NUMBA_MAX_PLATFORMS:
            raise ValueError(
                f"backend='numba' handles at most NUMBA_MAX_PLATFORMS={NUMBA_MAX_PLATFORMS} "
                f"platforms, got K={k}; use backend='numpy' or 'auto'"
            )
        return True
    if backend == "numpy":
        return False
    raise ValueError(f"backend must be one of 'auto', 'numba', 'numpy', got {backend!r}")


# ---------------------------------------------------------------------------------------------
# 1. Concentration
# ---------------------------------------------------------------------------------------------


class Concentration(NamedTuple):
    """Concentration of a counts vector (or one value per row of a counts matrix)."""

    hhi: float | NDArray[np.float64]
    effective_number: float | NDArray[np.float64]
    entropy: float | NDArray[np.float64]


def _shares(counts: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Shares along the last axis and a mask of empty rows (total zero)."""
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim not in (1, 2) or c.shape[-1] == 0:
        raise ValueError(
            f"counts must be a non-empty (K,) vector or a (C, K) matrix, got shape {c.shape}"
        )
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise ValueError("counts must be finite and non-negative")
    total = c.sum(axis=-1, keepdims=True)
    empty = total[..., 0] == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        s = c / total
    return s, empty


def _out(x: NDArray[np.float64]) -> float | NDArray[np.float64]:
    return float(x) if x.ndim == 0 else x


def hhi(counts: ArrayLike) -> float | NDArray[np.float64]:
    r"""Herfindahl-Hirschman index of concentration.

    Parameters
    ----------
    counts : array_like, shape (K,) or (C, K)
        Non-negative counts per platform (for example groups whose primary platform is k). A
        matrix gives one index per row (for example per crime type).

    Returns
    -------
    float or ndarray of shape (C,)
        :math:`H = \sum_k s_k^2` with shares :math:`s_k = c_k / \sum_j c_j`. ``nan`` where the
        counts are all zero.

    Notes
    -----
    Shares are fractions, so H lies in ``[1/K_+, 1]`` where ``K_+`` is the number of platforms
    with a non-zero count: ``1/K_+`` when those platforms hold equal shares, 1 when one platform
    holds everything. (Antitrust practice multiplies by 10,000; we do not.)

    Time complexity: O(C K).

    Examples
    --------
    >>> hhi([2, 1, 1])
    0.375
    >>> hhi([[1, 1], [0, 0]])
    array([0.5, nan])
    """
    return _out(_hhi_from_shares(_shares(counts)[0]))


def _hhi_from_shares(s: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.einsum("...k,...k->...", s, s)


def _entropy_from_shares(s: NDArray[np.float64], empty: NDArray[np.bool_]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(s > 0, s * np.log(np.where(s > 0, s, 1.0)), 0.0)
    h = -terms.sum(axis=-1)
    return np.where(empty, np.nan, h) + 0.0  # + 0.0 turns -0.0 into 0.0


def effective_number(counts: ArrayLike) -> float | NDArray[np.float64]:
    r"""Effective number of platforms, the inverse of the Herfindahl-Hirschman index.

    Parameters
    ----------
    counts : array_like, shape (K,) or (C, K)
        Non-negative counts per platform; a matrix gives one value per row.

    Returns
    -------
    float or ndarray of shape (C,)
        :math:`1 / \sum_k s_k^2` (the inverse Simpson index, Hill number of order 2). ``nan``
        where the counts are all zero.

    Notes
    -----
    Lies in ``[1, K_+]`` (``K_+`` platforms with non-zero count): the number of equally shared
    platforms that would give the same concentration.

    Time complexity: O(C K).

    Examples
    --------
    >>> effective_number([5, 5, 0])
    2.0
    """
    h = np.asarray(hhi(counts))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _out(1.0 / h)


def shannon_entropy(counts: ArrayLike) -> float | NDArray[np.float64]:
    r"""Shannon entropy of the platform shares, in nats.

    Parameters
    ----------
    counts : array_like, shape (K,) or (C, K)
        Non-negative counts per platform; a matrix gives one value per row.

    Returns
    -------
    float or ndarray of shape (C,)
        :math:`-\sum_k s_k \ln s_k` with the natural logarithm and :math:`0 \ln 0 = 0`. ``nan``
        where the counts are all zero.

    Notes
    -----
    Lies in ``[0, ln K_+]``: 0 when one platform holds everything, ``ln K_+`` when the ``K_+``
    platforms with non-zero count hold equal shares. ``exp`` of it is the Hill number of order 1.

    Time complexity: O(C K).

    Examples
    --------
    >>> round(shannon_entropy([1, 1, 0, 0]), 6)
    0.693147
    """
    s, empty = _shares(counts)
    return _out(_entropy_from_shares(s, empty))


def concentration(counts: ArrayLike) -> Concentration:
    """HHI, effective number of platforms and Shannon entropy of a counts vector or matrix.

    Parameters
    ----------
    counts : array_like, shape (K,) or (C, K)
        Non-negative counts per platform; a matrix gives one value per row.

    Returns
    -------
    Concentration
        ``(hhi, effective_number, entropy)``; see :func:`hhi`, :func:`effective_number` and
        :func:`shannon_entropy` for formulas and ranges. All ``nan`` for an all-zero row.

    Notes
    -----
    Time complexity: O(C K).
    """
    s, empty = _shares(counts)
    h = _hhi_from_shares(s)
    with np.errstate(divide="ignore", invalid="ignore"):
        eff = 1.0 / h
    return Concentration(_out(h), _out(eff), _out(_entropy_from_shares(s, empty)))


def primary_counts(primary: ArrayLike, active: ArrayLike, n_platforms: int) -> NDArray[np.int64]:
    """Count the active groups whose primary platform is k, for each platform k.

    Parameters
    ----------
    primary : array_like of int, shape (N,)
        Primary platform per group, -1 for none.
    active : array_like of bool, shape (N,)
        Active groups.
    n_platforms : int
        K.

    Returns
    -------
    ndarray of int64, shape (K,)
        Counts; dark groups (primary -1) and inactive groups are not counted.

    Raises
    ------
    ValueError
        If a primary index is outside ``[-1, K)`` or a shape is wrong.

    Notes
    -----
    Time complexity: O(N + K).
    """
    p = _as_int_vector(primary, "primary")
    act = _as_bool_vector(active, "active", p.shape[0])
    _check_range(p, "primary", -1, n_platforms)
    sel = act & (p >= 0)
    return np.bincount(p[sel], minlength=n_platforms).astype(np.int64)


def presence_counts(membership: ArrayLike, active: ArrayLike) -> NDArray[np.int64]:
    """Count the active groups present on platform k, for each platform k.

    Parameters
    ----------
    membership : array_like of bool, shape (N, K)
        Presence matrix.
    active : array_like of bool, shape (N,)
        Active groups.

    Returns
    -------
    ndarray of int64, shape (K,)
        Counts; a multi-homing group is counted once on each of its platforms.

    Notes
    -----
    Time complexity: O(N K).
    """
    m = _as_membership(membership)
    act = _as_bool_vector(active, "active", m.shape[0])
    return np.count_nonzero(m & act[:, None], axis=0).astype(np.int64)


def primary_counts_by_type(
    primary: ArrayLike,
    active: ArrayLike,
    crime_type: ArrayLike,
    n_types: int,
    n_platforms: int,
) -> NDArray[np.int64]:
    """Primary-platform counts per crime type.

    Parameters
    ----------
    primary, active : array_like, shape (N,)
        As in :func:`primary_counts`.
    crime_type : array_like of int, shape (N,)
        Crime-type index per group, in ``[0, n_types)``.
    n_types, n_platforms : int
        C and K.

    Returns
    -------
    ndarray of int64, shape (C, K)
        Row c counts the active groups of type c by primary platform. Pass it to :func:`hhi`,
        :func:`effective_number` or :func:`shannon_entropy` for per-type values.

    Notes
    -----
    Time complexity: O(N + C K).
    """
    p = _as_int_vector(primary, "primary")
    n = p.shape[0]
    act = _as_bool_vector(active, "active", n)
    ct = _as_int_vector(crime_type, "crime_type", n)
    _check_range(p, "primary", -1, n_platforms)
    _check_range(ct, "crime_type", 0, n_types)
    sel = act & (p >= 0)
    flat = np.bincount(ct[sel] * n_platforms + p[sel], minlength=n_types * n_platforms)
    return flat.reshape(n_types, n_platforms).astype(np.int64)


def presence_counts_by_type(
    membership: ArrayLike, active: ArrayLike, crime_type: ArrayLike, n_types: int
) -> NDArray[np.int64]:
    """Presence counts per crime type.

    Parameters
    ----------
    membership, active : array_like
        As in :func:`presence_counts`.
    crime_type : array_like of int, shape (N,)
        Crime-type index per group, in ``[0, n_types)``.
    n_types : int
        C.

    Returns
    -------
    ndarray of int64, shape (C, K)
        Row c counts, for each platform, the active groups of type c present on it.

    Notes
    -----
    Time complexity: O(N K).
    """
    m = _as_membership(membership)
    n, k = m.shape
    act = _as_bool_vector(active, "active", n)
    ct = _as_int_vector(crime_type, "crime_type", n)
    _check_range(ct, "crime_type", 0, n_types)
    rows, cols = np.nonzero(m & act[:, None])
    flat = np.bincount(ct[rows] * k + cols, minlength=n_types * k)
    return flat.reshape(n_types, k).astype(np.int64)


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


# ---------------------------------------------------------------------------------------------
# 3. Communication graph
# ---------------------------------------------------------------------------------------------


class Components(NamedTuple):
    """Connected components of the communication graph over active groups."""

    n_nodes: int
    """Active groups (every one is a node, isolated or not)."""
    n_components: int
    """Components, isolated active groups included."""
    giant_size: int
    """Groups in the largest component."""
    giant_share: float
    """``giant_size / n_nodes`` (nan without active groups)."""
    mean_size: float
    """``n_nodes / n_components`` (nan without active groups)."""


def _components_from_pairs(n: int, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int32]:
    """Component label of each of ``n`` nodes, given undirected edges (a, b)."""
    graph = csr_array((np.ones(a.shape[0], dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=True, connection="weak")
    return labels


def _communication_mask(
    m: NDArray[np.bool_], act: NDArray[np.bool_], u: NDArray[np.int64], v: NDArray[np.int64]
) -> NDArray[np.bool_]:
    bits = platform_bits(m, act)
    return act[u] & act[v] & ((bits[u] & bits[v]) != 0)


def communication_labels(
    membership: ArrayLike, active: ArrayLike, edges_u: ArrayLike, edges_v: ArrayLike
) -> NDArray[np.int64]:
    """Component of each group in the communication graph.

    The communication graph has the active groups as nodes and keeps a contact tie when both its
    ends are active and share at least one platform (the tie can still be used).

    Parameters
    ----------
    membership : array_like of bool, shape (N, K)
        Presence matrix.
    active : array_like of bool, shape (N,)
        Active groups.
    edges_u, edges_v : array_like of int, shape (E,)
        Contact ties.

    Returns
    -------
    ndarray of int64, shape (N,)
        Labels ``0 .. n_components - 1`` numbered in order of each component's smallest group
        id; -1 for inactive groups.

    Notes
    -----
    Time complexity: O(N K + E) (scipy's breadth-first connected components).
    """
    m = _as_membership(membership)
    n = m.shape[0]
    act = _as_bool_vector(active, "active", n)
    u, v = _as_edges(edges_u, edges_v, n)
    keep = _communication_mask(m, act, u, v)
    raw = _components_from_pairs(n, u[keep], v[keep])
    out = np.full(n, -1, dtype=np.int64)
    idx = np.flatnonzero(act)
    if idx.size:
        _, first, inverse = np.unique(raw[idx], return_index=True, return_inverse=True)
        rank = np.empty(first.shape[0], dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(first.shape[0])
        out[idx] = rank[inverse]
    return out


def _components_summary(n_nodes: int, sizes: NDArray[np.int64]) -> Components:
    n_comp = int(sizes.shape[0])
    giant = int(sizes.max()) if n_comp else 0
    return Components(n_nodes, n_comp, giant, _ratio(giant, n_nodes), _ratio(n_nodes, n_comp))


def communication_components(
    membership: ArrayLike, active: ArrayLike, edges_u: ArrayLike, edges_v: ArrayLike
) -> Components:
    """Summarise the connected components of the communication graph.

    Parameters
    ----------
    membership : array_like of bool, shape (N, K)
        Presence matrix.
    active : array_like of bool, shape (N,)
        Active groups.
    edges_u, edges_v : array_like of int, shape (E,)
        Contact ties.

    Returns
    -------
    Components
        ``(n_nodes, n_components, giant_size, giant_share, mean_size)``.

    Notes
    -----
    Nodes are the ``A`` active groups; a tie is kept when both ends are active and share a
    platform (see :func:`communication_labels`). An isolated active group (dark, or with no
    usable tie) is a component of size 1. ``giant_share = giant_size / A`` lies in
    ``[1/A, 1]``; ``n_components`` in ``[1, A]``; ``mean_size = A / n_components`` in
    ``[1, A]``. Without active groups: 0 components and ``nan`` shares.

    Time complexity: O(N K + E).

    Examples
    --------
    >>> m = np.array([[True, False], [True, True], [False, True], [False, False]])
    >>> communication_components(m, np.ones(4, bool), [0, 1, 2], [1, 2, 3])
    Components(n_nodes=4, n_components=2, giant_size=3, giant_share=0.75, mean_size=2.0)
    """
    labels = communication_labels(membership, active, edges_u, edges_v)
    lab = labels[labels >= 0]
    return _components_summary(int(lab.shape[0]), np.bincount(lab).astype(np.int64))


# ---------------------------------------------------------------------------------------------
# 4. Per-platform subgraphs
# ---------------------------------------------------------------------------------------------


class PlatformComponents(NamedTuple):
    """Connected components of each platform's own subgraph."""

    n_present: NDArray[np.int64]
    """(K,) active groups present on the platform."""
    n_components: NDArray[np.int64]
    """(K,) components of the platform subgraph, isolated groups included."""
    giant_size: NDArray[np.int64]
    """(K,) groups in its largest component."""
    giant_share: NDArray[np.float64]
    """(K,) ``giant_size / n_present`` (nan where nobody is present)."""


def _platform_summary(
    present: NDArray[np.int64], n_comp: NDArray[np.int64], giant: NDArray[np.int64]
) -> PlatformComponents:
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(present > 0, giant / np.maximum(present, 1), np.nan)
    return PlatformComponents(present, n_comp, giant, share)


def platform_components(
    membership: ArrayLike, active: ArrayLike, edges_u: ArrayLike, edges_v: ArrayLike
) -> PlatformComponents:
    """Components of the subgraph of each platform, all platforms in one pass.

    Parameters
    ----------
    membership : array_like of bool, shape (N, K)
        Presence matrix.
    active : array_like of bool, shape (N,)
        Active groups.
    edges_u, edges_v : array_like of int, shape (E,)
        Contact ties.

    Returns
    -------
    PlatformComponents
        ``(n_present, n_components, giant_size, giant_share)``, each of shape (K,).

    Notes
    -----
    The subgraph of platform k has the active groups present on k as nodes and the ties whose
    two ends are both on k. All K subgraphs are solved with one components call on a graph whose
    nodes are the (group, platform) presences and whose edges join (u, k) to (v, k); no edge
    crosses platforms, so each component lies on a single platform.
    ``giant_share[k]`` lies in ``[1/n_present[k], 1]``, ``nan`` when nobody is on k.

    Time complexity: O(N K + E K).
    """
    m = _as_membership(membership)
    n, k = m.shape
    act = _as_bool_vector(active, "active", n)
    u, v = _as_edges(edges_u, edges_v, n)
    present_mask = m & act[:, None]
    n_pairs = int(np.count_nonzero(present_mask))
    pair_id = np.full((n, k), -1, dtype=np.int64)
    pair_id[present_mask] = np.arange(n_pairs)  # row-major: group first, then platform
    pair_plat = np.nonzero(present_mask)[1].astype(np.int64)
    tie = act[u] & act[v]
    a_parts, b_parts = [], []
    for p in range(k):
        on = tie & present_mask[u, p] & present_mask[v, p]
        a_parts.append(pair_id[u[on], p])
        b_parts.append(pair_id[v[on], p])
    a = np.concatenate(a_parts) if a_parts else np.empty(0, np.int64)
    b = np.concatenate(b_parts) if b_parts else np.empty(0, np.int64)
    labels = _components_from_pairs(n_pairs, a, b)
    sizes = np.bincount(labels).astype(np.int64) if n_pairs else np.empty(0, np.int64)
    comp_plat = np.zeros(sizes.shape[0], dtype=np.int64)
    comp_plat[labels] = pair_plat
    present = np.bincount(pair_plat, minlength=k).astype(np.int64)
    n_comp = np.bincount(comp_plat, minlength=k).astype(np.int64)
    giant = np.zeros(k, dtype=np.int64)
    np.maximum.at(giant, comp_plat, sizes)
    return _platform_summary(present, n_comp, giant)


# ---------------------------------------------------------------------------------------------
# 5. Modularity
# ---------------------------------------------------------------------------------------------


def _modularity_from_counts(
    inside: NDArray[np.int64], degree: NDArray[np.int64], n_edges: int
) -> float:
    """Newman modularity from per-community internal ties, degree sums and the tie count."""
    if n_edges == 0:
        return math.nan
    m = float(n_edges)
    norm = 1.0 / (2.0 * m) ** 2
    q = 0.0
    for lc, dc in zip(inside.tolist(), degree.tolist(), strict=True):
        q += lc / m - dc * dc * norm
    return q


def modularity(labels: ArrayLike, edges_u: ArrayLike, edges_v: ArrayLike) -> float:
    r"""Newman modularity of a partition of the contact network.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
        Community of each group; a negative label leaves the group out of the graph.
    edges_u, edges_v : array_like of int, shape (E,)
        Contact ties.

    Returns
    -------
    float
        .. math:: Q = \sum_c \left[\frac{L_c}{m} - \left(\frac{d_c}{2m}\right)^2\right]

        over the graph of the labelled groups and the ties between two of them: ``m`` ties,
        ``L_c`` ties inside community c, ``d_c`` the summed degree of its groups. ``nan`` when
        the graph has no tie (networkx returns 0 there; we keep 0 for a real value).

    Notes
    -----
    Equals ``networkx.algorithms.community.modularity`` (resolution 1) on that graph and
    partition. Q lies in ``[-1/2, 1)``.

    Time complexity: O(N + E + C).

    Examples
    --------
    >>> round(modularity([0, 0, 1, 1], [0, 1, 2], [1, 2, 3]), 6)  # a path split in the middle
    0.166667
    """
    lab = _as_int_vector(labels, "labels")
    n = lab.shape[0]
    u, v = _as_edges(edges_u, edges_v, n)
    keep = (lab[u] >= 0) & (lab[v] >= 0)
    lu, lv = lab[u[keep]], lab[v[keep]]
    n_comm = int(lab.max()) + 1 if n and lab.max() >= 0 else 0
    inside = np.bincount(lu[lu == lv], minlength=n_comm).astype(np.int64)
    degree = (np.bincount(lu, minlength=n_comm) + np.bincount(lv, minlength=n_comm)).astype(
        np.int64
    )
    return _modularity_from_counts(inside, degree, int(lu.shape[0]))


def primary_modularity(
    primary: ArrayLike, active: ArrayLike, edges_u: ArrayLike, edges_v: ArrayLike
) -> float:
    """Modularity of the partition of active groups by primary platform.

    Parameters
    ----------
    primary : array_like of int, shape (N,)
        Primary platform per group, -1 for none.
    active : array_like of bool, shape (N,)
        Active groups.
    edges_u, edges_v : array_like of int, shape (E,)
        Contact ties.

    Returns
    -------
    float
        :func:`modularity` of the graph whose nodes are the active groups with a primary platform
        and whose ties are the contact ties between two such groups, communities being the
        primary platforms. High values mean contacts sit on the same primary platform; values
        near 0 mean platforms cut across the network. ``nan`` without ties.

    Notes
    -----
    Time complexity: O(N + E + K).
    """
    p = _as_int_vector(primary, "primary")
    act = _as_bool_vector(active, "active", p.shape[0])
    if p.size and int(p.min()) < -1:
        raise ValueError(f"primary must be -1 (none) or a platform index, got value {int(p.min())}")
    return modularity(np.where(act, p, -1), edges_u, edges_v)


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


# ---------------------------------------------------------------------------------------------
# 7. Migration dynamics after a shock
# ---------------------------------------------------------------------------------------------


class MigrationResponse(NamedTuple):
    """Where migrants went after a shock, and how fast."""

    n_migrations: int
    """Primary-platform changes (a != b) in the window, counted as group-steps."""
    top_destination: int
    """Destination index receiving most migrations (K = dark); -1 without migrations."""
    top_destination_share: float
    """Share of migrations that went to the top destination."""
    split_share: float
    """``1 - top_destination_share``: share that went elsewhere."""
    n_destinations: int
    """Destinations receiving at least ``min_share`` of the migrations."""
    steps_to_50: float
    """Steps until the top destination reaches 50% of its final share gain (nan if never)."""
    steps_to_90: float
    """Steps until it reaches 90% of its final share gain (nan if never)."""
    net_flow: NDArray[np.int64]
    """(K+1, K+1) net flows over the window, see :func:`net_flows`."""


def _as_flows(flows: ArrayLike) -> NDArray[np.int64]:
    f = np.asarray(flows)
    if f.ndim != 3 or f.shape[1] != f.shape[2] or f.shape[1] < 2:
        raise ValueError(f"flows must have shape (T, K+1, K+1) with K >= 1, got shape {f.shape}")
    if f.size and not np.issubdtype(f.dtype, np.integer):
        raise ValueError(f"flows must hold integer counts, got dtype {f.dtype}")
    return f.astype(np.int64, copy=False)


def _check_window(start: int, stop: int, n_steps: int, *, horizon_name: str = "stop") -> None:
    if isinstance(start, bool) or not isinstance(start, int | np.integer):
        raise ValueError(f"shock_step must be an integer, got {start!r}")
    if not 0 <= start < n_steps:
        raise ValueError(f"shock_step must lie in [0, {n_steps - 1}] (T steps), got {start}")
    if not start < stop <= n_steps:
        raise ValueError(
            f"{horizon_name} must end the window after the shock and within the {n_steps} "
            f"recorded steps (at most {n_steps - start} steps from step {start}), got window "
            f"[{start}, {stop})"
        )


def net_flows(flows: ArrayLike, start: int, stop: int) -> NDArray[np.int64]:
    r"""Net flows between platforms over steps ``start .. stop-1``.

    Parameters
    ----------
    flows : array_like of int, shape (T, K+1, K+1)
        ``flows[t, a, b]`` groups whose primary went from a to b during step t; index K is "no
        platform" (dark).
    start, stop : int
        Window of steps, ``0 <= start < stop <= T``.

    Returns
    -------
    ndarray of int64, shape (K+1, K+1)
        :math:`F - F^T` with :math:`F = \sum_{t=start}^{stop-1} flows[t]`; entry (a, b) > 0
        means more groups moved from a to b than back. Antisymmetric, zero diagonal.

    Notes
    -----
    Time complexity: O((stop - start) K^2).
    """
    f = _as_flows(flows)
    _check_window(start, stop, f.shape[0], horizon_name="stop")
    total = f[start:stop].sum(axis=0)
    return total - total.T


def steps_to_fraction(series: ArrayLike, fraction: float) -> float:
    """Count the steps until a series has made a given fraction of its final gain.

    Parameters
    ----------
    series : array_like of float, shape (H+1,)
        Values at the baseline (index 0) and h = 1 .. H steps later.
    fraction : float
        In ``(0, 1]``.

    Returns
    -------
    float
        The smallest h >= 1 with ``series[h] - series[0] >= fraction * G`` where
        ``G = series[H] - series[0]`` (compared with a tolerance of 1e-12 so that exact
        fractions are reached); ``nan`` when ``G <= 0`` (no gain) or the series holds nan.

    Notes
    -----
    Time complexity: O(H).

    Examples
    --------
    >>> steps_to_fraction([0.1, 0.2, 0.4, 0.5, 0.5], 0.5)
    2.0
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction!r}")
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 1 or x.shape[0] < 2:
        raise ValueError(f"series must be 1-D with at least 2 values, got shape {x.shape}")
    if np.isnan(x).any():
        return math.nan
    gain = x - x[0]
    final = gain[-1]
    if not final > 0:
        return math.nan
    hit = np.flatnonzero(gain[1:] >= fraction * final - 1e-12 * max(1.0, abs(final)))
    return float(hit[0] + 1)


def migration_response(
    flows: ArrayLike,
    shares: ArrayLike,
    shock_step: int,
    horizon: int,
    *,
    source: int | None = None,
    min_share: float = 0.05,
) -> MigrationResponse:
    """Concentration and speed of migration in the steps after a shock.

    Parameters
    ----------
    flows : array_like of int, shape (T, K+1, K+1)
        ``flows[t, a, b]`` groups whose primary went from a to b during step t; index K means no
        platform (dark).
    shares : array_like of float, shape (T+1, K) or (T+1, K+1)
        Primary-platform shares; row t is the state before step t (row T the final state). An
        optional last column holds the dark share, needed for timing a move to dark.
    shock_step : int
        Step s at which the shock acts.
    horizon : int
        Window length H: steps ``s .. s+H-1`` are counted, ``s + H <= T``.
    source : int, optional
        Count only migrations leaving this platform (for example the shocked one).
    min_share : float, default 0.05
        Threshold for counting a destination in ``n_destinations``.

    Returns
    -------
    MigrationResponse
        Let ``M_b`` be the migrations (a != b) into b over the window and ``M = sum_b M_b``.
        ``top_destination = argmax_b M_b`` (lowest index on ties),
        ``top_destination_share = M_top / M`` and ``split_share = 1 - M_top / M``, both in
        ``[0, 1]`` (nan without migrations); ``n_destinations = #{b : M_b >= min_share M}``.
        ``steps_to_50`` / ``steps_to_90``: with ``g(h) = shares[s+h, top] - shares[s, top]``,
        the smallest ``h`` in ``1 .. H`` with ``g(h) >= 0.5 g(H)`` (resp. 0.9), see
        :func:`steps_to_fraction`; nan if the top destination gains nothing. ``net_flow`` is
        :func:`net_flows` over the window.

    Raises
    ------
    ValueError
        For inconsistent shapes, a shock step outside ``[0, T)`` or a window past the end.

    Notes
    -----
    A group that moves twice in the window counts twice. Flows from the dark state (a = K) are
    migrations too (unless ``source`` excludes them).

    Time complexity: O(H K^2).
    """
    f = _as_flows(flows)
    n_steps, k1, _ = f.shape
    k = k1 - 1
    sh = np.asarray(shares, dtype=np.float64)
    if sh.ndim != 2 or sh.shape[0] != n_steps + 1 or sh.shape[1] not in (k, k + 1):
        raise ValueError(
            f"shares must have shape ({n_steps + 1}, {k}) or ({n_steps + 1}, {k + 1}) to match "
            f"flows of shape {f.shape}, got shape {sh.shape}"
        )
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    _check_window(shock_step, shock_step + horizon, n_steps, horizon_name="horizon")
    if source is not None and not 0 <= source <= k:
        raise ValueError(f"source must lie in [0, {k}] (K = dark), got {source!r}")
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share must lie in (0, 1], got {min_share!r}")
    stop = shock_step + horizon
    total = f[shock_step:stop].sum(axis=0)
    moved = total.copy()
    np.fill_diagonal(moved, 0)
    if source is not None:
        moved = moved[[source], :]
    arrivals = moved.sum(axis=0)
    n_mig = int(arrivals.sum())
    if n_mig == 0:
        top, top_share, n_dest = -1, math.nan, 0
        t50 = t90 = math.nan
    else:
        top = int(np.argmax(arrivals))
        top_share = float(arrivals[top]) / n_mig
        n_dest = int(np.count_nonzero(arrivals >= min_share * n_mig))
        if top < sh.shape[1]:
            series = sh[shock_step : stop + 1, top]
            t50 = steps_to_fraction(series, 0.5)
            t90 = steps_to_fraction(series, 0.9)
        else:
            t50 = t90 = math.nan
    return MigrationResponse(
        n_migrations=n_mig,
        top_destination=top,
        top_destination_share=top_share,
        split_share=1.0 - top_share if n_mig else math.nan,
        n_destinations=n_dest,
        steps_to_50=t50,
        steps_to_90=t90,
        net_flow=total - total.T,
    )


# ---------------------------------------------------------------------------------------------
# 8. Before/after summary
# ---------------------------------------------------------------------------------------------


def fragmentation_summary(
    timeseries: pd.DataFrame,
    shock_steps: Sequence[int],
    *,
    post_window: int,
    pre_window: int | None = None,
    measures: Sequence[str] | None = None,
    incomplete: Literal["nan", "clip", "raise"] = "nan",
) -> pd.DataFrame:
    """Tidy before/after table of measures around each shock.

    Parameters
    ----------
    timeseries : pandas.DataFrame
        One row per recorded step, indexed by step number (increasing, unique, integers; steps
        may be missing when measures are recorded every few steps), one column per measure.
    shock_steps : sequence of int
        Steps s at which shocks act (the row at step s already shows the shock's effect).
    post_window : int
        ``after`` is the value at step ``s + post_window``, or at the last recorded step in
        ``[s, s + post_window]`` when that step was not recorded. ``post_window >= 0``.
    pre_window : int, optional
        ``None``: ``before`` is the value at the last recorded step before s (step s-1 when
        every step is recorded). An integer w >= 1: the mean of the recorded values at steps
        ``s-w .. s-1`` (nan values skipped).
    measures : sequence of str, optional
        Columns to summarise; default all columns.
    incomplete : {"nan", "clip", "raise"}, default "nan"
        When ``s + post_window`` lies past the last recorded step: "nan" gives ``after = nan``,
        "clip" uses the last recorded step, "raise" raises ValueError.

    Returns
    -------
    pandas.DataFrame
        Columns ``shock_step, measure, before, after, change`` with ``change = after - before``,
        one row per (shock, measure), shocks in the given order.

    Raises
    ------
    ValueError
        For a negative shock step, a bad window, an unknown measure, a bad index, or an
        incomplete window with ``incomplete="raise"``.

    Notes
    -----
    A shock with no recorded step before it (for example at step 0) gets ``before = nan`` and
    ``change = nan``. Shocks are treated one at a time; the window of one shock may contain the
    next shock.

    Time complexity: O(S M + S T) for S shocks, M measures and T recorded steps.

    Examples
    --------
    >>> ts = pd.DataFrame({"hhi_primary": [0.5, 0.5, 0.4, 0.3]}, index=[0, 1, 2, 3])
    >>> fragmentation_summary(ts, [2], post_window=1)
       shock_step      measure  before  after  change
    0           2  hhi_primary     0.5    0.3    -0.2
    """
    if not isinstance(timeseries, pd.DataFrame):
        raise ValueError(f"timeseries must be a pandas DataFrame, got {type(timeseries).__name__}")
    idx = timeseries.index
    if not pd.api.types.is_integer_dtype(idx.dtype):
        raise ValueError(
            f"timeseries must be indexed by integer steps, got index dtype {idx.dtype}"
        )
    if not (idx.is_monotonic_increasing and idx.is_unique):
        raise ValueError("timeseries index (steps) must be increasing and unique")
    if incomplete not in ("nan", "clip", "raise"):
        raise ValueError(f"incomplete must be 'nan', 'clip' or 'raise', got {incomplete!r}")
    if isinstance(post_window, bool) or not isinstance(post_window, int) or post_window < 0:
        raise ValueError(f"post_window must be a non-negative integer, got {post_window!r}")
    if pre_window is not None and (
        isinstance(pre_window, bool) or not isinstance(pre_window, int) or pre_window < 1
    ):
        raise ValueError(f"pre_window must be None or a positive integer, got {pre_window!r}")
    cols = list(timeseries.columns) if measures is None else list(measures)
    unknown = [c for c in cols if c not in timeseries.columns]
    if unknown:
        raise ValueError(
            f"unknown measure {unknown[0]!r} in measures; allowed: {list(timeseries.columns)}"
        )
    steps = idx.to_numpy(dtype=np.int64)
    values = timeseries[cols].to_numpy(dtype=np.float64)
    nan_row = np.full(len(cols), np.nan)
    last = int(steps[-1]) if steps.size else -1
    rows = []
    for s in shock_steps:
        if isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 0:
            raise ValueError(f"shock steps must be non-negative integers, got {s!r}")
        s = int(s)
        lo = s - 1 if pre_window is None else s - pre_window
        pre = (
            np.flatnonzero(steps < s)
            if pre_window is None
            else np.flatnonzero((steps >= lo) & (steps < s))
        )
        if pre.size == 0:
            before = nan_row
        elif pre_window is None:
            before = values[pre[-1]]
        else:
            with np.errstate(all="ignore"):
                before = np.array(
                    [np.nan if np.isnan(c).all() else np.nanmean(c) for c in values[pre].T]
                )
        end = s + post_window
        if end > last:
            if incomplete == "raise":
                raise ValueError(
                    f"post window of shock at step {s} ends at step {end}, past the last "
                    f"recorded step {last}"
                )
            end = last if incomplete == "clip" else None
        if end is None:
            after = nan_row
        else:
            post = np.flatnonzero((steps >= s) & (steps <= end))
            after = values[post[-1]] if post.size else nan_row
        for j, name in enumerate(cols):
            rows.append((s, name, before[j], after[j], after[j] - before[j]))
    return pd.DataFrame(rows, columns=["shock_step", "measure", "before", "after", "change"])


# ---------------------------------------------------------------------------------------------
# 9. Snapshot: every per-step measure in one call
# ---------------------------------------------------------------------------------------------

_BASE_COLUMNS = (
    "n_active",
    "dark_share",
    "hhi_primary",
    "effective_platforms_primary",
    "entropy_primary",
    "hhi_presence",
    "effective_platforms_presence",
    "entropy_presence",
    "broken_tie_share",
    "broken_tie_share_weighted",
    "comm_giant_share",
    "comm_n_components",
    "comm_mean_component_size",
    "modularity_primary",
    "coverage_groups",
    "coverage_ties",
    "coverage_severity",
)


def _platform_labels(platform_names: Sequence[str] | None, k: int) -> list[str]:
    if platform_names is None:
        return [str(i) for i in range(k)]
    names = [str(x) for x in platform_names]
    if len(names) != k:
        raise ValueError(f"platform_names must hold K={k} names, got {len(names)}: {names}")
    return names


def snapshot_columns(
    platform_names: Sequence[str] | int, crime_type_names: Sequence[str] | None = None
) -> list[str]:
    """Names of the values :func:`snapshot` returns, in order.

    Parameters
    ----------
    platform_names : sequence of str or int
        Platform names, or K (names then default to ``"0" .. "K-1"``).
    crime_type_names : sequence of str, optional
        Crime-type names, when per-type measures are requested.

    Returns
    -------
    list of str
        ``n_active, dark_share, hhi_primary, effective_platforms_primary, entropy_primary,
        hhi_presence, effective_platforms_presence, entropy_presence, broken_tie_share,
        broken_tie_share_weighted, comm_giant_share, comm_n_components,
        comm_mean_component_size, modularity_primary, coverage_groups, coverage_ties,
        coverage_severity``, then ``giant_share.<platform>`` for each platform,
        ``coverage_top.1`` .. ``coverage_top.K`` (:func:`coverage_curve`), then (with
        crime types) ``hhi_primary.<type>``, ``effective_platforms_primary.<type>`` and
        ``entropy_primary.<type>`` for each type.

    Notes
    -----
    The list depends only on the names, so results arrays can be preallocated from it.
    Time complexity: O(K + C).

    Examples
    --------
    >>> snapshot_columns(["Telegram", "Signal"])[-4:-2]
    ['giant_share.Telegram', 'giant_share.Signal']
    """
    if isinstance(platform_names, int | np.integer):
        names = _platform_labels(None, int(platform_names))
    else:
        names = _platform_labels(platform_names, len(platform_names))
    cols = list(_BASE_COLUMNS) + [f"giant_share.{p}" for p in names]
    cols += [f"coverage_top.{r + 1}" for r in range(len(names))]
    if crime_type_names is not None:
        for measure in ("hhi_primary", "effective_platforms_primary", "entropy_primary"):
            cols += [f"{measure}.{t}" for t in crime_type_names]
    return cols


class _Counts(NamedTuple):
    """Integer results both backends compute; floats are derived from them by shared code."""

    n_active: int
    n_dark: int
    primary: NDArray[np.int64]
    presence: NDArray[np.int64]
    primary_by_type: NDArray[np.int64] | None
    n_ties: int
    n_broken: int
    deg_tie: NDArray[np.int64]
    deg_broken: NDArray[np.int64]
    comm_n_components: int
    comm_giant: int
    plat_n_components: NDArray[np.int64]
    plat_giant: NDArray[np.int64]
    mod_inside: NDArray[np.int64]
    mod_degree: NDArray[np.int64]
    mod_edges: int
    covered: NDArray[np.bool_]
    n_covered: int
    n_visible: int
    first_seen: NDArray[np.int64]


def _counts_numpy(
    m: NDArray[np.bool_],
    act: NDArray[np.bool_],
    primary: NDArray[np.int64],
    u: NDArray[np.int64],
    v: NDArray[np.int64],
    mon_bits: int,
    crime_type: NDArray[np.int64] | None,
    n_types: int,
) -> _Counts:
    n, k = m.shape
    _check_range(primary, "primary", -1, k)
    if crime_type is not None:
        _check_range(crime_type, "crime_type", 0, n_types)
    u, v = _as_edges(u, v, n)
    bits = platform_bits(m, act)
    tie = act[u] & act[v]
    shared = bits[u] & bits[v]
    brk = tie & (shared == 0)
    covered = (bits & mon_bits) != 0
    prim = primary_counts(primary, act, k)
    by_type = (
        primary_counts_by_type(primary, act, crime_type, n_types, k)
        if crime_type is not None
        else None
    )
    comm = communication_components(m, act, u, v)
    plat = platform_components(m, act, u, v)
    lab = np.where(act, primary, -1)
    keep = (lab[u] >= 0) & (lab[v] >= 0)
    lu, lv = lab[u[keep]], lab[v[keep]]
    return _Counts(
        n_active=int(np.count_nonzero(act)),
        n_dark=int(np.count_nonzero(act & (bits == 0))),
        primary=prim,
        presence=plat.n_present,
        primary_by_type=by_type,
        n_ties=int(np.count_nonzero(tie)),
        n_broken=int(np.count_nonzero(brk)),
        deg_tie=_degrees(u, v, tie, n),
        deg_broken=_degrees(u, v, brk, n),
        comm_n_components=comm.n_components,
        comm_giant=comm.giant_size,
        plat_n_components=plat.n_components,
        plat_giant=plat.giant_size,
        mod_inside=np.bincount(lu[lu == lv], minlength=k).astype(np.int64),
        mod_degree=(np.bincount(lu, minlength=k) + np.bincount(lv, minlength=k)).astype(np.int64),
        mod_edges=int(lu.shape[0]),
        covered=covered,
        n_covered=int(np.count_nonzero(covered)),
        n_visible=int(np.count_nonzero(tie & ((shared & mon_bits) != 0))),
        first_seen=_first_seen(m, act, np.argsort(-plat.n_present, kind="stable")),
    )


def _n_chunks(n_items: int) -> int:
    """Chunks for the parallel passes: one per numba thread (at most 8), one for small inputs."""
    if n_items < 20_000:
        return 1
    return max(1, min(numba.get_num_threads(), 8))


class _Workspace(threading.local):
    """Work arrays of the numba kernels, kept per thread and reused from call to call.

    A snapshot at 100,000 groups needs about 10 MB of temporaries; allocating them afresh at
    every step cost 2-3 ms in page faults (a fresh mapping is zeroed page by page on first
    touch). The arrays never leave :func:`snapshot`, so reuse is safe.
    """

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """An uninitialised array of this shape, reusing the last one of that name if big enough."""
        size = math.prod(shape)
        buf = self.arrays.get(name)
        if buf is None or buf.dtype != dtype or buf.size < size:
            buf = np.empty(max(size, 1), dtype=dtype)
            self.arrays[name] = buf
        return buf[:size].reshape(shape)


_WORKSPACE = _Workspace()


def _assign_lanes(presence: NDArray[np.int64], n_lanes: int) -> NDArray[np.int64]:
    """Give each platform to one of ``n_lanes`` union-find lanes, balancing presence squared.

    Entry 64 (and every entry >= K) is lane 0; the tie pass looks up ``lane_of[64]`` for ties
    that share no platform.
    """
    lane_of = np.zeros(65, np.int64)
    load = np.zeros(n_lanes)
    for p in np.argsort(-presence, kind="stable").tolist():
        lane = int(np.argmin(load))
        lane_of[p] = lane
        load[lane] += float(presence[p]) ** 2
    return lane_of


class _StageClock:
    """Wall time of the stages of :func:`_counts_numba`, appended to lists in a dict."""

    def __init__(self, timings: dict[str, list[float]] | None) -> None:
        self.timings = timings
        self.t0 = 0.0

    def start(self) -> None:
        if self.timings is not None:
            self.t0 = time.perf_counter()

    def lap(self, stage: str) -> None:
        if self.timings is not None:
            self.timings.setdefault(stage, []).append(time.perf_counter() - self.t0)


def _counts_numba(
    m: NDArray[np.bool_],
    act: NDArray[np.bool_],
    primary: NDArray[np.int64],
    u: NDArray[np.int64],
    v: NDArray[np.int64],
    mon_bits: int,
    crime_type: NDArray[np.int64] | None,
    n_types: int,
    timings: dict[str, list[float]] | None = None,
) -> _Counts:
    # ``timings``, if given, collects the seconds each stage takes (benchmarks/bench_metrics.py)
    clock = _StageClock(timings)
    n, k = m.shape
    n_ties_in = u.shape[0]
    if n * k >= 2**31 or n_ties_in >= 2**31:
        raise ValueError(
            f"the numba kernel numbers presences and ties in int32 and needs N*K < 2**31 and "
            f"E < 2**31, got N={n}, K={k}, E={n_ties_in}; use backend='numpy'"
        )
    ws = _WORKSPACE
    # C-contiguous inputs keep numba to one compiled specialisation per kernel
    ct = np.ascontiguousarray(crime_type if crime_type is not None else np.zeros(0, np.int64))
    act, primary = np.ascontiguousarray(act), np.ascontiguousarray(primary)
    u, v = np.ascontiguousarray(u), np.ascontiguousarray(v)
    flat = np.ascontiguousarray(m).view(np.uint8).reshape(-1)
    packed = ws.get("packed", (n + 1,), np.int64)
    pair_plat = ws.get("pair_plat", (n * k,), np.int8)
    covered = ws.get("covered", (n,), np.bool_)
    clock.start()
    node = _nb_node_pass(
        flat, k, act, primary, ct, n_types, mon_bits, _n_chunks(n), packed, pair_plat, covered
    )
    clock.lap("groups")
    (n_pairs, presence, prim, by_type, n_covered, n_active, n_dark, bad_p, bad_t,
     first_seen) = node  # fmt: skip
    if bad_p:
        _check_range(primary, "primary", -1, k)
    if bad_t:
        _check_range(ct, "crime_type", 0, n_types)
    pair_plat = pair_plat[:n_pairs]
    n_chunks = _n_chunks(n_ties_in)
    lane_of = _assign_lanes(presence, n_chunks)  # one union-find lane per chunk
    degrees_c = ws.get("degrees", (n_chunks, n), np.int64)
    pair_a = ws.get("pair_a", (n_chunks, n_ties_in), np.int32)
    pair_b = ws.get("pair_b", (n_chunks, n_ties_in), np.int32)
    multi = ws.get("multi", (n_ties_in,), np.int32)
    clock.start()
    ties = _nb_tie_pass(u, v, packed, mon_bits, k, lane_of, degrees_c, pair_a, pair_b, multi)
    (bounds, n_joins, n_multi, n_ties, n_broken, n_visible, mod_m, mod_in, mod_deg,
     bad_e) = ties  # fmt: skip
    if bad_e:
        _as_edges(u, v, n)  # raises with a precise message
    deg_tie = ws.get("deg_tie", (n,), np.int64)
    deg_brk = ws.get("deg_broken", (n,), np.int64)
    _nb_split_degrees(degrees_c, deg_tie, deg_brk)
    clock.lap("ties")
    parent = ws.get("parent", (int(n_pairs),), np.int32)
    clock.start()
    _nb_union_pass(
        pair_a, pair_b, multi, bounds, n_joins, n_multi, u, v, packed, k, lane_of, parent
    )
    clock.lap("union-find")
    count = ws.get("count", (int(n_pairs),), np.int32)
    clock.start()
    plat_ncomp, plat_giant, comm_ncomp, comm_giant = _nb_component_pass(
        parent, packed, pair_plat, k, n_dark, count
    )
    clock.lap("components")
    return _Counts(
        n_active=int(n_active),
        n_dark=int(n_dark),
        primary=prim,
        presence=presence,
        primary_by_type=by_type if crime_type is not None else None,
        n_ties=int(n_ties),
        n_broken=int(n_broken),
        deg_tie=deg_tie,
        deg_broken=deg_brk,
        comm_n_components=int(comm_ncomp),
        comm_giant=int(comm_giant),
        plat_n_components=plat_ncomp,
        plat_giant=plat_giant,
        mod_inside=mod_in,
        mod_degree=mod_deg,
        mod_edges=int(mod_m),
        covered=covered,
        n_covered=int(n_covered),
        n_visible=int(n_visible),
        first_seen=first_seen,
    )


def snapshot(
    membership: ArrayLike,
    active: ArrayLike,
    primary: ArrayLike,
    edges_u: ArrayLike,
    edges_v: ArrayLike,
    size: ArrayLike,
    severity: ArrayLike,
    monitored: ArrayLike,
    *,
    platform_names: Sequence[str] | None = None,
    crime_type: ArrayLike | None = None,
    crime_type_names: Sequence[str] | None = None,
    backend: Backend = "auto",
) -> dict[str, float]:
    """All per-step fragmentation and monitoring measures in one call.

    Parameters
    ----------
    membership : array_like of bool, shape (N, K)
        Presence matrix.
    active : array_like of bool, shape (N,)
        Active groups.
    primary : array_like of int, shape (N,)
        Primary platform, -1 for none.
    edges_u, edges_v : array_like of int, shape (E,)
        Contact ties, ``edges_u < edges_v``. Sorted by ``edges_u`` is fastest.
    size : array_like of float, shape (N,)
        Group sizes (weights of :func:`broken_ties`).
    severity : array_like of float, shape (N,)
        Enforcement priority (weights of :func:`monitoring_coverage`).
    monitored : array_like of bool, shape (K,)
        Monitored platforms.
    platform_names : sequence of str, optional
        Labels for the per-platform columns (default ``"0" .. "K-1"``).
    crime_type : array_like of int, shape (N,), optional
        With ``crime_type_names``, adds per-type concentration of primary platforms.
    crime_type_names : sequence of str, optional
        Names of the C crime types (required with ``crime_type``).
    backend : {"auto", "numba", "numpy"}, default "auto"
        "auto" uses the fused numba kernel when numba is installed. Both give identical values.

    Returns
    -------
    dict of str to float
        Keys in the order of :func:`snapshot_columns`:

        - ``n_active``; ``dark_share``: share of active groups on no platform.
        - ``hhi_primary``, ``effective_platforms_primary``, ``entropy_primary``: concentration
          of :func:`primary_counts`; ``hhi_presence``, ``effective_platforms_presence``,
          ``entropy_presence``: of :func:`presence_counts` (see :func:`concentration`).
        - ``broken_tie_share``, ``broken_tie_share_weighted``: :func:`broken_ties`.
        - ``comm_giant_share``, ``comm_n_components``, ``comm_mean_component_size``:
          :func:`communication_components`.
        - ``modularity_primary``: :func:`primary_modularity`.
        - ``coverage_groups``, ``coverage_ties``, ``coverage_severity``:
          :func:`monitoring_coverage`.
        - ``giant_share.<platform>``: :func:`platform_components` giant shares.
        - ``coverage_top.<k>`` for k = 1 .. K: :func:`coverage_curve`.
        - with crime types: ``hhi_primary.<type>``, ``effective_platforms_primary.<type>``,
          ``entropy_primary.<type>``.

    Raises
    ------
    ValueError
        For wrong shapes or dtypes, out-of-range indices, ties not ordered ``u < v``, or an
        unknown backend.

    Notes
    -----
    The numba kernel makes one pass over the groups and one over the ties (both on numba's
    threads), a union-find over the (group, platform) presences the ties join (all per-platform
    subgraphs at once, in lanes that own whole platforms) and one pass over the presences (the
    communication graph is the union of the platform subgraphs joined through each multi-homing
    group). Time complexity: O(N K + E K alpha(N)). For N = 100,000, K = 10 and E = 500,000
    ties sorted by ``edges_u`` it takes about 15-20 ms on the 2-core development machine, half
    of it in the pass over the ties; the numpy path takes about 210 ms
    (``benchmarks/bench_metrics.py``). Values do not depend on the number of threads.
    """
    m = _as_membership(membership)
    n, k = m.shape
    act = _as_bool_vector(active, "active", n)
    prim = _as_int_vector(primary, "primary", n)
    u = _as_int_vector(edges_u, "edges_u")
    v = _as_int_vector(edges_v, "edges_v")
    if u.shape != v.shape:
        raise ValueError(
            f"edges_u and edges_v must have the same length, got {u.shape[0]} and {v.shape[0]}"
        )
    sz = _as_float_vector(size, "size", n)
    sev = _as_float_vector(severity, "severity", n)
    mon_bits = _mask_to_bits(_as_monitored(monitored, k))
    names = _platform_labels(platform_names, k)
    ct = None
    n_types = 0
    if crime_type is not None:
        if crime_type_names is None:
            raise ValueError("crime_type_names must be given with crime_type (one name per type)")
        ct = _as_int_vector(crime_type, "crime_type", n)
        n_types = len(crime_type_names)
    use_numba = _resolve_backend(backend, k)
    counter = _counts_numba if use_numba else _counts_numpy
    c = counter(m, act, prim, u, v, mon_bits, ct, n_types)

    out: dict[str, float] = {}
    out["n_active"] = float(c.n_active)
    out["dark_share"] = _ratio(c.n_dark, c.n_active)
    for label, counts in (("primary", c.primary), ("presence", c.presence)):
        conc = concentration(counts)
        out[f"hhi_{label}"] = conc.hhi
        out[f"effective_platforms_{label}"] = conc.effective_number
        out[f"entropy_{label}"] = conc.entropy
    out["broken_tie_share"] = _ratio(c.n_broken, c.n_ties)
    out["broken_tie_share_weighted"] = _weighted_ratio(sz, c.deg_broken, c.deg_tie)
    out["comm_giant_share"] = _ratio(c.comm_giant, c.n_active)
    out["comm_n_components"] = float(c.comm_n_components)
    out["comm_mean_component_size"] = _ratio(c.n_active, c.comm_n_components)
    out["modularity_primary"] = _modularity_from_counts(c.mod_inside, c.mod_degree, c.mod_edges)
    out["coverage_groups"] = _ratio(c.n_covered, c.n_active)
    out["coverage_ties"] = _ratio(c.n_visible, c.n_ties)
    out["coverage_severity"] = _severity_share(sev, c.covered, act)
    plat = _platform_summary(c.presence, c.plat_n_components, c.plat_giant)
    for name, share in zip(names, plat.giant_share.tolist(), strict=True):
        out[f"giant_share.{name}"] = share
    curve = np.cumsum(c.first_seen) / c.n_active if c.n_active else np.full(k, np.nan)
    for r, share in enumerate(curve.tolist()):
        out[f"coverage_top.{r + 1}"] = share
    if c.primary_by_type is not None and crime_type_names is not None:
        conc_t = concentration(c.primary_by_type)
        for measure, vals in (
            ("hhi_primary", conc_t.hhi),
            ("effective_platforms_primary", conc_t.effective_number),
            ("entropy_primary", conc_t.entropy),
        ):
            for t, val in zip(crime_type_names, np.atleast_1d(vals).tolist(), strict=True):
                out[f"{measure}.{t}"] = val
    return out


# ---------------------------------------------------------------------------------------------
# numba fast path for snapshot()
# ---------------------------------------------------------------------------------------------
# Profile notes (N = 100,000, K = 10, E = 500,000, 2-core VM, no hardware counters available):
# scipy's connected_components alone takes 50-60 ms per graph, so the numpy path (about 250 ms
# per snapshot) cannot meet a per-step budget. The kernels below replace the two components
# calls with one union-find over (group, platform) presence pairs: ties join pairs on the same
# platform (every platform subgraph at once), then each multi-homing group's pairs are joined
# (the communication graph is the union of the platform subgraphs).
#
# Three passes: groups, ties, union-find. What paid, measured one change at a time:
# - one packed int64 per group, so that a tie needs one load per end; int32 parents;
# - splitting the tie pass from the union-find: the tie pass only writes the pair indices of the
#   first shared platform of each tie (branch-free), and a separate loop unites them. Fused, the
#   unpredictable branches of the union-find stalled the loads of the tie pass (13 ms -> 3 ms
#   for the unions, 4.5 ms for the pass that collects them);
# - the modularity sums as one (K+1) x (K+1) histogram of primary pairs, in four interleaved
#   copies: a small counter array updated at every tie made a store-to-load dependency chain
#   (about 4 ms of the tie pass);
# - both degree counts in one int64 (one random read-modify-write per tie end, not two);
# - the group and tie passes in fixed chunks on numba's threads (about 1.7x on 2 cores); every
#   result is an integer count, so the values do not depend on the number of threads;
# - the union-find in lanes that own whole platforms (pairs of different platforms are never
#   joined in it), so the lanes share no parent entry and need no locks or merge. The gain is
#   limited by the largest platform (Telegram holds about 85% of the joins at 100,000 groups);
# - work arrays reused from call to call (see _Workspace);
# - the coverage curve counted in the group pass (it was a separate 1.5 ms numpy pass).
# What did not pay: software prefetching by early loads, relabelling the groups in breadth-first
# or Cuthill-McKee order, union by size, a two-hop branch-free find, a thread-private forest per
# chunk merged afterwards (the merge cost what the second thread saved), computing the measures
# of step t in a background thread during step t+1 (the step already keeps both cores busy), and
# an exact incremental tracker (spanning forests repaired after each step; 62 ms per step, see
# benchmarks/README.md and the branch experiment/snapshot-tracker).
#
# Inside a model run the passes are slower than in a loop over one state (caches hold the
# step's data, not the metrics'): about 2 ms for the groups, 7-10 ms for the ties, 4-6 ms for the
# union-find and 3 ms for the components at 100,000 groups, against a step of about 21 ms.

if HAVE_NUMBA:
    _jit = numba.njit(cache=True, nogil=True)
    _jit_parallel = numba.njit(cache=True, nogil=True, parallel=True)
    _jit_inline = numba.njit(cache=True, nogil=True, inline="always")

    @_jit_inline
    def _nb_find(parent, x):  # noqa: D103
        while parent[x] != x:
            parent[x] = parent[parent[x]]  # path halving
            x = parent[x]
        return x

    @_jit_inline
    def _nb_union(parent, a, b):  # noqa: D103
        # linking the larger root under the smaller keeps parent[x] <= x for every x
        ra = _nb_find(parent, a)
        rb = _nb_find(parent, b)
        if ra < rb:
            parent[rb] = ra
        elif rb < ra:
            parent[ra] = rb

    @_jit_inline
    def _nb_popcount(x):  # noqa: D103
        x = x - ((x >> 1) & 0x5555555555555555)
        x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333)
        x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0F
        return (x * 0x0101010101010101) >> 56

    @_jit_parallel
    def _nb_node_pass(
        flat, k, active, primary, crime_type, n_types, mon_bits, n_chunks, packed, pair_plat,
        covered,
    ):  # fmt: skip
        """Pack each group into an int64 and count everything that needs only the group.

        ``flat`` is the (N, K) membership viewed as N*K uint8. Presence pairs (group i,
        platform p) are numbered row-major; group i's pairs start at ``packed[i] >> 32`` and end
        before ``packed[i + 1] >> 32``. First pass: platform bits and pair counts per chunk;
        second pass: offsets and counts. ``first_seen[r]`` counts the active groups whose
        best-ranked platform (platforms ranked by presence, ties by index) has rank r; entry K
        counts the dark groups. Out-of-range primary or crime type values are counted (and
        treated as -1 / 0) so that the caller can raise. ``packed`` (N+1), ``pair_plat``
        (at least the number of pairs) and ``covered`` (N) are outputs.
        """
        n = active.shape[0]
        chunk_pairs = np.zeros(n_chunks + 1, np.int64)
        presence_c = np.zeros((n_chunks, k), np.int64)
        for c in numba.prange(n_chunks):
            pres = np.zeros(k, np.int64)
            n_c = 0
            for i in range(n * c // n_chunks, n * (c + 1) // n_chunks):
                bits = 0
                if active[i]:
                    base = i * k
                    for j in range(k):
                        x = np.int64(flat[base + j])
                        bits |= x << j
                        pres[j] += x
                packed[i] = bits
                n_c += _nb_popcount(bits)
            presence_c[c] = pres
            chunk_pairs[c + 1] = n_c
        for c in range(n_chunks):
            chunk_pairs[c + 1] += chunk_pairs[c]
        n_pairs = chunk_pairs[n_chunks]
        presence = presence_c.sum(axis=0)
        rank = np.empty(k, np.int64)
        for p in range(k):
            r = 0
            for q in range(k):
                r += (presence[q] > presence[p]) | ((presence[q] == presence[p]) & (q < p))
            rank[p] = r
        nt = max(n_types, 1)
        prim_c = np.zeros((n_chunks, k + 1), np.int64)
        by_type_c = np.zeros((n_chunks, nt, k + 1), np.int64)
        first_c = np.zeros((n_chunks, k + 1), np.int64)
        scalars_c = np.zeros((n_chunks, 5), np.int64)
        use_type = crime_type.shape[0] > 0
        for c in numba.prange(n_chunks):
            prim = np.zeros(k + 1, np.int64)
            by_type = np.zeros((nt, k + 1), np.int64)
            first = np.zeros(k + 1, np.int64)
            n_active = 0
            n_dark = 0
            n_covered = 0
            bad_p = 0
            bad_t = 0
            offset = chunk_pairs[c]
            for i in range(n * c // n_chunks, n * (c + 1) // n_chunks):
                p = primary[i]
                if p < -1 or p >= k:
                    bad_p += 1
                    p = -1
                t = 0
                if use_type:
                    t = crime_type[i]
                    if t < 0 or t >= n_types:
                        bad_t += 1
                        t = 0
                if not active[i]:
                    packed[i] = offset << _OFFSET_SHIFT
                    covered[i] = False
                    continue
                bits = packed[i]
                start = offset
                best = k
                rest = bits
                while rest:
                    low = rest & -rest
                    j = _nb_popcount(low - 1)
                    pair_plat[offset] = j
                    offset += 1
                    best = min(best, rank[j])
                    rest ^= low
                n_active += 1
                n_dark += bits == 0
                seen = (bits & mon_bits) != 0
                covered[i] = seen
                n_covered += seen
                prim[p + 1] += 1
                by_type[t, p + 1] += 1
                first[best] += 1
                packed[i] = (
                    (start << _OFFSET_SHIFT)
                    | (1 << _ACTIVE_SHIFT)
                    | ((p + 1) << _PRIMARY_SHIFT)
                    | bits
                )
            prim_c[c] = prim
            by_type_c[c] = by_type
            first_c[c] = first
            scalars_c[c, 0] = n_active
            scalars_c[c, 1] = n_dark
            scalars_c[c, 2] = n_covered
            scalars_c[c, 3] = bad_p
            scalars_c[c, 4] = bad_t
        packed[n] = n_pairs << _OFFSET_SHIFT
        s = scalars_c.sum(axis=0)
        by_type = by_type_c.sum(axis=0)
        return (
            n_pairs, presence, prim_c.sum(axis=0)[1:], by_type[:, 1:], s[2], s[0], s[1], s[3],
            s[4], first_c.sum(axis=0)[:k],
        )  # fmt: skip

    @_jit_parallel
    def _nb_tie_pass(eu, ev, packed, mon_bits, k, lane_of, degrees_c, pair_a, pair_b, multi):
        """One pass over the ties in fixed chunks: counts, and the pairs each tie joins.

        Chunk c covers ties ``[bounds[c], bounds[c + 1])``. The pair indices of each tie's
        first shared platform p go to lane ``lane_of[p]``: ``pair_a[lane]``/``pair_b[lane]``
        slots ``[bounds[c], bounds[c] + n_joins[c, lane])``. Ties sharing more than one
        platform are listed in ``multi`` (slots ``[bounds[c], bounds[c] + n_multi[c])``).
        Primary pairs of the ties are counted in a ``(K+1) x (K+1)`` histogram (row: primary
        of the lower end + 1), in four interleaved copies to avoid a store-to-load dependency
        chain. ``degrees_c`` (chunks x N) returns each group's ties + broken ties << 32.
        """
        n = packed.shape[0] - 1
        m = eu.shape[0]
        n_chunks = degrees_c.shape[0]
        n_lanes = pair_a.shape[0]
        k1 = k + 1
        plat_mask = (1 << k) - 1
        bounds = np.empty(n_chunks + 1, np.int64)
        for c in range(n_chunks + 1):
            bounds[c] = m * c // n_chunks
        hist_c = np.zeros((n_chunks, 4 * k1 * k1), np.int64)
        scalars_c = np.zeros((n_chunks, 4), np.int64)
        n_joins = np.zeros((n_chunks, n_lanes), np.int64)
        n_multi = np.zeros(n_chunks, np.int64)
        for c in numba.prange(n_chunks):
            degrees = degrees_c[c]
            degrees[:] = 0
            hist = hist_c[c]
            cursor = np.full(n_lanes, bounds[c], np.int64)
            w_multi = bounds[c]
            n_ties = 0
            n_broken = 0
            n_visible = 0
            bad = 0
            for e in range(bounds[c], bounds[c + 1]):
                a = eu[e]
                b = ev[e]
                if a < 0 or b >= n or a >= b:
                    bad += 1
                    continue
                xa = packed[a]
                xb = packed[b]
                both = xa & xb
                tie = (both >> _ACTIVE_SHIFT) & 1
                n_ties += tie
                pa = (xa >> _PRIMARY_SHIFT) & 31
                pb = (xb >> _PRIMARY_SHIFT) & 31
                hist[(e & 3) * k1 * k1 + pa * k1 + pb] += tie
                shared = both & plat_mask  # zero unless both ends are active
                broken = tie & (shared == 0)
                n_broken += broken
                inc = tie | (broken << 32)
                degrees[a] += inc
                degrees[b] += inc
                n_visible += (shared & mon_bits) != 0
                # pairs of the first shared platform; the slot is only kept when there is one
                low = shared & -shared
                below = low - 1
                lane = lane_of[_nb_popcount(below)]  # lane_of[64] serves shared == 0
                w = cursor[lane]
                pair_a[lane, w] = (xa >> _OFFSET_SHIFT) + _nb_popcount(xa & below & plat_mask)
                pair_b[lane, w] = (xb >> _OFFSET_SHIFT) + _nb_popcount(xb & below & plat_mask)
                cursor[lane] = w + (shared != 0)
                multi[w_multi] = e
                w_multi += (shared ^ low) != 0
            for lane in range(n_lanes):
                n_joins[c, lane] = cursor[lane] - bounds[c]
            n_multi[c] = w_multi - bounds[c]
            scalars_c[c, 0] = n_ties
            scalars_c[c, 1] = n_broken
            scalars_c[c, 2] = n_visible
            scalars_c[c, 3] = bad
        s = scalars_c.sum(axis=0)
        hist = hist_c.sum(axis=0).reshape(4, k1, k1).sum(axis=0)[1:, 1:]
        mod_in = np.zeros(k, np.int64)
        mod_deg = np.zeros(k, np.int64)
        for p in range(k):
            mod_in[p] = hist[p, p]
            mod_deg[p] = hist[p, :].sum() + hist[:, p].sum()
        return bounds, n_joins, n_multi, s[0], s[1], s[2], hist.sum(), mod_in, mod_deg, s[3]

    @_jit_parallel
    def _nb_split_degrees(degrees_c, deg_tie, deg_broken):
        """Sum the chunks' packed degree counts and split ties from broken ties."""
        n_chunks, n = degrees_c.shape
        for i in numba.prange(n):
            d = 0
            for c in range(n_chunks):
                d += degrees_c[c, i]
            deg_tie[i] = d & 0xFFFFFFFF
            deg_broken[i] = d >> 32

    @_jit_parallel
    def _nb_union_pass(
        pair_a, pair_b, multi, bounds, n_joins, n_multi, eu, ev, packed, k, lane_of, parent
    ):
        """Union-find over the pairs the ties join: every platform subgraph at once.

        Each lane owns whole platforms, so lanes touch disjoint parts of ``parent`` and run in
        parallel without locks; the partition found does not depend on the order of unions.
        """
        n_lanes = pair_a.shape[0]
        n_chunks = bounds.shape[0] - 1
        plat_mask = (1 << k) - 1
        for j in numba.prange(parent.shape[0]):
            parent[j] = j
        for lane in numba.prange(n_lanes):
            for c in range(n_chunks):
                for i in range(bounds[c], bounds[c] + n_joins[c, lane]):
                    _nb_union(parent, pair_a[lane, i], pair_b[lane, i])
                for i in range(bounds[c], bounds[c] + n_multi[c]):
                    e = multi[i]
                    xa = packed[eu[e]]
                    xb = packed[ev[e]]
                    shared = xa & xb & plat_mask
                    rest = shared ^ (shared & -shared)  # the first was joined above
                    while rest:
                        low = rest & -rest
                        below = low - 1
                        if lane_of[_nb_popcount(below)] == lane:
                            _nb_union(
                                parent,
                                (xa >> _OFFSET_SHIFT) + _nb_popcount(xa & below),
                                (xb >> _OFFSET_SHIFT) + _nb_popcount(xb & below),
                            )
                        rest ^= low

    @_jit
    def _nb_component_pass(parent, packed, pair_plat, k, n_dark, count):
        """Per-platform components, then join each group's pairs for the communication graph."""
        n = packed.shape[0] - 1
        n_pairs = parent.shape[0]
        count[:] = 0
        # parent[j] <= j, so one ascending sweep leaves every pair pointing at its root
        for j in range(n_pairs):
            r = parent[parent[j]]
            parent[j] = r
            count[r] += 1
        plat_ncomp = np.zeros(k, np.int64)
        plat_giant = np.zeros(k, np.int64)
        for j in range(n_pairs):
            if parent[j] == j:
                p = pair_plat[j]
                plat_ncomp[p] += 1
                plat_giant[p] = max(plat_giant[p], count[j])
        start = packed[0] >> _OFFSET_SHIFT
        for i in range(n):
            stop = packed[i + 1] >> _OFFSET_SHIFT
            for j in range(start + 1, stop):
                _nb_union(parent, start, j)
            start = stop
        count[:] = 0
        start = packed[0] >> _OFFSET_SHIFT
        for i in range(n):
            stop = packed[i + 1] >> _OFFSET_SHIFT
            if stop > start:
                count[_nb_find(parent, start)] += 1
            start = stop
        comm_ncomp = n_dark
        comm_giant = 1 if n_dark > 0 else 0
        for j in range(n_pairs):
            if count[j] > 0:
                comm_ncomp += 1
                comm_giant = max(comm_giant, count[j])
        return plat_ncomp, plat_giant, comm_ncomp, comm_giant
