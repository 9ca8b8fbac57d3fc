"""A PDE problem on a space–time box, and the initial and boundary conditions it imposes.

A :class:`Problem` is a value: spatial dimension, the box ``[lower, upper]``, the time interval (or none
for a steady problem), the residual written with :class:`pinnkit.derivatives.Fields`, its conditions and,
where one exists, the closed-form solution. It knows physics and nothing about training.

Inputs are ``(N, D)`` tensors with the spatial coordinates first and time last (``D = d + 1``), outputs
``(N, m)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from pinnkit.derivatives import Fields

#: the largest magnitude a physical coefficient of a shipped problem (κ, ν, Re, T, ...) may have: beyond it
#: the residual's numbers overflow float32 or the solution underflows to nothing worth learning
MAX_COEFFICIENT = 1e4
#: the shortest final time T a shipped problem accepts: a shorter time window collapses to nothing in the
#: float32 input scaling of the nets (and is no time-dependent problem worth solving)
MIN_TIME = 1e-30

__all__ = [
    "Face",
    "Condition",
    "InitialCondition",
    "DirichletBC",
    "NeumannBC",
    "PeriodicBC",
    "Problem",
    "all_faces",
]

Target = Callable[[Tensor], Tensor]
FieldsFactory = Callable[[Tensor], Fields]


@dataclass(frozen=True)
class Face:
    """The face ``x_dim = lower_dim`` (``side = 0``) or ``x_dim = upper_dim`` (``side = 1``) of the box."""

    dim: int
    side: int

    @property
    def normal_sign(self) -> float:
        """Outward normal ``n = ±e_dim``."""
        return 1.0 if self.side == 1 else -1.0


def all_faces(spatial_dim: int) -> Tuple[Face, ...]:
    """The ``2d`` faces of a ``d``-dimensional box."""
    return tuple(Face(k, s) for k in range(spatial_dim) for s in (0, 1))


def _select(u: Tensor, components: Optional[Sequence[int]]) -> Tensor:
    return u if components is None else u[:, list(components)]


def _target(g: Target, x: Tensor) -> Tensor:
    out = g(x)
    return out.unsqueeze(-1) if out.dim() == 1 else out


@dataclass
class Condition:
    """Base class: a named constraint imposed at points of one location (initial slice or faces)."""

    name: str

    #: where its points lie: "initial" or a tuple of faces
    def location(self, problem: "Problem") -> Union[str, Tuple[Face, ...]]:
        raise NotImplementedError

    def residual(self, fields: FieldsFactory, x: Tensor) -> Tensor:
        """The condition's residual at points ``x``, shape ``(N, k)``; zero when it holds."""
        raise NotImplementedError


@dataclass
class InitialCondition(Condition):
    """``u(x, t0) = g(x)`` for the selected output components."""

    target: Target = None
    components: Optional[Sequence[int]] = None

    def location(self, problem: "Problem") -> str:
        return "initial"

    def residual(self, fields: FieldsFactory, x: Tensor) -> Tensor:
        return _select(fields(x).u, self.components) - _target(self.target, x)


@dataclass
class DirichletBC(Condition):
    """``u = g`` on the given faces (all faces by default). ``homogeneous=True`` declares ``g ≡ 0``, which
    lets the engine impose the condition exactly through an output transform."""

    target: Target = None
    faces: Optional[Tuple[Face, ...]] = None
    components: Optional[Sequence[int]] = None
    homogeneous: bool = False

    def location(self, problem: "Problem") -> Tuple[Face, ...]:
        return self.faces if self.faces is not None else all_faces(problem.spatial_dim)

    def residual(self, fields: FieldsFactory, x: Tensor) -> Tensor:
        return _select(fields(x).u, self.components) - _target(self.target, x)


@dataclass
class NeumannBC(Condition):
    """``∂u_i/∂n = g`` on one face, with the outward normal of that face."""

    target: Target = None
    face: Face = None
    component: int = 0

    def location(self, problem: "Problem") -> Tuple[Face, ...]:
        return (self.face,)

    def residual(self, fields: FieldsFactory, x: Tensor) -> Tensor:
        f = fields(x)
        dn = self.face.normal_sign * f.d(self.component, self.face.dim)
        return dn.unsqueeze(-1) - _target(self.target, x)


@dataclass
class PeriodicBC(Condition):
    """``u(…, lower_k, …) = u(…, upper_k, …)`` and, with ``derivative=True``, the same for ``∂u/∂x_k``.

    Points are drawn on the lower face; the matching upper-face points are made by moving coordinate ``k``.
    """

    dim: int = 0
    components: Optional[Sequence[int]] = None
    derivative: bool = True
    period: float = 1.0

    def location(self, problem: "Problem") -> Tuple[Face, ...]:
        return (Face(self.dim, 0),)

    def residual(self, fields: FieldsFactory, x: Tensor) -> Tensor:
        shift = torch.zeros_like(x)
        shift[:, self.dim] = self.period
        lo, hi = fields(x), fields(x + shift)
        parts = [_select(lo.u, self.components) - _select(hi.u, self.components)]
        if self.derivative:
            comps = range(lo.n_outputs) if self.components is None else self.components
            parts.append(torch.stack([lo.d(i, self.dim) - hi.d(i, self.dim) for i in comps], dim=1))
        return torch.cat(parts, dim=1)


@dataclass
class Problem:
    """A PDE problem on ``[lower, upper] × [t0, T]`` (or on the box alone when steady).

    Subclasses set the geometry in ``__init__`` and implement :meth:`residual`, :meth:`conditions` and,
    where a closed form exists, :meth:`exact`.
    """

    name: str
    spatial_dim: int
    n_outputs: int
    lower: Tuple[float, ...]
    upper: Tuple[float, ...]
    time_interval: Optional[Tuple[float, float]] = None
    params: Dict[str, object] = field(default_factory=dict)
    output_names: Tuple[str, ...] = ("u",)

    # ----------------------------------------------------------------- geometry
    @property
    def time_dependent(self) -> bool:
        return self.time_interval is not None

    @property
    def input_dim(self) -> int:
        """``D = d + 1`` for time-dependent problems, ``d`` for steady ones."""
        return self.spatial_dim + (1 if self.time_dependent else 0)

    @property
    def input_lower(self) -> Tuple[float, ...]:
        return tuple(self.lower) + ((self.time_interval[0],) if self.time_dependent else ())

    @property
    def input_upper(self) -> Tuple[float, ...]:
        return tuple(self.upper) + ((self.time_interval[1],) if self.time_dependent else ())

    @property
    def input_names(self) -> Tuple[str, ...]:
        names = ("x",) if self.spatial_dim == 1 else tuple(f"x{i + 1}" for i in range(self.spatial_dim))
        return names + (("t",) if self.time_dependent else ())

    # ------------------------------------------------------------------ physics
    def residual(self, f: Fields) -> Tensor:
        """PDE residual at the points of ``f``, shape ``(N, r)``; zero for the true solution."""
        raise NotImplementedError

    def conditions(self) -> List[Condition]:
        """Initial and boundary conditions."""
        raise NotImplementedError

    @property
    def has_exact(self) -> bool:
        return type(self).exact is not Problem.exact

    def exact(self, x: Tensor) -> Tensor:
        """Closed-form solution at points ``x`` (``(N, D)``, time last), shape ``(N, m)``."""
        raise NotImplementedError(f"{self.name} has no closed-form solution")

    def reference(self, x: Tensor) -> Tensor:
        """Ground truth at ``x``: the closed form, or a numerical reference where a subclass provides one."""
        return self.exact(x)

    def describe(self) -> str:
        box = " × ".join(f"[{a:g}, {b:g}]" for a, b in zip(self.lower, self.upper))
        when = f" × t∈[{self.time_interval[0]:g}, {self.time_interval[1]:g}]" if self.time_dependent else ""
        ps = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({ps}) on {box}{when}"
