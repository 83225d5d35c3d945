import networkx as nx
import numpy as np

import migration_sim as ms
from migration_sim import MigrationModel

BASE = {
    "groups.n_groups": 300,
    "run.warmup_steps": 0,
    "choice.p_revise": 0.0,
    "moderation.intensity": 0.0,
    "enforcement.intensity": 0.0,
}


def _split_model(over):
    """A ring of 300 groups: the first half on Telegram, the second on Signal, no revision."""
    m = MigrationModel({**BASE, **over}, rng=1, graph=nx.cycle_graph(300))
    pop = m.population
    tg, sig = m.platform_names.index("Telegram"), m.platform_names.index("Signal")
    pop.member[:] = False
    pop.member[:150, tg] = True
    pop.member[150:, sig] = True
    pop.primary[:150], pop.primary[150:] = tg, sig
    return m


def test_static_by_default():
    m = _split_model({})
    edges = m.network.edges_u.copy()
    m.run(20)
    assert not m.ties.enabled
    assert np.array_equal(m.network.edges_u, edges)


def test_ties_without_shared_platform_dissolve_after_grace_period():
    m = _split_model({"ties.p_dissolve": 1.0, "ties.dissolve_after": 3})
    # the ring has exactly two ties across the split: (149, 150) and (0, 299)
    m.run(3)
    assert m.network.edges_u.size == 300  # within the grace period nothing dissolves
    m.run(1)
    assert m.network.edges_u.size == 298
    kept = set(zip(m.network.edges_u.tolist(), m.network.edges_v.tolist(), strict=True))
    assert (149, 150) not in kept and (0, 299) not in kept
    ts = m.results.timeseries
    assert ts["broken_tie_share"].iloc[3] == 2 / 300 and ts["broken_tie_share"].iloc[4] == 0.0
    assert ts["comm_n_components"].iloc[4] == 2  # the measure follows the changed graph


def test_new_ties_form_only_between_groups_sharing_a_platform():
    m = _split_model({"ties.p_form": 1.0})
    m.run(5)
    u, v = m.network.edges_u, m.network.edges_v
    assert u.size > 300 + 100  # ties formed at a rate scaled by reach
    new = ~(((v - u) == 1) | ((u == 0) & (v == 299)))
    shared = (m.population.member[u[new]] & m.population.member[v[new]]).any(axis=1)
    assert shared.all()
    # Telegram's reach (0.95) exceeds Signal's (0.30): more new ties among Telegram's groups
    on_tg = (u[new] < 150).sum()
    assert on_tg > 2 * (u[new] >= 150).sum()


def test_tie_dynamics_are_reproducible():
    over = {
        **BASE,
        "ties.p_form": 0.05,
        "ties.p_dissolve": 0.2,
        "ties.dissolve_after": 2,
        "choice.p_revise": 0.1,
    }
    a = ms.run(over, seed=9, steps=15).timeseries
    b = ms.run(over, seed=9, steps=15).timeseries
    assert a.equals(b)
