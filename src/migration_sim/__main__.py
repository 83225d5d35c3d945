"""``python -m migration_sim``: the ``migration-sim`` command."""

import sys

from migration_sim.cli import main

sys.exit(main())
