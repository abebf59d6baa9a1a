"""Reading a user's TOML file (architecture, budget, device profile): one loader, one set of messages.

Every problem is a one-line CostlabError naming the file: missing, a directory, unreadable, not
UTF-8 (TOML files must be UTF-8), or invalid TOML with tomllib's line and column.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional

from ..core.checks import MAX_FILE_BYTES
from ..errors import CostlabError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    try:
        import tomli as tomllib  # type: ignore[no-redef]
    except ModuleNotFoundError:
        tomllib = None  # type: ignore[assignment]


FILES_READ: list[Path] = []  # every file read this run: an output may never be written over one (io.files.not_an_input)


def read_text(path: str | os.PathLike, what: str) -> str:
    """The file's text; what ('architecture file', 'budget file', ...) names it in every error; the path joins
    FILES_READ."""
    p = Path(path)
    FILES_READ.append(p)
    if p.is_dir():
        raise CostlabError(f"{what} {str(p)!r} is a directory, not a TOML file")
    if p.exists() and not p.is_file():  # opening a FIFO waits for a writer; a device may never end
        raise CostlabError(f"{what} {str(p)!r} is not a regular file (a FIFO, socket or device), not a TOML file")
    try:
        with p.open("rb") as f:  # read at most one byte past the limit: a FIFO or /dev/zero has no size to check first
            data = f.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise CostlabError(f"{what} {str(p)!r} is larger than {MAX_FILE_BYTES:,} bytes; no TOML file "
                               f"costlab reads needs to be")
        return data.decode("utf-8-sig")  # a byte-order mark some editors write is not TOML
    except FileNotFoundError:
        raise CostlabError(f"{what} {str(p)!r} not found") from None
    except UnicodeDecodeError as exc:
        raise CostlabError(f"{what} {str(p)!r} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} "
                           f"at offset {exc.start}); TOML files must be UTF-8") from None
    except OSError as exc:
        raise CostlabError(f"cannot read {what} {str(p)!r}: {exc.strerror or exc}") from None


def parse(text: str, source: str) -> dict:
    """TOML text as a dict; a syntax error names source with tomllib's '(at line L, column C)'."""
    if tomllib is None:
        raise CostlabError("reading TOML files needs Python >= 3.11 (tomllib) or the tomli package")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CostlabError(f"{source}: invalid TOML: {exc}") from None
    except RecursionError:
        raise CostlabError(f"{source}: invalid TOML: arrays or tables nested too deeply to read") from None


def load(path: str | os.PathLike, what: str) -> tuple[dict, str]:
    """(parsed dict, text) of a user's TOML file; the text lets callers find the line of a key."""
    text = read_text(path, what)
    return parse(text, str(path)), text


_HEADER = re.compile(r"\s*\[\[\s*([\w.]+)\s*\]\]|\s*\[\s*([\w.]+)\s*\]")


def header_lines(text: str, table: str) -> list[int]:
    """1-based lines of every [table] / [[table]] header, in order."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _HEADER.match(line)
        if match and (match.group(1) or match.group(2)) == table:
            out.append(number)
    return out


def key_line(text: str, table: str, index: Optional[int], key: Optional[str]) -> Optional[int]:
    """1-based line of `key = ...` inside the index-th [[table]] ([table] when index is None; the top level when
    table is ''), or of that table's header when key is None; None when it is not written in the file."""
    current, counts, seen_index = "", {}, None
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            current = header.group(1) or header.group(2)
            counts[current] = counts.get(current, -1) + 1
            seen_index = counts[current]
            if key is None and current == table and (index is None or index == seen_index):
                return number
            continue
        if current == table and (index is None or index == seen_index) and key is not None:
            if re.match(rf'\s*"?{re.escape(key)}"?\s*=', line):
                return number
    return None
