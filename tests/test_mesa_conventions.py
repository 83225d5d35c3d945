"""Mesa's conventions: keyword parameters, batch_run, the DataCollector, doctests."""

import doctest
import multiprocessing

import mesa
import numpy as np
import pandas as pd
import pytest
from mesa.experimental.scenarios import Scenario

import migration_sim.config.keywords
import migration_sim.model.model
from migration_sim import MigrationModel, builtin_scenario
from migration_sim.config import MODEL_KEYWORDS, ConfigError, default_config, keyword_overrides

SMALL_KW = {"n_groups": 300, "steps": 6, "run__warmup_steps": 10}
SMALL_DOTTED = {"groups.n_groups": 300, "run.steps": 6, "run.warmup_steps": 10}


def test_every_keyword_names_a_real_config_key():
    cfg = default_config()
    for name, key in MODEL_KEYWORDS.items():
        assert cfg.get(key) is not None, name
        assert keyword_overrides({name: 1}) == {key: 1}


def test_keyword_parameters_equal_the_dotted_config():
    by_kw = MigrationModel(**SMALL_KW, beta=2.0, choice__p_revise=0.2, rng=1)
    by_cfg = MigrationModel({**SMALL_DOTTED, "choice.beta": 2.0, "choice.p_revise": 0.2}, rng=1)
    assert by_kw.params == by_cfg.params
    by_kw.run()
    by_cfg.run()
    pd.testing.assert_frame_equal(by_kw.results.timeseries, by_cfg.results.timeseries)


def test_keywords_are_applied_after_the_config_dict():
    m = MigrationModel({**SMALL_DOTTED, "choice.beta": 0.5}, beta=3.0, w_risk=7.0, rng=1)
    assert (m.params.choice.beta, m.params.choice.w_risk) == (3.0, 7.0)
    assert m.params.groups.n_groups == 300


def test_unknown_keyword_suggests_the_closest_name():
    with pytest.raises(ConfigError, match=r"unknown model parameter 'n_group' \(did you mean "):
        MigrationModel(n_group=300)
    with pytest.raises(ConfigError, match="unknown config key 'choice.bogus'"):
        MigrationModel(choice__bogus=1.0)


def test_keyword_values_are_validated_like_config_values():
    with pytest.raises(ConfigError, match=r"groups\.n_groups = -5"):
        MigrationModel(n_groups=-5)


def test_scenario_name_starts_from_the_scenario_with_its_shocks():
    m = MigrationModel(
        scenario_name="takedown", n_groups=300, shocks__telegram_takedown__p_dark=0.3
    )
    expected = builtin_scenario("takedown")
    assert [s["name"] for s in m.params.shocks] == [s["name"] for s in expected.shocks]
    assert m.params.shocks[0]["p_dark"] == 0.3
    assert m.params.groups.n_groups == 300
    assert m.params.run.steps == expected.run.steps
    assert m.scenario_name == "takedown"
    with pytest.raises(ConfigError, match="cannot be combined with scenario_name"):
        MigrationModel(default_config(), scenario_name="takedown")
    with pytest.raises(ConfigError, match="scenario = 'nope' is not allowed"):
        MigrationModel(scenario_name="nope")


def test_mesa_scenario_carries_keywords_and_seed():
    m = MigrationModel(scenario=Scenario(rng=5, n_groups=300, beta=2.0, run__warmup_steps=10))
    direct = MigrationModel(n_groups=300, beta=2.0, run__warmup_steps=10, rng=5)
    assert m.params == direct.params
    assert m.scenario.n_groups == 300
    np.testing.assert_array_equal(m.population.primary, direct.population.primary)
    with pytest.raises(ConfigError, match="scenario_name="):
        MigrationModel(scenario="telegram_2024")


def test_datacollector_carries_every_recorded_column():
    m = MigrationModel(**SMALL_KW, rng=2)
    m.run()
    ts = m.results.timeseries
    df = m.datacollector.get_model_vars_dataframe()
    assert len(ts.columns) > 100
    pd.testing.assert_frame_equal(df, ts)
    assert list(m.datacollector.model_vars) == list(ts.columns)
    assert m.datacollector.model_vars["n_active"] == ts["n_active"].tolist()
    assert m.datacollector._collection_steps == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    with pytest.raises(AttributeError, match="recorded arrays"):
        m.datacollector.model_vars = {"x": [1]}


@pytest.fixture
def keep_start_method():
    """mesa.batch_run forces the 'spawn' start method for the whole process: restore it."""
    method = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(method, force=True)


def test_batch_run_varies_keyword_parameters(keep_start_method):
    rows = mesa.batch_run(
        MigrationModel,
        parameters={"n_groups": [300, 400], "steps": 4, "run__warmup_steps": 10},
        rng=[3],
        data_collection_period=1,
        display_progress=False,
    )
    df = pd.DataFrame(rows)
    assert sorted(df["n_groups"].unique()) == [300, 400]
    assert len(df) == 2 * 5  # two runs, initial state + 4 steps each
    shares = df.filter(regex="^share[.]")
    assert shares.shape[1] == len(default_config().platforms)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert (df["n_active"] <= df["n_groups"]).all()
    assert df["n_active"].iloc[0] == 300  # nobody removed before the first step
    # each row equals the same run made directly
    direct = MigrationModel(n_groups=400, steps=4, run__warmup_steps=10, rng=3)
    direct.run()
    got = df[df["n_groups"] == 400].set_index("Step")
    ts = direct.results.timeseries
    np.testing.assert_array_equal(got["share.Telegram"].to_numpy(), ts["share.Telegram"])
    np.testing.assert_array_equal(got["n_active"].to_numpy(), ts["n_active"])


@pytest.mark.parametrize("module", [migration_sim.model.model, migration_sim.config.keywords])
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
