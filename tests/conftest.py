import pytest
from click.testing import CliRunner


@pytest.fixture
def run():
    """Invoke the costlab CLI in-process; returns the click Result (exit_code, stdout, stderr)."""
    from costlab.cli import main

    def _run(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return _run
