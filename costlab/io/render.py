"""Output: table, CSV, JSON and Markdown. The only place numbers are humanised (6.91K, 569.0M)."""

from __future__ import annotations

import csv
import io
import json
import math
from decimal import Decimal
from typing import Any, Iterable, Optional, Sequence

FORMATS = ("table", "csv", "json", "markdown")


UNITS = ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K"))


def humanize(n: int | float) -> str:
    """Short SI form for reading: 6912 -> '6.91K', 569_000_000 -> '569.0M'; past 1000E, '1.23e+24'."""
    if isinstance(n, int) and abs(n) >= 10 ** 21:
        return f"{Decimal(n):.3g}"  # exact: no float conversion, which overflows past 1e308
    value = float(n)
    if not math.isfinite(value) or abs(value) >= 1e21:
        return f"{value:.3g}"
    if abs(value) >= 1000:
        for limit, suffix in UNITS:  # the largest unit the value rounds to at least 1 of: 999,999 is 1.00M
            scaled = value / limit
            text = f"{scaled:.2f}" if abs(scaled) < 10 else f"{scaled:.1f}"
            if 1 <= abs(float(text)) < 1000:
                return text + suffix
    return str(int(n)) if float(n).is_integer() else f"{value:.3g}"


def grouped_int(n: int) -> str:
    """Exact integer with thousands separators: 346816512 -> '346,816,512'."""
    return f"{n:,}"


def percent(x: float) -> str:
    """A share as a percentage with one decimal: 0.9486 -> '94.9%'."""
    return f"{100 * x:.1f}%"


def share(x: float) -> str:
    """percent(), except that a nonzero share that would print as 0.0% is '<0.1%'."""
    return "<0.1%" if 0 < x < 0.0005 else percent(x)


def dims_text(dims) -> str:
    """A shape as 'CxHxW' from a list or tuple of dims (a costlab Shape prints itself the same way)."""
    return "x".join(str(d) for d in dims)


def counts_text(counts: dict) -> str:
    """'silu x49, add x9' (most frequent first, then by name) or 'none': uncounted ops and the like."""
    if not counts:
        return "none"
    return ", ".join(f"{name} x{n}" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def to_json(data: Any) -> str:
    """JSON with exact integers; floats as Python prints them."""
    return json.dumps(data, indent=2)


def to_csv(rows: Sequence[dict], columns: Optional[Sequence[str]] = None) -> str:
    # every key any row has, in first-seen order: later rows may carry columns the first lacks
    columns = list(columns or dict.fromkeys(key for row in rows for key in row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(row.get(k)) for k in columns})
    return buf.getvalue()


def _csv_cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return dims_text(value)
    return value


def to_table(rows: Sequence[dict], columns: Sequence[str], headers: Optional[Sequence[str]] = None,
             markdown: bool = False, align: Optional[Sequence[str]] = None) -> str:
    """A plain-text (or GitHub Markdown) table of already formatted cells."""
    from tabulate import tabulate  # light, but only the table formats need it

    body = [[row.get(c, "") for c in columns] for row in rows]
    return tabulate(body, headers=list(headers or columns), tablefmt="github" if markdown else "simple",
                    disable_numparse=True, colalign=align)


def emit(fmt: str, rows: Sequence[dict], display: Iterable[tuple[str, str, Any]], json_data: Any = None,
         footer: str = "", align: Optional[Sequence[str]] = None) -> str:
    """Render rows: display is (key, header, formatter) triples for table/markdown (first column left-aligned, the
    rest right-aligned unless align says otherwise); csv and json carry the raw values."""
    display = list(display)
    if fmt == "json":
        return to_json(rows if json_data is None else json_data)
    if fmt == "csv":
        return to_csv(rows).rstrip("\n")
    formatted = [{key: (fn(row[key]) if fn else row[key]) for key, _, fn in display} for row in rows]
    align = list(align) if align else ["left"] + ["right"] * (len(display) - 1)
    text = to_table(formatted, [k for k, _, _ in display], [h for _, h, _ in display], fmt == "markdown", align)
    return text + ("\n\n" + footer if footer else "")
