"""Seed 004's conv blocks as `costlab compare` KINDs: the options each takes with the seed's defaults, what it needs of
--cin and --cout, how it is built (nets/blocks.py), and the lines that say what comparing them shows.

The seed's f is --cout, r (and SE's rate) --reduction, c --cardinality, d --layers; M is --cin.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Callable, Optional

from ..core.checks import MAX_CHANNELS, MAX_REPEATS, positive_int
from ..core.graph import Node
from ..errors import require
from . import blocks

if TYPE_CHECKING:
    from .compare import Compared, Setting

REDUCTION, CARDINALITY, LAYERS = "--reduction", "--cardinality", "--layers"
OPTION_FIELDS = {REDUCTION: "reduction", CARDINALITY: "cardinality", LAYERS: "layers"}  # the Setting field of each
# cardinality: paths built one by one; layers: convs in a row
OPTION_LIMITS = {REDUCTION: MAX_CHANNELS, CARDINALITY: MAX_REPEATS, LAYERS: MAX_REPEATS}

Options = dict[str, int]


@dataclass(frozen=True)
class SeedKind:
    """One seed block as a KIND: its options and their seed defaults, how it is built, and whether it adds or
    multiplies its input to a cout-wide result (then --cin must equal --cout); inputs: two for the NASNet cell."""

    defaults: Options
    build: Callable[[str, "Setting", Options], Node]
    same_width: bool = False
    inputs: int = 1


SEED_KINDS: dict[str, SeedKind] = {
    "bottleneck-seed": SeedKind({REDUCTION: 4},
                                lambda n, s, o: blocks.seed_bottleneck(n, s.cin, s.cout, o[REDUCTION], s.bias)),
    "inception-naive": SeedKind({}, lambda n, s, o: blocks.naive_inception(n, s.cin, s.cout, s.bias)),
    "inception": SeedKind({REDUCTION: 4}, lambda n, s, o: blocks.inception(n, s.cin, s.cout, o[REDUCTION], s.bias)),
    "residual": SeedKind({REDUCTION: 4}, lambda n, s, o: blocks.residual_block(n, s.cout, o[REDUCTION], s.bias), True),
    "resnext": SeedKind({REDUCTION: 2, CARDINALITY: 4},
                        lambda n, s, o: blocks.resnext_block(n, s.cout, o[REDUCTION], o[CARDINALITY], s.bias), True),
    "resnext-grouped": SeedKind({REDUCTION: 2, CARDINALITY: 4},
                                lambda n, s, o: blocks.resnext_grouped_block(n, s.cout, o[REDUCTION], o[CARDINALITY],
                                                                             s.bias), True),
    "dense": SeedKind({LAYERS: 5}, lambda n, s, o: blocks.dense_block(n, s.cin, s.cout, o[LAYERS], s.bias)),
    "se": SeedKind({REDUCTION: 16}, lambda n, s, o: blocks.se_block(n, s.cout, o[REDUCTION], s.bias), True),
    "nasnet-normal": SeedKind({}, lambda n, s, o: blocks.nasnet_normal_cell(n, s.cout, s.bias), True, inputs=2),
    "inv-residual": SeedKind({REDUCTION: 4},
                             lambda n, s, o: blocks.inverted_residual_block(n, s.cout, o[REDUCTION], s.bias), True),
}


def kinds_using(option: str) -> tuple[str, ...]:
    """The seed KINDs that take an option."""
    return tuple(name for name, kind in SEED_KINDS.items() if option in kind.defaults)


def check_option(option: str, value: Optional[int]) -> None:
    """A given --reduction, --cardinality or --layers must be a positive integer within its limit."""
    if value is not None:
        positive_int(value, option, OPTION_LIMITS[option])


def options_of(base: str, s: "Setting") -> Options:
    """The options a seed KIND is built with: each as given, else the seed's default for that block."""
    given = {option: getattr(s, OPTION_FIELDS[option]) for option in SEED_KINDS[base].defaults}
    return {option: default if given[option] is None else given[option]
            for option, default in SEED_KINDS[base].defaults.items()}


def seed_graph(base: str, text: str, s: "Setting") -> Node:
    """The graph of a seed KIND at a setting, after checking the setting gives the block the widths it needs."""
    kind, o = SEED_KINDS[base], options_of(base, s)
    require(s.stride == 1, f"--stride {s.stride}: {text} runs at stride 1 as the seed writes it (its adds and "
                           f"concatenations keep the size)")
    if kind.same_width:
        require(s.cin == s.cout, f"--cin {s.cin} must equal --cout {s.cout} for {text}: it combines its input with "
                                 f"its cout-channel result")
    r = o.get(REDUCTION)
    if CARDINALITY in o:
        c = o[CARDINALITY]
        require(s.cout % (c * r) == 0, f"--cout {s.cout} must be divisible by --cardinality {c} x --reduction {r} = "
                                       f"{c * r}: {text}'s {c} paths are cout / (c x r) channels wide each")
    elif base == "inv-residual":
        require(s.cout * r <= MAX_CHANNELS, f"--reduction {r}: {text} expands --cout {s.cout} to {s.cout * r:,} "
                                            f"channels, more than {MAX_CHANNELS:,}")
    elif r is not None:
        require(s.cout % r == 0, f"--cout {s.cout} must be divisible by --reduction {r}: {text} reduces to "
                                 f"cout / r channels")
    if base == "inception":
        require(s.cout >= 3, f"--cout {s.cout} must be at least 3: {text}'s 3x3 branch reduces to cout // 3 "
                             f"(the seed's f//3)")
    return kind.build(text, s, o)


# --- what comparing them shows --------------------------------------------------------------------------------

def notes(results: list["Compared"]) -> list[str]:
    """Footer lines for the seed's arguments a comparison contains: ResNeXt's paths against one grouped 3x3, the
    Inception module's 1x1 reductions against the naive module, and the dense block's d^2 growth."""
    by_name = {}
    for r in results:
        by_name.setdefault(r.name, r)
    lines: list[str] = []
    if "resnext" in by_name and "resnext-grouped" in by_name:
        lines += _resnext_lines(by_name["resnext"], by_name["resnext-grouped"])
    if "inception-naive" in by_name and "inception" in by_name:
        lines += _inception_lines(by_name["inception-naive"], by_name["inception"])
    if "dense" in by_name:
        lines += _dense_lines(by_name["dense"])
    return lines


def _resnext_lines(paths: "Compared", grouped: "Compared") -> list[str]:
    s, o = paths.setting, dict(paths.options)
    m, n, c, r = s.cin, s.cout, o[CARDINALITY], o[REDUCTION]
    w = n // (c * r)
    weights = m * c * w + 9 * (c * w) ** 2 // c + c * w * n
    extra = (c - 1) * n
    lines = [f"resnext / resnext-grouped: {c} paths of 1x1 {m}->{w}, 3x3 {w}->{w}, 1x1 {w}->{n}, summed, against "
             f"1x1 {m}->{c * w}, 3x3 {c * w}->{c * w} in {c} groups, 1x1 {c * w}->{n}",
             f"weights equal: c(Mw + 9w^2 + wN) = M(cw) + 9(cw)^2/c + (cw)N = {weights:,}; "
             f"MACs {paths.macs:,} and {grouped.macs:,} (weights x HW)"]
    if s.bias:
        lines.append(f"params {paths.params:,} and {grouped.params:,}: each path's last 1x1 has its own {n} biases, "
                     f"(c - 1) x N = {c - 1} x {n} = {extra:,} more (the first two convs' biases are c x w = {c * w} "
                     f"each in both)")
    else:
        lines.append(f"params equal without biases; with --bias each path's last 1x1 has its own {n} biases, "
                     f"(c - 1) x N = {extra:,} more")
    return lines


def _inception_lines(naive: "Compared", reduced: "Compared") -> list[str]:
    s = naive.setting
    m, f, r = s.cin, s.cout, dict(reduced.options)[REDUCTION]
    b, c = f // 3, f // r
    per_pixel_naive = 35 * m * f
    per_pixel = 2 * m * f + m * b + 9 * b * f + m * c + 25 * c * f
    return [f"inception / inception-naive MACs = {float(Fraction(reduced.macs, naive.macs)):.6f}: 1x1 reductions to "
            f"f//3 = {b} before the 3x3 and f//r = {c} before the 5x5",
            f"per pixel: naive 35Mf = {per_pixel_naive:,}; inception 2Mf + M(f//3) + 9(f//3)f + M(f//r) + 25(f//r)f "
            f"= {per_pixel:,}"]


def _dense_lines(dense: "Compared") -> list[str]:
    s = dense.setting
    m, f, d, hw = s.cin, s.cout, dict(dense.options)[LAYERS], s.height * s.width
    return [f"dense (d = {d}): conv i sees M + (i-1)f channels, 9fHW(M + (i-1)f) = {9 * f * hw * m:,} + "
            f"(i-1) x {9 * f * f * hw:,} MACs; the block's 9fHW(dM + f d(d-1)/2) grows as d^2, each added conv "
            f"costing 9f^2HW = {9 * f * f * hw:,} more than the one before"]
