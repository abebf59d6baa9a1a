"""Loading a user's model: MODULE:CALLABLE imported, called, and checked to be an nn.Module."""

from __future__ import annotations

from ..errors import CostlabError


def load_callable(spec: str):
    """'package.module:attr' -> the callable (imports user code; the working directory is importable)."""
    import importlib
    import os
    import sys

    module_name, sep, attr = str(spec).partition(":")
    if not sep or not module_name or not attr:
        raise CostlabError(f"expected MODULE:CALLABLE, got {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or any error raised while importing user code
        raise CostlabError(f"cannot import module {module_name!r}: {type(exc).__name__}: {exc}") from exc
    target = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise CostlabError(f"module {module_name!r} has no attribute {attr!r}")
        target = getattr(target, part)
    if not callable(target):
        raise CostlabError(f"{spec} is not callable (it is a {type(target).__name__})")
    return target


def make_model(spec: str, device: str = "meta"):
    """Call MODULE:CALLABLE under torch.device(device) (meta: no weights allocated) and check it is an nn.Module."""
    import torch
    from torch import nn

    factory = load_callable(spec)
    try:
        with torch.device(device):
            model = factory()
    except Exception as exc:
        raise CostlabError(f"{spec}() raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(model, nn.Module):
        raise CostlabError(f"{spec}() returned a {type(model).__name__}, not a torch.nn.Module")
    return model.eval()
