"""A reaction–diffusion equation with a space-dependent coefficient: ``−Δu + c(x) u = f``.

The coefficient field ``c(x) = 1 + ½ sin(π x₁) cos(π x₂ / 2)`` (``x₂`` absent in 1-D) and the solution
``u = sin(ω·x + ½)`` (:func:`~pinnkit.equations.poisson.plane_wave`) give ``f = (|ω|² + c) u``; Dirichlet data
are those of ``u``. ``c`` is declared an unknown field (``UNKNOWN_FIELDS``), the inverse problem of recovering a
coefficient function from observations of ``u``; :meth:`true_c` is the truth, :meth:`c` what the residual reads.
"""

from __future__ import annotations

import math
from typing import Any, List

import torch
from torch import Tensor

from pinnkit.derivatives import Fields
from pinnkit.validation import check_int, check_real

from .base import Condition, DirichletBC, Problem
from .geometry import problem_geometry
from .poisson import SHAPES, plane_wave, resolve_domain

__all__ = ["ReactionDiffusion"]


class ReactionDiffusion(Problem):
    """``−Δu + c(x) u = f`` on a domain (module docstring).

    Args:
        domain: a named shape (:data:`~pinnkit.equations.poisson.SHAPES`), a Domain or a DeepXDE geometry.
        dim: dimension of the ``"ball"`` shape; ``freq``: frequency factor of the solution.
    """

    UNKNOWN_FIELDS = {"c": {"positive": True}}

    PARAMETERS = {
        "domain": ("square", f"the domain, one of {SHAPES} (or, from Python, any geometry)"),
        "dim": (2, "dimension of the 'ball' shape, integer in [1, 10]"),
        "freq": (1.0, "frequency factor of the solution, in (0, 100]"),
    }

    def __init__(self, domain: Any = "square", dim: int = 2, freq: float = 1.0) -> None:
        dim = check_int("dim", dim, 1, 10)
        dom = resolve_domain(domain, dim)
        freq = check_real("freq", freq, 0.0, 100.0)
        super().__init__(
            name="reaction-diffusion",
            n_outputs=1,
            **problem_geometry(dom),
            params={"domain": domain if isinstance(domain, str) else dom.describe(), "dim": dom.dim, "freq": freq},
        )
        self.omega = plane_wave(dom.dim, freq)

    def true_c(self, x: Tensor) -> Tensor:
        """``c(x) = 1 + ½ sin(π x₁) cos(π x₂/2)``, ``(N,)``."""
        bump = torch.sin(math.pi * x[:, 0])
        if self.spatial_dim > 1:
            bump = bump * torch.cos(0.5 * math.pi * x[:, 1])
        return 1.0 + 0.5 * bump

    c = true_c  # what the residual reads; an inverse run replaces it with a learned field

    def exact(self, x: Tensor) -> Tensor:
        w = torch.as_tensor(self.omega, dtype=x.dtype, device=x.device)
        return torch.sin(x[:, : self.spatial_dim] @ w + 0.5).unsqueeze(-1)

    def residual(self, f: Fields) -> Tensor:
        """``−Δu + c u − f`` with ``f = (|ω|² + c_true) u_exact``."""
        u_star = self.exact(f.x)[:, 0]
        source = (sum(w * w for w in self.omega) + self.true_c(f.x)) * u_star
        return (-f.laplacian(0) + self.c(f.x) * f.u[:, 0] - source).unsqueeze(-1)

    def conditions(self) -> List[Condition]:
        return [DirichletBC("boundary", target=self.exact)]
