"""Everything a run reads, checked before anything is allocated.

:func:`check_run_inputs` is called by :class:`~migration_sim.model.MigrationModel` and by
``migration-sim validate``, so that validating a scenario checks exactly what a run would read:
the configuration, the contact network (a ``graph`` argument or the ``network.path`` file,
parsed and matched against ``groups.n_groups``) and the memory the run needs.

The memory estimate is a linear model measured on this code (peak resident memory of runs
with 100,000 and 200,000 groups, mean degree 8 and 16, 10 and 100 steps, minus the memory of
the imported package): about 620 bytes per group, 47 per group and unit of mean degree and 6
per group and step. The constants below round these up. The check fails only when the
estimate exceeds the memory the machine has available, so it never refuses a run that fits.
"""

from __future__ import annotations

import os
from typing import Any

import networkx as nx

from migration_sim.config import Config, ConfigError
from migration_sim.config.errors import echo
from migration_sim.model.network import check_graph_nodes, load_graph

__all__ = ["available_memory", "check_memory", "check_run_inputs", "estimate_memory"]

#: Bytes of a run per group, per group and unit of mean degree, and per group and step.
BYTES_PER_GROUP = 700
BYTES_PER_GROUP_DEGREE = 50
BYTES_PER_GROUP_STEP = 8


def estimate_memory(cfg: Config) -> int:
    """Rough number of bytes a run of ``cfg`` needs beyond the imported package.

    Parameters
    ----------
    cfg
        The configuration.

    Returns
    -------
    int
        Bytes (Python integer arithmetic, so absurd sizes give absurd numbers, not overflow).
    """
    n = int(cfg.groups.n_groups)
    per_group = (
        BYTES_PER_GROUP
        + BYTES_PER_GROUP_DEGREE * float(cfg.network.mean_degree)
        + BYTES_PER_GROUP_STEP * int(cfg.run.steps)
    )
    return int(n * per_group)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gb(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.3g} GB"


def check_memory(cfg: Config, available: int | None = None) -> None:
    """Fail fast when a run of ``cfg`` cannot fit in the memory the machine has.

    Parameters
    ----------
    cfg
        The configuration.
    available
        Bytes available; default :func:`available_memory`. None (unknown) skips the check.

    Raises
    ------
    ConfigError
        Naming ``groups.n_groups``, the estimate, the memory available and the largest
        number of groups that fits.
    """
    available = available_memory() if available is None else available
    if available is None:
        return
    need = estimate_memory(cfg)
    if need <= available:
        return
    per_group = need / cfg.groups.n_groups
    raise ConfigError(
        f"groups.n_groups = {cfg.groups.n_groups} is not allowed on this machine: a run of "
        f"{cfg.run.steps} steps with network.mean_degree = {cfg.network.mean_degree:g} needs "
        f"about {_gb(need)} of memory (rough estimate) and {_gb(available)} is available; "
        f"expected at most about {int(available / per_group):,} groups"
    )


def check_run_inputs(cfg: Config, graph: Any = None) -> nx.Graph | None:
    """Check everything a run of ``cfg`` reads; return the contact network to use, if any.

    Parameters
    ----------
    cfg
        A validated configuration.
    graph
        A ``networkx.Graph`` given by the caller, or None.

    Returns
    -------
    networkx.Graph or None
        ``graph``, or the graph read from ``network.path``, or None (the generator is used).

    Raises
    ------
    ConfigError
        If ``graph`` is not a networkx graph, the network file is missing or malformed, its
        nodes do not match the groups, or the run needs more memory than is available.
    """
    if graph is not None and not isinstance(graph, nx.Graph):
        raise ConfigError(
            f"graph = {echo(graph)} is not allowed: expected a networkx.Graph with nodes "
            "0 .. n_groups - 1, or None"
        )
    check_memory(cfg)
    if graph is None and cfg.network.path:
        try:
            graph = load_graph(cfg.network.path)
        except ConfigError as exc:
            raise type(exc)(f"network.path: {exc}") from None
    if graph is not None:
        check_graph_nodes(graph, cfg.groups.n_groups)
    return graph
