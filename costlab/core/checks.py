"""Validators for user-given values, and the limits past which costlab refuses a value instead of counting it.

Each validator returns the value or raises a CostlabError naming it; none lets inf, nan or a size that would
make costlab loop for minutes through.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import CostlabError

# the largest values costlab accepts (README: "Exit codes and errors"); past them, exit 2 naming the limit
MAX_CHANNELS = 1_000_000
MAX_SIZE = 65_536  # input height, width, resolution
MAX_KERNEL = 1024  # kernel size, stride, padding
MAX_REPEATS = 1000  # stacked convs of a KIND, blocks of one stage (after any depth multiplier)
MAX_MULTIPLIER = 64  # alpha, rho, depth, width_mult, depth_mult, expansion ratios
MAX_BATCH = 1_000_000
MAX_ROWS = 100_000  # ops (table rows) of one network: the largest built-in has ~2,600; past this a walk takes minutes
MAX_FILE_BYTES = 1 << 20  # a TOML file (architecture, budgets, device): read whole, so bounded before reading


def is_int(value: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def positive_int(value: Any, what: str, limit: int | None = None) -> int:
    """value if it is an int >= 1 (and <= limit), else a CostlabError naming it."""
    if not is_int(value) or value < 1:
        raise CostlabError(f"{what} must be a positive integer, got {value!r}")
    if limit is not None and value > limit:
        raise CostlabError(f"{what} must be at most {limit:,}, got {value:,}")
    return value


def nonnegative_int(value: Any, what: str, limit: int | None = None) -> int:
    """value if it is an int >= 0 (and <= limit), else a CostlabError naming it."""
    if not is_int(value) or value < 0:
        raise CostlabError(f"{what} must be an integer >= 0, got {value!r}")
    if limit is not None and value > limit:
        raise CostlabError(f"{what} must be at most {limit:,}, got {value:,}")
    return value


def positive_number(value: Any, what: str, limit: float | None = None) -> float:
    """value if it is a finite int or float > 0 (and <= limit), else a CostlabError naming it."""
    ok = (is_int(value) or isinstance(value, float)) and math.isfinite(value) and value > 0
    if not ok:
        raise CostlabError(f"{what} must be a finite number > 0, got {value!r}")
    if limit is not None and value > limit:
        raise CostlabError(f"{what} must be at most {limit:g}, got {value:g}")
    return value


def multiplier(value: Any, what: str) -> float:
    """A width, resolution, depth or expansion multiplier: finite, > 0 and at most MAX_MULTIPLIER."""
    return positive_number(value, what, MAX_MULTIPLIER)


def number_text(text: str, what: str) -> str:
    """text, refused unless it is ASCII: Python's int() and float() read full-width and Arabic-Indic digits ('１２'),
    which a command line or a file only holds by mistake."""
    if not text.isascii():
        raise CostlabError(f"{what} must be written in ASCII digits, got {text!r}")
    return text
