"""`costlab check BUDGETS.toml`: assert MAC / FLOP / parameter / predicted-latency budgets (exit 0 all hold, 1 any
exceeded, 2 bad file)."""

from __future__ import annotations

import os
import sys
from typing import Optional

import click

from ..budget.check import check_file
from ..io.files import not_an_input
from ..io.toml import FILES_READ
from ..budget.outputs import check_junit_path, check_summary_path, github_annotations, render_results, write_outputs
from .options import format_option


@click.command("check")
@click.argument("budget_file", metavar="FILE")
@click.option("--junit", "junit", metavar="FILE", default=None,
              help="Also write JUnit XML: one testcase per (budget, limit), a failure per exceeded limit.")
@click.option("--strict", is_flag=True,
              help="Also exit 1 if a traced model runs an unpriced op (it computes and no rule of the budget's convention "
                   "prices it: an FFT, a linalg solver, a custom autograd Function), which its MACs leave out.")
@format_option
def check(budget_file: str, junit: Optional[str], strict: bool, fmt: str) -> int:
    """Check every [[budget]] in FILE; exit 1 naming model and metric when a limit is exceeded.

    \b
    FILE is TOML, one [[budget]] table per model:
      [[budget]]
      name = "phone backbone"      # optional; defaults to the model and its settings
      model = "mobilenet_v2"       # a built-in name, an architecture .toml (relative to FILE), or MODULE:CALLABLE
      resolution = 224             # optional; alpha = 0.75 too (built-in and .toml models)
      input = [1, 3, 224, 224]     # N,C,H,W; required for MODULE:CALLABLE unless resolution is set
      convention = "paper"         # paper (default), fvcore, ptflops or thop
      max_macs = "310M"            # limits: max_macs, max_flops, max_params; integers or "5.3M" (K, M, G, T)
      max_params = "3.6M"
      max_latency_ms = 12.0        # predicted by the roofline on device (deterministic): milliseconds > 0
      device = "jetson-nano"       # a shipped spec-sheet profile or a device TOML (relative to FILE); not host

    A MODULE:CALLABLE model that runs ops no rule prices (counted as 0, as every tool counts them) gets one line per
    limit on stderr naming them; --strict fails on them.

    Exit 0 when every limit holds, 1 when any is exceeded (or, with --strict, leaves out unpriced ops), 2 when FILE
    is bad. With GITHUB_STEP_SUMMARY set, a
    Markdown table is appended to it; with GITHUB_ACTIONS=true, each exceeded limit is also printed as a ::error
    annotation pointing at its [[budget]] line. specs/examples/budgets_example.toml lists every key.
    """
    # Output targets are checked first, then everything is parsed and counted, and only then is
    # anything written: a bad file or target leaves no half output behind.
    junit_path = not_an_input(check_junit_path(junit), [budget_file], "JUnit file") if junit else None
    summary_env = os.environ.get("GITHUB_STEP_SUMMARY")
    summary_path = (not_an_input(check_summary_path(summary_env), [budget_file], "GITHUB_STEP_SUMMARY")
                    if summary_env else None)
    if junit_path and summary_path:
        not_an_input(junit_path, [summary_path], "JUnit file")
    first_read = len(FILES_READ)
    results = check_file(budget_file)
    for path, what in ((junit_path, "JUnit file"), (summary_path, "GITHUB_STEP_SUMMARY")):
        if path is not None:  # nor any file the budgets read: an architecture or device TOML they name
            not_an_input(path, FILES_READ[first_read:], what)
    output = render_results(results, fmt)
    write_outputs(results, junit_path, summary_path, budget_file)
    click.echo(output)
    failed = [r for r in results if not r.ok]
    for r in failed:
        click.echo(f"costlab: budget exceeded: {r.message()}", err=True)
    unpriced = [r for r in results if r.unpriced]
    for r in unpriced:
        click.echo(f"costlab: {'--strict' if strict else 'note'}: {r.unpriced_text()}", err=True)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in github_annotations(results, budget_file):
            click.echo(line, err=True)
    sys.stdout.flush()
    return 1 if failed or (strict and unpriced) else 0
