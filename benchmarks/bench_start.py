"""Wall time of a meta trace against ``python -c "import torch"``, measured in the same run.

    python benchmarks/bench_start.py               # 5 rounds
    python benchmarks/bench_start.py --rounds 9
    python benchmarks/bench_start.py --startup --against ../old-checkout --rounds 25

``--startup`` times the light commands instead (``convt --help``, ``convt show --no-torch``), which
must never import torch; ``--against DIR`` runs the same commands from another checkout in the same
rounds, interleaved, so that a before/after comparison sees the same machine load.

Each round runs every command once, in a fresh interpreter, in turn (so that a busy machine slows
all of them alike); the median wall time per command over the rounds is reported with its ratio to
the median of ``import torch``. The target is 1.5× for ``convt neck --device meta`` and for
``convt audit`` of the examples (meta device, weights from the examples' files).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
EX = "examples"

COMMANDS = {
    "import torch": [PY, "-c", "import torch"],
    "neck --device meta": [PY, "-m", "convt_cli", "neck", "--device", "meta"],
    "neck --preset sam3 --device meta": [PY, "-m", "convt_cli", "neck", "--preset", "sam3", "--device", "meta"],
    "audit dcgan": [PY, "-m", "convt_cli", "audit", f"{EX}/dcgan.py:build", "--shape", "1x16x1x1",
                    "--weights", f"{EX}/dcgan.safetensors"],
    "audit unet": [PY, "-m", "convt_cli", "audit", f"{EX}/unet.py:build", "--shape", "1x3x64x64",
                   "--weights", f"{EX}/unet.safetensors"],
    "audit subpixel": [PY, "-m", "convt_cli", "audit", f"{EX}/subpixel.py:build", "--shape", "1x8x32x32",
                       "--weights", f"{EX}/subpixel.safetensors"],
}


STARTUP = {
    "import torch": [PY, "-c", "import torch"],
    "convt --help": [PY, "-m", "convt_cli", "--help"],
    "convt show --no-torch": [PY, "-m", "convt_cli", "show", "--no-torch"],
}


def wall(cmd: list[str], root: Path = ROOT) -> float:
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "100", "NO_COLOR": "1"}
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--startup", action="store_true", help="time convt --help and show --no-torch")
    parser.add_argument("--against", type=Path, help="another checkout, timed in the same rounds")
    args = parser.parse_args()
    commands = STARTUP if args.startup else COMMANDS
    runs = {name: (cmd, ROOT) for name, cmd in commands.items()}
    if args.against is not None:
        other = args.against.resolve()
        runs.update({f"{name} [{other.name}]": (cmd, other) for name, cmd in commands.items()
                     if name != "import torch"})
    times: dict[str, list[float]] = {name: [] for name in runs}
    for cmd, root in runs.values():  # one untimed pass: the page cache holds every file
        wall(cmd, root)
    for _ in range(args.rounds):
        for name, (cmd, root) in runs.items():
            times[name].append(wall(cmd, root))
    base = statistics.median(times["import torch"])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.rounds} rounds, median wall time, {os.cpu_count()} CPUs, load average {load:.1f}")
    print(f"{'command':<44} {'median s':>9} {'min s':>7} {'× import torch':>15}")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"{name:<44} {med:9.2f} {min(values):7.2f} {med / base:15.2f}")


if __name__ == "__main__":
    main()
