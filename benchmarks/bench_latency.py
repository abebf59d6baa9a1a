"""Roofline latency model vs measured latency on this CPU: mobilenet_v2 and efficientnet_b0 at 224.

Targets (issue 7): per-layer Spearman(predicted, measured) >= 0.9 (goal 0.95) and above Spearman(MACs, measured);
predicted whole-model latency within +-25% (goal +-10%) of a plain torch timing of torchvision's model
(weights=None, eval, inference_mode, batch 1) at the same thread count.

Run on a quiet machine:  /work/venv/bin/python benchmarks/bench_latency.py [--threads 1] [--repeats 20]
The host profile is recalibrated at the start and again just before each model, in the model's own process
(use --cached to reuse ~/.cache/costlab/host-<threads>.toml).
Each model is measured in a fresh Python process, so one model's allocator state (how much heap it
left mapped) does not change the next one's page faults. Takes about 20-30 s at one thread. Prints the
load average before and after: timings under load are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from costlab.perf.devices import load_device
from costlab.perf.latency import latency_report, shares_by_type


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def plain_torchvision(name: str, resolution: int, threads: int, repeats: int) -> tuple[float, float, float]:
    """Median ms of torchvision's model (weights=None, eval, inference_mode, batch 1) timed first thing in a
    fresh process, with minor page faults and system-CPU ms per pass over the timed passes (the kernel
    mapping and zeroing fresh pages for large activations: the roofline's first-touch term)."""
    import resource

    import torch

    from costlab.perf.measure import measure_total, torchvision_model

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torchvision_model(name)
    x = torch.randn(1, 3, resolution, resolution)
    before = resource.getrusage(resource.RUSAGE_SELF)
    ms = measure_total(model, x, repeats, warmup=3)
    after = resource.getrusage(resource.RUSAGE_SELF)
    passes = repeats + 3
    return ms, (after.ru_minflt - before.ru_minflt) / passes, 1e3 * (after.ru_stime - before.ru_stime) / passes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--resolution", type=int, default=224)
    parser.add_argument("--models", default="mobilenet_v2,efficientnet_b0")
    parser.add_argument("--cached", action="store_true", help="reuse the cached host profile instead of recalibrating")
    parser.add_argument("--charts", default=None, help="directory to write roofline and MACs-vs-time share charts to")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # child process: one model, cached profile
    args = parser.parse_args(argv)
    if args.one:
        return measure_one(args)
    start = time.perf_counter()
    print(f"load average before: {_load()} (cores: {os.cpu_count()})")
    summary = []
    for name in args.models.split(","):
        cmd = [sys.executable, os.path.abspath(__file__), "--one", name, "--threads", str(args.threads),
               "--repeats", str(args.repeats), "--resolution", str(args.resolution)]
        if args.charts:
            cmd += ["--charts", args.charts]
        if args.cached:
            cmd += ["--cached"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        text, _, result = out.rpartition("RESULT ")
        print(text, end="")
        summary.append(tuple(json.loads(result)))
    print(f"\nload average after: {_load()}; total {time.perf_counter() - start:.1f} s")
    print("\nmodel             rho(pred) rho(MACs)  pred ms  torchvision ms  ratio  rho>=0.9&>MACs  within 25%  (goal 0.95 / 10%)")
    ok = True
    for name, rp, rm, pred, tv in summary:
        ratio = pred / tv if tv else float("nan")
        good_rho = rp >= 0.9 and rp > rm
        good_total = abs(ratio - 1) <= 0.25
        ok &= good_rho and good_total
        goal = "yes" if rp >= 0.95 and abs(ratio - 1) <= 0.10 else "no"
        print(f"{name:17s} {rp:9.4f} {rm:9.4f} {pred:8.2f} {tv or float('nan'):15.2f} {ratio:6.3f} "
              f"{'PASS' if good_rho else 'FAIL':>15s} {'PASS' if good_total else 'FAIL':>11s}  {goal}")
    print(f"threads: {args.threads}")
    return 0 if ok else 1


def measure_one(args) -> int:
    """One model in this (fresh) process; prints its section and a RESULT line."""
    name = args.one
    # torchvision first: calibration allocates large buffers, which moves glibc's malloc thresholds and
    # so changes how many page faults the model takes afterwards; a plain timing must not inherit that
    tv, faults, sys_ms = plain_torchvision(name, args.resolution, args.threads, args.repeats)
    # calibrate in the same process and minute as the measurement, so both see the same machine load
    device = load_device("host", args.threads, recalibrate=not args.cached)
    report = latency_report(name, device, args.threads, args.resolution, measure=True, repeats=args.repeats,
                            torchvision_total=False)
    r = report.to_dict()
    pred = r["predicted_total_ms"]
    print(f"\n== {name} at {r['resolution']}, {r['threads']} thread(s), {len(r['layers'])} layers")
    print(f"  Spearman per layer: predicted vs measured {r['spearman_predicted']:.4f}   "
          f"MACs vs measured {r['spearman_macs']:.4f}")
    print(f"  predicted total        {pred:8.2f} ms")
    print(f"  measured, costlab net  {r['measured_total_ms']:8.2f} ms   (sum of per-layer medians "
          f"{r['measured_layers_ms']:.2f} ms, with hooks)")
    print(f"  measured, torchvision  {tv:8.2f} ms   predicted / torchvision = {pred / tv:.3f}   "
          f"(plain timing, first thing in a fresh process)")
    print(f"  torchvision: {faults:.0f} minor page faults/pass ({faults * 4096 / 1e6:.1f} MB), "
          f"{sys_ms:.2f} ms system CPU/pass; the prediction's first-touch term: "
          f"{sum(l['first_touch_bytes'] for l in r['layers']) / 1e6:.1f} MB")
    print(f"  host: peak {device.peak_flops / 1e9:.1f} GFLOP/s, 1x1 {device.pointwise_flops / 1e9:.1f} GFLOP/s, "
          f"depthwise {device.depthwise_flops / 1e9:.1f} GFLOP/s, "
          f"memory {device.memory_bandwidth / 1e9:.1f} GB/s, cache {device.cache_bandwidth / 1e9:.1f} GB/s, "
          f"first touch {device.first_touch_bandwidth / 1e9:.2f} GB/s")
    print(f"  {'type':10s} {'MACs %':>7s} {'time %':>7s} {'measured ms':>12s} {'predicted ms':>13s}")
    for s in shares_by_type(report.layers):
        p = sum(l["predicted_ms"] for l in r["layers"] if l["type"] == s["type"])
        print(f"  {s['type']:10s} {100 * s['macs_share']:7.1f} {100 * s['latency_share']:7.1f} "
              f"{s['measured_ms']:12.2f} {p:13.2f}")
    if args.charts:
        from costlab.plots.base import save
        from costlab.plots.latency import latency_share_figure, roofline_figure

        os.makedirs(args.charts, exist_ok=True)
        save(roofline_figure(report.layers, device,
                             f"{name} at {r['resolution']}: measured layers on the host roofline ({args.threads} thread)"),
             os.path.join(args.charts, f"roofline_{name}.png"))
        save(latency_share_figure(shares_by_type(report.layers),
                                  f"{name}: share of MACs vs share of measured time ({args.threads} thread)"),
             os.path.join(args.charts, f"share_{name}.png"))
    print("RESULT " + json.dumps([name, r["spearman_predicted"], r["spearman_macs"], pred, tv]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
