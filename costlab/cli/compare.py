"""`costlab compare` and `costlab breakeven`: analytic, no torch."""

from __future__ import annotations

from typing import Optional

import click

from ..core.checks import MAX_CHANNELS, number_text, positive_int
from ..core.conventions import DEFAULT_CONVENTION

MAX_POINTS = 10_000  # values of N in one breakeven
from ..errors import CostlabError, require
from ..io.render import dims_text, emit, grouped_int
from ..nets.compare import breakeven as breakeven_rows
from ..nets.compare import check_options_apply, flips, make_setting, parse_kind, runs
from ..nets.compare import compare as compare_rows
from ..nets.seed_kinds import OPTION_FIELDS
from ..nets.seed_kinds import notes as seed_notes
from .options import FLOAT, INT, chart_option, format_option, output


def _plots():
    from ..plots import compare as charts

    return charts


def _ratio(value: Optional[float]) -> str:
    return "" if value is None else f"{value:.4f}"


@click.command()
@click.argument("kinds", nargs=-1, required=True, metavar="KIND...")
@click.option("--cin", type=INT, required=True, help="Input channels M.")
@click.option("--cout", type=INT, required=True, help="Output channels N.")
@click.option("--kernel", type=INT, default=None, help="Kernel size k (a KIND may override: conv:5)  [default: 3].")
@click.option("--size", type=INT, default=None, help="Input height and width  [default: 224].")
@click.option("--height", type=INT, default=None, help="Input height (instead of --size).")
@click.option("--width", type=INT, default=None, help="Input width (instead of --size).")
@click.option("--stride", type=INT, default=1, show_default=True)
@click.option("--padding", default=None,
              help="'same' (d(k-1)/2, PyTorch's size rule after it) or an integer, for conv/depthwise/pointwise/dwsep"
                   "  [default: same].")
@click.option("--groups", type=INT, default=None, help="Groups for conv and bottleneck (ResNeXt)  [default: 1].")
@click.option("--bias/--no-bias", default=False, show_default=True,
              help="Conv biases (PyTorch's default is on), and the Dense biases of seed 004's blocks.")
@click.option("--expand", type=INT, default=None, help="Expansion ratio of mbconv / fused-mbconv  [default: 6].")
@click.option("--se", type=FLOAT, default=None, help="Squeeze-excitation ratio of mbconv blocks (e.g. 0.25).")
@click.option("--alpha", type=FLOAT, default=None, help="Width multiplier: channels become int(alpha * C).")
@click.option("--rho", type=FLOAT, default=None, help="Resolution multiplier: sizes become round(rho * S).")
@click.option("--reduction", type=INT, default=None,
              help="Seed 004's r (SE's rate) for bottleneck-seed, inception, residual, resnext(-grouped), se, "
                   "inv-residual  [default: the seed's, 4; resnext 2; se 16].")
@click.option("--cardinality", type=INT, default=None, help="Seed 004's c: resnext's paths (groups of resnext-grouped)"
                                                            "  [default: 4].")
@click.option("--layers", type=INT, default=None, help="Seed 004's d: the dense block's convs  [default: 5].")
@format_option
@chart_option(help="Also draw params and MACs to FILE.png|.svg.")
def compare(kinds, cin, cout, kernel, size, height, width, stride, padding, groups, bias, expand, se, alpha, rho,
            reduction, cardinality, layers, fmt, chart):
    """Layer and block KINDs side by side: params, MACs, FLOPs (= 2 x MACs) and ratios to the first KIND.

    KINDs: conv, depthwise, pointwise, dwsep, mbconv, fused-mbconv, bottleneck; a kernel variant
    goes after a colon: conv:5 is one 5x5, conv:3x2 two stacked 3x3 (likewise dwsep:5, dwsep:3x2).
    conv/depthwise/pointwise/dwsep are bare convolutions (as the MobileNet paper counts them);
    mbconv, fused-mbconv and bottleneck include their BatchNorms. depthwise maps cin -> cin.

    Seed 004's Keras blocks (convs with ReLU, biases with --bias, no BatchNorm): bottleneck-seed,
    inception-naive, inception, residual, resnext, resnext-grouped (its paths as one grouped 3x3),
    dense, se, nasnet-normal (two --cin inputs), inv-residual; the seed's f is --cout.

    Example: costlab compare conv dwsep --cin 3 --cout 256
    """
    if size is not None and (height is not None or width is not None):
        raise CostlabError("give either --size or --height/--width, not both")
    check_options_apply(list(kinds), {"--kernel": kernel, "--groups": groups, "--se": se, "--expand": expand,
                                      "--padding": padding, "--reduction": reduction, "--cardinality": cardinality,
                                      "--layers": layers})
    h = height if height is not None else (size if size is not None else 224)
    w = width if width is not None else (size if size is not None else 224)
    setting = make_setting(cin, cout, 3 if kernel is None else kernel, h, w, stride, bias,
                           1 if groups is None else groups, 6 if expand is None else expand, se, alpha, rho,
                           _padding("same" if padding is None else padding), "--size" if size is not None else "",
                           reduction, cardinality, layers)
    results = compare_rows(list(kinds), setting)
    rows = [r.to_dict() for r in results]
    if fmt == "json":  # every setting a row was counted at, so the file says how it was made
        rows = [{**row, "padding": "same" if setting.padding is None else setting.padding, "groups": setting.groups,
                 "convention": DEFAULT_CONVENTION} for row in rows]
    footer = "\n".join(filter(None, [_closed_form_footer(rows), *seed_notes(results)]))
    display = [("name", "kind", None), ("output_shape", "output", dims_text), ("params", "params", grouped_int),
               ("params_ratio", "params ratio", _ratio), ("macs", "MACs", grouped_int),
               ("macs_ratio", "MACs ratio", _ratio), ("flops", "FLOPs", grouped_int)]
    # the seed's options a KIND was built with: in every row when any KIND has them (null for the others), and as
    # columns of the table after the kind
    seed_fields = [field for field in OPTION_FIELDS.values() if any(field in row for row in rows)]
    for row in rows:
        for field in seed_fields:
            row.setdefault(field, None)
    display[1:1] = [(field, field, _blank_none) for field in seed_fields]
    # the kernel in the header only when a KIND takes it from --kernel (conv:5 and conv:3x2 carry their own)
    uses_kernel = any(parse_kind(k).uses_kernel_option for k in kinds)
    header = (f"M={setting.cin} -> N={setting.cout}" + (f", k={setting.kernel}" if uses_kernel else "")
              + f", input {setting.height}x{setting.width}, stride {setting.stride}, bias {'on' if setting.bias else 'off'}")
    text = emit(fmt, rows, display, footer=footer)
    output(f"{header}\n\n{text}" if fmt in ("table", "markdown") else text,
           (chart, lambda: _plots().compare_figure(results, f"Compare: {header}")))


def _blank_none(value: Optional[int]) -> str:
    return "" if value is None else str(value)


def _padding(text: str) -> Optional[int]:
    if text == "same":
        return None
    try:
        return int(number_text(text, "--padding"))
    except ValueError:
        raise CostlabError(f"--padding must be 'same' or an integer >= 0, got {text!r}") from None


def _closed_form_footer(rows: list[dict]) -> str:
    lines = []
    for row in rows:
        if row["closed_form_macs_ratio"] is not None:
            lines.append(f"{row['name']} / {rows[0]['name']} MACs = {row['macs_ratio']:.6f}; "
                         f"closed form {row['closed_form']} = {row['closed_form_macs_ratio']:.6f}")
    return "\n".join(lines)


def _n_range(text: str) -> list[int]:
    try:
        lo, _, hi = text.partition("..")
        start, stop = int(number_text(lo, "--n")), int(number_text(hi or lo, "--n"))
    except ValueError:
        raise CostlabError(f"--n must look like 1..64, got {text!r}") from None
    require(1 <= start <= stop, f"--n range {text!r} must have 1 <= start <= stop")
    require(stop <= MAX_CHANNELS, f"--n range {text!r}: N must be at most {MAX_CHANNELS:,}")
    require(stop - start < MAX_POINTS, f"--n range {text!r} is too long: at most {MAX_POINTS:,} values of N")
    return list(range(start, stop + 1))


@click.command()
@click.option("--kind", type=click.Choice(["dwsep", "conv"]), default="dwsep", show_default=True,
              help="Separable (MnasNet's argument) or standard (VGG's argument) convolutions.")
@click.option("--n", "n_range", default="1..64", show_default=True, help="Output widths N to scan, START..STOP (or one N).")
@click.option("--cin", type=INT, default=None, help="Input channels M  [default: M = N].")
@click.option("--size", type=INT, default=224, show_default=True, help="Input height and width.")
@format_option
@chart_option(help="Draw the 5x5 / 3x3x2 MAC ratio to FILE.png|.svg.")
def breakeven(kind, n_range, cin, size, fmt, chart):
    """One 5x5 versus two stacked 3x3 (same receptive field) across output widths N: where the cheaper choice flips.

    Separable (MnasNet): C5 = HWM(25 + N) vs C3x2 = 2HWM(9 + N), so one 5x5 is cheaper exactly when N > 7.
    Standard: 25MN vs 9MN + 9N^2; with M = N two 3x3 are always cheaper (25 vs 18).
    Exact counts come from the formula registry (the second 3x3 sees N input channels).
    """
    if cin is not None:
        positive_int(cin, "--cin", MAX_CHANNELS)
    results = breakeven_rows(kind == "dwsep", _n_range(n_range), cin, size)
    rows = [r.to_dict() for r in results]
    summary = _breakeven_summary(kind, results, cin)
    display = [("n", "N", None), ("m", "M", None), ("macs_5x5", "5x5 MACs", grouped_int),
               ("macs_3x3x2", "3x3x2 MACs", grouped_int), ("cheaper", "cheaper", None),
               ("simplified_5x5", "simplified 5x5", grouped_int),
               ("simplified_3x3x2", "simplified 3x3x2", grouped_int), ("cheaper_simplified", "cheaper (simpl.)", None)]
    label = "depthwise-separable" if kind == "dwsep" else "standard"
    output(emit(fmt, rows, display, footer=summary if fmt in ("table", "markdown") else ""),
           (chart, lambda: _plots().breakeven_figure(results, f"One 5x5 vs two 3x3, {label} convs, M = {cin or 'N'}, "
                                                                f"{size}x{size}")))


def _breakeven_summary(kind: str, rows: list, cin: Optional[int]) -> str:
    m = f"M = {cin}" if cin else "M = N"
    formula = ("simplified C5 = HWM(25+N), C3x2 = 2HWM(9+N); exact C3x2 = HW(9M + MN + 9N + N^2)"
               if kind == "dwsep" else "C5 = 25HWMN, C3x2 = 9HWMN + 9HWN^2")
    lines = [f"{kind}, {m}: {formula}"]
    equal = [r.n for r in rows if r.cheaper == "equal"]
    if equal:
        lines.append(f"equal cost at N = {', '.join(map(str, equal))}")
    for label, simplified in (("exact", False), ("simplified", True)):
        changes = flips(rows, simplified)
        lines.append(f"cheaper choice flips ({label}): "
                     + ("; ".join(changes) if changes else f"never; always {runs(rows, simplified)[0].choice}"))
        last = runs(rows)[-1]
        if not simplified and last.choice != "equal":
            lines.append(f"=> {last.choice} is cheaper for every N from {last.first} to {last.last}")
    return "\n".join(lines)
