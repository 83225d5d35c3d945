"""The simulation: state arrays, kernels, shocks and the scheduled :class:`MigrationModel`.

Modules
-------
``platforms``  platform state (attribute arrays of the catalogue)
``groups``     group state arrays and the :class:`CriminalGroup` Mesa view with the reference rule
``network``    contact-network generators, user graphs, CSR adjacency
``kernels``    pure array functions: risk, exposure, enforcement, news
``choice``     the compiled per-group choice pass
``ties``       tie dynamics (breaking and re-forming contact ties)
``shocks``     what each policy shock does to a running model
``model``      :class:`MigrationModel`: the ordered schedule (ODD process overview) and :func:`run`
``runner``     scenario runs and replicate seeds
"""

from migration_sim.model.groups import CriminalGroup
from migration_sim.model.model import SCHEDULE, STREAMS, MigrationModel, resolve_config, run
from migration_sim.model.runner import replicate_seeds, run_scenario

# Sweeps record and fingerprint their run function by its qualified name; keep the public one so
# that a sweep folder written before the package layout changed still resumes.
run.__module__ = __name__

__all__ = [
    "SCHEDULE",
    "STREAMS",
    "CriminalGroup",
    "MigrationModel",
    "replicate_seeds",
    "resolve_config",
    "run",
    "run_scenario",
]
