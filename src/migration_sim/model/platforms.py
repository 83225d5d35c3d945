"""Platform state: the catalogue's attributes as arrays that policy shocks can change.

The catalogue itself (a TOML data file shipped in ``migration_sim/data/platforms.toml``) is read
by :mod:`migration_sim.config`; this module turns it into mutable per-run arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from migration_sim.config import PlatformSpec

__all__ = ["PlatformState", "ATTRIBUTES"]

ATTRIBUTES = ("disclosure", "identifiability", "e2ee", "reach", "usability", "moderation")


@dataclass
class PlatformState:
    """Per-platform arrays of length K, in catalogue order.

    Attributes
    ----------
    names : list of str
        Platform names.
    disclosure, identifiability, e2ee, reach, usability, moderation : numpy.ndarray
        Catalogue attributes in [0, 1]; shocks may change them during a run.
    available : numpy.ndarray
        False once a platform has been taken down.
    immune : numpy.ndarray
        True where policy contagion can never make the platform disclose.
    enforcement_multiplier, moderation_multiplier : numpy.ndarray
        Scale factors on the enforcement and moderation hazards (crackdowns, ban waves).
    """

    names: list[str]
    disclosure: np.ndarray
    identifiability: np.ndarray
    e2ee: np.ndarray
    reach: np.ndarray
    usability: np.ndarray
    moderation: np.ndarray
    available: np.ndarray
    immune: np.ndarray
    enforcement_multiplier: np.ndarray
    moderation_multiplier: np.ndarray

    @classmethod
    def from_specs(cls, specs: tuple[PlatformSpec, ...]) -> PlatformState:
        """Build the initial state from catalogue rows."""
        k = len(specs)
        attrs = {a: np.array([getattr(s, a) for s in specs], dtype=np.float64) for a in ATTRIBUTES}
        return cls(
            names=[s.name for s in specs],
            available=np.ones(k, dtype=bool),
            immune=np.array([s.immune for s in specs], dtype=bool),
            enforcement_multiplier=np.ones(k),
            moderation_multiplier=np.ones(k),
            **attrs,
        )

    def index(self, name: str) -> int:
        """Index of a platform by name; ValueError naming the known platforms otherwise."""
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(f"unknown platform {name!r}; known: {', '.join(self.names)}") from None
