"""NASNet-A against timm 1.0.31 and the paper (Zoph et al. 2018, Table 2).

Large (6@4032, 331): timm's nasnetalarge, params = sum(numel), MACs = FlopCounterMode / 2, and layer by layer: every
conv, linear, BatchNorm, ReLU, pool and pad module timm runs, in its forward's order, with its input and output
shapes, its own params and its FlopCounterMode MACs, against costlab's rows (the adds and concatenations timm's
cells compute in their forward aside), walked here directly over timm's modules; and `crosscheck --source timm`
(which prices timm's BatchNormAct2d as its BN call then its act child) under both tracers.
Mobile (4@1056, 224): timm has no NASNet-A Mobile; the reference is timm's own cell classes stacked 4 per stack on a
32-channel stem with F = 1056 / 24 = 44 and TensorFlow's mobile wiring, and the paper's 5.3M params, 564M mult-adds.
"""

from __future__ import annotations

from functools import partial

import pytest

from costlab.nets.registry import analyze_arch

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from conftest import flop_counter_macs, n_params  # noqa: E402

LAYERS = {nn.Conv2d: "Conv2d", nn.Linear: "Linear", nn.BatchNorm2d: "BatchNorm2d", nn.ReLU: "Activation",
          nn.MaxPool2d: "MaxPool2d", nn.AvgPool2d: "AvgPool2d", nn.ZeroPad2d: "Pad",
          nn.AdaptiveAvgPool2d: "AdaptiveAvgPool2d", nn.Flatten: "Flatten"}


def _dims(shape) -> tuple[int, ...]:
    rest = tuple(int(d) for d in shape[1:])
    return rest + (1,) * (3 - len(rest))


def torch_layers(model: nn.Module, resolution: int) -> list[tuple]:
    """(op, input dims, output dims, own params, FlopCounterMode MACs) of every layer module, in the order the
    forward runs them, on the meta device."""
    seen, names = [], {m: n for n, m in model.named_modules()}

    def hook(module, inputs, output):
        op = next(LAYERS[cls] for cls in type(module).__mro__ if cls in LAYERS)
        seen.append((names[module], op, _dims(inputs[0].shape), _dims(output.shape),
                     sum(p.numel() for p in module.parameters(recurse=False))))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, tuple(LAYERS))]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.empty(1, 3, resolution, resolution, device="meta"))
    for h in handles:
        h.remove()
    flops = counter.get_flop_counts()
    root = type(model).__name__
    return [(op, i, o, p, sum(flops.get(f"{root}.{name}", {}).values()) // 2) for name, op, i, o, p in seen]


def costlab_layers(name: str, resolution: int) -> list[tuple]:
    rows = analyze_arch(name, resolution=resolution).rows
    return [(r.op_name, r.in_shape.dims, r.out_shape.dims, r.params, r.macs) for r in rows
            if r.op_name not in ("Add", "Concat")]


def _meta(make) -> nn.Module:
    with torch.device("meta"):
        return make().eval()


def timm_large() -> nn.Module:
    return timm.create_model("nasnetalarge", pretrained=False)


class NasnetAMobile(nn.Module):
    """NASNet-A 4@1056 from timm's cells: conv0 3x3/2 (32, BN), stem cells at F/4 and F/2, three stacks of a first
    cell and 3 normal cells at F, 2F, 4F (F = 44) with reduction cells between; after a reduction the next cell
    reads the reduction's input as its previous (TensorFlow's mobile config, skip_reduction_layer_input = 0)."""

    def __init__(self, stem: int = 32, f: int = 44, n: int = 4) -> None:
        super().__init__()
        from timm.layers import ConvNormAct
        from timm.models import nasnet as cells

        self.conv0 = ConvNormAct(3, stem, 3, stride=2, padding=0, apply_act=False,
                                 norm_layer=partial(nn.BatchNorm2d, eps=1e-3))
        self.cell_stem_0 = cells.CellStem0(stem, num_channels=f // 4, pad_type="same")
        self.cell_stem_1 = cells.CellStem1(stem, num_channels=f // 2, pad_type="same")
        stack = []
        for i, c in enumerate((f, 2 * f, 4 * f)):
            if i:
                reduction = cells.ReductionCell0 if i == 1 else cells.ReductionCell1
                stack.append(reduction(3 * c, c, 3 * c, c, pad_type="same"))
            # in channels: x_prev's 6F of the stack before (F at the stem), x's 2F (stem 1) or 8F (a reduction)
            stack.append(cells.FirstCell(3 * c if i else c, c // 2, 4 * c if i else 2 * c, c, pad_type="same"))
            stack += [cells.NormalCell((4 * c if i else 2 * c) if j == 0 else 6 * c, c, 6 * c, c, pad_type="same")
                      for j in range(n - 1)]
        self.cells = nn.ModuleList(stack)
        self.act = nn.ReLU()
        self.pool, self.flatten, self.fc = nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(24 * f, 1000)

    def forward(self, x):
        conv0 = self.conv0(x)
        stem0 = self.cell_stem_0(conv0)
        cur, prev = self.cell_stem_1(conv0, stem0), stem0
        for cell in self.cells:
            cur, prev = cell(cur, prev), cur
        return self.fc(self.flatten(self.pool(self.act(cur))))


@pytest.mark.parametrize("name, reference, resolution", [
    ("nasnet_a_large", timm_large, 331), ("nasnet_a_large", timm_large, 64),
    ("nasnet_a_mobile", NasnetAMobile, 224), ("nasnet_a_mobile", NasnetAMobile, 64)])
def test_equals_the_reference_layer_by_layer(name, reference, resolution):
    model = _meta(reference)
    ours, theirs = costlab_layers(name, resolution), torch_layers(model, resolution)
    mismatches = [(i, a, b) for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
    assert len(ours) == len(theirs) and not mismatches, mismatches[:3]
    analysis = analyze_arch(name, resolution=resolution)
    assert analysis.params == n_params(model)
    assert analysis.macs == flop_counter_macs(model, torch.empty(1, 3, resolution, resolution, device="meta"))


def test_large_totals_at_331_and_the_paper():
    a = analyze_arch("nasnet_a_large")
    assert (a.resolution, a.params) == (331, n_params(_meta(timm_large))) == (331, 88_753_150)
    assert a.macs == 23_783_414_658  # FlopCounterMode / 2 of timm's model at 331 (the test above)
    assert round(a.macs / 1e9, 1) == 23.8  # Table 2: 23.8B mult-adds (its 88.9M params: timm's model has 88.75M)


def test_mobile_matches_the_paper():
    a = analyze_arch("nasnet_a_mobile")
    assert a.resolution == 224
    assert round(a.params / 1e6, 1) == 5.3  # Table 2: 5.3M params
    assert round(a.macs / 1e6) == 564  # Table 2: 564M mult-adds
    model = _meta(NasnetAMobile)
    assert (a.params, a.macs) == (n_params(model), flop_counter_macs(model, torch.empty(1, 3, 224, 224,
                                                                                        device="meta")))


def test_depth_multiplies_the_normal_cells():
    """--depth 2 doubles each stack's 3 normal cells: NASNet-A 7@1056, timm's cells stacked 7 per stack."""
    a = analyze_arch("nasnet_a_mobile", depth=2)
    model = _meta(partial(NasnetAMobile, n=7))
    assert (a.params, a.macs) == (n_params(model), flop_counter_macs(model, torch.empty(1, 3, 224, 224,
                                                                                        device="meta")))


@pytest.mark.parametrize("name, tracer", [("nasnet_a_mobile", "fvcore"), ("nasnet_a_mobile", "torch"),
                                          ("nasnet_a_large", "torch")])
def test_built_module_crosschecks_clean(name, tracer):
    from costlab.traced.crosscheck import check_model

    result = check_model(name, tracer, resolution=64, source="costlab")
    assert result.ok, [c.to_dict() for c in result.layers if not c.ok][:3]


def _called_layers(model: nn.Module, x) -> list[nn.Module]:
    """The modules holding weights or statistics, in the order the forward calls them."""
    order = []
    handles = [m.register_forward_pre_hook(lambda m, _: order.append(m)) for m in model.modules()
               if list(m.parameters(recurse=False)) or list(m.buffers(recurse=False))]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return order


def large_wiring_at_f8():
    """NASNet-A Large's cells and wiring (6 per stack, timm's forward) at F = 192 / 24 = 8 on a 16-channel stem,
    costlab's from the same tables and timm's NASNetALarge class: small enough to run in float64 in a moment."""
    from costlab.nets.model import Arch, Classifier
    from costlab.nets.tables.nasnet import REDUCTION_LARGE, nasnet_a
    from costlab.nets.tables.rules import NASNET_RULES
    from timm.models.nasnet import NASNetALarge

    arch = Arch("nasnet_a_6_at_192", "nasnet", 35, None, nasnet_a(6, 192, 16, REDUCTION_LARGE),
                classifier=Classifier(), rules=NASNET_RULES)
    return arch, lambda: NASNetALarge(stem_size=16, num_features=192)


@pytest.mark.parametrize("name, reference", [("nasnet_a_mobile", NasnetAMobile), large_wiring_at_f8()],
                         ids=["mobile", "large_wiring_at_f8"])
def test_built_module_computes_what_the_reference_computes(name, reference):
    """The wiring, not only the counts: costlab's module given the reference's weights, statistics and BatchNorm eps
    (copied in call order) gives the reference's logits. At 35x35 every stride-2 op sees an odd size (17, 9, 5, 3),
    where timm's TensorFlow 'SAME' padding is symmetric like costlab's (on even sizes it puts the odd pixel at the
    end). A reduction cell handing on the wrong input changes these logits, not one count."""
    from costlab.traced.build import build_arch

    theirs, ours = _meta(reference).to_empty(device="cpu").double(), _meta(lambda: build_arch(name))
    ours = ours.to_empty(device="cpu").double()
    generator = torch.Generator().manual_seed(0)
    for tensor in theirs.state_dict().values():
        if tensor.is_floating_point():  # weights ~ N(0, 0.1), running variances in [1, 2), means ~ N(0, 0.1)
            tensor.copy_(torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype) * 0.1)
    for module in theirs.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_var.copy_(1 + torch.rand(module.running_var.shape, generator=generator, dtype=torch.double))
    x = torch.randn(1, 3, 35, 35, generator=generator, dtype=torch.double)
    pairs = list(zip(_called_layers(theirs, x), _called_layers(ours, x), strict=True))
    for their, our in pairs:
        assert isinstance(their, type(our))  # timm's Conv2dSame, BatchNormAct2d: subclasses of costlab's modules
        our.load_state_dict(their.state_dict())  # strict: the same tensors by name and shape
        if isinstance(our, nn.BatchNorm2d):
            our.eps = their.eps  # TensorFlow's 1e-3: a number costlab does not count, so does not keep
    with torch.no_grad():
        expected, got = theirs(x), ours(x)
    assert torch.allclose(got, expected, rtol=1e-9, atol=1e-9), (got - expected).abs().max()


@pytest.mark.parametrize("tracer", ["torch", "fvcore"])
def test_large_crosschecks_against_timm(tracer):
    """crosscheck's own alignment against timm's nasnetalarge at 64: every traced layer agrees, 0 mismatches."""
    from costlab.traced.crosscheck import check_model

    result = check_model("nasnet_a_large", tracer, 64, "timm")
    assert result.source == "timm" and result.mismatches == 0
    assert result.traced_params == sum(p.numel() for p in timm_large().parameters())
