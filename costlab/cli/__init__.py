"""The costlab command line: each command parses, calls one library function, renders.

Exit codes: 0 ok, 1 a check failed, 2 bad usage or bad input (one line on stderr, no traceback), and no other,
whatever user code does: an interrupt, a sys.exit in a model's code or a bug in costlab is one line and exit 2.
"""

from __future__ import annotations

import errno
import io
import os
import sys
import traceback

import click

from .. import interrupt
from ..errors import CostlabError, describe
from ..isolate import isolation

EXIT_CODES = (0, 1, 2)


class _PipeClosed(Exception):
    """stdout's reader went away; not an OSError, so click does not turn it into exit 1."""


class _Interrupted(Exception):
    """Ctrl-C inside a command; not a KeyboardInterrupt, which click would answer with a blank line on stderr."""


class CostlabGroup(click.Group):
    """A click group that turns every usage or input error into one line and exit code 2."""

    def invoke(self, ctx):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise _PipeClosed() from None
        except KeyboardInterrupt:
            raise _Interrupted() from None

    def main(self, args=None, prog_name=None, **extra):  # type: ignore[override]
        if sys.stdout is None:  # started with stdout closed (>&-): writing output is then an error, not a crash
            sys.stdout = _ClosedStream()
        try:
            with isolation():  # user model code runs in a child process: whatever it does, costlab reports it
                rv = super().main(args=args, prog_name=prog_name or "costlab", standalone_mode=False, **extra)
            _flush_output()  # a closed pipe or a full disk shows here, inside the handlers, not at interpreter exit
            interrupt.check()  # a Ctrl-C that an import swallowed still ends the run as interrupted
        except click.exceptions.Exit as exc:
            rv = exc.exit_code
        except click.UsageError as exc:
            fail(exc.format_message())
        except click.ClickException as exc:
            fail(exc.format_message())
        except CostlabError as exc:
            fail(str(exc))
        except (click.Abort, KeyboardInterrupt, _Interrupted):
            if sys.stderr.isatty():  # after the terminal's ^C, so that the line starts on its own
                click.echo(err=True)
            if interrupt.happened():
                interrupt.exit_interrupted()
            fail("interrupted")
        except SystemExit as exc:  # a command's own exit code passes; any other comes from code costlab ran
            if exc.code in EXIT_CODES or exc.code is None:
                raise
            fail(f"exited with status {exc.code!r} (costlab exits 0, 1 or 2 only)")
        except (BrokenPipeError, _PipeClosed):  # the reader went away (costlab ... | head): nothing more to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except OSError as exc:
            if not _writing_output(exc):
                _internal_error(exc)
            _drop(sys.stdout)
            fail(f"cannot write the output: {exc.strerror or describe(exc)}")
        except Exception as exc:  # noqa: BLE001
            _internal_error(exc)
        sys.exit(rv if rv in EXIT_CODES else 0)


class _ClosedStream(io.TextIOBase):
    """Stands for a stdout the process was started without."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "stdout is closed")


def _flush_output() -> None:
    sys.stdout.flush()


def _writing_output(exc: OSError) -> bool:
    """Whether exc came from writing costlab's output (click.echo, the last flush): a full disk, a closed stdout."""
    frames = [frame.f_code for frame, _ in traceback.walk_tb(exc.__traceback__)]
    return any(code.co_name in ("echo", "_flush_output", "write") and ("click" in code.co_filename or
                                                                      code.co_filename == __file__)
               for code in frames)


def _drop(stream) -> None:
    """Point a failed standard stream at /dev/null, its buffered text with it (the interpreter's last flush would
    fail again)."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        if stream is sys.stdout:
            sys.stdout = open(os.devnull, "w")
        elif stream is sys.stderr:
            sys.stderr = open(os.devnull, "w")


def _internal_error(exc: BaseException) -> None:
    """A bug in costlab: still one line and exit 2, the traceback on request."""
    if os.environ.get("COSTLAB_DEBUG"):
        raise exc
    fail(f"internal error: {type(exc).__name__}: {describe(exc)} (run with COSTLAB_DEBUG=1 for the traceback, and "
         f"please report it)")


def fail(message: str) -> None:
    """Print 'costlab: error: message' on one line and exit 2 (still 2 when stderr cannot take the line)."""
    line = " ".join(str(message).split())
    try:
        click.echo(f"costlab: error: {line}", err=True)
    except (OSError, ValueError):
        _drop(sys.stderr)
    sys.exit(2)


@click.group(cls=CostlabGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="costlab", prog_name="costlab")
def main() -> None:
    """What a convolutional network, block or layer costs: params, MACs, FLOPs (= 2 x MACs), and why."""


def _register() -> None:
    # Each area keeps its commands in its own module; none of these imports torch at import time, and none
    # imports this package back (shared options live in cli.options).
    from .arch import arch, list_command, sweep
    from .budget import check
    from .compare import breakeven, compare
    from .latency import latency
    from .report import report
    from .trace import analyze, crosscheck

    for command in (compare, breakeven, check, arch, sweep, list_command, report, crosscheck, analyze, latency):
        main.add_command(command)


_register()
