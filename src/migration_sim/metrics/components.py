"""Components of the communication graph and of the per-platform subgraphs."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

from migration_sim.metrics.broken_ties import _ratio, platform_bits
from migration_sim.metrics.inputs import _as_bool_vector, _as_edges, _as_membership

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
