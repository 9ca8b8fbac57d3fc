r"""Advection–diffusion–reaction with constant coefficients on the unit box, with an exact solution.

    u_t − κ Δu + β·∇u + c u = 0   on [0, 1]^d × [0, T],   u = 0 on the faces,

``κ > 0``, ``β = (b, …, b)`` (one advection speed on every axis), ``c ≥ 0`` (reaction). Exact solution: with
``a = β/(2κ)`` the substitution ``u = e^{a·x + γt} w`` removes the advection term (``−2κ a·∇w + β·∇w = 0``) and
leaves ``w_t − κΔw + (γ + |β|²/(4κ) + c) w = 0``; taking ``γ = −|β|²/(4κ) − c`` and the first heat mode
``w = Π_i sin(π x_i) e^{−dκπ²t}`` gives

    u(x, t) = exp(β·x/(2κ) − (|β|²/(4κ) + c + dκπ²) t) Π_i sin(π x_i),

which vanishes on every face. ``b = c = 0`` is the heat equation's sine solution. The problem declares itself
linear parabolic (:meth:`AdvectionDiffusion.linear_parabolic`) so that the certified maximum-principle and
energy bounds of :mod:`pinnkit.theory.parabolic` apply.
"""

from __future__ import annotations

import math
from typing import Dict, List

import torch
from torch import Tensor

from pinnkit.derivatives import Fields
from pinnkit.validation import check_int, check_real

from .base import MAX_COEFFICIENT, MIN_TIME, Condition, DirichletBC, InitialCondition, Problem

__all__ = ["AdvectionDiffusion"]


def _zero(x: Tensor) -> Tensor:
    return torch.zeros(x.shape[0], 1, dtype=x.dtype, device=x.device)


class AdvectionDiffusion(Problem):
    """``u_t − κΔu + β·∇u + c u = 0`` on ``[0,1]^d × [0,T]``, zero Dirichlet data (module docstring).

    Args:
        dim: spatial dimension ``d``, 1 … 10.
        kappa: diffusivity ``κ``.
        velocity: advection speed ``b`` on every axis (``β = (b, …, b)``).
        reaction: reaction rate ``c ≥ 0``.
        T: final time.
    """

    PARAMETERS = {
        "dim": (1, "spatial dimension d, integer in [1, 10]"),
        "kappa": (0.1, "diffusivity κ in (0, 1e4]"),
        "velocity": (0.5, "advection speed b on every axis, in [-1e4, 1e4]"),
        "reaction": (0.5, "reaction rate c in [0, 1e4]"),
        "T": (1.0, "final time T in [1e-30, 1e4]"),
    }

    def __init__(
        self, dim: int = 1, kappa: float = 0.1, velocity: float = 0.5, reaction: float = 0.5, T: float = 1.0
    ) -> None:
        dim = check_int("dim", dim, 1, 10)
        kappa = check_real("kappa", kappa, 0.0, MAX_COEFFICIENT)
        velocity = check_real("velocity", velocity, -MAX_COEFFICIENT, MAX_COEFFICIENT, low_open=False)
        reaction = check_real("reaction", reaction, 0.0, MAX_COEFFICIENT, low_open=False)
        T = check_real("T", T, MIN_TIME, MAX_COEFFICIENT, low_open=False)
        shift = dim * velocity / (2.0 * kappa)  # the largest exponent a·x on the box
        if abs(shift) > 600.0:
            raise ValueError(
                f"velocity/kappa too large: the exact solution grows like exp(d·velocity/(2·kappa)) = "
                f"exp({shift:.3g}) across the box (|d·velocity/(2·kappa)| must be <= 600 in float64)"
            )
        super().__init__(
            name="advection-diffusion",
            spatial_dim=dim,
            n_outputs=1,
            lower=(0.0,) * dim,
            upper=(1.0,) * dim,
            time_interval=(0.0, T),
            params={"dim": dim, "kappa": kappa, "velocity": velocity, "reaction": reaction, "T": T},
        )
        self.kappa, self.velocity, self.reaction = kappa, velocity, reaction
        self.decay = dim * velocity**2 / (4.0 * kappa) + reaction + dim * kappa * math.pi**2

    def linear_parabolic(self) -> Dict[str, object]:
        """``{kappa, velocity (d-tuple), reaction}`` of ``u_t − κΔu + β·∇u + c u = f`` (here ``f = 0``)."""
        return {"kappa": self.kappa, "velocity": (self.velocity,) * self.spatial_dim, "reaction": self.reaction}

    def residual(self, f: Fields) -> Tensor:
        """``u_t − κΔu + β·∇u + c u``."""
        r = f.dt(0) - self.kappa * f.laplacian(0) + self.reaction * f.u[:, 0]
        for k in range(self.spatial_dim):
            r = r + self.velocity * f.d(0, k)
        return r.unsqueeze(-1)

    def exact(self, x: Tensor) -> Tensor:
        d = self.spatial_dim
        a = self.velocity / (2.0 * self.kappa)
        expo = x[:, d] * (-self.decay)
        shape = None
        for k in range(d):
            expo = expo + a * x[:, k]
            s = torch.sin(math.pi * x[:, k])
            shape = s if shape is None else shape * s
        return (torch.exp(expo) * shape).unsqueeze(-1)

    def initial(self, x: Tensor) -> Tensor:
        x0 = x.clone()
        x0[:, self.spatial_dim] = self.time_interval[0]
        return self.exact(x0)

    def conditions(self) -> List[Condition]:
        return [
            InitialCondition("initial", target=self.initial),
            DirichletBC("boundary", target=_zero, homogeneous=True),
        ]
