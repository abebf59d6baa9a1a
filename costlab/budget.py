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

A limit holds when actual <= limit. The whole file is parsed and every model counted before
anything is printed or written, so a bad file never leaves half an output behind.
Built-in and TOML models are counted analytically and never import torch; only MODULE:CALLABLE
budgets and nn.Module instances go through costlab.trace (imported lazily).
"""

from __future__ import annotations

import difflib
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from . import tomlfile
from .errors import CostlabError
from .formulas import CONVENTIONS, DEFAULT_CONVENTION
from .outputs import writable_file

# limit key -> metric attribute of an analysis; add a row here when a new metric exists.
LIMITS: dict[str, str] = {"max_macs": "macs", "max_flops": "flops", "max_params": "params"}
SETTINGS = ("model", "name", "resolution", "alpha", "input", "convention")
BUDGET_KEYS = SETTINGS + tuple(LIMITS)
TOP_LEVEL_KEYS = ("budget",)

# MODULE:CALLABLE budgets and nn.Modules are traced (costlab.trace.analyze_module), which reproduces only these;
# built-in and TOML models are priced analytically, exact under every convention in CONVENTIONS.
TRACED_CONVENTIONS = ("paper", "fvcore")

SI_SUFFIXES = {"": 0, "K": 3, "k": 3, "M": 6, "G": 9, "T": 12}
_LIMIT_RE = re.compile(r"^([0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)\s*([A-Za-z]?)$")


# --------------------------------------------------------------------------- parsing

def parse_limit(value: Any, what: str = "limit") -> int:
    """An int, or a string with an optional SI suffix ('400M', '5.3M' = 5,300,000, '1.2G', '12K'), as an exact int >= 0."""
    if isinstance(value, bool):
        raise CostlabError(f"{what} must be an integer or a string like '5.3M', got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise CostlabError(f"{what} must not be negative, got {value}")
        return value
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
                           f"SI suffix K, M, G or T, e.g. '400M' or '5.3M'")
    number, suffix = match.groups()
    if suffix not in SI_SUFFIXES:
        raise CostlabError(f"{what}: unknown suffix {suffix!r} in {value!r}; use K (10^3), M (10^6), G (10^9) or T (10^12)")
    try:
        exact = Fraction(Decimal(number.replace("_", ""))) * 10 ** SI_SUFFIXES[suffix]
    except InvalidOperation:
        raise CostlabError(f"{what}: cannot parse {value!r}") from None
    if exact.denominator != 1:
        raise CostlabError(f"{what}: {value!r} is not a whole number ({float(exact):g})")
    return int(exact)


@dataclass(frozen=True)
class Budget:
    """One [[budget]] table: which model, counted how, and its limits (metric, limit) in file order."""

    name: str
    model: str
    limits: tuple[tuple[str, int], ...]
    resolution: Optional[int] = None
    alpha: Optional[float] = None
    input: Optional[tuple[int, ...]] = None
    convention: str = DEFAULT_CONVENTION
    line: Optional[int] = None  # line of its [[budget]] header in the file, for annotations
    where: str = ""  # 'budgets.toml: budget 3 (mobilenet_v2)', to prefix errors found while counting
    base_dir: Optional[Path] = None  # relative TOML model paths resolve against the budget file's folder


def load_budgets(path: str | os.PathLike) -> list[Budget]:
    """Parse and validate a whole budget file; raise CostlabError naming the first problem."""
    path = Path(path)
    text = tomlfile.read_text(path, "budget file")
    return parse_budgets(text, str(path), path.parent)


def parse_budgets(text: str, source: str = "<budgets>", base_dir: Optional[Path] = None) -> list[Budget]:
    """Parse budget TOML text (source names it in messages)."""
    data = tomlfile.parse(text, source)
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise CostlabError(f"{source}: unknown top-level key {key!r}{_suggest(key, TOP_LEVEL_KEYS)} "
                               f"(budgets are [[budget]] tables)")
    tables = data.get("budget")
    if tables is None:
        raise CostlabError(f"{source}: no budgets; add at least one [[budget]] table")
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise CostlabError(f"{source}: 'budget' must be a list of tables, written [[budget]]")
    if not tables:
        raise CostlabError(f"{source}: no budgets; add at least one [[budget]] table")
    lines = _header_lines(text, len(tables))
    budgets = [_parse_table(t, f"{source}: budget {i + 1}", lines[i], base_dir) for i, t in enumerate(tables)]
    seen: dict[str, int] = {}
    for i, b in enumerate(budgets):
        if b.name in seen:
            raise CostlabError(f"{source}: budgets {seen[b.name] + 1} and {i + 1} are both named {b.name!r}; "
                               f"give one a distinct 'name'")
        seen[b.name] = i
    return budgets


def _header_lines(text: str, count: int) -> list[Optional[int]]:
    """1-based line of each [[budget]] header, or None when the tables were not written that way."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if re.match(r"^\s*\[\[\s*budget\s*\]\]", line)]
    return found if len(found) == count else [None] * count


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _parse_table(table: dict, where: str, line: Optional[int], base_dir: Optional[Path]) -> Budget:
    for key in table:
        if key not in BUDGET_KEYS:
            raise CostlabError(f"{where}: unknown key {key!r}{_suggest(key, BUDGET_KEYS)} "
                               f"(valid keys: {', '.join(BUDGET_KEYS)})")
    if "model" not in table:
        raise CostlabError(f"{where}: missing 'model' (a built-in name, an architecture .toml path, or MODULE:CALLABLE)")
    model = table["model"]
    if not isinstance(model, str) or not model.strip():
        raise CostlabError(f"{where}: 'model' must be a non-empty string, got {model!r}")
    model = model.strip()
    where = f"{where} ({model})"
    resolution = _opt_positive_int(table.get("resolution"), f"{where}: resolution")
    alpha = table.get("alpha")
    if alpha is not None and (isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0):
        raise CostlabError(f"{where}: alpha must be a positive number, got {alpha!r}")
    input_shape = None if table.get("input") is None else parse_input(table["input"], f"{where}: input")
    convention = table.get("convention", DEFAULT_CONVENTION)
    if convention not in CONVENTIONS:
        raise CostlabError(f"{where}: unknown convention {convention!r}{_suggest(str(convention), CONVENTIONS)} "
                           f"(known: {', '.join(CONVENTIONS)})")
    limits = tuple((LIMITS[key], parse_limit(value, f"{where}: {key}")) for key, value in table.items() if key in LIMITS)
    if not limits:
        raise CostlabError(f"{where}: no limit; set at least one of {', '.join(LIMITS)}")
    if is_module_spec(model) and alpha is not None:
        raise CostlabError(f"{where}: alpha applies to built-in and TOML models only, not to {model!r}")
    if is_module_spec(model) and input_shape is None and resolution is None:
        raise CostlabError(f"{where}: give 'input' (N,C,H,W, e.g. [1, 3, 224, 224]) to count {model!r}")
    name = table.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise CostlabError(f"{where}: 'name' must be a non-empty string, got {name!r}")
    name = name.strip() if name else default_name(model, resolution, alpha, input_shape, convention)
    if is_module_spec(model):
        check_traced_convention(convention, model, f"{where} {name!r}" if table.get("name") else where)
    _check_input_vs_resolution(input_shape, resolution, model, where)
    return Budget(name, model, limits, resolution, None if alpha is None else float(alpha), input_shape,
                  convention, line=line, base_dir=base_dir, where=where)


def _opt_positive_int(value: Any, what: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CostlabError(f"{what} must be a positive integer, got {value!r}")
    return value


def parse_input(value: Any, what: str = "input") -> tuple[int, ...]:
    """An input shape N,C,H,W from a list of ints or a string '1,3,224,224' (or '1x3x224x224')."""
    items: Sequence[Any]
    if isinstance(value, str):
        items = [v.strip() for v in re.split(r"[,x]", value.strip())]
        try:
            items = [int(v) for v in items]
        except ValueError:
            raise CostlabError(f"{what}: cannot parse {value!r}; expected N,C,H,W such as '1,3,224,224'") from None
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise CostlabError(f"{what}: expected N,C,H,W such as [1, 3, 224, 224], got {value!r}")
    if len(items) != 4 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in items):
        raise CostlabError(f"{what}: expected four positive integers N,C,H,W such as [1, 3, 224, 224], got {value!r}")
    return tuple(items)


def _check_input_vs_resolution(input_shape, resolution, model: str, where: str) -> None:
    if input_shape is None:
        return
    if resolution is not None and input_shape[2:] != (resolution, resolution):
        raise CostlabError(f"{where}: input {list(input_shape)} disagrees with resolution {resolution}; give one of them")
    if not is_module_spec(model) and input_shape[2] != input_shape[3]:
        raise CostlabError(f"{where}: built-in and TOML models take square inputs, got {list(input_shape)}")


def is_module_spec(model: str) -> bool:
    """MODULE:CALLABLE (e.g. 'torchvision.models:resnet18'), as opposed to a built-in name or a .toml path."""
    return ":" in model and not model.lower().endswith(".toml")


def check_traced_convention(convention: str, model: Any, where: str) -> None:
    """Refuse a convention the tracer cannot reproduce for a MODULE:CALLABLE or nn.Module (it would count wrongly)."""
    if convention not in TRACED_CONVENTIONS:
        raise CostlabError(f"{where}: convention {convention!r} is not available for {_describe(model)} (traced models "
                           f"count under {' or '.join(map(repr, TRACED_CONVENTIONS))} only; {convention!r} is for "
                           f"built-in names and architecture TOML files)")


def default_name(model: str, resolution=None, alpha=None, input_shape=None, convention=DEFAULT_CONVENTION) -> str:
    """The model plus whatever settings tell two budgets of it apart: 'mobilenet_v1 (alpha=0.5, resolution=160)'."""
    parts = []
    if alpha is not None:
        parts.append(f"alpha={alpha:g}")
    if resolution is not None:
        parts.append(f"resolution={resolution}")
    if input_shape is not None:
        parts.append("input=" + "x".join(map(str, input_shape)))
    if convention != DEFAULT_CONVENTION:
        parts.append(f"convention={convention}")
    return f"{model} ({', '.join(parts)})" if parts else model


# --------------------------------------------------------------------------- counting

def measure(model: Any, resolution: Optional[int] = None, alpha: Optional[float] = None,
            input_shape: Optional[Sequence[int]] = None, convention: str = DEFAULT_CONVENTION,
            base_dir: Optional[Path] = None) -> Any:
    """Count a model: built-in name or architecture TOML analytically (no torch); MODULE:CALLABLE or an nn.Module via costlab.trace.

    Returns an object with .params, .macs and .flops (exact ints).
    """
    if isinstance(model, os.PathLike):
        model = os.fspath(model)
    if isinstance(model, str) and not is_module_spec(model):
        return _measure_arch(model, resolution, alpha, input_shape, convention, base_dir)
    if alpha is not None:
        raise CostlabError(f"alpha applies to built-in and TOML models only, not to {_describe(model)}")
    check_traced_convention(convention, model, "budget")
    if input_shape is None:
        if resolution is None:
            raise CostlabError(f"{_describe(model)}: give an input shape N,C,H,W (or a resolution for a 3-channel input)")
        input_shape = (1, 3, resolution, resolution)
    return _trace(model, tuple(input_shape), convention)


def _measure_arch(model: str, resolution, alpha, input_shape, convention: str, base_dir: Optional[Path]):
    from .archs import analyze_arch  # analytic: no torch

    batch = 1
    if input_shape is not None:
        batch, _, h, w = input_shape
        if h != w:
            raise CostlabError(f"{model}: built-in and TOML models take square inputs, got {list(input_shape)}")
        if resolution is not None and resolution != h:
            raise CostlabError(f"{model}: input {list(input_shape)} disagrees with resolution {resolution}")
        resolution = h
    target = model
    if model.lower().endswith(".toml"):
        target = _resolve_toml(model, base_dir)
    analysis = analyze_arch(target, alpha=alpha, resolution=resolution, convention=convention, batch=batch)
    if input_shape is not None and analysis.input_shape.c != input_shape[1]:
        raise CostlabError(f"{model} takes {analysis.input_shape.c} input channels, but input gives {input_shape[1]}")
    return analysis


def _resolve_toml(model: str, base_dir: Optional[Path]) -> str:
    path = Path(model)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():  # a directory or an unreadable file gets its own message from the loader
        where = f" (relative to the budget file's folder {base_dir})" if base_dir is not None and not Path(model).is_absolute() else ""
        raise CostlabError(f"architecture file not found: {model}{where}")
    return str(path)


def _trace(model: Any, input_shape: tuple, convention: str):
    from .trace import analyze_module  # torch is imported only here: MODULE:CALLABLE budgets and nn.Module instances

    return analyze_module(model, input_shape, convention=convention)


def _describe(model: Any) -> str:
    return repr(model) if isinstance(model, str) else f"a {type(model).__name__} instance"


# --------------------------------------------------------------------------- evaluation

@dataclass(frozen=True)
class Result:
    """One limit of one budget: holds when actual <= limit."""

    name: str
    model: str
    metric: str
    limit: int
    actual: int
    line: Optional[int] = None

    @property
    def ok(self) -> bool:
        return self.actual <= self.limit

    @property
    def key(self) -> str:
        return f"max_{self.metric}"

    @property
    def headroom(self) -> int:
        """limit - actual: negative when exceeded."""
        return self.limit - self.actual

    @property
    def headroom_pct(self) -> Optional[float]:
        """100 * (limit - actual) / limit, or None for a zero limit."""
        return 100 * self.headroom / self.limit if self.limit else None

    def as_dict(self) -> dict:
        pct = self.headroom_pct
        return {"name": self.name, "model": self.model, "metric": self.metric, "limit": self.limit,
                "actual": self.actual, "headroom": self.headroom,
                "headroom_pct": None if pct is None else round(pct, 2), "ok": self.ok}

    def message(self) -> str:
        """One line naming model and metric: 'mobilenet_v1: macs 568,740,352 exceeds max_macs 500,000,000 by 68,740,352 (13.7%)'."""
        who = self.name if self.model in self.name else f"{self.name} [{self.model}]"
        if self.ok:
            return f"{who}: {self.metric} {self.actual:,} within {self.key} {self.limit:,}"
        over = -self.headroom
        share = f" ({100 * over / self.limit:.1f}%)" if self.limit else ""
        return f"{who}: {self.metric} {self.actual:,} exceeds {self.key} {self.limit:,} by {over:,}{share}"


def evaluate(budgets: Sequence[Budget]) -> list[Result]:
    """Count each budget's model (each distinct setting once) and compare with every limit."""
    cache: dict[tuple, Any] = {}
    results = []
    for b in budgets:
        key = (b.model, b.resolution, b.alpha, b.input, b.convention, b.base_dir)
        if key not in cache:
            try:
                cache[key] = measure(b.model, b.resolution, b.alpha, b.input, b.convention, b.base_dir)
            except CostlabError as exc:
                raise CostlabError(f"{b.where or repr(b.name)}: {exc}") from None
        analysis = cache[key]
        results.extend(Result(b.name, b.model, metric, limit, int(getattr(analysis, metric)), b.line)
                       for metric, limit in b.limits)
    return results


def check_file(path: str | os.PathLike) -> list[Result]:
    """Load, validate and evaluate a budget file."""
    return evaluate(load_budgets(path))


# --------------------------------------------------------------------------- outputs

def display_columns():
    """(key, header, formatter) triples for table/Markdown output."""
    return [
        ("name", "name", None),
        ("metric", "metric", None),
        ("limit", "limit", lambda v: f"{v:,}"),
        ("actual", "actual", lambda v: f"{v:,}"),
        ("headroom", "headroom", None),
        ("ok", "ok", None),
    ]


def headroom_text(result: Result) -> str:
    """'12.3% (45.6M)' under the limit, '-5.4% (-30.8M)' over it."""
    from .render import humanize

    pct = result.headroom_pct
    amount = humanize(result.headroom) if result.headroom >= 0 else "-" + humanize(-result.headroom)
    return f"{pct:.1f}% ({amount})" if pct is not None else amount


def display_rows(results: Sequence[Result]) -> list[dict]:
    return [{**r.as_dict(), "headroom": headroom_text(r), "ok": "ok" if r.ok else "EXCEEDED"} for r in results]


def render_results(results: Sequence[Result], fmt: str) -> str:
    """table / markdown: one row per limit with headroom as % and absolute; csv / json: exact ints."""
    from .render import to_csv, to_json, to_table

    data = [r.as_dict() for r in results]
    if fmt == "json":
        return to_json(data)
    if fmt == "csv":
        return to_csv(data).rstrip("\n")
    failed = sum(not r.ok for r in results)
    footer = (f"{len(results) - failed} of {len(results)} limits hold"
              + (f"; {failed} exceeded" if failed else ""))
    columns = display_columns()
    rows = [{k: (fn(row[k]) if fn else row[k]) for k, _, fn in columns} for row in display_rows(results)]
    align = ["left", "left", "right", "right", "right", "left"]
    table = to_table(rows, [k for k, _, _ in columns], [h for _, h, _ in columns], fmt == "markdown", align)
    return f"{table}\n\n{footer}"


def junit_xml(results: Sequence[Result], suite: str = "costlab budgets") -> str:
    """JUnit XML: one testcase per (budget, metric), a <failure> in each whose limit is exceeded."""
    failures = sum(not r.ok for r in results)
    root = ET.Element("testsuites", name=suite, tests=str(len(results)), failures=str(failures), errors="0")
    ts = ET.SubElement(root, "testsuite", name=suite, tests=str(len(results)), failures=str(failures),
                       errors="0", skipped="0")
    for r in results:
        case = ET.SubElement(ts, "testcase", classname=r.name, name=r.key)
        detail = f"model: {r.model}\nmetric: {r.metric}\nlimit: {r.limit}\nactual: {r.actual}\nheadroom: {r.headroom}"
        if not r.ok:
            failure = ET.SubElement(case, "failure", message=r.message(), type="BudgetExceeded")
            failure.text = detail
        else:
            ET.SubElement(case, "system-out").text = detail
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def check_junit_path(path: str | os.PathLike) -> Path:
    """Refuse a JUnit target that cannot be written, before anything is counted (it is written beside and renamed)."""
    return writable_file(path, "JUnit file", via_rename=True)


def check_summary_path(path: str | os.PathLike) -> Path:
    """Refuse a $GITHUB_STEP_SUMMARY that cannot be appended to (a folder, read-only, or in a missing folder)."""
    return writable_file(path, "GITHUB_STEP_SUMMARY")


def write_junit(results: Sequence[Result], path: str | os.PathLike) -> None:
    """Write the whole JUnit file at once (a temporary file in its folder, renamed into place); nothing is left on failure."""
    write_outputs(results, junit=check_junit_path(path))


def write_outputs(results: Sequence[Result], junit: Optional[Path] = None, summary: Optional[Path] = None,
                  source: str = "") -> None:
    """Write the JUnit file and append the step summary, both or neither.

    The JUnit text is staged in a temporary file next to its target, the summary appended, then the
    JUnit file renamed into place; any failure removes the staged file and restores the summary.
    """
    staged: Optional[Path] = None
    summary_before: Optional[int] = None  # its size before appending (-1: it did not exist), while not committed
    try:
        if junit is not None:
            staged = _stage(junit_xml(results), Path(junit))
        if summary is not None:
            summary_before = os.path.getsize(summary) if os.path.isfile(summary) else -1
            try:
                with open(summary, "a", encoding="utf-8") as fh:
                    fh.write(step_summary(results, source) + "\n")
            except OSError as exc:
                raise CostlabError(f"cannot append to GITHUB_STEP_SUMMARY {str(summary)!r}: {exc.strerror or exc}") from None
        if staged is not None:
            try:
                os.replace(staged, junit)
            except OSError as exc:
                raise CostlabError(f"cannot write JUnit file {str(junit)!r}: {exc.strerror or exc}") from None
            staged = None
        summary_before = None
    finally:
        if staged is not None:
            staged.unlink(missing_ok=True)
        if summary_before is not None:
            _restore(Path(summary), summary_before)


def _stage(text: str, target: Path) -> Path:
    """Write text to a new temporary file beside target (so the rename is atomic); return its path."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        if not isinstance(exc, FileExistsError):
            tmp.unlink(missing_ok=True)
        raise CostlabError(f"cannot write JUnit file {str(target)!r}: {exc.strerror or exc}") from None
    return tmp


def _restore(path: Path, size: int) -> None:
    """Undo a partial append: cut the file back to size bytes, or remove it if it did not exist (size -1)."""
    try:
        if size < 0:
            path.unlink(missing_ok=True)
        elif path.is_file():
            os.truncate(path, size)
    except OSError:
        pass  # best effort: the error being raised already says what went wrong


def step_summary(results: Sequence[Result], source: str = "") -> str:
    """Markdown for $GITHUB_STEP_SUMMARY: a heading with the verdict and the results table."""
    failed = sum(not r.ok for r in results)
    verdict = f"{failed} of {len(results)} limits exceeded" if failed else f"all {len(results)} limits hold"
    title = f"### costlab budgets{f' ({source})' if source else ''}: {verdict}"
    return f"{title}\n\n{render_results(results, 'markdown')}\n"


def github_annotations(results: Sequence[Result], source: str = "") -> list[str]:
    """'::error file=...,line=...,title=...::message' workflow commands, one per exceeded limit."""
    out = []
    for r in results:
        if r.ok:
            continue
        props = []
        if source:
            props.append(f"file={_escape_property(source)}")
            if r.line:
                props.append(f"line={r.line}")
        props.append(f"title={_escape_property(f'costlab budget exceeded: {r.name} {r.key}')}")
        out.append(f"::error {','.join(props)}::{_escape_data(r.message())}")
    return out


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


# --------------------------------------------------------------------------- Python API

def assert_budget(model_or_name: Any, input: Optional[Sequence[int]] = None, resolution: Optional[int] = None,
                  alpha: Optional[float] = None, convention: str = DEFAULT_CONVENTION,
                  max_macs: Any = None, max_flops: Any = None, max_params: Any = None) -> list[Result]:
    """Raise AssertionError naming every exceeded limit; return the results when all hold.

    model_or_name: a built-in name, an architecture TOML path, 'MODULE:CALLABLE', or an nn.Module
    instance (the last two are traced with torch). Limits are ints or SI strings ('400M', '5.3M').
    """
    given = {"max_macs": max_macs, "max_flops": max_flops, "max_params": max_params}
    limits = [(LIMITS[k], parse_limit(v, k)) for k, v in given.items() if v is not None]
    if not limits:
        raise CostlabError("assert_budget needs at least one of max_macs, max_flops, max_params")
    if convention not in CONVENTIONS:
        raise CostlabError(f"unknown convention {convention!r}{_suggest(str(convention), CONVENTIONS)}")
    input_shape = None if input is None else parse_input(input)
    model = os.fspath(model_or_name) if isinstance(model_or_name, os.PathLike) else model_or_name
    label = model if isinstance(model, str) else type(model).__name__
    name = default_name(label, resolution, alpha, input_shape, convention)
    if not (isinstance(model, str) and not is_module_spec(model)):
        check_traced_convention(convention, model, f"budget {name!r}")
    analysis = measure(model, resolution, alpha, input_shape, convention)
    results = [Result(name, label, metric, limit, int(getattr(analysis, metric))) for metric, limit in limits]
    failed = [r for r in results if not r.ok]
    if failed:
        raise AssertionError("budget exceeded: " + "; ".join(r.message() for r in failed))
    return results
