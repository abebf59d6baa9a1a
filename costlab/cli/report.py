"""`costlab report`: Markdown architecture reports with charts, and the family index (--all)."""

from __future__ import annotations

import sys

import click

from ..core.conventions import CONVENTIONS, DEFAULT_CONVENTION
from ..errors import CostlabError


@click.command()
@click.argument("names", nargs=-1, metavar="NAME...")
@click.option("--all", "all_models", is_flag=True,
              help="Every built-in model (`costlab list`) plus the index README.md, one section per family.")
@click.option("--out", default="reports", show_default=True, type=click.Path(file_okay=False),
              help="Output directory (charts go to OUT/charts).")
@click.option("--convention", type=click.Choice(list(CONVENTIONS)), default=DEFAULT_CONVENTION, show_default=True,
              help="Counting convention of the reported MACs.")
@click.option("--crosscheck/--no-crosscheck", default=True, show_default=True,
              help="Trace each model with fvcore (needs torch) and report the agreement.")
def report(names, all_models, out, convention, crosscheck):
    """Markdown reports with charts for architecture NAMEs (built-in or FILE.toml), written to OUT/NAME.md and OUT/charts/.

    Each report: params, MACs, FLOPs (= 2 x MACs); tables by stage and by layer type; the ten
    costliest layers; the fvcore cross-check; latency predicted on the jetson-nano spec-sheet
    profile per stage and layer type, with its roofline; charts of MACs per layer, per stage and
    across width x resolution. The output is byte-for-byte reproducible.

    Regenerate the committed set: costlab report --all
    """
    from ..report.generate import builtin_models, generate

    if all_models and names:
        raise CostlabError("give NAMEs or --all, not both")
    if not all_models and not names:
        raise CostlabError("give at least one architecture NAME, or --all")
    selected = builtin_models() if all_models else list(names)

    def progress(items):
        return click.progressbar(items, label="reports", file=sys.stderr, item_show_func=lambda n: n or "")

    written = generate(selected, out, index=all_models, convention=convention, crosscheck=crosscheck,
                       progress=progress if len(selected) > 1 and sys.stderr.isatty() else None)
    markdown = [str(p) for p in written if p.suffix == ".md"]
    click.echo(f"wrote {len(written)} files to {out}: {', '.join(markdown)}")
