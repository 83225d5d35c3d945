"""The on-disk store of a sweep: crash-safe chunked parquet files with an index.

Layout of a sweep folder::

    sweep.json        spec, fingerprint, model, base config, package version, git commit
    spec.toml         the spec, for people
    design.parquet    one row per design point
    index.json        which runs each chunk holds (lists of ok and failed run ids)
    chunks/outcomes/part-000001.parquet     one row per run: ids, seed, parameters,
                                            outcomes, status, error, traceback, run_time
    chunks/timeseries/part-000001.parquet   optional: run_id, step and the time-series columns

Each table is its own folder of parquet files with one schema, so any parquet reader takes it
as a dataset: ``pyarrow.dataset.dataset("<sweep>/chunks/outcomes")``,
``duckdb.sql("select * from '<sweep>/chunks/outcomes/*.parquet'")``,
``polars.read_parquet("<sweep>/chunks/outcomes/*.parquet")`` or
``pandas.read_parquet("<sweep>/chunks/outcomes")``. A run retried with ``--retry-failed``
keeps only its newest row: older chunks are rewritten without it.

Every file is written atomically (a temporary file in the same folder, fsync, ``os.replace``,
fsync of the folder), timeseries before outcomes before the index. A crash can therefore leave
at most a chunk that the index does not list yet; :meth:`SweepStore.open` adopts such chunks
(they are complete) and removes stray temporary files. When a run appears in several chunks
(a failed run retried), the chunk with the highest sequence number holds its live row.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import tomli_w

from migration_sim.config.errors import (
    PATH_LIMIT,
    InputFileError,
    MigrationSimError,
    echo,
    name_the_file,
    read_text_file,
    shorten,
)
from migration_sim.results.provenance import source_provenance

__all__ = [
    "FORMAT_VERSION",
    "SpecMismatchError",
    "SweepStore",
    "SweepStoreError",
    "atomic_write",
    "load_design",
    "load_summary",
    "load_timeseries",
    "read_meta",
]

FORMAT_VERSION = 1
META = "sweep.json"
SPEC = "spec.toml"
DESIGN = "design.parquet"
INDEX = "index.json"
CHUNKS = "chunks"
LOCK = ".lock"
OUTCOMES = "outcomes"
TIMESERIES = "timeseries"
_CHUNK = re.compile(r"^part-(\d{6,})\.parquet$")
_OWNED = (META, SPEC, DESIGN, INDEX, CHUNKS)


class SweepStoreError(MigrationSimError, RuntimeError):
    """A sweep folder cannot be used as asked."""


class SpecMismatchError(SweepStoreError):
    """The folder holds a different sweep; pass ``force=True`` to replace it."""


# ---------------------------------------------------------------------------- atomic writes
def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write a file atomically: temp file in the same folder, fsync, rename, fsync folder.

    Parameters
    ----------
    path
        Destination; readers see either the old file or the complete new one.
    write
        Called with the open binary temp file.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:
            raise name_the_file(exc, path) from exc
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _write_json(path: Path, data: Any, indent: int | None = 1) -> None:
    text = json.dumps(data, indent=indent, sort_keys=True, default=str)
    atomic_write(path, lambda fh: fh.write(text.encode()))


def _write_parquet(path: Path, table: pa.Table) -> None:
    atomic_write(path, lambda fh: pq.write_table(table, fh, compression="zstd"))


# ---------------------------------------------------------------------------- the store
class SweepStore:
    """Read and write one sweep folder.

    Use :meth:`open` to create or reopen a folder for writing (under an exclusive lock) and
    the module functions :func:`load_summary` / :func:`load_timeseries` to read.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.chunk_dir = self.directory / CHUNKS
        self._index: list[dict[str, Any]] | None = None

    # ------------------------------------------------------------------ open / lock
    @classmethod
    @contextlib.contextmanager
    def open(
        cls,
        directory: str | Path,
        meta: Mapping[str, Any],
        spec_toml: Mapping[str, Any],
        design: pd.DataFrame,
        *,
        force: bool = False,
    ) -> Iterator[SweepStore]:
        """Create or reopen a sweep folder for writing, holding an exclusive lock.

        Parameters
        ----------
        directory
            The sweep folder (created if missing).
        meta
            Must hold ``fingerprint``; written to ``sweep.json`` on creation.
        spec_toml
            The spec as a TOML-serialisable dict, written to ``spec.toml``.
        design
            The design points, written to ``design.parquet``.
        force
            Replace the store files of a folder holding a different sweep.

        Yields
        ------
        SweepStore
            Reconciled with what is on disk.

        Raises
        ------
        SpecMismatchError
            If the folder holds a sweep with a different fingerprint and ``force`` is false.
        SweepStoreError
            If another process holds the folder's lock.
        """
        store = cls(directory)
        _check_sweep_folder(store.directory)
        store.directory.mkdir(parents=True, exist_ok=True)
        with open(store.directory / LOCK, "a+b") as lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SweepStoreError(
                    f"{store.directory}: another process is writing this sweep"
                ) from None
            try:
                store._prepare(meta, spec_toml, design, force)
                yield store
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _prepare(
        self,
        meta: Mapping[str, Any],
        spec_toml: Mapping[str, Any],
        design: pd.DataFrame,
        force: bool,
    ) -> None:
        meta_path = self.directory / META
        if meta_path.exists():
            old = read_meta(self.directory)
            if old.get("fingerprint") != meta["fingerprint"]:
                if not force:
                    raise SpecMismatchError(_mismatch_message(self.directory, old, meta))
                self._wipe()
        elif (self.directory / INDEX).exists() or any(self.chunk_dir.rglob("*.parquet")):
            if not force:
                raise SpecMismatchError(
                    f"{self.directory} holds sweep chunks but no {META}; use --force "
                    "(force=True) to replace them"
                )
            self._wipe()
        for table in (OUTCOMES, TIMESERIES):
            (self.chunk_dir / table).mkdir(parents=True, exist_ok=True)
        if not meta_path.exists():
            atomic_write(
                self.directory / SPEC, lambda fh: fh.write(tomli_w.dumps(dict(spec_toml)).encode())
            )
            _write_parquet(self.directory / DESIGN, pa.Table.from_pandas(design))
            _write_json(meta_path, {"format": FORMAT_VERSION, **meta})
        self._reconcile()

    def _wipe(self) -> None:
        for name in _OWNED:
            target = self.directory / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()

    # ------------------------------------------------------------------ index
    def index(self) -> list[dict[str, Any]]:
        """Return the chunk entries in sequence order (each: seq, files, ok and failed run ids)."""
        if self._index is None:
            self._index = _read_index(self.directory)
        return self._index

    def _reconcile(self) -> None:
        """Make the index agree with the chunk files after a crash."""
        for stray in self.directory.glob(".*.tmp"):
            stray.unlink()
        for stray in self.chunk_dir.rglob(".*.tmp"):
            stray.unlink()
        entries = {e["seq"]: e for e in _read_index(self.directory)}
        on_disk = {}
        for path in (self.chunk_dir / OUTCOMES).glob("part-*.parquet"):
            m = _CHUNK.match(path.name)
            if m:
                on_disk[int(m.group(1))] = path
        changed = False
        for seq in sorted(set(entries) - set(on_disk)):
            del entries[seq]
            changed = True
        for seq in sorted(set(on_disk) - set(entries)):
            entries[seq] = _entry_from_file(self.directory, on_disk[seq], seq)
            changed = True
        for path in (self.chunk_dir / TIMESERIES).glob("part-*.parquet"):
            seq = int(path.stem.split("-")[1])
            if seq not in on_disk:
                path.unlink()  # its outcomes file was never written: the chunk did not happen
        ordered = [entries[s] for s in sorted(entries)]
        changed |= _supersede(ordered)
        self._index = ordered
        if changed:
            _write_json(self.directory / INDEX, {"format": FORMAT_VERSION, "chunks": ordered}, None)
        self._drop_superseded_rows()

    def _drop_superseded_rows(self) -> None:
        """Rewrite chunk files that still hold rows of runs a later chunk superseded.

        The index already ignores such rows; rewriting the files (atomically, after the index)
        keeps each table folder a clean dataset for readers that do not use the index.
        """
        for entry in self.index():
            live = set(entry["ok"]) | set(entry["failed"])
            for kind in (OUTCOMES, TIMESERIES):
                if not entry[kind]:
                    continue
                path = self.directory / entry[kind]
                ids = pq.read_table(path, columns=["run_id"]).column("run_id")
                if set(ids.to_pylist()) <= live:
                    continue
                table = pq.read_table(path)
                keep = pc.is_in(table.column("run_id"), pa.array(sorted(live), type=ids.type))
                _write_parquet(path, table.filter(keep))

    def run_status(self) -> dict[int, str]:
        """Map each recorded run id to ``"ok"`` or ``"failed"`` (from the index)."""
        status: dict[int, str] = {}
        for entry in self.index():
            status.update(dict.fromkeys(entry["ok"], "ok"))
            status.update(dict.fromkeys(entry["failed"], "failed"))
        return status

    # ------------------------------------------------------------------ write
    def write_chunk(self, outcomes: pa.Table, timeseries: pa.Table | None) -> int:
        """Write one chunk (timeseries, then outcomes, then the index), each atomically.

        Parameters
        ----------
        outcomes
            One row per run, with ``run_id`` and ``status`` columns.
        timeseries
            Optional rows with a ``run_id`` column.

        Returns
        -------
        int
            The chunk's sequence number.
        """
        index = self.index()
        seq = (index[-1]["seq"] if index else 0) + 1
        prov = source_provenance()
        meta = {b"migration_sim": json.dumps(prov).encode()}
        ts_name = None
        if timeseries is not None and timeseries.num_rows:
            ts_name = f"{CHUNKS}/{TIMESERIES}/part-{seq:06d}.parquet"
            _write_parquet(self.directory / ts_name, timeseries.replace_schema_metadata(meta))
        out_name = f"{CHUNKS}/{OUTCOMES}/part-{seq:06d}.parquet"
        _write_parquet(self.directory / out_name, outcomes.replace_schema_metadata(meta))
        ids = outcomes.column("run_id").to_pylist()
        status = outcomes.column("status").to_pylist()
        entry = {
            "seq": seq,
            "outcomes": out_name,
            "timeseries": ts_name,
            "ok": [i for i, s in zip(ids, status, strict=True) if s == "ok"],
            "failed": [i for i, s in zip(ids, status, strict=True) if s != "ok"],
            "written": datetime.now(UTC).isoformat(timespec="seconds"),
            **prov,
        }
        index.append(entry)
        superseded = _supersede(index)
        _write_json(self.directory / INDEX, {"format": FORMAT_VERSION, "chunks": index}, None)
        if superseded:
            self._drop_superseded_rows()
        return seq


def _read_index(directory: Path) -> list[dict[str, Any]]:
    path = directory / INDEX
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["chunks"]


def _entry_from_file(directory: Path, path: Path, seq: int) -> dict[str, Any]:
    table = pq.read_table(path, columns=["run_id", "status"])
    ids = table.column("run_id").to_pylist()
    status = table.column("status").to_pylist()
    ts = directory / CHUNKS / TIMESERIES / path.name
    raw = (pq.read_schema(path).metadata or {}).get(b"migration_sim", b"{}")
    return {
        "seq": seq,
        "outcomes": f"{CHUNKS}/{OUTCOMES}/{path.name}",
        "timeseries": f"{CHUNKS}/{TIMESERIES}/{ts.name}" if ts.exists() else None,
        "ok": [i for i, s in zip(ids, status, strict=True) if s == "ok"],
        "failed": [i for i, s in zip(ids, status, strict=True) if s != "ok"],
        "written": None,
        **json.loads(raw),
    }


def _supersede(entries: Sequence[dict[str, Any]]) -> bool:
    """Keep each run id only in the latest chunk listing it; return whether anything changed."""
    seen: set[int] = set()
    changed = False
    for entry in reversed(entries):
        for key in ("ok", "failed"):
            kept = [i for i in entry[key] if i not in seen]
            changed |= len(kept) != len(entry[key])
            entry[key] = kept
        seen.update(entry["ok"], entry["failed"])
    return changed


def _mismatch_message(directory: Path, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    keys = sorted(
        k
        for k in set(old.get("spec", {})) | set(new.get("spec", {}))
        if k != "name" and old.get("spec", {}).get(k) != new.get("spec", {}).get(k)
    )
    for key in ("model", "base_config"):
        if old.get(key) != new.get(key):
            keys.append(key)
    what = ", ".join(keys) if keys else "the spec fingerprint"
    return (
        f"{directory} holds a different sweep (differs in: {what}); choose another --out "
        "folder or use --force (force=True) to replace its results"
    )


# ---------------------------------------------------------------------------- reading
def read_meta(directory: str | Path) -> dict[str, Any]:
    """Read a sweep folder's ``sweep.json`` (spec, fingerprint, provenance).

    Raises
    ------
    SweepStoreError
        If the folder is not a sweep folder.
    """
    path = Path(directory) / META
    shown = shorten(str(path), PATH_LIMIT)
    if not path.is_file():
        raise SweepStoreError(
            f"{shorten(str(directory), PATH_LIMIT)} is not a sweep folder: it has no {META}"
        )
    try:
        meta = json.loads(read_text_file(path, "sweep metadata"))
    except (ValueError, InputFileError) as exc:
        raise SweepStoreError(f"{shown} is damaged: {shorten(str(exc), 200)}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("spec"), dict):
        raise SweepStoreError(f"{shown} is damaged: it holds no sweep spec")
    return meta


def _check_sweep_folder(directory: Path) -> None:
    """Refuse to write a sweep into anything but a new, empty or sweep folder."""
    shown = shorten(str(directory), PATH_LIMIT)
    for parent in (directory, *directory.parents):
        if parent.exists() and not parent.is_dir():
            what = "--out" if parent == directory else f"--out {shown}:"
            raise SweepStoreError(
                f"{what} {shorten(str(parent), PATH_LIMIT)} is a file, not a folder; choose "
                "another --out"
            )
        if parent.exists():
            break
    if not directory.is_dir() or (directory / META).exists():
        return
    foreign = [p.name for p in directory.iterdir() if p.name not in (*_OWNED, LOCK)]
    if foreign and not (directory / INDEX).exists():
        raise SweepStoreError(
            f"--out {shown} is a folder that is not a sweep folder (it holds "
            f"{echo(sorted(foreign)[:3])} and no {META}); a sweep is written only into a new, "
            "empty or sweep folder, so choose another --out"
        )


def load_design(directory: str | Path) -> pd.DataFrame:
    """Read the design points (index ``point_id``) of a sweep folder."""
    return pd.read_parquet(Path(directory) / DESIGN)


def _read_live(directory: Path, kind: str, columns: Sequence[str] | None) -> list[pa.Table]:
    read_meta(directory)
    tables = []
    for entry in _read_index(directory):
        live = entry["ok"] + (entry["failed"] if kind == "outcomes" else [])
        if not live or not entry[kind]:
            continue
        cols = None if columns is None else ["run_id", *columns]
        table = pq.read_table(directory / entry[kind], columns=cols)
        tables.append(table.filter(pc.is_in(table.column("run_id"), pa.array(live))))
    return tables


def load_summary(directory: str | Path) -> pd.DataFrame:
    """Load the summary table of a sweep: one row per recorded run.

    Parameters
    ----------
    directory
        The sweep folder.

    Returns
    -------
    pandas.DataFrame
        Index ``run_id`` (sorted); columns ``point_id``, ``replicate``, ``seed_entropy``,
        ``seed_spawn_key``, one per parameter path, one per outcome name, ``status``
        (``"ok"`` or ``"failed"``), ``error``, ``traceback`` and ``run_time`` (seconds).
        Runs not yet done are absent.
    """
    tables = _read_live(Path(directory), "outcomes", None)
    if not tables:
        return pd.DataFrame(index=pd.Index([], name="run_id", dtype="int64"))
    frame = pa.concat_tables(tables).to_pandas()
    return frame.set_index("run_id").sort_index()


def load_timeseries(
    directory: str | Path,
    run_ids: Sequence[int] | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Load stored per-run time series (sweeps with ``save_timeseries``).

    Parameters
    ----------
    directory
        The sweep folder.
    run_ids
        Runs to load (default: all with a stored time series).
    columns
        Time-series columns to load (default: all stored).

    Returns
    -------
    pandas.DataFrame
        Index (``run_id``, ``step``), sorted.
    """
    cols = None if columns is None else ["step", *columns]
    tables = _read_live(Path(directory), "timeseries", cols)
    if not tables:
        return pd.DataFrame(
            index=pd.MultiIndex.from_arrays([[], []], names=["run_id", "step"]),
            columns=list(columns or []),
        )
    table = pa.concat_tables(tables)
    if run_ids is not None:
        table = table.filter(pc.is_in(table.column("run_id"), pa.array(list(run_ids))))
    return table.to_pandas().set_index(["run_id", "step"]).sort_index()
