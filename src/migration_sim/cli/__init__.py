"""The ``migration-sim`` command, the top layer.

``main`` runs, compares and validates scenarios; ``sweep`` adds the sweep and analyze
subcommands.
"""

from migration_sim.cli.commands import build_parser, main

__all__ = ["build_parser", "main"]
