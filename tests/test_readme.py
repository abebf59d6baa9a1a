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


def _reference_rows() -> dict[str, str]:
    """The README's TOML reference tables: first cell -> second cell, for every row after the marker."""
    text = README.read_text().split("<!-- toml-reference", 1)[1].split("An `mbconv` stage takes", 1)[0]
    return {cells[0]: cells[1] for line in text.splitlines() if line.startswith("| ")
            for cells in [[c.strip() for c in line.strip("|").split("|")]]}


def _names(cell: str) -> list[str]:
    return re.findall(r"`\[*([a-z_0-9.A-Z]+)\]*`", cell)


def test_toml_reference_lists_every_key_preset_and_block_kind():
    """The README's TOML reference is the code's: the spec schemas, the rule presets and every block kind with its
    keys (a kind added without its row, or a key without its mention, fails here)."""
    from costlab.nets.spec import SCHEMAS, TOP
    from costlab.nets.stages import STAGE_KINDS
    from costlab.nets.tables import RULE_PRESETS

    rows = _reference_rows()
    assert set(_names(rows["top level"])) == set(TOP) - {"stem", "stages", "head", "classifier", "blocks"} | {
        "stem", "stages", "head", "classifier", "blocks.NAME"}
    for table in ("stem", "head", "classifier"):
        assert _names(rows[f"`[{table}]`"]) == list(SCHEMAS[table])
    assert _names(rows["`rules`"].split("table:", 1)[1]) == list(SCHEMAS["rules"])
    presets = README.read_text().split("Presets (each family's", 1)[1].split("A file without", 1)[0]
    assert _names(presets) == list(RULE_PRESETS)
    documented = {}
    for first, keys in rows.items():
        for name in _names(first):
            documented[name] = _names(keys)
    for name, kind in STAGE_KINDS.items():
        row = name if name in documented else ("inception_a" if name.startswith("inception_") else
                                               "nasnet_*" if name.startswith("nasnet_") else name)
        if row == "nasnet_*":
            assert set(kind.keys) <= {"repeats", "channels"}, name
            continue
        assert row in documented and documented[row] == list(kind.keys), name
