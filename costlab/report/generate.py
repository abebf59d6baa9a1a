"""`costlab report`: validate everything, render every file in memory, then write them all or nothing."""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path
from typing import Callable, Optional, Sequence

from ..core.conventions import DEFAULT_CONVENTION, get_convention
from ..errors import CostlabError, require
from ..io.files import write_tree, writable_dir
from .index import index_files
from .markdown import CHART_DIR
from .model import model_files

def builtin_models() -> list[str]:
    """Every built-in architecture, in the registry's order (families together, as costlab/nets/tables/ lists them)."""
    from ..nets.registry import list_archs

    return [a.name for a in list_archs()]


def check_names(names: Sequence[str]) -> list[str]:
    """Validate every name before any work: built-in architectures only, each once."""
    from ..nets.registry import get_arch, list_archs

    require(len(names) > 0, "give at least one architecture NAME, or --all")
    known = {a.name for a in list_archs()}
    for name in names:
        if name not in known:
            get_arch(name)  # raises the one-line 'unknown architecture ... did you mean' error
            raise CostlabError(f"costlab report takes built-in architecture names, got {name!r}")
    return list(dict.fromkeys(names))


def generate(names: Sequence[str], out: str | os.PathLike, index: bool = False, convention: str = DEFAULT_CONVENTION,
             crosscheck: bool = True, progress: Optional[Callable] = None) -> list[Path]:
    """Validate everything, render every file in memory, then write them under out; returns the paths written."""
    get_convention(convention)
    names = check_names(names)
    out_dir = writable_dir(out, "--out", (CHART_DIR,))
    files: dict[str, bytes] = {}
    summaries = []
    index_link = index or (out_dir / "README.md").is_file()  # link the index only where there is one
    iterate = progress(names) if progress else nullcontext(names)
    with iterate as items:
        for name in items:
            model, summary = model_files(name, convention, crosscheck, index_link)
            files.update(model)
            summaries.append(summary)
    if index:
        files.update(index_files(summaries, convention))
    return write_tree(out_dir, files, "report file")
