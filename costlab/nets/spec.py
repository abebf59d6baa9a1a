"""User architectures in TOML, loaded onto the same dataclasses as the built-ins (strict).

Unknown keys, wrong types and impossible shapes raise a CostlabError naming the file, the key and,
where it can be found, the line. Layout (see specs/examples/)::

    name = "tiny_mbconv"          # required
    family = "custom"             # optional label
    resolution = 160              # required: the native input size
    rules = "efficientnet"        # a preset (mobilenet_v1, mobilenet_v2, mobilenet_v3, mnasnet, efficientnet,
                                  # resnet, densenet, squeezenet, shufflenet_v2, inception, mixnet, xception,
                                  # nasnet) or a [rules] table: preset = ..., plus any Rules field to override
                                  # (width_rule = "torchvision" | "paper", se_pool = "adaptive" | "mean", ...)
    width_mult = 1.0              # optional; depth_mult, in_channels likewise
    [stem]        channels, kernel, stride, act, maxpool
    [[stages]]    block, channels, repeats, stride, kernel (an int, or a list: a mixed depthwise conv), expand,
                  expanded, se (true/false or a ratio), expand_groups, project_groups, act, groups, ...
    [head]        channels | per_input, scale, act          (optional; no head conv without it)
    [classifier]  classes, hidden, hidden_scale, hidden_act, pool           (optional)
    [blocks.NAME] output, inputs, passes, and one [[blocks.NAME.nodes]] table per node: name, op, inputs and the
                  op's keys (channels = "widths[0]": integers or expressions of the stage's values); a stage uses
                  it as block = "NAME" (nets/graph_spec.py has the format, nets/graph_block.py what it means)
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

from ..errors import CostlabError
from ..io.toml import key_line, load as load_toml
from .graph_spec import load_blocks, resolve, shape_error
from .model import BLOCK_ALIASES, Arch, ArchError, Classifier, Head, Stage, Stem
from .scaling import Rules
from .stages import stage_kind

INT, FLOAT, STR, BOOL, INTS = "an integer", "a number", "a string", "true or false", "a list of integers"
INT_OR_INTS, BOOL_OR_FLOAT = "an integer or a list of integers", "true, false or a number"

TOP = {"name": STR, "family": STR, "resolution": INT, "rules": None, "width_mult": FLOAT, "depth_mult": FLOAT,
       "in_channels": INT, "stem": dict, "stages": list, "head": dict, "classifier": dict, "blocks": dict}
SCHEMAS: dict[str, dict[str, str]] = {
    "stem": {"channels": INT, "kernel": INT, "stride": INT, "act": STR, "maxpool": BOOL},
    "stages": {"block": STR, "channels": INT, "repeats": INT, "stride": INT, "kernel": INT_OR_INTS, "expand": FLOAT,
               "expanded": INT, "se": BOOL_OR_FLOAT, "expand_groups": INT, "project_groups": INT, "act": STR,
               "groups": INT, "widths": INTS, "padding": INT, "ceil": BOOL, "bias": BOOL, "bn": BOOL, "functional": BOOL,
               "first_act": BOOL},
    "head": {"channels": INT, "per_input": INT, "scale": STR, "act": STR},
    "classifier": {"classes": INT, "hidden": INTS, "hidden_scale": STR, "hidden_act": STR, "pool": STR, "fc": BOOL},
    "rules": {"preset": STR, "width": STR, "expand": STR, "act": STR, "se": STR, "se_act": STR, "se_gate": STR,
              "se_pool": STR, "width_rule": STR, "stem_kept_below": FLOAT},
}
REQUIRED = {"stem": ("channels",), "stages": ("block",), "head": (), "classifier": (), "rules": ()}
# keys that cannot go together in one table: the second would be silently ignored, so either is refused with both named
EXCLUSIVE = {
    "stages": (("expand", "expanded", "expanded gives the expanded width itself"),),
    "head": (("channels", "per_input", "a head is channels wide or per_input x its input"),
             ("per_input", "scale", "scale applies to channels, not to per_input")),
    "classifier": (("hidden_scale", None, "hidden_scale applies to hidden layers"),
                   ("hidden_act", None, "hidden_act applies to hidden layers")),
}


class _Ctx:
    """The file being read, to name it and find the line of a key."""

    def __init__(self, path: str, text: str) -> None:
        self.path, self.text = path, text

    def line_of(self, table: str, index: Optional[int], key: Optional[str]) -> Optional[int]:
        return key_line(self.text, table, index, key)

    def error(self, message: str, table: str = "", index: Optional[int] = None, key: Optional[str] = None) -> CostlabError:
        where = table + (f"[{index}]" if index is not None else "")
        where = f"{where}.{key}" if where and key else (key or where)
        line = self.line_of(table, index, key) if (table or key) else None
        if line is None and table and key:  # a defaulted key is not in the file: point at its table instead
            line = self.line_of(table, index, None)
        loc = f"{self.path}:{line}" if line else self.path
        return CostlabError(f"{loc}: {where}: {message}" if where else f"{loc}: {message}")


def load_arch(path: str | Path) -> Arch:
    """Read a TOML architecture file into an Arch; every problem is one CostlabError naming file and key."""
    data, text = load_toml(path, "architecture file")
    ctx = _Ctx(str(path), text)
    arch = _arch(data, ctx)
    _check_shapes(arch, ctx)
    return arch


def _arch(data: dict, ctx: _Ctx) -> Arch:
    if "budget" in data and "stages" not in data:
        raise ctx.error(f"this is a budget file ([[budget]] tables), not an architecture: use costlab check "
                        f"{ctx.path}", key="budget")
    for key, value in data.items():
        if key not in TOP:
            raise ctx.error(f"unknown key; known: {', '.join(TOP)}", key=key)
    for key in ("name", "resolution", "stages"):
        if key not in data:
            raise ctx.error(f"missing required key {key!r}")
    for key in ("name", "family", "resolution", "width_mult", "depth_mult", "in_channels"):
        if key in data:
            _check_type(data[key], TOP[key], ctx, "", None, key)
    for key in ("stem", "head", "classifier"):
        if key in data and not isinstance(data[key], dict):
            raise ctx.error(f"must be a table [{key}]", key=key)
    stages = data["stages"]
    if not isinstance(stages, list) or not stages or not all(isinstance(s, dict) for s in stages):
        raise ctx.error("must be one or more [[stages]] tables", key="stages")
    rules = _rules(data.get("rules", "efficientnet"), ctx)
    stem = _make(Stem, "stem", None, data["stem"], ctx) if "stem" in data else None
    blocks = load_blocks(data["blocks"], ctx) if "blocks" in data else {}
    stage_rows = tuple(_make(Stage, "stages", i, s, ctx, blocks) for i, s in enumerate(stages))
    head = _make(Head, "head", None, data.get("head", {}), ctx)
    classifier = _make(Classifier, "classifier", None, data.get("classifier", {}), ctx)
    top = {k: data[k] for k in ("width_mult", "depth_mult", "in_channels") if k in data}
    try:
        return Arch(data["name"], data.get("family", "custom"), data["resolution"], stem, stage_rows, head,
                    classifier, rules, **top)
    except ArchError as exc:
        raise ctx.error(exc.detail, key=exc.key) from None
    except CostlabError as exc:
        raise ctx.error(str(exc)) from None


def _rules(value: Any, ctx: _Ctx) -> Rules:
    from .tables import RULE_PRESETS

    as_table = isinstance(value, dict)
    if isinstance(value, str):
        value = {"preset": value}
    if not isinstance(value, dict):
        raise ctx.error("must be a preset name or a [rules] table", key="rules")
    fields = _fields(value, "rules", None, ctx)
    preset = fields.pop("preset", "efficientnet")
    if preset not in RULE_PRESETS:
        where = {"table": "rules", "key": "preset"} if as_table else {"key": "rules"}
        raise ctx.error(f"unknown preset {preset!r}; known: {', '.join(RULE_PRESETS)}", **where)
    try:
        return replace(RULE_PRESETS[preset], **fields)
    except CostlabError as exc:
        raise ctx.error(str(exc), table="rules") from None


def _fields(table: dict, name: str, index: Optional[int], ctx: _Ctx) -> dict:
    schema = SCHEMAS[name]
    for key in table:
        if key not in schema:
            raise ctx.error(f"unknown key; known: {', '.join(schema)}", name, index, key)
    for key in REQUIRED[name]:
        if key not in table:
            raise ctx.error(f"missing required key {key!r}", name, index)
    out = {}
    for key, value in table.items():
        _check_type(value, schema[key], ctx, name, index, key)
        out[key] = tuple(value) if isinstance(value, list) else value
    return out


def _check_exclusive(fields: dict, name: str, index: Optional[int], ctx: _Ctx) -> None:
    """Refuse a pair of EXCLUSIVE keys given together (a None partner: the key needs 'hidden', or fc = false with
    classes), at the line of the key written second."""
    pairs = EXCLUSIVE.get(name, ())
    if name == "classifier" and fields.get("fc") is False:
        pairs += (("classes", "fc", "fc = false ends the network with the pool, so it has no classes"),)
    for a, b, why in pairs:
        if b is None and a in fields and not fields.get("hidden"):
            raise ctx.error(f"{a} without hidden: {why}, and there are none", name, index, a)
        if b is not None and a in fields and b in fields:
            later = max((a, b), key=lambda k: ctx.line_of(name, index, k) or 0)
            raise ctx.error(f"{a} and {b} cannot go together: {why}", name, index, later)


def _make(cls, name: str, index: Optional[int], table: dict, ctx: _Ctx, blocks: Optional[dict] = None):
    fields = _fields(table, name, index, ctx)
    if cls is Stage:
        fields = resolve(fields, blocks or {}, ctx, index)
        _check_keys_apply(fields, index, ctx)
    try:
        made = cls(**fields)
    except ArchError as exc:
        raise ctx.error(exc.detail, name, index, exc.key) from None
    except CostlabError as exc:
        raise ctx.error(str(exc), name, index) from None
    _check_exclusive(fields, name, index, ctx)  # after each value's own check, which names its limit
    return made


def _check_keys_apply(fields: dict, index: Optional[int], ctx: _Ctx) -> None:
    """A key the stage's block gives no meaning to is an error at its line, even when it holds the default value."""
    block = BLOCK_ALIASES.get(fields["block"], fields["block"]) if isinstance(fields["block"], str) else fields["block"]
    kind = stage_kind(block)
    if kind is None:
        return  # the Stage itself names the unknown block
    for key in fields:
        if key != "block" and key not in kind.keys:
            raise ctx.error(f"does not apply to a {block!r} block (it takes: {', '.join(kind.keys)})", "stages",
                            index, key)


def _check_type(value: Any, kind: str, ctx: _Ctx, table: str, index: Optional[int], key: str) -> None:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    is_number = is_int or isinstance(value, float)
    is_ints = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ok = {
        INT: is_int,
        FLOAT: is_number,
        STR: isinstance(value, str),
        BOOL: isinstance(value, bool),
        INTS: is_ints,
        INT_OR_INTS: is_int or is_ints,
        BOOL_OR_FLOAT: isinstance(value, bool) or is_number,
    }[kind]
    if not ok:
        raise ctx.error(f"must be {kind}, got {value!r}", table, index, key)


def _check_shapes(arch: Arch, ctx: _Ctx) -> None:
    """Build and walk the network once at its native resolution, so impossible shapes fail at load time, naming the
    key (and line) that causes them."""
    from ..core.graph import ShapeError, SizeError, walk
    from .registry import arch_graph, explain_size

    try:
        built = arch_graph(arch)
        node, x = built.node, built.input_shape
    except SizeError as exc:  # told by arch_graph with what drove the size
        raise _stage_error(ctx, exc) from None
    except ArchError as exc:
        raise ctx.error(f"impossible shape: {exc.detail}", exc.table, exc.index, exc.key) from None
    except CostlabError as exc:
        raise ctx.error(f"impossible shape: {exc}") from None
    try:
        walk(node, x, "paper")
    except SizeError as exc:
        raise _stage_error(ctx, explain_size(arch, exc)) from None
    except ShapeError as exc:  # name the table the failing layer comes from (a graph block's node: its own table)
        exc = _with_smallest(arch, node, exc)
        in_block = shape_error(arch, exc, ctx)
        if in_block:
            raise in_block from None
        raise _stage_error(ctx, exc, "impossible shape: ") from None


def _stage_error(ctx: _Ctx, exc, prefix: str = "") -> CostlabError:
    """exc (a ShapeError or SizeError) at the line of the table its path starts in (a stage's [[stages]] header)."""
    part = exc.path.split(".")[0]
    stage = re.fullmatch(r"stage(\d+)", part)
    table, index = ("stages", int(stage.group(1)) - 1) if stage else (part, None)
    return ctx.error(f"{prefix}{exc}", table, index)


def _with_smallest(arch: Arch, node, exc):
    """A shape error at the file's resolution, told with the smallest input the network takes, where a larger one
    would do (the stem and stage strides, pools without padding, kernels larger than what is left of the input)."""
    from ..core.checks import MAX_SIZE
    from ..core.graph import ShapeError
    from .registry import smallest_resolution

    smallest = smallest_resolution(arch, node, MAX_SIZE)
    if smallest is None or smallest <= arch.resolution:
        return exc
    return ShapeError(exc.path, f"{exc.detail}: resolution {arch.resolution} is too small, the smallest input it "
                                f"takes is {smallest}")
