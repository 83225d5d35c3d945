"""Scenario files: loading errors, round trip, canonical experiments and stylised facts."""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from canonical import CANONICAL, EXPERIMENTS

import migration_sim
from migration_sim.config import (
    ConfigError,
    builtin_scenario,
    builtin_scenario_names,
    flatten,
    load_scenario,
    resolve_scenario,
    save_scenario,
)
from migration_sim.model.model import MigrationModel
from migration_sim.model.runner import replicate_seeds, run_scenario

PACKAGE_COPIES = Path(str(resources.files("migration_sim") / "data" / "scenarios"))
TELEGRAM_2024_SHOCKS = ["arrest_news", "disclosure_policy", "handover_news"]


def write(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ errors

BAD = [
    # (scenario text, substrings the message must hold: key, value, what is allowed)
    ("[groups]\nn_groups = -3\n", ["groups.n_groups", "-3", "integer >= 1"]),
    ('[choice]\nbeta = "high"\n', ["choice.beta", "'high'", "number >= 0"]),
    ('[run]\nstep_unit = "month"\n', ["run.step_unit", "'month'", "'day'", "'week'"]),
    ("[groups]\nn_gruops = 10\n", ["groups.n_gruops", "allowed keys", "n_groups"]),
    ("[weather]\nrain = 1\n", ["'weather'", "allowed", "groups"]),
    (
        "[platforms.Telegram]\ndisclosure = 1.5\n",
        ["platforms.Telegram.disclosure", "1.5", "[0, 1]"],
    ),
    ("[platforms.Telegram]\nfame = 0.5\n", ["platforms.Telegram.fame", "allowed", "disclosure"]),
    ("[platforms.MySpace]\ndisclosure = 0.5\n", ["'MySpace'", "known", "Telegram", "missing"]),
    ('[crime_types.fraud]\npriority = "max"\n', ["crime_types.fraud.priority", "'max'", "[0, 1]"]),
    (
        '[[shocks]]\nkind = "explode"\nname = "boom"\nstart = 3\n',
        ["shocks.boom.kind", "'explode'", "salience"],
    ),
    (
        '[[shocks]]\nkind = "salience"\nname = "news"\nstart = 3\nplatforms = ["Telegram"]\n'
        "magnitud = 0.5\n",
        ["shocks.news.magnitud", "allowed", "magnitude"],
    ),
    (
        '[[shocks]]\nkind = "salience"\nname = "news"\nstart = 3\nplatforms = ["Telegram"]\n'
        "magnitude = 2\n",
        ["shocks.news.magnitude", "2", "[0, 1]"],
    ),
    (
        '[[shocks]]\nkind = "takedown"\nname = "td"\nstart = 0\nplatform = "Telegram"\n',
        ["shocks.td.start", "0", ">= 1"],
    ),
    (
        '[[shocks]]\nkind = "takedown"\nname = "td"\nstart = 5\nplatform = "MySpace"\n',
        ["shocks.td.platform", "'MySpace'", "Telegram"],
    ),
    (
        '[[shocks]]\nkind = "disclosure_change"\nname = "dc"\nstart = 5\nplatform = "Signal"\n'
        'variant = "post_sep_2024"\n',
        ["shocks.dc.variant", "'post_sep_2024'", "variant of Signal"],
    ),
    ('[platforms]\ncatalogue = "nowhere.toml"\n', ["nowhere.toml", "not found"]),
    ('[network]\npath = "missing_graph.graphml"\n', ["network.path", "missing_graph.graphml"]),
    ("[groups\nn_groups = 3\n", ["invalid TOML"]),
]


@pytest.mark.parametrize(("text", "expected"), BAD, ids=[b[1][0] for b in BAD])
def test_load_errors_name_file_key_value_and_allowed(tmp_path, text, expected):
    path = write(tmp_path, text, "bad_scenario.toml")
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    for part in expected:
        assert part in message, f"{part!r} missing from: {message}"


def test_missing_file_names_the_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: scenario file not found"):
        load_scenario(path)


def test_unknown_scenario_name_lists_builtins():
    with pytest.raises(ConfigError) as info:
        resolve_scenario("telegram_2025")
    assert "'telegram_2025'" in str(info.value)
    assert "telegram_2024" in str(info.value)


def test_relative_catalogue_resolves_against_scenario_folder(tmp_path, monkeypatch):
    src = resources.files("migration_sim") / "data" / "platforms.toml"
    text = src.read_text(encoding="utf-8")
    text = text.replace('name = "Signal"\ndisclosure = 0.05', 'name = "Signal"\ndisclosure = 0.77')
    assert "disclosure = 0.77" in text
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "mine.toml").write_text(text, encoding="utf-8")
    path = write(tmp_path, '[platforms]\ncatalogue = "cats/mine.toml"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = load_scenario(path)
    assert cfg.platforms[cfg.platform_names.index("Signal")].disclosure == 0.77


# ------------------------------------------------------------------------------ round trip


def small(cfg, n=400):
    return cfg.with_overrides({"groups.n_groups": n})


def test_save_load_round_trip_gives_equal_config_and_identical_results(tmp_path):
    cfg = small(load_scenario(EXPERIMENTS / "domino.toml"))
    path = tmp_path / "resolved.toml"
    save_scenario(cfg, path, comment="round trip\nsecond line")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# round trip\n# second line\n")
    # every parameter is written, not only the overrides
    saved = flatten(tomllib.loads(text))
    assert set(saved) == set(flatten(cfg.to_dict()))
    assert saved["platforms.catalogue"] == "inline"
    again = load_scenario(path)
    assert again == cfg
    first = run_scenario(cfg, seed=11, steps=70)
    second = run_scenario(path, seed=11, steps=70)
    pd.testing.assert_frame_equal(first.timeseries, second.timeseries)
    pd.testing.assert_frame_equal(first.events, second.events)
    assert first.shock_log == second.shock_log
    assert [p for p in tmp_path.iterdir() if p.name != "resolved.toml"] == []


def test_save_rejects_non_config(tmp_path):
    with pytest.raises(TypeError, match="Config"):
        save_scenario({"groups": {"n_groups": 3}}, tmp_path / "x.toml")


# ------------------------------------------------------------------------------ running


def test_run_scenario_single_run_equals_the_model_with_that_seed():
    cfg = small(builtin_scenario("telegram_2024"))
    res = run_scenario(cfg, seed=5, steps=35)
    model = MigrationModel(cfg.with_overrides({"run.steps": 35}), rng=5)
    model.run(35)
    pd.testing.assert_frame_equal(res.timeseries, model.results.timeseries)
    assert res.seed == {"entropy": 5, "spawn_key": []}


def test_replicates_use_spawned_seeds_and_differ():
    cfg = small(builtin_scenario("baseline"))
    runs = run_scenario(cfg, seed=9, steps=10, replicates=3)
    assert isinstance(runs, list) and len(runs) == 3
    expected = np.random.SeedSequence(9).spawn(3)
    for res, ss in zip(runs, expected, strict=True):
        assert res.seed == {"entropy": 9, "spawn_key": list(ss.spawn_key)}
    assert not runs[0].timeseries.equals(runs[1].timeseries)
    assert [s.spawn_key for s in replicate_seeds(9, 3)] == [s.spawn_key for s in expected]
    with pytest.raises(ConfigError, match="replicates = 0"):
        replicate_seeds(9, 0)


def test_run_scenario_is_exported():
    assert migration_sim.run_scenario is run_scenario
    assert migration_sim.load_scenario is load_scenario
    assert {"run_scenario", "load_scenario", "save_scenario"} <= set(migration_sim.__all__)


# ------------------------------------------------------------------------------ canonical


def test_package_copies_are_identical_to_experiments():
    # experiments/ is the source; the package ships a byte-identical copy of each scenario
    shipped = sorted(p.name for p in PACKAGE_COPIES.glob("*.toml"))
    assert shipped == sorted(f"{n}.toml" for n in CANONICAL)
    for name in shipped:
        assert (EXPERIMENTS / name).read_bytes() == (PACKAGE_COPIES / name).read_bytes(), (
            f"src/migration_sim/data/scenarios/{name} differs from experiments/{name}: the "
            f"experiments/ file is the source; copy it over"
        )
    assert builtin_scenario_names() == sorted(CANONICAL)


SCHEDULE_LINE = re.compile(
    r"^#\s+(?P<name>\w+)\s+step (?P<start>\d+)(?:-(?P<end>\d+))?\s+(?P<date>\d{1,2} \w{3} \d{4})"
)


def header_schedule(path: Path) -> tuple[date, dict[str, tuple[int, int | None, date]]]:
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    day0 = re.search(r"step 0 = (\d{1,2} \w{3} \d{4})", "\n".join(header))
    assert day0, f"{path.name}: no 'step 0 = <date>' in the header"
    entries = {}
    for line in header:
        m = SCHEDULE_LINE.match(line)
        if m:
            end = int(m["end"]) if m["end"] else None
            when = datetime.strptime(m["date"], "%d %b %Y").date()
            entries[m["name"]] = (int(m["start"]), end, when)
    return datetime.strptime(day0[1], "%d %b %Y").date(), entries


@pytest.mark.parametrize("name", CANONICAL)
def test_canonical_experiment_loads_and_shocks_are_where_the_header_says(name):
    path = EXPERIMENTS / f"{name}.toml"
    text = path.read_text(encoding="utf-8")
    assert "Question" in text and "Sources" in text, f"{name}: header lacks question or sources"
    cfg = load_scenario(path)
    assert 2000 <= cfg.groups.n_groups <= 5000
    assert cfg.run.step_unit == "day" and cfg.run.steps == 365
    day0, schedule = header_schedule(path)
    actual = {s["name"]: (s["start"], s.get("end")) for s in cfg.shocks}
    assert {k: v[:2] for k, v in schedule.items()} == actual
    for shock, (start, _, when) in schedule.items():
        assert (when - day0).days == start, f"{name}: {shock} at step {start} is not {when}"


def test_telegram_2024_dates():
    day0, schedule = header_schedule(EXPERIMENTS / "telegram_2024.toml")
    assert day0 == date(2024, 7, 25)
    assert schedule["arrest_news"][2] == date(2024, 8, 24)
    assert schedule["disclosure_policy"][2] == date(2024, 9, 23)
    cfg = builtin_scenario("telegram_2024")
    kinds = {s["name"]: s for s in cfg.shocks}
    assert kinds["arrest_news"]["kind"] == "salience"
    assert kinds["disclosure_policy"]["variant"] == "post_sep_2024"
    assert kinds["handover_news"]["kind"] == "salience"
    assert builtin_scenario() == cfg  # the default scenario


@pytest.mark.parametrize("name", ["domino", "signal_session_cooperate"])
def test_derived_scenarios_keep_the_telegram_2024_shocks(name):
    base = builtin_scenario("telegram_2024")
    cfg = builtin_scenario(name)
    by_name = {s["name"]: s for s in cfg.shocks}
    for shock in base.shocks:
        assert by_name[shock["name"]] == shock
    assert base.with_overrides({"shocks": list(cfg.shocks)}).to_dict() == cfg.to_dict()


def test_domino_contagion_and_immune_platforms():
    cfg = builtin_scenario("domino")
    immune = {p.name for p in cfg.platforms if p.immune}
    assert immune == {"Session", "SimpleX", "Tox"}
    (contagion,) = [s for s in cfg.shocks if s["kind"] == "policy_contagion"]
    assert contagion["exclude"] == ["Telegram"]


def test_takedown_targets_the_largest_platform():
    cfg = builtin_scenario("takedown")
    largest = max(cfg.platforms, key=lambda p: p.initial_share).name
    assert [(s["kind"], s["platform"]) for s in cfg.shocks] == [("takedown", largest)]


def test_ban_wave_pair_differs_only_in_the_shock():
    weak, strong = builtin_scenario("ban_wave_weak"), builtin_scenario("ban_wave_strong")
    assert weak.with_overrides({"shocks": []}) == strong.with_overrides({"shocks": []})
    (w,), (s,) = weak.shocks, strong.shocks
    assert w["platform"] == s["platform"] == "Telegram"
    assert (w["mode"], s["mode"]) == ("once", "sustained")
    assert s["end"] > s["start"] and s["factor"] > 1


def test_signal_session_cooperate_raises_disclosure():
    cfg = builtin_scenario("signal_session_cooperate")
    extra = {s["platform"]: s["to"] for s in cfg.shocks if s["name"].endswith("_discloses")}
    assert set(extra) == {"Signal", "Session"}
    assert min(extra.values()) >= 0.5


# ------------------------------------------------------------------------------ stylised facts
# Seed 2024, the scenarios' own size (3000 groups, 365 days). See facts.md: no mass exodus
# (Telegram keeps the largest share), multi-homing rather than exit, the high-risk tail first.

HIGH_SEVERITY = ("csam", "weapons", "ransomware")


@pytest.fixture(scope="module")
def crn_pair():
    base = run_scenario("baseline", seed=2024)
    shocked = run_scenario("telegram_2024", seed=2024)
    return base, shocked


def telegram_share_by_type(res) -> dict[str, float]:
    k = res.platforms.index("Telegram")
    primary = res.arrays["primary_by_type"][-1]
    return dict(zip(res.crime_types, primary[:, k] / primary.sum(axis=1), strict=True))


def test_stylised_telegram_share_falls_against_baseline(crn_pair):
    base, shocked = crn_pair
    assert (
        base.timeseries["share.Telegram"].iloc[29] == shocked.timeseries["share.Telegram"].iloc[29]
    )
    assert shocked.final_shares()["Telegram"] < base.final_shares()["Telegram"]


def test_stylised_high_severity_types_fall_more_than_fraud(crn_pair):
    base, shocked = crn_pair
    b, s = telegram_share_by_type(base), telegram_share_by_type(shocked)
    relative_fall = {c: (b[c] - s[c]) / b[c] for c in b}
    for c in HIGH_SEVERITY:
        assert relative_fall[c] > relative_fall["fraud"], relative_fall


def test_stylised_telegram_keeps_the_largest_share(crn_pair):
    _, shocked = crn_pair
    assert shocked.final_shares().idxmax() == "Telegram"


def test_stylised_multihoming_rises(crn_pair):
    base, shocked = crn_pair
    ts = shocked.timeseries
    assert ts["share_multihoming"].iloc[-1] > ts["share_multihoming"].iloc[29]
    assert ts["share_multihoming"].iloc[-1] > base.timeseries["share_multihoming"].iloc[-1]
