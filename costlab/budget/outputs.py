"""What `costlab check` writes: the results table, JUnit XML, the GitHub step summary and ::error annotations."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Optional, Sequence

from ..io.files import append_undoable, commit, stage, undo_append, writable_file
from ..io.render import emit, humanize
from .check import Result


DISPLAY = [
    ("name", "name", None),
    ("metric", "metric", None),
    ("limit", "limit", None),
    ("actual", "actual", None),
    ("headroom", "headroom", None),
    ("ok", "ok", None),
]
ALIGN = ["left", "left", "right", "right", "right", "left"]
# with a latency limit among the results: the device each latency is predicted on, beside the metric
DEVICE_COLUMN = ("device", "device", None)


def headroom_text(result: Result) -> str:
    """'12.3% (45.6M)' under the limit, '-5.4% (-30.8M)' over it; a latency's in ms: '8.1% (1.234 ms)'."""
    pct = result.headroom_pct
    if result.device:
        amount = result.text(result.headroom)
    else:
        amount = humanize(result.headroom) if result.headroom >= 0 else "-" + humanize(-result.headroom)
    return f"{pct:.1f}% ({amount})" if pct is not None else amount


def _display(results: Sequence[Result]) -> tuple[list, list]:
    """The columns (and their alignment): DISPLAY, with the device column after the metric when any limit has one."""
    if not any(r.device for r in results):
        return DISPLAY, ALIGN
    return DISPLAY[:2] + [DEVICE_COLUMN] + DISPLAY[2:], ALIGN[:2] + ["left"] + ALIGN[2:]


def render_results(results: Sequence[Result], fmt: str) -> str:
    """table / markdown: one row per limit with headroom as % and absolute; csv / json: exact ints (a latency's
    milliseconds as a float), and a device for each latency row."""
    display, align = _display(results)
    data = [r.as_dict() for r in results]
    if fmt in ("json", "csv"):
        return emit(fmt, data, display)
    failed = sum(not r.ok for r in results)
    unpriced = sum(bool(r.unpriced) for r in results)
    footer = (f"{len(results) - failed} of {len(results)} limits hold"
              + (f"; {failed} exceeded" if failed else "")
              + (f"; {unpriced} leave{'s' if unpriced == 1 else ''} out unpriced ops (counted as 0, named on stderr)"
                 if unpriced else ""))
    rows = [{**row, "device": r.device, "limit": r.text(r.limit), "actual": r.text(r.actual),
             "headroom": headroom_text(r), "ok": "ok" if r.ok else "EXCEEDED"} for r, row in zip(results, data)]
    return emit(fmt, rows, display, footer=footer, align=align)


def junit_xml(results: Sequence[Result], suite: str = "costlab budgets") -> str:
    """JUnit XML: one testcase per (budget, metric), a <failure> in each whose limit is exceeded."""
    failures = sum(not r.ok for r in results)
    root = ET.Element("testsuites", name=suite, tests=str(len(results)), failures=str(failures), errors="0")
    ts = ET.SubElement(root, "testsuite", name=suite, tests=str(len(results)), failures=str(failures),
                       errors="0", skipped="0")
    for r in results:
        case = ET.SubElement(ts, "testcase", classname=r.name, name=r.key)
        detail = f"model: {r.model}\nmetric: {r.metric}\nlimit: {r.limit}\nactual: {r.actual}\nheadroom: {r.headroom}"
        if r.device:
            detail += f"\ndevice: {r.device} (latency predicted by the roofline, in ms)"
        if r.unpriced:
            detail += f"\nunpriced: {r.unpriced_text()}"
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
            staged = stage(Path(junit), junit_xml(results), "JUnit file")
        if summary is not None:
            summary_before = append_undoable(Path(summary), step_summary(results, source) + "\n", "GITHUB_STEP_SUMMARY")
        if staged is not None:
            commit(staged, Path(junit), "JUnit file")
            staged = None
        summary_before = None
    finally:
        if staged is not None:
            staged.unlink(missing_ok=True)
        if summary_before is not None:
            undo_append(Path(summary), summary_before)


def step_summary(results: Sequence[Result], source: str = "") -> str:
    """Markdown for $GITHUB_STEP_SUMMARY: a heading with the verdict and the results table."""
    failed = sum(not r.ok for r in results)
    verdict = f"{failed} of {len(results)} limits exceeded" if failed else f"all {len(results)} limits hold"
    title = f"### costlab budgets{f' ({source})' if source else ''}: {verdict}"
    return f"{title}\n\n{render_results(results, 'markdown')}\n"


def repository_path(path: str) -> str:
    """path relative to the repository root ($GITHUB_WORKSPACE, else the working directory), as annotations need it;
    a path outside it stays as it is."""
    root = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, root)
    except ValueError:  # another drive on Windows
        return path
    return path if relative.startswith("..") else relative.replace(os.sep, "/")


def github_annotations(results: Sequence[Result], source: str = "") -> list[str]:
    """'::error file=...,line=...,title=...::message' workflow commands, one per exceeded limit."""
    source = repository_path(source) if source else ""
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
