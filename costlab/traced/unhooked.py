"""What a tool that hooks modules by their exact class (ptflops, thop: Convention.hooks_by_class) counts for a call
of a subclass it has no hook for (timm's BatchNormAct2d, Conv2dSame, MaxPool2dSame): only what the functions the
subclass's forward calls count under it, priced as those functions by the convention's own '.functional' rates.
`crosscheck` expects this of such a row, so the analytic total equals the tool's, blind spot included."""

from __future__ import annotations

from dataclasses import replace

from ..core import ops
from ..core.conventions import get_convention
from ..core.graph import Row
from ..core.shapes import Shape


def unhooked_macs(row: Row, convention) -> int:
    """The row's MACs when its module is a subclass the tool does not hook:

    - a BatchNorm or a conv: 0 (F.batch_norm and F.conv2d are patched by neither tool);
    - a max or average pool: rate(pool.functional) on the input the forward hands F.max_pool2d / F.avg_pool2d,
      padded first as timm's MaxPool2dSame and AvgPool2dSame pad ('same'): to the smallest size giving the output
      without padding, max(H, (H_out - 1) s + k) per axis (ptflops 1 per element, thop 0);
    - an activation: rate(function.functional) per element (a subclass of nn.ReLU calls F.relu);
    - any other op: the row's own MACs (no rule known to differ).
    """
    record = get_convention(convention)
    op = row.op
    if isinstance(op, (ops.BatchNorm2d, ops.Conv2d)):
        return 0
    if isinstance(op, (ops.MaxPool2d, ops.AvgPool2d)):
        x, out = row.in_shape, row.out_shape
        padded = Shape(x.c, *(max(size, (size_out - 1) * s + k)
                              for size, size_out, s, k in zip((x.h, x.w), (out.h, out.w), op.stride, op.kernel)))
        return record.rate(ops.key_of(op.base, True)).macs(padded.numel, row.out_shape.numel)
    if isinstance(op, ops.Activation):
        return replace(op, functional=True).cost((row.in_shape.batched(),), row.out_shape.batched(), record).macs
    return row.macs
