import numpy as np
import pytest

import migration_sim as ms
from migration_sim import MigrationModel
from migration_sim.config import ConfigError

BASE = {"groups.n_groups": 400, "run.warmup_steps": 5}
T = 6  # the shock step used below

SHOCKS = {
    "disclosure_change": {"platform": "Telegram", "to": 0.9},
    "salience": {"platforms": ["Telegram"], "magnitude": 0.8},
    "takedown": {"platform": "Telegram"},
    "crackdown": {"crime_type": "drugs", "factor": 50.0, "end": T + 3},
    "ban_wave": {"platform": "Telegram", "mode": "once", "share": 1.0, "p_backup": 0.0},
    "policy_contagion": {"to": 0.9, "pressure": 5.0},
}


def _run(shocks, steps=T + 6, **over):
    return ms.run({**BASE, **over, "shocks": shocks}, seed=5, steps=steps)


@pytest.fixture(scope="module")
def baseline():
    return _run([])


@pytest.mark.parametrize("kind", sorted(SHOCKS))
def test_a_shock_changes_nothing_before_its_step(kind, baseline):
    res = _run([{"kind": kind, "name": "s", "start": T, **SHOCKS[kind]}])
    before = res.timeseries.iloc[:T]
    assert before.equals(baseline.timeseries.iloc[:T])
    assert not res.timeseries.iloc[T:].equals(baseline.timeseries.iloc[T:])
    assert res.shock_steps == [T]


def test_disclosure_change_raises_that_platforms_perceived_risk(baseline):
    res = _run(
        [{"kind": "disclosure_change", "name": "s", "start": T, **SHOCKS["disclosure_change"]}]
    )
    ts, b = res.timeseries, baseline.timeseries
    assert ts["disclosure.Telegram"].iloc[T] == 0.9
    assert ts["risk.Telegram"].iloc[T] > b["risk.Telegram"].iloc[T]
    assert ts["risk.Telegram"].iloc[-1] > 1.5 * b["risk.Telegram"].iloc[-1]
    assert ts["risk.Signal"].iloc[T] == pytest.approx(b["risk.Signal"].iloc[T])


def test_variant_applies_every_listed_attribute():
    m = MigrationModel(
        {
            **BASE,
            "shocks": [
                {
                    "kind": "disclosure_change",
                    "name": "s",
                    "start": 2,
                    "platform": "Telegram",
                    "variant": "post_sep_2024",
                }
            ],
        },
        rng=1,
    )
    m.run(2)
    k = m.platform.index("Telegram")
    # the variant lists disclosure and moderation; reach is not listed and keeps its value
    assert (m.platform.disclosure[k], m.platform.reach[k], m.platform.moderation[k]) == (
        0.55,
        0.95,
        0.60,
    )


def test_salience_sets_news_and_it_fades():
    m = MigrationModel(
        {**BASE, "shocks": [{"kind": "salience", "name": "s", "start": 2, **SHOCKS["salience"]}]},
        rng=1,
    )
    m.run(1)
    k = m.platform.index("Telegram")
    on_tg = m.population.member[:, k].copy()  # present when the news breaks at step 2
    m.run(1)
    assert m.population.news[on_tg, k].min() == pytest.approx(0.8 * 0.95)  # heard, one decay
    first = m.population.news[:, k].mean()
    m.run(30)
    assert m.population.news[:, k].mean() < first / 2


def test_news_nobody_hears_leaves_earlier_news_fading_in_both_engines():
    # the second item reaches nobody; the first one's news must keep fading, not freeze
    quiet = {"p_members": 0.0, "p_others": 0.0}
    cfg = {
        **BASE,
        "shocks": [
            {"kind": "salience", "name": "loud", "start": 2, **SHOCKS["salience"]},
            {"kind": "salience", "name": "quiet", "start": 4, **SHOCKS["salience"], **quiet},
        ],
    }
    fast, ref = MigrationModel(cfg, rng=3), MigrationModel(cfg, rng=3, engine="reference")
    k = fast.platform.index("Telegram")
    for m in (fast, ref):
        m.run(4)
    assert fast.in_news[k] and ref.in_news[k]
    held = fast.population.news[:, k].copy()
    for m in (fast, ref):
        m.run(2)
    np.testing.assert_allclose(fast.population.news, ref.population.news, rtol=1e-12)
    assert (held > 0).sum() > 50
    assert fast.population.news[:, k].mean() < 0.95 * held.mean()  # still fading, not frozen


def test_takedown_leaves_no_group_on_the_platform():
    m = MigrationModel(
        {
            **BASE,
            "shocks": [
                {"kind": "takedown", "name": "s", "start": 2, "platform": "Telegram", "p_dark": 0.5}
            ],
        },
        rng=1,
    )
    m.run(10)
    k = m.platform.index("Telegram")
    assert not m.population.member[:, k].any()
    assert not m.platform.available[k]
    assert (m.results.arrays["presence"][2:, k] == 0).all()
    assert m.results.arrays["n_dark"][2] > 0  # p_dark: some displaced groups went dark


def test_crackdown_scales_disruptions_of_its_type_and_ends(baseline):
    res = _run(
        [{"kind": "crackdown", "name": "s", "start": T, **SHOCKS["crackdown"]}],
        **{"enforcement.intensity": 0.01, "enforcement.outcome": "recover"},
    )
    base = _run([], **{"enforcement.intensity": 0.01, "enforcement.outcome": "recover"})
    drugs = res.crime_types.index("drugs")
    hit = res.arrays["disruptions_by_type"][:, drugs].sum(axis=1)
    hit0 = base.arrays["disruptions_by_type"][:, drugs].sum(axis=1)
    assert hit[T : T + 4].sum() > 10 * max(hit0[T : T + 4].sum(), 1)
    m = MigrationModel(
        {
            **BASE,
            "shocks": [
                {
                    "kind": "crackdown",
                    "name": "s",
                    "start": 2,
                    "crime_type": "drugs",
                    "factor": 4.0,
                    "end": 3,
                }
            ],
        },
        rng=1,
    )
    m.run(3)
    assert m.type_enforcement_multiplier[m.crime_type_names.index("drugs")] == 4.0
    m.run(1)
    assert m.type_enforcement_multiplier[m.crime_type_names.index("drugs")] == 1.0


def test_one_off_ban_wave_removes_everyone_without_backup():
    res = _run([{"kind": "ban_wave", "name": "s", "start": T, **SHOCKS["ban_wave"]}])
    k = res.platforms.index("Telegram")
    ev = res.events
    banned = ev[(ev.kind == "ban") & (ev.step == T) & (ev.platform == "Telegram")]
    assert len(banned) == res.arrays["presence"][T - 1, k]


def test_sustained_ban_wave_scales_moderation_then_restores_it():
    m = MigrationModel(
        {
            **BASE,
            "shocks": [
                {
                    "kind": "ban_wave",
                    "name": "s",
                    "start": 2,
                    "end": 4,
                    "platform": "Discord",
                    "mode": "sustained",
                    "factor": 8.0,
                }
            ],
        },
        rng=1,
    )
    k = m.platform.index("Discord")
    m.run(2)
    assert m.platform.moderation_multiplier[k] == 8.0
    m.run(3)
    assert m.platform.moderation_multiplier[k] == 1.0


def test_policy_contagion_never_touches_immune_platforms():
    m = MigrationModel(
        {
            **BASE,
            "shocks": [
                {
                    "kind": "policy_contagion",
                    "name": "s",
                    "start": 2,
                    "to": 0.9,
                    "pressure": 50.0,
                    "exclude": ["Telegram"],
                }
            ],
        },
        rng=1,
    )
    before = m.platform.disclosure.copy()
    m.run(10)
    immune = m.platform.immune
    assert np.array_equal(m.platform.disclosure[immune], before[immune])
    others = ~immune & (np.array(m.platform_names) != "Telegram")
    assert (m.platform.disclosure[others] >= 0.9).all()  # huge pressure: all adopt at once
    assert m.platform.disclosure[m.platform.index("Telegram")] == before[0]


@pytest.mark.parametrize(
    ("shock", "pattern"),
    [
        (
            {"kind": "takedown", "name": "x", "start": 3, "platform": "Nope"},
            r"shocks\.x\.platform = 'Nope'",
        ),
        (
            {
                "kind": "salience",
                "name": "x",
                "start": 3,
                "platforms": ["Telegram"],
                "magnitude": 2,
            },
            r"shocks\.x\.magnitude = 2",
        ),
        (
            {"kind": "crackdown", "name": "x", "start": 3, "crime_type": "piracy"},
            r"shocks\.x\.crime_type = 'piracy'",
        ),
        (
            {"kind": "ban_wave", "name": "x", "start": 0, "platform": "Telegram"},
            r"shocks\.x\.start = 0",
        ),
        ({"kind": "meteor", "name": "x", "start": 3}, r"shocks\.x\.kind = 'meteor'"),
        (
            {"kind": "takedown", "name": "x", "start": 3, "platform": "Tox", "colour": 1},
            r"unknown config key 'shocks\.x\.colour'",
        ),
        (
            {
                "kind": "disclosure_change",
                "name": "x",
                "start": 3,
                "platform": "Telegram",
                "to": 0.5,
                "end": 9,
            },
            r"shocks\.x\.end = 9",
        ),
    ],
)
def test_bad_shocks_name_the_key(shock, pattern):
    with pytest.raises(ConfigError, match=pattern):
        ms.default_config().with_overrides({"shocks": [shock]})
