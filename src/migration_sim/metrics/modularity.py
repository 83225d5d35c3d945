"""Newman modularity of the contact network under a platform partition."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from migration_sim.metrics.inputs import _as_bool_vector, _as_edges, _as_int_vector

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
