"""Atomic file writes shared by every layer: a reader never sees a half-written file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from migration_sim.config.errors import name_the_file

__all__ = ["atomic_write_bytes", "atomic_write_text"]

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write bytes to ``path`` atomically: temporary file in the same folder, fsync, rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            raise name_the_file(exc, path) from exc
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write text (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
