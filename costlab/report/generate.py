"""`costlab report`: validate everything, render every file in memory, then write them all or nothing."""

from __future__ import annotations

import os
import re
import shlex
from contextlib import nullcontext
from pathlib import Path
from typing import Callable, Optional, Sequence

from ..core.conventions import DEFAULT_CONVENTION, get_convention
from ..errors import CostlabError, require
from ..io.files import write_tree, writable_dir
from .index import index_files
from .markdown import CHART_DIR
from .model import model_files

FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}")


def builtin_models() -> list[str]:
    """Every built-in architecture, in the registry's order (families together, as costlab/nets/tables/ lists them)."""
    from ..nets.registry import list_archs

    return [a.name for a in list_archs()]


def check_names(names: Sequence[str]) -> list[str]:
    """Validate every name before any work: built-in architectures or architecture .toml files, each once, no two
    that would write the same report (a file's report is filed under the name the architecture gives itself)."""
    from ..nets.registry import get_arch

    require(len(names) > 0, "give at least one architecture NAME, or --all")
    builtins = builtin_models()
    builtin = {n.lower() for n in builtins}
    filed: dict[str, str] = {}  # file name, lower-cased (a case-insensitive checkout) -> the input that writes it
    for name in dict.fromkeys(names):
        arch = get_arch(name)  # the one-line 'unknown architecture ... did you mean' or TOML error
        key = arch.name.lower()
        if name not in builtins:  # a file's own name becomes file names in --out: none that leaves it or clobbers
            if not FILE_NAME.fullmatch(arch.name) or key == "readme":
                raise CostlabError(f"{name}: name {arch.name!r} cannot name a report file; use up to 100 letters, "
                                   f"digits, '_', '-' or '.', starting with a letter or digit (not 'README')")
            if key in builtin:
                raise CostlabError(f"{name}: name {arch.name!r} is a built-in architecture's (in any case), whose "
                                   f"report it would replace; give the file a name of its own")
        if key in filed:
            raise CostlabError(f"{filed[key]} and {name} would both write {arch.name}.md (names compared in any "
                               f"case); pass one of them, or rename one")
        filed[key] = name
    return list(filed.values())


def command_for(name: Optional[str], convention: str, crosscheck: bool) -> str:
    """The command that writes a report as it is: `costlab report --all`, or for one model its name and the options
    that change it."""
    words = ["costlab report", "--all" if name is None else shlex.quote(name)]
    if convention != DEFAULT_CONVENTION:
        words.append(f"--convention {convention}")
    if not crosscheck:
        words.append("--no-crosscheck")
    return " ".join(words)


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
            model, summary = model_files(name, convention, crosscheck, index_link,
                                         command_for(None if index else name, convention, crosscheck))
            files.update(model)
            summaries.append(summary)
    if index:
        files.update(index_files(summaries, convention))
    return write_tree(out_dir, files, "report file")
