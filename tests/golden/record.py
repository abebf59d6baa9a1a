"""Record the golden CLI outputs: python tests/golden/record.py (from anywhere). Overwrites tests/golden/out/."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from golden import COMMANDS, OUT, render, run_command  # noqa: E402

if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.txt"):
        old.unlink()
    for i, command in enumerate(COMMANDS, 1):
        (OUT / f"{i:03d}.txt").write_text(render(command, *run_command(command)), encoding="utf-8")
        print(f"{i:03d} {command}")
