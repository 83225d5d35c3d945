import mesa
import numpy as np
import pytest

import migration_sim as ms
from migration_sim import MigrationModel
from migration_sim.config import ConfigError

SMALL = {"groups.n_groups": 300, "run.steps": 30, "run.warmup_steps": 10}

SHOCKS = [
    {"kind": "salience", "name": "arrest", "start": 3, "platforms": ["Telegram"], "magnitude": 0.8},
    {
        "kind": "disclosure_change",
        "name": "policy",
        "start": 8,
        "platform": "Telegram",
        "variant": "post_sep_2024",
    },
]


@pytest.mark.parametrize("w_attention", [0.0, 8.0])
def test_vectorised_kernels_equal_reference_rule(w_attention):
    """The per-group reference rule and the array kernels give identical choices.

    With ``w_attention > 0`` the attention-to-disclosure term enters both (the news shock
    raises attention).
    """
    over = {
        **SMALL,
        "choice.w_attention": w_attention,
        "groups.n_groups": 300,
        "run.steps": 60,
        "enforcement.intensity": 0.05,
        "choice.p_revise": 0.2,
        "moderation.max_backups": 1,
        "shocks": [
            *SHOCKS,
            # bans (pressure, backups, costly re-joining) and a takedown (unsettled groups)
            {
                "kind": "ban_wave",
                "name": "bans",
                "start": 5,
                "platform": "Telegram",
                "share": 0.5,
                "p_backup": 0.5,
            },
            {
                "kind": "ban_wave",
                "name": "bans2",
                "start": 6,
                "platform": "Telegram",
                "share": 0.5,
                "p_backup": 0.5,
            },
            {"kind": "takedown", "name": "td", "start": 12, "platform": "Discord"},
        ],  # fmt: skip
    }
    fast = MigrationModel(over, rng=11)
    ref = MigrationModel(over, rng=11, engine="reference")
    assert np.array_equal(fast.population.member, ref.population.member)  # after warm-up
    n_revisions = n_unsettled = n_costly = 0
    for _ in range(60):
        fast.step()
        ref.step()
        n_unsettled += int(fast.unsettled_now.sum())
        n_costly += int((fast.rejoin_cost > 0).sum())
        assert np.array_equal(fast.population.primary, ref.population.primary)
        assert np.array_equal(fast.population.member, ref.population.member)
        np.testing.assert_allclose(fast.population.risk, ref.population.risk, rtol=1e-12)
        np.testing.assert_allclose(fast.population.news, ref.population.news, rtol=1e-12)
        np.testing.assert_allclose(fast.attention, ref.attention, rtol=1e-12)
        n_revisions += int(fast.results.arrays["flows"][-1].trace() < fast.population.n)
    # the comparison exercised real dynamics: news, events and platform changes happened
    assert fast.results.arrays["disruptions"].sum() > 0
    assert fast.ban_pressure.max() > 1 and n_unsettled > 0 and n_costly > 0
    assert fast.population.news.max() > 0 and fast.attention.max() > 0
    assert (
        fast.results.arrays["flows"][1:].sum(0)
        - np.diag(np.diag(fast.results.arrays["flows"][1:].sum(0)))
    ).sum() > 20


def test_same_seed_bit_identical_and_different_seed_differs():
    a = ms.run(SMALL, seed=5).timeseries
    b = ms.run(SMALL, seed=5).timeseries
    c = ms.run(SMALL, seed=6).timeseries
    assert a.equals(b)
    assert not a.equals(c)


def test_seed_none_uses_config_seed_and_generator_accepted():
    a = ms.run({**SMALL, "run.seed": 77}).timeseries
    b = ms.run(SMALL, seed=77).timeseries
    assert a.equals(b)
    m = MigrationModel(SMALL, rng=np.random.default_rng(3))
    assert m.population.n == 300
    with pytest.raises(ConfigError, match="rng = -1"):
        MigrationModel(SMALL, rng=-1)
    with pytest.raises(ConfigError, match="rng = 'x'"):
        MigrationModel(SMALL, rng="x")


def test_shares_sum_and_counts_are_consistent():
    res = ms.run({**SMALL, "enforcement.intensity": 0.05, "enforcement.outcome": "remove"}, seed=2)
    ts = res.timeseries
    shares = ts[[f"share.{p}" for p in res.platforms]]
    dark = ts["n_dark"] / ts["n_active"]
    np.testing.assert_allclose(shares.sum(axis=1) + dark, 1.0)
    a = res.arrays
    # by-type tables add up to the totals
    assert (a["primary_by_type"].sum(axis=1) == a["primary"]).all()
    assert (a["presence_by_type"].sum(axis=1) == a["presence"]).all()
    # removals reduce the active count, and every flow row conserves groups
    assert ts["n_active"].iloc[-1] < 300
    flows = a["flows"][1:]
    assert (flows.sum(axis=(1, 2)) == a["n_active"][:-1]).all()
    assert (res.events["kind"] == "removal").sum() == 300 - ts["n_active"].iloc[-1]


@pytest.mark.parametrize("max_platforms", [1, 2, 4])
def test_multihoming_limit_respected(max_platforms):
    m = MigrationModel(
        {**SMALL, "groups.max_platforms": max_platforms, "choice.p_revise": 0.5}, rng=3
    )
    for _ in range(20):
        m.step()
        counts = m.population.member.sum(axis=1)
        assert counts.max() <= max_platforms
        has = m.population.primary >= 0
        assert m.population.member[np.flatnonzero(has), m.population.primary[has]].all()
    if max_platforms == 1:
        assert m.results.timeseries["share_multihoming"].max() == 0.0
    else:
        assert m.results.timeseries["share_multihoming"].iloc[-1] > 0.0


def test_agents_are_views_on_the_arrays():
    m = MigrationModel(SMALL, rng=1)
    assert len(m.agents) == 300
    g = m.group(17)
    assert isinstance(g, mesa.Agent)
    assert g.primary == m.platform_names[m.population.primary[17]]
    g.size = 1234.0
    assert m.population.size[17] == 1234.0
    with pytest.raises(ValueError, match="size = -3"):
        g.size = -3
    csam = m.agents.select(lambda a: a.crime_type == "csam")
    assert len(csam) == int((m.population.crime_type == m.crime_type_names.index("csam")).sum())


def test_large_models_create_agents_on_first_access():
    m = MigrationModel({"groups.n_groups": 25_000, "run.warmup_steps": 0}, rng=1)
    assert len(m._agents) == 0  # not created with the model above EAGER_AGENT_LIMIT
    assert m.group(24_999).group_id == 24_999
    assert len(m._agents) == 1
    assert len(m.agents) == 25_000  # what a Mesa user sees: every group
    assert sorted(a.group_id for a in m.agents) == list(range(25_000))
    assert len(m.agents_by_type[ms.CriminalGroup]) == 25_000


def test_datacollector_and_time_unit():
    m = MigrationModel({**SMALL, "run.step_unit": "week"}, rng=1)
    m.run(4)
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == 5
    ts = m.results.timeseries
    np.testing.assert_allclose(df["share.Telegram"].to_numpy(), ts["share.Telegram"].to_numpy())
    assert ts["days"].tolist() == [0, 7, 14, 21, 28]


def test_shock_changes_nothing_before_its_step():
    base = ms.run(SMALL, seed=4).timeseries
    shocked = ms.run(
        {
            **SMALL,
            "shocks": [{"kind": "takedown", "name": "td", "start": 15, "platform": "Telegram"}],
        },
        seed=4,
    ).timeseries
    assert base.iloc[:15].equals(shocked.iloc[:15])
    assert shocked["presence.Telegram"].iloc[15:].max() == 0.0
    assert base["presence.Telegram"].iloc[15] > 0.3


def test_run_steps_argument_validated():
    m = MigrationModel(SMALL, rng=1)
    with pytest.raises(ConfigError, match="steps = -1"):
        m.run(-1)


def test_results_do_not_depend_on_the_number_of_threads(monkeypatch):
    import numba

    from migration_sim.model import threads

    monkeypatch.setattr(threads, "MIN_GROUPS_PARALLEL", 0)  # let a small model use them all
    over = {**SMALL, "groups.n_groups": 3000, "choice.p_revise": 0.3}
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = ms.run(over, seed=8, steps=10).timeseries
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = ms.run(over, seed=8, steps=10).timeseries
    finally:
        numba.set_num_threads(previous)
    assert one.equals(many)


def test_attention_is_inert_without_news():
    """No news, no attention: a takedown run is the same bit for bit whatever w_attention."""
    over = {
        **SMALL,
        "shocks": [{"kind": "takedown", "name": "td", "start": 5, "platform": "Telegram"}],
    }
    a = ms.run(over, seed=4).timeseries
    b = ms.run({**over, "choice.w_attention": 20.0}, seed=4).timeseries
    assert a.equals(b)
