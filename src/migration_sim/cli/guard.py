"""The one error path of the command line: every exception becomes one line and an exit code.

Every subcommand runs inside :func:`guarded`. It maps

- :class:`~migration_sim.config.errors.MigrationSimError` to its ``exit_code`` (2 for bad input:
  a key, value, argument or input file; 1 for an output or environment problem),
- any other ``OSError`` (permission denied, read-only or full disk, ...) to 1,
- ``MemoryError`` to 1,
- Ctrl-C (SIGINT) to 130 and SIGTERM to 143, after the command's own clean-up ran,
- anything else to 1, reported as an internal error (a bug),

and prints ``migration-sim COMMAND: error: MESSAGE`` on stderr. Only ``--debug`` adds the
traceback. Warnings are printed as one line each.
"""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import TextIO

from migration_sim.config.errors import (
    MigrationSimError,
    clip,
    describe_os_error,
    sigterm_as_exception,
)

__all__ = ["EXIT_INTERRUPTED", "EXIT_TERMINATED", "add_debug_option", "guarded", "run_cli"]

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


def _one_line_warning(prefix: str) -> Callable[..., None]:
    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        print(f"{prefix}: warning: {clip(str(message))}", file=sys.stderr)

    return show


def guarded(
    command: str,
    action: Callable[[], int],
    *,
    debug: bool = False,
    interrupted: str = "nothing was written",
) -> int:
    """Run ``action`` and turn whatever it raises into a message on stderr and an exit code.

    Parameters
    ----------
    command
        The subcommand, for the message prefix.
    action
        The subcommand's work; returns the exit code.
    debug
        Print the traceback after the message.
    interrupted
        What an interruption leaves behind, appended to the interruption message.

    Returns
    -------
    int
        The exit code.
    """
    prefix = f"migration-sim {command}"
    internal = False
    error: BaseException
    try:
        with sigterm_as_exception(), warnings.catch_warnings():
            warnings.showwarning = _one_line_warning(prefix)
            return action()
    except KeyboardInterrupt as exc:
        code = getattr(exc, "exit_code", EXIT_INTERRUPTED)
        what = "terminated (SIGTERM)" if code == EXIT_TERMINATED else "interrupted"
        print(f"{prefix}: {what}; {interrupted}", file=sys.stderr)
        if debug:
            traceback.print_exc()
        return code
    except MigrationSimError as exc:
        error, code, message = exc, exc.exit_code, str(exc)
    except OSError as exc:
        error, code, message = exc, 1, describe_os_error(exc)
    except MemoryError as exc:
        error, code, message = exc, 1, "out of memory; try fewer groups, steps or workers"
    except Exception as exc:  # the last line of defence: a bug, still without a traceback
        error, code, internal = exc, 1, True
        message = f"internal error: {type(exc).__name__}: {clip(str(exc))}"
    if internal and not debug:
        message += " (a bug in migration-sim; rerun with --debug for the traceback and report it)"
    print(f"{prefix}: error: {message}", file=sys.stderr)
    if debug:
        traceback.print_exception(error)
    return code


def add_debug_option(parser: argparse.ArgumentParser, subparsers: argparse.Action) -> None:
    """Add ``--debug`` to ``parser`` and to each subcommand (before or after the subcommand)."""
    text = "on an error, also print the Python traceback"
    parser.add_argument("--debug", action="store_true", help=text)
    for sub in getattr(subparsers, "choices", {}).values():
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=text)


def run_cli(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    """Parse ``argv`` and run the chosen subcommand (its ``func``) inside :func:`guarded`.

    Returns
    -------
    int
        The exit code.
    """
    args = parser.parse_args(argv)
    return guarded(
        args.command,
        lambda: args.func(args),
        debug=args.debug,
        interrupted=getattr(args, "interrupted", "no results folder was written"),
    )
