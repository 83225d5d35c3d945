"""Generate ``docs/parameters.md`` from the configuration schema.

Run ``python -m migration_sim.config.paramdoc > docs/parameters.md``; a test checks that the file is
up to date, so every key's meaning, default, range and source stay documented.
"""

from __future__ import annotations

from dataclasses import MISSING, fields

from migration_sim.config.config import default_config
from migration_sim.config.keywords import MODEL_KEYWORDS
from migration_sim.config.schema import SECTIONS, CrimeTypeSpec, PlatformSpec, allowed_text

__all__ = ["parameters_markdown"]


def _rows(cls: type, prefix: str) -> list[str]:
    out = []
    for f in fields(cls):
        if not f.metadata:
            continue
        if f.default is not MISSING:
            default = f.default
        elif f.default_factory is not MISSING:
            default = f.default_factory()
        else:
            default = ""
        meta = f.metadata
        out.append(
            f"| `{prefix}{f.name}` | {meta['doc']} | `{default!r}` | {allowed_text(meta)} "
            f"| {meta['source']} |"
        )
    return out


def parameters_markdown() -> str:
    """The parameter reference as Markdown text."""
    lines = [
        "# Parameter reference",
        "",
        "Generated from the schema in `src/migration_sim/config/schema.py` by",
        "`python -m migration_sim.config.paramdoc > docs/parameters.md`; do not edit by hand.",
        "Every key can be set in a scenario file (`[section]` tables) or as a dotted override,",
        'e.g. `{"choice.beta": 2.0}`. One step is one `run.step_unit` (a day by default).',
        "",
    ]
    lines += [
        "## Keyword parameters of `MigrationModel`",
        "",
        "Mesa style: `MigrationModel(n_groups=1000, beta=2.0)`; so `mesa.batch_run(MigrationModel,",
        'parameters={"n_groups": [500, 1000]})` and SolaraViz sliders work. These short names',
        "set the key beside them; any other key is a keyword with `__` for each dot",
        "(`choice__p_revise=0.1`, `shocks__arrest_news__magnitude=0.6`). Keywords are applied",
        "after `config` and the scenario (`scenario_name=`).",
        "",
        "| keyword | key |",
        "| --- | --- |",
        *[f"| `{name}` | `{key}` |" for name, key in MODEL_KEYWORDS.items()],
        "",
    ]
    header = ["| key | meaning | default | allowed | source |", "| --- | --- | --- | --- | --- |"]
    for name, cls in SECTIONS.items():
        lines += [f"## `[{name}]`", "", (cls.__doc__ or "").strip(), "", *header]
        lines += _rows(cls, f"{name}.")
        lines.append("")
    cfg = default_config()
    lines += [
        "## `[platforms]`",
        "",
        'The catalogue (`platforms.catalogue = "default"`, `"inline"` or a TOML path) and',
        "per-platform attributes, e.g. `platforms.Signal.disclosure`. Defaults are in",
        "`src/migration_sim/data/platforms.toml`; sources in the table after the values. How each",
        "attribute enters the equations: docs/model.md (disclosure and identifiability: exposure;",
        "reach: utility and visibility; usability: utility; moderation: bans; e2ee: descriptive).",
        "",
        *header,
        *_rows(PlatformSpec, "platforms.<name>."),
        "",
        "| platform | disclosure | identifiability | e2ee | reach | usability | moderation "
        "| initial_share | immune |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for p in cfg.platforms:
        lines.append(
            f"| {p.name} | {p.disclosure} | {p.identifiability} | {p.e2ee} | {p.reach} "
            f"| {p.usability} | {p.moderation} | {p.initial_share} | {p.immune} |"
        )
        for vname, attrs in p.variants.items():
            vals = ", ".join(f"{k} = {v}" for k, v in attrs.items() if k != "sources")
            lines.append(f"| {p.name} (`{vname}`) | {vals} | | | | | | | |")
    lines += [
        "",
        "| platform | sources (judgement where not stated; see shared/research) |",
        "| --- | --- |",
    ]
    for p in cfg.platforms:
        lines.append(f"| {p.name} | {p.sources} |")
        for vname, attrs in p.variants.items():
            lines.append(f"| {p.name} (`{vname}`) | {attrs.get('sources', '')} |")
    lines += [
        "",
        "## `[crime_types]`",
        "",
        "Per-type attributes, e.g. `crime_types.csam.priority`. Defaults in",
        "`src/migration_sim/data/crime_types.toml` (from shared research, groups.md).",
        "",
        *header,
        *_rows(CrimeTypeSpec, "crime_types.<name>."),
        "",
        "| crime type | share | priority | reach_need | sophistication | risk_aversion |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in cfg.crime_types:
        lines.append(
            f"| {c.name} | {c.share} | {c.priority} | {c.reach_need} | {c.sophistication} "
            f"| {c.risk_aversion} |"
        )
    lines += ["", "| crime type | sources |", "| --- | --- |"]
    lines += [f"| {c.name} | {c.sources} |" for c in cfg.crime_types]
    lines += [
        "",
        "## `[[shocks]]`",
        "",
        "A list of shock tables (`kind`, `name`, `start`, optional `end`, kind-specific",
        "parameters). See docs/scenarios.md and the docstrings in",
        "`src/migration_sim/config/shocks.py`.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(parameters_markdown(), end="")
