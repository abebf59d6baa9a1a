"""Fuzzing option values and TOML files with hypothesis: inf, nan, 1e308, 1e400, huge and negative integers, zero,
non-numeric and empty strings, unicode.

Every example runs costlab in-process (CliRunner) with a time limit and must keep the contract: exit 0 or 2 (never
1: none of these commands checks anything that can fail), on exit 2 exactly one 'costlab: error:' line and nothing
on stdout, never a traceback. Examples are derandomized so a run is reproducible; COSTLAB_FUZZ_RANDOM=1 draws new
ones and COSTLAB_FUZZ_SHRINK=1 shrinks a failure to a minimal example (slower).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import HUGE, arch_text, budget_text, device_text  # noqa: E402
from runner import basic_problems, invoke  # noqa: E402

LIMIT_S = 20.0

PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
if os.environ.get("COSTLAB_FUZZ_SHRINK"):
    PHASES.append(Phase.shrink)


def fuzz_settings(n: int):
    return settings(max_examples=n, deadline=None, derandomize=not os.environ.get("COSTLAB_FUZZ_RANDOM"),
                    database=None, phases=PHASES, print_blob=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# --- values ---------------------------------------------------------------------------------------------------------

HOSTILE_TEXT = [
    "inf", "-inf", "+inf", "Infinity", "nan", "NaN", "-nan", "1e308", "-1e308", "1e400", "-1e400", "1e-400", "1e-300",
    "5e-324", HUGE, "-" + HUGE, "-1", "0", "-0", "0.0", "", " ", "abc", "1,5", "1..5", "\u00bd", "\uff11\uff12",
    "\u0663", "\U0001F600", "0x10", "1_000", "+5", "5e0", "1.5", "0.25", "1", "2", "3", "7", "8", "16", "64", "65",
    "1000", "1001", "1024", "1025", "65536", "65537", "1000000", "1000001", "same", "\x00", "\n", "--cin",
]

number_text = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.integers(-10 ** 40, 10 ** 40).map(str),
    st.integers(-3, 70_000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-100, max_value=100).map(lambda f: f"{f:g}"),
    st.text(max_size=6),
)

TOML_LITERALS = [
    "inf", "-inf", "+inf", "nan", "-nan", "1e308", "1e400", "-1e400", "1e-400", "5e-324", "0", "-0", "0.0", "-1", "1",
    "2", "3", HUGE, "-" + HUGE, '"abc"', '""', '"\u00fc"', '"inf"', '"1M"', "true", "false", "[]", "[1]", "{}", "1.5",
    "0.5", "65", "64", "1000", "1001", "1024", "1025", "65536", "65537", "1000000", "1000001",
]


def toml_float(f: float) -> str:
    text = repr(f)
    return text if any(c in text for c in ".en") or text in ("inf", "-inf", "nan") else text + ".0"


def toml_string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


toml_literal = st.one_of(
    st.sampled_from(TOML_LITERALS),
    st.integers(-10 ** 40, 10 ** 40).map(str),
    st.integers(-3, 70_000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(toml_float),
    st.text(max_size=5).map(toml_string),
)


def run(argv: list, files: dict | None = None) -> tuple[list, list]:
    """argv (with {tmp}) in a fresh temporary folder holding files; returns (argv, problems)."""
    tmp = Path(tempfile.mkdtemp(prefix="costlab-fuzz-"))
    try:
        for rel, text in (files or {}).items():
            (tmp / rel).write_text(text, encoding="utf-8")
        argv = [a.replace("{tmp}", str(tmp)) for a in argv]
        outcome = invoke(argv, {}, tmp, LIMIT_S)
        problems = basic_problems(outcome)
        left = sorted(set(os.listdir(tmp)) - set(files or {}))
        if left:
            problems.append(f"left behind: {left}")
        if problems:
            first = (outcome.uncaught or outcome.stderr).strip().splitlines()
            problems.append(f"stderr: {first[-1][:200] if first else ''!r}")
        return argv, problems
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def assert_contract(argv: list, problems: list, files: dict | None = None) -> None:
    assert not problems, f"costlab {argv!r}: {'; '.join(problems)}" + (f"\nfiles: {files!r}" if files else "")


# --- compare, arch, sweep -------------------------------------------------------------------------------------------
#
# Each example is a configuration built from values that should work (edges included: 1, the limits), in which at
# most one value is then replaced by a hostile one: half the examples probe the edges, half one bad value at a time.

def poison(data, values: dict, hostile) -> dict:
    """values with (half the time) one of them replaced by a draw from hostile."""
    if values and data.draw(st.booleans(), label="poison?"):
        key = data.draw(st.sampled_from(sorted(values, key=str)), label="poisoned")
        values = {**values, key: data.draw(hostile, label="hostile value")}
    return values


def pick(data, table: dict, max_size: int, min_size: int = 0, label: str = "options") -> dict:
    """A few of table's keys, each with one of its own valid values."""
    keys = data.draw(st.lists(st.sampled_from(sorted(table, key=str)), min_size=min_size, max_size=max_size,
                              unique=True), label=label)
    return {key: data.draw(st.sampled_from(table[key]), label=str(key)) for key in keys}


COMPARE_KINDS = ["conv", "depthwise", "pointwise", "dwsep", "mbconv", "fused-mbconv", "fused_mbconv", "bottleneck",
                 "conv:5", "conv:3x2", "conv:4", "conv:1x1000", "dwsep:5", "dwsep:3x2", "depthwise:2x3"]
kind_text = st.one_of(
    st.builds(lambda base, k, r: f"{base}:{k}x{r}", st.sampled_from(["conv", "dwsep", "depthwise"]), number_text,
              number_text),
    st.builds(lambda base, k: f"{base}:{k}", st.sampled_from(["conv", "dwsep", "depthwise", "pointwise"]), number_text),
    number_text,
)
COMPARE_OPTIONS = {
    "--kernel": ["1", "2", "3", "4", "5", "7", "1024"],
    "--size": ["1", "7", "8", "9", "224", "65536"],
    "--stride": ["1", "2", "3", "1000"],
    "--padding": ["same", "0", "1", "5", "1024"],
    "--groups": ["1", "2", "4"],
    "--expand": ["1", "4", "6", "64"],
    "--se": ["0.25", "1", "1e-9", "0.5"],
    "--alpha": ["0.25", "1", "64", "0.001", "0.999"],
    "--rho": ["0.01", "0.5", "1", "64"],
}
CHANNELS = ["1", "3", "4", "8", "16", "32", "1000000"]
FORMATS = st.sampled_from(["table", "csv", "json", "markdown"])


@fuzz_settings(1500)
@given(data=st.data(), fmt=FORMATS)
def test_fuzz_compare(data, fmt):
    kinds = data.draw(st.lists(st.sampled_from(COMPARE_KINDS), min_size=1, max_size=3, unique=True), label="kinds")
    values = {("kind", i): k for i, k in enumerate(kinds)}
    values["--cin"] = data.draw(st.sampled_from(CHANNELS), label="cin")
    values["--cout"] = data.draw(st.sampled_from(CHANNELS), label="cout")
    values.update(pick(data, COMPARE_OPTIONS, 3))
    if data.draw(st.booleans(), label="poison?"):
        key = data.draw(st.sampled_from(sorted(values, key=str)), label="poisoned")
        values[key] = data.draw(kind_text if isinstance(key, tuple) else number_text, label="hostile value")
    argv = ["compare", *[v for k, v in values.items() if isinstance(k, tuple)], "--format", fmt]
    for name, value in values.items():
        if not isinstance(name, tuple):
            argv += [name, value]
    assert_contract(*run(argv))


ARCH_NAMES = ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "mnasnet0_5", "efficientnet_b0", "efficientnet_b7",
              "efficientnet_v2_s", "resnet50", "resnext50_32x4d"]
ARCH_OPTIONS = {
    "--alpha": ["0.05", "0.25", "0.5", "1", "1.4", "64"],
    "--rho": ["0.2", "0.5", "1", "2", "64"],
    "--depth": ["0.01", "0.5", "1", "2", "20"],
    "--resolution": ["32", "224", "600", "65536"],
    "--batch": ["1", "7", "1000000"],
}


@fuzz_settings(800)
@given(data=st.data(), name=st.sampled_from(ARCH_NAMES), convention=st.sampled_from(["paper", "fvcore", "ptflops", "thop"]),
       by=st.sampled_from(["layer", "stage", "type"]), fmt=FORMATS)
def test_fuzz_arch(data, name, convention, by, fmt):
    opts = pick(data, ARCH_OPTIONS, 2)
    if "--rho" in opts and "--resolution" in opts:
        del opts["--rho"]
    if not opts or data.draw(st.booleans(), label="poison?"):
        opts[data.draw(st.sampled_from(sorted(ARCH_OPTIONS)), label="poisoned")] = data.draw(number_text)
    argv = ["arch", name, "--convention", convention, "--by", by, "--format", fmt]
    for option, value in opts.items():
        argv += [option, value]
    assert_contract(*run(argv))


@fuzz_settings(500)
@given(data=st.data(), name=st.sampled_from(ARCH_NAMES[:6]), fmt=FORMATS)
def test_fuzz_sweep(data, name, fmt):
    alphas = data.draw(st.lists(st.sampled_from(["0.25", "0.5", "1", "1.4", "64", " 0.75"]), min_size=1, max_size=3))
    resolutions = data.draw(st.lists(st.sampled_from(["32", "96", "224", "65536", " 128"]), min_size=1, max_size=3))
    cells = poison(data, {**{("alpha", i): a for i, a in enumerate(alphas)},
                          **{("resolution", i): r for i, r in enumerate(resolutions)}}, number_text)
    alpha_text = ",".join(v for (k, _), v in cells.items() if k == "alpha")
    resolution_text = ",".join(v for (k, _), v in cells.items() if k == "resolution")
    argv = ["sweep", name, "--alpha", alpha_text, "--resolution", resolution_text, "--format", fmt]
    assert_contract(*run(argv))


# --- TOML loaders ---------------------------------------------------------------------------------------------------

BLOCK_NAMES = ['"conv"', '"dwsep"', '"mbconv"', '"fused_mbconv"', '"fused-mbconv"', '"bottleneck"']
ARCH_SLOTS = {
    ("top", None, "resolution"): ["8", "32", "64", "65536"],
    ("top", None, "width_mult"): ["0.05", "0.25", "1", "1.0", "64"],
    ("top", None, "depth_mult"): ["0.01", "0.5", "1", "64"],
    ("top", None, "in_channels"): ["1", "3", "4", "1000000"],
    ("top", None, "rules"): ['"efficientnet"', '"mobilenet_v2"', '"mobilenet_v1"', '"resnet"', '"mnasnet"'],
    ("stem", None, "channels"): ["1", "8", "1000000"],
    ("stem", None, "kernel"): ["1", "2", "3", "1024"],
    ("stem", None, "stride"): ["1", "2", "4"],
    ("head", None, "channels"): ["1", "64", "1000000"],
    ("head", None, "per_input"): ["1", "4", "64"],
    ("classifier", None, "classes"): ["1", "10", "1000000"],
    ("classifier", None, "hidden"): ["[]", "[1]", "[1280]", "[1000000]"],
}
STAGE_VALUES = {
    "block": BLOCK_NAMES, "channels": ["1", "8", "16", "1000000"], "repeats": ["1", "2", "1000"],
    "stride": ["1", "2", "3"], "kernel": ["1", "2", "3", "5", "1024"], "expand": ["0.5", "1", "6", "64"],
    "expanded": ["1", "8", "1000000"], "se": ["true", "false"], "groups": ["1", "2", "4"], "act": ['"relu"', '"silu"'],
}
for _i in range(3):
    for _key, _values in STAGE_VALUES.items():
        ARCH_SLOTS[("stages", _i, _key)] = _values


@fuzz_settings(1200)
@given(data=st.data(),
       extra=st.sampled_from([[], [], ["--alpha", "0.5"], ["--depth", "2"], ["--resolution", "64"], ["--rho", "2"]]))
def test_fuzz_arch_toml(data, extra):
    changes = pick(data, ARCH_SLOTS, 3, label="slots")
    if not changes or data.draw(st.booleans(), label="poison?"):
        changes[data.draw(st.sampled_from(sorted(ARCH_SLOTS, key=str)), label="poisoned")] = data.draw(toml_literal)
    over: dict = {"top": {}, "stem": {}, "head": {}, "classifier": {}, "stages": {}}
    for (part, index, key), value in changes.items():
        if part == "stages":
            over["stages"].setdefault(index, {})[key] = value
        else:
            over[part][key] = value
    text = arch_text(**over)
    argv = ["arch", "{tmp}/net.toml", "--by", "stage", *extra]
    files = {"net.toml": text}
    argv, problems = run(argv, files)
    assert_contract(argv, problems, files)


# limits that hold for any model costlab can count (so exit 1 never happens) and limits that must be refused
VALID_HUGE_LIMITS = [HUGE, '"1000000000000000000T"', '"99_999_999_999_999_999_999_999T"']
INVALID_LIMITS = ["inf", "-inf", "nan", "1e400", "-1e400", "1e308", "-1", "1.5", "0.0", '"abc"', '""', "true", "[]",
                  "{}", '"1e37"', '"10Q"', '"1.5"', '"0.0000005M"', '"inf"', '"nan"', '"-1M"', '" "', '"\u0661M"',
                  "-" + HUGE, '"1..2"', '"M"']
invalid_limit = st.one_of(st.sampled_from(INVALID_LIMITS), st.floats(allow_nan=True, allow_infinity=True).map(toml_float),
                          st.integers(max_value=-1).map(str))
BUDGET_SLOTS = {
    "resolution": ["8", "32", "224", "600", "65536"],
    "alpha": ["0.05", "0.5", "1", "1.0", "64"],
    "convention": ['"paper"', '"fvcore"', '"ptflops"', '"thop"'],
    "name": ['"a"', '"\u00fc"', '"x y"'],
    "input": ["[1, 3, 32, 32]", "[7, 3, 224, 224]", "[1000000, 3, 8, 8]", "[1, 3, 65536, 65536]"],
}
MODELS = ['"mobilenet_v1"', '"mobilenet_v2"', '"efficientnet_b0"', '"mobilenet_v3_small"', '"resnet50"', '"net.toml"']
BAD_MODELS = ['"nope"', '""', "3", "true", '"missing.toml"', '"net.toml "', '"NET.TOML"', "[1]", "{}"]
input_literal = st.one_of(toml_literal,
                          st.lists(toml_literal, min_size=0, max_size=5).map(lambda v: "[" + ", ".join(v) + "]"))


@fuzz_settings(800)
@given(data=st.data(), model=st.sampled_from(MODELS))
def test_fuzz_budget_toml(data, model):
    keys = pick(data, BUDGET_SLOTS, 2, label="settings")
    limits = {k: data.draw(st.sampled_from(VALID_HUGE_LIMITS)) for k in
              data.draw(st.lists(st.sampled_from(["max_macs", "max_params", "max_flops"]), min_size=1, max_size=3,
                                 unique=True), label="limits")}
    over = {"model": model, "max_macs": None, **keys, **limits}
    if data.draw(st.booleans(), label="poison?"):
        key = data.draw(st.sampled_from(["model", "resolution", "alpha", "convention", "name", "input", "max_macs",
                                         "max_params", "max_flops"]), label="poisoned")
        hostile = {"model": st.sampled_from(BAD_MODELS), "input": input_literal}.get(
            key, invalid_limit if key.startswith("max_") else toml_literal)
        over[key] = data.draw(hostile, label="hostile value")
    text = budget_text(**over)
    files = {"b.toml": text, "net.toml": arch_text()}
    argv, problems = run(["check", "{tmp}/b.toml"], files)
    assert_contract(argv, problems, files)


DEVICE_VALUES = ["1e-9", "1", "2", "1e9", "1e12", "1e308", "5e-324", "0.5"]
DEVICE_SLOTS = {key: DEVICE_VALUES for key in ("peak_flops", "memory_bandwidth", "overhead_s", "depthwise_flops",
                                               "pointwise_flops", "cache_bytes", "cache_bandwidth",
                                               "first_touch_bandwidth")}
DEVICE_SLOTS["threads"] = ["1", "2", "64"]
DEVICE_SLOTS["name"] = ['"x"', '"\u00fc"']
for _table, _key in (("overhead_by_type", "conv"), ("overhead_by_type", "depthwise"), ("bandwidth_by_kernel", "relu"),
                     ("bandwidth_by_kernel", "conv")):
    DEVICE_SLOTS[f"{_table}.{_key}"] = DEVICE_VALUES


@fuzz_settings(600)
@given(data=st.data(), fmt=st.sampled_from(["table", "json", "csv"]))
def test_fuzz_device_toml(data, fmt):
    changes = pick(data, DEVICE_SLOTS, 4, label="fields")
    if "cache_bytes" in changes or "cache_bandwidth" in changes:  # they go together
        changes.setdefault("cache_bytes", "1e6")
        changes.setdefault("cache_bandwidth", "1e11")
    changes = poison(data, changes, toml_literal)
    fields = {k: v for k, v in changes.items() if "." not in k}
    text = device_text(**fields)
    by_table: dict = {}
    for slot, value in changes.items():
        if "." in slot:
            table, key = slot.split(".")
            by_table.setdefault(table, []).append(f"{key} = {value}")
    for table, lines in by_table.items():
        text += f"\n[{table}]\n" + "\n".join(lines) + "\n"
    files = {"dev.toml": text}
    argv, problems = run(["latency", "mobilenet_v2", "--device", "{tmp}/dev.toml", "--resolution", "32",
                          "--format", fmt], files)
    assert_contract(argv, problems, files)
