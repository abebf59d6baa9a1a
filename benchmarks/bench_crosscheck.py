"""Benchmark: `costlab crosscheck all --resolution 224` end to end, against fvcore's own tracing of the same models.

Target: crosscheck all <= 90 s on this machine. Prints both times and their ratio. Heavy: run it alone.
    /work/venv/bin/python benchmarks/bench_crosscheck.py [--tracer fvcore|torch]
"""

from __future__ import annotations

import subprocess
import sys
import time
import warnings


def crosscheck_all(tracer: str) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "costlab", "crosscheck", "all", "--resolution", "224",
                           "--tracer", tracer, "--format", "json"], capture_output=True, text=True)
    return time.perf_counter() - start, proc.returncode


def fvcore_alone() -> float:
    """What fvcore itself takes: import, build each torchvision model (weights=None), FlopCountAnalysis.total()."""
    start = time.perf_counter()
    import torch
    import torchvision

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fvcore.nn import FlopCountAnalysis

    from costlab.nets.registry import TORCHVISION_NAMES

    x = torch.zeros(1, 3, 224, 224)
    for name in TORCHVISION_NAMES:
        model = torchvision.models.get_model(name, weights=None).eval()
        analysis = FlopCountAnalysis(model, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        analysis.tracer_warnings("none").total()
    return time.perf_counter() - start


def main() -> None:
    tracer = sys.argv[sys.argv.index("--tracer") + 1] if "--tracer" in sys.argv else "fvcore"
    from costlab.nets.registry import TORCHVISION_NAMES

    ours, code = crosscheck_all(tracer)
    theirs = fvcore_alone()
    print(f"models: {len(TORCHVISION_NAMES)} at 224, tracer {tracer}")
    print(f"costlab crosscheck all: {ours:.1f} s (exit {code}; target <= 90 s: {'met' if ours <= 90 else 'MISSED'})")
    print(f"fvcore alone (build + FlopCountAnalysis.total()): {theirs:.1f} s")
    print(f"ratio crosscheck / fvcore alone: {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
