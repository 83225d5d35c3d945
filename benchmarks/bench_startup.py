"""Start-up time: ``import migration_sim`` and ``migration-sim --help`` against a full import.

Each command runs in a fresh interpreter, ``--repeat`` times (default 5), and the median wall
time is printed. The reference, measured in the same run, is the import of everything the
package loaded eagerly before imports became lazy (the model with Mesa and numba, the output
writers with pandas and matplotlib); the ratio shows what the lazy imports save.

    python benchmarks/bench_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "import migration_sim": [sys.executable, "-c", "import migration_sim"],
    "migration-sim --help": [sys.executable, "-m", "migration_sim", "--help"],
    "python (empty, reference floor)": [sys.executable, "-c", "pass"],
    "full import (reference)": [
        sys.executable,
        "-c",
        "import migration_sim.model, migration_sim.results.folder, migration_sim.cli.commands",
    ],
}


def median_seconds(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    result = {name: median_seconds(cmd, args.repeat) for name, cmd in COMMANDS.items()}
    for name, value in result.items():
        print(f"{name:34s} {value:6.2f} s (median of {args.repeat})")
    full = result["full import (reference)"]
    for name in ("import migration_sim", "migration-sim --help"):
        print(f"{name}: {full / result[name]:.1f}x faster than the full import")


if __name__ == "__main__":
    main()
