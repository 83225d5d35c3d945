"""Parameter sweeps, replicates and sensitivity analysis: the layer above the model.

Modules
-------
``spec``         sweep spec files: parameters, designs (grid, random, LHS, Sobol, Morris), outcomes
``outcomes``     outcome expressions evaluated on a run's time series
``store``        the crash-safe, resumable parquet store of a sweep's runs
``executors``    :func:`run_sweep` on a process pool, a Dask cluster or any executor
``sensitivity``  Sobol and Morris indices, replicate bands and heatmaps of a finished sweep
"""

from migration_sim.sweep.executors import (
    DEFAULT_EMA_OUTCOMES,
    EMAModel,
    SweepError,
    SweepReport,
    ema_model,
    fingerprint,
    reproduce_run,
    run_seed,
    run_sweep,
)
from migration_sim.sweep.spec import Design, Parameter, SweepSpec, SweepSpecError, load_sweep_spec
from migration_sim.sweep.store import SweepStoreError, load_summary, load_timeseries

__all__ = [
    "DEFAULT_EMA_OUTCOMES",
    "Design",
    "EMAModel",
    "Parameter",
    "SweepError",
    "SweepReport",
    "SweepSpec",
    "SweepSpecError",
    "SweepStoreError",
    "ema_model",
    "fingerprint",
    "load_summary",
    "load_sweep_spec",
    "load_timeseries",
    "reproduce_run",
    "run_seed",
    "run_sweep",
]
