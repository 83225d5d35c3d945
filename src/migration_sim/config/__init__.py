"""Parameters and scenario files: the bottom layer, which imports nothing else of the package.

Modules
-------
``schema``     one frozen dataclass per section, the platform and crime-type specs, value checks
``shocks``     each shock kind's parameters, defaults and validation (what a shock *is*)
``catalogue``  platform and crime-type catalogue files and the shipped defaults
``overrides``  dotted-key and nested overrides
``keywords``   the model's keyword parameters (Mesa style) and the keys they set
``config``     :class:`Config`, its cross-field validation and :func:`default_config`
``scenario``   scenario TOML files: load, save, built-in scenarios
``files``      atomic file writes
``paramdoc``   the generated parameter reference (``docs/parameters.md``)

Examples
--------
>>> cfg = default_config().with_overrides({"choice.beta": 2})
>>> cfg.choice.beta
2.0
"""

from migration_sim.config.catalogue import load_catalogue
from migration_sim.config.config import Config, default_config
from migration_sim.config.keywords import MODEL_KEYWORDS, keyword_key, keyword_overrides
from migration_sim.config.overrides import flatten
from migration_sim.config.scenario import (
    DEFAULT_SCENARIO,
    builtin_scenario,
    builtin_scenario_names,
    load_scenario,
    resolve_scenario,
    save_scenario,
)
from migration_sim.config.schema import (
    SECTIONS,
    ChoiceConfig,
    ConfigError,
    CrimeTypeSpec,
    EnforcementConfig,
    GroupsConfig,
    MetricsConfig,
    ModerationConfig,
    NetworkConfig,
    PlatformSpec,
    RiskConfig,
    RunConfig,
    TiesConfig,
    allowed_text,
)

__all__ = [
    "DEFAULT_SCENARIO",
    "MODEL_KEYWORDS",
    "SECTIONS",
    "ChoiceConfig",
    "Config",
    "ConfigError",
    "CrimeTypeSpec",
    "EnforcementConfig",
    "GroupsConfig",
    "MetricsConfig",
    "ModerationConfig",
    "NetworkConfig",
    "PlatformSpec",
    "RiskConfig",
    "RunConfig",
    "TiesConfig",
    "allowed_text",
    "builtin_scenario",
    "builtin_scenario_names",
    "default_config",
    "flatten",
    "keyword_key",
    "keyword_overrides",
    "load_catalogue",
    "load_scenario",
    "resolve_scenario",
    "save_scenario",
]
