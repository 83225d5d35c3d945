"""Parameter sweeps and replicates on any ``concurrent.futures.Executor``.

:func:`run_sweep` runs every point of a :class:`~migration_sim.sweep.spec.SweepSpec` design
``replicates`` times and records the outcomes in a crash-safe store
(:mod:`migration_sim.sweep.store`). Rerunning into the same folder resumes: complete runs are
skipped, missing runs (and, with ``retry_failed``, failed runs) are run.

Seeds: run ``i`` of a sweep with master seed ``m`` uses
``numpy.random.SeedSequence(m).spawn(n_runs)[i]`` (with ``common_random_numbers``, child ``r``
of replicate ``r``), so results depend only on the spec, never on the executor, the number of
workers or the order runs finish in.

Executors: ``workers=1`` runs in this process; ``workers=N`` uses a process pool (forkserver
start method: guard scripts with ``if __name__ == "__main__":``); ``scheduler=ADDRESS`` uses a
Dask cluster (``dask.distributed.Client(address).get_executor()``); ``executor=`` takes any
other ``concurrent.futures.Executor``, e.g. ``mpi4py.futures.MPIPoolExecutor()``. Runs are
submitted in tasks of several runs each, so per-task overhead stays small.

Examples
--------
>>> from migration_sim.sweep import Parameter, Design, SweepSpec
>>> spec = SweepSpec(
...     parameters=[Parameter("choice.beta", values=(1.0, 2.0))],
...     outcomes=["final:n_active"], replicates=3, seed=7,
... )
>>> spec.n_runs
6
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import json
import math
import multiprocessing
import multiprocessing.forkserver
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm.auto import tqdm

from migration_sim.config.errors import (
    ConfigError,
    MigrationSimError,
    echo,
    shorten,
    sigterm_as_exception,
)
from migration_sim.results.provenance import source_provenance
from migration_sim.sweep.outcomes import Outcome, evaluate_outcomes
from migration_sim.sweep.spec import (
    Design,
    Parameter,
    SweepSpec,
    SweepSpecError,
    check_against_config,
    load_sweep_spec,
)
from migration_sim.sweep.store import (
    SweepStore,
    SweepStoreError,
    load_design,
    load_summary,
    load_timeseries,
    read_meta,
)

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
    "safe_start_method",
]

RunFn = Callable[..., Any]
TARGET_TASK_SECONDS = 1.0  # adaptive task size: about this much run time per task
MAX_RUNS_PER_TASK = 256
_ARROW_TYPE = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(), "str": pa.string()}


class SweepError(MigrationSimError, RuntimeError):
    """The sweep could not go on (a worker died, the executor failed, every run failed)."""


class _FailFast(Exception):
    """Internal: the first runs all failed."""


# ---------------------------------------------------------------------------- seeds
def run_seed(master: int, key: int) -> np.random.SeedSequence:
    """Return the seed of one run: child ``key`` of ``SeedSequence(master)``.

    Identical to ``SeedSequence(master).spawn(n)[key]`` for any ``n > key``, without
    spawning the children before it.

    Examples
    --------
    >>> import numpy as np
    >>> a = run_seed(42, 3).generate_state(2)
    >>> b = np.random.SeedSequence(42).spawn(5)[3].generate_state(2)
    >>> bool((a == b).all())
    True
    """
    return np.random.SeedSequence(master, spawn_key=(key,))


def _seed_key(spec: SweepSpec, run_id: int) -> int:
    return run_id % spec.replicates if spec.common_random_numbers else run_id


# ---------------------------------------------------------------------------- model access
#: Entry-point group of the models a sweep spec may name without ``allow_import``.
MODEL_ENTRY_POINTS = "migration_sim.models"


def installed_models() -> dict[str, str]:
    """The models installed as entry points: ``{name: "module:function"}``.

    A package makes its model available to sweep specs by declaring, in its
    ``pyproject.toml``, ``[project.entry-points."migration_sim.models"]`` with
    ``name = "module:function"``; migration_sim registers its own as ``migration_sim``.
    """
    return {ep.name: ep.value for ep in importlib.metadata.entry_points(group=MODEL_ENTRY_POINTS)}


def _resolve_run_fn(run_fn: RunFn | str | None, spec: SweepSpec, allow_import: bool) -> RunFn:
    """The run function: ``run_fn`` if callable, else the named model.

    A name from a spec or a results folder is code chosen by whoever wrote the file, so it
    is imported only when it names an installed model (:func:`installed_models`, by name or
    by ``module:function``) or when the caller passed ``allow_import`` (``--allow-import``).
    A ``run_fn`` string passed by the caller is the caller's own choice and always imported.
    """
    target = spec.model if run_fn is None else run_fn
    if callable(target):
        return target
    name = str(target)
    models = installed_models()
    if name in models:
        name = models[name]
    elif name not in models.values() and not (allow_import or run_fn is not None):
        raise SweepSpecError(
            f"model = {echo(name)} is not allowed: expected an installed model, one of "
            f"{', '.join(sorted({*models, *models.values()})) or 'none'}; importing any other "
            "module runs its code, so it needs --allow-import (allow_import=True)"
        )
    module, _, attr = name.partition(":")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except Exception as exc:  # importing runs the module: any error is the model's
        raise SweepSpecError(
            f"model = {echo(name)} cannot be imported: {type(exc).__name__}: "
            f"{shorten(str(exc), 200)}"
        ) from None
    if not callable(fn):
        raise SweepSpecError(f"model = {echo(name)} is not allowed: it is not a function")
    return fn


def _qualified_name(fn: RunFn) -> str:
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', type(fn).__name__)}"


def _is_real_model(fn: RunFn) -> bool:
    from migration_sim.model.model import run

    return fn is run


def _load_base_config(scenario: Path | None) -> Any:
    """Load the scenario's Config, or the model defaults."""
    if scenario is None:
        from migration_sim.config import default_config

        return default_config()
    from migration_sim.config.scenario import load_scenario

    return load_scenario(scenario)


def _config_from_dict(base_config: Mapping[str, Any] | None) -> Any:
    """Rebuild a stored base config (``None`` stays ``None``: the model defaults)."""
    if base_config is None:
        return None
    from migration_sim.config import Config

    return Config.from_dict(base_config)


def _make_config(base: Any, overrides: dict[str, Any]) -> Any:
    """Build what the run function receives: the overrides, or the base Config with them."""
    return overrides if base is None else base.with_overrides(overrides)


# ---------------------------------------------------------------------------- worker side
@dataclass(frozen=True)
class _Task:
    """A batch of runs shipped to one worker (picklable)."""

    run_fn: RunFn
    base_config: dict[str, Any] | None
    steps: int | None
    fixed: dict[str, Any]
    outcomes: tuple[Outcome, ...]
    timeseries: bool | tuple[str, ...]
    runs: tuple[tuple[int, dict[str, Any], np.random.SeedSequence], ...]


def _run_task(task: _Task) -> list[dict[str, Any]]:
    """Run a batch; each run's failure is caught and recorded, never raised.

    Runs use one numba thread: a sweep's parallelism comes from running runs side by side, so
    N workers never oversubscribe N cores (results do not depend on the thread count).
    """
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return _run_batch(task)
    finally:
        numba.set_num_threads(previous)


def _run_batch(task: _Task) -> list[dict[str, Any]]:
    records = []
    base = _config_from_dict(task.base_config)
    for run_id, params, seed in task.runs:
        start = time.perf_counter()
        record: dict[str, Any] = {"run_id": run_id, "outcomes": {}, "timeseries": None}
        try:
            config = _make_config(base, {**task.fixed, **params})
            results = task.run_fn(config, seed=seed, steps=task.steps)
            record["outcomes"] = evaluate_outcomes(task.outcomes, results)
            if task.timeseries:
                ts = results.timeseries
                if not isinstance(task.timeseries, bool):
                    missing = sorted(set(task.timeseries) - set(ts.columns))
                    if missing:
                        raise KeyError(f"save_timeseries names missing columns {missing}")
                    ts = ts[list(task.timeseries)]
                record["timeseries"] = ts
            record |= {"status": "ok", "error": None, "traceback": None}
        except Exception as exc:  # a failing run is recorded and the sweep goes on
            record |= {
                "outcomes": {},
                "timeseries": None,
                "status": "failed",
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(),
            }
        record["run_time"] = time.perf_counter() - start
        records.append(record)
    return records


# ---------------------------------------------------------------------------- executors
class _InlineExecutor(Executor):
    """Runs each task in this process at submit time (``workers=1``)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


@contextlib.contextmanager
def _open_executor(
    workers: int | None, scheduler: str | None, executor: Executor | None
) -> Iterator[tuple[Executor, int]]:
    """Yield (executor, number of parallel slots); shut down what this function started."""
    if executor is not None:
        yield executor, workers or os.cpu_count() or 1
    elif scheduler is not None:
        try:
            from dask.distributed import Client
        except ImportError:
            raise SweepError(
                "--scheduler needs dask.distributed: pip install 'migration_sim[distributed]'"
            ) from None
        try:
            client = Client(scheduler)
        except (OSError, TimeoutError) as exc:
            raise SweepError(f"cannot connect to the Dask scheduler {scheduler!r}: {exc}") from None
        with client:
            slots = sum(client.nthreads().values()) or 1
            yield client.get_executor(pure=False), slots
    elif (workers or os.cpu_count() or 1) == 1:
        yield _InlineExecutor(), 1
    else:
        n = workers or os.cpu_count() or 1
        pool = ProcessPoolExecutor(max_workers=n, mp_context=_forkserver())
        try:
            yield pool, n
        except BaseException:
            _stop_pool(pool)
            raise
        pool.shutdown(wait=True)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a process pool now: cancel queued tasks, end its workers and the forkserver.

    Used when the sweep is interrupted (Ctrl-C, SIGTERM) or fails, so that no process of the
    sweep outlives it; runs in flight are lost (they were not stored) and rerun on resume.
    ``ProcessPoolExecutor`` has no public way to end running workers before Python 3.14
    (``terminate_workers``), hence the use of its process table.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.terminate()
    for proc in processes:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=5)
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    with contextlib.suppress(Exception):
        server._stop()  # the forkserver would otherwise live as long as this process


def safe_start_method() -> str:
    """Make ``forkserver`` the default multiprocessing start method where it is ``fork``.

    Tools that take the default (EMA Workbench's ``MultiprocessingEvaluator``) then do not
    fork a process that already ran the model: forking after numba's OpenMP threads started
    ("fork() called from a process already using GNU OpenMP") can hang the workers. A start
    method chosen explicitly (``spawn`` or ``forkserver``) is kept.

    Returns
    -------
    str
        The default start method now in force.
    """
    if multiprocessing.get_start_method(allow_none=True) in (None, "fork"):
        multiprocessing.set_start_method("forkserver", force=True)
    return multiprocessing.get_start_method()


_SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _forkserver() -> multiprocessing.context.BaseContext:
    """Return the forkserver context, its server started with single-threaded BLAS.

    The server imports the package once and every worker forks from it. Like Dask's nanny,
    it limits BLAS/OpenMP to one thread per worker process (unless those variables are set
    already), so that N workers do not oversubscribe N cores.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["migration_sim.sweep.executors"])
    added = {k: v for k, v in _SINGLE_THREAD_ENV.items() if k not in os.environ}
    os.environ.update(added)
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        for key in added:
            del os.environ[key]
    return ctx


# ---------------------------------------------------------------------------- the runner
@dataclass(frozen=True)
class SweepReport:
    """What one call of :func:`run_sweep` did.

    Attributes
    ----------
    directory
        The sweep folder.
    n_runs
        Runs in the whole sweep.
    n_skipped
        Runs already complete in the folder (not rerun).
    n_ok, n_failed
        Runs completed now, successfully or with an error.
    elapsed
        Wall time in seconds.
    """

    directory: Path
    n_runs: int
    n_skipped: int
    n_ok: int
    n_failed: int
    elapsed: float

    def summary(self) -> pd.DataFrame:
        """Load the sweep's summary table (see :func:`load_summary`)."""
        return load_summary(self.directory)


def fingerprint(spec: SweepSpec, model: str, base_config: Mapping[str, Any] | None) -> str:
    """Hash of everything that determines a sweep's results (not its name).

    Parameters
    ----------
    spec
        The sweep.
    model
        Qualified name of the run function.
    base_config
        The scenario's resolved config dict, or ``None`` for the defaults.

    Returns
    -------
    str
        SHA-256 hex digest.
    """
    content = {k: v for k, v in spec.to_dict().items() if k not in ("name", "scenario")}
    content |= {"model": model, "base_config": base_config}
    text = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def run_sweep(
    spec: SweepSpec | str | Path,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
    run_fn: RunFn | str | None = None,
    force: bool = False,
    retry_failed: bool = False,
    allow_import: bool = False,
    progress: bool = True,
    runs_per_task: int | None = None,
    flush_runs: int = 256,
    flush_seconds: float = 30.0,
    fail_fast: int | None = 8,
) -> SweepReport:
    """Run (or resume) a sweep and store its outcomes.

    Parameters
    ----------
    spec
        A :class:`SweepSpec` or the path of a sweep TOML file.
    out
        The sweep folder; default ``results/<spec name>``.
    workers
        Parallel workers; default ``os.cpu_count()``. ``1`` runs in this process.
    scheduler
        Address of a Dask scheduler (``tcp://host:8786``); runs go to its workers.
    executor
        Any ``concurrent.futures.Executor`` (not shut down here); ``workers`` then only sets
        how many tasks are kept in flight.
    run_fn
        The run function or ``"module:function"``; default the spec's ``model``
        (``migration_sim.run``). It is called as ``run_fn(config, seed=SeedSequence,
        steps=spec.steps)``, where ``config`` is the dict of overrides (no scenario) or the
        scenario's Config with the overrides applied, and must return an object with a
        ``timeseries`` DataFrame (and optionally ``shock_steps``). Parameter paths are checked
        against the model's config only when this is ``migration_sim.run``.
    force
        Replace the results of a folder that holds a different sweep.
    retry_failed
        Also rerun runs recorded as failed.
    allow_import
        Import the spec's ``model`` even when it is not an installed model (see
        :func:`installed_models`); a spec is then trusted like code.
    progress
        Show a progress bar (runs done, failed, rate, ETA) on stderr.
    runs_per_task
        Runs per submitted task. Default: adaptive; the first tasks hold one run, later ones
        about :data:`TARGET_TASK_SECONDS` of measured run time (at most
        :data:`MAX_RUNS_PER_TASK`, and at most the remaining runs over twice the slots, so the
        last tasks stay small).
    flush_runs, flush_seconds
        Write a chunk once this many runs are buffered or this many seconds have passed.
    fail_fast
        Stop with :class:`SweepError` when this many runs have completed and all failed (a
        typo in an outcome or a broken model would otherwise fail every run); the failures
        are stored. ``None`` never stops.

    Returns
    -------
    SweepReport

    Raises
    ------
    SweepSpecError
        For an invalid spec (before anything runs).
    migration_sim.sweep.store.SpecMismatchError
        If ``out`` holds a different sweep and ``force`` is false.
    SweepError
        If the executor fails (a worker process dies, the Dask scheduler is unreachable) or
        the first ``fail_fast`` runs all fail; completed runs are kept, so rerunning the same
        call resumes.
    """
    start = time.perf_counter()
    if scheduler is not None and executor is not None:
        raise ConfigError("give at most one of scheduler= and executor=")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ConfigError(f"workers = {echo(workers)} is not allowed: expected an integer >= 1")
    if not isinstance(spec, SweepSpec):
        spec = load_sweep_spec(spec)
    directory = Path(out) if out is not None else Path("results") / spec.name
    fn = _resolve_run_fn(run_fn, spec, allow_import)
    model = _qualified_name(fn)
    base_config = None
    if spec.scenario is not None or _is_real_model(fn):
        base = _load_base_config(spec.scenario)
        if spec.scenario is not None:
            base_config = base.to_dict()
        if _is_real_model(fn):
            check_against_config(spec, base)
    design = spec.sample()
    meta = {
        "name": spec.name,
        "fingerprint": fingerprint(spec, model, base_config),
        "spec": spec.to_dict(),
        "model": model,
        "base_config": base_config,
        "n_points": spec.n_points,
        "n_runs": spec.n_runs,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        **source_provenance(),
    }
    with (
        sigterm_as_exception(),
        SweepStore.open(directory, meta, spec.to_dict(), design, force=force) as store,
    ):
        design = load_design(directory)  # the stored design governs a resumed sweep
        status = store.run_status()
        todo = [
            i
            for i in range(spec.n_runs)
            if i not in status or (retry_failed and status[i] == "failed")
        ]
        n_ok = n_failed = 0
        if todo:
            n_ok, n_failed = _execute(
                spec,
                store,
                design,
                todo,
                fn,
                base_config,
                workers=workers,
                scheduler=scheduler,
                executor=executor,
                progress=progress,
                runs_per_task=runs_per_task,
                flush_runs=flush_runs,
                flush_seconds=flush_seconds,
                fail_fast=fail_fast,
            )
    return SweepReport(
        directory=directory,
        n_runs=spec.n_runs,
        n_skipped=spec.n_runs - len(todo),
        n_ok=n_ok,
        n_failed=n_failed,
        elapsed=time.perf_counter() - start,
    )


def _execute(
    spec: SweepSpec,
    store: SweepStore,
    design: pd.DataFrame,
    todo: Sequence[int],
    fn: RunFn,
    base_config: dict[str, Any] | None,
    *,
    workers: int | None,
    scheduler: str | None,
    executor: Executor | None,
    progress: bool,
    runs_per_task: int | None,
    flush_runs: int,
    flush_seconds: float,
    fail_fast: int | None,
) -> tuple[int, int]:
    """Submit the runs in ``todo`` in tasks, a bounded number in flight; store as they finish."""
    paths = [p.path for p in spec.parameters]
    point_params = design[paths].to_dict("records")
    outcomes = spec.parsed_outcomes

    def task(ids: Sequence[int]) -> _Task:
        runs = tuple(
            (
                i,
                {k: _native(v) for k, v in point_params[i // spec.replicates].items()},
                run_seed(spec.seed, _seed_key(spec, i)),
            )
            for i in ids
        )
        return _Task(
            fn, base_config, spec.steps, dict(spec.fixed), outcomes, spec.save_timeseries, runs
        )

    buffer: list[dict[str, Any]] = []
    n_ok = n_failed = 0
    timed = [0.0, 0]  # total run time and number of runs completed, for adaptive task sizes
    pos = 0
    with _open_executor(workers, scheduler, executor) as (pool, slots):
        pending: set[Future] = set()

        def top_up() -> None:
            """Submit tasks until 2 per slot are in flight or nothing is left."""
            nonlocal pos
            while len(pending) < 2 * slots and pos < len(todo):
                if runs_per_task:
                    size = runs_per_task
                elif timed[1] == 0:
                    size = 1
                else:
                    size = int(TARGET_TASK_SECONDS * timed[1] / max(timed[0], 1e-9))
                    size = max(1, min(size, MAX_RUNS_PER_TASK, (len(todo) - pos) // (2 * slots)))
                pending.add(pool.submit(_run_task, task(todo[pos : pos + size])))
                pos += size

        tty = sys.stderr.isatty()
        bar = tqdm(
            total=len(todo),
            desc=f"sweep {spec.name}",
            unit="run",
            disable=not progress,
            file=sys.stderr,
            mininterval=0.5 if tty else 30.0,
            ascii=not tty,
            dynamic_ncols=tty,
        )
        last_flush = time.monotonic()
        try:
            top_up()
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    records = future.result()
                    buffer.extend(records)
                    failed = sum(r["status"] != "ok" for r in records)
                    n_failed += failed
                    n_ok += len(records) - failed
                    timed[0] += sum(r["run_time"] for r in records)
                    timed[1] += len(records)
                    bar.set_postfix(failed=n_failed, refresh=False)
                    bar.update(len(records))
                    if fail_fast and n_ok == 0 and n_failed >= min(fail_fast, len(todo)):
                        first = next(r["error"] for r in buffer if r["status"] != "ok")
                        raise _FailFast(
                            f"the first {n_failed} runs all failed (first error: {first}); "
                            "fix the spec or model and rerun with --retry-failed"
                        )
                top_up()
                if len(buffer) >= flush_runs or time.monotonic() - last_flush >= flush_seconds:
                    _flush(spec, store, design, buffer)
                    last_flush = time.monotonic()
        except BaseException as exc:
            for future in pending:
                future.cancel()
            if buffer:
                _flush(spec, store, design, buffer)
            if isinstance(exc, _FailFast):
                raise SweepError(str(exc)) from None
            if isinstance(exc, Exception) and not isinstance(exc, SweepStoreError):
                raise SweepError(
                    f"the sweep stopped: {type(exc).__name__}: {exc}. Completed runs are saved "
                    f"in {store.directory}; run the same sweep again to resume"
                ) from exc
            raise
        finally:
            bar.close()
        if buffer:
            _flush(spec, store, design, buffer)
    return n_ok, n_failed


def _native(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _flush(
    spec: SweepSpec, store: SweepStore, design: pd.DataFrame, buffer: list[dict[str, Any]]
) -> None:
    """Write the buffered runs as one chunk and empty the buffer."""
    buffer.sort(key=lambda r: r["run_id"])
    ids = np.array([r["run_id"] for r in buffer], dtype=np.int64)
    points = ids // spec.replicates
    keys = np.array([_seed_key(spec, int(i)) for i in ids], dtype=np.int64)
    columns: dict[str, pa.Array] = {
        "run_id": pa.array(ids),
        "point_id": pa.array(points),
        "replicate": pa.array(ids % spec.replicates),
        "seed_entropy": pa.array(np.full(ids.size, spec.seed, dtype=np.int64)),
        "seed_spawn_key": pa.array(keys),
    }
    for p in spec.parameters:
        values = design[p.path].to_numpy()[points].tolist()
        columns[p.path] = pa.array(values, type=_ARROW_TYPE[p.dtype])
    for o in spec.parsed_outcomes:
        columns[o.name] = pa.array(
            [r["outcomes"].get(o.name, math.nan) for r in buffer], type=pa.float64()
        )
    for key, kind in (("status", pa.string()), ("error", pa.string()), ("traceback", pa.string())):
        columns[key] = pa.array([r[key] for r in buffer], type=kind)
    columns["run_time"] = pa.array([r["run_time"] for r in buffer], type=pa.float64())
    frames = []
    for r in buffer:
        if r["timeseries"] is not None:
            ts = r["timeseries"].rename_axis("step").reset_index()
            ts.insert(0, "run_id", r["run_id"])
            frames.append(ts)
    timeseries = (
        pa.Table.from_pandas(pd.concat(frames, ignore_index=True), preserve_index=False)
        if frames
        else None
    )
    store.write_chunk(pa.table(columns), timeseries)
    buffer.clear()


# ---------------------------------------------------------------------------- single runs
def reproduce_run(
    directory: str | Path,
    run_id: int,
    *,
    run_fn: RunFn | None = None,
    allow_import: bool = False,
) -> Any:
    """Run one run of a stored sweep again and return its full results.

    Parameters
    ----------
    directory
        The sweep folder.
    run_id
        The run to repeat.
    run_fn
        The run function, if not the spec's ``model``.
    allow_import
        Import the ``model`` named in the folder's ``sweep.json`` even when it is not an
        installed model; the folder is then trusted like code.

    Returns
    -------
    Results
        Whatever the run function returns; bit-identical to the sweep's run.
    """
    meta = read_meta(directory)
    spec = SweepSpec.from_dict(meta["spec"])
    if (
        isinstance(run_id, bool)
        or not isinstance(run_id, int | np.integer)
        or not 0 <= run_id < spec.n_runs
    ):
        raise ConfigError(
            f"run_id = {echo(run_id)} is not allowed: the sweep has runs 0..{spec.n_runs - 1}"
        )
    run_id = int(run_id)
    fn = _resolve_run_fn(run_fn, spec, allow_import)
    design = load_design(directory)
    params = {
        p.path: _native(design.at[run_id // spec.replicates, p.path]) for p in spec.parameters
    }
    config = _make_config(_config_from_dict(meta["base_config"]), {**spec.fixed, **params})
    return fn(config, seed=run_seed(spec.seed, _seed_key(spec, run_id)), steps=spec.steps)


DEFAULT_EMA_OUTCOMES = (
    "effective_platforms_final = final:effective_platforms_primary",
    "effective_platforms_mean = mean:effective_platforms_primary",
    "broken_tie_share_final = final:broken_tie_share",
    "comm_giant_share_final = final:comm_giant_share",
    "multihoming_final = final:share_multihoming",
    "n_active_final = final:n_active",
)
"""Outcomes of :data:`ema_model`: fragmentation and activity, independent of the catalogue."""


class EMAModel:
    """The model as an EMA Workbench function: ``f(**params) -> dict of outcomes``.

    Parameter names are dotted config keys; because EMA Workbench prefers identifiers,
    ``__`` may stand for ``.`` (``choice__beta`` is ``choice.beta``). The keyword ``seed``
    (default 0) seeds the run, so every experiment of a plain ``Model`` uses the same seed
    (common random numbers). For replicates use EMA's ``ReplicatorModel`` with
    ``model.replications = f.replications(n)``: an integer there gives n empty replications,
    all with seed 0, hence identical. Instances pickle, so EMA's multiprocessing evaluator can
    ship them.

    A call makes the default multiprocessing start method safe for EMA's
    ``MultiprocessingEvaluator`` (which uses the default): where it is ``fork`` it becomes
    ``forkserver`` (see :func:`safe_start_method`), because forking a process whose model
    already ran (its numba/OpenMP threads started) can hang the workers. After running the
    model in the parent by other means, call :func:`safe_start_method` before creating the
    evaluator. A script using the evaluator needs the usual ``if __name__ == "__main__":``
    guard.

    Parameters
    ----------
    outcomes
        Outcome expressions (see :mod:`migration_sim.sweep.outcomes`); keys of the result.
    scenario
        Base scenario TOML file, or ``None`` for the defaults.
    steps
        Steps per run, or ``None`` for the config's ``run.steps``.
    run_fn
        The run function (default ``migration_sim.run``).

    Examples
    --------
    >>> f = EMAModel(["final:n_active"], steps=5)
    >>> out = f(seed=1, groups__n_groups=200)
    >>> sorted(out)
    ['final:n_active']
    """

    def __init__(
        self,
        outcomes: Sequence[str] = DEFAULT_EMA_OUTCOMES,
        *,
        scenario: str | Path | None = None,
        steps: int | None = None,
        run_fn: RunFn | None = None,
    ) -> None:
        from migration_sim.sweep.outcomes import parse_outcome

        self.outcomes = tuple(parse_outcome(o) for o in outcomes)
        self.scenario = None if scenario is None else Path(scenario)
        self.steps = steps
        self.run_fn = run_fn
        self._base: Any = None

    def replications(self, n: int, seed: int = 0) -> list[dict[str, int]]:
        """Seeds of ``n`` replicates for EMA Workbench's ``ReplicatorModel.replications``.

        Parameters
        ----------
        n
            Number of replicates (>= 1).
        seed
            Master seed; replicate r uses an integer drawn from
            ``numpy.random.SeedSequence(seed).spawn(n)[r]``.

        Returns
        -------
        list of dict
            ``[{"seed": s_0}, {"seed": s_1}, ...]``, distinct and reproducible.

        Examples
        --------
        >>> seeds = EMAModel(["final:n_active"]).replications(3)
        >>> len({r["seed"] for r in seeds})
        3
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n = {n!r} is not allowed: expected an integer >= 1")
        children = np.random.SeedSequence(seed).spawn(n)
        return [{"seed": int(c.generate_state(1, np.uint64)[0] >> np.uint64(1))} for c in children]

    def __call__(self, seed: int = 0, **params: Any) -> dict[str, float]:
        """Run once with ``params`` as config overrides; return the outcomes."""
        safe_start_method()
        if self.scenario is not None and self._base is None:
            self._base = _load_base_config(self.scenario)
        if self.run_fn is None:
            from migration_sim.model.model import run as fn
        else:
            fn = self.run_fn
        overrides = {key.replace("__", "."): value for key, value in params.items()}
        results = fn(_make_config(self._base, overrides), seed=seed, steps=self.steps)
        return evaluate_outcomes(self.outcomes, results)


ema_model = EMAModel()
"""The model with :data:`DEFAULT_EMA_OUTCOMES`, for ``ema_workbench.Model(function=...)``."""
