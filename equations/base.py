"""A PDE problem on a spatial domain × a time interval, and the conditions it imposes.

A :class:`Problem` is a value: spatial dimension, the box ``[lower, upper]`` (the domain itself, or the
bounding box of a :mod:`~pinnkit.equations.geometry` domain in ``domain``), the time interval (or none for a
steady problem), the residual written with :class:`pinnkit.derivatives.Fields`, its conditions and, where
one exists, the closed-form solution. It knows physics and nothing about training.

Conditions sit at a location: the initial slice (``"initial"``), faces of the box (a tuple of
:class:`Face`), the boundary of the domain or a part of it chosen by a predicate (:class:`Boundary`), or
fixed points (``"data"``, :class:`Observations`). A condition whose residual needs the outward normal
(``needs_normals``) receives it beside its points.

Inputs are ``(N, D)`` tensors with the spatial coordinates first and time last (``D = d + 1``), outputs
``(N, m)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Dict, List, Optional, Sequence, Tuple, Union

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
    "Boundary",
    "Condition",
    "InitialCondition",
    "DirichletBC",
    "NeumannBC",
    "PeriodicBC",
    "RobinBC",
    "OperatorBC",
    "Observations",
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


@dataclass(frozen=True)
class Boundary:
    """The boundary ``∂Ω`` of the problem's domain, or the part of it where ``where(x)`` is True
    (``x`` spatial points ``(N, d)`` as a NumPy array → ``(N,)`` booleans)."""

    where: Optional[Callable] = None


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

    #: whether :meth:`residual` takes the unit outward normals at its points
    needs_normals = False

    #: where its points lie: "initial", a tuple of faces, a :class:`Boundary` or "data"
    def location(self, problem: "Problem") -> Union[str, Tuple[Face, ...], Boundary]:
        raise NotImplementedError

    def residual(self, fields: FieldsFactory, x: Tensor, normals: Optional[Tensor] = None) -> Tensor:
        """The condition's residual at points ``x``, shape ``(N, k)``; zero when it holds. ``normals``:
        unit outward normals ``(N, d)`` at ``x`` for a condition that ``needs_normals``."""
        raise NotImplementedError


@dataclass
class InitialCondition(Condition):
    """``u(x, t0) = g(x)`` for the selected output components."""

    target: Target = None
    components: Optional[Sequence[int]] = None

    def location(self, problem: "Problem") -> str:
        return "initial"

    def residual(self, fields: FieldsFactory, x: Tensor, normals: Optional[Tensor] = None) -> Tensor:
        return _select(fields(x).u, self.components) - _target(self.target, x)


def _boundary_location(problem: "Problem", faces, where) -> Union[Tuple[Face, ...], Boundary]:
    """Faces of a box problem as they are; otherwise (or with a predicate) the domain's boundary."""
    if faces is not None:
        if not problem.on_box:
            raise ValueError(
                f"faces are the sides of a box, but {problem.name} lives on {problem.spatial_domain.describe()}; "
                "use where=<predicate on points> to pick a part of its boundary"
            )
        if where is not None:
            raise ValueError("give faces or where, not both")
        return tuple(faces)
    if where is None and problem.on_box:
        return all_faces(problem.spatial_dim)
    return Boundary(where)


@dataclass
class DirichletBC(Condition):
    """``u = g`` on the given faces (all faces of a box by default), on the boundary of a general domain, or on
    the part of it where ``where(x)`` holds. ``homogeneous=True`` declares ``g ≡ 0``, which lets the engine
    impose the condition exactly through an output transform."""

    target: Target = None
    faces: Optional[Tuple[Face, ...]] = None
    components: Optional[Sequence[int]] = None
    homogeneous: bool = False
    where: Optional[Callable] = None

    def location(self, problem: "Problem") -> Union[Tuple[Face, ...], Boundary]:
        return _boundary_location(problem, self.faces, self.where)

    def residual(self, fields: FieldsFactory, x: Tensor, normals: Optional[Tensor] = None) -> Tensor:
        return _select(fields(x).u, self.components) - _target(self.target, x)


def _normal_derivative(f: Fields, component: int, normals: Tensor) -> Tensor:
    """``∂u_i/∂n = ∇_x u_i · n`` at the points of ``f``, ``(N,)``."""
    grad = torch.stack([f.d(component, k) for k in range(normals.shape[1])], dim=1)
    return (grad * normals.to(grad.dtype)).sum(dim=1)


@dataclass
class NeumannBC(Condition):
    """``∂u_i/∂n = g``: on one face of a box (``face``, its outward normal ``±e_k``), or on the boundary of the
    domain (or the part where ``where(x)`` holds) with the domain's outward normal."""

    target: Target = None
    face: Face = None
    component: int = 0
    where: Optional[Callable] = None

    @property
    def needs_normals(self) -> bool:
        return self.face is None

    def location(self, problem: "Problem") -> Union[Tuple[Face, ...], Boundary]:
        return _boundary_location(problem, None if self.face is None else (self.face,), self.where)

    def residual(self, fields: FieldsFactory, x: Tensor, normals: Optional[Tensor] = None) -> Tensor:
        f = fields(x)
        if self.face is not None:
            dn = self.face.normal_sign * f.d(self.component, self.face.dim)
        else:
            dn = _normal_derivative(f, self.component, normals)
        return dn.unsqueeze(-1) - _target(self.target, x)


@dataclass
class RobinBC(Condition):
    """``α u_i + β ∂u_i/∂n = g`` on the boundary (or the part where ``where(x)`` holds), with the domain's
    outward normal (``±e_k`` on the faces of a box)."""

    target: Target = None
    alpha: float = 1.0
    beta: float = 1.0
    component: int = 0
    where: Optional[Callable] = None

    needs_normals = True

    def __post_init__(self) -> None:
        from pinnkit.validation import check_real

        self.alpha = check_real("alpha", self.alpha, -MAX_COEFFICIENT, MAX_COEFFICIENT, low_open=False)
        self.beta = check_real("beta", self.beta, -MAX_COEFFICIENT, MAX_COEFFICIENT, low_open=False)
        if self.alpha == 0 and self.beta == 0:
            raise ValueError("alpha and beta of a Robin condition cannot both be 0")

    def location(self, problem: "Problem") -> Boundary:
        return Boundary(self.where)

    def residual(self, fields: FieldsFactory, x: Tensor, normals: Optional[Tensor] = None) -> Tensor:
        f = fields(x)
        val = self.alpha * f.u[:, self.component] + self.beta * _normal_derivative(f, self.component, normals)
        return val.unsqueeze(-1) - _target(self.target, x)


@dataclass
class OperatorBC(Condition):
    """A user residual on the boundary (or the part where ``where(x)`` holds): ``operator(f, x, n)`` with
    ``f`` the :class:`~pinnkit.derivatives.Fields` at the points ``x`` and ``n`` their outward normals,
    returning ``(N,)`` or ``(N, k)``, zero where the condition holds."""

    operator: Callable = None
    where: Optional[Callable] = None

    needs_normals = True

    def location(self, problem: "Problem") -> Boundary:
        return Boundary(self.where)

    def residual(self, fields: FieldsFactory, x: Tensor, normals: Optional[Tensor] = None) -> Tensor:
        out = self.operator(fields(x), x, normals)
        return out.unsqueeze(-1) if out.dim() == 1 else out


@dataclass
class Observations(Condition):
    """Measured values at fixed points: ``u_c(x_j) = y_j`` for the output ``components`` (all by default).

    ``points`` ``(N, D)`` (space, then time), ``values`` ``(N, len(components))``; ``noise`` records the
    standard deviation of the measurement noise the values carry (0: clean), for reports only. The points are
    the same in every resampling round.
    """

    points: Any = None
    values: Any = None
    components: Optional[Sequence[int]] = None
    noise: float = 0.0

    def __post_init__(self) -> None:
        import numpy as np

        from pinnkit.validation import check_real

        if self.points is None or self.values is None:
            raise ValueError("observations need points and values")
        pts = np.asarray(self.points, dtype=np.float64)
        vals = np.asarray(self.values, dtype=np.float64)
        if pts.ndim != 2 or len(pts) == 0:
            raise ValueError(f"observation points must be an (N, D) array with N ≥ 1, got shape {pts.shape}")
        vals = vals.reshape(len(vals), -1) if vals.ndim <= 2 else vals
        if vals.ndim != 2 or len(vals) != len(pts):
            raise ValueError(f"observation values must have one row per point ({len(pts)}), got shape {vals.shape}")
        if not (np.isfinite(pts).all() and np.isfinite(vals).all()):
            raise ValueError("observation points and values must be finite (no NaN or inf)")
        if self.components is not None and len(self.components) != vals.shape[1]:
            raise ValueError(
                f"observation values have {vals.shape[1]} columns but components names {len(self.components)}"
            )
        self.noise = check_real("noise", self.noise, 0.0, MAX_COEFFICIENT, low_open=False)
        self.points, self.values = pts, vals

    def location(self, problem: "Problem") -> str:
        if self.points.shape[1] != problem.input_dim:
            raise ValueError(
                f"observation points must have {problem.input_dim} columns (space then time) for {problem.name}, "
                f"got {self.points.shape[1]}"
            )
        return "data"

    def residual(self, fields: FieldsFactory, x: Tensor, normals: Optional[Tensor] = None) -> Tensor:
        y = torch.as_tensor(self.values, dtype=x.dtype, device=x.device)
        return _select(fields(x).u, self.components) - y


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

    def residual(self, fields: FieldsFactory, x: Tensor, normals: Optional[Tensor] = None) -> Tensor:
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
    where a closed form exists, :meth:`exact`. ``UNKNOWNS`` names the scalar coefficients an inverse problem
    may infer (attributes the residual reads), each with ``positive`` (parametrised as ``exp(θ)``) and the
    ``initial`` guess used when none is given.
    """

    UNKNOWNS: ClassVar[Dict[str, Dict[str, Any]]] = {}

    name: str
    spatial_dim: int
    n_outputs: int
    lower: Tuple[float, ...]
    upper: Tuple[float, ...]
    time_interval: Optional[Tuple[float, float]] = None
    params: Dict[str, object] = field(default_factory=dict)
    output_names: Tuple[str, ...] = ("u",)
    #: the spatial domain when it is not the box ``[lower, upper]`` (then ``lower``/``upper`` its bounding box)
    domain: Any = None

    # ----------------------------------------------------------------- geometry
    @property
    def spatial_domain(self):
        """The spatial domain as a :class:`~pinnkit.equations.geometry.Domain` (the box unless ``domain``)."""
        from .geometry import Box

        return Box(self.lower, self.upper) if self.domain is None else self.domain

    @property
    def on_box(self) -> bool:
        """Whether the spatial domain is the box ``[lower, upper]`` (pinnkit's fast path)."""
        return self.domain is None or self.domain.is_box

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

    def wavenumbers(self) -> Optional[Tuple[float, ...]]:
        """Characteristic angular wave numbers of the solution per input axis (time last), where the problem
        declares them (a multi-scale problem); read by Fourier features with per-axis scales
        (``fourier_sigma="auto"``, :func:`pinnkit.api.build_net`). ``None``: not declared."""
        return None

    def reference(self, x: Tensor) -> Tensor:
        """Ground truth at ``x``: the closed form, or a numerical reference where a subclass provides one."""
        return self.exact(x)

    def describe(self) -> str:
        box = self.spatial_domain.describe()
        when = f" × t∈[{self.time_interval[0]:g}, {self.time_interval[1]:g}]" if self.time_dependent else ""
        ps = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({ps}) on {box}{when}"
