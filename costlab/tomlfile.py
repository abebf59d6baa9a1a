"""Reading a user's TOML file (architecture, budget, device profile): one loader, one set of messages.

Every problem is a one-line CostlabError naming the file: missing, a directory, unreadable, not
UTF-8 (TOML files must be UTF-8), or invalid TOML with tomllib's line and column.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import CostlabError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    try:
        import tomli as tomllib  # type: ignore[no-redef]
    except ModuleNotFoundError:
        tomllib = None  # type: ignore[assignment]


def read_text(path: str | os.PathLike, what: str) -> str:
    """The file's text; what ('architecture file', 'budget file', ...) names it in every error."""
    p = Path(path)
    if p.is_dir():
        raise CostlabError(f"{what} {str(p)!r} is a directory, not a TOML file")
    try:
        return p.read_text(encoding="utf-8")
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


def load(path: str | os.PathLike, what: str) -> tuple[dict, str]:
    """(parsed dict, text) of a user's TOML file; the text lets callers find the line of a key."""
    text = read_text(path, what)
    return parse(text, str(path)), text
