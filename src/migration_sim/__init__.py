"""migration_sim: cybercriminal groups migrating between messaging platforms under shocks.

Public entry points::

    import migration_sim as ms
    res = ms.run({"groups.n_groups": 2000}, seed=1, steps=365)
    res.timeseries            # one row per step
    model = ms.MigrationModel(ms.default_config(), rng=1)
    res = ms.run_scenario("telegram_2024", seed=1)   # a scenario file or built-in name
    cfg = ms.load_scenario("experiments/domino.toml")
"""

from importlib.metadata import PackageNotFoundError, version

from migration_sim.config import Config, ConfigError, default_config
from migration_sim.groups import CriminalGroup
from migration_sim.model import MigrationModel, run
from migration_sim.results import Results
from migration_sim.scenario import builtin_scenario, load_scenario, run_scenario, save_scenario

try:
    __version__ = version("migration_sim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "Config",
    "ConfigError",
    "CriminalGroup",
    "MigrationModel",
    "Results",
    "builtin_scenario",
    "default_config",
    "load_scenario",
    "run",
    "run_scenario",
    "save_scenario",
    "__version__",
]
