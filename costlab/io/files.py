"""Writing files whole or not at all. Output paths are checked before any work is done, every file is staged
beside its target and renamed into place, and a failure removes what was staged and the folders it created."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence, Union

from ..errors import CostlabError

Data = Union[bytes, str]


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def writable_file(path: str | os.PathLike, what: str, via_rename: bool = False) -> Path:
    """The file costlab will write for path, checked before any work: a symlink is followed (the link stays, its
    target gets the content); a directory, a FIFO, a device, a missing or read-only folder or a read-only file is
    a CostlabError naming it. via_rename: written beside itself and renamed, so its folder must be writable."""
    given = Path(path)
    p = Path(os.path.realpath(given))
    if p.is_dir():
        raise CostlabError(f"{what} {str(given)!r} is a directory, not a file")
    if p.exists() and not p.is_file():
        raise CostlabError(f"{what} {str(given)!r} is not a regular file (a FIFO, device or socket); give a file path")
    if not p.parent.is_dir():
        raise CostlabError(f"{what} directory {str(given.parent)!r} does not exist")
    if p.exists() and not os.access(p, os.W_OK):
        raise CostlabError(f"{what} {str(given)!r} is not writable")
    if (via_rename or not p.exists()) and not os.access(p.parent, os.W_OK):
        raise CostlabError(f"{what} directory {str(given.parent)!r} is not writable")
    return given


def not_an_input(output: Path, inputs: Sequence[str | os.PathLike], what: str) -> Path:
    """Refuse an output target that is one of the command's input files (the budget file as --junit, ...)."""
    for source in inputs:
        try:  # one path spelled two ways, or (a link) one file under two paths, even before either exists
            same = Path(output).resolve() == Path(source).resolve() or (
                output.exists() and os.path.samefile(output, source))
        except OSError:
            same = False
        if same:
            raise CostlabError(f"{what} {str(output)!r} is the file {str(source)!r} this run reads or writes; "
                               f"writing it would replace it")
    return output


def writable_dir(path: str | os.PathLike, what: str, subdirs: tuple[str, ...] = ()) -> Path:
    """A directory costlab can write into (with its subdirs), tried for real: what is missing is created, a scratch
    file written in each, then everything created here removed again (os.access says yes to root even on /proc)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise CostlabError(f"{what} {str(path)!r} exists and is not a directory")
    for sub in subdirs:
        if (p / sub).exists() and not (p / sub).is_dir():
            raise CostlabError(f"{what} {str(path)!r}: {str(p / sub)!r} is not a directory")
    created: list[Path] = []
    try:
        for d in (p, *(p / sub for sub in subdirs)):
            created += _make_dirs(d)
            tempfile.TemporaryFile(dir=d).close()
    except OSError as exc:
        raise CostlabError(f"{what} {str(path)!r} is not writable ({_reason(exc)})") from None
    finally:
        _remove_dirs(created)
    return p


def _make_dirs(d: Path) -> list[Path]:
    """Create d and its missing parents; return the ones created, outermost first."""
    missing = []
    probe = d
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    made = []
    for m in reversed(missing):
        m.mkdir()
        made.append(m)
    return made


def _remove_dirs(dirs: list[Path]) -> None:
    for d in reversed(dirs):
        try:
            d.rmdir()
        except OSError:
            pass


def _target(path: Path) -> Path:
    """Where the bytes go: through a symlink to the file it names, so the link stays a link."""
    return Path(os.path.realpath(path))


def stage(path: Path, data: Data, what: str) -> Path:
    """Write data to a new temporary file beside path's target (so a rename puts it in place atomically); return it."""
    target = _target(Path(path))
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
    except OSError as exc:
        if not isinstance(exc, FileExistsError):
            tmp.unlink(missing_ok=True)
        raise CostlabError(f"cannot write {what} {str(path)!r}: {_reason(exc)}") from None
    return tmp


def commit(tmp: Path, path: Path, what: str) -> None:
    """Rename a staged file into place."""
    try:
        os.replace(tmp, _target(Path(path)))
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CostlabError(f"cannot write {what} {str(path)!r}: {_reason(exc)}") from None


def write_whole(path: str | os.PathLike, data: Data, what: str) -> Path:
    """Write one file all at once: staged beside it, then renamed into place."""
    target = Path(path)
    commit(stage(target, data, what), target, what)
    return target


def check_tree(out: Path, files: dict[str, bytes], what: str) -> None:
    """Refuse, before anything is written, a tree whose any target cannot be a file: a directory, a FIFO or device,
    a name ending in '/', or a path under something that is not a directory; the error names that path."""
    for rel in sorted(files):
        target = Path(out) / rel
        if rel.endswith(("/", os.sep)) or not Path(rel).name:
            raise CostlabError(f"{what} {str(target)!r} names a directory (it ends in '/'), not a file")
        probe = target.parent
        while not os.path.lexists(probe) and probe != probe.parent:
            probe = probe.parent
        if not os.path.isdir(probe):
            raise CostlabError(f"cannot write {what} {str(target)!r}: {str(probe)!r} is not a directory")
        if os.path.lexists(target):
            writable_file(target, what, via_rename=True)


def write_tree(out: Path, files: dict[str, bytes], what: str) -> list[Path]:
    """Write every file under out, all or nothing: every target checked first (check_tree), then each staged
    (creating folders as needed), then all renamed. A failure while staging removes every staged file and every
    folder created."""
    check_tree(out, files, what)
    created: list[Path] = []
    staged: list[tuple[Path, Path]] = []
    try:
        for rel, data in sorted(files.items()):
            target = out / rel
            try:
                created += _make_dirs(target.parent)
            except OSError as exc:
                raise CostlabError(f"cannot write {what} {str(target.parent)!r}: {_reason(exc)}") from None
            staged.append((stage(target, data, what), target))
        for tmp, target in staged:
            commit(tmp, target, what)
        staged = []
        created = []
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        _remove_dirs(created)
    return [target for target in (out / rel for rel in sorted(files))]


def append_undoable(path: Path, text: str, what: str) -> int:
    """Append text to path; return its size before (-1 if it did not exist), for undo_append."""
    before = os.path.getsize(path) if os.path.isfile(path) else -1
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        undo_append(path, before)
        raise CostlabError(f"cannot append to {what} {str(path)!r}: {_reason(exc)}") from None
    return before


def undo_append(path: Path, size: int) -> None:
    """Cut path back to size bytes, or remove it if it did not exist (size -1); best effort."""
    try:
        if size < 0:
            path.unlink(missing_ok=True)
        elif path.is_file():
            os.truncate(path, size)
    except OSError:
        pass
