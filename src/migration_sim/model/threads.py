"""Thread policy of the compiled kernels: never slower than one thread on a busy machine.

Two rules, both measured in ``benchmarks/bench_busy.py`` (figures in ``benchmarks/README.md``):

* **Idle threads sleep.** Numba's OpenMP layer (GNU libgomp) lets a thread that waits for work
  spin on the CPU. On a machine whose cores are taken by other processes, the spinning threads
  compete with the thread that does the work, and every one of the many short parallel regions
  of a step waits for a descheduled thread: a ``telegram_2024`` run took 10-50x longer with two
  threads than with one. Importing :mod:`migration_sim` therefore sets
  ``OMP_WAIT_POLICY=passive`` (:func:`migration_sim._openmp.set_wait_policy`) unless the
  variable is already set. libgomp reads it once, when numba loads it for the first parallel
  region; if another library has loaded libgomp before, the setting has no effect (set the
  variable before starting Python).
* **Small models run on one thread.** Below :data:`MIN_GROUPS_PARALLEL` groups a parallel
  region costs more in waking and waiting for a second thread than it saves; under load two
  threads were 1.6x slower than one at 3,000 groups and no faster at 10,000-30,000.

Results never depend on the thread count (``tests/test_model.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numba

__all__ = ["MIN_GROUPS_PARALLEL", "threads_for", "thread_budget"]

#: Groups from which a model's kernels use more than one of numba's threads (judgement from the
#: crossover measured in benchmarks/bench_busy.py).
MIN_GROUPS_PARALLEL = 50_000


def threads_for(n_groups: int) -> int:
    """Numba threads for a model of ``n_groups`` groups: 1 below :data:`MIN_GROUPS_PARALLEL`.

    Never more than the calling thread's current numba thread count (a sweep worker's 1 stays 1).
    """
    current = numba.get_num_threads()
    return current if n_groups >= MIN_GROUPS_PARALLEL else 1


@contextmanager
def thread_budget(n_groups: int) -> Iterator[int]:
    """Run the enclosed kernels with :func:`threads_for` threads; restore the count after.

    Yields the thread count in force. Numba's thread count is per calling thread, so this does
    not affect other Python threads.
    """
    previous = numba.get_num_threads()
    n = threads_for(n_groups)
    numba.set_num_threads(n)
    try:
        yield n
    finally:
        numba.set_num_threads(previous)
