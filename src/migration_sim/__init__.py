"""migration_sim: cybercriminal groups migrating between messaging platforms under shocks.

Public entry points::

    import migration_sim as ms
    res = ms.run({"groups.n_groups": 2000}, seed=1, steps=365)
    res.timeseries            # one row per step
    model = ms.MigrationModel(ms.default_config(), rng=1)
    res = ms.run_scenario("telegram_2024", seed=1)   # a scenario file or built-in name
    cfg = ms.load_scenario("experiments/domino.toml")
    ms.metrics.effective_number([50, 30, 20])       # the measures, as plain functions

The package is layered; each sub-package imports only from the ones below it (see
``docs/architecture.md``)::

    cli  ->  sweep  ->  model  ->  results  ->  metrics  ->  config
"""

from migration_sim import _compat, metrics
from migration_sim.config import (
    Config,
    ConfigError,
    builtin_scenario,
    default_config,
    load_scenario,
    save_scenario,
)
from migration_sim.model import CriminalGroup, MigrationModel, run, run_scenario
from migration_sim.model.threads import set_wait_policy
from migration_sim.results import Results
from migration_sim.results.provenance import package_version

__version__ = package_version()

set_wait_policy()  # numba loads its OpenMP layer at the first parallel region, not at import

_compat.install()

__all__ = [
    "Config",
    "ConfigError",
    "CriminalGroup",
    "MigrationModel",
    "Results",
    "builtin_scenario",
    "default_config",
    "load_scenario",
    "metrics",
    "run",
    "run_scenario",
    "save_scenario",
    "__version__",
]
