"""Activation functions by name, and the initialisation each one calls for."""

from __future__ import annotations

from typing import Callable, Dict

import torch
from torch import Tensor, nn


class Sine(nn.Module):
    """``σ(z) = sin(z)``."""

    def forward(self, z: Tensor) -> Tensor:
        return torch.sin(z)


_ACTIVATIONS: Dict[str, Callable[[], nn.Module]] = {
    "tanh": nn.Tanh,
    "sin": Sine,
    "gelu": nn.GELU,
    "relu": nn.ReLU,
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
    "sigmoid": nn.Sigmoid,
}

# Glorot (Xavier) keeps the variance of pre-activations constant for odd, unit-slope-at-zero activations
# (Glorot & Bengio 2010); He (Kaiming, variance 2/fan_in) does so for ReLU-like ones (He et al. 2015;
# Hanin 2018 shows it keeps E[squared activation length] constant in depth).
INIT_BY_ACTIVATION: Dict[str, str] = {
    "tanh": "glorot",
    "sin": "glorot",
    "sigmoid": "glorot",
    "gelu": "he",
    "relu": "he",
    "silu": "he",
    "softplus": "he",
}

ACTIVATIONS = tuple(_ACTIVATIONS)


def activation(name: str) -> nn.Module:
    """A fresh activation module by name (one of :data:`ACTIVATIONS`)."""
    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}") from None


def init_linear(layer: nn.Linear, scheme: str, generator: torch.Generator | None = None) -> None:
    """Initialise ``layer`` in place: weights normal with variance ``2/(fan_in+fan_out)`` (Glorot) or
    ``2/fan_in`` (He); biases zero."""
    fan_out, fan_in = layer.weight.shape
    if scheme == "glorot":
        std = (2.0 / (fan_in + fan_out)) ** 0.5
    elif scheme == "he":
        std = (2.0 / fan_in) ** 0.5
    else:
        raise ValueError(f"init must be 'glorot' or 'he', got {scheme!r}")
    with torch.no_grad():
        layer.weight.normal_(0.0, std, generator=generator)
        if layer.bias is not None:
            layer.bias.zero_()
