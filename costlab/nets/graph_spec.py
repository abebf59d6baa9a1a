"""Graph blocks in an architecture TOML file: each [blocks.NAME] table a nets.graph_block.GraphBlock, which stages
then name as their block.

    [blocks.inception]
    output = "cat"                 # the node the block returns
    # inputs = ["x"]               # the default; ["x", "x_prev"]: the output before and the one before that
    # passes = "x_prev"            # two inputs: what the next block reads as its second (default: the first input)

    [[blocks.inception.nodes]]     # one table per node, in any order that has no cycle
    name = "b1"
    op = "conv"                    # conv sepconv dwconv maxpool avgpool gap bn act pad shuffle identity se split
    inputs = ["x"]                 # concat sum multiply; a split's part i is read as "name:i"
    channels = "widths[0]"         # integers, or expressions of the stage's channels, widths[i], expand, kernel,
    kernel = 1                     # stride and of cin, cin_prev (the block's input channels)
    bn = true
    act = "relu"

Every table must be written with its own header ([blocks.NAME], [[blocks.NAME.nodes]]), so that every error can
name its line. A block may not take the name of a built-in block kind.
"""

from __future__ import annotations

import re
from typing import Any

from ..io.toml import header_lines
from .graph_block import NAME, GraphBlock, GraphError, GraphNode
from .graph_ops import WINDOWED
from .stages import STAGE_KINDS, StageKind, stage_kind

BLOCK_KEYS = ("output", "inputs", "passes", "nodes")
NODE_KEYS = ("name", "op", "inputs")


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def load_blocks(data: Any, ctx) -> dict[str, StageKind]:
    """The file's [blocks.NAME] tables as stage kinds by name; ctx (spec._Ctx) names the file and finds lines."""
    if not isinstance(data, dict):
        raise ctx.error("must be [blocks.NAME] tables", key="blocks")
    kinds = {}
    for name, table in data.items():
        kinds[name] = _block(name, table, ctx).kind()
    return kinds


def _block(name: str, table: Any, ctx) -> GraphBlock:
    where = f"blocks.{name}"
    if not NAME.match(name):
        raise ctx.error(f"block name {name!r} must be letters, digits and underscores", key="blocks")
    if not isinstance(table, dict) or not header_lines(ctx.text, where):
        raise ctx.error(f"write the block as a [{where}] table", key="blocks")
    if stage_kind(name) is not None:
        raise ctx.error(f"{name!r} is a built-in block kind; give the block another name", where)
    for key in table:
        if key not in BLOCK_KEYS:
            raise ctx.error(f"unknown key; known: {', '.join(BLOCK_KEYS)}", where, None, key)
    for key in ("output", "nodes"):
        if key not in table:
            raise ctx.error(f"missing required key {key!r}", where)
    for key in ("output", "passes"):
        if key in table and not isinstance(table[key], str):
            raise ctx.error(f"must be a node name, got {table[key]!r}", where, None, key)
    if "inputs" in table and not _strings(table["inputs"]):
        raise ctx.error(f"must be a list of names, got {table['inputs']!r}", where, None, "inputs")
    nodes = table["nodes"]
    if not isinstance(nodes, list) or not all(isinstance(n, dict) for n in nodes) \
            or len(header_lines(ctx.text, f"{where}.nodes")) != len(nodes):
        raise ctx.error(f"write each node as its own [[{where}.nodes]] table", where, None, "nodes")
    parsed = tuple(_node(where, i, n, ctx) for i, n in enumerate(nodes))
    try:
        return GraphBlock(name, parsed, table["output"], tuple(table.get("inputs", ("x",))), table.get("passes"))
    except GraphError as exc:
        raise located(exc, ctx) from None


def _node(where: str, index: int, table: dict, ctx) -> GraphNode:
    for key in NODE_KEYS:
        if key not in table:
            raise ctx.error(f"missing required key {key!r}", f"{where}.nodes", index)
    for key in ("name", "op"):
        if not isinstance(table[key], str):
            raise ctx.error(f"must be a string, got {table[key]!r}", f"{where}.nodes", index, key)
    if not _strings(table["inputs"]):
        raise ctx.error(f"must be a list of node or input names, got {table['inputs']!r}", f"{where}.nodes", index,
                        "inputs")
    keys = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in table.items() if k not in NODE_KEYS)
    return GraphNode(table["name"], table["op"], tuple(table["inputs"]), keys, index)


def located(exc: GraphError, ctx):
    """A GraphError as the file's error: file and line, the node's table and key, the node's name."""
    detail = exc.detail if exc.node is None else f"node {exc.node!r}: {exc.detail}"
    return ctx.error(detail, exc.table, exc.index, exc.key)


def resolve(fields: dict, blocks: dict[str, StageKind], ctx, index: int) -> dict:
    """A stage row's fields with its block name replaced by the file's graph block of that name, if any."""
    name = fields["block"]
    if name in blocks:
        return {**fields, "block": blocks[name]}
    if blocks and stage_kind(name) is None:
        raise ctx.error(f"unknown block {name!r}; known: {', '.join(STAGE_KINDS)} and this file's "
                        f"{', '.join(blocks)}", "stages", index, "block")
    return fields


def shape_error(arch, exc, ctx):
    """The file's error for a layer that cannot take its input's shape (exc: core.graph.ShapeError), located at the
    graph-block node it comes from ('stage3.0.b2.conv': node b2 of stage 3's block; a join's inputs, a windowed op's
    kernel); None when the layer is not in a graph block."""
    parts = exc.path.split(".")
    match = re.fullmatch(r"stage(\d+)", parts[0])
    if not match or len(parts) < 3 or int(match.group(1)) > len(arch.stages):
        return None
    block = getattr(stage_kind(arch.stages[int(match.group(1)) - 1].block).build, "__self__", None)
    node = next((n for n in block.nodes if n.name == parts[2]), None) if isinstance(block, GraphBlock) else None
    if node is None:
        return None
    key = "kernel" if node.op in WINDOWED else "pad" if node.op == "pad" else "inputs"
    return ctx.error(f"impossible shape: node {node.name!r}: {exc}", f"blocks.{block.name}.nodes", node.index, key)
