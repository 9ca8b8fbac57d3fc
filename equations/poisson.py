"""Poisson's equation ``−Δu = f`` on any domain, with a manufactured closed-form solution.

``u(x) = sin(ω·x + ½)`` with ``ω_k = freq · π · (1 − 0.2 k)`` (``k = 0 … d−1``) solves ``−Δu = f`` for
``f = |ω|² u``; the boundary data are those of ``u``: Dirichlet ``u = g``, Robin ``α u + β ∂u/∂n = g`` with the
domain's outward normal, or Robin on the part of the boundary where ``x_1 > centre`` and Dirichlet on the rest
(``"mixed"``). Domains: any :mod:`~pinnkit.equations.geometry` domain or DeepXDE geometry, or a named shape
(``"disk"``, ``"annulus"``: a disk with a hole, ``"l-shape"``, ``"ball"``: the unit ball in ``dim``
dimensions, ``"square"``: ``[0,1]²``, pinnkit's box path).
"""

from __future__ import annotations

import math
from typing import Any, List

import torch
from torch import Tensor

from pinnkit.derivatives import Fields
from pinnkit.validation import check_choice, check_int, check_real

from .base import MAX_COEFFICIENT, Condition, DirichletBC, Problem, RobinBC
from .geometry import Box, Domain, as_domain, make, problem_geometry

__all__ = ["Poisson", "SHAPES", "shape_domain", "resolve_domain", "plane_wave"]

SHAPES = ("disk", "annulus", "l-shape", "ball", "square")
BOUNDARIES = ("dirichlet", "robin", "mixed")


def plane_wave(dim: int, freq: float) -> tuple:
    """The wave vector ``ω_k = freq · π · (1 − 0.2 k)``, ``k = 0 … d−1``, of the manufactured solutions."""
    return tuple(freq * math.pi * (1.0 - 0.2 * k) for k in range(dim))


def resolve_domain(domain: Any, dim: int) -> Domain:
    """A named shape (:func:`shape_domain`), or a Domain or DeepXDE geometry as a :class:`Domain`; anything
    else is refused naming ``domain``."""
    if isinstance(domain, str):
        return shape_domain(domain, dim)
    try:
        return as_domain(domain)
    except ValueError as err:
        raise ValueError(f"domain must be one of {SHAPES}, a pinnkit Domain or a DeepXDE geometry: {err}") from None


def shape_domain(shape: str, dim: int = 2) -> Domain:
    """The named domain: ``"disk"`` (unit disk), ``"annulus"`` (unit disk minus the disk of radius 0.4
    centred at (0.1, 0)), ``"l-shape"`` (``[0,2]² ∖ (1,2]²``), ``"ball"`` (unit ball in ``dim`` dimensions),
    ``"square"`` (``[0,1]²``)."""
    check_choice("domain", shape, SHAPES)
    if shape == "square":
        return Box((0.0, 0.0), (1.0, 1.0))
    if shape == "disk":
        return make("Disk", [0.0, 0.0], 1.0)
    if shape == "annulus":
        return make("Disk", [0.0, 0.0], 1.0) - make("Disk", [0.1, 0.0], 0.4)
    if shape == "l-shape":
        return make("Polygon", [[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]])
    dim = check_int("dim", dim, 1, 10)
    return make("Interval", -1.0, 1.0) if dim == 1 else make("Hypersphere", [0.0] * dim, 1.0)


class Poisson(Problem):
    """``−Δu = f`` on a domain, with the manufactured solution of the module docstring.

    Args:
        domain: a named shape (:data:`SHAPES`), a :class:`~pinnkit.equations.geometry.Domain` or a DeepXDE
            geometry.
        dim: dimension of the ``"ball"`` shape (1 … 10; other shapes fix their own).
        freq: frequency factor of the solution, in (0, 100].
        boundary: ``"dirichlet"``, ``"robin"`` or ``"mixed"``; ``alpha``, ``beta``: the Robin coefficients.
    """

    PARAMETERS = {
        "domain": ("disk", f"the domain, one of {SHAPES} (or, from Python, any geometry)"),
        "dim": (2, "dimension of the 'ball' shape, integer in [1, 10]"),
        "freq": (1.0, "frequency factor of the solution sin(ω·x + 1/2), in (0, 100]"),
        "boundary": ("dirichlet", f"boundary data, one of {BOUNDARIES}"),
        "alpha": (1.0, "Robin coefficient α of α u + β ∂u/∂n = g"),
        "beta": (1.0, "Robin coefficient β of α u + β ∂u/∂n = g"),
    }

    def __init__(
        self,
        domain: Any = "disk",
        dim: int = 2,
        freq: float = 1.0,
        boundary: str = "dirichlet",
        alpha: float = 1.0,
        beta: float = 1.0,
    ) -> None:
        dim = check_int("dim", dim, 1, 10)
        dom = resolve_domain(domain, dim)
        freq = check_real("freq", freq, 0.0, 100.0)
        check_choice("boundary", boundary, BOUNDARIES)
        alpha = check_real("alpha", alpha, -MAX_COEFFICIENT, MAX_COEFFICIENT, low_open=False)
        beta = check_real("beta", beta, -MAX_COEFFICIENT, MAX_COEFFICIENT, low_open=False)
        super().__init__(
            name="poisson",
            n_outputs=1,
            **problem_geometry(dom),
            params={
                "domain": domain if isinstance(domain, str) else dom.describe(),
                "dim": dom.dim,
                "freq": freq,
                "boundary": boundary,
                "alpha": alpha,
                "beta": beta,
            },
        )
        self.omega = plane_wave(dom.dim, freq)
        self.boundary, self.alpha, self.beta = boundary, alpha, beta
        self._centre = 0.5 * (self.lower[0] + self.upper[0])

    # ------------------------------------------------------------------ physics
    def _phase(self, x: Tensor) -> Tensor:
        w = torch.as_tensor(self.omega, dtype=x.dtype, device=x.device)
        return x[:, : self.spatial_dim] @ w + 0.5

    def exact(self, x: Tensor) -> Tensor:
        return torch.sin(self._phase(x)).unsqueeze(-1)

    def source(self, x: Tensor) -> Tensor:
        """``f = |ω|² u``."""
        return sum(w * w for w in self.omega) * torch.sin(self._phase(x))

    def residual(self, f: Fields) -> Tensor:
        """``−Δu − f``."""
        return (-f.laplacian(0) - self.source(f.x)).unsqueeze(-1)

    def _robin_target(self, x: Tensor) -> Tensor:
        """``g = α u + β ∇u·n`` with the domain's outward normal at ``x``."""
        n = self.spatial_domain.normals(x[:, : self.spatial_dim].detach().cpu().double().numpy())
        n = torch.as_tensor(n, dtype=x.dtype, device=x.device)
        w = torch.as_tensor(self.omega, dtype=x.dtype, device=x.device)
        ph = self._phase(x)
        return (self.alpha * torch.sin(ph) + self.beta * torch.cos(ph) * (n @ w)).unsqueeze(-1)

    def conditions(self) -> List[Condition]:
        if self.boundary == "dirichlet":
            return [DirichletBC("boundary", target=self.exact)]
        if self.boundary == "robin":
            return [RobinBC("robin", target=self._robin_target, alpha=self.alpha, beta=self.beta)]
        c = self._centre
        return [
            RobinBC("robin", target=self._robin_target, alpha=self.alpha, beta=self.beta, where=lambda x: x[:, 0] > c),
            DirichletBC("dirichlet", target=self.exact, where=lambda x: x[:, 0] <= c),
        ]

    def describe(self) -> str:
        return f"poisson(freq={self.params['freq']}, boundary={self.boundary}) on {self.spatial_domain.describe()}"
