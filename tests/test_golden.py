"""The CLI's output on a golden set of commands (every command and format) is what was recorded.

The outputs in tests/golden/out/ were recorded with the code before the package was reorganised;
a change that alters any of them on purpose re-records them (python tests/golden/record.py) and
says why in its commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))

from golden import COMMANDS, OUT, render, run_command  # noqa: E402


def test_golden_set_is_large_enough():
    assert len(COMMANDS) >= 30
    commands = {c.split()[0] for c in COMMANDS}
    assert commands >= {"compare", "breakeven", "arch", "sweep", "list", "check", "crosscheck", "analyze", "latency",
                        "report"}


@pytest.mark.parametrize("index,command", list(enumerate(COMMANDS, 1)), ids=lambda v: str(v)[:60])
def test_output_is_unchanged(index, command):
    expected = (OUT / f"{index:03d}.txt").read_text(encoding="utf-8")
    assert render(command, *run_command(command)) == expected
