"""What a tracer returns: one record per call of a leaf module, in execution order, with the MACs it computed,
the MACs of ops containers compute in their own forward, and every op left uncounted, by name and count."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from ..core import ops
from ..core.conventions import Convention
from ..core.cost import flops_of
from ..io.render import counts_text

# aten ops that create, move, reshape or reinterpret memory and compute nothing (0 MACs by every convention: zeros,
# eye, random draws such as dropout's bernoulli_ mask in training, a view, a complex tensor from its real and imaginary
# parts and back): never listed, neither uncounted nor unpriced.
ZERO_COST_ATEN = frozenset("""
    empty empty_like empty_strided new_empty zeros zeros_like ones ones_like full full_like zero_ fill_
    clone detach alias lift_fresh copy_ _to_copy contiguous view _unsafe_view reshape as_strided
    t transpose permute expand expand_as flatten unflatten slice select unsqueeze squeeze cat stack
    split chunk narrow dropout native_dropout feature_dropout alpha_dropout _reshape_alias
    size to type_as Int ScalarImplicit unbind split_with_sizes new_zeros new_full constant_pad_nd arange
    _linalg_check_errors _assert_async _assert_tensor_metadata _local_scalar_dense resolve_conj resolve_neg
    lift_fresh_copy unsafe_split unsafe_chunk unsafe_split_with_sizes
    _record_function_enter _record_function_enter_new _record_function_exit
    eye new_ones scalar_tensor linspace logspace empty_permuted rand rand_like randn randn_like randint randint_like
    bernoulli uniform normal random exponential randperm
    complex view_as_real view_as_complex real imag conj _conj _neg_view view_as movedim moveaxis swapaxes swapdims
    diagonal
""".split())


# aten ops (as dispatched, and as fvcore's jit graph names them) of the families costlab has a rule for, though a
# convention may price them at 0: activations and elementwise arithmetic, comparisons, reductions and softmax, lookups
# and copies, norms, pools, upsampling. Products (mm, conv...) are not here: costlab prices them where torch calls them
# (traced/functions.py), so one seen outside such a call is one costlab missed.
RULED_ATEN = frozenset("""
    abs neg exp exp2 expm1 log log1p log2 log10 sqrt rsqrt reciprocal sign sgn sin cos tan asin acos atan sinh cosh
    tanh asinh acosh atanh erf erfc erfinv floor ceil round trunc frac square sigmoid logit relu relu6 hardtanh
    hardswish hardsigmoid silu mish gelu elu selu celu leaky_relu softplus softshrink hardshrink tanhshrink threshold
    prelu _prelu_kernel rrelu_with_noise glu clamp clamp_min clamp_max clip nan_to_num isnan isinf isfinite
    add sub rsub mul div true_divide floor_divide remainder fmod pow atan2 hypot maximum minimum fmax fmin lerp
    addcmul addcdiv where masked_fill eq ne lt le gt ge logical_and logical_or logical_xor logical_not bitwise_and
    bitwise_or bitwise_xor bitwise_not
    sum mean prod amax amin max min argmax argmin var std var_mean std_mean norm linalg_vector_norm logsumexp
    softmax _softmax _safe_softmax log_softmax _log_softmax cumsum cumprod any all count_nonzero
    embedding index index_select gather scatter scatter_add index_put index_add masked_select masked_scatter roll flip
    repeat tile repeat_interleave pixel_shuffle pixel_unshuffle channel_shuffle native_channel_shuffle pad
    reflection_pad1d reflection_pad2d reflection_pad3d replication_pad1d replication_pad2d replication_pad3d
    im2col col2im unfold one_hot
    batch_norm native_batch_norm _native_batch_norm_legit _native_batch_norm_legit_no_training
    _native_batch_norm_legit_functional _batch_norm_impl_index group_norm native_group_norm layer_norm
    native_layer_norm instance_norm rms_norm _fused_rms_norm
    avg_pool1d avg_pool2d avg_pool3d max_pool1d max_pool2d max_pool3d max_pool1d_with_indices max_pool2d_with_indices
    max_pool3d_with_indices adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d _adaptive_avg_pool2d
    _adaptive_avg_pool3d adaptive_max_pool1d adaptive_max_pool2d adaptive_max_pool3d
    upsample_nearest1d upsample_nearest2d upsample_nearest3d _upsample_nearest_exact1d _upsample_nearest_exact2d
    _upsample_nearest_exact3d upsample_linear1d upsample_bilinear2d _upsample_bilinear2d_aa upsample_bicubic2d
    _upsample_bicubic2d_aa upsample_trilinear3d grid_sampler grid_sampler_2d grid_sampler_3d affine_grid_generator
""".split())


def zero_cost(name: str) -> bool:
    """Memory and shape ops (and in-place variants, e.g. dropout_ in eval) that compute nothing."""
    return name in ZERO_COST_ATEN or name.rstrip("_") in ZERO_COST_ATEN


# the products as aten names them: costlab prices them where torch calls them (traced/functions.py); those a
# convention skips by its rule (Convention.skips) are named here by their op key
PRODUCT_ATEN = frozenset("""mm addmm bmm matmul convolution _convolution _convolution_mode conv1d conv2d conv3d
    conv_transpose1d conv_transpose2d conv_transpose3d linear einsum mv addmv dot vdot outer addr bilinear _trilinear
    tensordot _scaled_mm""".split())
SKIPPABLE_ATEN = {"baddbmm": "baddbmm", "scaled_dot_product_attention": "attention",
                  **dict.fromkeys(("_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_flash_attention",
                                   "_scaled_dot_product_efficient_attention", "_scaled_dot_product_cudnn_attention"),
                                  "attention")}


def unpriced_op(name: str, record: Convention) -> bool:
    """An op that computes and that no rule of the convention prices: one its tool prices that costlab's formulas did
    not (record.counted_aten), a product costlab met outside the torch call it prices, or one of no family costlab
    has a rule for (an FFT, a linalg solver, a custom autograd Function as fvcore's jit graph shows it). Counted as 0,
    as the tool counts it, and listed: never a silent 0."""
    if zero_cost(name):
        return False
    if name in record.counted_aten:
        return True
    base = name.rstrip("_")
    return base not in RULED_ATEN and SKIPPABLE_ATEN.get(base) not in record.skips


def unknown_op(name: str) -> bool:
    """An op of no family costlab has a rule for (what ptflops and thop, which price modules, leave unpriced)."""
    base = name.rstrip("_")
    return not zero_cost(name) and base not in RULED_ATEN and base not in PRODUCT_ATEN and base not in SKIPPABLE_ATEN


def op_name(func) -> str:
    """An aten overload's short name: aten.convolution.default -> 'convolution'."""
    return str(func.overloadpacket).split(".")[-1]


@dataclass
class TracedLayer:
    """One call of a leaf module (or, with functional=True, the ops of a container's own forward)."""

    name: str
    module: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: int = 0
    macs: int = 0
    functional: bool = False
    op: Optional[ops.AnyOp] = None  # the costlab op this call computes (traced.bridge), when it is one costlab knows
    subclass: bool = False  # its module's op comes from a base class (bridge.is_subclass): by-class tools miss it


@dataclass
class Trace:
    """Per-module MACs of one forward pass of a real model, from one tracer."""

    tracer: str
    convention: str
    input_shape: tuple[int, ...]
    layers: list[TracedLayer]
    total_macs: int
    params: int
    uncounted: Counter = field(default_factory=Counter)  # ops that compute but this convention prices at 0, by name
    modules: frozenset = frozenset()
    unpriced: Counter = field(default_factory=Counter)  # ops that compute and no rule prices (unpriced_op), by name
    notes: list = field(default_factory=list)  # one line each: where costlab differs from the tool, how it ran

    @property
    def counted_macs(self) -> int:
        """Sum over layers; equals total_macs when attribution is complete."""
        return sum(layer.macs for layer in self.layers)

    @property
    def total_flops(self) -> int:
        return flops_of(self.total_macs)

    def uncounted_text(self) -> str:
        """'silu x49, add x9' (most frequent first) or 'none'."""
        return counts_text(self.uncounted)


def assemble(tracer: str, convention: str, model, input_shape, calls: list[TracedLayer], own: dict[str, int],
             total: int, uncounted: Counter) -> Trace:
    """Leaf calls (each with its own MACs) plus one functional row per container with MACs of its own."""
    modules = dict(model.named_modules())
    layers = list(calls)
    leaves = {call.name for call in calls}
    for name, module in modules.items():  # a container with parameters of its own (timm's BatchNormAct2d) gets a row
        if name not in leaves and name not in own and any(True for _ in module.parameters(recurse=False)):
            own = {**own, name: 0}
    for name, macs in own.items():
        module = modules.get(name)
        params = sum(p.numel() for p in module.parameters(recurse=False)) if module is not None and name not in leaves else 0
        if macs or params:
            layers.append(TracedLayer(name, type(module).__name__ if module is not None else "", (), (), params, macs,
                                      functional=True))
    if total != sum(layer.macs for layer in layers):  # ops outside the root module's forward (should not happen)
        layers.append(TracedLayer("(outside)", "", (), (), 0, total - sum(l.macs for l in layers), functional=True))
    params = sum(p.numel() for p in model.parameters())
    return Trace(tracer, convention, tuple(input_shape), layers, total, params, uncounted, frozenset(modules))


def own_from_totals(model, totals: dict[str, int]) -> dict[str, int]:
    """Per-module totals that include descendants (fvcore, thop) -> each module's own MACs."""
    own = {}
    for name, module in model.named_modules():
        children = [f"{name}.{c}" if name else c for c, _ in module.named_children()]
        own[name] = totals.get(name, 0) - sum(totals.get(c, 0) for c in children)
    return own


def split_over_calls(calls: list[TracedLayer], own: dict[str, int], weigh) -> None:
    """A leaf's MACs, known only per module, shared among its calls in proportion to weigh(call).

    Exact whenever the weights are the tool's own per-call counts (costlab's formulas reproduce
    fvcore's per op): integer shares, the remainder (0 then) going to the first calls. Calls of
    identical shapes weigh the same, so they get equal shares; weights all 0 give equal shares too.
    """
    by_name: dict[str, list[TracedLayer]] = {}
    for call in calls:
        by_name.setdefault(call.name, []).append(call)
    for name, group in by_name.items():
        macs = own.get(name, 0)
        weights = [weigh(call) for call in group]
        if not sum(weights):
            weights = [1] * len(group)
        shares = [macs * w // sum(weights) for w in weights]
        for i in range(macs - sum(shares)):
            shares[i % len(shares)] += 1
        for call, share in zip(group, shares):
            call.macs = share
