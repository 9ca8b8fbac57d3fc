"""The heat equation ``u_t = κ Δu`` on any domain, with a closed-form plane-wave solution.

``u(x, t) = e^{−κ|ω|² t} sin(ω·x + ½)`` with ``ω_k = freq · π · (1 − 0.2 k)`` solves the equation exactly
(``Δ sin(ω·x + ½) = −|ω|² sin(ω·x + ½)``); initial data ``u(x, 0)`` and Dirichlet data on ``∂Ω`` are those of
``u``. Domains as for :class:`~pinnkit.equations.poisson.Poisson` (the unit ball in ``dim`` dimensions by
default).
"""

from __future__ import annotations

from typing import Any, List

import torch
from torch import Tensor

from pinnkit.derivatives import Fields
from pinnkit.validation import check_int, check_real

from .base import MAX_COEFFICIENT, MIN_TIME, Condition, DirichletBC, InitialCondition, Problem
from .geometry import problem_geometry
from .poisson import SHAPES, plane_wave, resolve_domain

__all__ = ["HeatOnDomain"]


class HeatOnDomain(Problem):
    """``u_t = κ Δu`` on a domain × ``[0, T]`` with the plane-wave solution of the module docstring.

    Args:
        domain: a named shape (:data:`~pinnkit.equations.poisson.SHAPES`), a Domain or a DeepXDE geometry.
        dim: dimension of the ``"ball"`` shape, 1 … 10.
        kappa: diffusivity ``κ``; ``T``: final time; ``freq``: frequency factor of the solution.
    """

    UNKNOWNS = {"kappa": {"positive": True, "initial": 0.5}}

    PARAMETERS = {
        "domain": ("ball", f"the domain, one of {SHAPES} (or, from Python, any geometry)"),
        "dim": (5, "dimension of the 'ball' shape, integer in [1, 10]"),
        "kappa": (0.1, "diffusivity κ in (0, 1e4]"),
        "T": (1.0, "final time T in [1e-30, 1e4]"),
        "freq": (0.5, "frequency factor of the solution, in (0, 100]"),
    }

    def __init__(self, domain: Any = "ball", dim: int = 5, kappa: float = 0.1, T: float = 1.0, freq: float = 0.5):
        dim = check_int("dim", dim, 1, 10)
        dom = resolve_domain(domain, dim)
        kappa = check_real("kappa", kappa, 0.0, MAX_COEFFICIENT)
        T = check_real("T", T, MIN_TIME, MAX_COEFFICIENT, low_open=False)
        freq = check_real("freq", freq, 0.0, 100.0)
        super().__init__(
            name="heat-domain",
            n_outputs=1,
            **problem_geometry(dom),
            time_interval=(0.0, T),
            params={
                "domain": domain if isinstance(domain, str) else dom.describe(),
                "dim": dom.dim,
                "kappa": kappa,
                "T": T,
                "freq": freq,
            },
        )
        self.kappa = kappa
        self.omega = plane_wave(dom.dim, freq)

    def residual(self, f: Fields) -> Tensor:
        """``u_t − κ Δu``."""
        return (f.dt(0) - self.kappa * f.laplacian(0)).unsqueeze(-1)

    def exact(self, x: Tensor) -> Tensor:
        d = self.spatial_dim
        w = torch.as_tensor(self.omega, dtype=x.dtype, device=x.device)
        decay = torch.exp(-self.kappa * float(sum(v * v for v in self.omega)) * x[:, d])
        return (decay * torch.sin(x[:, :d] @ w + 0.5)).unsqueeze(-1)

    def conditions(self) -> List[Condition]:
        return [InitialCondition("initial", target=self.exact), DirichletBC("boundary", target=self.exact)]
