"""Cold wall time of the analytic CLI next to a bare `import torch`, measured in the same run.

Target: `costlab compare conv dwsep --cin 3 --cout 256` answers in 0.5 s or less, cold, because it
never imports torch (which costs 2-3 s here).

    python benchmarks/bench_compare.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "costlab compare conv dwsep --cin 3 --cout 256": [sys.executable, "-m", "costlab", "compare", "conv", "dwsep",
                                                       "--cin", "3", "--cout", "256"],
    "costlab breakeven --n 1..64": [sys.executable, "-m", "costlab", "breakeven", "--n", "1..64"],
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    "python -c 'pass' (interpreter start)": [sys.executable, "-c", "pass"],
}


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    medians = {}
    for label, cmd in COMMANDS.items():
        wall(cmd)  # warm the file cache once; what is measured is a fresh interpreter each time
        times = [wall(cmd) for _ in range(args.repeats)]
        medians[label] = statistics.median(times)
        print(f"{label:45s} median {medians[label]:.3f} s  (min {min(times):.3f}, max {max(times):.3f})")
    compare = medians["costlab compare conv dwsep --cin 3 --cout 256"]
    torch_import = medians["python -c 'import torch'"]
    print(f"\nimport torch / costlab compare = {torch_import / compare:.1f}x")
    print(f"target: compare <= 0.500 s -> {'met' if compare <= 0.5 else 'MISSED'} ({compare:.3f} s)")


if __name__ == "__main__":
    main()
