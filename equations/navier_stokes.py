"""Incompressible Navier–Stokes problems (ρ = 1) with closed-form solutions.

Velocity–pressure formulation: the outputs are ``(u, v, [w], p)`` and the residual has one momentum
component per velocity component and one continuity component,

    ``u_t + (u·∇)u + ∇p − ν Δu = 0``    (no ``u_t`` for steady problems),
    ``∇·u = 0``.

* :class:`Kovasznay` — steady 2-D wake behind a grid (Kovasznay 1948, Proc. Camb. Phil. Soc. 44(1)) on
  ``[−0.5, 1] × [−0.5, 1.5]``, ``ν = 1/Re``, ``λ = Re/2 − sqrt(Re²/4 + 4π²)``:
  ``u = 1 − e^{λx} cos(2πy)``, ``v = (λ/2π) e^{λx} sin(2πy)``, ``p = ½(1 − e^{2λx})``.
* :class:`TaylorGreen` — the decaying 2-D Taylor–Green vortex (Taylor & Green 1937, Proc. R. Soc. Lond. A
  158) on ``[0, 2π]²`` periodic, ``F(t) = e^{−2νt}``: ``u = cos x sin y F``, ``v = −sin x cos y F``,
  ``p = −¼(cos 2x + cos 2y) F²``.
* :class:`Beltrami` — the 3-D unsteady Beltrami flow of Ethier & Steinman (1994, Int. J. Numer. Methods
  Fluids 19(5)) on ``[−1, 1]³ × [0, T]``, for any ``a``, ``d`` and ``ν``:

  ``u = −a [e^{ax} sin(ay + dz) + e^{az} cos(ax + dy)] e^{−ν d² t}``
  ``v = −a [e^{ay} sin(az + dx) + e^{ax} cos(ay + dz)] e^{−ν d² t}``
  ``w = −a [e^{az} sin(ax + dy) + e^{ay} cos(az + dx)] e^{−ν d² t}``
  ``p = −(a²/2) [e^{2ax} + e^{2ay} + e^{2az} + 2 sin(ax + dy) cos(az + dx) e^{a(y+z)}``
  ``       + 2 sin(ay + dz) cos(ax + dy) e^{a(z+x)} + 2 sin(az + dx) cos(ay + dz) e^{a(x+y)}] e^{−2ν d² t}``.

  The viscosity enters only through the time factors: each velocity component satisfies
  ``Δu = −d² u`` (so ``u_t = ν Δu`` needs ``e^{−ν d² t}``), and ``(u·∇)u = ∇(|u|²/2)`` (a Beltrami field), so
  ``p = −|u|²/2`` up to a function of time, which decays as the square of the velocity factor,
  ``e^{−2ν d² t}``. The ``e^{−d² t}`` / ``e^{−2d² t}`` factors of the design note are the special case
  ``ν = 1``; with them and ``ν ≠ 1`` the momentum residual is ``−(1 − ν) d² u`` (checked in the tests).

Pressure gauge
--------------
With velocity data on the whole boundary, or periodic data, the pressure is determined only up to an
additive constant (a function of ``t`` for unsteady problems). Every problem here therefore carries
``pressure_index`` (the output column of ``p``) and ``pressure_gauge = "mean"``: when a prediction is
compared with :meth:`Problem.exact`, the pressure columns of both should first have their mean removed
(per time slice when the evaluation points form a grid in time) — :meth:`IncompressibleNS.remove_pressure_mean`
does exactly that. The velocity columns are compared as they are.
"""

from __future__ import annotations

import math
from typing import List, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from pinnkit.derivatives import Fields
from pinnkit.validation import check_range, check_real

from .base import MAX_COEFFICIENT, MIN_TIME, Condition, DirichletBC, InitialCondition, PeriodicBC, Problem

__all__ = ["IncompressibleNS", "Kovasznay", "TaylorGreen", "Beltrami", "PRESSURE_GAUGES"]

#: ways the pressure's free constant is fixed before comparing with a reference
PRESSURE_GAUGES = ("mean",)

Array = Union[np.ndarray, Tensor]


def _check_finite(name: str, value: object, nonzero: bool = False) -> float:
    """``value`` must be a finite real number in ``[-1e4, 1e4]`` (and ``≠ 0`` when ``nonzero``)."""
    what = "a finite nonzero number" if nonzero else "a finite number"
    try:
        v = check_range(name, value, -MAX_COEFFICIENT, MAX_COEFFICIENT)
    except ValueError:
        v = None
    if v is None or (nonzero and v == 0):
        raise ValueError(f"{name} must be {what} in [-{MAX_COEFFICIENT:g}, {MAX_COEFFICIENT:g}], got {value!r}")
    return v


# =========================================================================== base class
class IncompressibleNS(Problem):
    """Incompressible Navier–Stokes with unit density, ``d = 2`` or ``3``, steady or unsteady.

    Outputs are ``(u, v, [w], p)``: the ``d`` velocity components followed by the pressure. The residual
    (:meth:`residual`) has ``d + 1`` columns: momentum

        ``r_i = [∂_t u_i] + Σ_k u_k ∂_k u_i + ∂_i p − ν Δu_i``,   ``i = 1 … d``,

    and continuity ``r_{d+1} = ∇·u = Σ_k ∂_k u_k``. Subclasses set the geometry, the conditions and the
    closed form.

    Attributes:
        nu: kinematic viscosity ``ν``.
        pressure_index: output column of ``p`` (``= d``).
        pressure_gauge: ``"mean"`` — ``p`` is determined up to a constant (per time), so errors in ``p``
            are to be measured after removing the mean (:meth:`remove_pressure_mean`).
        velocity_components: output columns of the velocity, ``(0, …, d − 1)``.
    """

    UNKNOWNS = {"lambda1": {"positive": False, "initial": 0.0}, "nu": {"positive": True, "initial": 0.1}}

    pressure_gauge: str = "mean"

    def __init__(
        self,
        name: str,
        spatial_dim: int,
        nu: float,
        lower: Tuple[float, ...],
        upper: Tuple[float, ...],
        time_interval: Optional[Tuple[float, float]],
        params: dict,
    ) -> None:
        if spatial_dim not in (2, 3):
            raise ValueError(f"spatial_dim must be 2 or 3, got {spatial_dim!r}")
        names = ("u", "v", "w")[:spatial_dim] + ("p",)
        super().__init__(
            name=name,
            spatial_dim=spatial_dim,
            n_outputs=spatial_dim + 1,
            lower=tuple(float(a) for a in lower),
            upper=tuple(float(b) for b in upper),
            time_interval=time_interval,
            params=params,
            output_names=names,
        )
        self.nu = float(nu)
        #: the scale λ₁ of the convective term (1 for Navier–Stokes; an unknown of the inverse problem of
        #: Raissi, Perdikaris & Karniadakis 2019, §4.1.1)
        self.lambda1 = 1.0
        self.pressure_index = spatial_dim
        self.velocity_components: Tuple[int, ...] = tuple(range(spatial_dim))

    # ------------------------------------------------------------------ physics
    def momentum_terms(self, f: Fields, i: int) -> Tuple[Tensor, ...]:
        """The terms of momentum component ``i`` as they enter the residual, each of shape ``(N,)``:
        ``([∂_t u_i,] Σ_k u_k ∂_k u_i, ∂_i p, −ν Δu_i)`` (the time derivative only when unsteady)."""
        d = self.spatial_dim
        u = f.u
        convection = u[:, 0] * f.d(i, 0)
        for k in range(1, d):
            convection = convection + u[:, k] * f.d(i, k)
        terms = (self.lambda1 * convection, f.d(self.pressure_index, i), -self.nu * f.laplacian(i))
        return ((f.dt(i),) + terms) if self.time_dependent else terms

    def residual(self, f: Fields) -> Tensor:
        """``(u_t + (u·∇)u + ∇p − νΔu, ∇·u)``, shape ``(N, d + 1)``; no ``u_t`` for steady problems."""
        cols = []
        for i in range(self.spatial_dim):
            terms = self.momentum_terms(f, i)
            r = terms[0]
            for t in terms[1:]:
                r = r + t
            cols.append(r)
        cols.append(f.divergence(self.velocity_components))
        return torch.stack(cols, dim=1)

    # ------------------------------------------------------------------ closed form
    def velocity(self, x: Tensor) -> Tensor:
        """Exact velocity at ``x``, shape ``(N, d)``."""
        raise NotImplementedError

    def pressure(self, x: Tensor) -> Tensor:
        """Exact pressure at ``x`` (in this module's gauge), shape ``(N, 1)``."""
        raise NotImplementedError

    def exact(self, x: Tensor) -> Tensor:
        """``(u, v, [w], p)`` at ``x``, shape ``(N, d + 1)``; differentiable in ``x`` (plain torch ops)."""
        return torch.cat([self.velocity(x), self.pressure(x)], dim=1)

    def initial_velocity(self, x: Tensor) -> Tensor:
        """The exact velocity at ``(x, t0)`` (unsteady problems), shape ``(N, d)``."""
        x0 = x.clone()
        x0[:, self.spatial_dim] = self.time_interval[0]
        return self.velocity(x0)

    # ------------------------------------------------------------------ gauge
    def remove_pressure_mean(self, values: Array, times: Optional[Array] = None) -> Array:
        """A copy of ``values`` (``(N, d + 1)``, numpy or torch) with the mean of the pressure column removed.

        With ``times`` (``(N,)``), the mean is removed separately for each distinct time value: use it when
        the points form a grid in time (e.g. :func:`pinnkit.sampling.evaluation_points` for ``D ≤ 3``), since
        the free constant of an unsteady problem is a function of ``t``. Each time slice should then hold
        many points (a slice of one point would leave ``p ≡ 0``). Without ``times`` the overall mean is
        removed. Apply it to prediction and reference alike before computing pressure errors.
        """
        j = self.pressure_index
        is_torch = isinstance(values, Tensor)
        out = values.clone() if is_torch else np.array(values, dtype=float, copy=True)
        if out.ndim != 2 or out.shape[1] != self.n_outputs:
            raise ValueError(f"values must have shape (N, {self.n_outputs}), got {tuple(out.shape)}")
        if times is None:
            out[:, j] = out[:, j] - out[:, j].mean()
            return out
        t = times.detach().cpu().numpy() if isinstance(times, Tensor) else np.asarray(times, dtype=float)
        t = t.reshape(-1)
        if t.shape[0] != out.shape[0]:
            raise ValueError(f"times must have {out.shape[0]} entries, got {t.shape[0]}")
        _, group = np.unique(t, return_inverse=True)
        for g in range(int(group.max()) + 1 if group.size else 0):
            sel = np.flatnonzero(group == g)
            if is_torch:
                sel = torch.as_tensor(sel, device=out.device)
            out[sel, j] = out[sel, j] - out[sel, j].mean()
        return out


# =========================================================================== Kovasznay
class Kovasznay(IncompressibleNS):
    """Kovasznay flow (Kovasznay 1948): steady 2-D Navier–Stokes on ``[−0.5, 1] × [−0.5, 1.5]``.

    ``ν = 1/Re``, ``λ = Re/2 − sqrt(Re²/4 + 4π²)`` (the negative root of ``λ² − Re λ − 4π² = 0``):

        ``u = 1 − e^{λx} cos(2πy)``,  ``v = (λ/2π) e^{λx} sin(2πy)``,  ``p = ½(1 − e^{2λx})``.

    Conditions: the exact velocity ``(u, v)`` on every face (one condition ``"boundary"``; the pressure is
    free up to a constant, see ``pressure_gauge``).

    Args:
        re: Reynolds number ``Re > 0`` (default 20).
    """

    PARAMETERS = {"re": (20.0, "Reynolds number Re in (0, 1e4]; ν = 1/Re")}

    def __init__(self, re: float = 20.0) -> None:
        re = check_real("re", re, 0.0, MAX_COEFFICIENT)
        super().__init__("kovasznay", 2, 1.0 / re, (-0.5, -0.5), (1.0, 1.5), None, {"re": re})
        self.re = re
        self.lam = re / 2.0 - math.sqrt(re * re / 4.0 + 4.0 * math.pi**2)

    def velocity(self, x: Tensor) -> Tensor:
        ex = torch.exp(self.lam * x[:, 0])
        ky = 2.0 * math.pi * x[:, 1]
        u = 1.0 - ex * torch.cos(ky)
        v = self.lam / (2.0 * math.pi) * ex * torch.sin(ky)
        return torch.stack([u, v], dim=1)

    def pressure(self, x: Tensor) -> Tensor:
        return (0.5 * (1.0 - torch.exp(2.0 * self.lam * x[:, 0]))).unsqueeze(-1)

    def conditions(self) -> List[Condition]:
        return [DirichletBC("boundary", target=self.velocity, components=list(self.velocity_components))]


# =========================================================================== Taylor–Green
class TaylorGreen(IncompressibleNS):
    """Decaying Taylor–Green vortex (Taylor & Green 1937) on ``[0, 2π]² × [0, T]``, periodic in x and y.

    With ``F(t) = e^{−2νt}``:

        ``u = cos x sin y F``,  ``v = −sin x cos y F``,  ``p = −¼(cos 2x + cos 2y) F²``.

    (``Δu = −2u`` gives ``u_t = νΔu``; the convective term is balanced by ``∇p``.) Conditions: the exact
    initial velocity (``"initial"``, components u, v) and, for each spatial dim, periodicity of all outputs
    and their normal derivatives with period ``2π`` (``"periodic_x1"``, ``"periodic_x2"``).

    Args:
        nu: viscosity ``ν > 0`` (default 0.01).
        T: final time ``T > 0`` (default 1).
    """

    PARAMETERS = {
        "nu": (0.01, "viscosity ν in (0, 1e4]"),
        "T": (1.0, "final time T in [1e-30, 1e4]"),
    }

    def __init__(self, nu: float = 0.01, T: float = 1.0) -> None:
        nu = check_real("nu", nu, 0.0, MAX_COEFFICIENT)
        T = check_real("T", T, MIN_TIME, MAX_COEFFICIENT, low_open=False)
        two_pi = 2.0 * math.pi
        super().__init__("taylor-green", 2, nu, (0.0, 0.0), (two_pi, two_pi), (0.0, T), {"nu": nu, "T": T})
        self.T = T

    def _decay(self, x: Tensor) -> Tensor:
        return torch.exp(-2.0 * self.nu * x[:, 2])

    def velocity(self, x: Tensor) -> Tensor:
        F = self._decay(x)
        X, Y = x[:, 0], x[:, 1]
        return torch.stack([torch.cos(X) * torch.sin(Y) * F, -torch.sin(X) * torch.cos(Y) * F], dim=1)

    def pressure(self, x: Tensor) -> Tensor:
        F = self._decay(x)
        return (-0.25 * (torch.cos(2.0 * x[:, 0]) + torch.cos(2.0 * x[:, 1])) * F * F).unsqueeze(-1)

    def conditions(self) -> List[Condition]:
        conds: List[Condition] = [
            InitialCondition("initial", target=self.initial_velocity, components=list(self.velocity_components))
        ]
        conds += [PeriodicBC(f"periodic_x{k + 1}", dim=k, period=2.0 * math.pi) for k in range(2)]
        return conds


# =========================================================================== Beltrami
class Beltrami(IncompressibleNS):
    """Unsteady 3-D Beltrami flow (Ethier & Steinman 1994) on ``[−1, 1]³ × [0, T]``.

    For any ``a ≠ 0``, ``d`` and ``ν > 0`` (see the module docstring for the full formulas):

        ``u = −a [e^{ax} sin(ay + dz) + e^{az} cos(ax + dy)] e^{−ν d² t}`` (v, w by cyclic permutation
        ``x → y → z → x``),
        ``p = −(a²/2) [e^{2ax} + e^{2ay} + e^{2az} + 2 sin(ax+dy) cos(az+dx) e^{a(y+z)} + …] e^{−2ν d² t}``.

    The time factors carry ``ν``: ``e^{−ν d² t}`` for the velocity, ``e^{−2ν d² t}`` for the pressure (the
    design note's ``e^{−d² t}`` is the case ``ν = 1``). Conditions: the exact initial velocity
    (``"initial"``) and the exact velocity on every face (``"boundary"``), components u, v, w.

    Args:
        a: ``a ≠ 0`` (default 1).  d: any finite ``d`` (default 1).
        nu: viscosity ``ν > 0`` (default 1).  T: final time ``T > 0`` (default 1).
    """

    PARAMETERS = {
        "a": (1.0, "spatial rate a ≠ 0, |a| ≤ 1e4 (Ethier & Steinman: π/4)"),
        "d": (1.0, "wave number d, |d| ≤ 1e4 (Ethier & Steinman: π/2)"),
        "nu": (1.0, "viscosity ν in (0, 1e4]"),
        "T": (1.0, "final time T in [1e-30, 1e4]"),
    }

    def __init__(self, a: float = 1.0, d: float = 1.0, nu: float = 1.0, T: float = 1.0) -> None:
        a = _check_finite("a", a, nonzero=True)
        d = _check_finite("d", d)
        nu = check_real("nu", nu, 0.0, MAX_COEFFICIENT)
        T = check_real("T", T, MIN_TIME, MAX_COEFFICIENT, low_open=False)
        super().__init__("beltrami", 3, nu, (-1.0,) * 3, (1.0,) * 3, (0.0, T), {"a": a, "d": d, "nu": nu, "T": T})
        self.a, self.d, self.T = a, d, T

    def _coords(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        return x[:, 0], x[:, 1], x[:, 2], x[:, 3]

    def velocity(self, x: Tensor) -> Tensor:
        a, d = self.a, self.d
        X, Y, Z, t = self._coords(x)
        decay = torch.exp(-self.nu * d * d * t)

        def component(p: Tensor, q: Tensor, r: Tensor) -> Tensor:
            # −a [e^{a p} sin(a q + d r) + e^{a r} cos(a p + d q)] for (p, q, r) = (x, y, z) and cyclic shifts
            return -a * (torch.exp(a * p) * torch.sin(a * q + d * r) + torch.exp(a * r) * torch.cos(a * p + d * q))

        return torch.stack([component(X, Y, Z) * decay, component(Y, Z, X) * decay, component(Z, X, Y) * decay], dim=1)

    def pressure(self, x: Tensor) -> Tensor:
        a, d = self.a, self.d
        X, Y, Z, t = self._coords(x)
        bracket = (
            torch.exp(2 * a * X)
            + torch.exp(2 * a * Y)
            + torch.exp(2 * a * Z)
            + 2 * torch.sin(a * X + d * Y) * torch.cos(a * Z + d * X) * torch.exp(a * (Y + Z))
            + 2 * torch.sin(a * Y + d * Z) * torch.cos(a * X + d * Y) * torch.exp(a * (Z + X))
            + 2 * torch.sin(a * Z + d * X) * torch.cos(a * Y + d * Z) * torch.exp(a * (X + Y))
        )
        return (-0.5 * a * a * bracket * torch.exp(-2.0 * self.nu * d * d * t)).unsqueeze(-1)

    def conditions(self) -> List[Condition]:
        comps = list(self.velocity_components)
        return [
            InitialCondition("initial", target=self.initial_velocity, components=comps),
            DirichletBC("boundary", target=self.velocity, components=comps),
        ]
