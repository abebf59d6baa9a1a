"""Roofline latency model vs measured latency on this CPU, on every built-in model, at 1 and 2 threads, batch 1 and 8.

Goals (issue 14, stated in the README): per-layer Spearman(predicted, measured) >= 0.95 on every model and above
Spearman(MACs, measured); whole-model predicted / measured within +-10% on at least 80% of the (model, threads,
batch) cells and within +-20% on all of them. The whole model is timed plainly: torchvision's own model where
torchvision has it (weights=None, eval, inference_mode), costlab's build otherwise (mobilenet_v1*); the per-layer
times come from costlab's build, hooked (perf.measure).

    python benchmarks/bench_latency.py                                  # everything: long; run it on a quiet machine
    python benchmarks/bench_latency.py --models mobilenet_v2,resnet50 --threads 1 --batches 1 --repeats 5

The host profile is calibrated once per thread count at the start, each in a fresh process (`--cached` reuses the
cache instead; a stale cache is calibrated again anyway). With --calibrate-each it is also calibrated again, in a
fresh process, right before each cell, and the cell is predicted with that profile: this VM's speed drifts over the
hour a full run takes (the same model's time by a third between runs hours apart), and a profile measured seconds
before the cell is meant to take that drift out (on this VM it did not: README). The prediction with the start-of-run
profile (the cached one with --cached) is kept beside it: the ratio0 column and a verdict line, what a cached profile
gives. Every (model, threads, batch) cell then runs in a fresh Python process, the plain timing first thing in it, so
one model's allocator state (how much heap it left mapped) does not change the next one's page faults. The same model
in two fresh processes still differs: where glibc's heap puts its chunks, and so how many pages a pass maps afresh,
changes from one process to the next (two full runs on this machine agreed within 10%, slower over faster, on 140 of
188 cells). So the whole model is timed plainly in --processes fresh processes (PROCESSES by default: the cell's own
and more that time only the whole model), the cell's measured time is the median of theirs, and the spread column and
the verdict say how far the measurement agrees with itself: the closest any prediction can be shown to be. Page faults
are counted over the timed passes only; the faults and reps columns are the cell's own process's (the JSON keeps every
process's time and faults).

Each cell reports the 1-minute load average when it started and the CPU other processes used while it ran (cores:
all CPU time in /proc/stat less this cell's own, over its wall time); before each cell, extra process and
calibration the benchmark waits (up to QUIET_WAIT_S) until other processes use less than QUIET_CORES, and runs one
again (up to ATTEMPTS in all) when they used more while it ran, keeping the least disturbed run. At two threads one
preempted worker stalls every oneDNN and OpenMP barrier for a scheduler tick, so a cell run beside another busy
process can take many times its quiet time: none of this is fitted to them, and the table says which cells ran beside
others.

A pass longer than LONG_PASS_S (the largest models at batch 8) is timed over fewer passes, so a full run ends in
about an hour: at least MIN_REPEATS and at most --repeats, as many as fit CELL_BUDGET_S, after one warm-up
pass; the table's reps column says how many passes each cell's median is of.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Optional


QUIET_CORES = 0.25  # other processes' CPU, in cores, under which a cell starts
QUIET_WAIT_S = 15.0  # the longest wait for that before a cell runs anyway
LONG_PASS_S = 1.0  # a pass this long or longer gets capped repeats and one warm-up pass
CELL_BUDGET_S = 10.0  # seconds of timed passes per measurement of a long pass
MIN_REPEATS = 2
MAX_PROCESSES = 10
PROCESSES = 2  # fresh processes the whole model is timed in: its heap layout, so its page faults, differ between them
ATTEMPTS = 2  # a cell (or a calibration) other processes disturbed is run again, up to this many times in all


def _busy_seconds() -> float:
    """CPU seconds all processes have used on this machine since boot: /proc/stat's first line less idle and iowait."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _others_while(run):
    """(run()'s result, cores other processes used meanwhile): busy CPU seconds less this process's and its children's,
    over the wall time."""
    import resource

    def own() -> float:
        self_, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return self_.ru_utime + self_.ru_stime + kids.ru_utime + kids.ru_stime

    busy, mine, start = _busy_seconds(), own(), time.perf_counter()
    result = run()
    wall = time.perf_counter() - start
    return result, max(0.0, (_busy_seconds() - busy) - (own() - mine)) / wall


def _wait_for_quiet() -> float:
    """Sample other processes' CPU over 1 s until it is below QUIET_CORES or QUIET_WAIT_S has passed; the last sample."""
    deadline = time.perf_counter() + QUIET_WAIT_S - 1.0
    while True:
        _, others = _others_while(lambda: time.sleep(1.0))
        if others < QUIET_CORES or time.perf_counter() > deadline:
            return others


def _undisturbed(run):
    """(run()'s result, other processes' cores meanwhile) of the least disturbed of up to ATTEMPTS runs, each after
    _wait_for_quiet; stops at the first run they left alone."""
    best = None
    for _ in range(ATTEMPTS):
        _wait_for_quiet()
        result, others = _others_while(run)
        if best is None or others < best[1]:
            best = (result, others)
        if others < QUIET_CORES:
            break
    return best


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _ints(text: str) -> list[int]:
    """A comma-separated list of positive integers (argparse type: a bad one is argparse's one-line error)."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated positive integers") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated positive integers")
    return values


def _seconds(text: str) -> float:
    """A wait in seconds from 1 to 600 (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 1.0 <= value <= 600.0:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{text!r}: seconds from 1 to 600")
    return value


def _count(text: str, most: int) -> int:
    """One integer from 1 to most (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= most:
        raise argparse.ArgumentTypeError(f"{text!r}: an integer from 1 to {most}")
    return value


def calibrate(threads: int) -> int:
    """Child: calibrate the host profile at a thread count (cached for the cells) and say how long it took."""
    from costlab.perf.devices import host_device

    start = time.perf_counter()
    device = host_device(threads, recalibrate=True)
    print(f"calibrated host-{threads} in {time.perf_counter() - start:.1f} s (load {_load():.2f}): "
          f"peak {device.peak_flops / 1e9:.1f} GFLOP/s, 1x1 GEMM {device.pointwise_flops / 1e9:.1f}, "
          f"depthwise {device.depthwise_flops / 1e9:.1f}, grouped {device.grouped_flops / 1e9:.1f}, "
          f"oneDNN call {1e6 * device.overhead_by_type['onednn']:.0f} us, memory {device.memory_bandwidth / 1e9:.1f} GB/s, "
          f"cache {device.cache_bandwidth / 1e9:.1f} GB/s, first touch {device.first_touch_bandwidth / 1e9:.2f} GB/s")
    return 0


def passes_for(pass_s: float, repeats: int) -> tuple[int, int]:
    """(repeats, warm-up passes) for a pass of pass_s seconds: as asked (and 3 warm-ups) below LONG_PASS_S, else as
    many as fit CELL_BUDGET_S, at least MIN_REPEATS and at most as asked, after one warm-up."""
    if pass_s < LONG_PASS_S:
        return repeats, 3
    return max(MIN_REPEATS, min(repeats, int(CELL_BUDGET_S / pass_s))), 1


def plain_timing(name: str, resolution: int, batch: int, threads: int,
                 repeats: int) -> tuple[str, float, float, float, int]:
    """(source, median ms, minor page faults per timed pass, system-CPU ms per timed pass, passes timed) of the whole
    model, timed plainly first thing in this process: torchvision's model if torchvision has one, else costlab's
    build. The first pass (untimed) says how long a pass is (passes_for); the warm-up passes' faults are not counted."""
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
        first = time.perf_counter()
        with torch.inference_mode():
            model(x)
            repeats, warmup = passes_for(time.perf_counter() - first, repeats)
            for _ in range(warmup - 1):
                model(x)
        before = resource.getrusage(resource.RUSAGE_SELF)
        ms = measure_total(model, x, repeats, warmup=0)
        after = resource.getrusage(resource.RUSAGE_SELF)
    return (source, ms, (after.ru_minflt - before.ru_minflt) / repeats,
            1e3 * (after.ru_stime - before.ru_stime) / repeats, repeats)


def plain(name: str, threads: int, batch: int, repeats: int, resolution: int | None) -> int:
    """Child: the whole model timed plainly and nothing else, one more fresh process of a cell; prints a RESULT line."""
    from costlab.nets.registry import get_arch

    _, measured, faults, _, _ = plain_timing(name, resolution or get_arch(name).resolution, batch, threads, repeats)
    print("RESULT " + json.dumps({"measured_ms": measured, "faults_per_pass": faults}))
    return 0


def cell(name: str, threads: int, batch: int, repeats: int, resolution: int | None, charts: str | None,
         profile: str | None = None) -> int:
    """Child: one (model, threads, batch) cell, predicted with the profile file if given (calibrated just before it)
    and with the cached start-of-run profile; prints a RESULT line."""
    from costlab.nets.registry import get_arch

    load = _load()
    resolution = resolution or get_arch(name).resolution
    source, measured, faults, sys_ms, repeats = plain_timing(name, resolution, batch, threads, repeats)

    from costlab.errors import CostlabError
    from costlab.perf.devices import OPTIONAL, REQUIRED, load_device
    from costlab.perf.latency import latency_report

    start_device = load_device("host", threads)  # calibrated by the parent at the start for this thread count
    try:
        device = load_device(profile, threads) if profile else start_device
    except CostlabError as exc:
        print(f"--profile: {exc}", file=sys.stderr)
        return 2
    if device.threads != threads:
        print(f"--profile {profile}: measured at {device.threads} thread(s), the cell runs at {threads}",
              file=sys.stderr)
        return 2
    warmup = passes_for(measured / 1e3, repeats)[1]  # the plain pass's length stands for the hooked one's
    report = latency_report(name, device, threads, resolution, measure=True, repeats=repeats, warmup=warmup,
                            torchvision_total=False, batch=batch, whole=False)
    r = report.to_dict()
    start_ms = r["predicted_total_ms"] if device is start_device else latency_report(
        name, start_device, threads, resolution, batch=batch).predicted_total_ms
    if charts:
        _charts(report, device, charts, threads, batch)
    print("RESULT " + json.dumps({
        "model": name, "threads": threads, "batch": batch, "resolution": resolution, "source": source,
        "predicted_ms": r["predicted_total_ms"], "measured_ms": measured, "hooked_sum_ms": r["measured_layers_ms"],
        "rho_predicted": r["spearman_predicted"], "rho_macs": r["spearman_macs"], "layers": len(r["layers"]),
        "predicted_start_ms": start_ms,
        "profile": {f: getattr(device, f) for f in REQUIRED + OPTIONAL} | {"onednn_call_s": device.overhead_by_type.get(
            "onednn")}, "repeats": repeats, "faults_per_pass": faults, "sys_ms_per_pass": sys_ms, "first_touch_mb": sum(
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


def _child(*args: str, cache: Optional[str] = None) -> str:
    """A fresh process of this script with args, its stdout; cache is its COSTLAB_CACHE_DIR if given."""
    env = {**os.environ, "COSTLAB_CACHE_DIR": cache} if cache else None
    done = subprocess.run([sys.executable, os.path.abspath(__file__), *args], capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def _result(*args: str) -> tuple[dict, float]:
    """(the RESULT line a child prints, as a dict; other processes' cores meanwhile) of its least disturbed run."""
    out, others = _undisturbed(lambda: _child(*args))
    return json.loads(out.rpartition("RESULT ")[2]), others


def main(argv=None) -> int:
    global QUIET_WAIT_S, ATTEMPTS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="all", help="comma-separated built-in names, or all (costlab list)")
    parser.add_argument("--threads", type=_ints, default="1,2", help="comma-separated thread counts")
    parser.add_argument("--batches", type=_ints, default="1,8", help="comma-separated batch sizes")
    parser.add_argument("--repeats", type=lambda v: _count(v, 1000), default=10,
                        help="timed passes per measurement (median)")
    parser.add_argument("--resolution", type=lambda v: _count(v, 4096), default=None,
                        help="input size [default: each model's native]")
    parser.add_argument("--cached", action="store_true", help="reuse the cached host profiles instead of calibrating")
    parser.add_argument("--calibrate-each", action="store_true",
                        help="also calibrate right before each cell, in a fresh process, and predict with that profile")
    parser.add_argument("--charts", default=None, help="directory to write roofline and MACs-vs-time share charts to")
    parser.add_argument("--json", default=None, help="also write every cell's result to this JSON file")
    parser.add_argument("--quiet-wait", type=_seconds, default=QUIET_WAIT_S,
                        help="longest wait in s for other processes to go quiet before a cell or calibration")
    parser.add_argument("--attempts", type=lambda v: _count(v, 10), default=ATTEMPTS,
                        help="runs of a disturbed cell or calibration, at most")
    parser.add_argument("--processes", type=lambda v: _count(v, MAX_PROCESSES), default=PROCESSES,
                        help="fresh processes the whole model is timed in per cell (the median of their medians)")
    parser.add_argument("--cell", nargs=3, metavar=("MODEL", "THREADS", "BATCH"), help=argparse.SUPPRESS)
    parser.add_argument("--plain", nargs=3, metavar=("MODEL", "THREADS", "BATCH"), help=argparse.SUPPRESS)
    parser.add_argument("--calibrate", type=lambda v: _count(v, 1024), default=None, help=argparse.SUPPRESS)
    parser.add_argument("--profile", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.profile and not args.cell:
        parser.error("--profile: only a --cell child takes a profile (use --calibrate-each)")
    QUIET_WAIT_S, ATTEMPTS = args.quiet_wait, args.attempts
    if args.calibrate is not None:
        return calibrate(args.calibrate)
    if args.cell:
        name, threads, batch = args.cell
        return cell(name, int(threads), int(batch), args.repeats, args.resolution, args.charts, args.profile)
    if args.plain:
        name, threads, batch = args.plain
        return plain(name, int(threads), int(batch), args.repeats, args.resolution)
    from costlab.nets.registry import list_archs

    names = [a.name for a in list_archs()]
    models = names if args.models == "all" else [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in names] or ([] if models else [args.models])
    if unknown:
        parser.error(f"--models: unknown built-in {unknown[0]!r} (`costlab list` names them; or all)")
    threads_list, batches = args.threads, args.batches
    start = time.perf_counter()
    print(f"load average before: {_load():.2f} (cores: {os.cpu_count()}); {len(models)} models x threads "
          f"{threads_list} x batch {batches}, {args.repeats} repeats, {args.processes} process(es) per cell"
          + (", calibrated again before each cell" if args.calibrate_each else ""))
    if not args.cached:
        for threads in threads_list:
            out, others = _undisturbed(lambda: _child("--calibrate", str(threads)))
            print(f"{out.rstrip()}; other processes {others:.2f} cores")
    print(_header())
    results = []
    with contextlib.ExitStack() as stack:
        each = (stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_latency_"))
                if args.calibrate_each else None)
        for name in models:
            for threads in threads_list:
                for batch in batches:
                    results.append(_measure_cell(name, threads, batch, args, each))
                    print(_row(results[-1]), flush=True)
    print(f"\nload average after: {_load():.2f}; total {time.perf_counter() - start:.0f} s")
    print(_verdict(results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    return 0


def _measure_cell(name: str, threads: int, batch: int, args, each: Optional[str]) -> dict:
    """One cell: calibrated first into the folder each if given, then its own child and args.processes - 1 plain
    timings, each a fresh process; the cell's result with the median of their times."""
    extra = ["--repeats", str(args.repeats)] + (["--resolution", str(args.resolution)] if args.resolution else [])
    charts = ["--charts", args.charts] if args.charts else []
    profile, calibration_others = [], None
    if each:  # a folder of its own: a calibration that failed to write cannot leave the last cell's profile in use
        folder = tempfile.mkdtemp(dir=each)
        _, calibration_others = _undisturbed(lambda: _child("--calibrate", str(threads), cache=folder))
        profile = ["--profile", os.path.join(folder, f"host-{threads}.toml")]
    result, others = _result("--cell", name, str(threads), str(batch), *extra, *charts, *profile)
    result["calibration_others"] = calibration_others
    runs, faults = [result["measured_ms"]], [result["faults_per_pass"]]
    for _ in range(args.processes - 1):
        again, more = _result("--plain", name, str(threads), str(batch), *extra)
        runs.append(again["measured_ms"])
        faults.append(again["faults_per_pass"])
        others = max(others, more)
    return {**result, "measured_ms": statistics.median(runs), "measured_runs_ms": runs, "faults_runs": faults,
            "others": others}


def _header() -> str:
    return (f"\n{'model':20s} {'thr':>3s} {'batch':>5s} {'res':>4s} {'timed':11s} {'pred ms':>9s} {'meas ms':>9s} "
            f"{'ratio':>6s} {'ratio0':>6s} {'spread':>6s} {'rho(pred)':>9s} {'rho(MACs)':>9s} {'faults':>7s} "
            f"{'reps':>4s} {'load':>5s} {'others':>6s}")


def _row(r: dict) -> str:
    ratio = r["predicted_ms"] / r["measured_ms"]
    return (f"{r['model']:20s} {r['threads']:3d} {r['batch']:5d} {r['resolution']:4d} {r['source']:11s} "
            f"{r['predicted_ms']:9.2f} {r['measured_ms']:9.2f} {ratio:6.3f} {_shown(_ratio0(r)):>6s} "
            f"{_shown(_spread(r)):>6s} "
            f"{r['rho_predicted']:9.3f} {r['rho_macs']:9.3f} {r['faults_per_pass']:7.0f} {r['repeats']:4d} "
            f"{r['load']:5.2f} {r['others']:6.2f}")


def _spread(r: dict) -> Optional[float]:
    """The slowest of a cell's fresh processes over the fastest; None for a cell timed in one process."""
    runs = r.get("measured_runs_ms") or []
    return max(runs) / min(runs) if len(runs) > 1 else None


def _ratio0(r: dict) -> Optional[float]:
    """predicted / measured with the start-of-run profile; None unless the cell was predicted with a later one."""
    start = r.get("predicted_start_ms")
    return None if start is None or start == r["predicted_ms"] else start / r["measured_ms"]


def _shown(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.3f}"


def _verdict(results: list[dict]) -> str:
    """The goals, counted over the cells run."""
    ratios = [r["predicted_ms"] / r["measured_ms"] for r in results]
    within10 = sum(abs(v - 1) <= 0.10 for v in ratios)
    within20 = sum(abs(v - 1) <= 0.20 for v in ratios)
    rho_ok = sum(r["rho_predicted"] >= 0.95 and r["rho_predicted"] > r["rho_macs"] for r in results)
    n = len(results)
    quiet = [r for r, v in zip(results, ratios) if r.get("others", 0.0) < QUIET_CORES]
    quiet10 = sum(abs(r["predicted_ms"] / r["measured_ms"] - 1) <= 0.10 for r in quiet)
    quiet20 = sum(abs(r["predicted_ms"] / r["measured_ms"] - 1) <= 0.20 for r in quiet)
    tag = lambda r: f"{r['model']} t{r['threads']} b{r['batch']}"  # noqa: E731
    beyond = [f"{tag(r)} {v:.2f}" for r, v in zip(results, ratios) if abs(v - 1) > 0.20]
    ranks = [f"{tag(r)} {r['rho_predicted']:.3f}" for r in results
             if not (r["rho_predicted"] >= 0.95 and r["rho_predicted"] > r["rho_macs"])]
    spreads = [v for v in map(_spread, results) if v is not None]
    agree10 = sum(v <= 1.10 for v in spreads)
    agree20 = sum(v <= 1.20 for v in spreads)
    itself = (f"the measurement against itself: a cell's fresh processes (slowest over fastest) agree within 10% on "
              f"{agree10} of {len(spreads)} cells timed in more than one, within 20% on {agree20}\n"
              if spreads else "")
    starts = [v for v in map(_ratio0, results) if v is not None]
    at_start = (f"  predicted with the start-of-run profile instead (ratio0): within +-10% "
                f"{sum(abs(v - 1) <= 0.10 for v in starts)} of {len(starts)}, within +-20% "
                f"{sum(abs(v - 1) <= 0.20 for v in starts)}\n" if starts else "")
    return (f"whole model within +-10%: {within10} of {n} cells ({100 * within10 / n:.0f}%; goal >= 80%); "
            f"within +-20%: {within20} of {n} (goal: all)\n" + at_start +
            f"  of the {len(quiet)} cells other processes left alone (< {QUIET_CORES} cores): within +-10% {quiet10}, "
            f"within +-20% {quiet20}\n" + itself +
            f"per-layer Spearman >= 0.95 and above MACs alone: {rho_ok} of {n} cells (goal: all)\n"
            f"beyond +-20%: {', '.join(beyond) or 'none'}\n"
            f"Spearman below 0.95 or not above MACs: {', '.join(ranks) or 'none'}")


if __name__ == "__main__":
    sys.exit(main())
