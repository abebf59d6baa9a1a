"""User-facing errors: the CLI prints their message on one line and exits 2."""


class CostlabError(ValueError):
    """Bad input from the user (a value, a name, a file); never a bug in costlab."""


def require(condition: bool, message: str) -> None:
    """Raise CostlabError(message) unless condition holds."""
    if not condition:
        raise CostlabError(message)


def describe(exc: BaseException, limit: int = 200) -> str:
    """An exception's message fit for one line: its first line, at most limit characters; its type's name when str()
    raises (user code's exceptions may do anything)."""
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a __str__ that raises, even KeyboardInterrupt or SystemExit
        return "(its message cannot be shown)"
    first = (text.strip().splitlines() or [""])[0].strip()
    return first if len(first) <= limit else first[:limit - 3] + "..."
