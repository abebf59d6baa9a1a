"""`analyze` on the zoo of tests/test_zoo.py against fvcore and FlopCounterMode, in one process, one thread.

Run once: python benchmarks/bench_analyze.py [--size 224] [--batch 1] [--models name,name]

For each model at its size (224; Inception-v3 at 299) and batch:
  costlab: `costlab.count("MODULE:CALLABLE", ...)` under paper and under fvcore, as `analyze` runs it (the model
           built on the meta device, no weights allocated; RegNet falls back to CPU);
  build:   the model built on CPU with its weights initialised, which fvcore and FlopCounterMode need;
  fvcore:  FlopCountAnalysis(model, x).total() on that model;
  torch:   FlopCounterMode over one forward pass of that model.
Each time is the best of 3 runs (the build: 1). Ratios are the tool's time over costlab's for the same convention, the
CPU build excluded (with it, costlab's lead grows). The MACs must agree (the 'same' column).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bench_arch import best_of  # noqa: E402  (this folder is the script's own)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="input size (Inception-v3 takes at least 75; 299 at 224)")
    parser.add_argument("--batch", type=int, default=1, help="images per forward pass")
    parser.add_argument("--models", default="", help="comma-separated names from the zoo (default: all of it)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)

    import torch
    from fvcore.nn import FlopCountAnalysis
    from torch.utils.flop_counter import FlopCounterMode

    import costlab
    from test_zoo import ZOO  # the zoo the tests prove exact

    torch.set_num_threads(1)
    chosen = [spec for spec in ZOO if not args.models or spec.split(":")[1] in args.models.split(",")]
    costlab.count("torchvision.models:squeezenet1_0", (1, 3, 64, 64))  # warm the imports
    rows = []
    for spec in chosen:
        size = 299 if spec.endswith("inception_v3") and args.size == 224 else args.size
        dims = (args.batch, 3, size, size)
        t_paper, paper = best_of(lambda: costlab.count(spec, dims, convention="paper"), 3)
        t_fv, fv = best_of(lambda: costlab.count(spec, dims, convention="fvcore"), 3)
        module, name = spec.split(":")
        t_build, model = best_of(lambda: getattr(importlib.import_module(module), name)().eval(), 1)
        x = torch.zeros(dims)

        def run_fvcore():
            analysis = FlopCountAnalysis(model, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            return int(analysis.tracer_warnings("none").total())

        def run_flop_counter():
            with torch.no_grad(), FlopCounterMode(display=False) as counter:
                model(x)
            return counter.get_total_flops() // 2

        t_tool_fv, tool_fv = best_of(run_fvcore, 3)
        t_tool_fcm, tool_fcm = best_of(run_flop_counter, 3)
        same = tool_fv == fv.macs and tool_fcm == paper.macs
        rows.append((name, size, paper.device, t_paper, t_fv, t_build, t_tool_fv, t_tool_fcm, same))
        del model

    header = (f"{'model':<22} {'size':>4} {'device':>6} {'costlab paper':>13} {'costlab fvcore':>14} {'cpu build':>9} "
              f"{'fvcore':>8} {'torch':>8} {'fvcore/costlab':>14} {'torch/costlab':>13} {'same':>4}")
    print(f"batch {args.batch}, one thread; seconds per model (best of 3), the tools' time over costlab's")
    print(header)
    print("-" * len(header))
    for name, size, device, t_paper, t_fv, t_build, t_tool_fv, t_tool_fcm, same in rows:
        print(f"{name:<22} {size:>4} {device:>6} {t_paper:>12.2f}s {t_fv:>13.2f}s {t_build:>8.2f}s {t_tool_fv:>7.2f}s "
              f"{t_tool_fcm:>7.2f}s {t_tool_fv / t_fv:>13.1f}x {t_tool_fcm / t_paper:>12.1f}x {'yes' if same else 'NO':>4}")
    total = [sum(row[i] for row in rows) for i in range(3, 8)]
    print("-" * len(header))
    print(f"{'all ' + str(len(rows)):<22} {'':>4} {'':>6} {total[0]:>12.2f}s {total[1]:>13.2f}s {total[2]:>8.2f}s "
          f"{total[3]:>7.2f}s {total[4]:>7.2f}s {total[3] / total[1]:>13.1f}x {total[4] / total[0]:>12.1f}x")


if __name__ == "__main__":
    main()
