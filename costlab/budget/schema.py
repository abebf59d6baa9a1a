"""Budget files and checks: fail CI when a model grows past its MAC, FLOP or parameter limit.

A budget file is TOML with one ``[[budget]]`` table per model::

    [[budget]]
    name = "mobile backbone"          # optional; defaults to the model (and its settings)
    model = "mobilenet_v2"            # built-in name, path to an architecture TOML, or MODULE:CALLABLE
    resolution = 224                  # optional
    alpha = 1.0                       # optional width multiplier (built-in and TOML models)
    input = [1, 3, 224, 224]          # optional N,C,H,W (required for MODULE:CALLABLE unless resolution is set)
    convention = "paper"              # optional; MODULE:CALLABLE budgets take paper or fvcore only
    max_macs = "310M"                 # limits: integers or strings with SI suffixes (1M = 10^6)
    max_params = "3.6M"
    max_latency_ms = 25.0             # predicted by the roofline on `device`: deterministic, so CI-safe
    device = "jetson-nano"            # a shipped spec-sheet profile, or a device TOML (relative to this file)

A limit holds when actual <= limit. The whole file is parsed and every model counted before
anything is printed or written, so a bad file never leaves half an output behind.
Built-in and TOML models are counted analytically and never import torch; only MODULE:CALLABLE
budgets and nn.Module instances go through costlab.trace (imported lazily).
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from ..core.conventions import CONVENTIONS, DEFAULT_CONVENTION
from ..core.checks import MAX_SIZE, multiplier, positive_int
from ..core.shapes import parse_input_shape
from ..io.render import dims_text
from ..errors import CostlabError
from ..io import toml as tomlfile
from ..nets.registry import is_module_spec
from ..perf.devices import Device, known_devices, load_device, load_device_file

# limit key -> metric attribute of an analysis; add a row here when a new metric exists.
LIMITS: dict[str, str] = {"max_macs": "macs", "max_flops": "flops", "max_params": "params"}
# the latency limit: milliseconds predicted on the budget's device (perf.roofline), not a count
LATENCY_KEY, LATENCY_METRIC = "max_latency_ms", "latency_ms"
SETTINGS = ("model", "name", "resolution", "alpha", "input", "convention", "device")
BUDGET_KEYS = SETTINGS + tuple(LIMITS) + (LATENCY_KEY,)
TOP_LEVEL_KEYS = ("budget",)

MAX_LIMIT = 10**36  # past the largest count within costlab's input limits (core.checks), and printable
SI_SUFFIXES = {"": 0, "K": 3, "k": 3, "M": 6, "G": 9, "T": 12}
_LIMIT_RE = re.compile(r"^((?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9]{1,4})?)\s*([A-Za-z]?)$")


def parse_limit(value: Any, what: str = "limit") -> int:
    """An int, or a string with an optional exponent or SI suffix ('400M', '5.3M' = 5,300,000, '1.2G', '12K',
    '3.1e8'), as an exact int >= 0."""
    if isinstance(value, bool):
        raise CostlabError(f"{what} must be an integer or a string like '5.3M', got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise CostlabError(f"{what} must not be negative, got {value}")
        if value > MAX_LIMIT:
            raise CostlabError(f"{what}: {value} is larger than any count costlab can give (at most 1e36)")
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise CostlabError(f"{what} must be a finite whole number, got {value!r} (TOML reads 1e400 as infinity)")
    if isinstance(value, float):
        # Floats cannot hold every count exactly; a string keeps the value the user wrote.
        raise CostlabError(f"{what} must be an integer or a string like '5.3M', got the float {value!r}; "
                           f"write it as a string, e.g. \"{value:g}\"")
    if not isinstance(value, str):
        raise CostlabError(f"{what} must be an integer or a string like '5.3M', got {value!r}")
    text = value.strip()
    match = _LIMIT_RE.match(text)
    if not match:
        raise CostlabError(f"{what}: cannot parse {value!r}; expected an integer with an optional "
                           f"exponent or SI suffix K, M, G or T, e.g. '400M', '5.3M' or '3.1e8'")
    number, suffix = match.groups()
    if suffix not in SI_SUFFIXES:
        raise CostlabError(f"{what}: unknown suffix {suffix!r} in {value!r}; use K (10^3), M (10^6), G (10^9) or T (10^12)")
    try:
        exact = Fraction(Decimal(number.replace("_", ""))) * 10 ** SI_SUFFIXES[suffix]
    except InvalidOperation:
        raise CostlabError(f"{what}: cannot parse {value!r}") from None
    if exact.denominator != 1:
        raise CostlabError(f"{what}: {value!r} is not a whole number ({float(exact):g})")
    if exact > MAX_LIMIT:
        raise CostlabError(f"{what}: {value!r} is larger than any count costlab can give (at most 1e36)")
    return int(exact)


@dataclass(frozen=True)
class Budget:
    """One [[budget]] table: which model, counted how, and its limits (metric, limit) in file order; a latency limit
    (milliseconds, a float) comes with the device profile it is predicted on."""

    name: str
    model: str
    limits: tuple[tuple[str, float], ...]
    resolution: Optional[int] = None
    alpha: Optional[float] = None
    input: Optional[tuple[int, ...]] = None
    convention: str = DEFAULT_CONVENTION
    line: Optional[int] = None  # line of its [[budget]] header in the file, for annotations
    where: str = ""  # 'budgets.toml: budget 3 (mobilenet_v2)', to prefix errors found while counting
    base_dir: Optional[Path] = None  # relative TOML model paths resolve against the budget file's folder
    device: Optional[Device] = field(default=None, compare=False)  # the profile max_latency_ms is predicted on


def load_budgets(path: str | os.PathLike) -> list[Budget]:
    """Parse and validate a whole budget file; raise CostlabError naming the first problem."""
    path = Path(path)
    text = tomlfile.read_text(path, "budget file")
    return parse_budgets(text, str(path), path.parent)


def parse_budgets(text: str, source: str = "<budgets>", base_dir: Optional[Path] = None) -> list[Budget]:
    """Parse budget TOML text (source names it in messages)."""
    data = tomlfile.parse(text, source)
    if "stages" in data and "budget" not in data:
        raise CostlabError(f"{source}: this is an architecture file ([[stages]] tables), not a budget file: use "
                           f"costlab arch {source}, or name it as a [[budget]] table's model")
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise CostlabError(f"{source}: unknown top-level key {key!r}{suggest(key, TOP_LEVEL_KEYS)} "
                               f"(budgets are [[budget]] tables)")
    tables = data.get("budget")
    if tables is None:
        raise CostlabError(f"{source}: no budgets; add at least one [[budget]] table")
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise CostlabError(f"{source}: 'budget' must be a list of tables, written [[budget]]")
    if not tables:
        raise CostlabError(f"{source}: no budgets; add at least one [[budget]] table")
    lines = tomlfile.header_lines(text, "budget")
    lines = lines if len(lines) == len(tables) else [None] * len(tables)
    budgets = [_parse_table(t, f"{source}: budget {i + 1}", lines[i], base_dir,
                            lambda key, i=i: tomlfile.key_line(text, "budget", i, key)) for i, t in enumerate(tables)]
    seen: dict[str, int] = {}
    for i, b in enumerate(budgets):
        if b.name in seen:
            raise CostlabError(f"{source}: budgets {seen[b.name] + 1} and {i + 1} are both named {b.name!r}; "
                               f"give one a distinct 'name'")
        seen[b.name] = i
    return budgets


def suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _parse_table(table: dict, where: str, line: Optional[int], base_dir: Optional[Path],
                 line_of: Callable[[str], Optional[int]] = lambda key: None) -> Budget:
    for key in table:
        if key not in BUDGET_KEYS:
            raise CostlabError(f"{where}: unknown key {key!r}{suggest(key, BUDGET_KEYS)} "
                               f"(valid keys: {', '.join(BUDGET_KEYS)})")
    if "model" not in table:
        raise CostlabError(f"{where}: missing 'model' (a built-in name, an architecture .toml path, or MODULE:CALLABLE)")
    model = table["model"]
    if not isinstance(model, str) or not model.strip():
        raise CostlabError(f"{where}: 'model' must be a non-empty string, got {model!r}")
    model = model.strip()
    where = f"{where} ({model})"
    resolution = _opt_positive_int(table.get("resolution"), f"{where}: resolution", MAX_SIZE)
    alpha = table.get("alpha")
    if alpha is not None:
        try:
            multiplier(alpha, "alpha")
        except CostlabError as exc:
            raise CostlabError(f"{where}: {exc}") from None
    input_shape = None if table.get("input") is None else parse_input(table["input"], f"{where}: input")
    convention = table.get("convention", DEFAULT_CONVENTION)
    if not isinstance(convention, str):
        raise CostlabError(f"{where}: convention must be a string, one of {', '.join(CONVENTIONS)}; got {convention!r}")
    if convention not in CONVENTIONS:
        raise CostlabError(f"{where}: unknown convention {convention!r}{suggest(str(convention), CONVENTIONS)} "
                           f"(known: {', '.join(CONVENTIONS)})")
    device = latency_device(table, where, base_dir, line_of)
    limits = tuple((LATENCY_METRIC, parse_latency(value, f"{where}: {key}{_at(line_of(key))}")) if key == LATENCY_KEY
                   else (LIMITS[key], parse_limit(value, f"{where}: {key}"))
                   for key, value in table.items() if key in LIMITS or key == LATENCY_KEY)
    if not limits:
        raise CostlabError(f"{where}: no limit; set at least one of {', '.join(LIMITS)}, {LATENCY_KEY}")
    if is_module_spec(model) and alpha is not None:
        raise CostlabError(f"{where}: alpha applies to built-in and TOML models only, not to {model!r}")
    if is_module_spec(model) and input_shape is None and resolution is None:
        raise CostlabError(f"{where}: give 'input' (N,C,H,W, e.g. [1, 3, 224, 224]) to count {model!r}")
    name = table.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise CostlabError(f"{where}: 'name' must be a non-empty string, got {name!r}")
    name = name.strip() if name else default_name(model, resolution, alpha, input_shape, convention)
    _check_input_vs_resolution(input_shape, resolution, model, where)
    return Budget(name, model, limits, resolution, None if alpha is None else float(alpha), input_shape,
                  convention, line=line, base_dir=base_dir, where=where, device=device)


def _at(line: Optional[int]) -> str:
    return f" (line {line})" if line else ""


# a nanosecond to eleven days: outside it a limit is a typo, and the excess percentage over it is float noise or inf
LATENCY_RANGE_MS = (1e-6, 1e9)


def parse_latency(value: Any, what: str = LATENCY_KEY) -> float:
    """A latency limit in milliseconds: a number within LATENCY_RANGE_MS (an int or a float; not a string, not a bool)."""
    low, high = LATENCY_RANGE_MS
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise CostlabError(f"{what} must be a finite number of milliseconds > 0, got {value!r}")
    if not low <= value <= high:
        raise CostlabError(f"{what} must be between {low:g} and {high:g} milliseconds, got {value!r}")
    return float(value)


def latency_device(table: dict, where: str, base_dir: Optional[Path],
                   line_of: Callable[[str], Optional[int]] = lambda key: None) -> Optional[Device]:
    """The device a budget's max_latency_ms is predicted on: required with it, meaningless without it; a shipped
    spec-sheet profile or a device TOML (relative to the budget file's folder), never the calibrated host."""
    spec = table.get("device")
    shipped = ", ".join(known_devices()[1:])
    if spec is None:
        if LATENCY_KEY in table:
            raise CostlabError(f"{where}: {LATENCY_KEY}{_at(line_of(LATENCY_KEY))} needs a 'device' to predict the "
                               f"latency on: a shipped profile ({shipped}) or a device TOML file")
        return None
    at = f"device{_at(line_of('device'))}"
    if LATENCY_KEY not in table:
        raise CostlabError(f"{where}: {at} is used by {LATENCY_KEY} only, and this budget has none")
    if not isinstance(spec, str) or not spec.strip():
        raise CostlabError(f"{where}: {at} must be a profile name or a TOML file path, got {spec!r}")
    spec = spec.strip()
    if spec == "host":
        raise CostlabError(f"{where}: {at}: 'host' is calibrated on whichever machine runs the check, so the verdict "
                           f"would change from one runner to the next; use a spec-sheet profile ({shipped}) or a "
                           f"device TOML file")
    try:
        if spec.lower().endswith(".toml") or "/" in spec or os.sep in spec:
            path = Path(spec)
            return load_device_file(path if path.is_absolute() or base_dir is None else base_dir / path)
        if spec not in known_devices():
            raise CostlabError(f"unknown device profile {spec!r}; budgets take {shipped} or a FILE.toml")
        return load_device(spec)
    except CostlabError as exc:
        raise CostlabError(f"{where}: {at}: {exc}") from None


def _opt_positive_int(value: Any, what: str, limit: int) -> Optional[int]:
    return None if value is None else positive_int(value, what, limit)


def parse_input(value: Any, what: str = "input") -> tuple[int, ...]:
    """An input shape N,C,H,W from a list of ints or a string '1,3,224,224' (or '1x3x224x224')."""
    return parse_input_shape(value, what, rank=4)


def _check_input_vs_resolution(input_shape, resolution, model: str, where: str) -> None:
    if input_shape is None:
        return
    if resolution is not None and input_shape[2:] != (resolution, resolution):
        raise CostlabError(f"{where}: input {list(input_shape)} disagrees with resolution {resolution}; give one of them")
    if not is_module_spec(model) and input_shape[2] != input_shape[3]:
        raise CostlabError(f"{where}: built-in and TOML models take square inputs, got {list(input_shape)}")


def default_name(model: str, resolution=None, alpha=None, input_shape=None, convention=DEFAULT_CONVENTION) -> str:
    """The model plus whatever settings tell two budgets of it apart: 'mobilenet_v1 (alpha=0.5, resolution=160)'."""
    parts = []
    if alpha is not None:
        parts.append(f"alpha={alpha:g}")
    if resolution is not None:
        parts.append(f"resolution={resolution}")
    if input_shape is not None:
        parts.append("input=" + dims_text(input_shape))
    if convention != DEFAULT_CONVENTION:
        parts.append(f"convention={convention}")
    return f"{model} ({', '.join(parts)})" if parts else model
