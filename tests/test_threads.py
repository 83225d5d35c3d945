import os

import numba
import pytest

from migration_sim._openmp import set_wait_policy
from migration_sim.model import threads


def test_small_models_run_on_one_thread_large_ones_on_all():
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        assert threads.threads_for(threads.MIN_GROUPS_PARALLEL - 1) == 1
        assert threads.threads_for(threads.MIN_GROUPS_PARALLEL) == numba.config.NUMBA_NUM_THREADS
        numba.set_num_threads(1)  # a sweep worker's one thread is never raised
        assert threads.threads_for(10 * threads.MIN_GROUPS_PARALLEL) == 1
    finally:
        numba.set_num_threads(previous)


def test_thread_budget_applies_inside_and_restores_after():
    previous = numba.get_num_threads()
    with threads.thread_budget(10) as n:
        assert n == 1 and numba.get_num_threads() == 1
    assert numba.get_num_threads() == previous
    with pytest.raises(RuntimeError, match="inside"):
        with threads.thread_budget(10):
            raise RuntimeError("inside")
    assert numba.get_num_threads() == previous


def test_wait_policy_is_passive_unless_the_user_chose(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    set_wait_policy()
    assert os.environ["OMP_WAIT_POLICY"] == "passive"
    monkeypatch.setenv("OMP_WAIT_POLICY", "active")
    set_wait_policy()
    assert os.environ["OMP_WAIT_POLICY"] == "active"
