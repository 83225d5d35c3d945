"""migration_sim: cybercriminal groups migrating between messaging platforms under shocks.

Public entry points::

    import migration_sim as ms
    res = ms.run({"groups.n_groups": 2000}, seed=1, steps=365)
    res.timeseries            # one row per step
    model = ms.MigrationModel(ms.default_config(), rng=1)
"""

from importlib.metadata import PackageNotFoundError, version

from migration_sim.config import Config, ConfigError, default_config
from migration_sim.groups import CriminalGroup
from migration_sim.model import MigrationModel, run
from migration_sim.results import Results

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
    "default_config",
    "run",
    "__version__",
]
