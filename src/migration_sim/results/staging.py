"""Results folders appear whole or not at all, and ``--force`` replaces only our own.

A results folder is built in a hidden temporary sibling ``.<name>.tmp-<pid>``; the ``COMPLETE``
marker is written last and the folder is then renamed into place. Replacing an existing folder
(``force``) swaps the two folders in one atomic ``renameat2(RENAME_EXCHANGE)`` call on Linux, so
a reader or a kill at any moment sees the old results or the new ones, never neither. Where
the exchange is not supported, the old folder is renamed aside (``.<name>.old-<pid>``) first;
if the process dies between the two renames, the next write to the same destination puts the
old folder back before anything else.

``force`` replaces only a results folder of this project (it holds ``COMPLETE`` and
``metadata.json``) or an empty folder; a plain file, a link or any other folder is refused.
Hidden temporary folders left by killed processes are removed on the next write to the same
destination.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from migration_sim.config.errors import (
    PATH_LIMIT,
    MigrationSimError,
    shorten,
)
from migration_sim.config.files import atomic_write_text

__all__ = [
    "COMPLETE",
    "METADATA",
    "OutputExistsError",
    "check_destination",
    "is_complete",
    "is_results_folder",
    "staged_folder",
]

#: Name of the marker file written last into a finished results folder.
COMPLETE = "COMPLETE"
#: Provenance file every results folder holds; with ``COMPLETE`` it marks the folder as ours.
METADATA = "metadata.json"

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class OutputExistsError(MigrationSimError, FileExistsError):
    """The destination exists and may not be replaced (no ``force``, or not our folder)."""

    exit_code = 1


def is_complete(folder: str | Path) -> bool:
    """True if ``folder`` is a finished results folder (it holds the ``COMPLETE`` marker)."""
    return (Path(folder) / COMPLETE).is_file()


def is_results_folder(folder: str | Path) -> bool:
    """True if ``folder`` was written by migration_sim: it holds ``COMPLETE`` and metadata."""
    folder = Path(folder)
    return (
        folder.is_dir()
        and not folder.is_symlink()
        and is_complete(folder)
        and (folder / METADATA).is_file()
    )


def check_destination(dest: str | Path, *, force: bool) -> None:
    """Fail unless a results folder may be written at ``dest``.

    Parameters
    ----------
    dest
        The results folder to create.
    force
        Whether replacing an existing results folder was requested.

    Raises
    ------
    OutputExistsError
        If ``dest`` exists and ``force`` is false, or ``dest`` exists and is not a results
        folder of migration_sim (nor an empty folder), or a part of its path is a file.
    """
    dest = Path(dest)
    shown = shorten(str(dest), PATH_LIMIT)
    for parent in dest.parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise OutputExistsError(
                    f"--out {shown}: {shorten(str(parent), PATH_LIMIT)} is a file, not a "
                    "folder; choose another --out"
                )
            break
    if not (dest.exists() or dest.is_symlink()):
        return
    if not force:
        raise OutputExistsError(
            f"output folder {shown} already exists; choose another --out or pass --force to "
            "replace it"
        )
    if dest.is_symlink() or not dest.is_dir():
        kind = "a symbolic link" if dest.is_symlink() else "a file"
        raise OutputExistsError(
            f"--out {shown} is {kind}, not a results folder; --force replaces only results "
            f"folders written by migration-sim (they hold {COMPLETE} and {METADATA}); choose "
            "another --out"
        )
    if not is_results_folder(dest) and any(dest.iterdir()):
        raise OutputExistsError(
            f"--out {shown} is not a results folder of migration-sim (it lacks {COMPLETE} or "
            f"{METADATA}); --force replaces only those, so nothing else is ever deleted; "
            "choose another --out"
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_stale(dest: Path) -> None:
    """Restore an old folder left aside by a killed replace; remove dead processes' temps."""
    for kind in ("old", "tmp"):
        for path in dest.parent.glob(f".{dest.name}.{kind}-*"):
            pid = path.name.rpartition("-")[2]
            if not pid.isdigit() or _pid_alive(int(pid)) or not path.is_dir():
                continue
            if kind == "old" and not (dest.exists() or dest.is_symlink()):
                path.rename(dest)
            else:
                shutil.rmtree(path, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False if not supported here."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


@contextlib.contextmanager
def staged_folder(dest: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Build a folder in a hidden temporary sibling and move it to ``dest`` when done.

    On normal exit of the ``with`` block the ``COMPLETE`` marker is written and the folder is
    moved to ``dest``, replacing an existing results folder only with ``force`` (atomically,
    see the module docstring). On any exception (including KeyboardInterrupt) the temporary
    folder is removed and ``dest`` is untouched.

    Parameters
    ----------
    dest : str or pathlib.Path
        The final folder.
    force : bool
        Replace ``dest`` if it is a results folder of migration_sim.

    Yields
    ------
    pathlib.Path
        The temporary folder to write into.

    Raises
    ------
    OutputExistsError
        See :func:`check_destination`.
    """
    dest = Path(dest)
    check_destination(dest, force=force)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale(dest)
    check_destination(dest, force=force)  # a restored old folder needs force too
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        atomic_write_text(tmp / COMPLETE, datetime.now().astimezone().isoformat() + "\n")
        check_destination(dest, force=force)  # something may have appeared meanwhile
        if not dest.exists():
            tmp.rename(dest)
        elif _exchange(tmp, dest):
            shutil.rmtree(tmp)  # tmp now holds the old results
        else:
            old = dest.parent / f".{dest.name}.old-{os.getpid()}"
            dest.rename(old)
            tmp.rename(dest)
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
