"""Unknown coefficients trained with the net (the engine side of an inverse problem).

:class:`Coefficients` holds one trainable scalar per unknown, ``c = exp(θ)`` where the problem declares it
positive and ``c = θ`` otherwise; :class:`InverseModel` is the net with its coefficients, so every optimiser
stage, checkpoint and resume of the training core carries them without knowing about them;
:class:`CoefficientTracker` records their values during training (``history["diagnostics"]``).
"""

from __future__ import annotations

import math
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

__all__ = ["Coefficients", "InverseModel", "CoefficientTracker"]


class Coefficients(nn.Module):
    """Trainable unknowns ``{name: value}``; ``spec[name]`` has ``positive`` and ``initial`` and, for a
    coefficient function of space (``field=True``), the value is a small tanh net of the spatial
    coordinates (2 × 20, inputs mapped from ``bounds`` onto ``[−1, 1]``), ``exp(net)`` where positive,
    starting at the constant ``initial``."""

    def __init__(
        self, spec: Mapping[str, Mapping[str, Any]], bounds: Optional[Tuple[Sequence, Sequence]] = None, seed: int = 0
    ) -> None:
        super().__init__()
        self.names = tuple(spec)
        self.positive = {n: bool(spec[n].get("positive", False)) for n in self.names}
        self.is_field = {n: bool(spec[n].get("field", False)) for n in self.names}
        self.raw = nn.ParameterDict()
        self.fields = nn.ModuleDict()
        for n in self.names:
            v = float(spec[n]["initial"])
            if self.positive[n] and not v > 0:
                raise ValueError(f"infer: the initial value of {n} must be > 0 (it is parametrised as exp(θ)), got {v}")
            start = math.log(v) if self.positive[n] else v
            if self.is_field[n]:
                from .nets import MLP

                if bounds is None:
                    raise ValueError(f"the coefficient field {n} needs the spatial bounds of the domain")
                with torch.random.fork_rng(devices=[]):  # seeded, and the global generator left alone
                    torch.manual_seed(seed + 7919 * (1 + self.names.index(n)))
                    net = MLP(len(bounds[0]), 1, width=20, depth=2, input_bounds=bounds)
                with torch.no_grad():  # near the constant `initial` to start with
                    net.head.weight.mul_(0.1)
                    net.head.bias.fill_(start)
                self.fields[n] = net
            else:
                self.raw[n] = nn.Parameter(torch.tensor(start))

    def __call__(self, name: str) -> Any:  # the value the residual reads
        return self.value(name)

    def value(self, name: str) -> Any:
        """``exp(θ)`` (positive) or ``θ``; for a field, the function ``x ↦ c(x)`` ``(N,)`` of the space–time
        points ``x`` (their spatial columns)."""
        if self.is_field[name]:
            net, d, pos = self.fields[name], self.fields[name].in_dim, self.positive[name]

            def field(x: Tensor) -> Tensor:
                out = net(x[:, :d])[:, 0]
                return torch.exp(out) if pos else out

            return field
        raw = self.raw[name]
        return torch.exp(raw) if self.positive[name] else raw

    def values(self) -> Dict[str, float]:
        """The scalar unknowns' current values (fields left out)."""
        with torch.no_grad():
            return {n: float(self.value(n)) for n in self.names if not self.is_field[n]}


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
