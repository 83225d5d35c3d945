"""The outcome grammar: scalar measures of one run, computed from its time series.

A sweep records, for every run, a few scalars named by short expressions over the columns of
``Results.timeseries`` (one row per step, index ``step``)::

    outcome  :=  [ALIAS "="] measure
    measure  :=  REDUCER ":" COLUMN
              |  REDUCER "_" WINDOW ":" STEP ":" COLUMN
              |  "at:" STEP ":" COLUMN
    REDUCER  :=  final | initial | mean | median | min | max | sum | std | change
    WINDOW   :=  after (steps > STEP) | from (steps >= STEP)
              |  before (steps < STEP) | until (steps <= STEP)
    STEP     :=  a non-negative integer | "shock" (first shock step) | "shock"K (K-th, from 1)
    ALIAS    :=  a Python identifier, used as the outcome's column name

Without a window a reducer runs over every row (step 0, the initial state, to the last step).
``final`` and ``initial`` are the last and first value of the window, ``change`` is last minus
first, ``std`` is the population standard deviation (ddof 0). ``at:S:COL`` is the value at step
``S`` exactly. ``shock`` steps come from ``Results.shock_steps``, so a window can follow a shock
whose step is itself a swept parameter.

Examples
--------
>>> import pandas as pd
>>> ts = pd.DataFrame({"x": [0.0, 1.0, 4.0, 9.0]}, index=pd.Index(range(4), name="step"))
>>> parse_outcome("final:x").evaluate(ts)
9.0
>>> parse_outcome("mean_after:1:x").evaluate(ts)
6.5
>>> o = parse_outcome("gain = change_from:shock:x")
>>> o.name, o.evaluate(ts, shock_steps=[2])
('gain', 5.0)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from migration_sim.config.errors import ConfigError
from migration_sim.results.core import unknown_name_message

__all__ = ["Outcome", "OutcomeError", "parse_outcome", "evaluate_outcomes"]

REDUCERS = ("final", "initial", "mean", "median", "min", "max", "sum", "std", "change")
WINDOWS = ("after", "from", "before", "until")

_ALIAS = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?)\s*$")
_STEP = re.compile(r"^(?:\d+|shock\d*)$")


class OutcomeError(ConfigError):
    """An outcome expression is malformed or cannot be computed from a run's time series."""


@dataclass(frozen=True)
class Outcome:
    """One parsed outcome expression.

    Attributes
    ----------
    name
        Column name in the sweep summary: the alias if given, else the expression.
    expr
        The expression without its alias, e.g. ``"mean_after:shock:broken_tie_share"``.
    reducer
        One of :data:`REDUCERS`, or ``"at"``.
    column
        The time-series column it reads.
    window
        One of :data:`WINDOWS`, or ``None`` for the whole run (and for ``at``).
    step
        The window's (or ``at``'s) step: an int, or ``"shockK"`` resolved per run.
    """

    name: str
    expr: str
    reducer: str
    column: str
    window: str | None = None
    step: int | str | None = None

    def resolve_step(self, shock_steps: Sequence[int]) -> int:
        """Return this outcome's step as an int, looking up ``shock`` references.

        Raises
        ------
        OutcomeError
            If the outcome names a shock the run does not have.
        """
        if isinstance(self.step, int):
            return self.step
        k = int(self.step[len("shock") :] or 1)
        if k < 1 or k > len(shock_steps):
            raise OutcomeError(
                f"outcome {self.name!r} refers to {self.step!r} but the run has "
                f"{len(shock_steps)} shock step(s): {list(shock_steps)}"
            )
        return int(shock_steps[k - 1])

    def evaluate(self, timeseries: pd.DataFrame, shock_steps: Sequence[int] = ()) -> float:
        """Compute the outcome on one run's time series.

        Parameters
        ----------
        timeseries
            One row per step, indexed by step.
        shock_steps
            The run's shock steps, for ``shock`` references.

        Returns
        -------
        float
            The measure (NaN if the column holds NaN there).

        Raises
        ------
        OutcomeError
            If the column is missing, the step is absent or the window is empty.
        """
        if self.column not in timeseries.columns:
            raise OutcomeError(
                f"outcome {self.name!r} reads a column the time series lacks: "
                + unknown_name_message("column", self.column, sorted(map(str, timeseries.columns)))
            )
        values = timeseries[self.column].to_numpy(dtype=np.float64)
        steps = timeseries.index.to_numpy()
        if self.reducer == "at":
            step = self.resolve_step(shock_steps)
            hit = np.flatnonzero(steps == step)
            if hit.size == 0:
                raise OutcomeError(
                    f"outcome {self.name!r}: step {step} is not in the time series "
                    f"(steps {steps.min()}..{steps.max()})"
                )
            return float(values[hit[0]])
        if self.window is not None:
            step = self.resolve_step(shock_steps)
            mask = {
                "after": steps > step,
                "from": steps >= step,
                "before": steps < step,
                "until": steps <= step,
            }[self.window]
            values = values[mask]
            if values.size == 0:
                raise OutcomeError(
                    f"outcome {self.name!r}: no steps {self.window} step {step} "
                    f"(the run has steps {steps.min()}..{steps.max()})"
                )
        return float(_REDUCE[self.reducer](values))


_REDUCE: dict[str, Any] = {
    "final": lambda v: v[-1],
    "initial": lambda v: v[0],
    "mean": np.mean,
    "median": np.median,
    "min": np.min,
    "max": np.max,
    "sum": np.sum,
    "std": np.std,
    "change": lambda v: v[-1] - v[0],
}


def parse_outcome(text: str) -> Outcome:
    """Parse an outcome expression (see the module docstring for the grammar).

    Parameters
    ----------
    text
        For example ``"final:share.Telegram"`` or ``"loss = change_after:shock:share.Telegram"``.

    Returns
    -------
    Outcome

    Raises
    ------
    OutcomeError
        Naming the expression and what is allowed.
    """
    if not isinstance(text, str) or not text.strip():
        raise OutcomeError(f"outcome {text!r} is not allowed: expected a non-empty string")
    name = None
    expr = text.strip()
    match = _ALIAS.match(expr)
    if match:
        name, expr = match.group(1), match.group(2)
    head, sep, rest = expr.partition(":")
    if not sep or not rest:
        raise OutcomeError(
            f"outcome {text!r} is not allowed: expected REDUCER:COLUMN, "
            "REDUCER_WINDOW:STEP:COLUMN or at:STEP:COLUMN"
        )
    reducer, _, window = head.partition("_")
    if reducer != "at" and reducer not in REDUCERS:
        raise OutcomeError(
            f"outcome {text!r}: unknown reducer {reducer!r}; allowed: {', '.join(REDUCERS)}, at"
        )
    if window and (reducer == "at" or window not in WINDOWS):
        raise OutcomeError(
            f"outcome {text!r}: unknown window {head!r}; allowed suffixes: "
            f"{', '.join('_' + w for w in WINDOWS)} (not with 'at')"
        )
    step: int | str | None = None
    if reducer == "at" or window:
        step_text, sep, rest = rest.partition(":")
        if not sep or not rest or not _STEP.match(step_text):
            raise OutcomeError(
                f"outcome {text!r}: expected {head}:STEP:COLUMN with STEP a non-negative "
                f"integer, 'shock' or 'shockK'; got step {step_text!r}"
            )
        step = int(step_text) if step_text.isdigit() else step_text
        if step == "shock0":
            raise OutcomeError(f"outcome {text!r}: shocks count from 1 ('shock1' is the first)")
    return Outcome(
        name=name or expr,
        expr=expr,
        reducer=reducer,
        column=rest,
        window=window or None,
        step=step,
    )


def evaluate_outcomes(outcomes: Sequence[Outcome], results: Any) -> dict[str, float]:
    """Compute every outcome on one run's results.

    Parameters
    ----------
    outcomes
        Parsed outcomes.
    results
        An object with a ``timeseries`` DataFrame and, optionally, ``shock_steps``.

    Returns
    -------
    dict
        Outcome name to value.
    """
    shock_steps = list(getattr(results, "shock_steps", None) or ())
    return {o.name: o.evaluate(results.timeseries, shock_steps) for o in outcomes}
