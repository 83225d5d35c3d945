"""Keyword parameters of the model, Mesa style: ``MigrationModel(n_groups=1000, beta=2.0)``.

Mesa's tools (``mesa.batch_run``, SolaraViz sliders) vary a model through keyword arguments.
The common parameters have short names (:data:`MODEL_KEYWORDS`); any other configuration key is
a keyword with ``__`` in place of each dot (``choice__p_revise=0.1``,
``shocks__arrest_news__magnitude=0.6``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from migration_sim.config.schema import ConfigError

__all__ = ["MODEL_KEYWORDS", "keyword_key", "keyword_overrides"]

#: The short keyword names and the dotted configuration key each one sets.
MODEL_KEYWORDS: dict[str, str] = {
    "n_groups": "groups.n_groups",
    "steps": "run.steps",
    "max_platforms": "groups.max_platforms",
    "mean_degree": "network.mean_degree",
    "within_type_share": "network.within_type_share",
    "p_triad": "network.p_triad",
    "beta": "choice.beta",
    "p_revise": "choice.p_revise",
    "w_reach": "choice.w_reach",
    "w_network": "choice.w_network",
    "w_popularity": "choice.w_popularity",
    "w_risk": "choice.w_risk",
    "w_switch": "choice.w_switch",
    "w_usability": "choice.w_usability",
    "w_follow": "choice.w_follow",
    "w_ban": "choice.w_ban",
    "w_attention": "choice.w_attention",
    "enforcement_intensity": "enforcement.intensity",
    "moderation_intensity": "moderation.intensity",
    "p_backup": "moderation.p_backup",
    "w_news": "risk.w_news",
    "metrics_every": "metrics.every",
}


def keyword_key(name: str) -> str:
    """The dotted configuration key that the keyword parameter ``name`` sets.

    Parameters
    ----------
    name : str
        A name from :data:`MODEL_KEYWORDS` (``n_groups``, ``beta``, ...) or any dotted key
        written with ``__`` for each dot (``platforms__Signal__disclosure``).

    Returns
    -------
    str
        The dotted key (checked when the override is applied by ``Config.with_overrides``).

    Raises
    ------
    ConfigError
        For a name that is neither a keyword nor a ``__`` key; the message lists the keywords
        and suggests the closest one.

    Examples
    --------
    >>> keyword_key("n_groups"), keyword_key("platforms__Tox__reach")
    ('groups.n_groups', 'platforms.Tox.reach')
    """
    if name in MODEL_KEYWORDS:
        return MODEL_KEYWORDS[name]
    if "__" in name:
        return name.replace("__", ".")
    close = difflib.get_close_matches(name, MODEL_KEYWORDS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ConfigError(
        f"unknown model parameter {name!r}{hint}; keyword parameters: "
        + ", ".join(MODEL_KEYWORDS)
        + "; any other config key as section__key, e.g. choice__p_revise"
    )


def keyword_overrides(params: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted-key overrides from keyword parameters (see :func:`keyword_key`).

    Examples
    --------
    >>> keyword_overrides({"n_groups": 500, "choice__p_revise": 0.1})
    {'groups.n_groups': 500, 'choice.p_revise': 0.1}
    """
    return {keyword_key(name): value for name, value in params.items()}
