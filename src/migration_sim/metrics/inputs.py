"""Shared constants and input checks of the measures (every public measure checks its arrays)."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

try:  # numba is an optional accelerator: every measure has a numpy implementation.
    import numba
except ImportError:  # pragma: no cover - exercised only where numba is absent
    numba = None

HAVE_NUMBA: bool = numba is not None
"""True when numba is importable and :func:`snapshot` can use its compiled kernels."""

MAX_PLATFORMS: int = 62
"""Largest K supported: platform sets are packed into the bits of an int64."""

NUMBA_MAX_PLATFORMS: int = 24
"""Largest K the numba kernel handles; ``backend="auto"`` uses numpy above it."""

# The numba kernel packs each group into one int64, so that a tie needs one load per end:
#   bits  0..23  platform presence (bit k = platform k)
#   bits 24..28  primary platform + 1 (0 = none)
#   bit  29      active
#   bits 32..63  index of the group's first (group, platform) presence pair
_PRIMARY_SHIFT = 24
_ACTIVE_SHIFT = 29
_OFFSET_SHIFT = 32

Backend = Literal["auto", "numba", "numpy"]


# ---------------------------------------------------------------------------------------------
# Input checking
# ---------------------------------------------------------------------------------------------


def _as_membership(membership: ArrayLike) -> NDArray[np.bool_]:
    m = np.asarray(membership)
    if m.ndim != 2:
        raise ValueError(
            f"membership must be a 2-D (N, K) boolean array, got an array of shape {m.shape}"
        )
    if m.dtype != np.bool_:
        raise ValueError(f"membership must have dtype bool, got dtype {m.dtype}")
    if m.shape[1] > MAX_PLATFORMS:
        raise ValueError(
            f"membership has K={m.shape[1]} platforms; at most MAX_PLATFORMS={MAX_PLATFORMS} "
            "are supported"
        )
    return m


def _as_bool_vector(x: ArrayLike, name: str, n: int) -> NDArray[np.bool_]:
    a = np.asarray(x)
    if a.dtype != np.bool_:
        raise ValueError(f"{name} must have dtype bool, got dtype {a.dtype}")
    if a.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got shape {a.shape}")
    return a


def _as_int_vector(x: ArrayLike, name: str, n: int | None = None) -> NDArray[np.int64]:
    a = np.asarray(x)
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, got dtype {a.dtype}")
    a = a.astype(np.int64, copy=False)
    if a.ndim != 1 or (n is not None and a.shape[0] != n):
        want = f"({n},)" if n is not None else "(E,)"
        raise ValueError(f"{name} must have shape {want}, got shape {a.shape}")
    return a


def _as_float_vector(x: ArrayLike, name: str, n: int) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64)
    if a.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got shape {a.shape}")
    return a


def _check_range(a: NDArray[np.int64], name: str, lo: int, hi: int) -> None:
    """Raise unless every value of ``a`` lies in ``[lo, hi)``."""
    if a.size == 0:
        return
    amin, amax = int(a.min()), int(a.max())
    if amin < lo or amax >= hi:
        bad = amin if amin < lo else amax
        raise ValueError(f"{name} must lie in [{lo}, {hi - 1}], got value {bad}")


def _as_edges(
    edges_u: ArrayLike, edges_v: ArrayLike, n: int, *, check: bool = True
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    u = _as_int_vector(edges_u, "edges_u")
    v = _as_int_vector(edges_v, "edges_v")
    if u.shape != v.shape:
        raise ValueError(
            f"edges_u and edges_v must have the same length, got {u.shape[0]} and {v.shape[0]}"
        )
    if check and u.size:
        _check_range(u, "edges_u", 0, n)
        _check_range(v, "edges_v", 0, n)
        bad = np.flatnonzero(u >= v)
        if bad.size:
            e = int(bad[0])
            raise ValueError(
                f"edges_u must be < edges_v for every tie (no self loops), got edge {e}: "
                f"({int(u[e])}, {int(v[e])})"
            )
    return u, v


def check_edges(edges_u: ArrayLike, edges_v: ArrayLike, n: int) -> None:
    """Check that an edge list follows the contact-network conventions.

    Parameters
    ----------
    edges_u, edges_v : array_like of int, shape (E,)
        Tie endpoints.
    n : int
        Number of groups N.

    Raises
    ------
    ValueError
        If the arrays differ in length, an endpoint is outside ``[0, n)``, a tie has
        ``edges_u >= edges_v`` (self loop or wrong order) or a tie is listed twice.

    Notes
    -----
    The measures check ranges and order themselves; only this function looks for duplicate ties.
    Time complexity: O(E log E) (one sort).
    """
    u, v = _as_edges(edges_u, edges_v, n)
    if u.size:
        key = np.sort(u * n + v)
        dup = np.flatnonzero(key[1:] == key[:-1])
        if dup.size:
            k = int(key[dup[0]])
            raise ValueError(f"edges contain the tie ({k // n}, {k % n}) more than once")


def _resolve_backend(backend: str, k: int) -> bool:
    """Return True when the numba path should be used for K = k platforms."""
    if backend == "auto":
        return HAVE_NUMBA and k <= NUMBA_MAX_PLATFORMS
    if backend == "numba":
        if not HAVE_NUMBA:
            raise ValueError("backend='numba' was requested but numba is not installed")
        if k > NUMBA_MAX_PLATFORMS:
            raise ValueError(
                f"backend='numba' handles at most NUMBA_MAX_PLATFORMS={NUMBA_MAX_PLATFORMS} "
                f"platforms, got K={k}; use backend='numpy' or 'auto'"
            )
        return True
    if backend == "numpy":
        return False
    raise ValueError(f"backend must be one of 'auto', 'numba', 'numpy', got {backend!r}")
