"""Validation patterns, the group-level migration measure, the new mechanisms, calibration."""

import math

import numpy as np
import pandas as pd
import pytest

import migration_sim as ms
from migration_sim.config import ConfigError
from migration_sim.metrics import group_migration
from migration_sim.model import MigrationModel
from migration_sim.sweep import validation
from migration_sim.sweep.calibration import CalibrationSpec, distance, load_spec

SMALL = {"groups.n_groups": 400, "run.warmup_steps": 10, "metrics.every": 0}


# ------------------------------------------------------------------ group-level migration
def test_group_migration_counts_destinations_split_and_dark():
    m0 = np.zeros((6, 4), bool)
    m0[:, 0] = True
    m0[5, 3] = True  # group 5 already held platform 3
    p0 = np.array([0, 0, 0, 0, 0, 0])
    m1 = np.zeros((6, 4), bool)
    m1[0, [1, 2]] = True  # two new platforms: split
    m1[1, 1] = True
    m1[2, 2] = True
    m1[4, 0] = True  # stayed on the source: not a migrant
    m1[5, [1, 3]] = True  # one new platform only (3 was held before)
    p1 = np.array([1, 1, 2, -1, 0, 1])  # group 3 went dark
    act = np.ones(6, bool)
    r = group_migration((m0, p0, act), (m1, p1, act), 0)
    assert r.n_migrants == 5
    assert r.destinations.tolist() == [0, 3, 1, 0, 1]
    assert r.top_destination == 1
    assert r.top_destination_share == pytest.approx(3 / 4)
    assert r.split_share == pytest.approx(1 / 4)
    assert r.dark_share == pytest.approx(1 / 5)
    with pytest.raises(ValueError, match="source must lie in"):
        group_migration((m0, p0, act), (m1, p1, act), 4)
    empty = group_migration((m0, p0, act), (m0, p0, act), 0)
    assert empty.n_migrants == 0 and math.isnan(empty.top_destination_share)


def test_takedown_leaves_no_group_without_primary_but_with_presence():
    """A dark group holds nothing: dark share and platform shares add up to 1."""
    shocks = [{"kind": "takedown", "name": "td", "start": 3, "platform": "Telegram", "p_dark": 0.5}]
    m = MigrationModel({**SMALL, "shocks": shocks}, rng=2)
    for _ in range(3):
        m.step()
    pop = m.population
    no_primary = pop.active & (pop.primary < 0)
    assert no_primary.sum() > 0
    assert not pop.member[no_primary].any()
    ts = m.results.timeseries
    shares = ts[[f"share.{p}" for p in m.platform_names]].sum(axis=1)
    np.testing.assert_allclose(shares + ts["n_dark"] / ts["n_active"], 1.0)


# ------------------------------------------------------------------ ban mechanisms
def _wave(share, p_backup, start=1):
    return {
        "kind": "ban_wave",
        "name": f"w{start}",
        "start": start,
        "platform": "Telegram",
        "mode": "once",
        "share": share,
        "p_backup": p_backup,
    }


def test_ban_pressure_is_own_ban_plus_share_of_contacts_banned():
    cfg = {**SMALL, "moderation.intensity": 0.0, "shocks": [_wave(1.0, 1.0)]}
    m = MigrationModel(cfg, rng=5)
    k = m.platform.index("Telegram")
    assert not m.ban_pressure.any()  # no moderation, no bans yet
    on = m.population.member[:, k].copy()
    m.step()
    net = m.network
    share_on = (net.adjacency @ on.astype(float)) / np.maximum(net.degree, 1)
    expected = on + m.params.moderation.w_ban_seen * share_on
    np.testing.assert_allclose(m.ban_pressure[:, k], expected)
    others = np.delete(m.ban_pressure, k, axis=1)
    assert not others.any()


def test_backups_run_out_and_repeated_bans_make_rejoining_costly():
    cfg = {
        **SMALL,
        "moderation.intensity": 0.0,
        "moderation.max_backups": 1,
        "moderation.backup_refill": 0.0,
        "moderation.ban_memory": 1.0,
        "shocks": [_wave(1.0, 1.0, 1), _wave(1.0, 1.0, 2)],
    }
    m = MigrationModel(cfg, rng=6)
    k = m.platform.index("Telegram")
    on = np.flatnonzero(m.population.member[:, k])
    m.step()  # first wave: every member re-spawns from its only backup
    assert (m.backups[on] == 0).all()
    on2 = np.flatnonzero(m.population.member[:, k])
    spent = np.intersect1d(on2, on)  # still on Telegram, backup used up
    m.step()  # second wave: no backup left, every member loses its channel
    ev = m.results.events
    assert (ev.query("step == 1")["kind"] == "respawn").sum() == on.size
    lost = ev.query("step == 2 and kind == 'ban'")
    assert sorted(lost["group"]) == spent.tolist()
    respawned = ev.query("step == 2 and kind == 'respawn'")["group"]
    assert sorted(respawned) == np.setdiff1d(on2, on).tolist()  # newcomers had a backup
    # the pressure before the second ban was >= 1, so re-joining cost the full switching cost
    assert (m.rejoin_cost[spent] == 1.0).all()


def test_rejoin_after_a_first_ban_is_free_and_w_rejoin_zero_keeps_it_free():
    for w_rejoin in (1.0, 0.0):
        cfg = {
            **SMALL,
            "moderation.intensity": 0.0,
            "moderation.w_rejoin": w_rejoin,
            "shocks": [_wave(1.0, 0.0)],
        }
        m = MigrationModel(cfg, rng=7)
        m.step()
        assert not m.rejoin_cost.any()


# ------------------------------------------------------------------ patterns file
def test_packaged_patterns_load_and_name_their_sources():
    pats = validation.load_patterns()
    assert {p.use for p in pats} == {"calibration", "validation"}
    assert all(p.source and p.measure in validation.MEASURES for p in pats)
    assert len({p.name for p in pats}) == len(pats)


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({"measure": "nope"}, "pattern.x.measure = 'nope' is not allowed"),
        ({"use": "both"}, "pattern.x.use = 'both' is not allowed"),
        ({"tolerance": -1}, "pattern.x.tolerance = -1 is not allowed"),
        ({"colour": "red"}, "unknown key 'pattern.x.colour'"),
    ],
)
def test_bad_pattern_entries_are_named(tmp_path, entry, match):
    base = {
        "name": "x",
        "scenario": "baseline",
        "measure": "share_drift",
        "target": 0.0,
        "tolerance": 0.1,
        "source": "s",
        "use": "validation",
        "params": {"platform": "Telegram", "step": 10},
    }
    base.update(entry)
    lines = ["[[pattern]]"]
    for key, value in base.items():
        if isinstance(value, dict):
            inner = ", ".join(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}"
                              for k, v in value.items())  # fmt: skip
            lines.append(f"{key} = {{ {inner} }}")
        elif isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        else:
            lines.append(f"{key} = {value}")
    path = tmp_path / "p.toml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=match):
        validation.load_patterns(path)


def test_summary_holds_on_mean_or_on_every_replicate():
    pats = [
        validation.Pattern("a", "baseline", "share_drift", 0.0, 0.1, "s", "validation"),
        validation.Pattern("b", "baseline", "share_drift", 0.0, 0.1, "s", "validation",
                           every_replicate=True),
    ]  # fmt: skip
    values = pd.DataFrame(
        {"name": ["a", "a", "b", "b"], "replicate": [0, 1, 0, 1], "value": [0.05, 0.12] * 2}
    )
    s = validation.summarise(pats, values).set_index("name")
    assert s.loc["a", "mean"] == pytest.approx(0.085)
    assert bool(s.loc["a", "holds"]) and not bool(s.loc["b", "holds"])


# ------------------------------------------------------------------ reduced validation run
#: Patterns that do not hold with the defaults: findings, reported in docs/validation.md
#: (none since the unsettled-window calibration; a pattern that breaks must be listed here with
#: its finding, or fixed).
KNOWN_FAILING: set[str] = set()


def test_reduced_validation_run_on_fixed_seeds(tmp_path):
    """The first two replicates of docs/validation.md: every other pattern must hold.

    Same seed and population as the committed report, two replicates instead of five (runs are
    bit-reproducible, so this fails exactly when a change breaks a pattern).
    """
    summary, values = validation.run_patterns(replicates=2, seed=2024, workers=2)
    holding = set(summary.loc[summary["holds"], "name"])
    assert holding >= set(summary["name"]) - KNOWN_FAILING, summary[["name", "mean", "lower"]]
    path = validation.write_report(summary, values, tmp_path, settings={"replicates": 2})
    text = path.read_text()
    assert f"{len(holding)} of {len(summary)} patterns hold" in text
    assert all((tmp_path / "img" / f"validation_{n}.png").stat().st_size > 0
               for n in summary["name"])  # fmt: skip


# ------------------------------------------------------------------ calibration
def test_distance_is_the_tolerance_weighted_sum_of_squares():
    s = pd.DataFrame({"mean": [0.5, -0.2], "target": [0.66, -0.65], "tolerance": [0.2, 0.2]})
    assert distance(s) == pytest.approx((0.16 / 0.2) ** 2 + (0.45 / 0.2) ** 2)
    s.loc[0, "mean"] = math.nan
    assert distance(s) == math.inf


def test_calibration_spec_grid_and_errors(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('replicates = 2\n[parameters]\n"choice.w_follow" = [1.0, 2.0]\n'
                    '"choice.w_ban" = [0.0, 0.5, 1.0]\n')  # fmt: skip
    spec = load_spec(path)
    assert isinstance(spec, CalibrationSpec) and len(spec.grid) == 6
    assert spec.grid[1] == {"choice.w_follow": 1.0, "choice.w_ban": 0.5}
    path.write_text('[parameters]\n"choice.w_follow" = [-1.0]\n')
    with pytest.raises(ConfigError, match="choice.w_follow = -1.0 is not allowed"):
        load_spec(path)
    path.write_text('rounds = 3\n[parameters]\n"choice.w_follow" = [1.0]\n')
    with pytest.raises(ConfigError, match="unknown calibration key 'rounds'"):
        load_spec(path)


def test_mechanisms_switched_off_leave_shares_of_a_plain_run_unchanged_by_them():
    """With the ban and coordination weights at 0 the new state cannot act on the choice."""
    off = {
        **SMALL,
        "choice.w_ban": 0.0,
        "choice.w_follow": 0.0,
        "moderation.w_rejoin": 0.0,
        "moderation.max_backups": 0,
    }
    a = ms.run({**off, "moderation.ban_memory": 0.5, "moderation.w_ban_seen": 3.0}, seed=3,
               steps=40).arrays["primary"]  # fmt: skip
    b = ms.run(off, seed=3, steps=40).arrays["primary"]
    assert np.array_equal(a, b)
