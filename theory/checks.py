"""Argument checks shared by :mod:`pinnkit.theory`: every public function refuses a bad argument with a
``ValueError`` naming it and its allowed range before it samples a point or evaluates a net (numpy scalars are
accepted where a Python number would be; ``bool`` is never a number)."""

from __future__ import annotations

from typing import Any, Optional

from torch import nn

from pinnkit.preflight import check_memory
from pinnkit.validation import check_bool, check_int, check_min_int

__all__ = ["ArgumentTypeError", "SEED_MAX", "check_seed", "check_count", "check_flag", "check_module", "check_memory"]

#: the largest seed accepted (the seeds feed ``numpy.random.default_rng`` and ``torch.Generator``)
SEED_MAX = 2**32 - 1


class ArgumentTypeError(ValueError, TypeError):
    """An argument of the wrong kind (a ``ValueError`` like every refusal of a bad input here, and a
    ``TypeError`` as these refusals were before)."""


def check_seed(name: str, value: Any) -> int:
    """An integer seed in ``[0, 2**32 - 1]``."""
    return check_int(name, value, 0, SEED_MAX)


def check_count(name: str, value: Any, low: int = 1) -> int:
    """An integer count ``>= low`` (an integral float such as ``3.0`` counts; ``2.5``, ``inf``, ``nan`` and
    ``True`` do not)."""
    return check_min_int(name, value, low)


def check_flag(name: str, value: Any) -> bool:
    """``True`` or ``False`` (``numpy.bool_`` too): :func:`pinnkit.validation.check_bool`."""
    return check_bool(name, value)


def check_module(name: str, value: Any, what: str) -> nn.Module:
    """``value`` must be a ``torch.nn.Module`` (``what`` says what it should compute)."""
    if not isinstance(value, nn.Module):
        raise ArgumentTypeError(f"{name} must be a torch.nn.Module ({what}), got {type(value).__name__}")
    return value


def hidden_units(model: Optional[nn.Module]) -> int:
    """Output features of every ``nn.Linear`` inside ``model`` (the activations a forward pass keeps per
    point; 0 for a module without linear layers)."""
    if model is None:
        return 0
    return sum(int(m.out_features) for m in model.modules() if isinstance(m, nn.Linear))
