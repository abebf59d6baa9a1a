"""The words rows are labelled with: layer types and activation functions, each listed once."""

from __future__ import annotations

# row.type -> what reports and tables call it
LAYER_TYPES = {
    "pointwise": "1x1 conv",
    "depthwise": "depthwise conv",
    "conv": "full conv",
    "grouped": "grouped conv",
    "se": "squeeze-excitation",
    "linear": "linear",
    "bn": "batch norm",
    "act": "activation",
    "pool": "pooling",
    "add": "residual add",
    "mul": "SE multiply",
    "flatten": "flatten",
    "concat": "concatenation",
    "split": "channel split",
    "shuffle": "channel shuffle",
    "pad": "zero padding",
    "transposed": "transposed conv",
    "matmul": "matrix product",
    "attention": "attention",
    "norm": "normalisation",
    "upsample": "upsampling",
}

# elementwise nonlinearities an Activation op may name (traced.bridge maps each to its torch module)
ACTIVATIONS = ("relu", "relu6", "silu", "sigmoid", "hardswish", "hardsigmoid", "gelu", "tanh", "leaky_relu", "elu",
               "mish", "softplus", "hardtanh")
