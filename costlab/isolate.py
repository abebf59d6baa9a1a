"""Running user model code (import, build, trace, time) in a forked child, so nothing it does reaches costlab's own
process: os._exit, a signal, a segfault in an extension, a print on stdout.

The command line turns isolation on (`isolation()`); the Python API runs in-process, as a library should. The
child is forked after torch is imported (it never imports torch again), its stdout goes to stderr (costlab's table
or JSON stays clean), and it sends back the picklable result, or the error, through a pipe. Ended by an exit or a
signal, it becomes one CostlabError naming what was running. Anything interrupting the parent while it waits (Ctrl-C,
a time limit) kills the child first.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import sys
import traceback
from contextlib import contextmanager
from typing import Any, Callable

from . import interrupt
from .errors import CostlabError, describe

_HEADER = struct.Struct("<Q")
_state = {"on": False, "child": False}


@contextmanager
def isolation(on: bool = True):
    """Within this block, run_isolated forks (it runs in-process outside it, and inside a child already forked)."""
    before = _state["on"]
    _state["on"] = on
    try:
        yield
    finally:
        _state["on"] = before


def run_isolated(what: str, fn: Callable[..., Any], *args: Any, culprit: str = "the model's code") -> Any:
    """fn(*args) in a forked child when isolation is on, else here; what ('loading and tracing m:make') and culprit
    name it in the error when the child ends without an answer.

    No child may start after costlab's own process ran torch on more than one thread: a fork copies none of
    OpenMP's threads, and the child's first parallel op waits for them forever."""
    if not _state["on"] or _state["child"]:
        return fn(*args)
    try:
        import torch  # noqa: F401 - imported once here, so no child imports it again
    except ImportError:
        pass
    interrupt.check()  # torch's import may have swallowed a Ctrl-C; it still stops the run here
    for stream in (sys.stdout, sys.stderr):  # else text buffered here would be written again by the child
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):  # closed, or None (started without it)
            pass
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _own_group()
        _child(write_fd, fn, args)
    _own_group(pid)  # both sides set it, so it holds before either goes on
    os.close(write_fd)
    try:
        payload, status = _collect(pid, read_fd)
    except BaseException:
        _kill(pid)
        raise
    finally:
        os.close(read_fd)
        _kill_group(pid)  # what the model's code forked is ended with it: nothing outlives costlab or holds a pipe
    if payload is None:
        raise CostlabError(f"{culprit} ended the process ({_how(status)}) while {what}")
    kind, value = pickle.loads(payload)
    if kind == "ok":
        return value
    raise value


def _child(write_fd: int, fn: Callable[..., Any], args: tuple) -> None:
    """Runs in the child: never returns (os._exit), so no parent's atexit, finally or buffered output runs twice."""
    _state["child"] = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it kills this process
    _die_with_parent()
    try:
        _stdout_to_stderr()
        try:
            message: tuple = ("ok", fn(*args))
        except CostlabError as exc:
            message = ("error", CostlabError(str(exc)))
        except BaseException as exc:  # noqa: BLE001 - a costlab bug here is still reported by the parent
            if os.environ.get("COSTLAB_DEBUG"):
                traceback.print_exc()
            message = ("error", _portable(exc))
        try:
            data = pickle.dumps(message)
        except Exception as exc:  # noqa: BLE001 - a result that does not pickle is a costlab bug
            data = pickle.dumps(("error", RuntimeError(f"result of {getattr(fn, '__name__', fn)} does not pickle: "
                                                       f"{describe(exc)}")))
        try:  # before the answer: once it is sent, the parent may kill this process
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001 - user code may have closed or replaced stderr
            pass
        _write_all(write_fd, _HEADER.pack(len(data)) + data)
    finally:
        os._exit(0)


def _stdout_to_stderr() -> None:
    try:
        os.dup2(2, 1)
    except OSError:  # no stderr either: the model's prints go nowhere
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    sys.stdout = sys.stderr


def _portable(exc: BaseException) -> BaseException:
    """exc itself when Python's or costlab's and it survives pickling, else a RuntimeError with its type and message
    (unpickling a class of the model's code would import that code into costlab's process)."""
    module = type(exc).__module__ or ""
    if module == "builtins" or module.split(".")[0] == "costlab":
        try:
            pickle.loads(pickle.dumps(exc))
            return exc
        except Exception:  # noqa: BLE001
            pass
    return RuntimeError(f"{type(exc).__name__}: {describe(exc)}")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _collect(pid: int, read_fd: int) -> tuple[Any, int]:
    """(the child's message or None, its wait status). Reads until a whole message arrived or the child ended; never
    waits for end-of-file, which a grandchild the model's code started could hold off forever."""
    buf = bytearray()
    pid_fd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    try:
        while True:
            watched = [read_fd] + ([pid_fd] if pid_fd is not None else [])
            ready, _, _ = select.select(watched, [], [], None if pid_fd is not None else 0.05)
            if read_fd in ready:
                chunk = os.read(read_fd, 1 << 20)
                buf += chunk
                if _complete(buf) or not chunk:
                    break
                continue
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                while select.select([read_fd], [], [], 0)[0] and (chunk := os.read(read_fd, 1 << 20)):
                    buf += chunk
                return (bytes(buf[_HEADER.size:]) if _complete(buf) else None), status
    finally:
        if pid_fd is not None:
            os.close(pid_fd)
    _, status = os.waitpid(pid, 0)
    return (bytes(buf[_HEADER.size:]) if _complete(buf) else None), status


def _complete(buf: bytearray) -> bool:
    return len(buf) >= _HEADER.size and len(buf) - _HEADER.size >= _HEADER.unpack_from(buf)[0]


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return f"signal {signal.Signals(sig).name}"
        except ValueError:
            return f"signal {sig}"
    return f"exit {os.waitstatus_to_exitcode(status)}"


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _own_group(pid: int = 0) -> None:
    """Put the child (pid; 0: this process) in a process group of its own, so _kill_group reaches its descendants."""
    try:
        os.setpgid(pid, pid if pid else 0)
    except OSError:  # the child already exec'd or exited: nothing left to group
        pass


def _kill_group(pid: int) -> None:
    """SIGKILL every process left in the child's group (processes the model's code forked); none left is fine."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _die_with_parent() -> None:
    """Linux: the child gets SIGKILL when the parent dies (killed itself, the child would run on); best effort."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the parent's Ctrl-C handling still kills the child
        pass
