"""Deep nets for PINNs: plain MLP, residual MLP with 1/sqrt(L) branches, optional Fourier-feature input."""

from __future__ import annotations

import math
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from ..jets import JET_ACTIVATIONS, mlp_jet
from .activations import INIT_BY_ACTIVATION, activation, init_linear

__all__ = ["InputScaling", "FourierFeatures", "MLP", "ResidualMLP"]


class InputScaling(nn.Module):
    """Affine map of the box ``[lower, upper]`` onto ``[-1, 1]^D``: ``x' = 2 (x − lower)/(upper − lower) − 1``."""

    def __init__(self, lower: Sequence[float], upper: Sequence[float]) -> None:
        super().__init__()
        lo = torch.as_tensor(lower, dtype=torch.get_default_dtype())
        hi = torch.as_tensor(upper, dtype=torch.get_default_dtype())
        if lo.shape != hi.shape or lo.dim() != 1:
            raise ValueError("lower and upper must be 1-D sequences of the same length")
        if not bool(torch.all(hi > lo)):
            raise ValueError(f"upper must exceed lower in every coordinate, got lower={lower}, upper={upper}")
        self.register_buffer("center", (hi + lo) / 2)
        self.register_buffer("half_width", (hi - lo) / 2)

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.center) / self.half_width


class FourierFeatures(nn.Module):
    """Random Fourier features ``γ(x) = [cos(Bx), sin(Bx)]`` with fixed ``B ~ N(0, σ²)`` of shape
    ``(n_features, in_dim)`` (Tancik et al. 2020; Wang, Wang & Perdikaris 2021)."""

    def __init__(
        self, in_dim: int, n_features: int = 64, sigma: Union[float, Sequence[float]] = 1.0, seed: Optional[int] = None
    ) -> None:
        super().__init__()
        if n_features < 1:
            raise ValueError(f"n_features must be >= 1, got {n_features}")
        scales = [float(sigma)] * in_dim if isinstance(sigma, (int, float)) else [float(s) for s in sigma]
        if len(scales) != in_dim:
            raise ValueError(f"sigma must be one scale or {in_dim} (one per input axis), got {len(scales)}")
        if not all(s > 0 for s in scales):
            raise ValueError(f"sigma must be > 0, got {sigma}")
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        # column k of B scaled by σ_k: per-axis scales (one σ for all axes reproduces the isotropic draw)
        self.register_buffer("B", torch.randn(n_features, in_dim, generator=g) * torch.tensor(scales))
        self.out_dim = 2 * n_features

    def forward(self, x: Tensor) -> Tensor:
        z = x @ self.B.T
        return torch.cat([torch.cos(z), torch.sin(z)], dim=-1)


def _check_shape(in_dim: int, out_dim: int, width: int, depth: int) -> None:
    for name, value, low in (("in_dim", in_dim, 1), ("out_dim", out_dim, 1), ("width", width, 1), ("depth", depth, 1)):
        if int(value) != value or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value}")


class _Net(nn.Module):
    """Shared plumbing: optional input scaling, optional Fourier features, activation and init."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        width: int,
        depth: int,
        activation_name: str,
        init: Optional[str],
        fourier: Optional[FourierFeatures],
        input_bounds: Optional[tuple],
    ) -> None:
        super().__init__()
        _check_shape(in_dim, out_dim, width, depth)
        self.in_dim, self.out_dim, self.width, self.depth = in_dim, out_dim, width, depth
        self.activation_name = activation_name
        self.act = activation(activation_name)
        self.init_scheme = init or INIT_BY_ACTIVATION[activation_name]
        self.scaling = InputScaling(*input_bounds) if input_bounds is not None else None
        self.fourier = fourier
        self.feature_dim = fourier.out_dim if fourier is not None else in_dim

    def embed(self, x: Tensor) -> Tensor:
        if self.scaling is not None:
            x = self.scaling(x)
        if self.fourier is not None:
            x = self.fourier(x)
        return x

    def _init_all(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                init_linear(m, self.init_scheme)

    def hidden_widths(self) -> list:
        return [self.width] * self.depth


class MLP(_Net):
    """Fully connected net ``x → σ(W_1 x + b_1) → … → W_{L+1} h_L + b_{L+1}`` with ``depth`` hidden layers.

    Initialisation is chosen by the activation (Glorot for tanh/sin/sigmoid, He for ReLU-like), biases zero;
    pass ``init`` to override. ``input_bounds=(lower, upper)`` maps the problem's box onto ``[-1, 1]^D``
    first; ``fourier`` inserts a Fourier-feature embedding.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int = 1,
        width: int = 32,
        depth: int = 3,
        activation: str = "tanh",
        init: Optional[str] = None,
        fourier: Optional[FourierFeatures] = None,
        input_bounds: Optional[tuple] = None,
    ) -> None:
        super().__init__(in_dim, out_dim, width, depth, activation, init, fourier, input_bounds)
        dims = [self.feature_dim] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.head = nn.Linear(width, out_dim)
        self._init_all()

    def forward(self, x: Tensor) -> Tensor:
        h = self.embed(x)
        for layer in self.hidden:
            h = self.act(layer(h))
        return self.head(h)

    @property
    def supports_jet(self) -> bool:
        """Whether :meth:`jet` has a rule for this net's activation."""
        return self.activation_name in JET_ACTIVATIONS

    def jet(
        self, x: Tensor, first: Sequence[int], second: Sequence[Tuple[int, int]] = ()
    ) -> Tuple[Tensor, Dict[int, Tensor], Dict[Tuple[int, int], Tensor]]:
        """Value and input derivatives in one forward pass (:func:`pinnkit.jets.mlp_jet`)."""
        return mlp_jet(self, x, first, second)


class ResidualMLP(_Net):
    """Residual MLP: ``h_0 = σ(W_in x)``, ``h_{l+1} = h_l + L^{-1/2} σ(W_l h_l + b_l)`` for ``l < L``,
    output ``W_out h_L``. The ``1/sqrt(L)`` branch scaling keeps the forward variance bounded in depth
    (depth-wise hyperparameter transfer, Bordelon, Noci, Li, Hanin & Pehlevan 2024)."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int = 1,
        width: int = 32,
        depth: int = 4,
        activation: str = "tanh",
        init: Optional[str] = None,
        fourier: Optional[FourierFeatures] = None,
        input_bounds: Optional[tuple] = None,
    ) -> None:
        super().__init__(in_dim, out_dim, width, depth, activation, init, fourier, input_bounds)
        self.lift = nn.Linear(self.feature_dim, width)
        self.blocks = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.head = nn.Linear(width, out_dim)
        self.branch_scale = 1.0 / math.sqrt(depth)
        self._init_all()

    def forward(self, x: Tensor) -> Tensor:
        h = self.act(self.lift(self.embed(x)))
        for block in self.blocks:
            h = h + self.branch_scale * self.act(block(h))
        return self.head(h)
