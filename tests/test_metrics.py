"""Tests for migration_sim.metrics: hand-worked cases, networkx cross-checks, invariants."""

from __future__ import annotations

import doctest
import importlib
import math
import pkgutil

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migration_sim import metrics
from migration_sim.metrics import (
    broken_ties,
    communication_components,
    communication_labels,
    concentration,
    coverage_curve,
    effective_number,
    fragmentation_summary,
    hhi,
    migration_response,
    modularity,
    monitored_mask,
    monitoring_coverage,
    net_flows,
    platform_bits,
    platform_components,
    platform_ranking,
    presence_counts,
    presence_counts_by_type,
    primary_counts,
    primary_counts_by_type,
    primary_modularity,
    shannon_entropy,
    snapshot,
    snapshot_columns,
    steps_to_fraction,
    top_platforms,
)
from migration_sim.metrics import inputs as metrics_inputs
from migration_sim.metrics import step as metrics_step

BACKENDS = ["numpy", "numba"] if metrics.HAVE_NUMBA else ["numpy"]
HSETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------
# The hand-worked network: 7 groups, 3 platforms (T = Telegram, S = Signal, X = Session)
#
#   group  platforms  primary  active  size  severity
#     0    {T}        T        yes     1     1.0
#     1    {T, S}     T        yes     2     0.5
#     2    {S}        S        yes     3     0.25
#     3    {S, X}     S        yes     4     0.75
#     4    {}         -1       yes     5     1.0     (dark)
#     5    {T}        T        yes     6     0.5
#     6    {}         -1       no      7     0.125   (removed)
#
#   ties: (0,1) T kept   (0,2) broken  (1,2) S kept  (2,3) S kept  (3,4) broken (dark end)
#         (0,3) broken   (2,5) broken  (4,5) broken  (1,6) gone    (5,6) gone (inactive end)
# ---------------------------------------------------------------------------------------------
NAMES = ["Telegram", "Signal", "Session"]
T, S, X = 0, 1, 2


def tiny() -> dict:
    membership = np.zeros((7, 3), dtype=bool)
    for g, plats in {0: [T], 1: [T, S], 2: [S], 3: [S, X], 5: [T]}.items():
        membership[g, plats] = True
    edges = [(0, 1), (0, 2), (1, 2), (2, 3), (3, 4), (0, 3), (2, 5), (4, 5), (1, 6), (5, 6)]
    return {
        "membership": membership,
        "active": np.array([1, 1, 1, 1, 1, 1, 0], dtype=bool),
        "primary": np.array([T, T, S, S, -1, T, -1], dtype=np.int64),
        "edges_u": np.array([e[0] for e in edges], dtype=np.int64),
        "edges_v": np.array([e[1] for e in edges], dtype=np.int64),
        "size": np.arange(1.0, 8.0),
        "severity": np.array([1.0, 0.5, 0.25, 0.75, 1.0, 0.5, 0.125]),
    }


def graph_args(state: dict) -> tuple:
    return state["membership"], state["active"], state["edges_u"], state["edges_v"]


def test_tiny_concentration() -> None:
    s = tiny()
    # primary counts (active, with a primary): T = {0, 1, 5}, S = {2, 3}, X = {} -> [3, 2, 0]
    pc = primary_counts(s["primary"], s["active"], 3)
    assert pc.tolist() == [3, 2, 0]
    # HHI = 0.6^2 + 0.4^2 = 0.52; effective number = 1 / 0.52 = 25/13
    assert hhi(pc) == pytest.approx(0.52, abs=1e-15)
    assert effective_number(pc) == pytest.approx(25 / 13, abs=1e-15)
    assert shannon_entropy(pc) == pytest.approx(-(0.6 * math.log(0.6) + 0.4 * math.log(0.4)))
    # presence counts: T = {0, 1, 5}, S = {1, 2, 3}, X = {3} -> [3, 3, 1]; HHI = 19/49
    pres = presence_counts(s["membership"], s["active"])
    assert pres.tolist() == [3, 3, 1]
    conc = concentration(pres)
    assert conc.hhi == pytest.approx(19 / 49, abs=1e-15)
    assert conc.effective_number == pytest.approx(49 / 19, abs=1e-14)
    assert conc.entropy == pytest.approx(
        2 * (3 / 7) * math.log(7 / 3) + (1 / 7) * math.log(7), abs=1e-14
    )


def test_tiny_counts_by_type() -> None:
    s = tiny()
    ct = np.array([0, 1, 0, 1, 0, 0, 1])
    # type 0: groups 0 (T), 2 (S), 5 (T) -> [2, 1, 0]; type 1: 1 (T), 3 (S) -> [1, 1, 0]
    by = primary_counts_by_type(s["primary"], s["active"], ct, 2, 3)
    assert by.tolist() == [[2, 1, 0], [1, 1, 0]]
    np.testing.assert_allclose(hhi(by), [5 / 9, 0.5])
    # presence: type 0: 0 {T}, 2 {S}, 5 {T} -> [2, 1, 0]; type 1: 1 {T,S}, 3 {S,X} -> [1, 2, 1]
    pres = presence_counts_by_type(s["membership"], s["active"], ct, 2)
    assert pres.tolist() == [[2, 1, 0], [1, 2, 1]]


def test_tiny_broken_ties() -> None:
    s = tiny()
    # 8 ties have both ends active; (0,2) (3,4) (0,3) (2,5) (4,5) share no platform -> 5/8
    bt = broken_ties(*graph_args(s), size=s["size"])
    assert (bt.n_ties, bt.n_broken) == (8, 5)
    assert bt.share == 5 / 8
    # weights s_u + s_v: all = 3+4+5+7+9+5+9+11 = 53, broken = 4+9+5+9+11 = 38
    assert bt.weighted_share == pytest.approx(38 / 53, abs=1e-15)
    assert math.isnan(broken_ties(*graph_args(s)).weighted_share)


def test_tiny_components() -> None:
    s = tiny()
    # kept ties (0,1) (1,2) (2,3): components {0,1,2,3}, {4}, {5}; 6 active groups
    comp = communication_components(*graph_args(s))
    assert comp == (6, 3, 4, 4 / 6, 2.0)
    assert communication_labels(*graph_args(s)).tolist() == [0, 0, 0, 0, 1, 2, -1]
    # T: {0,1,5}, tie (0,1) -> {0,1} {5}; S: {1,2,3}, ties (1,2) (2,3); X: {3}
    pcomp = platform_components(*graph_args(s))
    assert pcomp.n_present.tolist() == [3, 3, 1]
    assert pcomp.n_components.tolist() == [2, 1, 1]
    assert pcomp.giant_size.tolist() == [2, 3, 1]
    assert pcomp.giant_share.tolist() == [2 / 3, 1.0, 1.0]


def test_tiny_modularity() -> None:
    s = tiny()
    # nodes 0,1,2,3,5 (4 dark, 6 removed); ties among them (0,1) (0,2) (1,2) (2,3) (0,3) (2,5):
    # m = 6. T = {0,1,5}: L = 1, d = 3+2+1 = 6; S = {2,3}: L = 1, d = 4+2 = 6.
    # Q = 2 * (1/6 - (6/12)^2) = -1/6
    q = primary_modularity(s["primary"], s["active"], s["edges_u"], s["edges_v"])
    assert q == pytest.approx(-1 / 6, abs=1e-15)
    g = nx.Graph([(0, 1), (0, 2), (1, 2), (2, 3), (0, 3), (2, 5)])
    assert q == pytest.approx(nx.community.modularity(g, [{0, 1, 5}, {2, 3}]), abs=1e-15)


def test_tiny_coverage() -> None:
    s = tiny()
    mon = monitored_mask(["Signal"], NAMES)
    cov = monitoring_coverage(*graph_args(s), s["severity"], mon)
    # groups on S: 1, 2, 3 of 6 active; ties sharing S: (1,2) (2,3) of 8;
    # severity: (0.5 + 0.25 + 0.75) / (1 + 0.5 + 0.25 + 0.75 + 1 + 0.5) = 1.5 / 4
    assert cov == (0.5, 0.25, 0.375)
    # ranking by presence [3, 3, 1]: T (tie with S, lower index first), S, X
    assert platform_ranking(s["membership"], s["active"]).tolist() == [T, S, X]
    # top 1 = T: {0,1,5} = 3/6; top 2 adds S: {2,3} -> 5/6; X adds nobody new; 4 is dark
    np.testing.assert_allclose(coverage_curve(s["membership"], s["active"]), [0.5, 5 / 6, 5 / 6])
    assert top_platforms(s["membership"], s["active"], 2).tolist() == [True, True, False]


@pytest.mark.parametrize("backend", BACKENDS)
def test_tiny_snapshot(backend: str) -> None:
    s = tiny()
    mon = monitored_mask("Signal", NAMES)
    out = snapshot(**s, monitored=mon, platform_names=NAMES, backend=backend)
    assert list(out) == snapshot_columns(NAMES)
    expected = {
        "n_active": 6.0,
        "dark_share": 1 / 6,
        "hhi_primary": 0.52,
        "effective_platforms_primary": 25 / 13,
        "hhi_presence": 19 / 49,
        "effective_platforms_presence": 49 / 19,
        "broken_tie_share": 5 / 8,
        "broken_tie_share_weighted": 38 / 53,
        "comm_giant_share": 4 / 6,
        "comm_n_components": 3.0,
        "comm_mean_component_size": 2.0,
        "modularity_primary": -1 / 6,
        "coverage_groups": 0.5,
        "coverage_ties": 0.25,
        "coverage_severity": 0.375,
        "giant_share.Telegram": 2 / 3,
        "giant_share.Signal": 1.0,
        "giant_share.Session": 1.0,
    }
    for key, val in expected.items():
        assert out[key] == pytest.approx(val, abs=1e-14), key


def test_snapshot_with_crime_types() -> None:
    s = tiny()
    ct = np.array([0, 1, 0, 1, 0, 0, 1])
    out = snapshot(
        **s,
        monitored=np.zeros(3, bool),
        crime_type=ct,
        crime_type_names=["drugs", "fraud"],
    )
    assert list(out) == snapshot_columns(3, ["drugs", "fraud"])
    assert out["hhi_primary.drugs"] == pytest.approx(5 / 9)
    assert out["effective_platforms_primary.fraud"] == pytest.approx(2.0)
    assert out["entropy_primary.fraud"] == pytest.approx(math.log(2))
    assert out["coverage_groups"] == 0.0
    with pytest.raises(ValueError, match="crime_type_names must be given"):
        snapshot(**s, monitored=np.zeros(3, bool), crime_type=ct)


# ---------------------------------------------------------------------------------------------
# Random states: strategies and brute-force references
# ---------------------------------------------------------------------------------------------


def random_state(rng: np.random.Generator, n: int, k: int, n_edges: int, p_member=0.3) -> dict:
    membership = rng.random((n, k)) < p_member
    active = rng.random(n) < 0.85
    membership[~active] = False
    primary = np.full(n, -1, dtype=np.int64)
    has = membership.any(axis=1)
    primary[has] = np.argmax(membership[has] * rng.random((int(has.sum()), k)), axis=1)
    if n >= 2 and n_edges:
        a = rng.integers(0, n, n_edges)
        b = rng.integers(0, n, n_edges)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        key = np.unique(lo[lo != hi] * n + hi[lo != hi])
    else:
        key = np.zeros(0, dtype=np.int64)
    return {
        "membership": membership,
        "active": active,
        "primary": primary,
        "edges_u": key // max(n, 1),
        "edges_v": key % max(n, 1),
        "size": rng.uniform(0.5, 20.0, n),
        "severity": rng.uniform(0.0, 1.0, n),
    }


@st.composite
def states(draw, max_n: int = 25, max_k: int = 5) -> dict:
    n = draw(st.integers(1, max_n))
    k = draw(st.integers(1, max_k))
    n_edges = draw(st.integers(0, 3 * n))
    seed = draw(st.integers(0, 2**32 - 1))
    p_member = draw(st.sampled_from([0.1, 0.3, 0.6]))
    state = random_state(np.random.default_rng(seed), n, k, n_edges, p_member)
    state["monitored"] = np.array(draw(st.lists(st.booleans(), min_size=k, max_size=k)))
    return state


def comm_graph(state: dict) -> nx.Graph:
    m, act = state["membership"], state["active"]
    g = nx.Graph()
    g.add_nodes_from(np.flatnonzero(act).tolist())
    for u, v in zip(state["edges_u"].tolist(), state["edges_v"].tolist(), strict=True):
        if act[u] and act[v] and (m[u] & m[v]).any():
            g.add_edge(u, v)
    return g


def platform_graph(state: dict, k: int) -> nx.Graph:
    on = state["membership"][:, k] & state["active"]
    g = nx.Graph()
    g.add_nodes_from(np.flatnonzero(on).tolist())
    for u, v in zip(state["edges_u"].tolist(), state["edges_v"].tolist(), strict=True):
        if on[u] and on[v]:
            g.add_edge(u, v)
    return g


def check_against_networkx(state: dict) -> None:
    args = graph_args(state)
    # communication graph
    g = comm_graph(state)
    labels = communication_labels(*args)
    ours = {frozenset(np.flatnonzero(labels == c).tolist()) for c in range(labels.max() + 1)}
    assert ours == {frozenset(c) for c in nx.connected_components(g)}
    comp = communication_components(*args)
    n_act = int(state["active"].sum())
    assert comp.n_nodes == n_act
    assert comp.n_components == nx.number_connected_components(g)
    if n_act:
        giant = max(len(c) for c in nx.connected_components(g))
        assert comp.giant_size == giant
        assert comp.giant_share == giant / n_act
    # per-platform subgraphs
    pc = platform_components(*args)
    for k in range(state["membership"].shape[1]):
        gk = platform_graph(state, k)
        assert pc.n_present[k] == gk.number_of_nodes()
        assert pc.n_components[k] == nx.number_connected_components(gk)
        if gk.number_of_nodes():
            giant = max(len(c) for c in nx.connected_components(gk))
            assert pc.giant_size[k] == giant
            assert pc.giant_share[k] == giant / gk.number_of_nodes()
        else:
            assert pc.giant_size[k] == 0 and math.isnan(pc.giant_share[k])
    # modularity by primary platform
    lab = np.where(state["active"], state["primary"], -1)
    gm = nx.Graph()
    gm.add_nodes_from(np.flatnonzero(lab >= 0).tolist())
    gm.add_edges_from(
        (u, v)
        for u, v in zip(state["edges_u"].tolist(), state["edges_v"].tolist(), strict=True)
        if lab[u] >= 0 and lab[v] >= 0
    )
    q = primary_modularity(state["primary"], *args[1:])
    if gm.number_of_edges() == 0:
        assert math.isnan(q)  # networkx returns 0 here; we report "undefined"
    else:
        comms = [set(np.flatnonzero(lab == c).tolist()) for c in range(lab.max() + 1)]
        assert q == pytest.approx(nx.community.modularity(gm, [c for c in comms if c]), abs=1e-12)


def brute_force(state: dict) -> dict:
    m, act = state["membership"], state["active"]
    ties = [
        (u, v)
        for u, v in zip(state["edges_u"].tolist(), state["edges_v"].tolist(), strict=True)
        if act[u] and act[v]
    ]
    broken = [(u, v) for u, v in ties if not (m[u] & m[v]).any()]
    mon = state["monitored"]
    visible = [(u, v) for u, v in ties if (m[u] & m[v] & mon).any()]
    seen = [i for i in range(len(act)) if act[i] and (m[i] & mon).any()]
    sz, sev = state["size"], state["severity"]
    w_all = sum(sz[u] + sz[v] for u, v in ties)
    w_brk = sum(sz[u] + sz[v] for u, v in broken)
    sev_all = sum(sev[i] for i in range(len(act)) if act[i])
    nan = math.nan
    return {
        "n_ties": len(ties),
        "broken_tie_share": len(broken) / len(ties) if ties else nan,
        "broken_tie_share_weighted": w_brk / w_all if ties else nan,
        "coverage_groups": len(seen) / act.sum() if act.any() else nan,
        "coverage_ties": len(visible) / len(ties) if ties else nan,
        "coverage_severity": sum(sev[i] for i in seen) / sev_all if sev_all > 0 else nan,
    }


def assert_same(a: float, b: float, rel: float = 0.0) -> None:
    if math.isnan(a) or math.isnan(b):
        assert math.isnan(a) and math.isnan(b), (a, b)
    elif rel:
        assert a == pytest.approx(b, rel=rel, abs=1e-12)
    else:
        assert a == b


@HSETTINGS
@given(states())
def test_graph_measures_match_networkx(state: dict) -> None:
    check_against_networkx(state)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_graph_measures_match_networkx_gnm(seed: int) -> None:
    n, k = 300, 4
    g = nx.gnm_random_graph(n, 700, seed=seed)
    e = np.array(sorted((min(a, b), max(a, b)) for a, b in g.edges()), dtype=np.int64)
    state = random_state(np.random.default_rng(seed), n, k, 0, p_member=0.35)
    state["edges_u"], state["edges_v"] = e[:, 0], e[:, 1]
    state["monitored"] = np.array([True, False, False, True])
    check_against_networkx(state)
    outs = [snapshot(**state, backend=b) for b in BACKENDS]
    for key in outs[0]:
        assert_same(outs[0][key], outs[-1][key])
    ref = brute_force(state)
    for key in ("broken_tie_share", "broken_tie_share_weighted", "coverage_ties"):
        assert_same(outs[0][key], ref[key], rel=1e-12)


@HSETTINGS
@given(states())
def test_tie_and_coverage_measures_match_brute_force(state: dict) -> None:
    ref = brute_force(state)
    bt = broken_ties(*graph_args(state), size=state["size"])
    assert bt.n_ties == ref["n_ties"]
    assert_same(bt.share, ref["broken_tie_share"], rel=1e-12)
    assert_same(bt.weighted_share, ref["broken_tie_share_weighted"], rel=1e-12)
    cov = monitoring_coverage(*graph_args(state), state["severity"], state["monitored"])
    assert_same(cov.groups, ref["coverage_groups"], rel=1e-12)
    assert_same(cov.ties, ref["coverage_ties"], rel=1e-12)
    assert_same(cov.severity, ref["coverage_severity"], rel=1e-12)
    # broken + kept = 1, with "kept" counted independently as ties of the communication graph
    if bt.n_ties:
        kept = comm_graph(state).number_of_edges()
        assert bt.share + kept / bt.n_ties == pytest.approx(1.0, abs=1e-12)


@HSETTINGS
@given(states(max_n=40, max_k=6))
def test_snapshot_backends_identical_and_consistent(state: dict) -> None:
    outs = {b: snapshot(**state, backend=b) for b in BACKENDS}
    ref = outs["numpy"]
    for out in outs.values():
        assert list(out) == snapshot_columns(state["membership"].shape[1])
        for key in ref:
            assert_same(out[key], ref[key])  # bit-identical across backends
    # the snapshot agrees with the per-measure functions
    args = graph_args(state)
    comp = communication_components(*args)
    assert_same(ref["comm_giant_share"], comp.giant_share)
    assert ref["comm_n_components"] == comp.n_components
    conc = concentration(presence_counts(state["membership"], state["active"]))
    assert_same(ref["hhi_presence"], conc.hhi)
    pc = platform_components(*args)
    for k, share in enumerate(pc.giant_share):
        assert_same(ref[f"giant_share.{k}"], share)
    curve = coverage_curve(state["membership"], state["active"])
    for k, share in enumerate(curve):
        assert_same(ref[f"coverage_top.{k + 1}"], share)
    assert_same(
        ref["modularity_primary"], primary_modularity(state["primary"], *args[1:]), rel=1e-12
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_snapshot_medium_graph_edge_order(backend: str) -> None:
    """Larger graph, ties unsorted and sorted: same values, same as the numpy path."""
    rng = np.random.default_rng(7)
    state = random_state(rng, 20_000, 8, 60_000, p_member=0.2)  # beyond numpy's 8192 buffers
    state["monitored"] = np.array([True] + [False] * 7)
    ref = snapshot(**state, backend="numpy")
    perm = rng.permutation(state["edges_u"].shape[0])
    shuffled = dict(state, edges_u=state["edges_u"][perm], edges_v=state["edges_v"][perm])
    for s in (state, shuffled):
        out = snapshot(**s, backend=backend)
        for key in ref:
            assert_same(out[key], ref[key])


@pytest.mark.skipif(not metrics.HAVE_NUMBA, reason="numba kernel only")
@pytest.mark.parametrize("n_chunks", [1, 2, 3, 7])
def test_numba_kernel_independent_of_chunks_and_lanes(
    n_chunks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parallel passes split groups and ties into chunks and platforms into union-find
    lanes; any split gives the values of the numpy path (shared platforms up to 4 per tie)."""
    rng = np.random.default_rng(11)
    state = random_state(rng, 3_000, 6, 9_000, p_member=0.45)
    state["monitored"] = np.array([False, True, False, False, True, False])
    ref = snapshot(**state, backend="numpy")
    bits = metrics.platform_bits(state["membership"], state["active"])
    shared = bits[state["edges_u"]] & bits[state["edges_v"]]
    n_shared = sum((shared >> j) & 1 for j in range(6))
    assert n_shared.max() >= 3  # ties joining pairs on several platforms
    monkeypatch.setattr(metrics_step, "_n_chunks", lambda n_items: n_chunks)
    out = snapshot(**state, backend="numba")
    for key in ref:
        assert_same(out[key], ref[key])


@pytest.mark.skipif(not metrics.HAVE_NUMBA, reason="numba kernel only")
def test_numba_workspace_reuse_leaks_nothing() -> None:
    """Work arrays are reused between calls: a large state, then smaller and different-K
    states, then the large one again give the values of fresh numpy computations."""
    rng = np.random.default_rng(12)
    big = random_state(rng, 30_000, 5, 90_000, p_member=0.3)
    small = random_state(rng, 500, 3, 1_500, p_member=0.5)
    wide = random_state(rng, 4_000, 9, 12_000, p_member=0.2)
    for s in (big, small, wide):
        s["monitored"] = np.arange(s["membership"].shape[1]) % 2 == 0
    for s in (big, small, wide, big, small):
        ref = snapshot(**s, backend="numpy")
        out = snapshot(**s, backend="numba")
        for key in ref:
            assert_same(out[key], ref[key])


@pytest.mark.parametrize("backend", BACKENDS)
def test_inactive_rows_are_ignored(backend: str) -> None:
    rng = np.random.default_rng(3)
    state = random_state(rng, 200, 4, 600)
    state["monitored"] = np.array([True, False, True, False])
    clean = snapshot(**state, backend=backend)
    dirty_m = state["membership"].copy()
    dirty_m[~state["active"]] = True  # junk in removed groups' rows
    dirty = snapshot(**dict(state, membership=dirty_m), backend=backend)
    for key in clean:
        assert_same(dirty[key], clean[key])


def test_many_platforms_use_numpy_path() -> None:
    state = random_state(np.random.default_rng(5), 100, 30, 300, p_member=0.1)
    state["monitored"] = np.zeros(30, bool)
    out = snapshot(**state)  # auto: K = 30 > NUMBA_MAX_PLATFORMS
    assert out == pytest.approx(snapshot(**state, backend="numpy"), nan_ok=True)
    if metrics.HAVE_NUMBA:
        with pytest.raises(ValueError, match="NUMBA_MAX_PLATFORMS=24.*got K=30"):
            snapshot(**state, backend="numba")


def test_numpy_fallback_without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics_inputs, "HAVE_NUMBA", False)
    s = tiny()
    out = snapshot(**s, monitored=np.ones(3, bool))
    assert out["broken_tie_share"] == 5 / 8
    with pytest.raises(ValueError, match="backend='numba' was requested but numba is not"):
        snapshot(**s, monitored=np.ones(3, bool), backend="numba")


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_states(backend: str) -> None:
    # nobody active and no ties: every share is nan, counts are 0
    m = np.zeros((4, 2), bool)
    out = snapshot(
        m, np.zeros(4, bool), np.full(4, -1), [], [], np.ones(4), np.ones(4), [True, False],
        backend=backend,
    )  # fmt: skip
    assert out["n_active"] == 0.0 and out["comm_n_components"] == 0.0
    for key in ("hhi_primary", "broken_tie_share", "comm_giant_share", "modularity_primary",
                "coverage_groups", "coverage_severity", "giant_share.0"):  # fmt: skip
        assert math.isnan(out[key]), key
    # active groups but all dark: entropy of an all-zero vector is nan, components are singles
    out = snapshot(
        m, np.ones(4, bool), np.full(4, -1), [0, 1], [1, 2], np.ones(4), np.ones(4),
        [True, False], backend=backend,
    )  # fmt: skip
    assert out["dark_share"] == 1.0 and out["broken_tie_share"] == 1.0
    assert out["comm_n_components"] == 4.0 and out["comm_giant_share"] == 0.25
    assert math.isnan(out["entropy_presence"])


# ---------------------------------------------------------------------------------------------
# Invariants
# ---------------------------------------------------------------------------------------------


@HSETTINGS
@given(st.lists(st.integers(0, 1000), min_size=1, max_size=12))
def test_concentration_bounds(counts: list[int]) -> None:
    c = np.array(counts)
    k_nz = int(np.count_nonzero(c))
    conc = concentration(c)
    if k_nz == 0:
        assert all(math.isnan(x) for x in conc)
        return
    assert 1 / k_nz - 1e-12 <= conc.hhi <= 1 + 1e-12
    assert 1 - 1e-12 <= conc.effective_number <= k_nz + 1e-9
    assert conc.effective_number <= len(counts) + 1e-9
    assert -1e-12 <= conc.entropy <= math.log(k_nz) + 1e-12
    # a matrix gives the same values row by row
    rows = concentration(np.stack([c, c[::-1]]))
    assert rows.hhi[0] == pytest.approx(conc.hhi) and rows.hhi[1] == pytest.approx(conc.hhi)


def test_concentration_extremes() -> None:
    assert hhi([0, 7, 0]) == 1.0 and effective_number([0, 7, 0]) == 1.0
    assert shannon_entropy([0, 7, 0]) == 0.0
    assert hhi([4, 4, 4, 4]) == 0.25 and shannon_entropy([4, 4, 4, 4]) == pytest.approx(math.log(4))
    assert math.isnan(hhi([0, 0])) and math.isnan(shannon_entropy([0, 0]))


@HSETTINGS
@given(states(max_n=30, max_k=6))
def test_coverage_curve_invariants(state: dict) -> None:
    m, act = state["membership"], state["active"]
    curve = coverage_curve(m, act)
    k = m.shape[1]
    if not act.any():
        assert np.isnan(curve).all()
        return
    assert np.all(np.diff(curve) >= 0)
    dark = (~m[act].any(axis=1)).mean()
    assert curve[-1] == pytest.approx(1 - dark)
    for j in range(1, k + 1):
        cov = monitoring_coverage(*graph_args(state), state["severity"], top_platforms(m, act, j))
        assert curve[j - 1] == pytest.approx(cov.groups)
    # monitoring every platform with presence sees every non-dark group (all of them if none dark)
    all_present = presence_counts(m, act) > 0
    cov = monitoring_coverage(*graph_args(state), state["severity"], all_present)
    assert cov.groups == pytest.approx(1 - dark)
    if dark == 0:
        assert cov.groups == 1.0


@HSETTINGS
@given(states())
def test_component_invariants(state: dict) -> None:
    comp = communication_components(*graph_args(state))
    n = comp.n_nodes
    if n:
        assert 1 <= comp.n_components <= n
        assert 1 / n <= comp.giant_share <= 1
        assert comp.mean_size == pytest.approx(n / comp.n_components)
    pc = platform_components(*graph_args(state))
    present = pc.n_present > 0
    assert np.all(pc.giant_size[present] >= 1)
    assert np.all(pc.giant_size <= pc.n_present)
    assert np.all(pc.n_components <= pc.n_present)


def test_platform_bits() -> None:
    m = np.array([[True, False, True], [False, True, False], [True, True, True]])
    assert platform_bits(m).tolist() == [5, 2, 7]
    assert platform_bits(m, np.array([True, False, True])).tolist() == [5, 0, 7]


# ---------------------------------------------------------------------------------------------
# Modularity on arbitrary partitions
# ---------------------------------------------------------------------------------------------


@HSETTINGS
@given(st.integers(2, 30), st.integers(1, 60), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_modularity_matches_networkx(n: int, n_edges: int, n_comm: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(-1, n_comm, n)
    g = nx.gnm_random_graph(n, min(n_edges, n * (n - 1) // 2), seed=seed % 1000)
    e = np.array([(min(a, b), max(a, b)) for a, b in g.edges()], dtype=np.int64).reshape(-1, 2)
    q = modularity(labels, e[:, 0], e[:, 1])
    sub = g.subgraph(np.flatnonzero(labels >= 0).tolist())
    if sub.number_of_edges() == 0:
        assert math.isnan(q)
    else:
        comms = [set(np.flatnonzero(labels == c).tolist()) for c in range(n_comm)]
        assert q == pytest.approx(nx.community.modularity(sub, [c for c in comms if c]), abs=1e-12)


# ---------------------------------------------------------------------------------------------
# Clear errors
# ---------------------------------------------------------------------------------------------


def test_bad_monitoring_input() -> None:
    s = tiny()
    with pytest.raises(ValueError, match=r"monitored must have length K=3 .*got shape \(2,\)"):
        monitoring_coverage(*graph_args(s), s["severity"], np.array([True, False]))
    with pytest.raises(ValueError, match="monitored must be a boolean mask.*got dtype int64"):
        monitoring_coverage(*graph_args(s), s["severity"], np.array([1, 0, 1]))
    for k in (0, 4, 1.5):
        with pytest.raises(ValueError, match=rf"k must be an integer in \[1, 3\].*got {k}"):
            top_platforms(s["membership"], s["active"], k)
    with pytest.raises(ValueError, match=r"unknown platform name 'Telegarm' in names; allowed: "):
        monitored_mask(["Signal", "Telegarm"], NAMES)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_state_input(backend: str) -> None:
    s = tiny()
    mon = np.zeros(3, bool)
    cases = [
        (dict(edges_v=s["edges_v"] + 1), r"edges_v must lie in \[0, 6\], got value 7"),
        (dict(edges_u=s["edges_v"], edges_v=s["edges_u"]), r"edges_u must be < edges_v.*edge 0"),
        (dict(edges_v=s["edges_v"][:-1]), "edges_u and edges_v must have the same length"),
        (dict(primary=np.array([0, 0, 3, 0, -1, 0, -1])), r"primary must lie in \[-1, 2\]"),
        (dict(primary=np.array([0, 0, -2, 0, -1, 0, -1])), r"primary .*got value -2"),
        (dict(membership=s["membership"].astype(int)), "membership must have dtype bool"),
        (dict(active=s["active"][:3]), r"active must have shape \(7,\), got shape \(3,\)"),
        (dict(size=np.ones(6)), r"size must have shape \(7,\)"),
    ]
    for change, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            snapshot(**dict(s, **change), monitored=mon, backend=backend)
    with pytest.raises(ValueError, match=r"crime_type must lie in \[0, 1\], got value 2"):
        snapshot(
            **s, monitored=mon, crime_type=np.array([0, 1, 2, 0, 0, 0, 0]),
            crime_type_names=["a", "b"], backend=backend,
        )  # fmt: skip
    with pytest.raises(ValueError, match=r"platform_names must hold K=3 names, got 2"):
        snapshot(**s, monitored=mon, platform_names=["a", "b"], backend=backend)


def test_bad_misc_input() -> None:
    s = tiny()
    with pytest.raises(ValueError, match="backend must be one of .*got 'cuda'"):
        snapshot(**s, monitored=np.zeros(3, bool), backend="cuda")
    with pytest.raises(ValueError, match="at most MAX_PLATFORMS=62"):
        presence_counts(np.zeros((2, 63), bool), np.ones(2, bool))
    with pytest.raises(ValueError, match="counts must be finite and non-negative"):
        hhi([1, -1])
    with pytest.raises(ValueError, match=r"tie \(0, 1\) more than once"):
        metrics.check_edges([0, 0], [1, 1], 3)
    metrics.check_edges(s["edges_u"], s["edges_v"], 7)


# ---------------------------------------------------------------------------------------------
# Migration dynamics
# ---------------------------------------------------------------------------------------------


def hand_flows() -> tuple[np.ndarray, np.ndarray]:
    """K = 2 platforms (0 = Telegram, 1 = Signal), index 2 = dark; 4 steps, shock at step 1."""
    flows = np.zeros((4, 3, 3), dtype=np.int64)
    flows[0, 0, 0], flows[0, 1, 1] = 8, 2  # step 0: nobody moves
    flows[1, 0, 1], flows[1, 0, 2], flows[1, 0, 0], flows[1, 1, 1] = 3, 1, 4, 2
    flows[2, 0, 1], flows[2, 1, 0] = 2, 1
    flows[3, 0, 1] = 1
    # row t = shares before step t; Signal gains 0.3, 0.1, 0.1 after the shock (total 0.5)
    shares = np.array([[0.8, 0.2], [0.8, 0.2], [0.4, 0.5], [0.3, 0.6], [0.2, 0.7]])
    return flows, shares


def test_migration_response_hand_made() -> None:
    flows, shares = hand_flows()
    r = migration_response(flows, shares, shock_step=1, horizon=3)
    # arrivals over steps 1..3 (diagonal excluded): Signal 3+2+1 = 6, Telegram 1, dark 1 -> 8
    assert r.n_migrations == 8
    assert r.top_destination == 1
    assert r.top_destination_share == 0.75 and r.split_share == 0.25
    assert r.n_destinations == 3  # each of the three gets >= 5%
    # Signal's gain from row 1: 0.3, 0.4, 0.5 -> 50% (0.25) after 1 step, 90% (0.45) after 3
    assert (r.steps_to_50, r.steps_to_90) == (1.0, 3.0)
    expected_net = np.array([[0, 5, 1], [-5, 0, 0], [-1, 0, 0]])
    np.testing.assert_array_equal(r.net_flow, expected_net)
    np.testing.assert_array_equal(net_flows(flows, 1, 4), expected_net)
    assert migration_response(flows, shares, 1, 3, min_share=0.2).n_destinations == 1
    # leaving Signal: one group, to Telegram, whose share falls: no gain -> nan times
    r = migration_response(flows, shares, 1, 3, source=1)
    assert (r.n_migrations, r.top_destination, r.top_destination_share) == (1, 0, 1.0)
    assert math.isnan(r.steps_to_50) and math.isnan(r.steps_to_90)
    # no migrations before the shock
    r = migration_response(flows, shares, 0, 1)
    assert r.n_migrations == 0 and r.top_destination == -1 and math.isnan(r.split_share)


def test_migration_to_dark() -> None:
    flows = np.zeros((2, 3, 3), dtype=np.int64)
    flows[0, 0, 2], flows[1, 0, 2] = 3, 1
    shares2 = np.array([[1.0, 0.0], [0.7, 0.0], [0.6, 0.0]])
    r = migration_response(flows, shares2, 0, 2)
    assert r.top_destination == 2 and math.isnan(r.steps_to_50)  # no dark column given
    shares3 = np.array([[1.0, 0.0, 0.0], [0.7, 0.0, 0.3], [0.6, 0.0, 0.4]])
    r = migration_response(flows, shares3, 0, 2)
    assert (r.steps_to_50, r.steps_to_90) == (1.0, 2.0)


def test_migration_bad_input() -> None:
    flows, shares = hand_flows()
    with pytest.raises(ValueError, match=r"horizon must end the window .*at most 3 steps"):
        migration_response(flows, shares, 1, 4)
    with pytest.raises(ValueError, match=r"shock_step must lie in \[0, 3\].*got 4"):
        migration_response(flows, shares, 4, 1)
    with pytest.raises(ValueError, match="horizon must be a positive integer, got 0"):
        migration_response(flows, shares, 1, 0)
    with pytest.raises(ValueError, match=r"shares must have shape \(5, 2\) or \(5, 3\)"):
        migration_response(flows, shares[:3], 1, 2)
    with pytest.raises(ValueError, match=r"flows must have shape \(T, K\+1, K\+1\)"):
        migration_response(flows[:, :2], shares, 1, 2)
    with pytest.raises(ValueError, match=r"source must lie in \[0, 2\]"):
        migration_response(flows, shares, 1, 2, source=5)


def test_steps_to_fraction() -> None:
    assert steps_to_fraction([0.0, 0.1, 0.3, 0.2, 0.4], 0.5) == 2.0
    assert steps_to_fraction([0.0, 0.1, 0.3, 0.2, 0.4], 1.0) == 4.0
    assert math.isnan(steps_to_fraction([0.5, 0.4, 0.3], 0.5))  # only losses
    assert math.isnan(steps_to_fraction([0.5, 0.5], 0.5))  # no change
    with pytest.raises(ValueError, match=r"fraction must lie in \(0, 1\], got 1.5"):
        steps_to_fraction([0, 1], 1.5)


# ---------------------------------------------------------------------------------------------
# Before/after summary
# ---------------------------------------------------------------------------------------------


def test_fragmentation_summary() -> None:
    ts = pd.DataFrame(
        {"hhi": [0.5, 0.5, 0.5, 0.4, 0.3, 0.3], "giant": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]},
        index=range(6),
    )
    out = fragmentation_summary(ts, [2], post_window=2)
    assert list(out.columns) == [
        "shock_step",
        "measure",
        "before",
        "after",
        "change",
        "after_step",
    ]
    assert out["measure"].tolist() == ["hhi", "giant"]
    assert out["before"].tolist() == [0.5, 0.8]  # step 1
    assert out["after"].tolist() == [0.3, 0.5]  # step 4
    assert out["change"].tolist() == pytest.approx([-0.2, -0.3])
    # pre-window mean over steps 0..1
    out = fragmentation_summary(ts, [2], post_window=2, pre_window=2, measures=["giant"])
    assert out["before"].tolist() == pytest.approx([0.85])
    # shock at step 0: nothing before it
    out = fragmentation_summary(ts, [0], post_window=1, measures=["hhi"])
    assert math.isnan(out["before"][0]) and out["after"][0] == 0.5 and math.isnan(out["change"][0])
    # window past the end (step 4 + 3 = 7 > 5)
    out = fragmentation_summary(ts, [4], post_window=3, measures=["hhi"])
    assert out["before"][0] == 0.4 and math.isnan(out["after"][0])
    out = fragmentation_summary(ts, [4], post_window=3, measures=["hhi"], incomplete="clip")
    assert out["after"][0] == 0.3
    with pytest.raises(ValueError, match="ends at step 7, past the last recorded step 5"):
        fragmentation_summary(ts, [4], post_window=3, incomplete="raise")
    # several shocks: one block of rows per shock, in the given order
    out = fragmentation_summary(ts, [3, 1], post_window=1)
    assert out["shock_step"].tolist() == [3, 3, 1, 1]


def test_fragmentation_summary_separate_windows_do_not_overlap() -> None:
    # the jump at step 4 happens after the second shock (step 3): only it may be credited
    ts = pd.DataFrame({"cov": [0.2, 0.2, 0.2, 0.2, 0.8, 0.8, 0.8, 0.8]}, index=range(8))
    overlapping = fragmentation_summary(ts, [1, 3], post_window=4)
    assert overlapping["change"].tolist() == pytest.approx([0.6, 0.6])  # both claim it
    out = fragmentation_summary(ts, [1, 3], post_window=4, separate=True)
    assert out["after_step"].tolist() == [2, 7]  # the first window stops before the second shock
    assert out["change"].tolist() == pytest.approx([0.0, 0.6])
    # a pre-window mean starts no earlier than the previous shock
    ts2 = pd.DataFrame({"x": [9.0, 9.0, 1.0, 1.0, 5.0]}, index=range(5))
    out = fragmentation_summary(ts2, [2, 4], post_window=0, pre_window=4, separate=True)
    assert out["before"].tolist() == pytest.approx([9.0, 1.0])
    # shocks given out of order or repeated get the same windows
    twice = fragmentation_summary(ts, [3, 1, 3], post_window=4, separate=True)
    assert twice["after_step"].tolist() == [7, 2, 7]


def test_fragmentation_summary_sparse_steps() -> None:
    # measures recorded every 5 steps
    ts = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}, index=[0, 5, 10, 15])
    out = fragmentation_summary(ts, [7], post_window=5)
    assert out["before"][0] == 2.0  # last record before step 7 is step 5
    assert out["after"][0] == 3.0  # last record in [7, 12] is step 10
    out = fragmentation_summary(ts, [7], post_window=5, pre_window=1)
    assert math.isnan(out["before"][0])  # nothing recorded at step 6


def test_fragmentation_summary_bad_input() -> None:
    ts = pd.DataFrame({"x": [1.0, 2.0]}, index=[0, 1])
    with pytest.raises(ValueError, match=r"unknown measure 'y' in measures; allowed: \['x'\]"):
        fragmentation_summary(ts, [1], post_window=1, measures=["y"])
    with pytest.raises(ValueError, match="shock steps must be non-negative integers, got -1"):
        fragmentation_summary(ts, [-1], post_window=1)
    with pytest.raises(ValueError, match="post_window must be a non-negative integer"):
        fragmentation_summary(ts, [1], post_window=-1)
    with pytest.raises(ValueError, match="increasing and unique"):
        fragmentation_summary(ts.iloc[::-1], [1], post_window=1)
    with pytest.raises(ValueError, match="incomplete must be 'nan', 'clip' or 'raise'"):
        fragmentation_summary(ts, [1], post_window=1, incomplete="drop")


def test_doctests() -> None:
    modules = [
        importlib.import_module(f"migration_sim.metrics.{m.name}")
        for m in pkgutil.iter_modules(metrics.__path__)
    ]
    results = [doctest.testmod(m, optionflags=doctest.NORMALIZE_WHITESPACE) for m in modules]
    assert sum(r.attempted for r in results) > 10
    assert sum(r.failed for r in results) == 0
