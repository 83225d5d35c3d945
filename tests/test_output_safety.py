"""Output folders: ``--force`` never destroys what it did not write; full and read-only disks.

- ``--force`` replaces only a results folder of migration_sim, and refuses plain files,
  links and foreign folders, leaving them exactly as they were.
- Replacing is atomic: a writer killed (SIGKILL) at random moments while it replaces a
  results folder over and over always leaves a complete results folder at the destination.
- Hidden temporary folders of dead processes are removed; an old folder set aside by a killed
  replace is put back.
- A full disk (a real 48 KB tmpfs) and a read-only file system give exit code 1, one line
  naming the path and the reason, and leave nothing behind. Mounting needs root; without it
  these tests are skipped.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from migration_sim import cli
from migration_sim.results.staging import (
    COMPLETE,
    METADATA,
    OutputExistsError,
    is_results_folder,
    staged_folder,
)

TINY = "[run]\nsteps = 2\nseed = 1\n[groups]\nn_groups = 60\n"
SPEC = """
name = "t"
steps = 2
replicates = 2
seed = 1
outcomes = ["final:n_active"]
save_timeseries = true
[fixed]
"groups.n_groups" = 60
[design]
method = "grid"
[parameters]
"choice.beta" = { values = [1.0, 2.0, 3.0] }
"""
DEAD_PID = 2**22 + 12345  # above the default pid_max: never a live process


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _fake_results(folder: Path, tag: str) -> None:
    (folder / METADATA).write_text(json.dumps({"tag": tag}))


# ----------------------------------------------------------------------------- --force
@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(TINY, encoding="utf-8")
    return tmp_path


def test_force_refuses_a_plain_file_and_leaves_it_alone(tiny, capsys):
    (tiny / "notes.txt").write_text("precious")
    assert cli.main(["run", "s.toml", "--out", "notes.txt", "--force", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "is a file, not a results folder" in err and "notes.txt" in err
    assert (tiny / "notes.txt").read_text() == "precious"
    assert _hidden(tiny) == []


def test_force_refuses_a_foreign_folder_and_leaves_it_alone(tiny, capsys):
    (tiny / "thesis").mkdir()
    (tiny / "thesis" / "chapter1.tex").write_text("words")
    assert cli.main(["run", "s.toml", "--out", "thesis", "--force", "--quiet"]) == 1
    assert "not a results folder" in capsys.readouterr().err
    assert (tiny / "thesis" / "chapter1.tex").read_text() == "words"
    assert _hidden(tiny) == []


def test_force_refuses_a_link(tiny, capsys):
    (tiny / "real").mkdir()
    with staged_folder(tiny / "real2") as tmp:
        _fake_results(tmp, "a")
    (tiny / "link").symlink_to(tiny / "real2")
    assert cli.main(["run", "s.toml", "--out", "link", "--force", "--quiet"]) == 1
    assert "symbolic link" in capsys.readouterr().err
    assert is_results_folder(tiny / "real2")


def test_force_replaces_a_results_folder(tiny, capsys):
    assert cli.main(["run", "s.toml", "--out", "r", "--quiet"]) == 0
    first = json.loads((tiny / "r" / METADATA).read_text())["started"]
    assert cli.main(["run", "s.toml", "--out", "r", "--quiet", "--seed", "5"]) == 1
    assert cli.main(["run", "s.toml", "--out", "r", "--quiet", "--seed", "5", "--force"]) == 0
    meta = json.loads((tiny / "r" / METADATA).read_text())
    assert meta["seed"] == 5 and meta["started"] != first
    assert _hidden(tiny) == []


def test_force_replaces_an_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with staged_folder(tmp_path / "empty", force=True) as tmp:
        _fake_results(tmp, "new")
    assert is_results_folder(tmp_path / "empty")


def test_stale_temporary_folders_of_dead_processes_are_removed(tmp_path):
    with staged_folder(tmp_path / "r") as tmp:
        _fake_results(tmp, "old")
    for name in (f".r.tmp-{DEAD_PID}", f".r.old-{DEAD_PID}", f".r.tmp-{os.getpid() + 0}"):
        (tmp_path / name).mkdir()
    with staged_folder(tmp_path / "r", force=True) as tmp:
        _fake_results(tmp, "new")
    assert json.loads((tmp_path / "r" / METADATA).read_text()) == {"tag": "new"}
    assert _hidden(tmp_path) == []  # ours was reused, the dead processes' removed


def test_an_old_folder_set_aside_by_a_killed_replace_is_put_back(tmp_path):
    """The fallback without atomic exchange: killed between its two renames."""
    with staged_folder(tmp_path / "r") as tmp:
        _fake_results(tmp, "old")
    (tmp_path / "r").rename(tmp_path / f".r.old-{DEAD_PID}")
    with pytest.raises(OutputExistsError, match="already exists"):
        with staged_folder(tmp_path / "r") as tmp:
            pytest.fail("must not get here: the restored old results need --force")
    assert json.loads((tmp_path / "r" / METADATA).read_text()) == {"tag": "old"}


def test_replace_without_atomic_exchange_still_replaces(tmp_path, monkeypatch):
    from migration_sim.results import staging

    monkeypatch.setattr(staging, "_exchange", lambda a, b: False)
    for tag in ("old", "new"):
        with staged_folder(tmp_path / "r", force=True) as tmp:
            _fake_results(tmp, tag)
    assert json.loads((tmp_path / "r" / METADATA).read_text()) == {"tag": "new"}
    assert _hidden(tmp_path) == []


REPLACER = """
import json, sys
from pathlib import Path
from migration_sim.results.staging import staged_folder
dest = Path(sys.argv[1])
i = 0
while True:
    i += 1
    with staged_folder(dest, force=True) as tmp:
        for k in range(20):
            (tmp / f"f{k}.txt").write_text("x" * 2000)
        (tmp / "metadata.json").write_text(json.dumps({"i": i}))
    print(i, flush=True)
"""


@pytest.mark.slow
def test_killing_a_force_replace_at_any_moment_leaves_results_visible(tmp_path):
    dest = tmp_path / "r"
    with staged_folder(dest) as tmp:
        _fake_results(tmp, "first")
    rng = random.Random(5)
    for _ in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-c", REPLACER, str(dest)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        proc.stdout.readline()  # it is replacing in a loop now
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert is_results_folder(dest)
        assert (dest / COMPLETE).is_file()
    with staged_folder(dest, force=True) as tmp:  # the next writer cleans up after them
        _fake_results(tmp, "last")
    assert _hidden(tmp_path) == []


# ----------------------------------------------------------------------------- full / read-only
@pytest.fixture
def small_disk(tmp_path):
    """A 48 KB tmpfs mounted at tmp_path/disk (skipped where mounting is not permitted)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_run_exits_1_and_leaves_nothing(tiny, small_disk, capsys):
    code = cli.main(["run", "s.toml", "--out", str(small_disk / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "No space left on device" in err and str(small_disk) in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert list(small_disk.iterdir()) == []


def test_full_disk_sweep_exits_1_and_keeps_the_store_consistent(tiny, small_disk, capsys):
    (tiny / "spec.toml").write_text(SPEC, encoding="utf-8")
    out = small_disk / "sw"
    code = cli.main(["sweep", "spec.toml", "--out", str(out), "--workers", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "No space left on device" in err
    assert "Traceback" not in err
    assert not [p for p in out.rglob(".*.tmp")]  # no half-written file left


def test_read_only_disk_exits_1(tiny, small_disk, capsys):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    code = cli.main(["run", "s.toml", "--out", str(small_disk / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Read-only file system" in err and "Traceback" not in err
    (tiny / "spec.toml").write_text(SPEC, encoding="utf-8")
    code = cli.main(["sweep", "spec.toml", "--out", str(small_disk / "sw"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "Read-only file system" in err, err
