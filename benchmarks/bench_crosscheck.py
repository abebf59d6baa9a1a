"""Benchmark: `costlab crosscheck all` (every built-in model) with each tracer, against fvcore's own
FlopCountAnalysis on the same models, all in one process with one torch thread and every import paid first.

`crosscheck all --tracer fvcore` traces each model with fvcore and checks every layer; `--tracer torch` counts on the
meta device with FlopCounterMode. "fvcore alone" builds the same nn.Modules the same way (torchvision's where
torchvision has the model, costlab's build otherwise; meta then uninitialised CPU storage) and calls
FlopCountAnalysis(model, x).total(): the least any fvcore-based count can cost. Target: each ratio < 2.5x.

    python benchmarks/bench_crosscheck.py [--resolution R]   (default 224: every built-in at R x R; 'native' for each
                                                              model's own, EfficientNet-B7 at 600 needs ~5 GB)
"""

from __future__ import annotations

import json
import sys
import time
import warnings

TARGET = 2.5


def crosscheck_all(tracer: str, resolution: str) -> tuple[float, int, list[dict]]:
    """`costlab crosscheck all --tracer T [--resolution R] --format json` in-process: seconds, exit code, results."""
    from click.testing import CliRunner

    from costlab.cli import main

    args = ["crosscheck", "all", "--tracer", tracer, "--format", "json"]
    if resolution != "native":
        args += ["--resolution", resolution]
    start = time.perf_counter()
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    seconds = time.perf_counter() - start
    return seconds, result.exit_code, json.loads(result.stdout)


def fvcore_alone(names: list[str], resolution: str) -> float:
    """Seconds to build each model as crosscheck does and count it with fvcore's FlopCountAnalysis alone."""
    import torch
    from fvcore.nn import FlopCountAnalysis

    from costlab.nets.registry import default_source, get_arch
    from costlab.traced.crosscheck import build_model

    start = time.perf_counter()
    for name in names:
        size = get_arch(name).resolution if resolution == "native" else int(resolution)
        model = build_model(name, default_source(name), device="cpu")
        analysis = FlopCountAnalysis(model, torch.zeros(1, 3, size, size))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none").total()
    return time.perf_counter() - start


def main() -> None:
    resolution = sys.argv[sys.argv.index("--resolution") + 1] if "--resolution" in sys.argv else "224"
    import torch
    import torchvision  # noqa: F401  (imports paid before any timing)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import fvcore.nn  # noqa: F401
    import costlab.traced.crosscheck  # noqa: F401
    from costlab.nets.registry import list_archs

    torch.set_num_threads(1)
    names = [a.name for a in list_archs()]
    theirs = fvcore_alone(names, resolution)
    print(f"{len(names)} built-in models at {resolution}, batch 1, 1 torch thread")
    print(f"  fvcore alone (build + FlopCountAnalysis.total()): {theirs:7.1f} s")
    for tracer in ("fvcore", "torch"):
        seconds, code, results = crosscheck_all(tracer, resolution)
        mismatches = sum(r["mismatches"] for r in results)
        sources = {s: sum(1 for r in results if r["source"] == s) for s in dict.fromkeys(r["source"] for r in results)}
        ratio = seconds / theirs
        print(f"  crosscheck all --tracer {tracer:6s}: {seconds:7.1f} s, {len(results)} models "
              f"({', '.join(f'{n} {s}' for s, n in sources.items())}), {mismatches} mismatches, "
              f"exit {code}; ratio to fvcore alone {ratio:.2f}x (target < {TARGET}x: "
              f"{'met' if ratio < TARGET else 'MISSED'})")


if __name__ == "__main__":
    main()
