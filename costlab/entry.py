"""The `costlab` script and `python -m costlab`: Ctrl-C is handled from the first line, before click, pandas or torch
are imported (a Ctrl-C during those imports is still one line and exit 2)."""


def main() -> None:
    from . import interrupt

    interrupt.install()
    try:
        from .cli import main as cli
    except KeyboardInterrupt:
        interrupt.exit_interrupted()
    cli()
