"""Validators for user-given values: each raises a CostlabError naming the value, never returns a bad one."""

from __future__ import annotations

import math
from typing import Any

from ..errors import CostlabError


def is_int(value: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def positive_int(value: Any, what: str) -> int:
    """value if it is an int >= 1, else a CostlabError naming it."""
    if not is_int(value) or value < 1:
        raise CostlabError(f"{what} must be a positive integer, got {value!r}")
    return value


def positive_number(value: Any, what: str) -> float:
    """value if it is a finite int or float > 0, else a CostlabError naming it."""
    ok = (is_int(value) or isinstance(value, float)) and math.isfinite(value) and value > 0
    if not ok:
        raise CostlabError(f"{what} must be a number > 0, got {value!r}")
    return value
