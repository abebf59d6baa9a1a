"""Integer expressions a graph block's node may give instead of a number: "channels // 2", "widths[3]", "cin".

Exact arithmetic on integers (+, -, *, //, / that must divide, %, unary -, parentheses) over named values; no calls,
no attributes, no powers, so evaluating can neither run code nor take long. Names a block reads are collected when it
is defined (so a stage key no node reads can be refused), their values given when a stage builds the block.
"""

from __future__ import annotations

import ast
from fractions import Fraction
from typing import Mapping, Optional, Union

from ..errors import CostlabError

Value = Union[int, str]  # an integer as written, or an expression
MAX_LENGTH = 200

_OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
              ast.FloorDiv: lambda a, b: Fraction(a // b), ast.Div: lambda a, b: a / b,
              ast.Mod: lambda a, b: a % b}


class ExprError(CostlabError):
    """An expression that does not parse or does not give an integer."""


def parse(text: str) -> ast.expr:
    """The expression's tree; an ExprError says what is not allowed."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ExprError(f"cannot parse {text!r}: use integers, names, + - * // / % and parentheses") from None
    for node in ast.walk(tree):
        allowed = (isinstance(node, (ast.BinOp, ast.Name, ast.Load, ast.Subscript)) or type(node) in _OPERATORS
                   or isinstance(node, (ast.UnaryOp, ast.USub, ast.UAdd))
                   or (isinstance(node, ast.Constant) and type(node.value) is int))
        if not allowed:
            raise ExprError(f"cannot use {ast.unparse(node)!r} in {text!r}: integers, names, + - * // / % and "
                            f"parentheses only")
        if isinstance(node, ast.Subscript) and not isinstance(node.value, ast.Name):
            raise ExprError(f"only a name can be indexed, as in widths[0]: {text!r}")
    return tree


def names(value: Value) -> set[str]:
    """The names an expression reads (none for an integer)."""
    if not isinstance(value, str):
        return set()
    return {n.id for n in ast.walk(parse(value)) if isinstance(n, ast.Name)}


def evaluate(value: Value, env: Mapping[str, Optional[object]]) -> int:
    """The integer value; env maps each name to an int, a tuple of ints (indexed), or None (not given here)."""
    if not isinstance(value, str):
        return value
    result = _eval(parse(value), env, value)
    if result.denominator != 1:
        raise ExprError(f"{value!r} is {float(result):g}, not an integer (use // to round down)")
    return int(result)


def _eval(node: ast.expr, env: Mapping[str, Optional[object]], text: str) -> Fraction:
    if isinstance(node, ast.Constant):
        return Fraction(node.value)
    if isinstance(node, ast.Name):
        return Fraction(_lookup(node.id, env, text, indexed=False))
    if isinstance(node, ast.Subscript):
        values = _lookup(node.value.id, env, text, indexed=True)
        i = _eval(node.slice, env, text)
        if i.denominator != 1 or not 0 <= i < len(values):
            raise ExprError(f"{text!r}: {node.value.id} has {len(values)} values, so its index goes from 0 to "
                            f"{len(values) - 1}")
        return Fraction(values[int(i)])
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, env, text)
        return -operand if isinstance(node.op, ast.USub) else operand
    left, right = _eval(node.left, env, text), _eval(node.right, env, text)
    if right == 0 and isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)):
        raise ExprError(f"{text!r} divides by zero")
    return _OPERATORS[type(node.op)](left, right)


def _lookup(name: str, env: Mapping[str, Optional[object]], text: str, indexed: bool):
    if name not in env:
        raise ExprError(f"{text!r}: unknown name {name!r}; known: {', '.join(env)}")
    value = env[name]
    if value is None:
        raise ExprError(f"{text!r} reads {name}, which this stage does not give")
    if indexed != isinstance(value, tuple):
        raise ExprError(f"{text!r}: write {name}[i]" if indexed is False else f"{text!r}: {name} is not a list")
    return value
