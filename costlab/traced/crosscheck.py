"""Align a real model's trace with costlab's analytic rows, layer by layer, and find every disagreement.

Alignment walks both lists in execution order. A traced leaf module and an analytic row pair up
only when the op type, the input and output shapes and the name agree; anything else is reported
as misaligned rather than forced into a pair. Analytic rows for ops that are not modules in the
traced model (residual add, SE multiply, a functional pool or mean) are compared with the MACs the
tracer put on the container running them. Which op a traced call computes comes from traced.bridge.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from ..core import ops
from ..core.analyze import Analysis
from ..core.conventions import get_convention
from ..core.graph import Row
from ..core.shapes import shape_of
from ..errors import CostlabError
from ..extras import require
from .bridge import is_transparent
from .trace import Trace, TracedLayer
from .unhooked import unhooked_macs

# analytic ops a real model may compute in a container's own forward instead of in a leaf module
# (x + y, scale * x, x.mean, F.adaptive_avg_pool2d, torch.flatten, F.relu, F.max_pool2d, torch.cat, x.chunk,
# torchvision's channel_shuffle)
FUNCTIONAL_OPS = (ops.Add, ops.Mul, ops.SpatialMean, ops.AdaptiveAvgPool2d, ops.Flatten, ops.Activation,
                  ops.MaxPool2d, ops.AvgPool2d, ops.Concat, ops.Split, ops.ChannelShuffle)


@dataclass
class LayerCheck:
    """One analytic row against what the tracer counted for it."""

    name: str
    op: str
    traced_name: str
    module: str
    analytic_macs: int
    traced_macs: int
    analytic_params: int = 0
    traced_params: int = 0
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def difference(self) -> int:
        """traced - analytic."""
        return self.traced_macs - self.analytic_macs

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "op": self.op,
            "traced_name": self.traced_name,
            "module": self.module,
            "analytic_macs": self.analytic_macs,
            "traced_macs": self.traced_macs,
            "difference": self.difference,
            "analytic_params": self.analytic_params,
            "traced_params": self.traced_params,
            "ok": self.ok,
            "problem": self.problem,
        }


@dataclass
class CrossCheck:
    """A model's analytic totals and rows against one trace of it."""

    name: str
    tracer: str
    convention: str
    resolution: int
    source: str
    analytic_macs: int
    traced_macs: int
    analytic_params: int
    traced_params: int
    layers: list[LayerCheck]
    uncounted: dict = field(default_factory=dict)
    seconds: float = 0.0
    notes: list = field(default_factory=list)  # where the tool's count differs from the convention's by its blind spots

    @property
    def mismatches(self) -> int:
        """Layers that disagree, plus one if the totals differ anyway (they cannot when every layer agrees)."""
        bad = sum(1 for layer in self.layers if not layer.ok)
        totals_differ = self.analytic_macs != self.traced_macs or self.analytic_params != self.traced_params
        return bad + (1 if totals_differ and not bad else 0)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "tracer": self.tracer,
            "convention": self.convention,
            "resolution": self.resolution,
            "source": self.source,
            "analytic_macs": self.analytic_macs,
            "traced_macs": self.traced_macs,
            "analytic_params": self.analytic_params,
            "traced_params": self.traced_params,
            "mismatches": self.mismatches,
            "uncounted_ops": dict(self.uncounted),
            **({"notes": list(self.notes)} if self.notes else {}),
            "layers": [layer.to_dict() for layer in self.layers],
        }


def _fits(row: Row, call: TracedLayer) -> Optional[str]:
    """None when the traced call computes this row (type and shapes agree), else why not."""
    if type(call.op) is not type(row.op):
        return f"type: analytic {row.op_name}, traced {call.module}"
    if shape_of(call.in_shape) != row.in_shape or shape_of(call.out_shape) != row.out_shape:
        return (f"shape: analytic {row.in_shape}->{row.out_shape}, traced "
                f"{shape_of(call.in_shape)}->{shape_of(call.out_shape)}")
    return None


def _owner(name: str, modules: frozenset) -> str:
    """The deepest module of the traced model whose path prefixes name ('' is the root)."""
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        candidate = ".".join(parts[:i])
        if candidate in modules:
            return candidate
    return ""


def _dotted_prefix(names: list[str]) -> str:
    """Longest common dotted prefix: ['a.b.c', 'a.b.d'] -> 'a.b'."""
    parts = [n.split(".") for n in names]
    common = []
    for column in zip(*parts):
        if len(set(column)) != 1:
            break
        common.append(column[0])
    return ".".join(common)


def _group_functional(rows: list[LayerCheck], checks: list[LayerCheck], trace: Trace, check_names: bool,
                      own: dict[str, int]) -> dict[str, list[LayerCheck]]:
    """Functional rows grouped by the traced container they are charged to."""
    paired: dict[str, list[str]] = {}
    for c in checks:
        if c.module not in ("", "(functional)") and c.name:
            parts = c.name.split(".")
            for i in range(len(parts)):
                paired.setdefault(".".join(parts[:i]), []).append(c.traced_name)
    groups: dict[str, list[LayerCheck]] = {}
    for row in rows:
        if check_names:
            candidate = _owner(row.name, trace.modules)
        else:  # the module running this op contains the modules of its analytic siblings
            parent = row.name.rsplit(".", 1)[0] if "." in row.name else ""
            siblings = paired.get(parent, [])
            candidate = _dotted_prefix([n.rsplit(".", 1)[0] if "." in n else "" for n in siblings]) if siblings else ""
        owner = next((a for a in reversed(_prefixes(candidate)) if a in own), "")
        row.traced_name = candidate or "(root)"
        groups.setdefault(owner, []).append(row)
    return groups


def _settle(groups: dict[str, list[LayerCheck]], own: dict[str, int]) -> None:
    """Move a functional row up to an enclosing container where the sibling rule placed it in one whose traced MACs
    it overshoots, and the enclosing one is short by at least the row's MACs: the op ran in the enclosing forward,
    before (or after) the modules of its analytic block. Inception-v3's blocks call F.avg_pool2d in their own forward
    and hand the result to branch_pool, a BasicConv2d whose forward runs only the conv, its BatchNorm and F.relu;
    the sibling rule puts the pool in branch_pool. A row that fills the surplus exactly moves first."""
    def surplus(owner: str) -> int:  # analytic - traced: > 0 where the rows ask more than the tracer charged
        return sum(c.analytic_macs for c in groups.get(owner, [])) - own.get(owner, 0)

    for owner in list(groups):
        rows = sorted(groups[owner], key=lambda c: c.analytic_macs != surplus(owner))  # stable: the exact fit first
        for row in rows:
            excess = surplus(owner)
            if excess <= 0:
                break
            if not 0 < row.analytic_macs <= excess:
                continue
            up = next((a for a in reversed(_prefixes(owner)[:-1]) if a in own and -surplus(a) >= row.analytic_macs),
                      None)
            if up is not None:
                groups[owner].remove(row)
                groups.setdefault(up, []).append(row)
                row.traced_name = up or "(root)"
        if not groups[owner]:
            del groups[owner]


def _prefixes(name: str) -> list[str]:
    """'a.b' -> ['', 'a', 'a.b']."""
    parts = name.split(".") if name else []
    return [""] + [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def align(analysis: Analysis, trace: Trace, check_names: bool = False) -> list[LayerCheck]:
    """Pair analytic rows with traced leaf calls in order; functional rows are checked per owning container.

    check_names: also require row name == module path (costlab's own builder promises it; torchvision
    names its modules its own way, so there type and shapes carry the alignment). A row whose module is a subclass
    the tracer's tool does not hook (Convention.hooks_by_class: timm's BatchNormAct2d under ptflops and thop) is
    expected to cost what the tool counts for it (traced.unhooked).
    """
    record = get_convention(trace.convention)
    calls = [layer for layer in trace.layers if not layer.functional]
    own = {layer.name: layer.macs for layer in trace.layers if layer.functional}
    checks: list[LayerCheck] = []
    functional_rows: list[LayerCheck] = []
    j = 0
    rows = list(analysis.rows)
    for i, row in enumerate(rows):
        while j < len(calls) and is_transparent(calls[j].module) and _fits(row, calls[j]) is not None \
                and not calls[j].macs and not calls[j].params:
            j += 1  # Dropout, Identity, StochasticDepth, a Flatten the analysis does not list
        reason = _fits(row, calls[j]) if j < len(calls) else "no traced module left"
        if reason is None:
            call = calls[j]
            j += 1
            expected = unhooked_macs(row, record) if call.subclass and record.hooks_by_class else row.macs
            check = LayerCheck(row.name, row.op_name, call.name, call.module, expected, call.macs, row.params,
                               call.params)
            problems = []
            if check_names and call.name != row.name:
                problems.append(f"name: traced module is {call.name}")
            if expected != call.macs:
                problems.append("macs differ")
            if row.params != call.params:
                problems.append(f"params: analytic {row.params}, traced {call.params}")
            check.problem = "; ".join(problems)
            checks.append(check)
        elif isinstance(row.op, FUNCTIONAL_OPS):
            check = LayerCheck(row.name, row.op_name, "", "(functional)", row.macs, 0, row.params, 0)
            if row.params:
                check.problem = f"params: analytic {row.params} on an op the model runs without a module"
            functional_rows.append(check)
            checks.append(check)
        else:
            checks.append(LayerCheck(row.name, row.op_name, "", "", row.macs, 0, row.params, 0,
                                     f"misaligned: {reason}"))
            for rest in rows[i + 1:]:
                checks.append(LayerCheck(rest.name, rest.op_name, "", "", rest.macs, 0, rest.params, 0,
                                         "misaligned: after an earlier misalignment"))
            break
    for call in calls[j:]:
        if is_transparent(call.module) and not call.macs and not call.params:
            continue
        checks.append(LayerCheck("", "", call.name, call.module, 0, call.macs, 0, call.params,
                                 "traced module with no analytic row"))
    # ops in a container's own forward: each functional row goes to the nearest traced container with
    # MACs of its own (the root otherwise); the owner's MACs go on its first functional row
    functional = _group_functional(functional_rows, checks, trace, check_names, own)
    _settle(functional, own)
    for owner, macs in own.items():
        if owner not in functional:
            checks.append(LayerCheck("", "", owner or "(root)", "(functional)", 0, macs, 0, 0,
                                     "MACs in a container's forward with no analytic row"))
    for owner, group in functional.items():
        group[0].traced_macs = own.get(owner, 0)
        if sum(c.analytic_macs for c in group) != own.get(owner, 0):
            for c in group:
                c.problem = c.problem or f"functional MACs of {owner or '(root)'}: analytic " \
                                         f"{sum(x.analytic_macs for x in group)}, traced {own.get(owner, 0)}"
    return checks


def crosscheck(analysis: Analysis, trace: Trace, source: str = "torchvision") -> CrossCheck:
    """analysis (batch 1, the tracer's convention) against trace: per-layer checks and totals; the ops the tracer left
    at 0, by its rule or by none (uncounted and unpriced), as one list."""
    layers = align(analysis, trace, check_names=(source == "costlab"))
    rows = {row.name: row for row in analysis.rows}
    blind = Counter(layer.module for layer in layers if layer.name in rows and layer.analytic_macs != rows[layer.name].macs)
    analytic = analysis.macs - sum(rows[layer.name].macs - layer.analytic_macs for layer in layers if layer.name in rows)
    notes = [f"{trace.convention} hooks modules by their exact class and has none for {module} (x{n}): counted as "
             f"{trace.convention} counts it, by the functions its forward calls" for module, n in blind.items()]
    return CrossCheck(analysis.name, trace.tracer, trace.convention, analysis.resolution, source, analytic,
                      trace.total_macs, analysis.params, trace.params, layers, dict(trace.uncounted + trace.unpriced),
                      notes=notes)


SOURCES = ("torchvision", "timm", "costlab")


def check_model(name, tracer: str = "fvcore", resolution: Optional[int] = None,
                source: str = "torchvision") -> CrossCheck:
    """Build the real model (torchvision's, timm's, or costlab's own builder), trace it, and check it against the
    analysis."""
    import time

    from ..nets.registry import TIMM_NAMES, TORCHVISION_NAMES, analyze_arch, get_arch
    from .tracers import TRACERS, run_tracer

    convention = TRACERS[tracer].convention if tracer in TRACERS else None
    if convention is None:
        raise CostlabError(f"unknown tracer {tracer!r}; known: {', '.join(t for t in TRACERS if TRACERS[t].convention)}")
    if source not in SOURCES:
        raise CostlabError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    arch = get_arch(name)
    if source == "torchvision" and arch.name not in TORCHVISION_NAMES:
        hint = "timm" if arch.name in TIMM_NAMES else "costlab"
        raise CostlabError(f"{arch.name} is not a torchvision model; use --source {hint}")
    if source == "timm" and arch.name not in TIMM_NAMES:
        raise CostlabError(f"{arch.name} is not a timm model costlab knows (those are {', '.join(TIMM_NAMES)}); "
                           f"use --source costlab")
    if source == "timm":
        require("--source timm", ("timm",), "pip install timm")
    analysis = analyze_arch(arch, resolution=resolution, convention=convention)
    start = time.perf_counter()
    model = build_model(arch, source, device=TRACERS[tracer].device)
    trace = run_tracer(tracer, model, (1, analysis.input_shape.c, analysis.input_shape.h, analysis.input_shape.w))
    result = crosscheck(analysis, trace, source)
    result.seconds = time.perf_counter() - start
    return result


# how torchvision's builders must be called to give the network costlab counts: GoogLeNet and Inception-v3 without
# the auxiliary heads that run only in training (and without their slow weight initialisation)
TORCHVISION_KWARGS: dict[str, dict] = {
    "googlenet": {"aux_logits": False, "init_weights": False},
    "inception_v3": {"aux_logits": False, "init_weights": False},
}


def build_model(name, source: str, device: str = "meta"):
    """torchvision's model (weights=None), timm's (pretrained=False, its name from TIMM_NAMES) or costlab's
    build_arch, in eval mode, on device.

    Built on the meta device first so no time goes into initialising weights; for real tensors the
    storage is then allocated uninitialised (counting never reads the values).
    """
    import torch

    with torch.device("meta"):
        if source == "torchvision":
            import torchvision

            key = getattr(name, "name", name)
            model = torchvision.models.get_model(key, weights=None, **TORCHVISION_KWARGS.get(key, {}))
        elif source == "timm":
            import timm

            from ..nets.registry import TIMM_NAMES

            model = timm.create_model(TIMM_NAMES[getattr(name, "name", name)], pretrained=False)
        else:
            from .build import build_arch

            model = build_arch(name)
    if device != "meta":
        model = model.to_empty(device=device)
    return model.eval()
