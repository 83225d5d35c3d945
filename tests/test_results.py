import networkx as nx
import numpy as np
import pytest
from matplotlib.colors import to_rgba

import migration_sim as ms

CFG = {"groups.n_groups": 400, "run.warmup_steps": 10, "metrics.graph_steps": [0, 9, 20]}


@pytest.fixture(scope="module")
def res():
    shocks = [{"kind": "takedown", "name": "td", "start": 10, "platform": "Telegram"}]
    return ms.run({**CFG, "shocks": shocks}, seed=3, steps=30)


def test_communication_graph_matches_recorded_measures(res):
    for step in (0, 20):
        g = res.communication_graph(step)
        ts = res.timeseries.loc[step]
        member, primary, active, eu, ev = res.graphs[step]
        live = active[eu] & active[ev]
        # kept ties are the graph's edges; the rest of the live ties are broken
        assert g.number_of_edges() == pytest.approx(live.sum() * (1 - ts["broken_tie_share"]))
        giant = max(len(c) for c in nx.connected_components(g))
        assert giant / active.sum() == pytest.approx(ts["comm_giant_share"])
        assert nx.number_connected_components(g) == ts["comm_n_components"]
        node = next(iter(g.nodes))
        assert g.nodes[node]["crime_type"] in res.crime_types
        assert set(g.nodes[node]["platforms"].split(";")) <= set(res.platforms)


def test_graphml_round_trip(res, tmp_path):
    path = tmp_path / "g.graphml"
    res.write_graphml(20, path)
    back = nx.read_graphml(path)
    g = res.communication_graph(20)
    assert back.number_of_nodes() == g.number_of_nodes()
    assert back.number_of_edges() == g.number_of_edges()
    with pytest.raises(ValueError, match="step = 7 has no stored communication graph"):
        res.communication_graph(7)


def test_takedown_shows_in_fragmentation_and_migration(res):
    summary = res.fragmentation_summary(post_window=5)
    assert set(summary.columns) >= {"shock_step", "measure", "before", "after", "change"}
    row = summary.set_index("measure").loc["hhi_primary"]
    assert row["after"] != row["before"]
    mig = res.migration_response("Telegram", 10, 10)
    # every group that had Telegram as primary before the takedown is a migrant
    assert mig["n_migrants"] == sum(mig["destinations"].values())
    assert mig["destinations"]["Telegram"] == 0
    landed = mig["n_migrants"] - mig["destinations"]["dark"]
    top = mig["destinations"][mig["top_destination"]]
    assert mig["top_destination_share"] == pytest.approx(top / landed)
    assert 0 <= mig["split_share"] <= 1
    with pytest.raises(ValueError, match="metrics.graph_steps"):
        res.migration_response("Telegram", 10, 5)
    with pytest.raises(ValueError, match="source = 'Nope'"):
        res.migration_response("Nope", 10, 10)


def test_coordination_concentrates_migrants_on_one_successor():
    """After a takedown, coordination (w_follow) raises the top destination's share."""
    shocks = [{"kind": "takedown", "name": "td", "start": 10, "platform": "Telegram"}]
    cfg = {**CFG, "groups.n_groups": 600, "metrics.every": 0, "metrics.graph_steps": [9, 30]}
    top = {
        w: ms.run(
            {**cfg, "choice.w_follow": w, "shocks": shocks}, seed=4, steps=30
        ).migration_response("Telegram", 10, 20)["top_destination_share"]
        for w in (0.0, 8.0)
    }
    assert top[0.0] < 0.45 < top[8.0]


def test_metrics_every_k_steps_leaves_gaps():
    ts = ms.run({**CFG, "metrics.every": 5}, seed=1, steps=12).timeseries
    assert ts["hhi_primary"].notna().tolist() == [s % 5 == 0 for s in range(13)]
    assert ms.run({**CFG, "metrics.every": 0}, seed=1, steps=3).metrics == {}


def test_default_monitoring_follows_disclosure():
    m = ms.MigrationModel(CFG, rng=1)
    expected = [p.disclosure >= 0.5 for p in m.params.platforms]
    assert m.monitored_platforms().tolist() == expected
    m2 = ms.MigrationModel({**CFG, "metrics.monitored": ["Signal"]}, rng=1)
    assert m2.monitored_platforms().tolist() == [n == "Signal" for n in m2.platform_names]


def test_recorded_coverage_curve_matches_direct_computation():
    from migration_sim import metrics

    m = ms.MigrationModel(CFG, rng=2)
    m.run(3)
    pop = m.population
    direct = metrics.coverage_curve(pop.member, pop.active)
    recorded = [m.results.metrics[f"coverage_top.{k + 1}"][-1] for k in range(m.n_platforms)]
    np.testing.assert_allclose(recorded, direct)
    assert np.all(np.diff(direct) >= 0) and direct[-1] == pytest.approx(1.0)


def test_summary_credits_each_change_to_the_shock_in_whose_window_it_happened():
    shocks = [
        {"kind": "salience", "name": "news", "start": 5, "platforms": ["Telegram"]},
        {
            "kind": "disclosure_change",
            "name": "policy",
            "start": 10,
            "platform": "Telegram",
            "to": 0.9,
        },
    ]
    res = ms.run({**CFG, "metrics.graph_steps": [], "shocks": shocks}, seed=4, steps=25)
    table = res.fragmentation_summary(post_window=20).set_index(["shock", "measure"])
    cov = res.timeseries["coverage_groups"]
    news, policy = table.loc[("news", "coverage_groups")], table.loc[("policy", "coverage_groups")]
    assert news["after_step"] == 9 and news["after"] == cov[9]
    assert policy["after_step"] == 25 and policy["before"] == cov[9]
    # Telegram becomes monitored at step 10: the jump belongs to the policy, not the news
    assert policy["change"] > 0.3 and abs(news["change"]) < 0.1
    old = res.fragmentation_summary(post_window=20, separate=False).set_index(["shock", "measure"])
    assert old.loc[("news", "coverage_groups"), "change"] > 0.3  # what overlapping windows said


def test_replicate_comparison_checks_its_input():
    from migration_sim.results.folder import replicate_comparison

    one = ms.run({**CFG, "metrics.graph_steps": []}, seed=1, steps=2)
    with pytest.raises(ValueError, match="at least two"):
        replicate_comparison({"a": [one, one]})
    with pytest.raises(ValueError, match="the same number, at least 2"):
        replicate_comparison({"a": [one, one], "b": [one]})
    with pytest.raises(ValueError, match="level = 1"):
        replicate_comparison({"a": [one, one], "b": [one, one]}, level=1)
    table = replicate_comparison({"a": [one, one], "b": [one, one]})
    assert (table["diff.b"] == 0).all() and not table["distinguishable.b"].any()


def test_unknown_names_suggest_the_closest():
    from migration_sim.results.core import unknown_name_message
    from migration_sim.sweep.outcomes import OutcomeError, parse_outcome

    msg = unknown_name_message("outcome", "tg_fnal", ["tg_final", "broken_ties_final"])
    assert "did you mean 'tg_final'?" in msg
    assert unknown_name_message("outcome", "zzz", ["tg_final"]).endswith(". Known: tg_final")
    ts = ms.run({**CFG, "metrics.graph_steps": []}, seed=1, steps=2).timeseries
    with pytest.raises(OutcomeError, match="did you mean 'share.Telegram'"):
        parse_outcome("x = final:share.Telgram").evaluate(ts)


def test_network_figure_draws_the_same_sample_at_each_kept_step(res):
    from migration_sim.results.plots import plot_network

    fig = plot_network(res, [0, 20], sample=80, seed=2)
    left, right = [ax for ax in fig.axes if ax.get_visible()][:2]
    points = [np.vstack([c.get_offsets() for c in ax.collections]) for ax in (left, right)]
    assert len(points[0]) == len(points[1]) == 80
    np.testing.assert_allclose(np.sort(points[0], axis=0), np.sort(points[1], axis=0))
    # after the takedown (step 10) nobody is on Telegram: its colour is gone from the right
    telegram = to_rgba("#1f77b4")
    colours = [np.vstack([c.get_facecolors() for c in ax.collections]) for ax in (left, right)]
    assert any(np.allclose(c, telegram) for c in colours[0])
    assert not any(np.allclose(c, telegram) for c in colours[1])
    assert "of drawn ties without a common platform" in right.get_title()
    with pytest.raises(ValueError, match="no stored communication graph at \\[5\\]"):
        plot_network(res, [5])


def test_event_log_keeps_copies_not_views_of_the_model_arrays():
    rec = ms.MigrationModel(n_groups=50, steps=1, rng=1).recorder
    big = np.arange(1_000, dtype=np.int64)
    before = len(rec.events)
    rec.log_events(3, "disruption", big[:2], big[5:7], np.zeros(1_000, np.int64))
    stored = rec.events[before]
    assert not any(np.shares_memory(part, big) for part in stored)  # the base can be freed
