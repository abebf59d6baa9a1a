"""User-facing errors: the CLI prints their message on one line and exits 2."""


class CostlabError(ValueError):
    """Bad input from the user (a value, a name, a file); never a bug in costlab."""


def require(condition: bool, message: str) -> None:
    """Raise CostlabError(message) unless condition holds."""
    if not condition:
        raise CostlabError(message)
