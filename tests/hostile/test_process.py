"""The CLI contract against what a model's code may do to the process, run as a real `python -m costlab`: end it
(os._exit, a signal), print on stdout, raise an exception that cannot be shown, and Ctrl-C at any moment.

Whatever happens: exit 0, 1 or 2; on 2 one 'costlab: error:' line and nothing on stdout; stdout holds only
costlab's output; no process left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[2]

MODULE = '''\
import os, signal, sys, time
import torch
from torch import nn

{toplevel}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        {forward}
        return self.conv(x)


class Unshowable(Exception):
    def __str__(self):
        raise RuntimeError("no message")


class Rambling(Exception):
    def __str__(self):
        return "first line " + "x" * 5000 + "\\nsecond line\\n" + "y" * 100000


def make():
    {make}
    return Net()
'''


def module(tmp: Path, toplevel: str = "", forward: str = "pass", make: str = "pass") -> str:
    (tmp / "umod.py").write_text(MODULE.format(toplevel=toplevel, forward=forward, make=make))
    return "umod:make"


def start(tmp: Path, *argv: str, **env_extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "PYTHONDONTWRITEBYTECODE": "1", **env_extra}
    env.pop("COSTLAB_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "costlab", *argv], cwd=tmp, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"costlab did not finish in {timeout} s")
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def costlab(tmp: Path, *argv: str) -> tuple[int, str, str]:
    return finish(start(tmp, *argv))


def one_error_line(code: int, out: str, err: str, *fragments: str) -> str:
    assert code == 2, (code, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("costlab: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


ANALYZE = ("analyze", "umod:make", "--input", "1,3,8,8", "--format", "json")


@pytest.mark.parametrize("where,code,how", [
    ("make", "os._exit(5)", "exit 5"),
    ("forward", "os._exit(5)", "exit 5"),
    ("forward", "os._exit(0)", "exit 0"),
    ("make", "os.kill(os.getpid(), signal.SIGSEGV)", "signal SIGSEGV"),
    ("forward", "os.kill(os.getpid(), signal.SIGKILL)", "signal SIGKILL"),
    ("toplevel", "os.kill(os.getpid(), signal.SIGTERM)", "signal SIGTERM"),
])
def test_model_code_ending_the_process_is_one_line(tmp_path, where, code, how):
    module(tmp_path, **{where: code})
    one_error_line(*costlab(tmp_path, *ANALYZE), f"ended the process ({how})", "umod:make")


def test_model_code_ending_the_process_while_timed(tmp_path):
    module(tmp_path, forward="if x.device.type == 'cpu': os._exit(7)")
    result = costlab(tmp_path, "latency", "umod:make", "--device", "jetson-nano", "--input", "1,3,8,8", "--measure",
                     "--repeats", "1")
    one_error_line(*result, "ended the process (exit 7)", "timing umod:make")


def test_model_code_ending_the_process_in_a_budget(tmp_path):
    module(tmp_path, forward="os._exit(3)")
    (tmp_path / "b.toml").write_text('[[budget]]\nname = "u"\nmodel = "umod:make"\ninput = [1, 3, 8, 8]\n'
                                     'max_macs = "1G"\n')
    one_error_line(*costlab(tmp_path, "check", "b.toml"), "ended the process (exit 3)", "umod:make")


def test_prints_of_model_code_stay_off_stdout(tmp_path):
    module(tmp_path, toplevel="print('at import')", make="print('in make'); sys.stdout.write('raw\\n')",
           forward="print('in forward'); os.write(1, b'fd one\\n')")
    code, out, err = costlab(tmp_path, *ANALYZE)
    assert code == 0, err
    assert json.loads(out)["macs"] == 3 * 8 * 9 * 36
    for text in ("at import", "in make", "raw", "in forward", "fd one"):
        assert text in err


@pytest.mark.parametrize("where", ["make", "forward", "toplevel"])
def test_an_exception_that_cannot_be_shown_is_one_line(tmp_path, where):
    module(tmp_path, **{where: "raise Unshowable()" if where != "toplevel" else "raise ValueError(Unshowable())"})
    line = one_error_line(*costlab(tmp_path, *ANALYZE), "umod")
    assert "internal error" not in line


def test_a_rambling_exception_is_one_short_line(tmp_path):
    module(tmp_path, make="raise Rambling()")
    line = one_error_line(*costlab(tmp_path, *ANALYZE), "umod:make() raised Rambling: first line")
    assert "second line" not in line and len(line) < 400


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


@pytest.mark.parametrize("group", [True, False], ids=["ctrl-c", "sigint-to-costlab-only"])
def test_ctrl_c_while_the_model_runs_kills_it_and_is_one_line(tmp_path, group):
    pid_file = tmp_path / "pid"
    module(tmp_path, forward=f"open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(300)")
    proc = start(tmp_path, *ANALYZE)
    deadline = time.monotonic() + 120
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pid_file.exists(), "the model never ran"
    (os.killpg if group else os.kill)(proc.pid, signal.SIGINT)
    code, out, err = finish(proc, 30)
    assert one_error_line(code, out, err) == "costlab: error: interrupted"
    time.sleep(0.2)
    assert not _alive(int(pid_file.read_text())), "the model's process outlived costlab"


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.5])
def test_ctrl_c_during_startup_imports_is_one_line(tmp_path, delay):
    """Python's own start-up comes first (a signal inside its first milliseconds is the interpreter's); from
    costlab's entry point on, torch's import included, a Ctrl-C is one line and exit 2, even where an import
    swallows the KeyboardInterrupt."""
    module(tmp_path, forward="time.sleep(300)")
    proc = start(tmp_path, *ANALYZE)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    assert one_error_line(*finish(proc, 60)) == "costlab: error: interrupted"


def test_a_fresh_host_calibration_at_two_threads_then_a_timed_model(tmp_path):
    """The calibration runs torch on two threads; done in costlab's own process, it would leave OpenMP threads
    behind that no forked child has, and the child tracing the model would wait for them forever."""
    module(tmp_path)
    proc = start(tmp_path, "latency", "umod:make", "--threads", "2", "--measure", "--repeats", "1", "--input",
                 "1,3,8,8", "--format", "json", COSTLAB_CACHE_DIR=str(tmp_path / "cache"))
    code, out, err = finish(proc, 180)
    assert code == 0, err
    assert json.loads(out)["measured_total_ms"] > 0
