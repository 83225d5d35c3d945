import math

import pytest

from migration_sim.config import Config, ConfigError, default_config


def test_defaults_validate_and_catalogue_is_complete():
    cfg = default_config()
    names = cfg.platform_names
    for required in (
        "Telegram",
        "Signal",
        "Session",
        "SimpleX",
        "Matrix",
        "Jabber",
        "Tox",
        "Discord",
        "WhatsApp",
    ):
        assert required in names
    assert math.isclose(sum(p.initial_share for p in cfg.platforms), 1.0)
    assert {"csam", "weapons", "drugs", "fraud", "ransomware"} <= set(cfg.crime_type_names)
    tg = cfg.platforms[names.index("Telegram")]
    # both the pre- and post-September-2024 values are in the catalogue
    assert tg.disclosure == 0.10
    assert tg.variants["post_sep_2024"]["disclosure"] == 0.55


def test_dotted_and_nested_overrides_agree():
    a = default_config().with_overrides({"network.mean_degree": 10, "platforms.Signal.reach": 0.5})
    b = default_config().with_overrides(
        {"network": {"mean_degree": 10}, "platforms": {"Signal": {"reach": 0.5}}}
    )
    assert a == b
    assert a.network.mean_degree == 10.0
    assert a.platforms[a.platform_names.index("Signal")].reach == 0.5


def test_round_trip_through_dict():
    cfg = default_config().with_overrides({"choice.beta": 2.0, "groups.n_groups": 123})
    again = Config.from_dict(cfg.to_dict())
    assert again == cfg


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        ({"choice.betta": 1.0}, r"unknown config key 'choice\.betta'"),
        ({"nosuch.x": 1}, r"unknown config section 'nosuch'"),
        ({"platforms.Foo.disclosure": 0.2}, r"unknown platform 'Foo'"),
        ({"crime_types.piracy.share": 0.2}, r"unknown crime type 'piracy'"),
        ({"choice.p_revise": 1.5}, r"choice\.p_revise = 1\.5 .*\[0, 1\]"),
        ({"platforms.Tox.reach": -0.1}, r"platforms\.Tox\.reach = -0\.1"),
        ({"groups.n_groups": -5}, r"groups\.n_groups = -5 .*integer >= 1"),
        ({"groups.n_groups": 2.5}, r"groups\.n_groups = 2\.5"),
        ({"risk.memory": float("nan")}, r"risk\.memory = nan"),
        ({"choice.beta": "high"}, r"choice\.beta = 'high'"),
        ({"enforcement.outcome": "jail"}, r"enforcement\.outcome = 'jail' .*'remove'"),
        ({"platforms.Telegram.initial_share": 0.9}, r"initial_share sum to"),
        ({"groups.max_platforms": 40}, r"groups\.max_platforms = 40 exceeds"),
        ({"metrics.monitored": ["Nope"]}, r"metrics\.monitored names unknown platform 'Nope'"),
        ({"network.within_type_share": 0.01}, r"network\.within_type_share = 0\.01 is below"),
        ({"run.start_date": "25/07/2024"}, r"run\.start_date = '25/07/2024' .*ISO date"),
        ({"run.start_date": "2024-02-30"}, r"run\.start_date = '2024-02-30'"),
        ({"run.start_date": 20240725}, r"run\.start_date = 20240725"),
    ],
)
def test_bad_config_names_field_and_value(overrides, pattern):
    with pytest.raises(ConfigError, match=pattern):
        default_config().with_overrides(overrides)


def test_start_date_takes_iso_text_or_a_toml_date():
    import datetime

    cfg = default_config()
    assert cfg.run.start_date == ""
    assert cfg.with_overrides({"run.start_date": "2024-07-25"}).run.start_date == "2024-07-25"
    toml_date = datetime.date(2024, 7, 25)  # what tomllib gives for start_date = 2024-07-25
    assert cfg.with_overrides({"run.start_date": toml_date}).run.start_date == "2024-07-25"


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_get_reads_dotted_keys():
    cfg = default_config()
    assert cfg.get("choice.beta") == cfg.choice.beta
    assert cfg.get("platforms.Tox.reach") == 0.05
    with pytest.raises(ConfigError, match="unknown config key 'choice.nope'"):
        cfg.get("choice.nope")


def test_new_platform_needs_every_attribute():
    with pytest.raises(ConfigError, match="missing: .*identifiability"):
        default_config().with_overrides({"platforms": {"Briar": {"disclosure": 0.0}}})


def test_parameter_reference_is_up_to_date():
    from pathlib import Path

    from migration_sim.config import flatten
    from migration_sim.config.paramdoc import parameters_markdown

    doc = (Path(__file__).parents[1] / "docs" / "parameters.md").read_text()
    assert doc == parameters_markdown(), "regenerate: python -m migration_sim.config.paramdoc"
    # every section key appears in the reference
    flat = flatten(
        {
            k: v
            for k, v in default_config().to_dict().items()
            if k not in ("platforms", "crime_types", "shocks")
        }
    )
    for key in flat:
        assert f"`{key}`" in doc, key


def test_variant_override_changes_only_that_attribute():
    base = default_config()
    tg = base.platform_names.index("Telegram")
    cfg = base.with_overrides({"platforms.Telegram.variants.post_sep_2024.disclosure": 0.8})
    before, after = base.platforms[tg].variants, cfg.platforms[tg].variants
    assert after["post_sep_2024"]["disclosure"] == 0.8
    assert {k: v for k, v in after["post_sep_2024"].items() if k != "disclosure"} == {
        k: v for k, v in before["post_sep_2024"].items() if k != "disclosure"
    }
    with pytest.raises(ConfigError, match=r"variants\.post_sep_2024\.disclosure"):
        base.with_overrides({"platforms.Telegram.variants.post_sep_2024.disclosure": 1.5})


def test_get_reads_shock_parameters_by_name():
    cfg = default_config().with_overrides(
        {"shocks": [{"kind": "salience", "name": "news", "start": 3, "platforms": ["Signal"]}]}
    )
    assert cfg.get("shocks.news.magnitude") == 0.5  # the kind's default, filled in
    assert cfg.get("shocks.news.platforms") == ["Signal"]
    assert [s["name"] for s in cfg.get("shocks")] == ["news"]
    with pytest.raises(ConfigError, match="unknown config key 'shocks.news.bogus'"):
        cfg.get("shocks.news.bogus")
