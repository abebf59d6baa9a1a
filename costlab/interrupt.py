"""Ctrl-C, remembered: some imports (torch's among them) catch KeyboardInterrupt and carry on, so the command line's
handler also records the signal, and costlab asks `happened()` where it can still stop cleanly."""

from __future__ import annotations

import os
import signal
import sys

_seen = {"sigint": False}


def _on_sigint(signum, frame):
    _seen["sigint"] = True
    raise KeyboardInterrupt


def install() -> None:
    """Record every SIGINT (and raise KeyboardInterrupt, as Python's own handler does); for the command line only."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)


def happened() -> bool:
    """Whether a SIGINT arrived since install(), even one some code swallowed."""
    return _seen["sigint"]


def check() -> None:
    """Raise KeyboardInterrupt if a SIGINT arrived and was swallowed."""
    if _seen["sigint"]:
        raise KeyboardInterrupt


def exit_interrupted() -> None:
    """'costlab: error: interrupted' and exit 2 now, past the interpreter's shutdown: a KeyboardInterrupt that went
    through some C code during an import marks it unhandled, and the interpreter would then end by SIGINT."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    try:
        sys.stderr.write("costlab: error: interrupted\n")
        sys.stderr.flush()
    finally:
        os._exit(2)
