"""Shared by record.py and tests/test_golden.py: the command list and how one command is run and rendered."""

from __future__ import annotations

import os
import shlex
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = HERE / "out"
COMMANDS = [line.strip() for line in (HERE / "commands.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def run_command(command: str) -> tuple[int, str, str]:
    """Run one costlab command in-process from the repository root; {OUT} becomes a fresh temporary folder."""
    from click.testing import CliRunner

    from costlab.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        args = [a.replace("{OUT}", tmp) for a in shlex.split(command)]
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            result = CliRunner().invoke(main, args, catch_exceptions=False)
        finally:
            os.chdir(cwd)
        return result.exit_code, result.stdout.replace(tmp, "{OUT}"), result.stderr.replace(tmp, "{OUT}")


def render(command: str, code: int, stdout: str, stderr: str) -> str:
    return f"$ costlab {command}\n[exit {code}]\n[stdout]\n{stdout}[stderr]\n{stderr}"
