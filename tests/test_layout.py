"""The package's architecture holds: every module imports on its own, floors only import floors below them,
the counting core and the networks never touch torch, and the op <-> torch bridge covers every op both ways."""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "costlab"
# each floor imports only from floors below it (and its own); lazy imports inside functions count too
FLOORS = [
    {"errors", "extras", "interrupt", "isolate"},
    {"core", "io"},
    {"nets"},
    {"traced"},
    {"perf", "plots"},
    {"report", "budget"},
    {"api", "cli", "__init__", "__main__", "entry"},
]


def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _floor(room: str) -> int:
    return next(i for i, floor in enumerate(FLOORS) if room in floor)


def _imports(path: Path, module: str) -> set[str]:
    """Every costlab module a file imports, at the top or inside a function, resolved to absolute names."""
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("costlab"):
                out.add(target)
                out.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def _third_party(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
    return found


def _files():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        yield path, ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_imports_on_its_own_in_a_fresh_interpreter():
    def attempt(module: str):
        code = f"import {module}" if module != "costlab.__main__" else "import costlab.cli"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        return module, done.returncode, done.stderr.strip().splitlines()[-1:]

    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = [r for r in pool.map(attempt, _modules()) if r[1]]
    assert not failures, failures


def test_floors_only_import_floors_below():
    upward = []
    for path, module in _files():
        floor = _floor(_room(module))
        for target in _imports(path, module):
            if target.startswith("costlab.") and _floor(_room(target)) > floor:
                upward.append(f"{module} -> {target}")
    assert not upward, upward


def test_counting_core_and_networks_never_import_torch_or_the_traced_side():
    offenders = []
    for path, module in _files():
        if _room(module) in ("core", "nets", "io", "errors"):
            heavy = _third_party(path) & {"torch", "torchvision", "fvcore", "ptflops", "thop", "timm"}
            traced = {t for t in _imports(path, module) if t.startswith("costlab.traced")}
            if heavy or traced:
                offenders.append((module, sorted(heavy | traced)))
    assert not offenders, offenders
    # and at run time: counting every built-in network leaves torch unimported
    code = ("import sys\nfrom costlab.nets.registry import analyze_arch, list_archs\n"
            "[analyze_arch(a.name, convention=c).macs for a in list_archs() for c in ('paper', 'thop')]\n"
            "print(sorted(m for m in ('torch', 'torchvision', 'fvcore', 'pandas') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"


def test_bridge_covers_every_op_both_ways():
    pytest.importorskip("torch")
    import inspect

    from costlab.core import ops
    from costlab.core.vocab import ACTIVATIONS
    from costlab.traced import bridge

    from typing import get_args

    from costlab.traced.functions import FROM_FUNCTION

    op_classes = {cls for _, cls in inspect.getmembers(ops, inspect.isclass)
                  if issubclass(cls, ops.Op) and cls not in (ops.Op, ops.Join) and not cls.__name__.startswith("_")}
    graph_ops = set(get_args(ops.AnyOp))
    assert graph_ops == set(bridge.TO_TORCH)  # every op a costlab graph holds can be built
    assert op_classes == graph_ops | set(get_args(ops.TracedOp))
    # every op a traced model can run comes out of some torch function's call (traced/functions.py)
    import torch

    made = set()
    for func, make in FROM_FUNCTION.items():
        made.add(make.__qualname__.split(".")[0])
    assert {"_conv", "_conv_transpose", "_linear", "_product", "_einsum", "_attention", "_norm", "_interpolate",
            "_pool", "_activation", "_grid_sample"} <= made
    del torch
    assert set(bridge.ACTIVATION_MODULES) == set(ACTIVATIONS)
    samples = [ops.Conv2d(8, 16, (3, 3), (2, 2), (1, 1), groups=4, bias=True), ops.Linear(10, 4, bias=False),
               ops.BatchNorm2d(8, affine=False), *(ops.Activation(a) for a in ACTIVATIONS),
               ops.AdaptiveAvgPool2d(), ops.AdaptiveAvgPool2d(functional=True), ops.SpatialMean(),
               ops.MaxPool2d((3, 3), (2, 2), (1, 1)), ops.MaxPool2d(3, 2, 0, ceil_mode=True),
               ops.MaxPool2d(3, 2, 0, functional=True), ops.AvgPool2d(3, 1, 1, functional=True),
               ops.AvgPool2d(2, 2, 0), ops.Activation("relu", functional=True), ops.ChannelShuffle(4), ops.Flatten(),
               ops.Pad((-1, 1, -1, 1))]
    for op in samples:  # an op built as a module reads back as the same op
        assert bridge.op_of(bridge.module_for(op).eval()) == op
    for op in (ops.Add(), ops.Mul(), ops.Concat(), ops.Split((2, 2))):
        assert bridge.function_for(op) is not None
