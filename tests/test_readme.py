"""The README's console examples are what the commands print: each `$ costlab ...` line is run and its output
must be the lines shown, where a line `...` stands for any number of lines the README leaves out."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _examples() -> list[tuple[str, list[str]]]:
    """(command, expected lines) for every `$ costlab ...` in a console block that shows output."""
    out = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(), flags=re.S):
        current = None
        for line in block.splitlines():
            if line.startswith("$ costlab "):
                if current and current[1]:
                    out.append(current)
                current = (line[2:].split("  #")[0].strip(), [])
            elif current is not None:
                current[1].append(line)
        if current and current[1]:
            out.append(current)
    return out


def _matches(expected: list[str], actual: list[str]) -> bool:
    """expected equals actual, where '...' matches any run of lines (none included)."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(_matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0].rstrip() == expected[0].rstrip() and _matches(expected[1:], actual[1:])


@pytest.mark.parametrize("command,expected", _examples(), ids=lambda v: v[:50] if isinstance(v, str) else "")
def test_readme_example_prints_what_it_shows(command, expected, run, tmp_path, monkeypatch):
    shutil.copytree(README.parent / "specs", tmp_path / "specs")  # examples name specs/... as from the repository root
    monkeypatch.chdir(tmp_path)  # charts and reports land in a scratch folder
    result = run(*shlex.split(command)[1:])
    actual = (result.stdout + result.stderr).splitlines()
    assert _matches(expected, actual), "\n".join(actual[:40])


def test_readme_has_examples():
    assert len(_examples()) >= 6
