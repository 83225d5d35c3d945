"""Migration dynamics after a shock: net flows, response times, destination shares."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

# ---------------------------------------------------------------------------------------------
# 7. Migration dynamics after a shock
# ---------------------------------------------------------------------------------------------


class MigrationResponse(NamedTuple):
    """Where migrants went after a shock, and how fast."""

    n_migrations: int
    """Primary-platform changes (a != b) in the window, counted as group-steps."""
    top_destination: int
    """Destination index receiving most migrations (K = dark); -1 without migrations."""
    top_destination_share: float
    """Share of migrations that went to the top destination."""
    split_share: float
    """``1 - top_destination_share``: share that went elsewhere."""
    n_destinations: int
    """Destinations receiving at least ``min_share`` of the migrations."""
    steps_to_50: float
    """Steps until the top destination reaches 50% of its final share gain (nan if never)."""
    steps_to_90: float
    """Steps until it reaches 90% of its final share gain (nan if never)."""
    net_flow: NDArray[np.int64]
    """(K+1, K+1) net flows over the window, see :func:`net_flows`."""


def _as_flows(flows: ArrayLike) -> NDArray[np.int64]:
    f = np.asarray(flows)
    if f.ndim != 3 or f.shape[1] != f.shape[2] or f.shape[1] < 2:
        raise ValueError(f"flows must have shape (T, K+1, K+1) with K >= 1, got shape {f.shape}")
    if f.size and not np.issubdtype(f.dtype, np.integer):
        raise ValueError(f"flows must hold integer counts, got dtype {f.dtype}")
    return f.astype(np.int64, copy=False)


def _check_window(start: int, stop: int, n_steps: int, *, horizon_name: str = "stop") -> None:
    if isinstance(start, bool) or not isinstance(start, int | np.integer):
        raise ValueError(f"shock_step must be an integer, got {start!r}")
    if not 0 <= start < n_steps:
        raise ValueError(f"shock_step must lie in [0, {n_steps - 1}] (T steps), got {start}")
    if not start < stop <= n_steps:
        raise ValueError(
            f"{horizon_name} must end the window after the shock and within the {n_steps} "
            f"recorded steps (at most {n_steps - start} steps from step {start}), got window "
            f"[{start}, {stop})"
        )


def net_flows(flows: ArrayLike, start: int, stop: int) -> NDArray[np.int64]:
    r"""Net flows between platforms over steps ``start .. stop-1``.

    Parameters
    ----------
    flows : array_like of int, shape (T, K+1, K+1)
        ``flows[t, a, b]`` groups whose primary went from a to b during step t; index K is "no
        platform" (dark).
    start, stop : int
        Window of steps, ``0 <= start < stop <= T``.

    Returns
    -------
    ndarray of int64, shape (K+1, K+1)
        :math:`F - F^T` with :math:`F = \sum_{t=start}^{stop-1} flows[t]`; entry (a, b) > 0
        means more groups moved from a to b than back. Antisymmetric, zero diagonal.

    Notes
    -----
    Time complexity: O((stop - start) K^2).
    """
    f = _as_flows(flows)
    _check_window(start, stop, f.shape[0], horizon_name="stop")
    total = f[start:stop].sum(axis=0)
    return total - total.T


def steps_to_fraction(series: ArrayLike, fraction: float) -> float:
    """Count the steps until a series has made a given fraction of its final gain.

    Parameters
    ----------
    series : array_like of float, shape (H+1,)
        Values at the baseline (index 0) and h = 1 .. H steps later.
    fraction : float
        In ``(0, 1]``.

    Returns
    -------
    float
        The smallest h >= 1 with ``series[h] - series[0] >= fraction * G`` where
        ``G = series[H] - series[0]`` (compared with a tolerance of 1e-12 so that exact
        fractions are reached); ``nan`` when ``G <= 0`` (no gain) or the series holds nan.

    Notes
    -----
    Time complexity: O(H).

    Examples
    --------
    >>> steps_to_fraction([0.1, 0.2, 0.4, 0.5, 0.5], 0.5)
    2.0
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction!r}")
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 1 or x.shape[0] < 2:
        raise ValueError(f"series must be 1-D with at least 2 values, got shape {x.shape}")
    if np.isnan(x).any():
        return math.nan
    gain = x - x[0]
    final = gain[-1]
    if not final > 0:
        return math.nan
    hit = np.flatnonzero(gain[1:] >= fraction * final - 1e-12 * max(1.0, abs(final)))
    return float(hit[0] + 1)


def migration_response(
    flows: ArrayLike,
    shares: ArrayLike,
    shock_step: int,
    horizon: int,
    *,
    source: int | None = None,
    min_share: float = 0.05,
) -> MigrationResponse:
    """Concentration and speed of migration in the steps after a shock.

    Parameters
    ----------
    flows : array_like of int, shape (T, K+1, K+1)
        ``flows[t, a, b]`` groups whose primary went from a to b during step t; index K means no
        platform (dark).
    shares : array_like of float, shape (T+1, K) or (T+1, K+1)
        Primary-platform shares; row t is the state before step t (row T the final state). An
        optional last column holds the dark share, needed for timing a move to dark.
    shock_step : int
        Step s at which the shock acts.
    horizon : int
        Window length H: steps ``s .. s+H-1`` are counted, ``s + H <= T``.
    source : int, optional
        Count only migrations leaving this platform (for example the shocked one).
    min_share : float, default 0.05
        Threshold for counting a destination in ``n_destinations``.

    Returns
    -------
    MigrationResponse
        Let ``M_b`` be the migrations (a != b) into b over the window and ``M = sum_b M_b``.
        ``top_destination = argmax_b M_b`` (lowest index on ties),
        ``top_destination_share = M_top / M`` and ``split_share = 1 - M_top / M``, both in
        ``[0, 1]`` (nan without migrations); ``n_destinations = #{b : M_b >= min_share M}``.
        ``steps_to_50`` / ``steps_to_90``: with ``g(h) = shares[s+h, top] - shares[s, top]``,
        the smallest ``h`` in ``1 .. H`` with ``g(h) >= 0.5 g(H)`` (resp. 0.9), see
        :func:`steps_to_fraction`; nan if the top destination gains nothing. ``net_flow`` is
        :func:`net_flows` over the window.

    Raises
    ------
    ValueError
        For inconsistent shapes, a shock step outside ``[0, T)`` or a window past the end.

    Notes
    -----
    A group that moves twice in the window counts twice. Flows from the dark state (a = K) are
    migrations too (unless ``source`` excludes them).

    Time complexity: O(H K^2).
    """
    f = _as_flows(flows)
    n_steps, k1, _ = f.shape
    k = k1 - 1
    sh = np.asarray(shares, dtype=np.float64)
    if sh.ndim != 2 or sh.shape[0] != n_steps + 1 or sh.shape[1] not in (k, k + 1):
        raise ValueError(
            f"shares must have shape ({n_steps + 1}, {k}) or ({n_steps + 1}, {k + 1}) to match "
            f"flows of shape {f.shape}, got shape {sh.shape}"
        )
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    _check_window(shock_step, shock_step + horizon, n_steps, horizon_name="horizon")
    if source is not None and not 0 <= source <= k:
        raise ValueError(f"source must lie in [0, {k}] (K = dark), got {source!r}")
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share must lie in (0, 1], got {min_share!r}")
    stop = shock_step + horizon
    total = f[shock_step:stop].sum(axis=0)
    moved = total.copy()
    np.fill_diagonal(moved, 0)
    if source is not None:
        moved = moved[[source], :]
    arrivals = moved.sum(axis=0)
    n_mig = int(arrivals.sum())
    if n_mig == 0:
        top, top_share, n_dest = -1, math.nan, 0
        t50 = t90 = math.nan
    else:
        top = int(np.argmax(arrivals))
        top_share = float(arrivals[top]) / n_mig
        n_dest = int(np.count_nonzero(arrivals >= min_share * n_mig))
        if top < sh.shape[1]:
            series = sh[shock_step : stop + 1, top]
            t50 = steps_to_fraction(series, 0.5)
            t90 = steps_to_fraction(series, 0.9)
        else:
            t50 = t90 = math.nan
    return MigrationResponse(
        n_migrations=n_mig,
        top_destination=top,
        top_destination_share=top_share,
        split_share=1.0 - top_share if n_mig else math.nan,
        n_destinations=n_dest,
        steps_to_50=t50,
        steps_to_90=t90,
        net_flow=total - total.T,
    )


class GroupMigration(NamedTuple):
    """Where the groups that left a source platform are, followed group by group."""

    n_migrants: int
    """Groups active before and after with the source as primary before and not after."""
    destinations: NDArray[np.int64]
    """(K+1,) migrants by primary platform after (index K: no primary, dark)."""
    top_destination: int
    """Platform holding most migrants as primary (-1 if none landed on a platform)."""
    top_destination_share: float
    """Share of the landed migrants (those with a primary after) on the top destination."""
    split_share: float
    """Share of the landed migrants present on two or more platforms they were not on before."""
    dark_share: float
    """Share of the migrants with no primary platform after (dark)."""


def group_migration(
    before: tuple[ArrayLike, ArrayLike, ArrayLike],
    after: tuple[ArrayLike, ArrayLike, ArrayLike],
    source: int,
) -> GroupMigration:
    """Destinations of the groups that left ``source``, from two per-group snapshots.

    Parameters
    ----------
    before, after : tuple of (member, primary, active)
        Presence (N, K) bool, primary platform (N,) int (-1: none) and active flags (N,) bool
        of the same groups at two times.
    source : int
        Index of the platform migrants leave.

    Returns
    -------
    GroupMigration
        Migrants: active at both times, primary ``source`` before, another primary (or none)
        after. A migrant with no primary after is dark whatever it still holds (the model
        guarantees that an active group without a primary holds no platform). Shares are
        nan when their denominator is 0.

    Raises
    ------
    ValueError
        For inconsistent shapes or a source outside ``[0, K)``.

    Examples
    --------
    >>> import numpy as np
    >>> m0 = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0]], bool)
    >>> m1 = np.array([[0, 1, 0], [0, 1, 1], [0, 0, 1]], bool)
    >>> r = group_migration((m0, [0, 0, 0], [1, 1, 1]), (m1, [1, 1, 2], [1, 1, 1]), 0)
    >>> r.top_destination, round(r.top_destination_share, 3), round(r.split_share, 3)
    (1, 0.667, 0.333)
    """
    m0, p0, a0 = (np.asarray(x) for x in before)
    m1, p1, a1 = (np.asarray(x) for x in after)
    if m0.ndim != 2 or m1.shape != m0.shape or not (p0.shape == p1.shape == a0.shape == a1.shape
                                                    == (m0.shape[0],)):  # fmt: skip
        raise ValueError(
            f"snapshots must be member (N, K), primary (N,), active (N,) of one shape; got "
            f"member {m0.shape} / {m1.shape}, primary {p0.shape} / {p1.shape}, active "
            f"{a0.shape} / {a1.shape}"
        )
    k = m0.shape[1]
    if isinstance(source, bool) or not 0 <= int(source) < k:
        raise ValueError(f"source must lie in [0, {k}), got {source!r}")
    mig = a0.astype(bool) & a1.astype(bool) & (p0 == source) & (p1 != source)
    dest = np.where(p1[mig] >= 0, p1[mig], k)
    counts = np.bincount(dest, minlength=k + 1).astype(np.int64)
    n_mig = int(mig.sum())
    landed = n_mig - int(counts[k])
    new_platforms = (m1[mig] & ~m0[mig].astype(bool)).sum(axis=1)
    n_split = int(((new_platforms >= 2) & (dest < k)).sum())
    top = int(np.argmax(counts[:k])) if landed else -1
    return GroupMigration(
        n_migrants=n_mig,
        destinations=counts,
        top_destination=top,
        top_destination_share=float(counts[top] / landed) if landed else math.nan,
        split_share=n_split / landed if landed else math.nan,
        dark_share=float(counts[k] / n_mig) if n_mig else math.nan,
    )
