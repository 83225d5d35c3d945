"""Before/after fragmentation summary of a run around its shocks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

# ---------------------------------------------------------------------------------------------
# 8. Before/after summary
# ---------------------------------------------------------------------------------------------


def fragmentation_summary(
    timeseries: pd.DataFrame,
    shock_steps: Sequence[int],
    *,
    post_window: int,
    pre_window: int | None = None,
    measures: Sequence[str] | None = None,
    incomplete: Literal["nan", "clip", "raise"] = "nan",
    separate: bool = False,
) -> pd.DataFrame:
    """Tidy before/after table of measures around each shock.

    Parameters
    ----------
    timeseries : pandas.DataFrame
        One row per recorded step, indexed by step number (increasing, unique, integers; steps
        may be missing when measures are recorded every few steps), one column per measure.
    shock_steps : sequence of int
        Steps s at which shocks act (the row at step s already shows the shock's effect).
    post_window : int
        ``after`` is the value at step ``s + post_window``, or at the last recorded step in
        ``[s, s + post_window]`` when that step was not recorded. ``post_window >= 0``.
    pre_window : int, optional
        ``None``: ``before`` is the value at the last recorded step before s (step s-1 when
        every step is recorded). An integer w >= 1: the mean of the recorded values at steps
        ``s-w .. s-1`` (nan values skipped).
    measures : sequence of str, optional
        Columns to summarise; default all columns.
    incomplete : {"nan", "clip", "raise"}, default "nan"
        When ``s + post_window`` lies past the last recorded step: "nan" gives ``after = nan``,
        "clip" uses the last recorded step, "raise" raises ValueError.
    separate : bool, default False
        Keep the windows of different shocks apart, so that a change is credited to the shock
        in whose window it happened: the after window of a shock at s ends at the step before
        the next later shock step (``after`` is then read there when ``s + post_window`` lies
        beyond it, whatever ``incomplete`` says), and a ``pre_window`` mean starts no earlier
        than the previous shock step.

    Returns
    -------
    pandas.DataFrame
        Columns ``shock_step, measure, before, after, change, after_step`` with
        ``change = after - before`` and ``after_step`` the step whose value is ``after``
        (-1 when none), one row per (shock, measure), shocks in the given order.

    Raises
    ------
    ValueError
        For a negative shock step, a bad window, an unknown measure, a bad index, or an
        incomplete window with ``incomplete="raise"``.

    Notes
    -----
    A shock with no recorded step before it (for example at step 0) gets ``before = nan`` and
    ``change = nan``. Without ``separate``, shocks are treated one at a time and the window of
    one shock may contain the next shock.

    Time complexity: O(S M + S T) for S shocks, M measures and T recorded steps.

    Examples
    --------
    >>> ts = pd.DataFrame({"hhi_primary": [0.5, 0.5, 0.4, 0.3]}, index=[0, 1, 2, 3])
    >>> fragmentation_summary(ts, [2], post_window=1)
       shock_step      measure  before  after  change  after_step
    0           2  hhi_primary     0.5    0.3    -0.2           3
    >>> out = fragmentation_summary(ts, [1, 3], post_window=2, incomplete="clip", separate=True)
    >>> out[["shock_step", "after_step"]]
       shock_step  after_step
    0           1           2
    1           3           3
    """
    if not isinstance(timeseries, pd.DataFrame):
        raise ValueError(f"timeseries must be a pandas DataFrame, got {type(timeseries).__name__}")
    idx = timeseries.index
    if not pd.api.types.is_integer_dtype(idx.dtype):
        raise ValueError(
            f"timeseries must be indexed by integer steps, got index dtype {idx.dtype}"
        )
    if not (idx.is_monotonic_increasing and idx.is_unique):
        raise ValueError("timeseries index (steps) must be increasing and unique")
    if incomplete not in ("nan", "clip", "raise"):
        raise ValueError(f"incomplete must be 'nan', 'clip' or 'raise', got {incomplete!r}")
    if isinstance(post_window, bool) or not isinstance(post_window, int) or post_window < 0:
        raise ValueError(f"post_window must be a non-negative integer, got {post_window!r}")
    if pre_window is not None and (
        isinstance(pre_window, bool) or not isinstance(pre_window, int) or pre_window < 1
    ):
        raise ValueError(f"pre_window must be None or a positive integer, got {pre_window!r}")
    cols = list(timeseries.columns) if measures is None else list(measures)
    unknown = [c for c in cols if c not in timeseries.columns]
    if unknown:
        raise ValueError(
            f"unknown measure {unknown[0]!r} in measures; allowed: {list(timeseries.columns)}"
        )
    steps = idx.to_numpy(dtype=np.int64)
    values = timeseries[cols].to_numpy(dtype=np.float64)
    nan_row = np.full(len(cols), np.nan)
    last = int(steps[-1]) if steps.size else -1
    for s in shock_steps:
        if isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 0:
            raise ValueError(f"shock steps must be non-negative integers, got {s!r}")
    distinct = sorted({int(s) for s in shock_steps})
    rows = []
    for s in shock_steps:
        s = int(s)
        lo = s - 1 if pre_window is None else s - pre_window
        stop = None
        if separate:
            i = distinct.index(s)
            if pre_window is not None and i > 0:
                lo = max(lo, distinct[i - 1])
            stop = distinct[i + 1] - 1 if i + 1 < len(distinct) else None
        pre = (
            np.flatnonzero(steps < s)
            if pre_window is None
            else np.flatnonzero((steps >= lo) & (steps < s))
        )
        if pre.size == 0:
            before = nan_row
        elif pre_window is None:
            before = values[pre[-1]]
        else:
            with np.errstate(all="ignore"):
                before = np.array(
                    [np.nan if np.isnan(c).all() else np.nanmean(c) for c in values[pre].T]
                )
        end = s + post_window
        if stop is not None and end > stop:
            end = stop
        elif end > last:
            if incomplete == "raise":
                raise ValueError(
                    f"post window of shock at step {s} ends at step {end}, past the last "
                    f"recorded step {last}"
                )
            end = last if incomplete == "clip" else None
        after, after_step = nan_row, -1
        if end is not None:
            post = np.flatnonzero((steps >= s) & (steps <= end))
            if post.size:
                after, after_step = values[post[-1]], int(steps[post[-1]])
        for j, name in enumerate(cols):
            rows.append((s, name, before[j], after[j], after[j] - before[j], after_step))
    return pd.DataFrame(
        rows, columns=["shock_step", "measure", "before", "after", "change", "after_step"]
    )
