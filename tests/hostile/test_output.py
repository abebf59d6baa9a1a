"""Output that cannot be written: a full disk under an output file or under stdout, a closed stdout or stderr, a
reader that went away, and report trees whose targets cannot be files. Exit 0/1/2 per the contract, one line, no
traceback, nothing half-written, no temporary file left."""

from __future__ import annotations

import errno
import io
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conftest import one_line_exit_2  # noqa: E402

from costlab.errors import CostlabError  # noqa: E402
from costlab.io import files  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


class _FullDisk(io.BytesIO):
    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def full_disk(monkeypatch):
    """Every file costlab.io.files opens takes no byte: writes raise OSError(ENOSPC), as on a full disk."""
    real_open = open

    def fake_open(path, mode="r", *args, **kw):
        if "x" in mode or "w" in mode:
            real_open(path, mode, *args, **kw).close()  # the file exists, as after a failed write
            return _FullDisk()
        return real_open(path, mode, *args, **kw)

    monkeypatch.setattr(files, "open", fake_open, raising=False)


def _listing(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None) for p in root.rglob("*")}


def test_full_disk_keeps_the_old_file_and_leaves_no_temporary(tmp_path, full_disk):
    target = tmp_path / "out.png"
    target.write_text("old")
    with pytest.raises(CostlabError, match="out.png.*No space left on device"):
        files.write_whole(target, b"new", "--chart")
    assert _listing(tmp_path) == {"out.png": b"old"}


def test_full_disk_while_writing_a_tree_writes_nothing(tmp_path, full_disk):
    out = tmp_path / "r"
    out.mkdir()
    (out / "keep.md").write_text("keep")
    with pytest.raises(CostlabError, match="No space left on device"):
        files.write_tree(out, {"a.md": b"a", "charts/b.png": b"b"}, "report file")
    assert _listing(tmp_path) == {"r": None, "r/keep.md": b"keep"}


def test_full_disk_under_a_chart_is_one_line(tmp_path, full_disk, run):
    result = run("compare", "conv", "--cin", "3", "--cout", "8", "--size", "8", "--chart", str(tmp_path / "c.png"))
    one_line_exit_2(result, "c.png", "No space left on device")
    assert _listing(tmp_path) == {}


@pytest.mark.parametrize("make,fragment", [
    (lambda out: (out / "charts" / "b.png").mkdir(parents=True), "b.png"),
    (lambda out: (out / "charts").mkdir() or os.mkfifo(out / "charts" / "b.png"), "b.png"),
    (lambda out: (out / "charts").write_text("x"), "charts"),
    (lambda out: (out / "a.md").symlink_to("charts"), "a.md"),
], ids=["directory", "fifo", "under-a-file", "symlink-to-directory"])
def test_a_tree_with_a_target_that_cannot_be_a_file_writes_nothing(tmp_path, make, fragment):
    out = tmp_path / "r"
    out.mkdir()
    make(out)
    before = {p.relative_to(tmp_path).as_posix(): p.is_fifo() for p in tmp_path.rglob("*")}
    with pytest.raises(CostlabError, match=fragment):
        files.write_tree(out, {"a.md": b"a", "charts/b.png": b"b", "z.md": b"z"}, "report file")
    assert {p.relative_to(tmp_path).as_posix(): p.is_fifo() for p in tmp_path.rglob("*")} == before


def test_a_tree_target_ending_in_a_slash_is_refused(tmp_path):
    with pytest.raises(CostlabError, match="ends in '/'"):
        files.write_tree(tmp_path / "r", {"a.md": b"a", "b/": b"b"}, "report file")
    assert _listing(tmp_path) == {}


def test_report_over_a_fifo_leaves_it_and_writes_nothing(tmp_path, run):
    out = tmp_path / "r"
    (out / "charts").mkdir(parents=True)
    os.mkfifo(out / "charts" / "mobilenet_v1-stages.png")
    result = run("report", "mobilenet_v1", "--no-crosscheck", "--out", str(out))
    one_line_exit_2(result, "mobilenet_v1-stages.png")
    assert sorted(p.name for p in out.rglob("*")) == ["charts", "mobilenet_v1-stages.png"]
    assert (out / "charts" / "mobilenet_v1-stages.png").is_fifo()


# --- the standard streams, in a real process ------------------------------------------------------------------------

def _costlab(*argv: str, stdout=subprocess.PIPE, stderr=subprocess.PIPE, fsize=None, close_stdout=False):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}

    def limit():
        if close_stdout:
            os.close(1)
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return subprocess.run([sys.executable, "-m", "costlab", *argv], stdin=subprocess.DEVNULL, stdout=stdout,
                          stderr=stderr, preexec_fn=limit, timeout=60, cwd=REPO, env=env)


BIG = ("arch", "efficientnet_b7", "--format", "csv")


def _one_line(stderr: bytes, *fragments: str) -> None:
    lines = stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("costlab: error: "), lines
    for fragment in fragments:
        assert fragment in lines[0]


def test_stdout_on_a_full_disk_is_one_line(tmp_path):
    """No byte fits (a limit of 0): a write that fits in part is a short write, whose rest CPython's text layer drops
    without an error, so that case cannot be seen from Python."""
    with open(tmp_path / "out.csv", "wb") as out:
        proc = _costlab(*BIG, stdout=out, fsize=0)
    assert proc.returncode == 2
    _one_line(proc.stderr, "cannot write the output")


def test_stdout_closed_is_one_line():
    proc = _costlab(*BIG, close_stdout=True)
    assert proc.returncode == 2
    _one_line(proc.stderr, "cannot write the output", "closed")


def test_reader_gone_is_exit_0_and_silent():
    proc = subprocess.Popen([sys.executable, "-m", "costlab", *BIG], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=REPO)
    proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


def test_stderr_on_a_full_disk_keeps_exit_2(tmp_path):
    with open(tmp_path / "err.txt", "wb") as err:
        proc = _costlab("compare", "conv", "--cin", "0", "--cout", "8", stderr=err, fsize=1)
    assert proc.returncode == 2
    assert proc.stdout == b""
