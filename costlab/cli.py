"""The costlab command line: each command parses, calls one library function, renders.

Exit codes: 0 ok, 1 a check failed, 2 bad usage or bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import sys

import click

from .errors import CostlabError
from .render import FORMATS


class CostlabGroup(click.Group):
    """A click group that turns every usage or input error into one line and exit code 2."""

    def main(self, args=None, prog_name=None, **extra):  # type: ignore[override]
        try:
            rv = super().main(args=args, prog_name=prog_name or "costlab", standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            fail(exc.format_message())
        except click.ClickException as exc:
            fail(exc.format_message())
        except CostlabError as exc:
            fail(str(exc))
        except click.Abort:
            click.echo("costlab: aborted", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


def fail(message: str) -> None:
    """Print 'costlab: error: message' on one line and exit 2."""
    line = " ".join(str(message).split())
    click.echo(f"costlab: error: {line}", err=True)
    sys.exit(2)


def _chart_path(ctx: click.Context, param: click.Parameter, value):
    """Check a --chart FILE before any work is done (plots.py does not import matplotlib until it draws)."""
    if value is None:
        return None
    from .plots import check_chart_path

    return check_chart_path(value)


def chart_option(*names: str, help: str):
    """A chart file option (--chart by default): .png or .svg in a writable folder, checked while parsing."""
    return click.option(*(names or ("--chart",)), type=click.Path(dir_okay=False), default=None,
                        callback=_chart_path, help=help)


format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format."
)


@click.group(cls=CostlabGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="costlab", prog_name="costlab")
def main() -> None:
    """What a convolutional network, block or layer costs: params, MACs, FLOPs (= 2 x MACs), and why."""


def _register() -> None:
    # Each area keeps its commands in its own module; none of these imports torch at import time.
    from .cli_arch import arch, list_command, sweep
    from .cli_budget import check
    from .cli_compare import breakeven, compare
    from .cli_latency import latency
    from .cli_report import report
    from .cli_trace import analyze, crosscheck

    for command in (compare, breakeven, check, arch, sweep, list_command, report, crosscheck, analyze, latency):
        main.add_command(command)


_register()
