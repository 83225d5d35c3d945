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
import numpy as np
import scipy.sparse as sp

from migration_sim.config import ConfigError

__all__ = [
    "ContactNetwork",
    "holme_kim_homophily",
    "homophily_probability",
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
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        keep = lo != hi
        key = np.unique(lo[keep] * n + hi[keep])
        lo, hi = key // n, key % n
        data = np.ones(2 * lo.size)
        adj = sp.csr_array(
            (data, (np.concatenate([lo, hi]), np.concatenate([hi, lo]))), shape=(n, n)
        )
        adj.sort_indices()
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
    # Degree-proportional sampling: a node appears in a pool once per tie end, plus once on
    # arrival (the "+1" that lets new nodes be found).
    pool_all: list[int] = []
    pool_type: list[list[int]] = [[] for _ in range(n_types)]
    adj: list[list[int]] = [[] for _ in range(n)]
    us: list[int] = []
    vs: list[int] = []
    max_m = int(m_i.max()) if n else 0
    # pre-draw uniforms for speed: per node, per tie: [triad?, within?, pick, pick-neighbour]
    draws = rng.random((n, max(max_m, 1), 4))
    for pos, node in enumerate(order.tolist()):
        c = int(crime_type[node])
        m = min(int(m_i[node]), pos)
        chosen: set[int] = set()
        prev = -1
        d = draws[pos]
        for j in range(m):
            target = -1
            if prev >= 0 and d[j, 0] < p_triad:
                nbrs = adj[prev]
                cand = nbrs[int(d[j, 3] * len(nbrs))] if nbrs else -1
                if cand >= 0 and cand != node and cand not in chosen:
                    target = cand
            if target < 0:
                pool = pool_type[c] if (d[j, 1] < q_within and pool_type[c]) else pool_all
                for attempt in range(32):
                    u = d[j, 2] if attempt == 0 else rng.random()
                    cand = pool[int(u * len(pool))]
                    if cand not in chosen:
                        target = cand
                        break
            if target < 0:
                continue
            chosen.add(target)
            adj[node].append(target)
            adj[target].append(node)
            us.append(node)
            vs.append(target)
            pool_all.append(target)
            pool_type[int(crime_type[target])].append(target)
            prev = target
        pool_all.extend([node] * (len(chosen) + 1))
        pool_type[c].extend([node] * (len(chosen) + 1))
    return ContactNetwork.from_edges(n, np.array(us, dtype=np.int64), np.array(vs, dtype=np.int64))


def from_networkx(graph: nx.Graph, n_groups: int) -> ContactNetwork:
    """Convert a networkx graph whose nodes are exactly ``0 .. n_groups - 1``.

    Directed graphs are made undirected; self loops and multi-edges are dropped.

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
        sample = sorted(map(repr, nodes))[:3]
        raise ConfigError(
            f"network graph nodes must be the integers 0..{n_groups - 1} (one per group), got "
            f"nodes such as {', '.join(sample)}; relabel with "
            "networkx.convert_node_labels_to_integers"
        )
    if graph.number_of_edges():
        e = np.array(list(graph.edges()), dtype=np.int64)
        return ContactNetwork.from_edges(n_groups, e[:, 0], e[:, 1])
    return ContactNetwork.from_edges(n_groups, np.empty(0, np.int64), np.empty(0, np.int64))


def load_graph(path: str | Path) -> nx.Graph:
    """Load a contact network from GraphML (``.graphml``) or an edge list (anything else).

    Node labels that are decimal strings are converted to integers. An edge-list file has one
    ``u v`` pair per line (``#`` starts a comment; commas are accepted as separators).
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"network.path = {str(path)!r}: file not found")
    if path.suffix.lower() == ".graphml":
        g = nx.read_graphml(path)
    else:
        text = path.read_text().replace(",", " ")
        g = nx.parse_edgelist(
            [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")],
            nodetype=str,
            data=False,
        )
    mapping = {}
    for node in g.nodes:
        if isinstance(node, str) and node.strip().lstrip("-").isdigit():
            mapping[node] = int(node)
    return nx.relabel_nodes(g, mapping) if mapping else g
