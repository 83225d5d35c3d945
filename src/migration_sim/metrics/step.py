"""Every per-step measure in one call, with a numpy path and a compiled numba path."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

try:  # numba is an optional accelerator: every measure has a numpy implementation.
    import numba
except ImportError:  # pragma: no cover - exercised only where numba is absent
    numba = None

from migration_sim.metrics.broken_ties import _degrees, _ratio, _weighted_ratio, platform_bits
from migration_sim.metrics.components import (
    _platform_summary,
    communication_components,
    platform_components,
)
from migration_sim.metrics.concentration import (
    concentration,
    primary_counts,
    primary_counts_by_type,
)
from migration_sim.metrics.coverage import (
    _as_monitored,
    _first_seen,
    _mask_to_bits,
    _severity_share,
)
from migration_sim.metrics.inputs import (
    Backend,
    _as_bool_vector,
    _as_edges,
    _as_float_vector,
    _as_int_vector,
    _as_membership,
    _check_range,
    _resolve_backend,
)
from migration_sim.metrics.modularity import _modularity_from_counts
from migration_sim.metrics.step_kernels import (
    _nb_component_pass,
    _nb_node_pass,
    _nb_split_degrees,
    _nb_tie_pass,
    _nb_union_pass,
)

# ---------------------------------------------------------------------------------------------
# 9. Snapshot: every per-step measure in one call
# ---------------------------------------------------------------------------------------------

_BASE_COLUMNS = (
    "n_active",
    "dark_share",
    "hhi_primary",
    "effective_platforms_primary",
    "entropy_primary",
    "hhi_presence",
    "effective_platforms_presence",
    "entropy_presence",
    "broken_tie_share",
    "broken_tie_share_weighted",
    "comm_giant_share",
    "comm_n_components",
    "comm_mean_component_size",
    "modularity_primary",
    "coverage_groups",
    "coverage_ties",
    "coverage_severity",
)


def _platform_labels(platform_names: Sequence[str] | None, k: int) -> list[str]:
    if platform_names is None:
        return [str(i) for i in range(k)]
    names = [str(x) for x in platform_names]
    if len(names) != k:
        raise ValueError(f"platform_names must hold K={k} names, got {len(names)}: {names}")
    return names


def snapshot_columns(
    platform_names: Sequence[str] | int, crime_type_names: Sequence[str] | None = None
) -> list[str]:
    """Names of the values :func:`snapshot` returns, in order.

    Parameters
    ----------
    platform_names : sequence of str or int
        Platform names, or K (names then default to ``"0" .. "K-1"``).
    crime_type_names : sequence of str, optional
        Crime-type names, when per-type measures are requested.

    Returns
    -------
    list of str
        ``n_active, dark_share, hhi_primary, effective_platforms_primary, entropy_primary,
        hhi_presence, effective_platforms_presence, entropy_presence, broken_tie_share,
        broken_tie_share_weighted, comm_giant_share, comm_n_components,
        comm_mean_component_size, modularity_primary, coverage_groups, coverage_ties,
        coverage_severity``, then ``giant_share.<platform>`` for each platform,
        ``coverage_top.1`` .. ``coverage_top.K`` (:func:`coverage_curve`), then (with
        crime types) ``hhi_primary.<type>``, ``effective_platforms_primary.<type>`` and
        ``entropy_primary.<type>`` for each type.

    Notes
    -----
    The list depends only on the names, so results arrays can be preallocated from it.
    Time complexity: O(K + C).

    Examples
    --------
    >>> snapshot_columns(["Telegram", "Signal"])[-4:-2]
    ['giant_share.Telegram', 'giant_share.Signal']
    """
    if isinstance(platform_names, int | np.integer):
        names = _platform_labels(None, int(platform_names))
    else:
        names = _platform_labels(platform_names, len(platform_names))
    cols = list(_BASE_COLUMNS) + [f"giant_share.{p}" for p in names]
    cols += [f"coverage_top.{r + 1}" for r in range(len(names))]
    if crime_type_names is not None:
        for measure in ("hhi_primary", "effective_platforms_primary", "entropy_primary"):
            cols += [f"{measure}.{t}" for t in crime_type_names]
    return cols


class _Counts(NamedTuple):
    """Integer results both backends compute; floats are derived from them by shared code."""

    n_active: int
    n_dark: int
    primary: NDArray[np.int64]
    presence: NDArray[np.int64]
    primary_by_type: NDArray[np.int64] | None
    n_ties: int
    n_broken: int
    deg_tie: NDArray[np.int64]
    deg_broken: NDArray[np.int64]
    comm_n_components: int
    comm_giant: int
    plat_n_components: NDArray[np.int64]
    plat_giant: NDArray[np.int64]
    mod_inside: NDArray[np.int64]
    mod_degree: NDArray[np.int64]
    mod_edges: int
    covered: NDArray[np.bool_]
    n_covered: int
    n_visible: int
    first_seen: NDArray[np.int64]


def _counts_numpy(
    m: NDArray[np.bool_],
    act: NDArray[np.bool_],
    primary: NDArray[np.int64],
    u: NDArray[np.int64],
    v: NDArray[np.int64],
    mon_bits: int,
    crime_type: NDArray[np.int64] | None,
    n_types: int,
) -> _Counts:
    n, k = m.shape
    _check_range(primary, "primary", -1, k)
    if crime_type is not None:
        _check_range(crime_type, "crime_type", 0, n_types)
    u, v = _as_edges(u, v, n)
    bits = platform_bits(m, act)
    tie = act[u] & act[v]
    shared = bits[u] & bits[v]
    brk = tie & (shared == 0)
    covered = (bits & mon_bits) != 0
    prim = primary_counts(primary, act, k)
    by_type = (
        primary_counts_by_type(primary, act, crime_type, n_types, k)
        if crime_type is not None
        else None
    )
    comm = communication_components(m, act, u, v)
    plat = platform_components(m, act, u, v)
    lab = np.where(act, primary, -1)
    keep = (lab[u] >= 0) & (lab[v] >= 0)
    lu, lv = lab[u[keep]], lab[v[keep]]
    return _Counts(
        n_active=int(np.count_nonzero(act)),
        n_dark=int(np.count_nonzero(act & (bits == 0))),
        primary=prim,
        presence=plat.n_present,
        primary_by_type=by_type,
        n_ties=int(np.count_nonzero(tie)),
        n_broken=int(np.count_nonzero(brk)),
        deg_tie=_degrees(u, v, tie, n),
        deg_broken=_degrees(u, v, brk, n),
        comm_n_components=comm.n_components,
        comm_giant=comm.giant_size,
        plat_n_components=plat.n_components,
        plat_giant=plat.giant_size,
        mod_inside=np.bincount(lu[lu == lv], minlength=k).astype(np.int64),
        mod_degree=(np.bincount(lu, minlength=k) + np.bincount(lv, minlength=k)).astype(np.int64),
        mod_edges=int(lu.shape[0]),
        covered=covered,
        n_covered=int(np.count_nonzero(covered)),
        n_visible=int(np.count_nonzero(tie & ((shared & mon_bits) != 0))),
        first_seen=_first_seen(m, act, np.argsort(-plat.n_present, kind="stable")),
    )


def _n_chunks(n_items: int) -> int:
    """Chunks for the parallel passes: one per numba thread (at most 8), one for small inputs."""
    if n_items < 20_000:
        return 1
    return max(1, min(numba.get_num_threads(), 8))


class _Workspace(threading.local):
    """Work arrays of the numba kernels, kept per thread and reused from call to call.

    A snapshot at 100,000 groups needs about 10 MB of temporaries; allocating them afresh at
    every step cost 2-3 ms in page faults (a fresh mapping is zeroed page by page on first
    touch). The arrays never leave :func:`snapshot`, so reuse is safe.
    """

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """An uninitialised array of this shape, reusing the last one of that name if big enough."""
        size = math.prod(shape)
        buf = self.arrays.get(name)
        if buf is None or buf.dtype != dtype or buf.size < size:
            buf = np.empty(max(size, 1), dtype=dtype)
            self.arrays[name] = buf
        return buf[:size].reshape(shape)


_WORKSPACE = _Workspace()


def _assign_lanes(presence: NDArray[np.int64], n_lanes: int) -> NDArray[np.int64]:
    """Give each platform to one of ``n_lanes`` union-find lanes, balancing presence squared.

    Entry 64 (and every entry >= K) is lane 0; the tie pass looks up ``lane_of[64]`` for ties
    that share no platform.
    """
    lane_of = np.zeros(65, np.int64)
    load = np.zeros(n_lanes)
    for p in np.argsort(-presence, kind="stable").tolist():
        lane = int(np.argmin(load))
        lane_of[p] = lane
        load[lane] += float(presence[p]) ** 2
    return lane_of


class _StageClock:
    """Wall time of the stages of :func:`_counts_numba`, appended to lists in a dict."""

    def __init__(self, timings: dict[str, list[float]] | None) -> None:
        self.timings = timings
        self.t0 = 0.0

    def start(self) -> None:
        if self.timings is not None:
            self.t0 = time.perf_counter()

    def lap(self, stage: str) -> None:
        if self.timings is not None:
            self.timings.setdefault(stage, []).append(time.perf_counter() - self.t0)


def _counts_numba(
    m: NDArray[np.bool_],
    act: NDArray[np.bool_],
    primary: NDArray[np.int64],
    u: NDArray[np.int64],
    v: NDArray[np.int64],
    mon_bits: int,
    crime_type: NDArray[np.int64] | None,
    n_types: int,
    timings: dict[str, list[float]] | None = None,
) -> _Counts:
    # ``timings``, if given, collects the seconds each stage takes (benchmarks/bench_metrics.py)
    clock = _StageClock(timings)
    n, k = m.shape
    n_ties_in = u.shape[0]
    if n * k >= 2**31 or n_ties_in >= 2**31:
        raise ValueError(
            f"the numba kernel numbers presences and ties in int32 and needs N*K < 2**31 and "
            f"E < 2**31, got N={n}, K={k}, E={n_ties_in}; use backend='numpy'"
        )
    ws = _WORKSPACE
    # C-contiguous inputs keep numba to one compiled specialisation per kernel
    ct = np.ascontiguousarray(crime_type if crime_type is not None else np.zeros(0, np.int64))
    act, primary = np.ascontiguousarray(act), np.ascontiguousarray(primary)
    u, v = np.ascontiguousarray(u), np.ascontiguousarray(v)
    flat = np.ascontiguousarray(m).view(np.uint8).reshape(-1)
    packed = ws.get("packed", (n + 1,), np.int64)
    pair_plat = ws.get("pair_plat", (n * k,), np.int8)
    covered = ws.get("covered", (n,), np.bool_)
    clock.start()
    node = _nb_node_pass(
        flat, k, act, primary, ct, n_types, mon_bits, _n_chunks(n), packed, pair_plat, covered
    )
    clock.lap("groups")
    (n_pairs, presence, prim, by_type, n_covered, n_active, n_dark, bad_p, bad_t,
     first_seen) = node  # fmt: skip
    if bad_p:
        _check_range(primary, "primary", -1, k)
    if bad_t:
        _check_range(ct, "crime_type", 0, n_types)
    pair_plat = pair_plat[:n_pairs]
    n_chunks = _n_chunks(n_ties_in)
    lane_of = _assign_lanes(presence, n_chunks)  # one union-find lane per chunk
    degrees_c = ws.get("degrees", (n_chunks, n), np.int64)
    pair_a = ws.get("pair_a", (n_chunks, n_ties_in), np.int32)
    pair_b = ws.get("pair_b", (n_chunks, n_ties_in), np.int32)
    multi = ws.get("multi", (n_ties_in,), np.int32)
    clock.start()
    ties = _nb_tie_pass(u, v, packed, mon_bits, k, lane_of, degrees_c, pair_a, pair_b, multi)
    (bounds, n_joins, n_multi, n_ties, n_broken, n_visible, mod_m, mod_in, mod_deg,
     bad_e) = ties  # fmt: skip
    if bad_e:
        _as_edges(u, v, n)  # raises with a precise message
    deg_tie = ws.get("deg_tie", (n,), np.int64)
    deg_brk = ws.get("deg_broken", (n,), np.int64)
    _nb_split_degrees(degrees_c, deg_tie, deg_brk)
    clock.lap("ties")
    parent = ws.get("parent", (int(n_pairs),), np.int32)
    clock.start()
    _nb_union_pass(
        pair_a, pair_b, multi, bounds, n_joins, n_multi, u, v, packed, k, lane_of, parent
    )
    clock.lap("union-find")
    count = ws.get("count", (int(n_pairs),), np.int32)
    clock.start()
    plat_ncomp, plat_giant, comm_ncomp, comm_giant = _nb_component_pass(
        parent, packed, pair_plat, k, n_dark, count
    )
    clock.lap("components")
    return _Counts(
        n_active=int(n_active),
        n_dark=int(n_dark),
        primary=prim,
        presence=presence,
        primary_by_type=by_type if crime_type is not None else None,
        n_ties=int(n_ties),
        n_broken=int(n_broken),
        deg_tie=deg_tie,
        deg_broken=deg_brk,
        comm_n_components=int(comm_ncomp),
        comm_giant=int(comm_giant),
        plat_n_components=plat_ncomp,
        plat_giant=plat_giant,
        mod_inside=mod_in,
        mod_degree=mod_deg,
        mod_edges=int(mod_m),
        covered=covered,
        n_covered=int(n_covered),
        n_visible=int(n_visible),
        first_seen=first_seen,
    )


def snapshot(
    membership: ArrayLike,
    active: ArrayLike,
    primary: ArrayLike,
    edges_u: ArrayLike,
    edges_v: ArrayLike,
    size: ArrayLike,
    severity: ArrayLike,
    monitored: ArrayLike,
    *,
    platform_names: Sequence[str] | None = None,
    crime_type: ArrayLike | None = None,
    crime_type_names: Sequence[str] | None = None,
    backend: Backend = "auto",
) -> dict[str, float]:
    """All per-step fragmentation and monitoring measures in one call.

    Parameters
    ----------
    membership : array_like of bool, shape (N, K)
        Presence matrix.
    active : array_like of bool, shape (N,)
        Active groups.
    primary : array_like of int, shape (N,)
        Primary platform, -1 for none.
    edges_u, edges_v : array_like of int, shape (E,)
        Contact ties, ``edges_u < edges_v``. Sorted by ``edges_u`` is fastest.
    size : array_like of float, shape (N,)
        Group sizes (weights of :func:`broken_ties`).
    severity : array_like of float, shape (N,)
        Enforcement priority (weights of :func:`monitoring_coverage`).
    monitored : array_like of bool, shape (K,)
        Monitored platforms.
    platform_names : sequence of str, optional
        Labels for the per-platform columns (default ``"0" .. "K-1"``).
    crime_type : array_like of int, shape (N,), optional
        With ``crime_type_names``, adds per-type concentration of primary platforms.
    crime_type_names : sequence of str, optional
        Names of the C crime types (required with ``crime_type``).
    backend : {"auto", "numba", "numpy"}, default "auto"
        "auto" uses the fused numba kernel when numba is installed. Both give identical values.

    Returns
    -------
    dict of str to float
        Keys in the order of :func:`snapshot_columns`:

        - ``n_active``; ``dark_share``: share of active groups on no platform.
        - ``hhi_primary``, ``effective_platforms_primary``, ``entropy_primary``: concentration
          of :func:`primary_counts`; ``hhi_presence``, ``effective_platforms_presence``,
          ``entropy_presence``: of :func:`presence_counts` (see :func:`concentration`).
        - ``broken_tie_share``, ``broken_tie_share_weighted``: :func:`broken_ties`.
        - ``comm_giant_share``, ``comm_n_components``, ``comm_mean_component_size``:
          :func:`communication_components`.
        - ``modularity_primary``: :func:`primary_modularity`.
        - ``coverage_groups``, ``coverage_ties``, ``coverage_severity``:
          :func:`monitoring_coverage`.
        - ``giant_share.<platform>``: :func:`platform_components` giant shares.
        - ``coverage_top.<k>`` for k = 1 .. K: :func:`coverage_curve`.
        - with crime types: ``hhi_primary.<type>``, ``effective_platforms_primary.<type>``,
          ``entropy_primary.<type>``.

    Raises
    ------
    ValueError
        For wrong shapes or dtypes, out-of-range indices, ties not ordered ``u < v``, or an
        unknown backend.

    Notes
    -----
    The numba kernel makes one pass over the groups and one over the ties (both on numba's
    threads), a union-find over the (group, platform) presences the ties join (all per-platform
    subgraphs at once, in lanes that own whole platforms) and one pass over the presences (the
    communication graph is the union of the platform subgraphs joined through each multi-homing
    group). Time complexity: O(N K + E K alpha(N)). For N = 100,000, K = 10 and E = 500,000
    ties sorted by ``edges_u`` it takes about 15-20 ms on the 2-core development machine, half
    of it in the pass over the ties; the numpy path takes about 210 ms
    (``benchmarks/bench_metrics.py``). Values do not depend on the number of threads.
    """
    m = _as_membership(membership)
    n, k = m.shape
    act = _as_bool_vector(active, "active", n)
    prim = _as_int_vector(primary, "primary", n)
    u = _as_int_vector(edges_u, "edges_u")
    v = _as_int_vector(edges_v, "edges_v")
    if u.shape != v.shape:
        raise ValueError(
            f"edges_u and edges_v must have the same length, got {u.shape[0]} and {v.shape[0]}"
        )
    sz = _as_float_vector(size, "size", n)
    sev = _as_float_vector(severity, "severity", n)
    mon_bits = _mask_to_bits(_as_monitored(monitored, k))
    names = _platform_labels(platform_names, k)
    ct = None
    n_types = 0
    if crime_type is not None:
        if crime_type_names is None:
            raise ValueError("crime_type_names must be given with crime_type (one name per type)")
        ct = _as_int_vector(crime_type, "crime_type", n)
        n_types = len(crime_type_names)
    use_numba = _resolve_backend(backend, k)
    counter = _counts_numba if use_numba else _counts_numpy
    c = counter(m, act, prim, u, v, mon_bits, ct, n_types)

    out: dict[str, float] = {}
    out["n_active"] = float(c.n_active)
    out["dark_share"] = _ratio(c.n_dark, c.n_active)
    for label, counts in (("primary", c.primary), ("presence", c.presence)):
        conc = concentration(counts)
        out[f"hhi_{label}"] = conc.hhi
        out[f"effective_platforms_{label}"] = conc.effective_number
        out[f"entropy_{label}"] = conc.entropy
    out["broken_tie_share"] = _ratio(c.n_broken, c.n_ties)
    out["broken_tie_share_weighted"] = _weighted_ratio(sz, c.deg_broken, c.deg_tie)
    out["comm_giant_share"] = _ratio(c.comm_giant, c.n_active)
    out["comm_n_components"] = float(c.comm_n_components)
    out["comm_mean_component_size"] = _ratio(c.n_active, c.comm_n_components)
    out["modularity_primary"] = _modularity_from_counts(c.mod_inside, c.mod_degree, c.mod_edges)
    out["coverage_groups"] = _ratio(c.n_covered, c.n_active)
    out["coverage_ties"] = _ratio(c.n_visible, c.n_ties)
    out["coverage_severity"] = _severity_share(sev, c.covered, act)
    plat = _platform_summary(c.presence, c.plat_n_components, c.plat_giant)
    for name, share in zip(names, plat.giant_share.tolist(), strict=True):
        out[f"giant_share.{name}"] = share
    curve = np.cumsum(c.first_seen) / c.n_active if c.n_active else np.full(k, np.nan)
    for r, share in enumerate(curve.tolist()):
        out[f"coverage_top.{r + 1}"] = share
    if c.primary_by_type is not None and crime_type_names is not None:
        conc_t = concentration(c.primary_by_type)
        for measure, vals in (
            ("hhi_primary", conc_t.hhi),
            ("effective_platforms_primary", conc_t.effective_number),
            ("entropy_primary", conc_t.entropy),
        ):
            for t, val in zip(crime_type_names, np.atleast_1d(vals).tolist(), strict=True):
                out[f"{measure}.{t}"] = val
    return out
