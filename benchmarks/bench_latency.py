"""Roofline latency model vs measured latency on this CPU, on every built-in model, at 1 and 2 threads, batch 1 and 8.

Goals (issue 14, stated in the README): per-layer Spearman(predicted, measured) >= 0.95 on every model and above
Spearman(MACs, measured); whole-model predicted / measured within +-10% on at least 80% of the (model, threads,
batch) cells and within +-20% on all of them. The whole model is timed plainly: torchvision's own model where
torchvision has it (weights=None, eval, inference_mode), costlab's build otherwise (mobilenet_v1*); the per-layer
times come from costlab's build, hooked (perf.measure).

    python benchmarks/bench_latency.py                                  # everything: long; run it on a quiet machine
    python benchmarks/bench_latency.py --models mobilenet_v2,resnet50 --threads 1 --batches 1 --repeats 5

The host profile is calibrated once per thread count at the start, each in a fresh process (`--cached` reuses the
cache instead; a stale cache is calibrated again anyway). Every (model, threads, batch) cell then runs in a fresh
Python process, the plain timing first thing in it, so one model's allocator state (how much heap it left mapped)
does not change the next one's page faults. Each cell reports the 1-minute load average when it started: timings
under load are noisy, and none of this is fitted to them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def calibrate(threads: int) -> int:
    """Child: calibrate the host profile at a thread count (cached for the cells) and say how long it took."""
    from costlab.perf.devices import host_device

    start = time.perf_counter()
    device = host_device(threads, recalibrate=True)
    print(f"calibrated host-{threads} in {time.perf_counter() - start:.1f} s (load {_load():.2f}): "
          f"peak {device.peak_flops / 1e9:.1f} GFLOP/s, 1x1 {device.pointwise_flops / 1e9:.1f}, "
          f"depthwise {device.depthwise_flops / 1e9:.1f}, memory {device.memory_bandwidth / 1e9:.1f} GB/s, "
          f"cache {device.cache_bandwidth / 1e9:.1f} GB/s, first touch {device.first_touch_bandwidth / 1e9:.2f} GB/s")
    return 0


def plain_timing(name: str, resolution: int, batch: int, threads: int, repeats: int) -> tuple[str, float, float, float]:
    """(source, median ms, minor page faults per pass, system-CPU ms per pass) of the whole model, timed plainly first
    thing in this process: torchvision's model if torchvision has one, else costlab's build."""
    import resource

    import torch

    from costlab.nets.registry import TORCHVISION_NAMES
    from costlab.perf.measure import measure_total, torch_threads, torchvision_model
    from costlab.traced.build import build_arch

    with torch_threads(threads):
        torch.manual_seed(0)
        if name in TORCHVISION_NAMES:
            source, model = "torchvision", torchvision_model(name)
        else:
            source, model = "costlab", build_arch(name, resolution=resolution).eval()
        x = torch.randn(batch, 3, resolution, resolution)
        before = resource.getrusage(resource.RUSAGE_SELF)
        ms = measure_total(model, x, repeats, warmup=3)
        after = resource.getrusage(resource.RUSAGE_SELF)
    passes = repeats + 3
    return source, ms, (after.ru_minflt - before.ru_minflt) / passes, 1e3 * (after.ru_stime - before.ru_stime) / passes


def cell(name: str, threads: int, batch: int, repeats: int, resolution: int | None, charts: str | None) -> int:
    """Child: one (model, threads, batch) cell; prints a RESULT line."""
    from costlab.nets.registry import get_arch

    load = _load()
    resolution = resolution or get_arch(name).resolution
    source, measured, faults, sys_ms = plain_timing(name, resolution, batch, threads, repeats)

    from costlab.perf.devices import load_device
    from costlab.perf.latency import latency_report

    device = load_device("host", threads)  # calibrated by the parent for this thread count
    report = latency_report(name, device, threads, resolution, measure=True, repeats=repeats,
                            torchvision_total=False, batch=batch)
    r = report.to_dict()
    if charts:
        _charts(report, device, charts, threads, batch)
    print("RESULT " + json.dumps({
        "model": name, "threads": threads, "batch": batch, "resolution": resolution, "source": source,
        "predicted_ms": r["predicted_total_ms"], "measured_ms": measured, "hooked_sum_ms": r["measured_layers_ms"],
        "rho_predicted": r["spearman_predicted"], "rho_macs": r["spearman_macs"], "layers": len(r["layers"]),
        "faults_per_pass": faults, "sys_ms_per_pass": sys_ms, "first_touch_mb": sum(
            layer["first_touch_bytes"] for layer in r["layers"]) / 1e6, "load": load}))
    return 0


def _charts(report, device, folder: str, threads: int, batch: int) -> None:
    from costlab.perf.latency import shares_by_type
    from costlab.plots.base import save
    from costlab.plots.latency import latency_share_figure, roofline_figure

    os.makedirs(folder, exist_ok=True)
    tag = f"{report.name}_t{threads}_b{batch}"
    save(roofline_figure(report.layers, device, f"{report.name} at {report.resolution}: measured layers on the host "
                                                f"roofline ({threads} thread(s), batch {batch})"),
         os.path.join(folder, f"roofline_{tag}.png"))
    save(latency_share_figure(shares_by_type(report.layers), f"{report.name}: share of MACs vs share of measured "
                                                             f"time ({threads} thread(s), batch {batch})"),
         os.path.join(folder, f"share_{tag}.png"))


def _child(*args: str) -> str:
    done = subprocess.run([sys.executable, os.path.abspath(__file__), *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="all", help="comma-separated built-in names, or all (costlab list)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--batches", default="1,8", help="comma-separated batch sizes")
    parser.add_argument("--repeats", type=int, default=10, help="timed passes per measurement (median)")
    parser.add_argument("--resolution", type=int, default=None, help="input size [default: each model's native]")
    parser.add_argument("--cached", action="store_true", help="reuse the cached host profiles instead of calibrating")
    parser.add_argument("--charts", default=None, help="directory to write roofline and MACs-vs-time share charts to")
    parser.add_argument("--json", default=None, help="also write every cell's result to this JSON file")
    parser.add_argument("--cell", nargs=3, metavar=("MODEL", "THREADS", "BATCH"), help=argparse.SUPPRESS)
    parser.add_argument("--calibrate", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.calibrate:
        return calibrate(args.calibrate)
    if args.cell:
        name, threads, batch = args.cell
        return cell(name, int(threads), int(batch), args.repeats, args.resolution, args.charts)

    from costlab.nets.registry import list_archs

    models = [a.name for a in list_archs()] if args.models == "all" else args.models.split(",")
    threads_list, batches = _ints(args.threads), _ints(args.batches)
    start = time.perf_counter()
    print(f"load average before: {_load():.2f} (cores: {os.cpu_count()}); {len(models)} models x threads "
          f"{threads_list} x batch {batches}, {args.repeats} repeats")
    if not args.cached:
        for threads in threads_list:
            print(_child("--calibrate", str(threads)), end="")
    print(_header())
    results = []
    for name in models:
        for threads in threads_list:
            for batch in batches:
                extra = ["--repeats", str(args.repeats)]
                extra += ["--resolution", str(args.resolution)] if args.resolution else []
                extra += ["--charts", args.charts] if args.charts else []
                out = _child("--cell", name, str(threads), str(batch), *extra)
                results.append(json.loads(out.rpartition("RESULT ")[2]))
                print(_row(results[-1]), flush=True)
    print(f"\nload average after: {_load():.2f}; total {time.perf_counter() - start:.0f} s")
    print(_verdict(results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    return 0


def _header() -> str:
    return (f"\n{'model':20s} {'thr':>3s} {'batch':>5s} {'res':>4s} {'timed':11s} {'pred ms':>9s} {'meas ms':>9s} "
            f"{'ratio':>6s} {'rho(pred)':>9s} {'rho(MACs)':>9s} {'faults':>7s} {'load':>5s}")


def _row(r: dict) -> str:
    ratio = r["predicted_ms"] / r["measured_ms"]
    return (f"{r['model']:20s} {r['threads']:3d} {r['batch']:5d} {r['resolution']:4d} {r['source']:11s} "
            f"{r['predicted_ms']:9.2f} {r['measured_ms']:9.2f} {ratio:6.3f} {r['rho_predicted']:9.3f} "
            f"{r['rho_macs']:9.3f} {r['faults_per_pass']:7.0f} {r['load']:5.2f}")


def _verdict(results: list[dict]) -> str:
    """The goals, counted over the cells run."""
    ratios = [r["predicted_ms"] / r["measured_ms"] for r in results]
    within10 = sum(abs(v - 1) <= 0.10 for v in ratios)
    within20 = sum(abs(v - 1) <= 0.20 for v in ratios)
    rho_ok = sum(r["rho_predicted"] >= 0.95 and r["rho_predicted"] > r["rho_macs"] for r in results)
    n = len(results)
    return (f"whole model within +-10%: {within10} of {n} cells ({100 * within10 / n:.0f}%; goal >= 80%); "
            f"within +-20%: {within20} of {n} (goal: all)\n"
            f"per-layer Spearman >= 0.95 and above MACs alone: {rho_ok} of {n} cells (goal: all)")


if __name__ == "__main__":
    sys.exit(main())
