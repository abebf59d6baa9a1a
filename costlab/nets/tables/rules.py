"""Each family's scaling rules and activations, written once; TOML specs name them as presets."""

from __future__ import annotations

from ..scaling import Rules

MOBILENET_V1_RULES = Rules(width="floor", act="relu")
MOBILENET_V2_RULES = Rules(width="divisible8", expand="round", act="relu6")
# stem_kept_below: timm's _gen_mobilenet_v3 (the paper width rule) keeps the 16-channel stem below 0.75
MOBILENET_V3_RULES = Rules(width="divisible8", act="relu", se="expanded/4,divisible8", se_act="relu",
                           se_gate="hardsigmoid", stem_kept_below=0.75)
MNASNET_RULES = Rules(width="divisible8", expand="multiply", act="relu")
EFFICIENTNET_RULES = Rules(width="divisible8", expand="divisible8", act="silu", se="input/4", se_act="silu",
                           se_gate="sigmoid")
RESNET_RULES = Rules(width="divisible8", act="relu")
SHUFFLENET_V2_RULES = Rules(width="divisible2", act="relu")
INCEPTION_RULES = Rules(width="floor", act="relu")
# growth rates need not be multiples of 8 (the paper's CIFAR nets grow by 12), so alpha floors: int(k * alpha)
DENSENET_RULES = Rules(width="floor", act="relu")
SQUEEZENET_RULES = Rules(width="divisible8", act="relu")  # every SqueezeNet width is a multiple of 8
# timm's MixNet: round_channels (make_divisible(c * alpha, 8)), expansion make_divisible(cin * t), SE on the block's
# input, pooled by x.mean in SqueezeExcite's forward
MIXNET_RULES = Rules(width="divisible8", expand="divisible8", act="relu", se="input/4", se_act="silu",
                     se_gate="sigmoid", se_pool="mean")
XCEPTION_RULES = Rules(width="floor", act="relu")
NASNET_RULES = Rules(width="floor", act="relu")

RULE_PRESETS = {
    "mobilenet_v1": MOBILENET_V1_RULES,
    "mobilenet_v2": MOBILENET_V2_RULES,
    "mobilenet_v3": MOBILENET_V3_RULES,
    "mnasnet": MNASNET_RULES,
    "efficientnet": EFFICIENTNET_RULES,
    "resnet": RESNET_RULES,
    "shufflenet_v2": SHUFFLENET_V2_RULES,
    "inception": INCEPTION_RULES,
    "densenet": DENSENET_RULES,
    "squeezenet": SQUEEZENET_RULES,
    "mixnet": MIXNET_RULES,
    "xception": XCEPTION_RULES,
    "nasnet": NASNET_RULES,
}
