"""Loading a user's model: MODULE:CALLABLE imported, called, and checked to be an nn.Module.

User code may do anything: raise, call sys.exit, raise KeyboardInterrupt. Whatever it does becomes one
CostlabError naming the code and what it did, so costlab still exits 2 with one line.
"""

from __future__ import annotations

from typing import Any, Callable

from ..errors import CostlabError, describe


def what_happened(exc: BaseException) -> str:
    """'raised ValueError: bad', 'called sys.exit(7)', 'was interrupted' for an exception out of user code."""
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})"
    if isinstance(exc, KeyboardInterrupt):
        return "was interrupted (KeyboardInterrupt)"
    first = describe(exc)
    return f"raised {type(exc).__name__}" + (f": {first}" if first else "")


class UserCodeError(CostlabError):
    """User code raised, exited or was interrupted while building or running a model; stopped when it exited or was
    interrupted (then nothing is tried again)."""

    def __init__(self, message: str, exc: BaseException) -> None:
        super().__init__(message)
        self.stopped = isinstance(exc, (SystemExit, KeyboardInterrupt))


def user_call(what: str, fn: Callable[[], Any]) -> Any:
    """fn(), with anything it raises (SystemExit and KeyboardInterrupt included) as one UserCodeError naming what."""
    try:
        return fn()
    except CostlabError:
        raise
    except BaseException as exc:  # noqa: BLE001 - user code: nothing may escape as a traceback or an exit code
        raise UserCodeError(f"{what} {what_happened(exc)}", exc) from None


def split_spec(spec: str) -> tuple[str, str]:
    """'package.module:attr' -> ('package.module', 'attr'), checked before anything is imported."""
    module_name, sep, attr = str(spec).partition(":")
    if not sep or not module_name or not attr:
        raise CostlabError(f"expected MODULE:CALLABLE, got {spec!r}")
    return module_name, attr


def load_callable(spec: str):
    """'package.module:attr' -> the callable (imports user code; the working directory is importable)."""
    import importlib
    import os
    import sys

    module_name, attr = split_spec(spec)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise CostlabError(f"cannot import module {module_name!r}: {describe(exc)}") from None
    except BaseException as exc:  # noqa: BLE001 - any error raised while importing user code
        raise CostlabError(f"importing module {module_name!r} {what_happened(exc)}") from None
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

    def build():
        with torch.device(device):
            return factory()

    model = user_call(f"{spec}()", build)
    if not isinstance(model, nn.Module):
        raise CostlabError(f"{spec}() returned a {type(model).__name__}, not a torch.nn.Module")
    return model.eval()
