import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migration_sim import MigrationModel
from migration_sim.config import ConfigError
from migration_sim.model.network import (
    ContactNetwork,
    from_networkx,
    holme_kim_homophily,
    homophily_probability,
    load_graph,
)


def _types(n, shares, seed=0):
    rng = np.random.default_rng(seed)
    return rng.choice(len(shares), size=n, p=shares)


def test_homophily_probability_closed_form():
    # two equal types: random mixing gives r = 0.5; a target of 0.75 needs q = 0.5
    assert homophily_probability(0.75, np.array([0.5, 0.5])) == pytest.approx(0.5)
    assert homophily_probability(0.5, np.array([0.5, 0.5])) == 0.0


def test_generator_hits_degree_homophily_and_heavy_tail():
    shares = np.array([0.35, 0.25, 0.12, 0.08, 0.06, 0.05, 0.05, 0.04])
    ct = _types(20000, shares)
    q = homophily_probability(0.65, shares)
    net = holme_kim_homophily(ct, 6.0, 0.5, q, np.random.default_rng(1))
    deg = net.degree
    assert deg.mean() == pytest.approx(6.0, rel=0.03)
    within = np.mean(ct[net.edges_u] == ct[net.edges_v])
    random_mixing = float(np.sum(shares**2))  # 0.2156
    # triad ties are not steered, so the realised share sits a little below the target
    assert 0.55 < within <= 0.66
    assert within > 2.5 * random_mixing
    assert deg.max() > 10 * deg.mean()  # heavy tail (preferential attachment)
    g = net.to_networkx()
    assert nx.average_clustering(g) > 0.05  # triad formation gives clustering


def test_generator_is_deterministic_given_stream():
    ct = _types(500, [0.5, 0.5])
    a = holme_kim_homophily(ct, 4.0, 0.5, 0.3, np.random.default_rng(7))
    b = holme_kim_homophily(ct, 4.0, 0.5, 0.3, np.random.default_rng(7))
    assert np.array_equal(a.edges_u, b.edges_u) and np.array_equal(a.edges_v, b.edges_v)


def test_from_edges_symmetric_csr_without_duplicates():
    net = ContactNetwork.from_edges(4, np.array([0, 1, 1, 2, 3]), np.array([1, 0, 2, 2, 0]))
    # (0,1) twice and a self loop (2,2) collapse to edges {0-1, 1-2, 0-3}
    assert list(zip(net.edges_u, net.edges_v, strict=True)) == [(0, 1), (0, 3), (1, 2)]
    a = net.adjacency.toarray()
    assert (a == a.T).all() and np.trace(a) == 0
    assert net.degree.tolist() == [2, 2, 1, 1]


def test_mismatched_graph_errors():
    with pytest.raises(ConfigError, match="has 5 nodes but groups.n_groups = 6"):
        from_networkx(nx.path_graph(5), 6)
    with pytest.raises(ConfigError, match="integers 0..2"):
        from_networkx(nx.Graph([("a", "b"), ("b", "c")]), 3)
    with pytest.raises(ConfigError, match="empty"):
        from_networkx(nx.Graph(), 3)


def test_user_graph_used_by_model():
    g = nx.cycle_graph(200)
    m = MigrationModel({"groups.n_groups": 200, "run.warmup_steps": 0}, rng=1, graph=g)
    assert m.network.edges_u.size == 200
    assert set(m.network.degree.tolist()) == {2}
    with pytest.raises(ConfigError, match="has 100 nodes"):
        MigrationModel({"groups.n_groups": 200}, rng=1, graph=nx.cycle_graph(100))


def test_load_graphml_and_edgelist(tmp_path):
    g = nx.cycle_graph(6)
    nx.write_graphml(g, tmp_path / "g.graphml")
    loaded = load_graph(tmp_path / "g.graphml")
    assert sorted(loaded.nodes) == list(range(6))
    (tmp_path / "e.csv").write_text("# u,v\n0,1\n1,2\n2,3\n3,4\n4,5\n5,0\n")
    el = load_graph(tmp_path / "e.csv")
    assert from_networkx(el, 6).edges_u.size == 6
    m = MigrationModel(
        {
            "groups.n_groups": 6,
            "network.mean_degree": 2,
            "network.path": str(tmp_path / "e.csv"),
            "run.warmup_steps": 0,
            "groups.max_platforms": 3,
        },
        rng=1,
    )
    assert m.network.degree.tolist() == [2] * 6
    with pytest.raises(ConfigError, match="file not found"):
        load_graph(tmp_path / "missing.graphml")


def test_compiled_growth_equals_its_python_source():
    from migration_sim.model.network import _grow

    rng = np.random.default_rng(5)
    n = 300
    ct = rng.integers(0, 3, n)
    m_i = rng.integers(1, 4, n)
    order = rng.permutation(n)
    draws = rng.random((n, 3, 4))
    retry = rng.random(n * 3)
    fast = _grow(ct, m_i, order, draws, retry, 0.5, 0.4, 3)
    slow = _grow.py_func(ct, m_i, order, draws, retry, 0.5, 0.4, 3)
    assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])
    assert fast[0].size > 0.9 * m_i.sum() - 10


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), seed=st.integers(0, 2**32 - 1), m=st.integers(0, 120))
def test_from_edges_equals_a_sort_of_the_unique_pairs(n, seed, m):
    rng = np.random.default_rng(seed)
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    net = ContactNetwork.from_edges(n, u, v)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    key = np.unique(lo[lo != hi] * n + hi[lo != hi])
    assert np.array_equal(net.edges_u, key // n) and np.array_equal(net.edges_v, key % n)
    dense = np.zeros((n, n))
    dense[key // n, key % n] = dense[key % n, key // n] = 1.0
    assert np.array_equal(net.adjacency.toarray(), dense)
    for i in range(n):  # every row's neighbours sorted
        assert np.all(np.diff(net.neighbours(i)) > 0)
