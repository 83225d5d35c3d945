"""The errors a user can meet, and the one safe way to read the files a user names.

Every problem caused by the input or met in the environment is raised as one of the classes
below, each with the exit code the command line gives it:

``MigrationSimError``          base class; ``exit_code`` 1
``ConfigError``                bad input (a key, value, argument or file content); also a
                               ``ValueError``; exit code 2
``InputFileError``             an input file that is missing, a folder, not text, not UTF-8,
                               too large or malformed (a ``ConfigError``); exit code 2
``EnvironmentFailure``         the machine refused (permission denied, read-only or full
                               disk, too little memory); also an ``OSError``; exit code 1
``Terminated``                 SIGTERM, raised like ``KeyboardInterrupt`` so that the same
                               clean-up runs; exit code 143 (``128 + SIGTERM``)

Messages name the file or key, echo the value (cut to :data:`ECHO_LIMIT` characters by
:func:`echo`) and say what is allowed. :func:`read_text_file` and :func:`read_toml_file` are
the only readers of user files; every loader uses them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = [
    "ECHO_LIMIT",
    "MAX_INPUT_BYTES",
    "MESSAGE_LIMIT",
    "PATH_LIMIT",
    "ConfigError",
    "EnvironmentFailure",
    "InputFileError",
    "MigrationSimError",
    "Terminated",
    "check_input_file",
    "clip",
    "describe_os_error",
    "echo",
    "name_the_file",
    "read_bytes_file",
    "read_text_file",
    "read_toml_file",
    "shorten",
    "sigterm_as_exception",
]

#: Longest echo of a user value in a message, in characters.
ECHO_LIMIT = 80

#: Longest file path shown in a message, in characters.
PATH_LIMIT = 300

#: Longest message of a :class:`MigrationSimError`, in characters.
MESSAGE_LIMIT = 1000

#: Largest input file read (scenario, catalogue, sweep spec, network), in bytes.
MAX_INPUT_BYTES = 256 * 2**20

_BOM = b"\xef\xbb\xbf"


class MigrationSimError(Exception):
    """Base of the errors a user of migration_sim can cause or meet.

    The message is cut to :data:`MESSAGE_LIMIT` characters (its start and end kept), so no
    input, however long, makes a long message.
    """

    exit_code = 1

    def __str__(self) -> str:
        return clip(super().__str__())


class ConfigError(MigrationSimError, ValueError):
    """A configuration value, argument or input file is missing, unknown or not allowed."""

    exit_code = 2


class InputFileError(ConfigError):
    """An input file cannot be used: missing, a folder, binary, not UTF-8 or malformed."""


class EnvironmentFailure(MigrationSimError, OSError):
    """The environment refused: permission denied, read-only or full disk, too little memory."""

    exit_code = 1


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM; raised where KeyboardInterrupt would be."""

    exit_code = 128 + signal.SIGTERM


def shorten(text: str, limit: int = ECHO_LIMIT) -> str:
    """Return ``text`` cut to ``limit`` characters, saying how long it was.

    Examples
    --------
    >>> shorten("abcdefghij", limit=6)
    'abcde... (10 characters)'
    """
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}... ({len(text)} characters)"


def echo(value: Any, limit: int = ECHO_LIMIT) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters, saying how long it was.

    Examples
    --------
    >>> echo("x" * 1000, limit=10)
    "'xxxxxxxx... (1002 characters)"
    >>> echo(3)
    '3'
    """
    try:
        text = repr(value)
    except Exception:  # a value whose repr fails is still described
        text = f"<{type(value).__name__} object>"
    return shorten(text, limit)


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Cut ``text`` to about ``limit`` characters, keeping its start and its end.

    Examples
    --------
    >>> clip("a" * 50 + "b" * 50, limit=40)
    'aaaaaaaaaaaaaaaaaaaaaaaaa [60 characters cut] bbbbbbbbbbbbbbb'
    """
    if len(text) <= limit:
        return text
    head, tail = (limit * 5) // 8, limit - (limit * 5) // 8
    return f"{text[:head]} [{len(text) - head - tail} characters cut] {text[-tail:]}"


def describe_os_error(exc: OSError, action: str = "use") -> str:
    """Describe an ``OSError`` in one line: what was done, to which file, and why it failed.

    Parameters
    ----------
    exc
        The error.
    action
        A verb for the message (``"read"``, ``"write"``, ``"use"``).

    Returns
    -------
    str
    """
    if isinstance(exc, MigrationSimError):
        return str(exc)
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = f" {shorten(str(exc.filename), PATH_LIMIT)}" if exc.filename is not None else ""
    hint = {
        errno.ENOSPC: "; free some space or choose another folder",
        errno.EDQUOT: "; free some space or choose another folder",
        errno.EROFS: "; choose a writable folder",
        errno.EACCES: "; check the permissions or choose another path",
        errno.EPERM: "; check the permissions or choose another path",
    }.get(exc.errno or 0, "")
    return f"cannot {action}{where}: {reason}{hint}"


def name_the_file(exc: OSError, path: str | Path) -> OSError:
    """Return ``exc`` with ``path`` as its file name when it has none (``write`` errors lack it).

    A full disk reported by ``write`` says "No space left on device" without saying where;
    with the file name the message tells the user which folder is full.
    """
    if exc.filename is not None or isinstance(exc, MigrationSimError):
        return exc
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


def _path_problem(path: Path, what: str) -> InputFileError | None:
    """Say why ``path`` is not a readable regular file, or return None."""
    shown = shorten(str(path), PATH_LIMIT)
    try:
        info = path.stat()
    except FileNotFoundError:
        parent = path.parent
        if parent != path and parent.exists() and not parent.is_dir():
            return InputFileError(f"{shown}: {what} not found: {parent} is a file, not a folder")
        return InputFileError(f"{shown}: {what} not found")
    except NotADirectoryError:
        return InputFileError(f"{shown}: {what} not found: a part of the path is a file")
    except ValueError:  # a NUL character
        return InputFileError(f"{shown}: not a valid path for the {what}")
    except OSError as exc:
        if exc.errno in (errno.ENAMETOOLONG, errno.ELOOP):
            return InputFileError(f"{shown}: not a valid path for the {what}: {exc.strerror}")
        raise EnvironmentFailure(describe_os_error(exc, f"read the {what}")) from None
    if path.is_dir():
        return InputFileError(f"{shown}: the {what} is a folder; expected a file")
    if not path.is_file():
        return InputFileError(
            f"{shown}: the {what} is not a regular file (a device, pipe or socket)"
        )
    if info.st_size > MAX_INPUT_BYTES:
        return InputFileError(
            f"{shown}: the {what} is {info.st_size / 2**20:.0f} MB; at most "
            f"{MAX_INPUT_BYTES // 2**20} MB is read"
        )
    return None


def check_input_file(path: str | Path, what: str = "file") -> None:
    """Fail unless ``path`` is an existing regular file of at most :data:`MAX_INPUT_BYTES`.

    Raises
    ------
    InputFileError
        Saying what is wrong (missing, a folder, not a regular file, too large).
    EnvironmentFailure
        If the operating system refuses to look at it.
    """
    problem = _path_problem(Path(path), what)
    if problem is not None:
        raise problem


def read_bytes_file(path: str | Path, what: str = "file") -> bytes:
    """Read a user's input file as bytes, with a clear error for every way it can fail.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for the message (``"scenario file"``, ``"catalogue"``).

    Returns
    -------
    bytes

    Raises
    ------
    InputFileError
        If the file is missing, a folder, not a regular file or larger than
        :data:`MAX_INPUT_BYTES`.
    EnvironmentFailure
        If the operating system refuses to read it (permissions, I/O error).
    """
    if not isinstance(path, str | os.PathLike):
        raise ConfigError(f"{what} = {echo(path)} is not allowed: expected a file path")
    path = Path(path)
    check_input_file(path, what)
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise InputFileError(
            f"{shorten(str(path), PATH_LIMIT)}: the {what} is a folder; expected a file"
        ) from None
    except OSError as exc:
        raise EnvironmentFailure(describe_os_error(exc, f"read the {what}")) from None


def read_text_file(path: str | Path, what: str = "file") -> str:
    """Read a user's input file as UTF-8 text (no byte-order mark, no NUL bytes).

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for the message.

    Returns
    -------
    str

    Raises
    ------
    InputFileError
        As :func:`read_bytes_file`, and for a binary file, a UTF-8 byte-order mark or bytes
        that are not UTF-8 (the message gives the position).
    EnvironmentFailure
        If the operating system refuses to read it.
    """
    data = read_bytes_file(path, what)
    shown = shorten(str(path), PATH_LIMIT)
    if data.startswith(_BOM):
        raise InputFileError(
            f"{shown}: the {what} starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 "
            "without BOM"
        )
    if b"\x00" in data:
        raise InputFileError(f"{shown}: the {what} is a binary file; expected UTF-8 text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFileError(
            f"{shown}: the {what} is not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} "
            "cannot be decoded; save the file as UTF-8"
        ) from None


def read_toml_file(path: str | Path, what: str = "file") -> dict[str, Any]:
    """Read and parse a user's TOML file.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for the message.

    Returns
    -------
    dict

    Raises
    ------
    InputFileError
        As :func:`read_text_file`, and for invalid TOML (the message gives line and column).
    EnvironmentFailure
        If the operating system refuses to read it.
    """
    text = read_text_file(path, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(f"{shorten(str(path), PATH_LIMIT)}: invalid TOML: {exc}") from None


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(f"received signal {signal.Signals(signum).name}")


@contextlib.contextmanager
def sigterm_as_exception() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``).

    So a scheduler's SIGTERM runs the same clean-up as Ctrl-C: completed work is saved and
    worker processes are stopped. Only the main thread can install signal handlers; elsewhere,
    or when a handler other than the default is installed already, nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
