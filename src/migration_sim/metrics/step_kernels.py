"""Compiled numba kernels behind :func:`migration_sim.metrics.step.snapshot`."""

from __future__ import annotations

import numpy as np

try:  # numba is an optional accelerator: every measure has a numpy implementation.
    import numba
except ImportError:  # pragma: no cover - exercised only where numba is absent
    numba = None

from migration_sim.metrics.inputs import _ACTIVE_SHIFT, _OFFSET_SHIFT, _PRIMARY_SHIFT, HAVE_NUMBA

# ---------------------------------------------------------------------------------------------
# numba fast path for snapshot()
# ---------------------------------------------------------------------------------------------
# Profile notes (N = 100,000, K = 10, E = 500,000, 2-core VM, no hardware counters available):
# scipy's connected_components alone takes 50-60 ms per graph, so the numpy path (about 250 ms
# per snapshot) cannot meet a per-step budget. The kernels below replace the two components
# calls with one union-find over (group, platform) presence pairs: ties join pairs on the same
# platform (every platform subgraph at once), then each multi-homing group's pairs are joined
# (the communication graph is the union of the platform subgraphs).
#
# Three passes: groups, ties, union-find. What paid, measured one change at a time:
# - one packed int64 per group, so that a tie needs one load per end; int32 parents;
# - splitting the tie pass from the union-find: the tie pass only writes the pair indices of the
#   first shared platform of each tie (branch-free), and a separate loop unites them. Fused, the
#   unpredictable branches of the union-find stalled the loads of the tie pass (13 ms -> 3 ms
#   for the unions, 4.5 ms for the pass that collects them);
# - the modularity sums as one (K+1) x (K+1) histogram of primary pairs, in four interleaved
#   copies: a small counter array updated at every tie made a store-to-load dependency chain
#   (about 4 ms of the tie pass);
# - both degree counts in one int64 (one random read-modify-write per tie end, not two);
# - the group and tie passes in fixed chunks on numba's threads (about 1.7x on 2 cores); every
#   result is an integer count, so the values do not depend on the number of threads;
# - the union-find in lanes that own whole platforms (pairs of different platforms are never
#   joined in it), so the lanes share no parent entry and need no locks or merge. The gain is
#   limited by the largest platform (Telegram holds about 85% of the joins at 100,000 groups);
# - work arrays reused from call to call (see _Workspace);
# - the coverage curve counted in the group pass (it was a separate 1.5 ms numpy pass).
# What did not pay: software prefetching by early loads, relabelling the groups in breadth-first
# or Cuthill-McKee order, union by size, a two-hop branch-free find, a thread-private forest per
# chunk merged afterwards (the merge cost what the second thread saved), computing the measures
# of step t in a background thread during step t+1 (the step already keeps both cores busy), and
# an exact incremental tracker (spanning forests repaired after each step; 62 ms per step, see
# benchmarks/README.md and the branch experiment/snapshot-tracker).
#
# Inside a model run the passes are slower than in a loop over one state (caches hold the
# step's data, not the metrics'): about 2 ms for the groups, 7-10 ms for the ties, 4-6 ms for the
# union-find and 3 ms for the components at 100,000 groups, against a step of about 21 ms.

if HAVE_NUMBA:
    _jit = numba.njit(cache=True, nogil=True)
    _jit_parallel = numba.njit(cache=True, nogil=True, parallel=True)
    _jit_inline = numba.njit(cache=True, nogil=True, inline="always")

    @_jit_inline
    def _nb_find(parent, x):  # noqa: D103
        while parent[x] != x:
            parent[x] = parent[parent[x]]  # path halving
            x = parent[x]
        return x

    @_jit_inline
    def _nb_union(parent, a, b):  # noqa: D103
        # linking the larger root under the smaller keeps parent[x] <= x for every x
        ra = _nb_find(parent, a)
        rb = _nb_find(parent, b)
        if ra < rb:
            parent[rb] = ra
        elif rb < ra:
            parent[ra] = rb

    @_jit_inline
    def _nb_popcount(x):  # noqa: D103
        x = x - ((x >> 1) & 0x5555555555555555)
        x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333)
        x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0F
        return (x * 0x0101010101010101) >> 56

    @_jit_parallel
    def _nb_node_pass(
        flat, k, active, primary, crime_type, n_types, mon_bits, n_chunks, packed, pair_plat,
        covered,
    ):  # fmt: skip
        """Pack each group into an int64 and count everything that needs only the group.

        ``flat`` is the (N, K) membership viewed as N*K uint8. Presence pairs (group i,
        platform p) are numbered row-major; group i's pairs start at ``packed[i] >> 32`` and end
        before ``packed[i + 1] >> 32``. First pass: platform bits and pair counts per chunk;
        second pass: offsets and counts. ``first_seen[r]`` counts the active groups whose
        best-ranked platform (platforms ranked by presence, ties by index) has rank r; entry K
        counts the dark groups. Out-of-range primary or crime type values are counted (and
        treated as -1 / 0) so that the caller can raise. ``packed`` (N+1), ``pair_plat``
        (at least the number of pairs) and ``covered`` (N) are outputs.
        """
        n = active.shape[0]
        chunk_pairs = np.zeros(n_chunks + 1, np.int64)
        presence_c = np.zeros((n_chunks, k), np.int64)
        for c in numba.prange(n_chunks):
            pres = np.zeros(k, np.int64)
            n_c = 0
            for i in range(n * c // n_chunks, n * (c + 1) // n_chunks):
                bits = 0
                if active[i]:
                    base = i * k
                    for j in range(k):
                        x = np.int64(flat[base + j])
                        bits |= x << j
                        pres[j] += x
                packed[i] = bits
                n_c += _nb_popcount(bits)
            presence_c[c] = pres
            chunk_pairs[c + 1] = n_c
        for c in range(n_chunks):
            chunk_pairs[c + 1] += chunk_pairs[c]
        n_pairs = chunk_pairs[n_chunks]
        presence = presence_c.sum(axis=0)
        rank = np.empty(k, np.int64)
        for p in range(k):
            r = 0
            for q in range(k):
                r += (presence[q] > presence[p]) | ((presence[q] == presence[p]) & (q < p))
            rank[p] = r
        nt = max(n_types, 1)
        prim_c = np.zeros((n_chunks, k + 1), np.int64)
        by_type_c = np.zeros((n_chunks, nt, k + 1), np.int64)
        first_c = np.zeros((n_chunks, k + 1), np.int64)
        scalars_c = np.zeros((n_chunks, 5), np.int64)
        use_type = crime_type.shape[0] > 0
        for c in numba.prange(n_chunks):
            prim = np.zeros(k + 1, np.int64)
            by_type = np.zeros((nt, k + 1), np.int64)
            first = np.zeros(k + 1, np.int64)
            n_active = 0
            n_dark = 0
            n_covered = 0
            bad_p = 0
            bad_t = 0
            offset = chunk_pairs[c]
            for i in range(n * c // n_chunks, n * (c + 1) // n_chunks):
                p = primary[i]
                if p < -1 or p >= k:
                    bad_p += 1
                    p = -1
                t = 0
                if use_type:
                    t = crime_type[i]
                    if t < 0 or t >= n_types:
                        bad_t += 1
                        t = 0
                if not active[i]:
                    packed[i] = offset << _OFFSET_SHIFT
                    covered[i] = False
                    continue
                bits = packed[i]
                start = offset
                best = k
                rest = bits
                while rest:
                    low = rest & -rest
                    j = _nb_popcount(low - 1)
                    pair_plat[offset] = j
                    offset += 1
                    best = min(best, rank[j])
                    rest ^= low
                n_active += 1
                n_dark += bits == 0
                seen = (bits & mon_bits) != 0
                covered[i] = seen
                n_covered += seen
                prim[p + 1] += 1
                by_type[t, p + 1] += 1
                first[best] += 1
                packed[i] = (
                    (start << _OFFSET_SHIFT)
                    | (1 << _ACTIVE_SHIFT)
                    | ((p + 1) << _PRIMARY_SHIFT)
                    | bits
                )
            prim_c[c] = prim
            by_type_c[c] = by_type
            first_c[c] = first
            scalars_c[c, 0] = n_active
            scalars_c[c, 1] = n_dark
            scalars_c[c, 2] = n_covered
            scalars_c[c, 3] = bad_p
            scalars_c[c, 4] = bad_t
        packed[n] = n_pairs << _OFFSET_SHIFT
        s = scalars_c.sum(axis=0)
        by_type = by_type_c.sum(axis=0)
        return (
            n_pairs, presence, prim_c.sum(axis=0)[1:], by_type[:, 1:], s[2], s[0], s[1], s[3],
            s[4], first_c.sum(axis=0)[:k],
        )  # fmt: skip

    @_jit_parallel
    def _nb_tie_pass(eu, ev, packed, mon_bits, k, lane_of, degrees_c, pair_a, pair_b, multi):
        """One pass over the ties in fixed chunks: counts, and the pairs each tie joins.

        Chunk c covers ties ``[bounds[c], bounds[c + 1])``. The pair indices of each tie's
        first shared platform p go to lane ``lane_of[p]``: ``pair_a[lane]``/``pair_b[lane]``
        slots ``[bounds[c], bounds[c] + n_joins[c, lane])``. Ties sharing more than one
        platform are listed in ``multi`` (slots ``[bounds[c], bounds[c] + n_multi[c])``).
        Primary pairs of the ties are counted in a ``(K+1) x (K+1)`` histogram (row: primary
        of the lower end + 1), in four interleaved copies to avoid a store-to-load dependency
        chain. ``degrees_c`` (chunks x N) returns each group's ties + broken ties << 32.
        """
        n = packed.shape[0] - 1
        m = eu.shape[0]
        n_chunks = degrees_c.shape[0]
        n_lanes = pair_a.shape[0]
        k1 = k + 1
        plat_mask = (1 << k) - 1
        bounds = np.empty(n_chunks + 1, np.int64)
        for c in range(n_chunks + 1):
            bounds[c] = m * c // n_chunks
        hist_c = np.zeros((n_chunks, 4 * k1 * k1), np.int64)
        scalars_c = np.zeros((n_chunks, 4), np.int64)
        n_joins = np.zeros((n_chunks, n_lanes), np.int64)
        n_multi = np.zeros(n_chunks, np.int64)
        for c in numba.prange(n_chunks):
            degrees = degrees_c[c]
            degrees[:] = 0
            hist = hist_c[c]
            cursor = np.full(n_lanes, bounds[c], np.int64)
            w_multi = bounds[c]
            n_ties = 0
            n_broken = 0
            n_visible = 0
            bad = 0
            for e in range(bounds[c], bounds[c + 1]):
                a = eu[e]
                b = ev[e]
                if a < 0 or b >= n or a >= b:
                    bad += 1
                    continue
                xa = packed[a]
                xb = packed[b]
                both = xa & xb
                tie = (both >> _ACTIVE_SHIFT) & 1
                n_ties += tie
                pa = (xa >> _PRIMARY_SHIFT) & 31
                pb = (xb >> _PRIMARY_SHIFT) & 31
                hist[(e & 3) * k1 * k1 + pa * k1 + pb] += tie
                shared = both & plat_mask  # zero unless both ends are active
                broken = tie & (shared == 0)
                n_broken += broken
                inc = tie | (broken << 32)
                degrees[a] += inc
                degrees[b] += inc
                n_visible += (shared & mon_bits) != 0
                # pairs of the first shared platform; the slot is only kept when there is one
                low = shared & -shared
                below = low - 1
                lane = lane_of[_nb_popcount(below)]  # lane_of[64] serves shared == 0
                w = cursor[lane]
                pair_a[lane, w] = (xa >> _OFFSET_SHIFT) + _nb_popcount(xa & below & plat_mask)
                pair_b[lane, w] = (xb >> _OFFSET_SHIFT) + _nb_popcount(xb & below & plat_mask)
                cursor[lane] = w + (shared != 0)
                multi[w_multi] = e
                w_multi += (shared ^ low) != 0
            for lane in range(n_lanes):
                n_joins[c, lane] = cursor[lane] - bounds[c]
            n_multi[c] = w_multi - bounds[c]
            scalars_c[c, 0] = n_ties
            scalars_c[c, 1] = n_broken
            scalars_c[c, 2] = n_visible
            scalars_c[c, 3] = bad
        s = scalars_c.sum(axis=0)
        hist = hist_c.sum(axis=0).reshape(4, k1, k1).sum(axis=0)[1:, 1:]
        mod_in = np.zeros(k, np.int64)
        mod_deg = np.zeros(k, np.int64)
        for p in range(k):
            mod_in[p] = hist[p, p]
            mod_deg[p] = hist[p, :].sum() + hist[:, p].sum()
        return bounds, n_joins, n_multi, s[0], s[1], s[2], hist.sum(), mod_in, mod_deg, s[3]

    @_jit_parallel
    def _nb_split_degrees(degrees_c, deg_tie, deg_broken):
        """Sum the chunks' packed degree counts and split ties from broken ties."""
        n_chunks, n = degrees_c.shape
        for i in numba.prange(n):
            d = 0
            for c in range(n_chunks):
                d += degrees_c[c, i]
            deg_tie[i] = d & 0xFFFFFFFF
            deg_broken[i] = d >> 32

    @_jit_parallel
    def _nb_union_pass(
        pair_a, pair_b, multi, bounds, n_joins, n_multi, eu, ev, packed, k, lane_of, parent
    ):
        """Union-find over the pairs the ties join: every platform subgraph at once.

        Each lane owns whole platforms, so lanes touch disjoint parts of ``parent`` and run in
        parallel without locks; the partition found does not depend on the order of unions.
        """
        n_lanes = pair_a.shape[0]
        n_chunks = bounds.shape[0] - 1
        plat_mask = (1 << k) - 1
        for j in numba.prange(parent.shape[0]):
            parent[j] = j
        for lane in numba.prange(n_lanes):
            for c in range(n_chunks):
                for i in range(bounds[c], bounds[c] + n_joins[c, lane]):
                    _nb_union(parent, pair_a[lane, i], pair_b[lane, i])
                for i in range(bounds[c], bounds[c] + n_multi[c]):
                    e = multi[i]
                    xa = packed[eu[e]]
                    xb = packed[ev[e]]
                    shared = xa & xb & plat_mask
                    rest = shared ^ (shared & -shared)  # the first was joined above
                    while rest:
                        low = rest & -rest
                        below = low - 1
                        if lane_of[_nb_popcount(below)] == lane:
                            _nb_union(
                                parent,
                                (xa >> _OFFSET_SHIFT) + _nb_popcount(xa & below),
                                (xb >> _OFFSET_SHIFT) + _nb_popcount(xb & below),
                            )
                        rest ^= low

    @_jit
    def _nb_component_pass(parent, packed, pair_plat, k, n_dark, count):
        """Per-platform components, then join each group's pairs for the communication graph."""
        n = packed.shape[0] - 1
        n_pairs = parent.shape[0]
        count[:] = 0
        # parent[j] <= j, so one ascending sweep leaves every pair pointing at its root
        for j in range(n_pairs):
            r = parent[parent[j]]
            parent[j] = r
            count[r] += 1
        plat_ncomp = np.zeros(k, np.int64)
        plat_giant = np.zeros(k, np.int64)
        for j in range(n_pairs):
            if parent[j] == j:
                p = pair_plat[j]
                plat_ncomp[p] += 1
                plat_giant[p] = max(plat_giant[p], count[j])
        start = packed[0] >> _OFFSET_SHIFT
        for i in range(n):
            stop = packed[i + 1] >> _OFFSET_SHIFT
            for j in range(start + 1, stop):
                _nb_union(parent, start, j)
            start = stop
        count[:] = 0
        start = packed[0] >> _OFFSET_SHIFT
        for i in range(n):
            stop = packed[i + 1] >> _OFFSET_SHIFT
            if stop > start:
                count[_nb_find(parent, start)] += 1
            start = stop
        comm_ncomp = n_dark
        comm_giant = 1 if n_dark > 0 else 0
        for j in range(n_pairs):
            if count[j] > 0:
                comm_ncomp += 1
                comm_giant = max(comm_giant, count[j])
        return plat_ncomp, plat_giant, comm_ncomp, comm_giant
