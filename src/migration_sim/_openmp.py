"""The OpenMP wait policy, set when :mod:`migration_sim` is imported (before numba loads OpenMP).

Kept apart from :mod:`migration_sim.model.threads` so that ``import migration_sim`` can set it
without importing numba; the reasons and measurements are in that module's docstring.
"""

from __future__ import annotations

import os

__all__ = ["set_wait_policy"]


def set_wait_policy() -> None:
    """Make idle OpenMP threads sleep instead of spinning (unless the user chose otherwise)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
