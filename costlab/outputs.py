"""Output files are checked before any work is done, so a bad path never leaves a half-written result."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import CostlabError


def writable_file(path: str | os.PathLike, what: str, via_rename: bool = False) -> Path:
    """path if costlab can write it, else a CostlabError naming it: a directory, a missing or read-only folder,
    a read-only file. via_rename: the file is written beside itself and renamed, so its folder must be writable."""
    p = Path(path)
    if p.is_dir():
        raise CostlabError(f"{what} {str(p)!r} is a directory, not a file")
    if not p.parent.is_dir():
        raise CostlabError(f"{what} directory {str(p.parent)!r} does not exist")
    if p.exists() and not os.access(p, os.W_OK):
        raise CostlabError(f"{what} {str(p)!r} is not writable")
    if (via_rename or not p.exists()) and not os.access(p.parent, os.W_OK):
        raise CostlabError(f"{what} directory {str(p.parent)!r} is not writable")
    return p
