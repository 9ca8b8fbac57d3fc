"""Heat equation ``u_t = κ Δu`` on ``[0,1]^d × [0,T]``, ``d = 1 … 10``, with closed-form solutions.

Every solution is a finite sum of separable modes ``Π_i φ(k π x_i) e^{−d k² π² κ t}`` with
``φ ∈ {sin, cos}``, each of which satisfies the equation exactly since ``Δ Π_i φ(kπx_i) = −d k²π² Π_i φ``:

* ``"sine"``: ``u = Π sin(π x_i) e^{−dπ²κt}``, zero Dirichlet data on every face;
* ``"two-mode"``: ``u = Π sin(π x_i) e^{−dπ²κt} + ½ Π sin(2π x_i) e^{−4dπ²κt}``, zero Dirichlet data;
* ``"cosine"``: ``u = Π cos(π x_i) e^{−dπ²κt}``, zero Neumann data ``∂u/∂n = 0`` on every face;
* ``"periodic"``: ``u = Π cos(2π x_i) e^{−4dπ²κt} + ½ Π sin(2π x_i) e^{−4dπ²κt}``, periodic in each x_i.
"""

from __future__ import annotations

import math
from typing import List

import torch
from torch import Tensor

from pinnkit.derivatives import Fields
from pinnkit.validation import check_choice, check_int, check_real

from .base import (
    MAX_COEFFICIENT,
    MIN_TIME,
    Condition,
    DirichletBC,
    Face,
    InitialCondition,
    NeumannBC,
    PeriodicBC,
    Problem,
)

__all__ = ["Heat", "HEAT_SOLUTIONS"]

# each solution: list of (amplitude, wave number k, "sin"|"cos")
HEAT_SOLUTIONS = {
    "sine": [(1.0, 1, "sin")],
    "two-mode": [(1.0, 1, "sin"), (0.5, 2, "sin")],
    "cosine": [(1.0, 1, "cos")],
    "periodic": [(1.0, 2, "cos"), (0.5, 2, "sin")],
}
_BOUNDARY = {"sine": "dirichlet", "two-mode": "dirichlet", "cosine": "neumann", "periodic": "periodic"}


def _zero(x: Tensor) -> Tensor:
    return torch.zeros(x.shape[0], 1, dtype=x.dtype, device=x.device)


class Heat(Problem):
    """``u_t = κ Δu`` on ``[0,1]^d × [0,T]`` with an exact solution chosen by ``solution``.

    Args:
        dim: spatial dimension ``d``, 1 … 10.
        kappa: diffusivity ``κ > 0``.
        T: final time ``T > 0``.
        solution: one of ``"sine"``, ``"two-mode"``, ``"cosine"``, ``"periodic"`` (see module docstring);
            it also fixes the boundary conditions (Dirichlet, Dirichlet, Neumann, periodic).
    """

    UNKNOWNS = {"kappa": {"positive": True, "initial": 0.5}}

    PARAMETERS = {
        "dim": (1, "spatial dimension d, integer in [1, 10]"),
        "kappa": (0.1, "diffusivity κ in (0, 1e4]"),
        "T": (1.0, "final time T in [1e-30, 1e4]"),
        "solution": ("sine", f"closed form, one of {tuple(HEAT_SOLUTIONS)}"),
    }

    def __init__(self, dim: int = 1, kappa: float = 0.1, T: float = 1.0, solution: str = "sine") -> None:
        dim = check_int("dim", dim, 1, 10)
        kappa = check_real("kappa", kappa, 0.0, MAX_COEFFICIENT)
        T = check_real("T", T, MIN_TIME, MAX_COEFFICIENT, low_open=False)
        check_choice("solution", solution, tuple(HEAT_SOLUTIONS))
        super().__init__(
            name="heat",
            spatial_dim=dim,
            n_outputs=1,
            lower=(0.0,) * dim,
            upper=(1.0,) * dim,
            time_interval=(0.0, T),
            params={"dim": dim, "kappa": kappa, "T": T, "solution": solution},
        )
        self.kappa = kappa
        self.modes = HEAT_SOLUTIONS[solution]
        self.boundary = _BOUNDARY[solution]

    def linear_parabolic(self) -> dict:
        """``{kappa, velocity, reaction}`` of ``u_t − κΔu + β·∇u + c u = f``: here ``β = 0``, ``c = 0``."""
        return {"kappa": self.kappa, "velocity": (0.0,) * self.spatial_dim, "reaction": 0.0}

    def residual(self, f: Fields) -> Tensor:
        """``u_t − κ Δu``."""
        return (f.dt(0) - self.kappa * f.laplacian(0)).unsqueeze(-1)

    def exact(self, x: Tensor) -> Tensor:
        d = self.spatial_dim
        xs, t = x[:, :d], x[:, d]
        u = torch.zeros_like(t)
        for amp, k, kind in self.modes:
            phase = k * math.pi * xs
            shape = torch.sin(phase) if kind == "sin" else torch.cos(phase)
            u = u + amp * shape.prod(dim=1) * torch.exp(-d * (k * math.pi) ** 2 * self.kappa * t)
        return u.unsqueeze(-1)

    def initial(self, x: Tensor) -> Tensor:
        x0 = x.clone()
        x0[:, self.spatial_dim] = self.time_interval[0]
        return self.exact(x0)

    def conditions(self) -> List[Condition]:
        conds: List[Condition] = [InitialCondition("initial", target=self.initial)]
        d = self.spatial_dim
        if self.boundary == "dirichlet":
            conds.append(DirichletBC("boundary", target=_zero, homogeneous=True))
        elif self.boundary == "neumann":
            conds += [
                NeumannBC(f"neumann_x{k + 1}_{s}", target=_zero, face=Face(k, s)) for k in range(d) for s in (0, 1)
            ]
        else:
            conds += [PeriodicBC(f"periodic_x{k + 1}", dim=k, period=1.0) for k in range(d)]
        return conds
