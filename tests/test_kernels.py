import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migration_sim.model import choice, kernels
from migration_sim.model.kernels import UtilityWeights

W = UtilityWeights(
    reach=1.0,
    network=0.0,
    popularity=0.0,
    risk=2.0,
    switch=0.0,
    usability=1.0,
    beta=1.7,
    margin=0.3,
)


def _utilities_without_contacts(n, risk, reach, usability, need, ra, sev, soph):
    """Utilities from the compiled kernel for n identical groups without contacts."""
    k = reach.size
    rows = np.arange(n)
    indptr = np.zeros(n + 1, np.int64)
    ones = np.ones(n)
    state = choice.choice_state(
        indptr, np.empty(0, np.int64), np.zeros((n, k), bool), np.ones(n, bool),
        np.full(n, -1), np.repeat(risk[None, :], n, 0), need * ones, ra * ones, sev * ones,
        soph * ones, reach, usability, np.zeros(k), np.zeros(k), W,
    )  # fmt: skip
    return choice.utility_rows(rows, state)


def test_logit_matches_analytical_probabilities():
    """Network effects and switching costs off: choice shares = softmax(beta V) exactly.

    The inverse-CDF draw maps u in [0, 1) to platform k on an interval of length p_k, so a
    fine, evenly spaced grid of u reproduces p_k to within the grid spacing.
    """
    k = 5
    reach = np.array([0.9, 0.3, 0.15, 0.6, 0.05])
    usability = np.array([0.95, 0.85, 0.65, 0.9, 0.3])
    risk = np.array([0.4, 0.05, 0.02, 0.5, 0.0])
    n = 100_000
    u = (np.arange(n) + 0.5) / n
    v, v0 = _utilities_without_contacts(n, risk, reach, usability, 0.8, 0.6, 0.9, 0.4)
    vi = 1.0 * reach * 0.8 - 2.0 * risk * 0.6 * 0.9 + 1.0 * usability * 0.6
    np.testing.assert_allclose(v0[0], vi)
    np.testing.assert_allclose(v, v0)  # switching cost weight is 0
    primary, member = choice.choose_rows(
        np.zeros((n, k), bool),
        v,
        v0,
        np.ones(k, bool),
        1,
        W.beta,
        W.margin,
        np.column_stack([u, u, u]),
    )
    p = np.exp(W.beta * vi) / np.exp(W.beta * vi).sum()
    freq = np.bincount(primary, minlength=k) / n
    assert np.abs(freq - p).max() < 2.0 / n
    assert (member.sum(axis=1) == 1).all()


def test_unavailable_platform_never_chosen_and_none_available_goes_dark():
    v = np.array([[5.0, 0.0, 0.0]])
    member = np.array([[True, False, False]])
    avail = np.array([False, True, True])
    for uu in (0.0, 0.5, 0.999):
        p, m = choice.choose_rows(
            member, v, v, avail, 2, W.beta, W.margin, np.array([[uu, 0.5, 0.5]])
        )
        assert p[0] in (1, 2) and not m[0, 0]
    p, m = choice.choose_rows(
        member, v, v, np.zeros(3, bool), 2, W.beta, W.margin, np.full((1, 3), 0.5)
    )
    assert p[0] == -1 and not m.any()


def test_pick_is_softmax_inverse_cdf():
    logits = np.array([0.0, np.log(3.0), 5.0])
    allowed = np.array([True, True, False])
    assert choice.pick(logits, allowed, 0.0) == 0
    assert choice.pick(logits, allowed, 0.2499) == 0
    assert choice.pick(logits, allowed, 0.2501) == 1
    assert choice.pick(logits, allowed, 0.9999999) == 1
    assert choice.pick(logits, np.zeros(3, bool), 0.5) == -1


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 30),
    k=st.integers(1, 7),
    max_platforms=st.integers(1, 7),
    seed=st.integers(0, 2**32 - 1),
)
def test_choice_invariants(n, k, max_platforms, seed):
    max_platforms = min(max_platforms, k)
    rng = np.random.default_rng(seed)
    member = rng.random((n, k)) < 0.3
    # start within the limit
    for i in range(n):
        on = np.flatnonzero(member[i])
        member[i, on[max_platforms:]] = False
    v0 = rng.normal(size=(n, k))
    v = v0 - 1.0 * (~member)
    avail = rng.random(k) < 0.8
    primary, new = choice.choose_rows(
        member, v, v0, avail, max_platforms, W.beta, W.margin, rng.random((n, 3))
    )
    assert (new.sum(axis=1) <= max_platforms).all()
    assert not new[:, ~avail].any()
    for i in range(n):
        if primary[i] >= 0:
            assert new[i, primary[i]]
        else:
            assert not new[i].any() and not avail.any()


def test_first_event_probability_and_split_are_analytical():
    # one group on two platforms with hazards h = a_k * b * v_k; v = (s + r_k * need) / 2
    member = np.array([[True, True, False]])
    a = np.array([0.2, 0.6, 9.0])
    reach = np.array([1.0, 0.0, 1.0])
    b, s, need = np.array([0.5]), np.array([0.4]), np.array([0.8])
    h = a[:2] * b[0] * (s[0] + reach[:2] * need[0]) / 2
    p_event = 1 - np.exp(-h.sum())
    n = 200_000
    u = (np.arange(n) + 0.5) / n
    groups, plats = kernels.first_event(
        np.repeat(member, n, 0), a, b, np.zeros(n, np.int64), np.ones(n, bool), np.repeat(s, n),
        np.repeat(need, n), reach, u,
    )  # fmt: skip
    assert np.array_equal(groups, np.flatnonzero(u < p_event))  # an event iff u < p
    assert groups.size / n == pytest.approx(p_event, abs=2 / n)
    share0 = np.mean(plats == 0)
    assert share0 == pytest.approx(h[0] / h.sum(), abs=1e-3)
    assert not (plats == 2).any()  # not a member of platform 2


def test_first_event_is_the_same_with_a_reused_work_array_and_any_thread_count():
    rng = np.random.default_rng(5)
    n, k = 5_000, 4
    member = rng.random((n, k)) < 0.5
    args = (
        member, rng.random(k), rng.random(3) * 4, rng.integers(0, 3, n), rng.random(n) < 0.9,
        rng.random(n), rng.random(n), rng.random(k), rng.random(n),
    )  # fmt: skip
    groups, plats = kernels.first_event(*args)
    assert groups.size > 100 and np.all(np.diff(groups) > 0)  # ascending, each group once
    work = np.full(n, 123, np.int64)  # stale contents must not leak into the result
    previous = numba.get_num_threads()
    try:
        for threads in (1, previous):
            numba.set_num_threads(threads)
            again = kernels.first_event(*args, work)
            assert np.array_equal(again[0], groups) and np.array_equal(again[1], plats)
    finally:
        numba.set_num_threads(previous)
    assert all(member[groups, plats])  # an event falls on a platform the group is on


def test_risk_update_fixed_point_and_observed_term():
    sev = np.array([1.0, 0.5])
    e = np.array([0.6, 0.1])
    risk = np.zeros((2, 2))
    news = np.zeros((2, 2))
    empty = np.empty(0, np.int64)
    for _ in range(400):
        kernels.update_risk(
            risk, sev, e, news, empty, empty, empty, np.empty(0), 0.9, 1.0, 3.0, 1.0
        )
    assert np.allclose(risk, np.outer(sev, e))  # steady state R* = w_policy sev e
    bumped = risk.copy()
    kernels.update_risk(
        bumped, sev, e, news, empty, np.array([1]), np.array([0]), np.array([0.5]), 0.9, 1.0, 3.0,
        1.0,
    )  # fmt: skip
    assert bumped[1, 0] - risk[1, 0] == pytest.approx(0.1 * 3.0 * 0.5)


def test_news_spreads_through_contacts_and_fades():
    import scipy.sparse as sp

    # path 0 - 1 - 2, news about platform 0 only at group 0
    adj = sp.csr_array(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float))
    deg = np.array([1, 2, 1])
    news = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    ret, spr = np.array([0.9, 0.9]), np.array([0.5, 0.5])
    s1 = kernels.spread_news(news, adj, deg, ret, spr, np.array([0]))
    assert s1[0, 0] == pytest.approx(0.9)
    assert s1[1, 0] == pytest.approx(0.9 * 0.5 * 0.5)  # mean of contacts (1+0)/2, attenuated
    assert s1[2, 0] == 0.0  # two hops away: not yet
    s2 = kernels.spread_news(s1, adj, deg, ret, spr, np.array([0]))
    assert s2[2, 0] > 0.0 and (s2[:, 1] == 0).all()


def test_observed_enforcement_counts_contacts():
    import scipy.sparse as sp

    # star: 0 is linked to 1, 2, 3; groups 1 and 2 disrupted on platform 1
    adj = sp.csr_array(np.array([[0, 1, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]], float))
    deg = np.array([3, 1, 1, 1])
    g, p, share = kernels.observed_enforcement(adj, deg, np.array([1, 2]), np.array([1, 1]), 2)
    assert g.tolist() == [0] and p.tolist() == [1]
    assert share[0] == pytest.approx(2 / 3)


def test_news_term_enters_risk_only_for_platforms_in_the_news():
    sev = np.array([1.0])
    e = np.array([0.0, 0.0])
    news = np.array([[0.5, 0.0]])
    empty = np.empty(0, np.int64)
    out = np.zeros((1, 2))
    kernels.update_risk(
        out, sev, e, news, np.array([0]), empty, empty, np.empty(0), 0.8, 1.0, 1.0, 2.0
    )
    assert out[0, 0] == pytest.approx(0.2 * 2.0 * 0.5) and out[0, 1] == 0.0


def test_tally_counts_agree_with_numpy():
    rng = np.random.default_rng(3)
    n, k, c = 500, 6, 3
    member = rng.random((n, k)) < 0.3
    active = rng.random(n) < 0.9
    member[~active] = False
    ct = rng.integers(0, c, n)
    primary = np.where(member.any(1), np.argmax(member, 1), -1)
    before = rng.integers(-1, k, n)
    risk = rng.random((n, k))
    pres, prim, hist, risk_sum, flows = kernels.tally(
        member, primary, active, ct, c, risk, before, np.ones(n, bool)
    )
    for t in range(c):
        sel = active & (ct == t)
        assert np.array_equal(pres[t], member[sel].sum(0))
        assert np.array_equal(prim[t], np.bincount(primary[sel & (primary >= 0)], minlength=k))
    assert np.array_equal(hist, np.bincount(member[active].sum(1), minlength=k + 1))
    np.testing.assert_allclose(risk_sum, risk[active].sum(0))
    assert flows.sum() == n and flows[:, k].sum() == (primary < 0).sum()


def test_calibrated_constants_reproduce_target_shares():
    rng = np.random.default_rng(0)
    v0 = rng.normal(size=(2000, 4))
    target = np.array([0.55, 0.25, 0.15, 0.05])
    alpha = kernels.calibrate_constants(v0, target, beta=1.5, switch=2.0)
    got = kernels.stationary_shares(v0 + alpha, 1.5, 2.0).mean(axis=0)
    assert np.allclose(got, target, atol=1e-6)


def test_stationary_shares_without_switching_cost_is_logit():
    v0 = np.array([[0.0, 1.0, 2.0]])
    p = np.exp(v0[0]) / np.exp(v0[0]).sum()
    assert np.allclose(kernels.stationary_shares(v0, 1.0, 0.0)[0], p)


def test_attention_rises_with_news_and_fades_by_its_memory():
    att = np.array([0.0, 0.5, 0.2])
    news = np.array([[0.4, 0.0], [0.1, 0.0], [0.0, 0.0]])
    out = kernels.update_attention(att, news, np.array([0]), 0.9)
    # max(memory * A, largest salience): raised by news, else faded
    assert out.tolist() == pytest.approx([0.4, 0.45, 0.18])
    assert att.tolist() == [0.0, 0.5, 0.2]  # a new array
    assert kernels.update_attention(att, news, np.empty(0, np.int64), 0.9).tolist() == (
        pytest.approx([0.0, 0.45, 0.18])
    )
    in_place = att.copy()
    assert kernels.update_attention(in_place, news, np.array([0]), 0.9, out=in_place) is in_place
    assert in_place.tolist() == out.tolist()  # the same values, updated in place


def test_attention_moves_leavers_to_the_platform_safer_on_paper():
    """Two equally attractive platforms, one risky on paper (exposure 0.8), one safe (0.1).

    Without attention the catalogue's exposure enters only through the perceived risk R; with
    attention A the risky platform's logit odds fall by exactly
    ``exp(-beta w_risk w_attention A (e_risky - e_safe) ra sev)``.
    """
    n, k = 2, 2
    e = np.array([0.8, 0.1])
    risk = np.zeros((n, k))  # equal perceived risk: only the new term tells them apart
    ra, sev, a = 0.5, 0.6, np.array([0.0, 0.4])
    reach, usability = np.array([0.5, 0.5]), np.array([0.5, 0.5])
    w = UtilityWeights(**{**W.__dict__, "attention": 10.0})
    state = choice.choice_state(
        np.zeros(n + 1, np.int64), np.empty(0, np.int64), np.zeros((n, k), bool),
        np.ones(n, bool), np.full(n, -1), risk, np.full(n, 0.5), np.full(n, ra),
        np.full(n, sev), np.full(n, 0.3), reach, usability, np.zeros(k), np.zeros(k), w,
        attention=a, exposure=e,
    )  # fmt: skip
    v, v0 = choice.utility_rows(np.arange(n), state)
    assert v0[0, 0] == v0[0, 1]  # no attention: the two are alike
    log_odds = w.beta * (v0[1, 0] - v0[1, 1])
    assert log_odds == pytest.approx(-w.beta * w.risk * 10.0 * 0.4 * (0.8 - 0.1) * ra * sev)
    # and the draw follows: the attentive group picks the safe platform far more often
    u = np.linspace(0.0005, 0.9995, 1000)
    picks = np.array([choice.pick(w.beta * v0[1], np.ones(k, bool), x) for x in u])
    p_safe = 1.0 / (1.0 + np.exp(log_odds))
    assert (picks == 1).mean() == pytest.approx(p_safe, abs=2e-3) and p_safe > 0.8
    # weight 0: attention is ignored (bit for bit the utilities without the term)
    state0 = (*state[:14], choice.weights_array(W), *state[15:])
    v_off, v0_off = choice.utility_rows(np.arange(n), state0)
    assert np.array_equal(v0_off[1], v0_off[0])
