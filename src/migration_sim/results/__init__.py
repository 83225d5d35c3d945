"""What a run leaves: per-step results, their tables and figures, and results folders.

Modules
-------
``core``        the preallocated :class:`Recorder` and the :class:`Results` tables
``plots``       matplotlib figures of results
``folder``      results folders on disk: staged, atomic, with provenance
``provenance``  package version and git state of the running code
"""

from migration_sim.config.files import atomic_write_bytes, atomic_write_text
from migration_sim.results.core import DAYS_PER_STEP, Recorder, Results

__all__ = ["DAYS_PER_STEP", "Recorder", "Results", "atomic_write_bytes", "atomic_write_text"]
