"""Run every hostile case of cases.py and assert the CLI contract (see cases.py's docstring).

In-process cases go through click's CliRunner with a SIGALRM time limit; subprocess cases run the installed
`costlab` script (resource limits, user code that exits or interrupts, a closed stdout). Every case gets its own
temporary folder, which is also its working directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import CASES, Case  # noqa: E402
from runner import (fill, readonly_is_enforced, subst, contract_problems, first_stderr_line,  # noqa: E402
                    launch_cwd_outputs, run_inprocess, run_subprocess, snapshot)


@pytest.fixture(scope="session")
def readonly_enforced(tmp_path_factory) -> bool:
    return readonly_is_enforced(tmp_path_factory.mktemp("probe"))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile(case: Case, tmp_path: Path, readonly_enforced: bool) -> None:
    if case.needs_nonroot and not readonly_enforced:
        pytest.skip("chmod 0o555 does not stop writes here (running as root)")
    tmp = tmp_path / "case"
    tmp.mkdir()
    readonly = fill(case, tmp)
    argv = [subst(a, tmp) for a in case.argv]
    env = {k: subst(v, tmp) for k, v in case.env.items()}
    before = snapshot(tmp)
    cwd_before = launch_cwd_outputs()
    try:
        if case.mode == "subprocess":
            outcome = run_subprocess(case, tmp, argv, env)
        else:
            outcome = run_inprocess(case, tmp, argv, env)
    finally:
        for path in readonly:
            path.chmod(0o755)
    after = snapshot(tmp)
    problems = contract_problems(case, outcome, tmp, before, after)
    for name in sorted(launch_cwd_outputs() - cwd_before):
        problems.append(f"left behind in the launch directory: {name}")
    if case.check is not None and not outcome.timed_out:
        try:
            case.check(tmp, outcome)
        except AssertionError as exc:
            problems.append(str(exc))
    if problems:
        pytest.fail(f"{'; '.join(problems)} || exit {outcome.exit_code}; stderr: {first_stderr_line(outcome)!r}",
                    pytrace=False)
