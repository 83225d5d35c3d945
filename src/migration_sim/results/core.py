"""Preallocated per-step results, their pandas views, and atomic export.

The model writes one row per step into preallocated numpy arrays (:class:`Recorder`); no
per-agent Python reporter runs in the step loop. :class:`Results` wraps the filled arrays and
builds pandas tables on demand.
"""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from migration_sim.config.files import atomic_write_bytes, atomic_write_text

__all__ = [
    "DAYS_PER_STEP",
    "RecordedDataCollector",
    "Recorder",
    "Results",
    "atomic_write_bytes",
    "atomic_write_text",
    "timeseries_frame",
    "unknown_name_message",
]

DAYS_PER_STEP = {"day": 1, "week": 7}

EVENT_KINDS = ("disruption", "removal", "ban", "respawn")

#: Files of a run saved by :meth:`Results.save`.
_SAVED_ARRAYS = "results.npz"
_SAVED_INFO = "results.json"


class Recorder:
    """Growable per-step arrays written by the model (row t = state after step t).

    Row 0 holds the initial state. Arrays start with room for ``capacity`` steps and double
    when a model is stepped beyond it.
    """

    def __init__(self, n_platforms: int, n_types: int, capacity: int) -> None:
        self.k, self.c = n_platforms, n_types
        self.n_rows = 0
        cap = max(capacity, 1) + 1
        k, c = n_platforms, n_types
        self.arrays: dict[str, np.ndarray] = {
            "n_active": np.zeros(cap, np.int64),
            "n_dark": np.zeros(cap, np.int64),
            "n_multihoming": np.zeros(cap, np.int64),
            "n_memberships": np.zeros(cap, np.int64),
            "presence": np.zeros((cap, k), np.int64),
            "primary": np.zeros((cap, k), np.int64),
            "presence_by_type": np.zeros((cap, c, k), np.int64),
            "primary_by_type": np.zeros((cap, c, k), np.int64),
            "flows": np.zeros((cap, k + 1, k + 1), np.int64),
            "disruptions": np.zeros((cap, k), np.int64),
            "disruptions_by_type": np.zeros((cap, c, k), np.int64),
            "bans": np.zeros((cap, k), np.int64),
            "mean_risk": np.zeros((cap, k)),
            "disclosure": np.zeros((cap, k)),
        }
        self.metrics: dict[str, np.ndarray] = {}
        self.events: list[tuple[np.ndarray, ...]] = []
        self.graphs: dict[int, tuple[np.ndarray, ...]] = {}

    def _grow(self) -> None:
        for name, arr in self.arrays.items():
            extra = np.zeros_like(arr)
            self.arrays[name] = np.concatenate([arr, extra])
        for name, arr in self.metrics.items():
            self.metrics[name] = np.concatenate([arr, np.full_like(arr, np.nan)])

    def row(self) -> int:
        """Reserve and return the index of the next row."""
        if self.n_rows >= self.arrays["n_active"].shape[0]:
            self._grow()
        self.n_rows += 1
        return self.n_rows - 1

    def latest(self, name: str) -> np.ndarray:
        """The last recorded row of one array."""
        return self.arrays[name][self.n_rows - 1]

    def set_metrics(self, row: int, values: dict[str, float]) -> None:
        """Store one step's fragmentation measures (NaN where not computed)."""
        cap = self.arrays["n_active"].shape[0]
        for name, value in values.items():
            if name not in self.metrics:
                self.metrics[name] = np.full(cap, np.nan)
            self.metrics[name][row] = value

    def log_events(
        self,
        step: int,
        kind: str,
        groups: np.ndarray,
        platforms: np.ndarray,
        crime_type: np.ndarray,
    ) -> None:
        """Append events of one kind (see ``EVENT_KINDS``) for one step."""
        if groups.size:
            code = EVENT_KINDS.index(kind)
            self.events.append(
                (
                    np.full(groups.size, step, np.int64),
                    np.full(groups.size, code, np.int8),
                    groups.astype(np.int64),  # copies: a view would keep its base alive
                    np.array(platforms, np.int64),
                    crime_type[groups].astype(np.int64),
                )
            )


@dataclass
class Results:
    """Everything a run recorded, as arrays plus pandas views.

    Attributes
    ----------
    platforms, crime_types : list of str
        Names in index order.
    step_unit : str
        Calendar length of a step ("day" or "week").
    arrays : dict of numpy.ndarray
        Per-step arrays, first axis = step (0 = initial state).
    metrics : dict of numpy.ndarray
        Per-step fragmentation measures (NaN on steps where they were not computed).
    events_array : numpy.ndarray
        Structured event log (step, kind, group, platform, crime_type).
    shock_steps : list of int
        Steps at which a shock was applied.
    config : dict
        The resolved configuration of the run.
    seed : dict
        How the run was seeded (entropy and spawn key).
    """

    platforms: list[str]
    crime_types: list[str]
    step_unit: str
    arrays: dict[str, np.ndarray]
    metrics: dict[str, np.ndarray]
    events_array: np.ndarray
    shock_steps: list[int]
    config: dict[str, Any]
    seed: dict[str, Any]
    shock_log: list[dict[str, Any]] = field(default_factory=list)
    graphs: dict[int, tuple[np.ndarray, ...]] = field(default_factory=dict)
    group_attributes: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        """Number of steps run (rows - 1)."""
        return self.arrays["n_active"].shape[0] - 1

    @property
    def timeseries(self) -> pd.DataFrame:
        """One row per step: counts, shares, risk, events and fragmentation measures.

        Columns: ``days`` (elapsed time), ``n_active``, ``n_dark``, ``share_multihoming``,
        ``mean_platforms``, and per platform P: ``share.P`` (share of active groups with P as
        primary), ``presence.P`` (share of active groups present on P), ``risk.P`` (mean
        perceived risk among active groups), ``disruptions.P``, ``bans.P``, ``disclosure.P``;
        then every fragmentation measure.
        """
        df = timeseries_frame(self.arrays, self.metrics, self.platforms, self.step_unit)
        if self.start_date is not None:
            df.attrs["start_date"] = self.start_date.isoformat()
        return df

    @property
    def start_date(self) -> datetime.date | None:
        """Calendar date of step 0 (``run.start_date``), or None when the run has none."""
        text = self.config.get("run", {}).get("start_date", "")
        return datetime.date.fromisoformat(text) if text else None

    def date_of(self, step: int) -> datetime.date | None:
        """Calendar date of a step (None without ``run.start_date``)."""
        start = self.start_date
        if start is None:
            return None
        return start + datetime.timedelta(days=int(step) * DAYS_PER_STEP[self.step_unit])

    @property
    def by_crime_type(self) -> pd.DataFrame:
        """Long table: step, crime_type, platform, presence, primary, disruptions (counts)."""
        a = self.arrays
        t, c, k = a["presence_by_type"].shape
        idx = pd.MultiIndex.from_product(
            [np.arange(t), self.crime_types, self.platforms],
            names=["step", "crime_type", "platform"],
        )
        return pd.DataFrame(
            {
                "presence": a["presence_by_type"].reshape(-1),
                "primary": a["primary_by_type"].reshape(-1),
                "disruptions": a["disruptions_by_type"].reshape(-1),
            },
            index=idx,
        ).reset_index()

    @property
    def flows(self) -> pd.DataFrame:
        """Primary-platform flow matrix summed over the run (rows from, columns to).

        The extra label ``(none)`` stands for no platform (dark). The diagonal counts
        group-steps that kept their primary.
        """
        labels = [*self.platforms, "(none)"]
        total = self.arrays["flows"][1:].sum(axis=0)
        return pd.DataFrame(
            total, index=pd.Index(labels, name="from"), columns=pd.Index(labels, name="to")
        )

    def flows_between(self, start: int, end: int) -> np.ndarray:
        """Flow matrix summed over steps ``start < t <= end`` (platforms + none)."""
        return self.arrays["flows"][start + 1 : end + 1].sum(axis=0)

    @property
    def events(self) -> pd.DataFrame:
        """Event log: one row per event (step, kind, group, platform, crime_type)."""
        e = self.events_array
        return pd.DataFrame(
            {
                "step": e["step"],
                "kind": pd.Categorical.from_codes(e["kind"], categories=list(EVENT_KINDS)),
                "group": e["group"],
                # a removal has no platform: code -1 reads as missing
                "platform": pd.Categorical.from_codes(e["platform"], categories=self.platforms),
                "crime_type": pd.Categorical.from_codes(
                    e["crime_type"], categories=self.crime_types
                ),
            }
        )

    def fragmentation_summary(
        self, post_window: int = 90, pre_window: int | None = None, *, separate: bool = True
    ) -> pd.DataFrame:
        """Before/after values of every fragmentation measure around each shock.

        ``before`` is the value at the step before the shock (or the mean over ``pre_window``
        steps), ``after`` the value ``post_window`` steps after it or, with ``separate``
        (default), at the step before the next shock if that comes first, so that a change is
        credited to the shock in whose window it happened and windows never overlap; see
        :func:`migration_sim.metrics.fragmentation_summary`. One seed shows what happened in
        that run; compare replicates before calling a change an effect.

        Returns
        -------
        pandas.DataFrame
            Columns ``shock`` (names of the shocks starting at that step), ``shock_step``,
            ``measure``, ``before``, ``after``, ``change``, ``after_step``.
        """
        from migration_sim.metrics import fragmentation_summary

        # steps where the measures were not computed (metrics.every > 1) are not recorded
        ts = self.timeseries[list(self.metrics)].dropna(how="all")
        table = fragmentation_summary(
            ts,
            self.shock_steps,
            post_window=post_window,
            pre_window=pre_window,
            incomplete="clip",
            separate=separate,
        )
        names: dict[int, list[str]] = {}
        for entry in self.shock_log:
            if entry.get("kind") != "adoption" and entry.get("phase", "start") == "start":
                names.setdefault(int(entry["step"]), [])
                if entry["shock"] not in names[int(entry["step"])]:
                    names[int(entry["step"])].append(str(entry["shock"]))
        table.insert(0, "shock", [" + ".join(names.get(s, [])) for s in table["shock_step"]])
        return table

    def migration_response(self, source: str, shock_step: int, horizon: int) -> dict[str, Any]:
        """Where the groups that left ``source`` went in the ``horizon`` steps after a shock.

        Followed group by group between the state before the shock (step ``shock_step - 1``)
        and step ``shock_step + horizon``, so background moves between other platforms are
        not mixed in (:func:`migration_sim.metrics.group_migration`); both steps must be in
        ``metrics.graph_steps``, which keeps the per-group state. The timing comes from the
        primary flows out of ``source`` (:func:`migration_sim.metrics.migration_response`).

        Returns
        -------
        dict
            ``n_migrants``; ``destinations`` (platform name or ``"dark"`` -> migrants);
            ``top_destination`` (name, None if none landed); ``top_destination_share`` and
            ``split_share`` (share of the landed migrants on the top destination, and present
            on two or more new platforms); ``dark_share``; ``steps_to_50`` / ``steps_to_90``
            (steps until the top destination of the flows out of ``source`` reaches 50% / 90%
            of its gain).

        Raises
        ------
        ValueError
            For an unknown platform, or steps not kept in ``metrics.graph_steps``.
        """
        from migration_sim.metrics import group_migration, migration_response

        if source not in self.platforms:
            raise ValueError(
                f"source = {source!r} is not allowed: expected one of {', '.join(self.platforms)}"
            )
        k = self.platforms.index(source)
        missing = [t for t in (shock_step - 1, shock_step + horizon) if t not in self.graphs]
        if missing:
            raise ValueError(
                f"per-group state at steps {missing} was not kept: add them to "
                f"metrics.graph_steps (kept: {sorted(self.graphs)})"
            )
        before, after = self.graphs[shock_step - 1], self.graphs[shock_step + horizon]
        g = group_migration(before[:3], after[:3], k)
        a = self.arrays
        counts = np.column_stack([a["primary"], a["n_dark"]])
        shares = counts / np.maximum(a["n_active"], 1)[:, None]
        # metrics counts steps from 0 (flows[j] = moves from state j to j + 1); the model's
        # step t moves state t - 1 to t, so its step t is index t - 1 there
        timing = migration_response(a["flows"][1:], shares, shock_step - 1, horizon, source=k)
        names = [*self.platforms, "dark"]
        return {
            "n_migrants": g.n_migrants,
            "destinations": {n: int(c) for n, c in zip(names, g.destinations, strict=True)},
            "top_destination": None if g.top_destination < 0 else names[g.top_destination],
            "top_destination_share": g.top_destination_share,
            "split_share": g.split_share,
            "dark_share": g.dark_share,
            "steps_to_50": timing.steps_to_50,
            "steps_to_90": timing.steps_to_90,
        }

    def communication_graph(self, step: int) -> Any:
        """The communication graph kept at ``step`` (see ``metrics.graph_steps``) as networkx.

        Nodes are the active groups, with attributes ``crime_type``, ``size``, ``primary`` and
        ``platforms`` (names joined by ";"); edges are the contact ties whose two groups share
        at least one platform, with attribute ``shared`` (platform names joined by ";").
        """
        import networkx as nx

        if step not in self.graphs:
            raise ValueError(
                f"step = {step} has no stored communication graph; stored steps: "
                f"{sorted(self.graphs)} (set metrics.graph_steps)"
            )
        member, primary, active, eu, ev = self.graphs[step]
        names = np.array(self.platforms, dtype=object)
        g = nx.Graph(step=int(step), step_unit=self.step_unit)
        for i in np.flatnonzero(active).tolist():
            g.add_node(
                i,
                crime_type=str(self.group_attributes["crime_type"][i]),
                size=float(self.group_attributes["size"][i]),
                primary=str(names[primary[i]]) if primary[i] >= 0 else "",
                platforms=";".join(names[member[i]]),
            )
        both = active[eu] & active[ev]
        shared = member[eu] & member[ev]
        keep = both & shared.any(axis=1)
        for u, v, row in zip(eu[keep].tolist(), ev[keep].tolist(), shared[keep], strict=True):
            g.add_edge(u, v, shared=";".join(names[row]))
        return g

    def write_graphml(self, step: int, path: str | Path) -> None:
        """Write :meth:`communication_graph` at ``step`` to GraphML, atomically."""
        import networkx as nx

        buf = io.BytesIO()
        nx.write_graphml(self.communication_graph(step), buf)
        atomic_write_bytes(path, buf.getvalue())

    def save(self, folder: str | Path) -> list[str]:
        """Write the run losslessly into an existing folder, for :meth:`load`.

        Files: ``results.npz`` (every per-step array, measure, event, kept graph and group
        attribute) and ``results.json`` (names, step unit, shock steps and log, configuration,
        seed). Both are written atomically.

        Returns
        -------
        list of str
            The file names written.
        """
        folder = Path(folder)
        blobs: dict[str, np.ndarray] = {f"arrays/{k}": v for k, v in self.arrays.items()}
        blobs.update({f"metrics/{k}": v for k, v in self.metrics.items()})
        blobs["events"] = self.events_array
        for step, parts in self.graphs.items():
            blobs.update({f"graphs/{step}/{i}": part for i, part in enumerate(parts)})
        for k, v in self.group_attributes.items():
            blobs[f"groups/{k}"] = v.astype(str) if v.dtype == object else v
        buf = io.BytesIO()
        np.savez_compressed(buf, **blobs)
        atomic_write_bytes(folder / _SAVED_ARRAYS, buf.getvalue())
        info = {
            "format": 1,
            "platforms": self.platforms,
            "crime_types": self.crime_types,
            "step_unit": self.step_unit,
            "shock_steps": self.shock_steps,
            "shock_log": self.shock_log,
            "config": self.config,
            "seed": self.seed,
        }
        atomic_write_text(folder / _SAVED_INFO, to_json(info) + "\n")
        return [_SAVED_ARRAYS, _SAVED_INFO]

    @classmethod
    def load(cls, folder: str | Path) -> Results:
        """Read a run written by :meth:`save` (the top level of a one-run results folder).

        Raises
        ------
        FileNotFoundError
            If the folder lacks ``results.npz`` or ``results.json`` (a folder written before
            they existed, or not a run's folder).
        """
        folder = Path(folder)
        missing = [n for n in (_SAVED_ARRAYS, _SAVED_INFO) if not (folder / n).is_file()]
        if missing:
            raise FileNotFoundError(
                f"{folder} is not a saved run: it lacks {', '.join(missing)} (written by "
                "Results.save and by migration-sim run since version 0.1)"
            )
        info = json.loads((folder / _SAVED_INFO).read_text(encoding="utf-8"))
        arrays: dict[str, np.ndarray] = {}
        metrics: dict[str, np.ndarray] = {}
        graphs: dict[int, dict[int, np.ndarray]] = {}
        groups: dict[str, np.ndarray] = {}
        events = None
        with np.load(folder / _SAVED_ARRAYS, allow_pickle=False) as data:
            for key in data.files:
                head, _, rest = key.partition("/")
                if head == "arrays":
                    arrays[rest] = data[key]
                elif head == "metrics":
                    metrics[rest] = data[key]
                elif head == "graphs":
                    step, _, part = rest.partition("/")
                    graphs.setdefault(int(step), {})[int(part)] = data[key]
                elif head == "groups":
                    groups[rest] = data[key]
                else:
                    events = data[key]
        if "crime_type" in groups:
            groups["crime_type"] = groups["crime_type"].astype(object)
        return cls(
            platforms=info["platforms"],
            crime_types=info["crime_types"],
            step_unit=info["step_unit"],
            arrays=arrays,
            metrics=metrics,
            events_array=events if events is not None else pack_events([]),
            shock_steps=info["shock_steps"],
            config=info["config"],
            seed=info["seed"],
            shock_log=info["shock_log"],
            graphs={s: tuple(p[i] for i in sorted(p)) for s, p in sorted(graphs.items())},
            group_attributes=groups,
        )

    def final_shares(self) -> pd.Series:
        """Primary-platform shares of active groups at the last step."""
        ts = self.timeseries
        return ts[[f"share.{p}" for p in self.platforms]].iloc[-1].rename(lambda s: s[6:])

    def summary(self) -> pd.DataFrame:
        """Primary shares per platform at the start, at each shock, and at the end."""
        ts = self.timeseries
        marks = sorted({0, *[s - 1 for s in self.shock_steps if s >= 1], self.n_steps})
        rows = {}
        for p in self.platforms:
            rows[p] = [ts[f"share.{p}"].iloc[m] for m in marks]
        labels = [f"{self.step_unit} {m}" for m in marks]
        return pd.DataFrame.from_dict(rows, orient="index", columns=labels)


def timeseries_frame(
    arrays: dict[str, np.ndarray],
    metrics: dict[str, np.ndarray],
    platforms: list[str],
    step_unit: str,
) -> pd.DataFrame:
    """The per-step table of :attr:`Results.timeseries` from filled arrays (row = step)."""
    a = arrays
    steps = np.arange(a["n_active"].shape[0])
    n_act = a["n_active"].astype(float)
    denom = np.where(n_act > 0, n_act, np.nan)
    cols: dict[str, Any] = {
        "days": steps * DAYS_PER_STEP[step_unit],
        "n_active": a["n_active"],
        "n_dark": a["n_dark"],
        "share_multihoming": a["n_multihoming"] / denom,
        "mean_platforms": a["n_memberships"] / denom,
    }
    for k, name in enumerate(platforms):
        cols[f"share.{name}"] = a["primary"][:, k] / denom
    for k, name in enumerate(platforms):
        cols[f"presence.{name}"] = a["presence"][:, k] / denom
    for prefix, key in (
        ("risk", "mean_risk"),
        ("disruptions", "disruptions"),
        ("bans", "bans"),
        ("disclosure", "disclosure"),
    ):
        for k, name in enumerate(platforms):
            cols[f"{prefix}.{name}"] = a[key][:, k]
    cols.update(metrics)
    df = pd.DataFrame(cols, index=pd.Index(steps, name="step"))
    df.attrs["step_unit"] = step_unit
    return df


class RecordedDataCollector(mesa.DataCollector):
    """Mesa's DataCollector over a :class:`Recorder`: every recorded column, no reporters.

    ``model_vars`` maps each column of :attr:`Results.timeseries` (counts, shares, presence,
    risk, events, disclosure and every fragmentation measure) to its list of values, one per
    recorded step; ``get_model_vars_dataframe()`` returns that table. The values are read from
    the model's preallocated arrays when asked for, so no Python reporter runs per step and
    :meth:`collect` (called by the model after each step) has nothing to do. ``mesa.batch_run``
    and SolaraViz read these attributes as they read any DataCollector's; they are read-only.
    """

    def __init__(self, recorder: Recorder, platforms: list[str], step_unit: str) -> None:
        self._source = (recorder, list(platforms), step_unit)
        self._cache: dict[str, Any] = {"rows": -1}
        super().__init__()

    def _view(self) -> dict[str, Any]:
        """The recorded table and its column lists, rebuilt when a step was recorded."""
        recorder, platforms, step_unit = self._source
        n = recorder.n_rows
        if self._cache["rows"] != n:
            arrays = {k: v[:n] for k, v in recorder.arrays.items()}
            metrics = {k: v[:n] for k, v in recorder.metrics.items()}
            frame = timeseries_frame(arrays, metrics, platforms, step_unit)
            self._cache = {
                "rows": n,
                "frame": frame,
                "vars": {c: s.tolist() for c, s in frame.items()},
            }
        return self._cache

    @staticmethod
    def _refuse(name: str, value: Any) -> None:
        if value:  # Mesa's own __init__ assigns empty containers
            raise AttributeError(f"{name} is read from the model's recorded arrays")

    @property
    def model_vars(self) -> dict[str, list[Any]]:
        """Every recorded column: name -> list of values, one per recorded step."""
        return self._view()["vars"]

    @model_vars.setter
    def model_vars(self, value: Any) -> None:
        self._refuse("model_vars", value)

    @property
    def model_reporters(self) -> dict[str, str]:
        """The recorded column names (each read from the model's arrays)."""
        return dict.fromkeys(self._view()["vars"], "recorded")

    @model_reporters.setter
    def model_reporters(self, value: Any) -> None:
        self._refuse("model_reporters", value)

    @property
    def _collection_steps(self) -> list[float]:
        return [float(t) for t in range(self._source[0].n_rows)]

    @_collection_steps.setter
    def _collection_steps(self, value: Any) -> None:
        self._refuse("_collection_steps", value)

    def collect(self, model: mesa.Model) -> None:
        """Nothing to do: the model's Recorder already holds the step's row."""

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """Every recorded column, one row per step (a copy)."""
        return self._view()["frame"].copy()


def unknown_name_message(what: str, name: str, known: Sequence[str]) -> str:
    """Error text for a name not in ``known``, suggesting the closest names (difflib).

    Examples
    --------
    >>> unknown_name_message("outcome", "tg_fnal", ["tg_final", "broken_ties_final"])
    "outcome 'tg_fnal' is not known; did you mean 'tg_final'? Known: tg_final, broken_ties_final"
    """
    import difflib

    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else "."
    return f"{what} {name!r} is not known{hint} Known: {', '.join(known)}"


def pack_events(chunks: list[tuple[np.ndarray, ...]]) -> np.ndarray:
    """Concatenate logged event chunks into one structured array."""
    dtype = [
        ("step", np.int64),
        ("kind", np.int8),
        ("group", np.int64),
        ("platform", np.int64),
        ("crime_type", np.int64),
    ]
    if not chunks:
        return np.zeros(0, dtype=dtype)
    out = np.zeros(sum(c[0].size for c in chunks), dtype=dtype)
    for name, i in zip(("step", "kind", "group", "platform", "crime_type"), range(5), strict=True):
        out[name] = np.concatenate([c[i] for c in chunks])
    return out


def to_json(obj: Any) -> str:
    """JSON with numpy scalars converted; stable key order."""

    def default(o: Any) -> Any:
        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return float(o)
        if isinstance(o, np.ndarray):
            return o.tolist()
        raise TypeError(f"not JSON serialisable: {type(o).__name__}")

    return json.dumps(obj, indent=2, sort_keys=True, default=default)
