"""Fuzzing the scenario and sweep-spec loaders: any file gives a result or a clear error.

Hypothesis writes TOML documents shaped like real ones (real section and key names mixed with
random ones, values of every TOML type including huge, negative, NaN and infinite numbers,
long strings, nested tables and lists) and raw byte strings. The property: the loader
returns, or raises one of the project's own errors with a bounded message, never anything
else (no TypeError, AttributeError, KeyError, ...).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import migration_sim as ms
from migration_sim.config.errors import MESSAGE_LIMIT, MigrationSimError
from migration_sim.sweep import load_sweep_spec
from migration_sim.sweep.spec import _SPEC_KEYS

CFG = ms.default_config().to_dict()
SECTION_KEYS = {k: sorted(v) for k, v in CFG.items() if isinstance(v, dict)}
SPEC_KEYS = list(_SPEC_KEYS)
CONFIG_PATHS = [f"{s}.{k}" for s, keys in SECTION_KEYS.items() for k in keys]

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=30),
    st.sampled_from(["Telegram", "Signal", "remove", "grid", "sobol", "final:n_active", ""]),
    st.text(min_size=2000, max_size=3000, alphabet="ab"),
)


def values(depth: int = 2) -> st.SearchStrategy[Any]:
    if depth == 0:
        return scalars
    inner = values(depth - 1)
    return st.one_of(
        scalars,
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=10), inner, max_size=4),
    )


def keyed(names: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(names), st.text(min_size=1, max_size=12))


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for section in draw(st.lists(keyed(sorted(CFG)), max_size=4, unique=True)):
        keys = SECTION_KEYS.get(section, ["x"])
        if section == "shocks":
            shock_keys = ["kind", "name", "start", "end", "platforms", "platform", "magnitude"]
            doc[section] = draw(
                st.one_of(
                    st.lists(st.dictionaries(keyed(shock_keys), values(1), max_size=6), max_size=3),
                    values(1),
                )
            )
        else:
            doc[section] = draw(
                st.one_of(st.dictionaries(keyed(keys), values(1), max_size=5), values(0))
            )
    return doc


@st.composite
def sweep_specs(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "outcomes": draw(
            st.one_of(
                st.lists(st.sampled_from(["final:n_active"]) | st.text(), max_size=3), values(0)
            )
        ),
        "parameters": draw(
            st.one_of(
                st.dictionaries(
                    keyed(CONFIG_PATHS),
                    st.one_of(
                        st.fixed_dictionaries(
                            {},
                            optional={
                                "values": st.lists(scalars, max_size=3),
                                "range": st.lists(scalars, max_size=3),
                                "log": values(0),
                                "integer": values(0),
                            },
                        ),
                        values(1),
                    ),
                    max_size=3,
                ),
                values(0),
            )
        ),
    }
    for key in draw(st.lists(keyed(SPEC_KEYS), max_size=5, unique=True)):
        if key == "design":
            doc[key] = draw(
                st.one_of(
                    st.fixed_dictionaries(
                        {"method": st.sampled_from(["grid", "random", "lhs", "sobol", "morris"])},
                        optional={"n": values(0), "levels": values(0), "second_order": values(0)},
                    ),
                    values(1),
                )
            )
        elif key == "model":
            doc[key] = draw(st.sampled_from(["migration_sim:run", "migration_sim"]) | values(0))
        else:
            doc[key] = draw(values(1))
    return doc


def _write(folder: Path, doc: dict[str, Any]) -> Path | None:
    path = folder / "f.toml"
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):  # not representable as TOML: nothing to load
        return None
    path.write_text(text, encoding="utf-8")
    return path


def _loads_or_fails_clearly(load: Any, path: Path) -> None:
    try:
        load(path)
    except MigrationSimError as exc:
        message = str(exc)
        assert 0 < len(message) <= MESSAGE_LIMIT + 60
    # anything else propagates and fails the test


@FUZZ
@given(doc=scenarios())
def test_scenario_loader_survives_any_toml(doc):
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), doc)
        if path is not None:
            _loads_or_fails_clearly(ms.load_scenario, path)


@FUZZ
@given(doc=sweep_specs())
def test_sweep_spec_loader_survives_any_toml(doc):
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), doc)
        if path is not None:
            _loads_or_fails_clearly(load_sweep_spec, path)


@FUZZ
@given(data=st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
def test_loaders_survive_any_bytes(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.toml"
        path.write_bytes(data)
        _loads_or_fails_clearly(ms.load_scenario, path)
        _loads_or_fails_clearly(load_sweep_spec, path)
