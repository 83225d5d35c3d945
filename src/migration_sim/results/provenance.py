"""Where results come from: the package version and the git state of the source tree."""

from __future__ import annotations

import functools
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = ["package_version", "source_provenance"]


def package_version() -> str:
    """The installed package's version (``"0+unknown"`` when run from a bare source tree)."""
    try:
        return version("migration_sim")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


@functools.cache
def source_provenance() -> dict[str, Any]:
    """Package version and git commit of the code that is running.

    Returns
    -------
    dict
        ``package_version`` (from importlib.metadata), ``git_commit`` and ``git_dirty``
        (``None`` when the package is not in a git work tree or git is missing).
    """
    try:
        pkg_version: str | None = version("migration_sim")
    except PackageNotFoundError:
        pkg_version = None
    src = Path(__file__).resolve().parent

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", "-C", str(src), *args],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    commit = git("rev-parse", "HEAD") or None
    dirty = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {
        "package_version": pkg_version,
        "git_commit": commit,
        "git_dirty": None if dirty is None else bool(dirty),
    }
