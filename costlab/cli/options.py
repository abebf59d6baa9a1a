"""Options shared by several commands, and the check that a command's optional dependencies are installed."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

import click

from ..core.checks import number_text
from ..core.conventions import CONVENTIONS, DEFAULT_CONVENTION
from ..errors import CostlabError
from ..io.render import FORMATS


def _chart_path(ctx: click.Context, param: click.Parameter, value):
    """Check a --chart FILE before any work is done (plots.py does not import matplotlib until it draws)."""
    if value is None:
        return None
    from ..plots.base import check_chart_path

    return check_chart_path(value)


def chart_option(*names: str, help: str):
    """A chart file option (--chart by default): .png or .svg in a writable folder, checked while parsing."""
    return click.option(*(names or ("--chart",)), type=click.Path(dir_okay=False), default=None,
                        callback=_chart_path, help=help)


class _AsciiNumber(click.ParamType):
    """click's INT or FLOAT, refusing digits outside ASCII (which int() and float() would read)."""

    def __init__(self, base: click.ParamType) -> None:
        self.base, self.name = base, base.name

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            try:
                number_text(value, f"--{param.name}" if param is not None else "the value")
            except CostlabError as exc:
                self.fail(str(exc), param, ctx)
        return self.base.convert(value, param, ctx)


INT, FLOAT = _AsciiNumber(click.INT), _AsciiNumber(click.FLOAT)


format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format."
)


Chart = tuple[Optional[Path], Callable[[], Any]]


def output(text: str, *charts: Chart) -> None:
    """Print a command's text; for each (path, figure) chart asked for, draw it and stage its file before printing
    anything, so a chart that cannot be drawn or written stops the command with nothing printed or left behind."""
    from ..io.files import commit, stage

    staged: list[tuple[Path, Path]] = []
    try:
        for path, figure in charts:
            if path is not None:
                from ..plots.base import render

                staged.append((stage(path, render(figure, path), "chart file"), path))
        click.echo(text)
        while staged:
            tmp, path = staged.pop(0)
            commit(tmp, path, "chart file")
            click.echo(f"costlab: wrote chart {path}", err=True)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


convention_option = click.option("--convention", type=click.Choice(list(CONVENTIONS)), default=DEFAULT_CONVENTION,
                                  show_default=True, help="Counting rules for MACs.")

width_rule_option = click.option(
    "--width-rule", "width_rule", type=click.Choice(["torchvision", "paper"]), default=None,
    help="How --alpha applies to the table: torchvision (each width scaled) or paper (MobileNetV3's Table 3, "
         "as timm builds it: expansions from the scaled input, the classifier's hidden width kept) "
         "[default: the architecture's own, torchvision for the built-ins].")
