"""Concentration of the ecosystem: HHI, effective number of platforms, Shannon entropy, counts."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from migration_sim.metrics.inputs import (
    _as_bool_vector,
    _as_int_vector,
    _as_membership,
    _check_range,
)

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
