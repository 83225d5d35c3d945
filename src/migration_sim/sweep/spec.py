"""Sweep specifications: what to vary, how to sample it, what to record.

A :class:`SweepSpec` is built from Python or read from TOML (:func:`load_sweep_spec`)::

    name = "telegram_sobol"
    scenario = "telegram_2024.toml"    # relative to this file; omit for the model defaults
    steps = 104                        # omit for the scenario's run.steps
    replicates = 2
    seed = 20240824                    # master seed of the whole sweep
    outcomes = ["final:share.Telegram", "tg_loss = change_from:shock:share.Telegram"]

    [fixed]                            # overrides applied to every run
    "groups.n_groups" = 1000

    [design]
    method = "sobol"                   # grid | random | lhs | sobol | morris
    n = 256                            # random/lhs: points; sobol: base N; morris: trajectories

    [parameters]
    "choice.beta" = { range = [0.5, 4.0] }
    "network.mean_degree" = { range = [4, 16], integer = true }
    "platforms.Signal.disclosure" = { range = [0.0, 0.5] }

A parameter has ``values`` (a list; categorical) or ``range = [low, high]`` (uniform, optionally
``log = true`` or ``integer = true``). Grids need values; Sobol and Morris need ranges; random
and Latin-hypercube designs take both. Every design point is run ``replicates`` times; run ``i``
is point ``i // replicates``, replicate ``i % replicates``.

Complexity: building the design is O(n_points x n_parameters).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from migration_sim.config.errors import ConfigError, InputFileError, echo, read_toml_file
from migration_sim.sweep.outcomes import Outcome, OutcomeError, parse_outcome

__all__ = [
    "DESIGNS",
    "RESERVED_COLUMNS",
    "Design",
    "Parameter",
    "SweepSpec",
    "SweepSpecError",
    "check_against_config",
    "load_sweep_spec",
]

DESIGNS = ("grid", "random", "lhs", "sobol", "morris")
RESERVED_COLUMNS = (
    "run_id",
    "point_id",
    "replicate",
    "seed_entropy",
    "seed_spawn_key",
    "status",
    "error",
    "traceback",
    "run_time",
)
SAMPLE_PREFIX = "sample:"
_DESIGN_STREAM = 0x5EED_DE51  # mixed into the master seed for the design's own random stream
_SPEC_KEYS = (
    "name",
    "scenario",
    "model",
    "steps",
    "replicates",
    "seed",
    "common_random_numbers",
    "outcomes",
    "save_timeseries",
    "fixed",
    "design",
    "parameters",
)
_PARAM_KEYS = ("values", "range", "log", "integer")


class SweepSpecError(ConfigError):
    """A sweep specification is invalid; the message names the field and the value."""


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)


def _native(x: Any) -> Any:
    """Turn numpy scalars into the Python scalars the config validator expects."""
    return x.item() if isinstance(x, np.generic) else x


def _values_dtype(path: str, values: Sequence[Any]) -> str:
    kinds = {type(v) for v in values}
    if kinds == {bool}:
        return "bool"
    if kinds == {str}:
        return "str"
    if kinds == {int}:
        return "int"
    if kinds <= {int, float}:
        return "float"
    raise SweepSpecError(
        f"parameters.{path!r}.values = {list(values)!r} mixes types; "
        "use numbers, strings or booleans of one kind"
    )


@dataclass(frozen=True)
class Parameter:
    """One swept config key and its values or range.

    Parameters
    ----------
    path
        Dotted config key, e.g. ``"choice.beta"``, ``"platforms.Signal.disclosure"`` or
        ``"shocks.<name>.<param>"``.
    values
        Discrete values (categorical; numbers, strings or booleans of one kind).
    range
        ``(low, high)`` with ``low < high``, sampled uniformly.
    log
        Sample the range uniformly in log space (needs ``low > 0``).
    integer
        Round sampled values to integers; each integer in ``[low, high]`` is equally likely.
    """

    path: str
    values: tuple[Any, ...] | None = None
    range: tuple[float, float] | None = None
    log: bool = False
    integer: bool = False

    def __post_init__(self) -> None:
        where = f"parameters.{self.path!r}"
        if not isinstance(self.path, str) or not self.path or ":" in self.path:
            raise SweepSpecError(
                f"parameter path {self.path!r} is not allowed: expected a dotted config key"
            )
        if self.path in RESERVED_COLUMNS:
            raise SweepSpecError(f"{where}: the name is reserved for a summary column")
        if (self.values is None) == (self.range is None):
            raise SweepSpecError(
                f"{where}: give exactly one of 'values' (a list) or 'range' ([low, high]); "
                f"got values={self.values!r}, range={self.range!r}"
            )
        if self.values is not None:
            if isinstance(self.values, str | bytes) or not isinstance(self.values, Sequence):
                raise SweepSpecError(f"{where}.values = {self.values!r}: expected a list")
            values = tuple(_native(v) for v in self.values)
            object.__setattr__(self, "values", values)
            if not values:
                raise SweepSpecError(f"{where}.values is empty; give at least one value")
            if len(set(values)) != len(values):
                raise SweepSpecError(f"{where}.values = {list(values)!r} has duplicates")
            if self.log or self.integer:
                raise SweepSpecError(f"{where}: 'log' and 'integer' apply to a range, not values")
            _values_dtype(self.path, values)
        else:
            r = self.range
            if (
                isinstance(r, str | bytes)
                or not isinstance(r, Sequence)
                or len(r) != 2
                or not all(_is_number(x) and math.isfinite(x) for x in r)
            ):
                raise SweepSpecError(f"{where}.range = {r!r}: expected [low, high], two numbers")
            lo, hi = (_native(x) for x in r)
            object.__setattr__(self, "range", (lo, hi))
            if not lo < hi:
                raise SweepSpecError(
                    f"{where}.range = [{lo}, {hi}] is empty: low must be below high"
                )
            if self.log and self.integer:
                raise SweepSpecError(f"{where}: choose 'log' or 'integer', not both")
            if self.log and lo <= 0:
                raise SweepSpecError(f"{where}.range = [{lo}, {hi}]: a log range needs low > 0")
            if self.integer and not (float(lo).is_integer() and float(hi).is_integer()):
                raise SweepSpecError(
                    f"{where}.range = [{lo}, {hi}]: an integer range needs integer bounds"
                )

    @property
    def dtype(self) -> str:
        """The value type: ``"float"``, ``"int"``, ``"bool"`` or ``"str"``."""
        if self.range is not None:
            return "int" if self.integer else "float"
        return _values_dtype(self.path, self.values)

    @property
    def bounds(self) -> tuple[float, float]:
        """Sampling bounds of a range: log-transformed if ``log``, widened by 0.5 if integer."""
        lo, hi = self.range
        if self.log:
            return math.log(lo), math.log(hi)
        if self.integer:
            return lo - 0.5, hi + 0.5
        return float(lo), float(hi)

    def from_sample(self, x: np.ndarray) -> list[Any]:
        """Map samples within :attr:`bounds` to parameter values (Python scalars)."""
        if self.log:
            x = np.exp(x)
        if self.integer:
            lo, hi = self.range
            return np.clip(np.rint(x), lo, hi).astype(np.int64).tolist()
        return np.asarray(x, dtype=np.float64).tolist()

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map uniform numbers in [0, 1) to parameter values (Python scalars)."""
        if self.values is not None:
            idx = np.minimum((u * len(self.values)).astype(np.int64), len(self.values) - 1)
            return [self.values[i] for i in idx]
        lo, hi = self.bounds
        return self.from_sample(lo + u * (hi - lo))

    def probe_values(self) -> list[Any]:
        """Values that exercise the parameter's extremes, for checking against the config."""
        if self.values is not None:
            return list(self.values)
        lo, hi = self.range
        if self.integer:
            return [int(lo), int(hi)]
        return [float(lo), float(hi)]

    def to_dict(self) -> dict[str, Any]:
        """Return the TOML table of this parameter."""
        out: dict[str, Any] = (
            {"values": list(self.values)}
            if self.values is not None
            else {"range": list(self.range)}
        )
        if self.log:
            out["log"] = True
        if self.integer:
            out["integer"] = True
        return out


@dataclass(frozen=True)
class Design:
    """How design points are drawn.

    Parameters
    ----------
    method
        ``"grid"`` (full factorial of the values), ``"random"`` (independent uniform),
        ``"lhs"`` (Latin hypercube), ``"sobol"`` (Saltelli's scheme via SALib) or ``"morris"``
        (elementary-effect trajectories via SALib).
    n
        random/lhs: number of points; sobol: base sample size N, a power of two (the design
        has N(D+2) points, N(2D+2) with second order); morris: number of trajectories (N(D+1)
        points). Not used by grids.
    second_order
        Sobol only: also estimate second-order indices.
    levels
        Morris only: number of grid levels (an even number >= 2 is recommended by SALib).
    """

    method: str = "grid"
    n: int | None = None
    second_order: bool = False
    levels: int = 4

    def __post_init__(self) -> None:
        if self.method not in DESIGNS:
            raise SweepSpecError(
                f"design.method = {self.method!r} is not allowed: expected one of "
                f"{', '.join(DESIGNS)}"
            )
        if self.method == "grid":
            if self.n is not None:
                raise SweepSpecError(
                    f"design.n = {self.n!r}: a grid's size is set by the parameter values; "
                    "remove 'n'"
                )
        elif isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 1:
            raise SweepSpecError(
                f"design.n = {self.n!r} is not allowed for method {self.method!r}: "
                "expected an integer >= 1"
            )
        if self.method == "sobol" and self.n & (self.n - 1):
            raise SweepSpecError(
                f"design.n = {self.n} is not allowed for method 'sobol': expected a power of "
                "two (Sobol' sequences converge only then)"
            )
        if self.method == "morris" and self.n < 2:
            raise SweepSpecError(f"design.n = {self.n}: Morris needs at least 2 trajectories")
        if isinstance(self.levels, bool) or not isinstance(self.levels, int) or self.levels < 2:
            raise SweepSpecError(f"design.levels = {self.levels!r}: expected an integer >= 2")
        if not isinstance(self.second_order, bool):
            raise SweepSpecError(f"design.second_order = {self.second_order!r}: expected a bool")

    def to_dict(self) -> dict[str, Any]:
        """Return the TOML table of this design."""
        out: dict[str, Any] = {"method": self.method}
        if self.n is not None:
            out["n"] = self.n
        if self.method == "sobol":
            out["second_order"] = self.second_order
        if self.method == "morris":
            out["levels"] = self.levels
        return out


@dataclass(frozen=True)
class SweepSpec:
    """A complete, validated sweep specification.

    Parameters
    ----------
    parameters
        The swept parameters, in design-column order.
    outcomes
        Outcome expressions (see :mod:`migration_sim.sweep.outcomes`).
    design
        The sampling design.
    replicates
        Runs per design point, each with its own seed.
    seed
        Master seed in ``[0, 2**63)``; run ``i`` uses ``SeedSequence(seed).spawn(n_runs)[i]``.
    scenario
        Base scenario TOML file, or ``None`` for the model defaults.
    steps
        Steps per run, or ``None`` for the base config's ``run.steps``.
    fixed
        Dotted-key overrides applied to every run (before the swept values).
    save_timeseries
        ``True`` to store every run's full time series, a list of columns to store only those,
        ``False`` for outcomes only.
    common_random_numbers
        If true, replicate ``r`` of every point uses seed child ``r`` (common random numbers
        across points, for sharper comparisons) instead of child ``i`` of the run index.
    model
        ``"module:function"`` of the run function; it is called as
        ``f(config, seed=SeedSequence, steps=steps)`` and returns an object with a
        ``timeseries`` DataFrame.
    name
        A label, used for the default output folder.
    """

    parameters: tuple[Parameter, ...]
    outcomes: tuple[str, ...]
    design: Design = field(default_factory=Design)
    replicates: int = 1
    seed: int = 0
    scenario: Path | None = None
    steps: int | None = None
    fixed: Mapping[str, Any] = field(default_factory=dict)
    save_timeseries: bool | tuple[str, ...] = False
    common_random_numbers: bool = False
    model: str = "migration_sim:run"
    name: str = "sweep"

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "outcomes", tuple(self.outcomes))
        if not self.parameters:
            raise SweepSpecError("parameters is empty; give at least one parameter to vary")
        for p in self.parameters:
            if not isinstance(p, Parameter):
                raise SweepSpecError(f"parameters: {p!r} is not a Parameter")
        paths = [p.path for p in self.parameters]
        dup = sorted({p for p in paths if paths.count(p) > 1})
        if dup:
            raise SweepSpecError(f"parameters: {dup} given more than once")
        self._check_design()
        if not self.outcomes:
            raise SweepSpecError("outcomes is empty; give at least one outcome expression")
        try:
            parsed = [parse_outcome(o) for o in self.outcomes]
        except OutcomeError as exc:
            raise SweepSpecError(f"outcomes: {exc}") from None
        names = [o.name for o in parsed]
        clash = sorted({n for n in names if names.count(n) > 1 or n in paths})
        clash += sorted(n for n in names if n in RESERVED_COLUMNS)
        if clash:
            raise SweepSpecError(
                f"outcomes: names {clash} clash with each other, a parameter or a reserved "
                f"column ({', '.join(RESERVED_COLUMNS)}); give an alias 'name = expression'"
            )
        name = self.name
        if not isinstance(name, str) or not 1 <= len(name) <= 100 or "/" in name or name[0] == ".":
            raise SweepSpecError(
                f"name = {echo(name)} is not allowed: expected 1 to 100 characters, not starting "
                "with '.' and without '/' (it names the default folder results/<name>)"
            )
        for key, value, low in (("replicates", self.replicates, 1), ("seed", self.seed, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise SweepSpecError(f"{key} = {value!r}: expected an integer >= {low}")
        if self.seed >= 2**63:
            raise SweepSpecError(f"seed = {self.seed}: expected a value below 2**63")
        if self.steps is not None and (
            isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1
        ):
            raise SweepSpecError(f"steps = {self.steps!r}: expected an integer >= 1 or omitted")
        if not isinstance(self.fixed, Mapping):
            raise SweepSpecError(f"fixed = {self.fixed!r}: expected a table of config overrides")
        fixed = _flatten_fixed(self.fixed)
        both = sorted(set(fixed) & set(paths))
        if both:
            raise SweepSpecError(f"fixed: {both} are also swept parameters; keep one")
        object.__setattr__(self, "fixed", fixed)
        ts = self.save_timeseries
        if not isinstance(ts, bool):
            if isinstance(ts, str) or not all(isinstance(c, str) for c in ts) or not ts:
                raise SweepSpecError(
                    f"save_timeseries = {ts!r}: expected true, false or a list of column names"
                )
            object.__setattr__(self, "save_timeseries", tuple(ts))
        if not isinstance(self.common_random_numbers, bool):
            raise SweepSpecError(
                f"common_random_numbers = {self.common_random_numbers!r}: expected a bool"
            )
        module, sep, attr = str(self.model).partition(":")
        if not module or not sep or not attr:
            raise SweepSpecError(f"model = {self.model!r}: expected 'module:function'")
        if self.scenario is not None:
            object.__setattr__(self, "scenario", Path(self.scenario))

    def _check_design(self) -> None:
        method = self.design.method
        for p in self.parameters:
            if method == "grid" and p.values is None:
                raise SweepSpecError(
                    f"parameters.{p.path!r} has range {list(p.range)} but design 'grid' needs "
                    "'values' for every parameter"
                )
            if method in ("sobol", "morris") and p.values is not None:
                raise SweepSpecError(
                    f"parameters.{p.path!r} has values {list(p.values)!r} but design "
                    f"{method!r} needs a numeric 'range' for every parameter"
                )
        if method == "sobol" and len(self.parameters) < 2:
            raise SweepSpecError("design 'sobol' needs at least 2 parameters")

    # ------------------------------------------------------------------ derived quantities
    @property
    def parsed_outcomes(self) -> tuple[Outcome, ...]:
        """The outcome expressions, parsed."""
        return tuple(parse_outcome(o) for o in self.outcomes)

    @property
    def n_points(self) -> int:
        """Number of design points."""
        d = len(self.parameters)
        n = self.design.n
        return {
            "grid": lambda: math.prod(len(p.values) for p in self.parameters),
            "random": lambda: n,
            "lhs": lambda: n,
            "sobol": lambda: n * (2 * d + 2 if self.design.second_order else d + 2),
            "morris": lambda: n * (d + 1),
        }[self.design.method]()

    @property
    def n_runs(self) -> int:
        """Number of runs: points times replicates."""
        return self.n_points * self.replicates

    def salib_problem(self) -> dict[str, Any]:
        """Return the SALib problem dict (names and sampling bounds) of a Sobol or Morris design."""
        return {
            "num_vars": len(self.parameters),
            "names": [p.path for p in self.parameters],
            "bounds": [list(p.bounds) for p in self.parameters],
        }

    def sample(self) -> pd.DataFrame:
        """Draw the design points, deterministically from the master seed.

        Returns
        -------
        pandas.DataFrame
            One row per point (index ``point_id``), one column per parameter path holding the
            values runs receive. Sobol and Morris designs add ``sample:<path>`` columns with
            the raw SALib sample (in sampling space: log or widened-integer), which the
            sensitivity analysis needs.
        """
        method = self.design.method
        params = self.parameters
        cols: dict[str, list[Any]] = {}
        ss = np.random.SeedSequence([self.seed, _DESIGN_STREAM])
        if method == "grid":
            rows = list(itertools.product(*(p.values for p in params)))
            for j, p in enumerate(params):
                cols[p.path] = [r[j] for r in rows]
        elif method in ("random", "lhs"):
            rng = np.random.default_rng(ss)
            if method == "random":
                unit = rng.random((self.design.n, len(params)))
            else:
                from scipy.stats import qmc

                unit = qmc.LatinHypercube(d=len(params), rng=rng).random(self.design.n)
            for j, p in enumerate(params):
                cols[p.path] = p.from_unit(unit[:, j])
        else:
            raw = self._salib_sample(int(ss.generate_state(1, np.uint32)[0]))
            for j, p in enumerate(params):
                cols[p.path] = p.from_sample(raw[:, j])
            for j, p in enumerate(params):
                cols[SAMPLE_PREFIX + p.path] = raw[:, j].tolist()
        frame = pd.DataFrame(
            {k: pd.Series(v, dtype=_PANDAS_DTYPE[self._dtype_of(k)]) for k, v in cols.items()}
        )
        frame.index = pd.RangeIndex(len(frame), name="point_id")
        return frame

    def _dtype_of(self, column: str) -> str:
        if column.startswith(SAMPLE_PREFIX):
            return "float"
        return next(p.dtype for p in self.parameters if p.path == column)

    def _salib_sample(self, seed: int) -> np.ndarray:
        problem = self.salib_problem()
        if self.design.method == "sobol":
            from SALib.sample import sobol

            return sobol.sample(
                problem, self.design.n, calc_second_order=self.design.second_order, seed=seed
            )
        from SALib.sample import morris

        return morris.sample(problem, self.design.n, num_levels=self.design.levels, seed=seed)

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """Return the spec as a TOML-serialisable dict (``from_dict`` reads it back)."""
        out: dict[str, Any] = {"name": self.name, "model": self.model}
        if self.scenario is not None:
            out["scenario"] = str(self.scenario)
        if self.steps is not None:
            out["steps"] = self.steps
        out |= {
            "replicates": self.replicates,
            "seed": self.seed,
            "common_random_numbers": self.common_random_numbers,
            "outcomes": list(self.outcomes),
            "save_timeseries": (
                self.save_timeseries
                if isinstance(self.save_timeseries, bool)
                else list(self.save_timeseries)
            ),
            "fixed": dict(self.fixed),
            "design": self.design.to_dict(),
            "parameters": {p.path: p.to_dict() for p in self.parameters},
        }
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base_dir: Path | None = None) -> SweepSpec:
        """Build a spec from a dict shaped like the TOML file.

        Parameters
        ----------
        data
            The spec tables (see the module docstring).
        base_dir
            Folder against which a relative ``scenario`` path resolves.

        Raises
        ------
        SweepSpecError
            For unknown keys or invalid values.
        """
        if not isinstance(data, Mapping):
            raise SweepSpecError(f"a sweep spec must be a table, got {type(data).__name__}")
        unknown = sorted(set(data) - set(_SPEC_KEYS))
        if unknown:
            raise SweepSpecError(
                f"unknown sweep spec key(s) {unknown}; allowed: {', '.join(_SPEC_KEYS)}"
            )
        for key in ("parameters", "outcomes"):
            if key not in data:
                raise SweepSpecError(f"the sweep spec lacks '{key}'")
        design = data.get("design", {})
        if not isinstance(design, Mapping):
            raise SweepSpecError(f"design = {design!r}: expected a table")
        bad = sorted(set(design) - {"method", "n", "second_order", "levels"})
        if bad:
            raise SweepSpecError(
                f"unknown design key(s) {bad}; allowed: method, n, second_order, levels"
            )
        outcomes = data["outcomes"]
        if isinstance(outcomes, str) or not isinstance(outcomes, Sequence):
            raise SweepSpecError(f"outcomes = {outcomes!r}: expected a list of expressions")
        scenario = data.get("scenario")
        if scenario is not None:
            if not isinstance(scenario, str | Path) or not str(scenario):
                raise SweepSpecError(
                    f"scenario = {echo(scenario)} is not allowed: expected the path of a "
                    "scenario file"
                )
            scenario = Path(scenario)
            if base_dir is not None and not scenario.is_absolute():
                scenario = (base_dir / scenario).resolve()
        kwargs = {k: data[k] for k in _SPEC_KEYS if k in data}
        kwargs |= {
            "parameters": _parse_parameters(data["parameters"]),
            "design": Design(**design),
            "outcomes": tuple(outcomes),
            "scenario": scenario,
        }
        return cls(**kwargs)


_PANDAS_DTYPE = {"float": "float64", "int": "int64", "bool": "bool", "str": "object"}


def _parse_parameters(table: Any) -> list[Parameter]:
    if not isinstance(table, Mapping):
        raise SweepSpecError(f"parameters = {table!r}: expected a table keyed by config path")
    out = []
    for path, entry in _flatten_parameters(table).items():
        if isinstance(entry, Sequence) and not isinstance(entry, str):
            entry = {"values": entry}
        if not isinstance(entry, Mapping):
            raise SweepSpecError(
                f"parameters.{path!r} = {entry!r}: expected a list of values or a table with "
                "'values' or 'range'"
            )
        bad = sorted(set(entry) - set(_PARAM_KEYS))
        if bad:
            raise SweepSpecError(
                f"parameters.{path!r}: unknown key(s) {bad}; allowed: {', '.join(_PARAM_KEYS)}"
            )
        values = entry.get("values")
        rng = entry.get("range")
        out.append(
            Parameter(
                path=path,
                values=tuple(values) if isinstance(values, list) else values,
                range=tuple(rng) if isinstance(rng, list) else rng,
                log=entry.get("log", False),
                integer=entry.get("integer", False),
            )
        )
    return out


def _flatten_parameters(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten TOML-nested keys (``choice.beta = {...}`` unquoted) to dotted paths."""
    out: dict[str, Any] = {}
    for key, entry in table.items():
        path = prefix + str(key)
        if isinstance(entry, Mapping) and entry and not set(entry) & set(_PARAM_KEYS):
            out.update(_flatten_parameters(entry, path + "."))
        else:
            out[path] = entry
    return out


def _flatten_fixed(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = prefix + str(key)
        if isinstance(value, Mapping) and value:
            out.update(_flatten_fixed(value, path + "."))
        else:
            out[path] = _native(value)
    return out


def load_sweep_spec(path: str | Path) -> SweepSpec:
    """Read a sweep spec TOML file.

    Parameters
    ----------
    path
        The file; a relative ``scenario`` in it resolves against the file's folder.

    Returns
    -------
    SweepSpec

    Raises
    ------
    SweepSpecError
        If the file is missing, is not valid TOML or holds an invalid spec (the message starts
        with the file name).
    """
    if not isinstance(path, str | Path):
        raise SweepSpecError(f"sweep spec = {echo(path)} is not allowed: expected a file path")
    path = Path(path)
    try:
        data = read_toml_file(path, "sweep spec file")
    except InputFileError as exc:
        raise SweepSpecError(str(exc)) from None
    try:
        return SweepSpec.from_dict({"name": path.stem, **data}, base_dir=path.parent)
    except SweepSpecError as exc:
        raise SweepSpecError(f"{path}: {exc}") from None


def check_against_config(spec: SweepSpec, base: Any) -> None:
    """Check every swept path and value against the model's config schema.

    Each parameter's values (or both ends of its range) are applied, together with ``fixed``,
    through ``base.with_overrides``, so unknown paths and out-of-range values fail before any
    run starts.

    Parameters
    ----------
    spec
        The sweep.
    base
        The base :class:`migration_sim.config.Config` (scenario or defaults).

    Raises
    ------
    SweepSpecError
        Naming the parameter, the value and the config's reason.
    """
    try:
        base.with_overrides(dict(spec.fixed))
    except ValueError as exc:
        raise SweepSpecError(f"fixed: {exc}") from None
    for p in spec.parameters:
        for value in p.probe_values():
            try:
                base.with_overrides({**spec.fixed, p.path: value})
            except ValueError as exc:
                raise SweepSpecError(
                    f"parameters.{p.path!r}: value {value!r} is rejected by the model config: {exc}"
                ) from None
