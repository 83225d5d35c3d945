"""A corpus of bad inputs across every entry point: each gets one clear message, no traceback.

Every case names what it feeds in, where (a CLI command or a Python entry point), the exit
code or exception class expected, and words the message must contain (the key or file, and
what is allowed). Every CLI case also checks that stderr holds no traceback, no "internal
error" and stays short; every API case that the exception is one of the project's own.
The corpus is data: add a row to grow it. ``test_corpus_size`` keeps it at 150 or more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest

import migration_sim as ms
from migration_sim import cli
from migration_sim.config.errors import (
    ConfigError,
    EnvironmentFailure,
    InputFileError,
    MigrationSimError,
)
from migration_sim.sweep import SweepSpecError, run_sweep
from migration_sim.sweep.executors import reproduce_run

MAX_MESSAGE = 1500  # characters of stderr allowed for one error

TINY = "[run]\nsteps = 2\nseed = 1\n[groups]\nn_groups = 60\n"
HUGE = "x" * 1_000_000


@dataclass(frozen=True)
class Case:
    """One bad input: files to create, what to call, what must come back."""

    id: str
    category: str
    files: dict[str, bytes | str | None] = field(default_factory=dict)  # None: a folder
    argv: tuple[str, ...] = ()  # CLI arguments, or ...
    call: Callable[[Path], Any] | None = None  # ... a Python call (gets the folder)
    code: int = 2  # CLI exit code
    error: type[BaseException] = ConfigError  # Python exception class
    expect: tuple[str, ...] = ()  # words the message must contain


def scenario_value(key_toml: str, *expect: str, section: str = "") -> str:
    """A scenario with one bad line added to the tiny one."""
    return TINY + (f"[{section}]\n" if section else "") + key_toml + "\n"


# ----------------------------------------------------------------------------- file kinds
# (file content or None for a folder, words expected); each goes through several entry points
FILE_KINDS: dict[str, tuple[bytes | None | str, tuple[str, ...]]] = {
    "missing": ("<missing>", ("not found",)),
    "folder": (None, ("is a folder",)),
    "binary": (b"\x00\x01\x02\xff" * 50, ("binary",)),
    "latin1": ("[run]\nsteps = 2 # caf\xe9\n".encode("latin-1"), ("not UTF-8", "line 2")),
    "bom": (b"\xef\xbb\xbf" + TINY.encode(), ("byte-order mark",)),
    "bad_toml": (b"[run\nsteps = 2\n", ("invalid TOML",)),
    "bad_toml_value": (b"[run]\nsteps = = 2\n", ("invalid TOML",)),
    "duplicate_key": (b"[run]\nsteps = 2\nsteps = 3\n", ("invalid TOML",)),
    "inside_file": ("<inside-file>", ("is a file",)),
}


def _file_setup(kind: str, name: str) -> tuple[dict[str, bytes | str | None], str]:
    content, _ = FILE_KINDS[kind]
    if content == "<missing>":
        return {}, name
    if content == "<inside-file>":
        return {"plain": "x"}, f"plain/{name}"
    return {name: content}, name


def file_cases() -> list[Case]:
    cases = []
    for kind, (_, words) in FILE_KINDS.items():
        files, path = _file_setup(kind, "s.toml")
        cases += [
            Case(f"run-scenario-{kind}", "scenario file", files, ("run", path), expect=words),
            Case(f"validate-{kind}", "scenario file", files, ("validate", path), expect=words),
            Case(
                f"compare-{kind}",
                "scenario file",
                files,
                ("compare", "baseline", path),
                expect=words,
            ),
            Case(
                f"api-load_scenario-{kind}",
                "scenario file",
                files,
                call=lambda d, p=path: ms.load_scenario(d / p),
                error=InputFileError,
                expect=words,
            ),
            Case(
                f"api-run_scenario-{kind}",
                "scenario file",
                files,
                call=lambda d, p=path: ms.run_scenario(str(d / p)),
                error=InputFileError,
                expect=words,
            ),
        ]
        files, path = _file_setup(kind, "cat.toml")
        cases.append(
            Case(
                f"catalogue-{kind}",
                "catalogue file",
                {**files, "s.toml": TINY + f'[platforms]\ncatalogue = "{path}"\n'},
                ("validate", "s.toml"),
                expect=("cat.toml", *words),
            )
        )
        files, path = _file_setup(kind, "sweep.toml")
        if kind not in ("bom", "latin1"):  # TOML text errors are checked once below
            cases.append(
                Case(f"sweep-spec-{kind}", "sweep spec file", files, ("sweep", path), expect=words)
            )
    for kind in ("bom", "latin1"):
        files, path = _file_setup(kind, "sweep.toml")
        cases.append(
            Case(
                f"sweep-spec-{kind}",
                "sweep spec file",
                files,
                ("sweep", path),
                expect=FILE_KINDS[kind][1],
            )
        )
    return cases


# ----------------------------------------------------------------------------- network files
GRAPHML_OK_HEAD = (
    '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
    '<graph edgedefault="undirected">'
)
NETWORK_FILES: dict[str, tuple[str, bytes | str | None, tuple[str, ...]]] = {
    "graphml-truncated": ("g.graphml", GRAPHML_OK_HEAD + "<node id='0'/", ("not a valid GraphML",)),
    "graphml-binary": ("g.graphml", b"\x89PNG\r\n\x1a\n\x00\x00" * 20, ("binary",)),
    "graphml-not-xml": ("g.graphml", "hello world", ("not a valid GraphML",)),
    "graphml-wrong-root": ("g.graphml", "<html><body/></html>", ("GraphML",)),
    "graphml-bad-nodes": (
        "g.graphml",
        GRAPHML_OK_HEAD + "<node id='a'/><node id='b'/></graph></graphml>",
        ("nodes", "n_groups"),
    ),
    "graphml-empty": (
        "g.graphml",
        GRAPHML_OK_HEAD + "</graph></graphml>",
        ("empty",),
    ),
    "edges-wrong-count": ("g.txt", "0 1\n1 2\n", ("3 nodes", "n_groups = 60")),
    "edges-labels": ("g.txt", "a b\nb c\n", ("nodes",)),
    "edges-bom": ("g.txt", b"\xef\xbb\xbf0 1\n", ("byte-order mark",)),
    "edges-latin1": ("g.txt", b"0 1 # \xe9\n", ("not UTF-8",)),
    "edges-binary": ("g.txt", b"\x00\x01" * 30, ("binary",)),
    "network-missing": ("<none>", None, ("not found",)),
    "network-folder": ("g.d", None, ("is a folder",)),
}


def network_cases() -> list[Case]:
    cases = []
    for name, (fname, content, words) in NETWORK_FILES.items():
        target = "absent.graphml" if fname == "<none>" else fname
        files: dict[str, bytes | str | None] = {}
        if fname != "<none>":
            files[fname] = content
        files["s.toml"] = TINY + f'[network]\npath = "{target}"\n'
        cases += [
            Case(f"validate-{name}", "network file", files, ("validate", "s.toml"), expect=words),
            Case(f"run-{name}", "network file", files, ("run", "s.toml"), expect=words),
            Case(
                f"api-run-{name}",
                "network file",
                files,
                call=lambda d: ms.run_scenario(str(d / "s.toml")),
                expect=words,
            ),
        ]
    return cases


# ----------------------------------------------------------------------------- values
VALUES: list[tuple[str, str, tuple[str, ...]]] = [
    ("unknown-section", "[nonsense]\na = 1", ("nonsense",)),
    ("unknown-key", "[run]\nstepz = 2", ("stepz",)),
    ("steps-string", 'steps = "ten"', ("run.steps", "integer")),
    ("steps-negative", "steps = -1", ("run.steps", ">= 0")),
    ("steps-float", "steps = 2.5", ("run.steps", "integer")),
    ("steps-list", "steps = [1, 2]", ("run.steps",)),
    ("steps-table", "steps = {a = 1}", ("run.steps",)),
    ("steps-bool", "steps = true", ("run.steps",)),
    ("seed-negative", "seed = -5", ("run.seed",)),
    ("seed-nan", "seed = nan", ("run.seed",)),
    ("n-groups-zero", "n_groups = 0", ("groups.n_groups", ">= 1")),
    ("n-groups-1e8", "n_groups = 100000000", ("groups.n_groups", "memory", "available")),
    ("n-groups-2e63", "n_groups = 9223372036854775807", ("groups.n_groups", "memory")),
    ("n-groups-inf", "n_groups = inf", ("groups.n_groups",)),
    ("n-groups-huge-float", "n_groups = 1e300", ("groups.n_groups", "memory")),
    ("beta-string", '[choice]\nbeta = "high"', ("choice.beta",)),
    ("prob-above-one", "[groups]\np_initial_secondary = 1.5", ("p_initial_secondary", "[0, 1]")),
    ("prob-negative", "[groups]\np_initial_secondary = -0.1", ("p_initial_secondary",)),
    ("intensity-negative", "[enforcement]\nintensity = -1", ("enforcement.intensity", ">= 0")),
    ("intensity-inf", "[enforcement]\nintensity = inf", ("enforcement.intensity",)),
    ("outcome-choice", '[enforcement]\noutcome = "vanish"', ("enforcement.outcome", "'remove'")),
    ("size-order", "[groups]\nsize_min = 500.0\nsize_max = 100.0", ("size_min", "size_max")),
    ("max-platforms", "[groups]\nmax_platforms = 99", ("max_platforms",)),
    ("mean-degree", "[network]\nmean_degree = 1000", ("network.mean_degree",)),
    ("generator", '[network]\ngenerator = "magic"', ("network.generator",)),
    ("network-path-number", "[network]\npath = 5", ("network.path",)),
    ("monitored-unknown", '[metrics]\nmonitored = ["Nope"]', ("monitored", "Nope")),
    ("platform-unknown", "[platforms.Nope]\nreach = 0.5", ("Nope",)),
    ("platform-bad-attr", "[platforms.Telegram]\nreach = 7", ("Telegram", "reach")),
    ("platform-unknown-attr", "[platforms.Telegram]\ncolour = 1", ("colour",)),
    ("catalogue-number", "[platforms]\ncatalogue = 3", ("catalogue",)),
    ("crime-unknown", "[crime_types.Nope]\nshare = 0.5", ("Nope",)),
    ("shock-no-kind", '[[shocks]]\nname = "a"\nstart = 1', ("shocks", "kind")),
    ("shock-bad-kind", '[[shocks]]\nkind = "meteor"\nstart = 1', ("kind", "meteor")),
    (
        "shock-name-list",
        '[[shocks]]\nkind = "salience"\nname = ["a", "b"]\nstart = 1\n'
        'platforms = ["Telegram"]\nmagnitude = 0.5',
        ("name",),
    ),
    (
        "shock-name-number",
        '[[shocks]]\nkind = "salience"\nname = 5\nstart = 1\n'
        'platforms = ["Telegram"]\nmagnitude = 0.5',
        ("name",),
    ),
    (
        "shock-start-negative",
        '[[shocks]]\nkind = "salience"\nstart = -3\nplatforms = ["Telegram"]\nmagnitude = 0.5',
        ("start",),
    ),
    (
        "shock-start-string",
        '[[shocks]]\nkind = "salience"\nstart = "soon"\nplatforms = ["Telegram"]\nmagnitude = 0.5',
        ("start",),
    ),
    (
        "shock-platform-unknown",
        '[[shocks]]\nkind = "salience"\nstart = 1\nplatforms = ["Nope"]\nmagnitude = 0.5',
        ("Nope",),
    ),
    (
        "shock-platforms-string",
        '[[shocks]]\nkind = "salience"\nstart = 1\nplatforms = "Telegram"\nmagnitude = 0.5',
        ("platforms",),
    ),
    (
        "shock-unknown-key",
        '[[shocks]]\nkind = "salience"\nstart = 1\n'
        'platforms = ["Telegram"]\nmagnitude = 0.5\nwhen = 3',
        ("when",),
    ),
    (
        "shock-magnitude-big",
        '[[shocks]]\nkind = "salience"\nstart = 1\nplatforms = ["Telegram"]\nmagnitude = 50',
        ("magnitude",),
    ),
    ("shocks-not-list", "shocks = 5", ("shocks",)),
    ("shocks-list-of-numbers", "shocks = [1, 2]", ("shocks",)),
    (
        "shock-variant-unknown",
        '[[shocks]]\nkind = "disclosure_change"\nstart = 1\n'
        'platform = "Telegram"\nvariant = "nope"',
        ("nope",),
    ),
    (
        "shock-duplicate-names",
        '[[shocks]]\nkind = "salience"\nname = "a"\nstart = 1\n'
        'platforms = ["Telegram"]\nmagnitude = 0.5\n[[shocks]]\nkind = "salience"\nname = "a"\n'
        'start = 2\nplatforms = ["Telegram"]\nmagnitude = 0.5',
        ("a",),
    ),
    ("huge-string-value", f'[run]\nstep_unit = "{HUGE}"', ("run.step_unit", "characters")),
    ("huge-key", f"[run]\n{'k' * 100_000} = 1", ("characters",)),
]


def value_cases() -> list[Case]:
    cases = []
    for name, text, words in VALUES:
        if name.startswith(("steps", "seed")):
            body = TINY.replace("[run]\nsteps = 2\nseed = 1\n", f"[run]\n{text}\n")
        elif name.startswith("n-groups"):
            body = TINY.replace("n_groups = 60", text)
        elif text.startswith(("[run]\n", "[groups]\n")):  # lines for a table TINY has
            header = text.split("\n", 1)[0] + "\n"
            body = TINY.replace(header, text + "\n")
        elif not text.startswith("["):  # top-level keys come before any table
            body = text + "\n" + TINY
        else:
            body = TINY + text + "\n"
        files = {"s.toml": body}
        cases += [
            Case(f"validate-{name}", "scenario value", files, ("validate", "s.toml"), expect=words),
            Case(
                f"api-run_scenario-{name}",
                "scenario value",
                files,
                call=lambda d: ms.run_scenario(str(d / "s.toml")),
                expect=words,
            ),
        ]
    return cases


# ----------------------------------------------------------------------------- API calls
def api_cases() -> list[Case]:
    big = {"groups.n_groups": 10**8}
    return [
        Case(
            "api-model-graph-str",
            "python api",
            call=lambda d: ms.MigrationModel(graph="notagraph"),
            expect=("graph", "notagraph", "networkx"),
        ),
        Case(
            "api-model-graph-dict",
            "python api",
            call=lambda d: ms.MigrationModel(graph={0: 1}),
            expect=("graph",),
        ),
        Case(
            "api-model-graph-wrong-nodes",
            "python api",
            call=lambda d: ms.MigrationModel({"groups.n_groups": 60}, graph=nx.path_graph(5)),
            expect=("5 nodes", "n_groups = 60"),
        ),
        Case(
            "api-model-config-int",
            "python api",
            call=lambda d: ms.MigrationModel(42),
            expect=("config",),
        ),
        Case(
            "api-model-config-unknown",
            "python api",
            call=lambda d: ms.MigrationModel({"nonsense.x": 1}),
            expect=("nonsense",),
        ),
        Case(
            "api-model-rng-negative",
            "python api",
            call=lambda d: ms.MigrationModel(rng=-1),
            expect=("rng",),
        ),
        Case(
            "api-model-rng-string",
            "python api",
            call=lambda d: ms.MigrationModel(rng="seed"),
            expect=("rng",),
        ),
        Case(
            "api-model-engine",
            "python api",
            call=lambda d: ms.MigrationModel(engine="gpu"),
            expect=("engine", "vectorised"),
        ),
        Case(
            "api-model-huge",
            "python api",
            call=lambda d: ms.MigrationModel(big),
            expect=("groups.n_groups", "memory"),
        ),
        Case(
            "api-model-huge-numpy",
            "python api",
            call=lambda d: ms.MigrationModel({"groups.n_groups": np.int64(2**62)}),
            expect=("groups.n_groups", "memory"),
        ),
        Case(
            "api-model-shock-name-list",
            "python api",
            call=lambda d: ms.MigrationModel(
                {
                    "shocks": [
                        {
                            "kind": "salience",
                            "name": ["x"],
                            "start": 1,
                            "platforms": ["Telegram"],
                            "magnitude": 0.5,
                        }
                    ]
                }
            ),
            expect=("name",),
        ),
        Case(
            "api-run-steps-negative",
            "python api",
            call=lambda d: ms.run(steps=-1),
            expect=("steps",),
        ),
        Case(
            "api-run-steps-string",
            "python api",
            call=lambda d: ms.run(steps="5"),
            expect=("steps",),
        ),
        Case("api-run-seed-string", "python api", call=lambda d: ms.run(seed="x"), expect=("rng",)),
        Case(
            "api-run-config-list", "python api", call=lambda d: ms.run([1, 2]), expect=("config",)
        ),
        Case("api-run-huge", "python api", call=lambda d: ms.run(big), expect=("memory",)),
        Case(
            "api-run-value-huge-string",
            "python api",
            call=lambda d: ms.run({"run.step_unit": HUGE}),
            expect=("characters",),
        ),
        Case(
            "api-run-scenario-int",
            "python api",
            call=lambda d: ms.run_scenario(42),
            expect=("scenario",),
        ),
        Case(
            "api-run-scenario-unknown-name",
            "python api",
            call=lambda d: ms.run_scenario("no_such_scenario"),
            expect=("no_such_scenario",),
        ),
        Case(
            "api-load-scenario-none",
            "python api",
            call=lambda d: ms.load_scenario(None),
            expect=("scenario",),
        ),
        Case(
            "api-sweep-spec-int",
            "python api",
            call=lambda d: run_sweep(42, d / "o"),
            expect=("sweep spec",),
        ),
        Case(
            "api-sweep-workers-zero",
            "python api",
            call=lambda d: run_sweep(_spec_file(d), d / "o", workers=0),
            expect=("workers",),
        ),
        Case(
            "api-sweep-workers-string",
            "python api",
            call=lambda d: run_sweep(_spec_file(d), d / "o", workers="2"),
            expect=("workers",),
        ),
        Case(
            "api-sweep-model-not-installed",
            "python api",
            call=lambda d: run_sweep(_spec_file(d, model="os:system"), d / "o"),
            error=SweepSpecError,
            expect=("os:system", "--allow-import"),
        ),
        Case(
            "api-sweep-spec-missing",
            "python api",
            call=lambda d: run_sweep(d / "nope.toml"),
            error=SweepSpecError,
            expect=("not found",),
        ),
        Case(
            "api-reproduce-not-sweep",
            "python api",
            call=lambda d: reproduce_run(d, 0),
            error=MigrationSimError,
            expect=("not a sweep folder",),
        ),
    ]


SPEC = """
name = "t"
steps = 2
replicates = 1
seed = 1
outcomes = ["final:n_active"]
{extra}
[fixed]
"groups.n_groups" = 60

[design]
method = "grid"

[parameters]
"choice.beta" = {{ values = [1.0, 2.0] }}
"""


def _spec_file(folder: Path, model: str | None = None, extra: str = "") -> Path:
    path = folder / "spec.toml"
    head = f'model = "{model}"\n' if model else ""
    path.write_text(SPEC.format(extra=head + extra), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- CLI specifics
def spec_cases() -> list[Case]:
    def spec(extra: str = "", params: str | None = None) -> str:
        text = SPEC.format(extra=extra)
        if params is not None:
            text = text[: text.index("[parameters]")] + "[parameters]\n" + params + "\n"
        return text

    rows = [
        ("unknown-key", spec("colour = 3"), ("colour",)),
        ("replicates-zero", spec().replace("replicates = 1", "replicates = 0"), ("replicates",)),
        ("seed-string", spec().replace("seed = 1", 'seed = "x"'), ("seed",)),
        ("steps-negative", spec().replace("steps = 2", "steps = -2"), ("steps",)),
        (
            "outcomes-string",
            spec().replace('["final:n_active"]', '"final:n_active"'),
            ("outcomes",),
        ),
        ("outcome-bad", spec().replace("final:n_active", "sometime:n_active"), ("sometime",)),
        ("design-unknown", spec().replace('"grid"', '"magic"'), ("magic",)),
        ("param-unknown-path", spec(params='"choice.nope" = { values = [1.0] }'), ("choice.nope",)),
        ("param-no-values", spec(params='"choice.beta" = { }'), ("choice.beta",)),
        (
            "param-range-reversed",
            spec(params='"choice.beta" = { range = [4.0, 1.0] }'),
            ("choice.beta",),
        ),
        (
            "param-value-rejected",
            spec(params='"choice.beta" = { values = [-1.0] }'),
            ("choice.beta",),
        ),
        ("param-table-number", spec(params='"choice.beta" = 3'), ("choice.beta",)),
        (
            "fixed-unknown",
            spec().replace('"groups.n_groups" = 60', '"groups.nope" = 60'),
            ("nope",),
        ),
        ("model-not-installed", spec('model = "os:system"'), ("os:system", "--allow-import")),
        ("model-bad-format", spec('model = "nocolon"'), ("model",)),
        ("scenario-missing", spec('scenario = "absent.toml"'), ("absent.toml",)),
        (
            "huge-name",
            spec(f'name = "{"n" * 200_000}"').replace('name = "t"\n', ""),
            ("characters",),
        ),
    ]
    cases = [
        Case(
            f"sweep-spec-{name}",
            "sweep spec value",
            {"spec.toml": text},
            ("sweep", "spec.toml", "--out", "o", "--quiet"),
            expect=words,
        )
        for name, text, words in rows
    ]
    return cases


def cli_cases() -> list[Case]:
    tiny = {"s.toml": TINY}
    results_like = {"taken/keep.txt": "mine"}
    return [
        Case(
            "cli-run-seed-negative",
            "cli argument",
            tiny,
            ("run", "s.toml", "--seed", "-1"),
            expect=("--seed",),
        ),
        Case(
            "cli-run-seed-word",
            "cli argument",
            tiny,
            ("run", "s.toml", "--seed", "x"),
            expect=("--seed",),
        ),
        Case(
            "cli-run-steps-word",
            "cli argument",
            tiny,
            ("run", "s.toml", "--steps", "many"),
            expect=("--steps",),
        ),
        Case(
            "cli-run-replicates-zero",
            "cli argument",
            tiny,
            ("run", "s.toml", "--replicates", "0"),
            expect=("--replicates",),
        ),
        Case(
            "cli-run-unknown-option",
            "cli argument",
            tiny,
            ("run", "s.toml", "--colour"),
            expect=("--colour",),
        ),
        Case(
            "cli-run-unknown-builtin",
            "cli argument",
            {},
            ("run", "telegram_2025"),
            expect=("telegram_2025", "built-in"),
        ),
        Case(
            "cli-run-huge-scenario-arg",
            "cli argument",
            {},
            ("run", "y" * 100_000),
            expect=("characters",),
        ),
        Case("cli-compare-one", "cli argument", tiny, ("compare", "s.toml"), expect=("two",)),
        Case(
            "cli-sweep-workers-zero",
            "cli argument",
            {},
            ("sweep", "x.toml", "--workers", "0"),
            expect=("workers",),
        ),
        Case(
            "cli-sweep-workers-word",
            "cli argument",
            {},
            ("sweep", "x.toml", "--workers", "n"),
            expect=("--workers",),
        ),
        Case("cli-no-command", "cli argument", {}, (), expect=("COMMAND",)),
        Case("cli-unknown-command", "cli argument", {}, ("fly",), expect=("fly",)),
        # output folders
        Case(
            "cli-run-out-is-file",
            "output folder",
            {**tiny, "f": "data"},
            ("run", "s.toml", "--out", "f"),
            code=1,
            expect=("already exists",),
        ),
        Case(
            "cli-run-out-file-force",
            "output folder",
            {**tiny, "f": "data"},
            ("run", "s.toml", "--out", "f", "--force"),
            code=1,
            expect=("is a file", "not a results folder"),
        ),
        Case(
            "cli-run-out-inside-file",
            "output folder",
            {**tiny, "f": "data"},
            ("run", "s.toml", "--out", "f/sub"),
            code=1,
            expect=("is a file",),
        ),
        Case(
            "cli-run-out-foreign-force",
            "output folder",
            {**tiny, **results_like},
            ("run", "s.toml", "--out", "taken", "--force"),
            code=1,
            expect=("not a results folder",),
        ),
        Case(
            "cli-compare-out-foreign-force",
            "output folder",
            {**results_like},
            ("compare", "baseline", "takedown", "--out", "taken", "--force"),
            code=1,
            expect=("not a results folder",),
        ),
        Case(
            "cli-sweep-out-is-file",
            "output folder",
            {"spec.toml": SPEC.format(extra=""), "f": "x"},
            ("sweep", "spec.toml", "--out", "f"),
            code=1,
            expect=("is a file",),
        ),
        Case(
            "cli-sweep-out-inside-file",
            "output folder",
            {"spec.toml": SPEC.format(extra=""), "f": "x"},
            ("sweep", "spec.toml", "--out", "f/sub"),
            code=1,
            expect=("is a file",),
        ),
        Case(
            "cli-sweep-out-foreign",
            "output folder",
            {"spec.toml": SPEC.format(extra=""), **results_like},
            ("sweep", "spec.toml", "--out", "taken"),
            code=1,
            expect=("not a sweep folder",),
        ),
        # analyze
        Case(
            "cli-analyze-missing",
            "analyze folder",
            {},
            ("analyze", "nope"),
            code=1,
            expect=("not a sweep folder",),
        ),
        Case(
            "cli-analyze-file",
            "analyze folder",
            {"f": "x"},
            ("analyze", "f"),
            code=1,
            expect=("not a sweep folder",),
        ),
        Case(
            "cli-analyze-foreign",
            "analyze folder",
            results_like,
            ("analyze", "taken"),
            code=1,
            expect=("not a sweep folder",),
        ),
        Case(
            "cli-analyze-damaged-meta",
            "analyze folder",
            {"sw/sweep.json": "{not json"},
            ("analyze", "sw"),
            code=1,
            expect=("damaged",),
        ),
        Case(
            "cli-analyze-meta-binary",
            "analyze folder",
            {"sw/sweep.json": b"\x00\xff"},
            ("analyze", "sw"),
            code=1,
            expect=("damaged",),
        ),
        Case(
            "cli-analyze-meta-wrong-shape",
            "analyze folder",
            {"sw/sweep.json": "[1, 2]"},
            ("analyze", "sw"),
            code=1,
            expect=("damaged",),
        ),
    ]


# --------------------------------------------------------------- validate-model and calibrate
PATTERN_OK = (
    '[[pattern]]\nname = "p"\nscenario = "takedown"\nmeasure = "split_share"\n'
    'params = { source = "Telegram", horizon = 30 }\ntarget = 0.1\ntolerance = 0.1\n'
    'use = "validation"\nsource = "test"\n'
)


def _pattern_with(old: str, new: str) -> str:
    assert old in PATTERN_OK
    return PATTERN_OK.replace(old, new)


def validation_cases() -> list[Case]:
    cases = []
    for kind, (_, words) in FILE_KINDS.items():
        files, path = _file_setup(kind, "p.toml")
        cases.append(
            Case(
                f"patterns-{kind}",
                "patterns file",
                files,
                ("validate-model", "--patterns", path),
                expect=words,
            )
        )
        files, path = _file_setup(kind, "cal.toml")
        cases.append(
            Case(
                f"calibration-spec-{kind}",
                "calibration spec",
                files,
                ("calibrate", path),
                expect=words,
            )
        )
    bad_patterns = {
        "unknown-key": (
            _pattern_with('use = "validation"', 'use = "validation"\ncolour = 1'),
            ("colour",),
        ),
        "measure": (_pattern_with('"split_share"', '"split"'), ("measure", "split_share")),
        "use": (_pattern_with('"validation"', '"both"'), ("use", "calibration")),
        "tolerance": (_pattern_with("tolerance = 0.1", "tolerance = -1"), ("tolerance", ">= 0")),
        "target": (_pattern_with("target = 0.1", 'target = "a lot"'), ("target", "number")),
        "scenario": (_pattern_with('"takedown"', '"takedwon"'), ("scenario", "built-in")),
        "param-unknown": (
            _pattern_with("horizon = 30", "horizon = 30, step = 3"),
            ("step", "unknown"),
        ),
        "param-missing": (_pattern_with(", horizon = 30", ""), ("horizon", "missing")),
        "duplicate": (PATTERN_OK + PATTERN_OK, ("duplicate", "'p'")),
        "none": ("# nothing\n", ("no [[pattern]]",)),
    }
    for name, (text, words) in bad_patterns.items():
        cases.append(
            Case(
                f"patterns-value-{name}",
                "patterns value",
                {"p.toml": text},
                ("validate-model", "--patterns", "p.toml"),
                expect=words,
            )
        )
    good = '[parameters]\n"choice.w_follow" = [0.0, 6.0]\n'
    bad_specs = {
        "unknown-key": (good + "budget = 3\n", ("budget",)),
        "no-parameters": ("seed = 1\n", ("parameters",)),
        "not-a-list": ('[parameters]\n"choice.w_follow" = 6.0\n', ("choice.w_follow", "list")),
        "unknown-parameter": ('[parameters]\n"choice.w_fllow" = [1.0]\n', ("w_fllow",)),
        "bad-value": ('[parameters]\n"choice.beta" = [-1.0]\n', ("choice.beta",)),
        "replicates": ("replicates = 0\n" + good, ("replicates", ">= 1")),
        "seed": ("seed = -2\n" + good, ("seed", ">= 0")),
    }
    for name, (text, words) in bad_specs.items():
        cases.append(
            Case(
                f"calibration-value-{name}",
                "calibration value",
                {"cal.toml": text},
                ("calibrate", "cal.toml"),
                expect=words,
            )
        )
    cases += [
        Case(
            "cli-validate-model-replicates-zero",
            "cli argument",
            {},
            ("validate-model", "--replicates", "0"),
            expect=("--replicates",),
        ),
        Case(
            "cli-validate-model-workers-word",
            "cli argument",
            {},
            ("validate-model", "--workers", "many"),
            expect=("--workers",),
        ),
    ]
    return cases


CASES = (
    file_cases()
    + network_cases()
    + value_cases()
    + api_cases()
    + spec_cases()
    + cli_cases()
    + validation_cases()
)


def _make(folder: Path, files: dict[str, bytes | str | None]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def test_corpus_size():
    by_category = Counter(c.category for c in CASES)
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"
    assert len(CASES) >= 150, by_category


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_one_clear_message(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _make(tmp_path, case.files)
    if case.call is not None:
        with pytest.raises(case.error) as info:
            case.call(tmp_path)
        assert isinstance(info.value, MigrationSimError), type(info.value)
        message = str(info.value)
        assert len(message) <= 1100
    else:
        try:
            code = cli.main(list(case.argv))
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code
        err = capsys.readouterr().err
        assert code == case.code, err
        assert "Traceback" not in err
        assert "internal error" not in err
        assert len(err) <= MAX_MESSAGE, err[:300]
        message = err
    for word in case.expect:
        assert word in message, f"{word!r} not in {message[:400]!r}"


def test_numpy_integers_are_accepted_like_ints():
    cfg = ms.default_config().with_overrides(
        {
            "groups.n_groups": np.int64(80),
            "run.steps": np.int32(2),
            "metrics.graph_steps": [np.int64(1)],
        }
    )
    assert cfg.groups.n_groups == 80 and type(cfg.groups.n_groups) is int
    assert cfg.run.steps == 2
    assert cfg.metrics.graph_steps == [1]


def test_extinction_warns_instead_of_silent_nan():
    with pytest.warns(RuntimeWarning, match="every group has left the model"):
        res = ms.run(
            {"groups.n_groups": 60, "enforcement.intensity": 1e6, "enforcement.outcome": "remove"},
            seed=1,
            steps=3,
        )
    assert res.timeseries["n_active"].iloc[-1] == 0


def test_debug_shows_the_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--debug", "validate", "absent.toml"]) == 2
    assert "Traceback" in capsys.readouterr().err
    assert cli.main(["validate", "absent.toml", "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_environment_failures_exit_1(tmp_path, monkeypatch, capsys):
    """An OSError the user did not cause by input (here: EACCES on read) is exit code 1."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(TINY)

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert cli.main(["validate", "s.toml"]) == 1
    err = capsys.readouterr().err
    assert "Permission denied" in err and "s.toml" in err
    with pytest.raises(EnvironmentFailure, match="Permission denied"):
        ms.load_scenario(tmp_path / "s.toml")
    assert isinstance(EnvironmentFailure("x"), OSError)
    assert issubclass(ConfigError, ValueError)


def test_unexpected_errors_are_one_line_and_point_to_debug(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def boom(*args: Any, **kwargs: Any) -> None:
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(cli.commands, "resolve_scenario", boom)
    assert cli.main(["validate", "x.toml"]) == 1
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: simulated bug" in err
    assert "--debug" in err and "Traceback" not in err


def test_memory_check_compares_the_estimate_with_what_is_available():
    from migration_sim.model.inputs import check_memory, estimate_memory

    cfg = ms.default_config().with_overrides({"groups.n_groups": 1000, "run.steps": 10})
    need = estimate_memory(cfg)
    assert need == 1000 * (700 + 50 * cfg.network.mean_degree + 8 * 10)
    check_memory(cfg, available=need)  # exactly enough passes
    with pytest.raises(ConfigError, match=r"groups.n_groups = 1000 .* at most about 500 groups"):
        check_memory(cfg, available=need // 2)
    huge = cfg.with_overrides({"groups.n_groups": 2**63 - 1})
    assert estimate_memory(huge) > 2**63  # Python integers: no overflow to a small number
