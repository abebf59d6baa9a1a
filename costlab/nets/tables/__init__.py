"""The built-in architectures, one module per family, each a paper-style table; merged here in a fixed order.

A family module holds its tables (and registers the block kinds only it uses); adding a family is its module
and one line below.
"""

from __future__ import annotations

from ..model import Arch
from . import densenet, efficientnet, inception, mixnet, mobilenet, nasnet, resnet, shufflenet, squeezenet, xception
from .rules import RULE_PRESETS

ARCHS: dict[str, Arch] = {a.name: a for family in (mobilenet, efficientnet, resnet, densenet, squeezenet,
                                                    shufflenet, inception, mixnet, xception, nasnet)
                          for a in family.ARCHS}

# the built-ins timm has, by timm's name (same layer order, same parameter count)
TIMM_NAMES = {"mixnet_s": "mixnet_s", "mixnet_m": "mixnet_m", "xception": "legacy_xception",
              "nasnet_a_large": "nasnetalarge"}

# the built-ins torchvision also has (same layer order, same parameter count); NASNet-A is not torchvision's
TORCHVISION_NAMES = tuple(name for name, arch in ARCHS.items()
                          if not name.startswith("mobilenet_v1") and name not in TIMM_NAMES and arch.family != "nasnet")

__all__ = ["ARCHS", "TORCHVISION_NAMES", "TIMM_NAMES", "RULE_PRESETS"]
