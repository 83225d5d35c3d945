"""Fragmentation and monitoring measures of the criminal platform ecosystem.

Every function here is pure: arrays in, numbers out. None of them sees a model object, so the
model, the tests, the benchmarks and analysts in notebooks all call the same code.

State conventions
-----------------
``N`` groups and ``K`` platforms (``K <= MAX_PLATFORMS``).

membership : (N, K) bool
    ``membership[i, k]`` is True when group ``i`` is present on platform ``k``.
active : (N,) bool
    False for groups removed by enforcement. Rows of inactive groups in ``membership`` are
    ignored, whatever they hold (the model keeps them all False).
primary : (N,) int64
    Index of the group's primary platform, ``-1`` for a group with none ("dark").
edges_u, edges_v : (E,) int64
    The undirected contact network, one entry per tie, ``edges_u < edges_v``, no duplicates.
    Ties that touch an inactive group stay in these arrays; every measure treats such a tie as
    gone (it is not counted anywhere, neither as kept nor as broken).
size : (N,) float64
    Group size (> 0).
severity : (N,) float64
    Enforcement priority of the group's crime type, in ``[0, 1]``.
crime_type : (N,) int64
    Crime-type index in ``[0, C)``.

Conventions for the results: shares are fractions in ``[0, 1]``; a measure whose denominator is
empty (no active group, no tie, no presence) is ``nan``, never a silent zero.

Speed
-----
The per-measure functions below are written with numpy and scipy and are the reference
implementations. :func:`snapshot` computes all per-step measures at once; when numba is
installed (and ``K <= NUMBA_MAX_PLATFORMS``) it uses compiled kernels (one pass over the groups,
one over the ties and a union-find for all components, on numba's threads) and otherwise
composes the numpy functions. Both paths return identical values: integer counts are
computed by both and every floating-point reduction is shared code. Ties sorted by ``edges_u``
(as ``network.ContactNetwork`` stores them) are faster than ties in random order.

Modules
-------
``inputs``         shared constants and input checks
``concentration``  HHI, effective number of platforms, entropy, counts per platform
``broken_ties``    ties whose two ends share no platform
``components``     components of the communication graph and of each platform's subgraph
``modularity``     Newman modularity under a platform partition
``coverage``       monitoring coverage and the coverage curve
``dynamics``       net flows and the migration response after a shock
``summary``        before/after fragmentation summary around shocks
``step``           every per-step measure in one call (:func:`snapshot`), numpy and numba paths
``step_kernels``   the compiled kernels behind :func:`snapshot`
"""

from migration_sim.metrics.broken_ties import BrokenTies, broken_ties, platform_bits
from migration_sim.metrics.components import (
    Components,
    PlatformComponents,
    communication_components,
    communication_labels,
    platform_components,
)
from migration_sim.metrics.concentration import (
    Concentration,
    concentration,
    effective_number,
    hhi,
    presence_counts,
    presence_counts_by_type,
    primary_counts,
    primary_counts_by_type,
    shannon_entropy,
)
from migration_sim.metrics.coverage import (
    Coverage,
    coverage_curve,
    monitored_mask,
    monitoring_coverage,
    platform_ranking,
    top_platforms,
)
from migration_sim.metrics.dynamics import (
    GroupMigration,
    MigrationResponse,
    group_migration,
    migration_response,
    net_flows,
    steps_to_fraction,
)
from migration_sim.metrics.inputs import HAVE_NUMBA, MAX_PLATFORMS, NUMBA_MAX_PLATFORMS, check_edges
from migration_sim.metrics.modularity import modularity, primary_modularity
from migration_sim.metrics.step import snapshot, snapshot_columns
from migration_sim.metrics.summary import fragmentation_summary

__all__ = [
    "HAVE_NUMBA",
    "MAX_PLATFORMS",
    "NUMBA_MAX_PLATFORMS",
    "BrokenTies",
    "Components",
    "Concentration",
    "Coverage",
    "MigrationResponse",
    "PlatformComponents",
    "broken_ties",
    "check_edges",
    "communication_components",
    "communication_labels",
    "concentration",
    "coverage_curve",
    "effective_number",
    "fragmentation_summary",
    "hhi",
    "migration_response",
    "group_migration",
    "GroupMigration",
    "modularity",
    "monitored_mask",
    "monitoring_coverage",
    "net_flows",
    "platform_bits",
    "platform_components",
    "platform_ranking",
    "presence_counts",
    "presence_counts_by_type",
    "primary_counts",
    "primary_counts_by_type",
    "primary_modularity",
    "shannon_entropy",
    "snapshot",
    "snapshot_columns",
    "steps_to_fraction",
    "top_platforms",
]
