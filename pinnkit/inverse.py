"""Unknown coefficients trained with the net (the engine side of an inverse problem).

:class:`Coefficients` holds one trainable scalar per unknown, ``c = exp(θ)`` where the problem declares it
positive and ``c = θ`` otherwise; :class:`InverseModel` is the net with its coefficients, so every optimiser
stage, checkpoint and resume of the training core carries them without knowing about them;
:class:`CoefficientTracker` records their values during training (``history["diagnostics"]``).
"""

from __future__ import annotations

import math
from typing import Any, Dict, Mapping

import torch
from torch import Tensor, nn

__all__ = ["Coefficients", "InverseModel", "CoefficientTracker"]


class Coefficients(nn.Module):
    """Trainable scalars ``{name: value}``; ``spec[name]`` has ``positive`` and ``initial``."""

    def __init__(self, spec: Mapping[str, Mapping[str, Any]]) -> None:
        super().__init__()
        self.names = tuple(spec)
        self.positive = {n: bool(spec[n].get("positive", False)) for n in self.names}
        self.raw = nn.ParameterDict()
        for n in self.names:
            v = float(spec[n]["initial"])
            if self.positive[n] and not v > 0:
                raise ValueError(f"infer: the initial value of {n} must be > 0 (it is parametrised as exp(θ)), got {v}")
            self.raw[n] = nn.Parameter(torch.tensor(math.log(v) if self.positive[n] else v))

    def __call__(self, name: str) -> Tensor:  # the value the residual reads
        return self.value(name)

    def value(self, name: str) -> Tensor:
        """``exp(θ)`` (positive) or ``θ``."""
        raw = self.raw[name]
        return torch.exp(raw) if self.positive[name] else raw

    def values(self) -> Dict[str, float]:
        with torch.no_grad():
            return {n: float(self.value(n)) for n in self.names}


class InverseModel(nn.Module):
    """``net`` with the unknown ``coefficients``: the forward pass is the net's; the parameters are both."""

    def __init__(self, net: nn.Module, coefficients: Coefficients) -> None:
        super().__init__()
        self.net = net
        self.coefficients = coefficients

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def __getattr__(self, name: str) -> Any:  # the net's own attributes (enforced conditions, jets, ...)
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("net"), name)


class CoefficientTracker:
    """Callback: the current value of every unknown as ``{"<name>": value}`` every ``every`` steps."""

    def __init__(self, every: int = 50) -> None:
        self.every = int(every)

    def __call__(self, trainer: Any) -> Dict[str, float]:
        model = trainer.model
        coefs = getattr(model, "coefficients", None)
        return {} if coefs is None else {f"coefficient/{k}": v for k, v in coefs.values().items()}
