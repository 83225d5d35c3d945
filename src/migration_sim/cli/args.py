"""Argument types shared by the ``migration-sim`` subcommands."""

from __future__ import annotations

import argparse

__all__ = ["nonneg_int", "pos_int"]


def nonneg_int(text: str) -> int:
    """Parse an integer >= 0 (argparse type); a clear error names the value otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: expected an integer >= 0")
    return value


def pos_int(text: str) -> int:
    """Parse an integer >= 1 (argparse type)."""
    value = nonneg_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: expected an integer >= 1")
    return value
