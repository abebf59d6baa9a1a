"""How much faster is the analytic count than tracing? Run once: python benchmarks/bench_arch.py [--cold]

0. Cold start: `costlab arch densenet201` and `costlab arch inception_v3` in a fresh process each (the whole
   command: interpreter, imports, count, table). Budget: 0.5 s; the analytic path imports none of torch, pandas,
   matplotlib (read off `python -X importtime`). --cold runs only this part.
1. EfficientNet-B7 at 600x600, batch 1: costlab's analytic count (in process) against fvcore's
   FlopCountAnalysis and torch's FlopCounterMode on torchvision's model with real tensors.
   Target: >= 1000x faster than fvcore.
2. A 10 x 10 alpha x resolution sweep of MobileNetV2, analytic. Target: well under 1 s.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time

COLD_MODELS = ("densenet201", "inception_v3")
COLD_BUDGET_S = 0.5
HEAVY = ("torch", "pandas", "matplotlib")


def cold_start(name: str, repeats: int = 5) -> tuple[float, float, list[str]]:
    """`python -m costlab arch NAME` in fresh processes: the first run's and the best run's seconds, and which of
    torch, pandas and matplotlib the command imported."""
    command = [sys.executable, "-m", "costlab", "arch", name]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    trace = subprocess.run([sys.executable, "-X", "importtime"] + command[1:], capture_output=True, text=True,
                           check=True).stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in trace.splitlines() if line.startswith("import time:")}
    return times[0], min(times), [m for m in HEAVY if m in imported]


def cold_starts() -> None:
    for name in COLD_MODELS:
        first, best, heavy = cold_start(name)
        print(f"cold start `costlab arch {name}`: first {first:.3f} s, best of 5 {best:.3f} s (budget "
              f"{COLD_BUDGET_S} s: {'met' if max(first, best) <= COLD_BUDGET_S else 'MISSED'}); "
              f"imports {', '.join(heavy) or 'none'} of {', '.join(HEAVY)}")


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    cold_starts()
    if "--cold" in sys.argv:
        return
    from costlab.nets.registry import analyze_arch, sweep

    name, size = "efficientnet_b7", 600
    analyze_arch(name, resolution=size)  # warm the imports
    t_analytic, analysis = best_of(lambda: analyze_arch(name, resolution=size), 5)
    t_fvcore_analytic, analysis_fv = best_of(lambda: analyze_arch(name, resolution=size, convention="fvcore"), 5)

    import torch
    import torchvision
    from fvcore.nn import FlopCountAnalysis
    from torch.utils.flop_counter import FlopCounterMode

    torch.set_num_threads(2)
    model = torchvision.models.get_model(name, weights=None).eval()
    x = torch.randn(1, 3, size, size)

    def run_fvcore():
        logging.disable(logging.WARNING)
        counter = FlopCountAnalysis(model, x)
        counter.unsupported_ops_warnings(False)
        counter.uncalled_modules_warnings(False)
        total = counter.total()
        logging.disable(logging.NOTSET)
        return total

    def run_flop_counter():
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(x)
        return counter.get_total_flops() // 2

    t_fvcore, fv_macs = best_of(run_fvcore, 1)
    t_fcm, fcm_macs = best_of(run_flop_counter, 1)

    print(f"{name} @ {size}x{size}, batch 1")
    print(f"  analytic (paper)    {t_analytic * 1e3:9.2f} ms   MACs {analysis.macs:,}")
    print(f"  analytic (fvcore)   {t_fvcore_analytic * 1e3:9.2f} ms   MACs {analysis_fv.macs:,}")
    print(f"  fvcore              {t_fvcore * 1e3:9.0f} ms   MACs {fv_macs:,}   same: {fv_macs == analysis_fv.macs}")
    print(f"  FlopCounterMode     {t_fcm * 1e3:9.0f} ms   MACs {fcm_macs:,}   same: {fcm_macs == analysis.macs}")
    ratio = t_fvcore / t_fvcore_analytic
    print(f"  speed-up vs fvcore          {ratio:8.0f}x  (target >= 1000x: {'met' if ratio >= 1000 else 'MISSED'})")
    print(f"  speed-up vs FlopCounterMode {t_fcm / t_analytic:8.0f}x")

    alphas = [0.35 + 0.1 * i for i in range(10)]
    resolutions = [96 + 16 * i for i in range(10)]
    t_sweep, rows = best_of(lambda: sweep("mobilenet_v2", alphas, resolutions), 3)
    print(f"mobilenet_v2 sweep, {len(alphas)} x {len(resolutions)} = {len(rows)} points: {t_sweep * 1e3:.1f} ms "
          f"(target well under 1 s: {'met' if t_sweep < 0.5 else 'MISSED'})")


if __name__ == "__main__":
    main()
