"""The platform-choice kernel: utilities and the multinomial-logit revision, compiled with numba.

One pass per revising group counts its active contacts on each platform (walking the CSR
adjacency), builds the utility of every platform, and draws the new primary and secondary
platforms with three uniforms. The pass is fused so that no (n, K) temporaries are built; the
readable per-group version of the same rule is
:class:`migration_sim.model.groups.CriminalGroup`, and tests prove both give identical choices.

Utility (``docs/model.md`` section 7.6), added term by term in this order::

    V0_ik = w_reach reach_k need_i + w_network L_ik + w_popularity G_k
            - w_risk R_ik ra_i sev_i + w_usability usability_k (1 - soph_i) + alpha_k
            - w_ban P_ik + w_follow u_i F_k - w_risk w_attention A_i e_k ra_i sev_i
    V_ik  = V0_ik - w_switch c_ik

``L_ik`` is the share of i's active contacts present on k; ``P_ik`` the group's ban pressure on
k; ``u_i`` is 1 for an unsettled group (0 otherwise) and ``F_k`` the share of unsettled groups
with k as primary. ``A_i`` is the group's attention to disclosure (raised by news, see
``MigrationModel._perceive``) and ``e_k`` the platform's exposure: attention adds
``w_attention A_i e_k`` to the perceived risk of every platform. The switching cost factor
``c_ik`` is 0 on a platform the group is present on, ``rejoin_i`` on the platform it was
banned from this step and 1 otherwise.

Revision, with uniforms ``u0, u1, u2``:

1. primary ``k*`` by inverse CDF over ``softmax(beta V)`` on available platforms (none: dark);
   an unsettled group (still looking for a venue) uses ``V0``: no switching cost;
2. present on ``k*``; other available platforms kept;
3. above ``max_platforms``: the secondary with the lowest ``V0`` is dropped (first on ties);
4. drop logit over {drop secondary s: ``-beta (V0_s - A)``, none: 0}, ``A = V0_k* - margin``;
5. add logit (below the limit) over {add unused available k: ``beta (V_k - A)``, none: 0}.
"""

from __future__ import annotations

import numba
import numpy as np

from migration_sim.model.kernels import UtilityWeights

__all__ = ["choice_state", "weights_array", "utility_rows", "choose_rows", "revise_rows", "pick"]

#: Rows per parallel block in :func:`revise_rows`.
_BLOCK = 256

#: Flag bit of an active group in :func:`presence_codes`.
_ACTIVE_BIT = 1 << 62

# positions in the weights array (see weights_array)
(_REACH, _NETWORK, _POPULARITY, _RISK, _SWITCH, _USABILITY, _BETA, _MARGIN, _BAN, _FOLLOW,
 _ATTENTION) = range(11)  # fmt: skip


def weights_array(w: UtilityWeights) -> np.ndarray:
    """Pack the utility weights for the compiled kernels (order fixed by this module)."""
    return np.array(
        [
            w.reach, w.network, w.popularity, w.risk, w.switch, w.usability, w.beta, w.margin,
            w.ban, w.follow, w.attention,
        ]
    )  # fmt: skip


@numba.njit(cache=True)
def pick(logits: np.ndarray, allowed: np.ndarray, u: float) -> int:
    """Inverse-CDF draw from softmax(logits) over the allowed options; -1 if none is allowed.

    Weights ``exp(x - max)`` are summed left to right; the first option whose cumulative
    weight exceeds ``u * total`` is chosen (the last allowed one if rounding leaves none).
    """
    return _pick(logits, allowed, u, np.empty(logits.size))


@numba.njit(cache=True)
def _pick(logits, allowed, u, weights):
    """:func:`pick` with a caller-owned weights buffer (no allocation)."""
    n = logits.size
    top = -np.inf
    last = -1
    for k in range(n):
        if allowed[k]:
            last = k
            if logits[k] > top:
                top = logits[k]
    if last < 0:
        return -1
    total = 0.0
    for k in range(n):
        weights[k] = np.exp(logits[k] - top) if allowed[k] else 0.0
        total += weights[k]
    threshold = u * total
    cum = 0.0
    for k in range(n):
        cum += weights[k]
        if cum > threshold:
            return k
    return last


@numba.njit(cache=True)
def _utility_row(i, state, v, v0, counts):
    """Fill ``v`` and ``v0`` (length K) with group i's utilities (``state``: see module)."""
    (indptr, indices, member, active, banned_from, risk, need, risk_aversion, severity,
     sophistication, reach, usability, popularity, constants, w, codes, ban_pressure, rejoin,
     unsettled, follow, attention, exposure) = state  # fmt: skip
    k_count = member.shape[1]
    counts[:] = 0
    n_active = 0
    for p in range(indptr[i], indptr[i + 1]):
        c = codes[indices[p]]
        if c & _ACTIVE_BIT:
            n_active += 1
            for k in range(k_count):
                counts[k] += (c >> k) & 1
    inv = 1.0 / n_active if n_active > 0 else 0.0
    ra_sev = risk_aversion[i] * severity[i]
    for k in range(k_count):
        share = counts[k] * inv if n_active > 0 else 0.0
        x = w[_REACH] * (need[i] * reach[k])
        x = x + w[_NETWORK] * share
        x = x + w[_POPULARITY] * popularity[k]
        x = x - w[_RISK] * (risk[i, k] * ra_sev)
        x = x + w[_USABILITY] * ((1.0 - sophistication[i]) * usability[k])
        x = x + constants[k]
        x = x - w[_BAN] * ban_pressure[i, k]
        if unsettled[i]:
            x = x + w[_FOLLOW] * follow[k]
        if w[_ATTENTION] != 0.0:
            x = x - w[_RISK] * ((w[_ATTENTION] * attention[i] * exposure[k]) * ra_sev)
        v0[k] = x
        if member[i, k]:
            cost = 0.0
        elif banned_from[i] == k:
            cost = rejoin[i]
        else:
            cost = 1.0
        v[k] = x - w[_SWITCH] * cost


@numba.njit(cache=True)
def _choose_row(before, v, v0, available, max_platforms, beta, margin, u, out, scratch, free):
    """Steps 1-5 of the revision for one group; writes the presence row, returns the primary.

    ``u`` holds the group's three uniforms; ``scratch`` the buffers from :func:`_scratch`;
    ``free``: the primary is chosen without switching cost (an unsettled group).
    """
    logits, allowed, weights = scratch
    k_count = v.size
    for k in range(k_count):
        logits[k] = beta * (v0[k] if free else v[k])
        allowed[k] = available[k]
    primary = _pick(logits[:k_count], allowed[:k_count], u[0], weights[:k_count])
    out[:] = False
    if primary < 0:
        return -1
    n_on = 0
    for k in range(k_count):
        out[k] = before[k] and available[k]
    out[primary] = True
    for k in range(k_count):
        if out[k]:
            n_on += 1
    if n_on > max_platforms:
        worst = -1
        for k in range(k_count):
            if out[k] and k != primary and (worst < 0 or v0[k] < v0[worst]):
                worst = k
        out[worst] = False
        n_on -= 1
    if max_platforms > 1:
        anchor = v0[primary] - margin
        has_secondary = False
        for k in range(k_count):
            allowed[k] = out[k] and k != primary
            has_secondary = has_secondary or allowed[k]
            logits[k] = -beta * (v0[k] - anchor)
        if has_secondary:
            logits[k_count] = 0.0
            allowed[k_count] = True
            drop = _pick(logits, allowed, u[1], weights)
            if drop < k_count:
                out[drop] = False
                n_on -= 1
        if n_on < max_platforms:
            for k in range(k_count):
                allowed[k] = available[k] and not out[k]
                logits[k] = beta * (v[k] - anchor)
            logits[k_count] = 0.0
            allowed[k_count] = True
            add = _pick(logits, allowed, u[2], weights)
            if add < k_count:
                out[add] = True
    return primary


@numba.njit(cache=True)
def utility_rows(rows, state):
    """Utilities (V, V0), shape (len(rows), K), of every platform for the listed groups.

    ``state`` is the tuple built by :func:`choice_state`.
    """
    k_count = state[2].shape[1]
    v = np.empty((rows.size, k_count))
    v0 = np.empty((rows.size, k_count))
    counts = np.zeros(k_count, np.int64)
    for r in range(rows.size):
        _utility_row(rows[r], state, v[r], v0[r], counts)
    return v, v0


@numba.njit(cache=True)
def choose_rows(member, v, v0, available, max_platforms, beta, margin, u):
    """Revise each row from given utilities: new primaries (-1 = dark) and presence rows."""
    n, k_count = v.shape
    primary = np.empty(n, np.int64)
    out = np.zeros((n, k_count), np.bool_)
    scratch = _scratch(k_count)
    for r in range(n):
        primary[r] = _choose_row(
            member[r], v[r], v0[r], available, max_platforms, beta, margin, u[r], out[r], scratch,
            False,
        )  # fmt: skip
    return primary, out


@numba.njit(cache=True, parallel=True)
def revise_rows(rows, state, available, max_platforms, u):
    """Fused utilities + revision for the listed groups (``u`` has one row per listed group).

    Reads the state only; returns (primary, presence) for the caller to write synchronously.
    Rows are processed in blocks of ``_BLOCK`` on numba's threads; each row depends only on
    the state and its own uniforms, so the result is the same for any number of threads.
    """
    member, w, unsettled = state[2], state[14], state[18]
    k_count = member.shape[1]
    primary = np.empty(rows.size, np.int64)
    out = np.zeros((rows.size, k_count), np.bool_)
    n_blocks = (rows.size + _BLOCK - 1) // _BLOCK
    for b in numba.prange(n_blocks):
        v = np.empty(k_count)
        v0 = np.empty(k_count)
        counts = np.zeros(k_count, np.int64)
        scratch = _scratch(k_count)
        for r in range(b * _BLOCK, min(rows.size, (b + 1) * _BLOCK)):
            i = rows[r]
            _utility_row(i, state, v, v0, counts)
            primary[r] = _choose_row(
                member[i], v, v0, available, max_platforms, w[_BETA], w[_MARGIN], u[r], out[r],
                scratch, unsettled[i],
            )  # fmt: skip
    return primary, out


@numba.njit(cache=True)
def _scratch(k_count):
    """Buffers of length K + 1 for the logits, the allowed mask and the weights of a draw."""
    return np.empty(k_count + 1), np.zeros(k_count + 1, np.bool_), np.empty(k_count + 1)


def choice_state(
    indptr: np.ndarray,
    indices: np.ndarray,
    member: np.ndarray,
    active: np.ndarray,
    banned_from: np.ndarray,
    risk: np.ndarray,
    reach_need: np.ndarray,
    risk_aversion: np.ndarray,
    severity: np.ndarray,
    sophistication: np.ndarray,
    reach: np.ndarray,
    usability: np.ndarray,
    popularity: np.ndarray,
    constants: np.ndarray,
    weights: UtilityWeights,
    *,
    ban_pressure: np.ndarray | None = None,
    rejoin: np.ndarray | None = None,
    unsettled: np.ndarray | None = None,
    follow: np.ndarray | None = None,
    attention: np.ndarray | None = None,
    exposure: np.ndarray | None = None,
) -> tuple:
    """Bundle the read-only inputs of the utility for the compiled kernels.

    Per group: CSR adjacency (``indptr``, ``indices``), presence (N, K), active, the platform a
    group was just banned from (-1: none), perceived risk (N, K), reach need, risk aversion,
    severity and sophistication. Per platform: reach, usability, popularity (share of active
    groups with it as primary) and the constants alpha. Then the weights. Optional: ban
    pressure (N, K), the switching-cost factor of re-joining the banning platform (N),
    unsettled flags (N), the share of unsettled groups on each platform (K), attention to
    disclosure (N) and the platforms' exposure (K); each defaults to zeros (no ban pressure,
    free re-joining, nobody unsettled, no attention).
    """
    n, k_count = member.shape
    return (
        indptr, indices, member, active, banned_from, risk, reach_need, risk_aversion, severity,
        sophistication, reach, usability, popularity, constants, weights_array(weights),
        presence_codes(member, active),
        np.zeros((n, k_count)) if ban_pressure is None else ban_pressure,
        np.zeros(n) if rejoin is None else rejoin,
        np.zeros(n, np.bool_) if unsettled is None else unsettled,
        np.zeros(k_count) if follow is None else follow,
        np.zeros(n) if attention is None else attention,
        np.zeros(k_count) if exposure is None else exposure,
    )  # fmt: skip


@numba.njit(cache=True)
def presence_codes(member: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Pack each group's presence row and active flag into one int64.

    Bit k is platform k (K <= 62); bit 62 (``_ACTIVE_BIT``) is set for an active group.
    Counting a group's contacts then reads one small integer per contact instead of a row and
    a flag, which keeps the random reads of the contact walk in cache.
    """
    n, k_count = member.shape
    codes = np.zeros(n, np.int64)
    for i in range(n):
        c = _ACTIVE_BIT if active[i] else 0
        for k in range(k_count):
            if member[i, k]:
                c |= 1 << k
        codes[i] = c
    return codes
