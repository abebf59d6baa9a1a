"""Layers and blocks side by side (`costlab compare`) and the 5x5 vs two 3x3 break-even (`costlab breakeven`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

from ..core.analyze import analyze
from ..core.checks import (MAX_CHANNELS, MAX_KERNEL, MAX_MULTIPLIER, MAX_REPEATS, MAX_SIZE, multiplier,
                           nonnegative_int, positive_int)
from ..core.cost import flops_of
from ..core.graph import Node, Seq, SizeError
from ..core.shapes import Shape
from ..errors import CostlabError, require
from .blocks import bottleneck, conv, fused_mbconv, mbconv, stacked_convs
from .scaling import scale_channels_floor, scale_size_round, squeeze_of_input
from .seed_kinds import CARDINALITY, LAYERS, OPTION_FIELDS, REDUCTION, SEED_KINDS, check_option, kinds_using, \
    options_of, seed_graph

# kinds that take --kernel (and a kernel variant after a colon); the seed's blocks have fixed kernels
KERNEL_KINDS = ("conv", "depthwise", "dwsep", "mbconv", "fused-mbconv", "bottleneck")
KINDS = ("conv", "depthwise", "pointwise", "dwsep", "mbconv", "fused-mbconv", "bottleneck") + tuple(SEED_KINDS)
KIND_ALIASES = {"fused_mbconv": "fused-mbconv"}  # the TOML spelling works here too
# kinds whose kernel may be given after a colon (conv:5, dwsep:3x2); the others have a fixed or single kernel
STACKABLE = ("conv", "depthwise", "dwsep")
_KIND_RE = re.compile(r"^(?P<base>[a-z_-]+)(?::(?P<kernel>\d+)(?:x(?P<repeats>\d+))?)?$")


@dataclass(frozen=True)
class Setting:
    """The shared inputs of a comparison, after alpha and rho are applied."""

    cin: int
    cout: int
    kernel: int = 3
    height: int = 224
    width: int = 224
    stride: int = 1
    bias: bool = False
    groups: int = 1
    expand: int = 6
    se: Optional[Fraction] = None
    padding: Optional[int] = None  # None: 'same', d * (k - 1) // 2
    reduction: Optional[int] = None  # seed 004's r / rate, cardinality c and layers d; None: the seed's default
    cardinality: Optional[int] = None
    layers: Optional[int] = None


@dataclass(frozen=True)
class Kind:
    """A KIND as typed: base name, kernel size and how many are stacked ('conv:3x2' -> conv, 3, 2)."""

    text: str
    base: str
    kernel: Optional[int]
    repeats: int

    @property
    def uses_kernel_option(self) -> bool:
        """Whether --kernel sets this KIND's kernel (no kernel of its own after a colon, not 1x1, not fixed)."""
        return self.kernel is None and self.base in KERNEL_KINDS

    @property
    def inputs(self) -> int:
        """How many --cin-channel inputs the KIND takes (two for the NASNet cell)."""
        return SEED_KINDS[self.base].inputs if self.base in SEED_KINDS else 1


def parse_kind(text: str) -> Kind:
    """'dwsep' -> Kind(dwsep, None, 1); 'conv:5' -> (conv, 5, 1); 'conv:3x2' -> (conv, 3, 2)."""
    match = _KIND_RE.match(text)
    base = KIND_ALIASES.get(match["base"], match["base"]) if match else None
    if base not in KINDS:
        raise CostlabError(f"unknown kind {text!r}; known: {', '.join(KINDS)} (kernel variants like conv:5, conv:3x2)")
    kernel = int(match["kernel"]) if match["kernel"] else None
    repeats = int(match["repeats"]) if match["repeats"] else 1
    if kernel is not None:
        positive_int(kernel, f"kernel in kind {text!r}", MAX_KERNEL)
    positive_int(repeats, f"repeat count in kind {text!r}", MAX_REPEATS)
    require(repeats == 1 or base in STACKABLE, f"kind {text!r}: only {', '.join(STACKABLE)} can be stacked")
    require(kernel is None or base != "pointwise", f"kind {text!r}: a pointwise conv is always 1x1")
    require(kernel is None or base in KERNEL_KINDS, f"kind {text!r}: {base} has the seed's fixed kernels, no variant")
    return Kind(text, base, kernel, repeats)


def kind_graph(kind: Kind, s: Setting) -> Node:
    """The graph of one KIND: bare convs for conv/depthwise/pointwise/dwsep (as in the seeds), blocks with BN otherwise."""
    if kind.base in SEED_KINDS:
        return seed_graph(kind.base, kind.text, s)
    k = kind.kernel or s.kernel
    if kind.base == "conv":
        require(s.cin % s.groups == 0 and s.cout % s.groups == 0,
                f"--groups {s.groups} must divide --cin {s.cin} and --cout {s.cout}")
        if kind.repeats == 1:
            return Seq(kind.text, (conv("conv", s.cin, s.cout, k, s.stride, s.groups, s.bias, s.padding),))
        return stacked_convs(kind.text, s.cin, s.cout, k, kind.repeats, s.stride, bias=s.bias, padding=s.padding)
    if kind.base == "depthwise":  # cin -> cout = m x cin: m filters per channel (PyTorch's and Keras' multiplier)
        require(s.cout % s.cin == 0, f"--cout {s.cout} must be a multiple of --cin {s.cin} for depthwise: each of the "
                                     f"{s.cin} channels is filtered on its own (use conv or dwsep to change the width)")
        return Seq(kind.text, tuple(
            conv(f"dw{i}" if kind.repeats > 1 else "dw", s.cin if i == 0 else s.cout, s.cout, k,
                 s.stride if i == 0 else 1, s.cin if i == 0 else s.cout, s.bias, s.padding)
            for i in range(kind.repeats)))
    if kind.base == "pointwise":
        return Seq(kind.text, (conv("pw", s.cin, s.cout, 1, s.stride, 1, s.bias),))
    if kind.base == "dwsep":
        return stacked_convs(kind.text, s.cin, s.cout, k, kind.repeats, s.stride, separable=True, bias=s.bias,
                             padding=s.padding)
    se_channels = squeeze_of_input(s.cin, s.se) if s.se else 0
    if kind.base == "mbconv":
        return mbconv(kind.text, s.cin, s.cout, k, s.stride, s.cin * s.expand, se_channels)
    if kind.base == "fused-mbconv":
        return fused_mbconv(kind.text, s.cin, s.cout, k, s.stride, s.cin * s.expand, se_channels)
    require(s.cout % 4 == 0, f"bottleneck needs --cout divisible by 4 (width = cout / 4), got {s.cout}")
    require((s.cout // 4) % s.groups == 0, f"--groups {s.groups} must divide the bottleneck width {s.cout // 4}")
    return bottleneck(kind.text, s.cin, s.cout // 4, s.cout, s.stride, s.groups)


def make_setting(cin: int, cout: int, kernel: int = 3, height: int = 224, width: int = 224, stride: int = 1,
                 bias: bool = False, groups: int = 1, expand: int = 6, se: Optional[float] = None,
                 alpha: Optional[float] = None, rho: Optional[float] = None, padding: Optional[int] = None,
                 size_name: str = "", reduction: Optional[int] = None, cardinality: Optional[int] = None,
                 layers: Optional[int] = None) -> Setting:
    """Validate the inputs and apply MobileNet's multipliers: channels int(alpha * C), sizes round(rho * S).
    size_name: the option the sizes came from ('--size'), to name it in errors instead of --height/--width."""
    for what, value, limit in (("--cin", cin, MAX_CHANNELS), ("--cout", cout, MAX_CHANNELS),
                               ("--kernel", kernel, MAX_KERNEL), (size_name or "--height", height, MAX_SIZE),
                               (size_name or "--width", width, MAX_SIZE), ("--stride", stride, MAX_KERNEL),
                               ("--groups", groups, MAX_CHANNELS), ("--expand", expand, MAX_MULTIPLIER)):
        positive_int(value, what, limit)
    if padding is not None:
        nonnegative_int(padding, "--padding", MAX_KERNEL)
    for option, value in ((REDUCTION, reduction), (CARDINALITY, cardinality), (LAYERS, layers)):
        check_option(option, value)
    if alpha is not None:
        multiplier(alpha, "--alpha")
        cin, cout = scale_channels_floor(cin, alpha), scale_channels_floor(cout, alpha)
        require(cin >= 1 and cout >= 1, f"--alpha {alpha:g} leaves no channels ({cin} -> {cout})")
        require(max(cin, cout) <= MAX_CHANNELS, f"--alpha {alpha:g} gives {max(cin, cout):,} channels; at most "
                                                f"{MAX_CHANNELS:,}")
    if rho is not None:
        multiplier(rho, "--rho")
        height, width = scale_size_round(height, rho), scale_size_round(width, rho)
        require(height >= 1 and width >= 1, f"--rho {rho:g} leaves no pixels ({height}x{width})")
        require(max(height, width) <= MAX_SIZE, f"--rho {rho:g} gives a {height}x{width} input; at most {MAX_SIZE:,} "
                                                f"pixels a side")
    if se is not None:
        require(isinstance(se, (int, float)) and 0 < se <= 1, f"--se must be a ratio in (0, 1], got {se}")
    return Setting(cin, cout, kernel, height, width, stride, bias, groups, expand,
                   Fraction(str(se)) if se is not None else None, padding, reduction, cardinality, layers)


# which KINDs each block option means something to; an option none of the given KINDs uses is an error
OPTION_KINDS = {
    "--groups": ("conv", "bottleneck"),
    "--se": ("mbconv", "fused-mbconv"),
    "--expand": ("mbconv", "fused-mbconv"),
    "--padding": ("conv", "depthwise", "pointwise", "dwsep"),
    **{option: kinds_using(option) for option in OPTION_FIELDS},
}


def check_options_apply(kinds: list[str], given: dict[str, object]) -> None:
    """Refuse an option (given as {'--groups': 2, ...}, None = not given) that none of the KINDs uses."""
    parsed = [parse_kind(k) for k in kinds]
    for option, value in given.items():
        if value is None:
            continue
        if option == "--kernel":
            users = [k.text for k in parsed if k.uses_kernel_option]
        else:
            users = [k.text for k in parsed if k.base in OPTION_KINDS[option]]
        if not users:
            raise CostlabError(f"{option} {value} applies to none of the KINDs {' '.join(kinds)}")
        others = [k.text for k in parsed if k.text not in users]
        if option == "--padding" and others:  # they keep their own padding: outputs of different sizes side by side
            raise CostlabError(f"--padding {value} applies to {' '.join(users)} but not to {' '.join(others)}, which "
                               f"keep their own padding; compare them in separate runs")


@dataclass(frozen=True)
class Compared:
    """One KIND of a comparison: its cost, output, ratios to the first KIND and, for a kxk dwsep against a kxk
    conv, MobileNet's closed form 1/N + 1/k^2; options: a seed KIND's (option, value) pairs, as built."""

    name: str
    params: int
    macs: int
    output_shape: Shape
    params_ratio: Optional[float]
    macs_ratio: Optional[float]
    closed_form_macs_ratio: Optional[Fraction] = None
    closed_form: str = ""
    kernel: Optional[int] = 3  # None: a seed block, whose kernels are fixed
    repeats: int = 1
    setting: Optional[Setting] = None
    options: tuple[tuple[str, int], ...] = ()

    @property
    def flops(self) -> int:
        return flops_of(self.macs)

    def to_dict(self) -> dict:
        """JSON / CSV shape: name, params, macs, flops, output_shape, ratios (the closed form None where it does not
        apply), then the setting it was counted at: cin, cout (after alpha), kernel, repeats, height, width, stride,
        bias, and for a seed KIND the reduction, cardinality and layers it was built with."""
        out = {"name": self.name, "params": self.params, "macs": self.macs, "flops": self.flops,
               "output_shape": list(self.output_shape.dims), "params_ratio": self.params_ratio,
               "macs_ratio": self.macs_ratio}
        closed = self.closed_form_macs_ratio
        out["closed_form_macs_ratio"] = None if closed is None else float(closed)
        out["closed_form"] = self.closed_form or None
        s = self.setting
        if s is not None:
            out.update({"cin": s.cin, "cout": s.cout, "kernel": self.kernel, "repeats": self.repeats,
                        "height": s.height, "width": s.width, "stride": s.stride, "bias": s.bias})
        out.update({OPTION_FIELDS[option]: value for option, value in self.options})
        return out


def _analyzed(kind: Kind, setting: Setting, shape: Shape):
    """analyze the KIND, a layer grown past a size limit told with the options it grew from."""
    try:
        return analyze(kind_graph(kind, setting), shape if kind.inputs == 1 else (shape,) * kind.inputs,
                       name=kind.text)
    except SizeError as exc:
        seed = options_of(kind.base, setting) if kind.base in SEED_KINDS else {}
        grown = ", ".join([f"--cin {setting.cin}", f"--cout {setting.cout}"] + [f"{o} {v}" for o, v in seed.items()])
        raise CostlabError(f"{kind.text}: {exc} (from {grown})") from None


def compare(kinds: list[str], setting: Setting) -> list[Compared]:
    """One result per KIND (as typed): params, macs, flops, output shape and ratios to the first KIND."""
    require(len(kinds) >= 1, "give at least one KIND")
    parsed = [parse_kind(k) for k in kinds]
    for kind in parsed:
        k = kind.kernel or setting.kernel
        if setting.padding is None and k % 2 == 0 and setting.stride > 1 and kind.base in STACKABLE:
            raise CostlabError(f"--padding same with the even kernel of {kind.text} ({k}x{k}) needs --stride 1, as "
                               f"PyTorch's padding='same' does; give --padding P")
    shape = Shape(setting.cin, setting.height, setting.width)
    results = [_analyzed(kind, setting, shape) for kind in parsed]
    first = results[0]
    out = []
    for kind, result in zip(parsed, results):
        closed = closed_form_ratio(parsed[0], kind, setting)
        out.append(Compared(
            kind.text, result.params, result.macs, result.output_shape,
            result.params / first.params if first.params else None,
            result.macs / first.macs if first.macs else None,
            closed, f"1/N + 1/k^2 = 1/{setting.cout} + 1/{(kind.kernel or setting.kernel) ** 2}" if closed else "",
            _kernel_of(kind, setting), kind.repeats, setting,
            tuple(options_of(kind.base, setting).items()) if kind.base in SEED_KINDS else ()))
    return out


def _kernel_of(kind: Kind, s: Setting) -> Optional[int]:
    """The kernel a KIND's row reports: 1 for pointwise, its own or --kernel, None for the seed's fixed kernels."""
    if kind.base in SEED_KINDS:
        return None
    return 1 if kind.base == "pointwise" else kind.kernel or s.kernel


def closed_form_ratio(base: Kind, kind: Kind, s: Setting) -> Optional[Fraction]:
    """MobileNet's dwsep / conv MAC ratio 1/N + 1/k^2, when base is one kxk conv and kind the matching dwsep."""
    if base.base != "conv" or base.repeats != 1 or kind.base != "dwsep" or kind.repeats != 1 or s.groups != 1:
        return None
    k = kind.kernel or s.kernel
    if (base.kernel or s.kernel) != k:
        return None
    return Fraction(1, s.cout) + Fraction(1, k * k)


# --- 5x5 versus two stacked 3x3 ------------------------------------------------------------------------

@dataclass(frozen=True)
class BreakEven:
    """One output width N: MACs of one 5x5 and of two stacked 3x3, exact and in MnasNet's simplification."""

    n: int
    m: int
    macs_5x5: int
    macs_3x3x2: int
    simplified_5x5: int
    simplified_3x3x2: int

    @property
    def cheaper(self) -> str:
        return _cheaper(self.macs_5x5, self.macs_3x3x2)

    @property
    def cheaper_simplified(self) -> str:
        return _cheaper(self.simplified_5x5, self.simplified_3x3x2)

    def to_dict(self) -> dict:
        return {"n": self.n, "m": self.m, "macs_5x5": self.macs_5x5, "macs_3x3x2": self.macs_3x3x2,
                "simplified_5x5": self.simplified_5x5, "simplified_3x3x2": self.simplified_3x3x2,
                "cheaper": self.cheaper, "cheaper_simplified": self.cheaper_simplified}


def _cheaper(five: int, two: int) -> str:
    return "5x5" if five < two else "3x3x2" if two < five else "equal"


def breakeven(separable: bool, n_values: list[int], cin: Optional[int] = None, size: int = 224) -> list[BreakEven]:
    """MACs of one 5x5 and of two stacked 3x3 (exact, and MnasNet's simplification) for each output width N.

    Separable, simplified (MnasNet): C5 = HWM(25 + N), C3x2 = 2HWM(9 + N).
    Standard: C5 = 25HWMN, C3x2 = 9HWMN + 9HWN^2 (the second 3x3 sees N channels; exact as written).
    M = cin, or M = N when cin is not given. Exact counts come from the formulas, through compare().
    """
    positive_int(size, "--size", MAX_SIZE)
    base = "dwsep" if separable else "conv"
    rows = []
    for n in n_values:
        m = cin if cin is not None else n
        five, two = compare([f"{base}:5", f"{base}:3x2"], make_setting(m, n, height=size, width=size))
        hw = size * size
        if separable:
            simple5, simple3 = hw * m * (25 + n), 2 * hw * m * (9 + n)
        else:
            simple5, simple3 = 25 * hw * m * n, 9 * hw * m * n + 9 * hw * n * n
        rows.append(BreakEven(n, m, five.macs, two.macs, simple5, simple3))
    return rows


@dataclass(frozen=True)
class Run:
    """A stretch of consecutive N over which the cheaper choice stays the same."""

    choice: str  # '5x5', '3x3x2' or 'equal'
    first: int
    last: int


def runs(rows: list[BreakEven], simplified: bool = False) -> list[Run]:
    """The cheaper choice as runs over N: where it flips is where one run ends and the next begins."""
    out: list[Run] = []
    for row in rows:
        choice = row.cheaper_simplified if simplified else row.cheaper
        if out and out[-1].choice == choice:
            out[-1] = Run(choice, out[-1].first, row.n)
        else:
            out.append(Run(choice, row.n, row.n))
    return out


def flips(rows: list[BreakEven], simplified: bool = False) -> list[str]:
    """Sentences naming every N where the cheaper choice changes: 'N=6: 3x3x2 -> N=7: equal'."""
    r = runs(rows, simplified)
    return [f"N={a.last}: {a.choice} -> N={b.first}: {b.choice}" for a, b in zip(r, r[1:])]
