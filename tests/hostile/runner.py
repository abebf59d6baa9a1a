"""Running a costlab command line for the hostile corpus and the fuzz tests, and checking the CLI contract.

In-process runs go through click's CliRunner with a SIGALRM time limit; subprocess runs use the installed `costlab`
script (resource limits, user code that exits or interrupts, a closed stdout).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import signal
import stat
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from cases import Case, Dir, Fifo, ReadOnlyDir, Symlink

LAUNCH_CWD = Path.cwd()
OUTPUT_SUFFIXES = (".png", ".svg", ".xml", ".tmp", ".md")
IGNORED_PARTS = ("__pycache__",)


class CaseTimeout(BaseException):
    """Raised by SIGALRM inside an in-process case (a BaseException, so neither click nor costlab swallows it)."""


@dataclass
class Outcome:
    exit_code: Optional[int]
    stdout: str
    stderr: str
    uncaught: str = ""      # an exception that escaped the CLI in-process (would be a traceback in a real run)
    timed_out: bool = False


# --- the temporary folder ------------------------------------------------------------------------------------------

def fill(case: Case, tmp: Path) -> list[Path]:
    """Create the case's files in tmp; return the read-only folders (made read-only last)."""
    readonly = []
    for rel, spec in case.files.items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(spec, Symlink):
            os.symlink(spec.target, path)
        elif isinstance(spec, Fifo):
            os.mkfifo(path)
        elif isinstance(spec, Dir):
            path.mkdir(exist_ok=True)
        elif isinstance(spec, ReadOnlyDir):
            path.mkdir(exist_ok=True)
            readonly.append(path)
        elif isinstance(spec, bytes):
            path.write_bytes(spec.replace(b"{tmp}", os.fsencode(tmp)))
        else:
            path.write_bytes(spec.replace("{tmp}", str(tmp)).encode("utf-8"))
    for path in readonly:
        path.chmod(0o555)
    return readonly


def readonly_is_enforced(tmp: Path) -> bool:
    """A real write probe: root (and some file systems) ignore chmod 0o555."""
    probe = tmp / ".ro-probe"
    probe.mkdir()
    probe.chmod(0o555)
    try:
        (probe / "x").write_text("x")
    except OSError:
        return True
    else:
        (probe / "x").unlink()
        return False
    finally:
        probe.chmod(0o755)
        probe.rmdir()


def _entry(path: Path):
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISFIFO(st.st_mode):
        return ("fifo", None)
    if stat.S_ISDIR(st.st_mode):
        return ("dir", None)
    if stat.S_ISREG(st.st_mode):
        return ("file", hashlib.sha256(path.read_bytes()).hexdigest())
    return ("other", None)


def snapshot(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if d not in IGNORED_PARTS]
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            out[path.relative_to(root).as_posix()] = _entry(path)
    return out


def launch_cwd_outputs() -> set:
    try:
        return {n for n in os.listdir(LAUNCH_CWD) if n.endswith(OUTPUT_SUFFIXES)}
    except OSError:
        return set()


def _allowed(rel: str, patterns: tuple) -> bool:
    return any(fnmatch.fnmatchcase(rel, p) or p.startswith(rel + "/") for p in patterns)


# --- running --------------------------------------------------------------------------------------------------------

def subst(value, tmp: Path):
    if isinstance(value, bytes):
        return value.replace(b"{tmp}", os.fsencode(tmp))
    return value.replace("{tmp}", str(tmp))


def _alarm(signum, frame):
    raise CaseTimeout()


def run_inprocess(case: Case, tmp: Path, argv: list, env: dict) -> Outcome:
    return invoke(argv, env, tmp, case.limit)


def invoke(argv: list, env: dict, cwd: Path, limit: float) -> Outcome:
    """costlab argv in this process (CliRunner), in cwd, with env set, stopped after limit seconds."""
    from click.testing import CliRunner

    from costlab.cli import main

    old_cwd = os.getcwd()
    old_handler = signal.signal(signal.SIGALRM, _alarm)
    os.chdir(cwd)
    result = None
    try:
        signal.setitimer(signal.ITIMER_REAL, limit)
        result = CliRunner().invoke(main, argv, env=env, catch_exceptions=True)
    except CaseTimeout:
        return Outcome(None, "", "", timed_out=True)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        os.chdir(old_cwd)
    uncaught = ""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        uncaught = "".join(traceback.format_exception(*result.exc_info))
    return Outcome(result.exit_code, result.stdout, result.stderr, uncaught)


def costlab_command() -> list:
    script = Path(sys.executable).with_name("costlab")
    return [str(script)] if script.exists() else [sys.executable, "-m", "costlab"]


def run_subprocess(case: Case, tmp: Path, argv: list, env: dict) -> Outcome:
    full_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **env}
    fsize = case.fsize

    def preexec():
        if fsize is not None:
            import resource
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    stdout_target = subprocess.PIPE
    closed_write = None
    if case.stdout_closed:
        read_end, closed_write = os.pipe()
        os.close(read_end)
        stdout_target = closed_write
    proc = subprocess.Popen(costlab_command() + argv, cwd=tmp, env=full_env, stdin=subprocess.DEVNULL,
                            stdout=stdout_target, stderr=subprocess.PIPE, preexec_fn=preexec, start_new_session=True)
    if closed_write is not None:
        os.close(closed_write)
    try:
        out, err = proc.communicate(timeout=case.limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Outcome(None, "", "", timed_out=True)
    return Outcome(proc.returncode, (out or b"").decode("utf-8", "replace"), err.decode("utf-8", "replace"))


# --- the contract ---------------------------------------------------------------------------------------------------

def _has(line: str, fragment) -> bool:
    if isinstance(fragment, tuple):
        return any(f in line for f in fragment)
    return fragment in line


def contract_problems(case: Case, o: Outcome, tmp: Path, before: dict, after: dict) -> list[str]:
    problems = []
    if o.timed_out:
        return [f"timed out after {case.limit:g} s"]
    if o.uncaught:
        last = o.uncaught.strip().splitlines()[-1]
        problems.append(f"uncaught exception (a traceback in a real run): {last}")
    if "Traceback" in o.stderr:
        problems.append("'Traceback' on stderr")
    if o.exit_code not in case.exits:
        problems.append(f"exit {o.exit_code}, expected {'/'.join(map(str, sorted(case.exits)))}")
    lines = o.stderr.strip().splitlines()
    if o.exit_code == 2:
        if o.stdout.strip():
            problems.append(f"stdout not empty on exit 2: {o.stdout.strip().splitlines()[0][:120]!r}")
        if len(lines) != 1 or not lines[0].startswith("costlab: error: "):
            problems.append(f"stderr is not exactly one 'costlab: error:' line ({len(lines)} lines)")
        error_lines = [line for line in lines if line.startswith("costlab: error: ")] or lines[:1] or [""]
        line = error_lines[0]
        if "internal error" in line:
            problems.append("costlab's catch-all 'internal error' fired (a bug, not a message naming the bad input)")
        for fragment in case.fragments:
            if not _has(line, fragment):
                problems.append(f"error line lacks {fragment!r}")
        for fragment in case.absent:
            if fragment in line:
                problems.append(f"error line contains {fragment!r}")
    elif o.exit_code in (0, 1) and o.exit_code in case.exits:
        for fragment in case.stdout_has:
            if fragment not in o.stdout:
                problems.append(f"stdout lacks {fragment!r}")
        for fragment in case.stderr_has:
            if fragment not in o.stderr:
                problems.append(f"stderr lacks {fragment!r}")
        if case.stderr_empty and o.exit_code == 0 and o.stderr.strip():
            problems.append(f"stderr not empty on success: {lines[0][:120]!r}")
        if any(line.startswith("costlab: error: ") for line in lines):
            problems.append("a 'costlab: error:' line on a run that did not exit 2")
    # files
    for rel, entry in before.items():
        now = after.get(rel)
        if now is None:
            problems.append(f"{rel} ({entry[0]}) was removed")
        elif now[0] != entry[0]:
            problems.append(f"{rel} was a {entry[0]} and is now a {now[0]}")
        elif now != entry and (o.exit_code == 2 or not _allowed(rel, case.allow)):
            problems.append(f"{rel} was changed")
    for rel in sorted(set(after) - set(before)):
        if o.exit_code == 2 or not _allowed(rel, case.allow):
            problems.append(f"left behind: {rel}")
    return problems


def first_stderr_line(o: Outcome) -> str:
    lines = o.stderr.strip().splitlines()
    if o.uncaught:
        return o.uncaught.strip().splitlines()[-1]
    if not lines:
        return "(stderr empty)"
    tb = [line for line in lines if not line.startswith(" ")]
    return (lines[0] if not lines[0].startswith("Traceback") else tb[-1])[:240]


def basic_problems(o: Outcome, exits=frozenset({0, 2})) -> list[str]:
    """The contract without files or fragments: allowed exit, no traceback, on exit 2 one error line and no stdout."""
    if o.timed_out:
        return ["timed out"]
    problems = []
    if o.uncaught:
        problems.append(f"uncaught exception: {o.uncaught.strip().splitlines()[-1]}")
    if "Traceback" in o.stderr:
        problems.append("'Traceback' on stderr")
    if o.exit_code not in exits:
        problems.append(f"exit {o.exit_code}, expected one of {sorted(exits)}")
    if o.exit_code == 2:
        lines = o.stderr.strip().splitlines()
        if len(lines) != 1 or not lines[0].startswith("costlab: error: "):
            problems.append(f"stderr is not exactly one 'costlab: error:' line ({len(lines)} lines)")
        elif "internal error" in lines[0]:
            problems.append("costlab's catch-all 'internal error' fired")
        if o.stdout.strip():
            problems.append("stdout not empty on exit 2")
    return problems
