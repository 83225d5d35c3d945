"""Contact networks between criminal groups: generation, loading and CSR storage.

The default generator is a Holme-Kim growth model (preferential attachment plus triad
formation, which gives heavy-tailed degrees and clustering) with crime-type homophily: each
preferential-attachment tie is drawn from the new group's own crime type with probability
``q``, chosen so that the expected share of within-type ties among those ties equals
``within_type_share``. Triad-closing ties are not steered, so the realised share is somewhat
lower (about 0.58 for the defaults, target 0.65; see tests/test_network.py).
User graphs (networkx objects, GraphML or edge-list files) are accepted when their nodes are
exactly the integers ``0 .. n_groups - 1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numba
import numpy as np
import scipy.sparse as sp

from migration_sim.config import ConfigError
from migration_sim.config.errors import (
    PATH_LIMIT,
    InputFileError,
    MigrationSimError,
    echo,
    read_bytes_file,
    read_text_file,
    shorten,
)

__all__ = [
    "ContactNetwork",
    "holme_kim_homophily",
    "homophily_probability",
    "check_graph_nodes",
    "from_networkx",
    "load_graph",
]


@dataclass
class ContactNetwork:
    """An undirected contact network held as edge arrays and a symmetric CSR adjacency.

    Attributes
    ----------
    n : int
        Number of nodes (groups).
    edges_u, edges_v : numpy.ndarray
        Edge endpoints, int64, ``edges_u < edges_v``, no duplicates.
    adjacency : scipy.sparse.csr_array
        Symmetric 0/1 adjacency (float64 data) built from the edges.
    """

    n: int
    edges_u: np.ndarray
    edges_v: np.ndarray
    adjacency: sp.csr_array

    @classmethod
    def from_edges(cls, n: int, u: np.ndarray, v: np.ndarray) -> ContactNetwork:
        """Build from endpoint arrays; orders each pair, drops self loops and duplicates."""
        u = np.asarray(u, dtype=np.int64)
        v = np.asarray(v, dtype=np.int64)
        if u.shape != v.shape:
            raise ValueError(f"edge endpoint arrays differ in length: {u.size} and {v.size}")
        lo, hi, indptr, cols = _edge_csr(n, u, v)
        adj = sp.csr_array((np.ones(cols.size), cols, indptr), shape=(n, n))
        return cls(n=n, edges_u=lo, edges_v=hi, adjacency=adj)

    @property
    def indptr(self) -> np.ndarray:
        """CSR row pointer of the adjacency."""
        return self.adjacency.indptr

    @property
    def indices(self) -> np.ndarray:
        """CSR column indices of the adjacency (neighbours of each node, sorted)."""
        return self.adjacency.indices

    @property
    def degree(self) -> np.ndarray:
        """Number of contacts of each node (int64)."""
        return np.diff(self.adjacency.indptr).astype(np.int64)

    def neighbours(self, i: int) -> np.ndarray:
        """Contacts of node ``i``."""
        return self.adjacency.indices[self.adjacency.indptr[i] : self.adjacency.indptr[i + 1]]

    def to_networkx(self) -> nx.Graph:
        """Return the network as a networkx Graph with nodes ``0 .. n-1``."""
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        g.add_edges_from(zip(self.edges_u.tolist(), self.edges_v.tolist(), strict=True))
        return g


@numba.njit(cache=True)
def _edge_csr(n, u, v):
    """Unique ordered edges (sorted by (lo, hi)) and the symmetric CSR, by counting sorts.

    O(n + E) plus a sort of each node's (short) list of higher neighbours; the same output as
    sorting the keys ``lo * n + hi``, without a global sort.
    """
    # higher endpoint of each edge, bucketed by its lower endpoint
    start = np.zeros(n + 1, np.int64)
    for e in range(u.size):
        if u[e] != v[e]:
            start[min(u[e], v[e]) + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    fill = start[:-1].copy()
    higher = np.empty(start[n], np.int64)
    for e in range(u.size):
        if u[e] != v[e]:
            a = min(u[e], v[e])
            higher[fill[a]] = max(u[e], v[e])
            fill[a] += 1
    # sort and deduplicate each bucket in place
    n_edges = 0
    lo = np.empty(higher.size, np.int64)
    hi = np.empty(higher.size, np.int64)
    for i in range(n):
        seg = np.sort(higher[start[i] : start[i + 1]])
        for j in range(seg.size):
            if j == 0 or seg[j] != seg[j - 1]:
                lo[n_edges] = i
                hi[n_edges] = seg[j]
                n_edges += 1
    lo, hi = lo[:n_edges], hi[:n_edges]
    # symmetric CSR: row r holds its lower neighbours (ascending, from the edge order), then its
    # higher neighbours (ascending), so every row comes out sorted
    indptr = np.zeros(n + 1, np.int64)
    for e in range(n_edges):
        indptr[lo[e] + 1] += 1
        indptr[hi[e] + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    pos = indptr[:-1].copy()
    cols = np.empty(2 * n_edges, np.int64)
    for e in range(n_edges):
        cols[pos[hi[e]]] = lo[e]
        pos[hi[e]] += 1
    for e in range(n_edges):
        cols[pos[lo[e]]] = hi[e]
        pos[lo[e]] += 1
    return lo, hi, indptr, cols


def homophily_probability(within_type_share: float, type_shares: np.ndarray) -> float:
    """Probability ``q`` that a preferential-attachment tie is drawn within the new node's type.

    Under random mixing a tie is within-type with probability ``r = sum_c s_c**2``. Drawing a
    share ``q`` of ties within type and the rest at random gives ``q + (1 - q) r``; solving for
    the target ``h`` gives ``q = (h - r) / (1 - r)``. Triad-formation ties are not steered, so
    the realised share is close to, not exactly, ``h``.
    """
    r = float(np.sum(np.asarray(type_shares, dtype=float) ** 2))
    if r >= 1.0:
        return 1.0
    return max(0.0, (within_type_share - r) / (1.0 - r))


def holme_kim_homophily(
    crime_type: np.ndarray,
    mean_degree: float,
    p_triad: float,
    q_within: float,
    rng: np.random.Generator,
) -> ContactNetwork:
    """Grow a Holme-Kim network with crime-type homophily.

    Nodes join in a random order. Each new node makes ``m`` ties (``m`` is ``mean_degree / 2``,
    rounded up or down at random so that the mean is exact). The first tie goes to an existing
    node chosen in proportion to degree (+1), from the node's own crime type with probability
    ``q_within`` and from all nodes otherwise. Each further tie closes a triangle with
    probability ``p_triad`` (a random contact of the previous target) and otherwise is another
    preferential-attachment tie.

    Complexity: O(n * m) expected time and memory.

    Parameters
    ----------
    crime_type : numpy.ndarray
        Crime-type index of each node, shape (n,).
    mean_degree : float
        Target mean degree (> 0).
    p_triad : float
        Triad-formation probability in [0, 1].
    q_within : float
        Within-type sampling probability in [0, 1] (see :func:`homophily_probability`).
    rng : numpy.random.Generator
        Source of every random draw.
    """
    crime_type = np.asarray(crime_type, dtype=np.int64)
    n = crime_type.size
    half = mean_degree / 2.0
    m_lo = int(np.floor(half))
    m_i = m_lo + (rng.random(n) < (half - m_lo)).astype(np.int64)
    order = rng.permutation(n)
    n_types = int(crime_type.max()) + 1 if n else 0
    max_m = int(m_i.max()) if n else 0
    # uniforms per node and tie: [triad?, within type?, pick from pool, pick a neighbour]
    draws = rng.random((n, max(max_m, 1), 4))
    retry = rng.random(max(n * max_m, 1))  # extra picks after a duplicate (rare)
    us, vs = _grow(crime_type, m_i, order, draws, retry, p_triad, q_within, n_types)
    return ContactNetwork.from_edges(n, us, vs)


@numba.njit(cache=True)
def _grow(
    crime_type: np.ndarray,
    m_i: np.ndarray,
    order: np.ndarray,
    draws: np.ndarray,
    retry: np.ndarray,
    p_triad: float,
    q_within: float,
    n_types: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The growth loop of :func:`holme_kim_homophily` (compiled with numba).

    Pools hold each node once per tie end plus once on arrival, so a uniform index into a pool
    is a degree-proportional (+1) pick. Each node's contacts are kept in arrival order in a
    growable block, so that a random contact of the previous target is one read (a linked list
    walked from the newest end gave the same picks in O(degree)).
    """
    n = crime_type.size
    total_m = 0
    for i in range(n):
        total_m += m_i[i]
    cap = 2 * total_m + n
    pool_all = np.empty(cap, np.int64)
    n_all = 0
    pool_type = np.empty((n_types, cap), np.int32)
    n_type = np.zeros(n_types, np.int64)
    # each node's contacts in order of arrival, in a block of an arena that doubles when full
    block = np.full(n, -1, np.int64)
    room = np.zeros(n, np.int64)
    arena = np.empty(4 * (2 * total_m + n), np.int32)  # blocks sum to < 4 degree + 4 per node
    deg = np.zeros(n, np.int64)
    n_used = 0
    us = np.empty(total_m, np.int64)
    vs = np.empty(total_m, np.int64)
    n_edges = 0
    r = 0
    chosen = np.empty(max(1, draws.shape[1]), np.int64)
    for pos in range(n):
        node = order[pos]
        c = crime_type[node]
        m = min(m_i[node], pos)
        n_chosen = 0
        prev = -1
        for j in range(m):
            target = -1
            if prev >= 0 and draws[pos, j, 0] < p_triad and deg[prev] > 0:
                # the steps-th contact counting back from the newest
                steps = int(draws[pos, j, 3] * deg[prev])
                cand = arena[block[prev] + deg[prev] - 1 - steps]
                ok = cand != node
                for q in range(n_chosen):
                    if chosen[q] == cand:
                        ok = False
                if ok:
                    target = cand
            if target < 0:
                use_type = draws[pos, j, 1] < q_within and n_type[c] > 0
                size = n_type[c] if use_type else n_all
                for attempt in range(32):
                    if attempt == 0:
                        u = draws[pos, j, 2]
                    else:
                        u = retry[r % retry.size]
                        r += 1
                    k = int(u * size)
                    cand = pool_type[c, k] if use_type else pool_all[k]
                    ok = True
                    for q in range(n_chosen):
                        if chosen[q] == cand:
                            ok = False
                    if ok:
                        target = cand
                        break
            if target < 0:
                continue
            chosen[n_chosen] = target
            n_chosen += 1
            # record the tie and both adjacency ends
            us[n_edges] = node
            vs[n_edges] = target
            n_edges += 1
            n_used = _append(arena, block, room, deg, n_used, node, target)
            n_used = _append(arena, block, room, deg, n_used, target, node)
            pool_all[n_all] = target
            n_all += 1
            ct = crime_type[target]
            pool_type[ct, n_type[ct]] = target
            n_type[ct] += 1
            prev = target
        for _ in range(n_chosen + 1):
            pool_all[n_all] = node
            n_all += 1
            pool_type[c, n_type[c]] = node
            n_type[c] += 1
    return us[:n_edges], vs[:n_edges]


@numba.njit(cache=True)
def _append(arena, block, room, deg, n_used, node, contact):
    """Append ``contact`` to ``node``'s block, moving the block to a doubled one when full."""
    if deg[node] == room[node]:
        new_room = max(4, 2 * room[node])
        for q in range(deg[node]):
            arena[n_used + q] = arena[block[node] + q]
        block[node] = n_used
        room[node] = new_room
        n_used += new_room
    arena[block[node] + deg[node]] = contact
    deg[node] += 1
    return n_used


def check_graph_nodes(graph: nx.Graph, n_groups: int) -> None:
    """Check that a graph's nodes are exactly the integers ``0 .. n_groups - 1``.

    Raises
    ------
    ConfigError
        If the graph is empty or its nodes do not match the groups.
    """
    if graph.number_of_nodes() == 0:
        raise ConfigError("network graph is empty: it has no nodes (expected n_groups nodes)")
    nodes = list(graph.nodes)
    if len(nodes) != n_groups:
        raise ConfigError(
            f"network graph has {len(nodes)} nodes but groups.n_groups = {n_groups}; "
            "the graph must have one node per group"
        )
    if not all(isinstance(x, int | np.integer) and not isinstance(x, bool) for x in nodes) or set(
        nodes
    ) != set(range(n_groups)):
        sample = [echo(x, 30) for x in sorted(map(str, nodes))[:3]]
        raise ConfigError(
            f"network graph nodes must be the integers 0..{n_groups - 1} (one per group), got "
            f"nodes such as {', '.join(sample)}; relabel with "
            "networkx.convert_node_labels_to_integers"
        )


def from_networkx(graph: nx.Graph, n_groups: int) -> ContactNetwork:
    """Convert a networkx graph whose nodes are exactly ``0 .. n_groups - 1``.

    Directed graphs are made undirected; self loops and multi-edges are dropped.

    Raises
    ------
    ConfigError
        If the graph is empty or its nodes do not match the groups.
    """
    check_graph_nodes(graph, n_groups)
    if graph.number_of_edges():
        e = np.array(list(graph.edges()), dtype=np.int64)
        return ContactNetwork.from_edges(n_groups, e[:, 0], e[:, 1])
    return ContactNetwork.from_edges(n_groups, np.empty(0, np.int64), np.empty(0, np.int64))


def load_graph(path: str | Path) -> nx.Graph:
    """Load a contact network from GraphML (``.graphml``) or an edge list (anything else).

    Node labels that are decimal strings are converted to integers. An edge-list file has one
    ``u v`` pair per line (``#`` starts a comment; commas are accepted as separators).
    """
    shown = shorten(str(path), PATH_LIMIT)
    try:
        if Path(path).suffix.lower() == ".graphml":
            data = read_bytes_file(path, "network file")
            if b"\x00" in data:
                raise InputFileError(
                    f"{shown}: the network file is a binary file; expected GraphML"
                )
            g = nx.parse_graphml(data)
        else:
            text = read_text_file(path, "network file").replace(",", " ")
            g = nx.parse_edgelist(
                [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")],
                nodetype=str,
                data=False,
            )
    except MigrationSimError:
        raise
    except Exception as exc:  # any parser failure on untrusted content is the file's fault
        kind = "GraphML" if Path(path).suffix.lower() == ".graphml" else "edge list"
        raise InputFileError(
            f"{shown}: the network file is not a valid {kind}: {type(exc).__name__}: "
            f"{shorten(str(exc), 200)}"
        ) from None
    mapping = {}
    for node in g.nodes:
        if isinstance(node, str) and node.strip().lstrip("-").isdigit():
            mapping[node] = int(node)
    return nx.relabel_nodes(g, mapping) if mapping else g
