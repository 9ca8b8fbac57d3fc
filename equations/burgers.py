"""Burgers problems: the viscous 1-D benchmark and the inviscid d-D family that blows up in finite time.

* :class:`ViscousBurgers` — ``u_t + u u_x = ν u_xx`` on ``[-1, 1] × [0, 1]``, ``u(x, 0) = -sin(πx)``,
  ``u(±1, t) = 0`` (the benchmark of Raissi, Perdikaris & Karniadakis 2019, J. Comput. Phys. 378); ground
  truth by the Cole–Hopf transform evaluated with Gauss–Hermite quadrature (Basdevant et al. 1986,
  Computers & Fluids 14(1)), from :mod:`pinnkit.equations.reference.cole_hopf`.
* :class:`InviscidBurgersBlowup` — ``u_t + (u·∇)u = 0`` on a box ``D × [t0, T]`` with the exact family
  ``u = A(t) x``, ``A(t) = A0 (I + t A0)^{-1}`` (so ``A' = -A²`` and ``u_t = -A² x = -(u·∇)u``), which blows
  up where ``I + t A0`` is singular (Kumar & Mukherjee 2024, Mach. Learn.: Sci. Technol. 5 025063;
  arXiv 2310.05169). Window checks, energies and gradient norms come from
  :mod:`pinnkit.equations.reference.blowup_exact`.
* :class:`BurgersBlowup` — the paper's two presets by ``dim`` (1 or 2) and ``delta``; registered as
  ``"burgers-blowup"``. ``InviscidBurgersBlowup.one_d(δ)`` / ``.two_d(δ)`` build the same objects.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from pinnkit.derivatives import Fields
from pinnkit.validation import check_choice, check_int, check_real

from .base import MAX_COEFFICIENT, Condition, DirichletBC, InitialCondition, Problem, all_faces
from .reference import blowup_exact as be
from .reference import cole_hopf as ch

__all__ = ["ViscousBurgers", "InviscidBurgersBlowup", "BurgersBlowup", "GRAD_NORMS"]

GRAD_NORMS = ("max_column_sum", "spectral")


def _zero(x: Tensor) -> Tensor:
    return torch.zeros(x.shape[0], 1, dtype=x.dtype, device=x.device)


# =========================================================================== viscous
class ViscousBurgers(Problem):
    """Viscous Burgers ``u_t + u u_x = ν u_xx`` on ``[-1,1] × [0,1]``, ``u(x,0) = -sin(πx)``, ``u(±1,t) = 0``.

    The benchmark of Raissi et al. (2019) at the default ``ν = 0.01/π``; exact solution by Cole–Hopf
    (Basdevant et al. 1986):
    ``u = -∫ sin(π(x-η)) f(x-η) e^{-η²/(4νt)} dη / ∫ f(x-η) e^{-η²/(4νt)} dη``, ``f(y) = e^{-cos(πy)/(2πν)}``.

    Args:
        nu: viscosity ``ν > 0``.
        n_nodes: Gauss–Hermite nodes of the ground truth (``None``: ``cole_hopf.default_node_count(ν)``,
            which is converged to round-off; it refuses ν so small that the automatic count exceeds its cap).
    """

    UNKNOWNS = {"nu": {"positive": True, "initial": 0.05}}

    PARAMETERS = {
        "nu": (ch.DEFAULT_NU, "viscosity ν in (0, 1e4] (Raissi et al.: 0.01/π)"),
        "n_nodes": (None, "Gauss–Hermite nodes of the Cole–Hopf ground truth, 1…10000 (None: automatic)"),
    }

    def __init__(self, nu: float = ch.DEFAULT_NU, n_nodes: Optional[int] = None) -> None:
        nu = check_real("nu", nu, 0.0, MAX_COEFFICIENT)
        if n_nodes is None:
            ch.default_node_count(nu)  # fail now, naming nu, if the automatic count would be too large
        else:
            n_nodes = check_int("n_nodes", n_nodes, 1, ch.MAX_NODES)
        super().__init__(
            name="burgers",
            spatial_dim=1,
            n_outputs=1,
            lower=(-1.0,),
            upper=(1.0,),
            time_interval=(0.0, 1.0),
            params={"nu": nu, "n_nodes": n_nodes},
        )
        self.nu = nu
        self.n_nodes = n_nodes

    @property
    def node_count(self) -> int:
        """Gauss–Hermite nodes actually used by :meth:`exact` and :meth:`exact_differentiable`."""
        return ch.default_node_count(self.nu) if self.n_nodes is None else self.n_nodes

    def residual(self, f: Fields) -> Tensor:
        """``u_t + u u_x − ν u_xx``, shape ``(N, 1)``."""
        return (f.dt(0) + f.u[:, 0] * f.d(0, 0) - self.nu * f.d2(0, 0)).unsqueeze(-1)

    def exact(self, x: Tensor) -> Tensor:
        """Cole–Hopf solution at ``x = (x, t)`` (``(N, 2)``), shape ``(N, 1)`` in ``x``'s dtype and device.

        Evaluated in float64 numpy by :func:`cole_hopf.cole_hopf_u` and converted; not differentiable (use
        :meth:`exact_differentiable` for derivatives).
        """
        pts = x.detach().to("cpu", torch.float64).numpy()
        u = ch.cole_hopf_u(pts[:, 0], pts[:, 1], nu=self.nu, n_nodes=self.n_nodes)
        return torch.as_tensor(u, dtype=x.dtype, device=x.device).unsqueeze(-1)

    def exact_differentiable(self, x: Tensor) -> Tensor:
        """The same Gauss–Hermite Cole–Hopf formula written in torch, so that it can be differentiated.

        ``u = -Σ_k g_k sin(π y_k)``, ``g = softmax_k(log w_k − cos(π y_k)/(2πν))``, ``y_k = x − √(4νt) z_k``,
        with the nodes and log-weights of :func:`cole_hopf.gauss_hermite_rule` (the softmax is the log-sum-exp
        normalisation of the numpy version). Values agree with :meth:`exact`; derivatives are those of the
        quadrature formula, exact in x and t for ``t > 0`` (at ``t = 0``, ``∂√t/∂t`` is infinite).
        Cost ``O(N × n_nodes)`` memory per derivative level.
        """
        z, log_w = ch.gauss_hermite_rule(self.node_count)
        z = torch.tensor(z, dtype=x.dtype, device=x.device)  # copies: the cached rule is read-only
        log_w = torch.tensor(log_w, dtype=x.dtype, device=x.device)
        xs, t = x[:, :1], x[:, 1:2]
        y = math.pi * (xs - torch.sqrt(4.0 * self.nu * t) * z)
        g = torch.softmax(log_w - torch.cos(y) / (2.0 * math.pi * self.nu), dim=1)
        return -(g * torch.sin(y)).sum(dim=1, keepdim=True)

    def initial(self, x: Tensor) -> Tensor:
        """``u(x, 0) = -sin(πx)``."""
        return -torch.sin(math.pi * x[:, :1])

    def conditions(self) -> List[Condition]:
        return [InitialCondition("initial", target=self.initial), DirichletBC("boundary", target=_zero)]


# =========================================================================== inviscid blow-up family
def _as_vector(name: str, value: Union[float, Sequence[float]], d: int) -> Tuple[float, ...]:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.size not in (1, d)):
        raise ValueError(f"{name} must be a number or a sequence of {d} numbers, got {value!r}")
    arr = np.broadcast_to(arr.reshape(-1) if arr.ndim else arr, (d,))
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return tuple(float(v) for v in arr)


class InviscidBurgersBlowup(Problem):
    """Inviscid Burgers ``u_t + (u·∇)u = 0`` on ``D × [t0, T]`` with exact ``u = A(t) x``,
    ``A(t) = A0 (I + t A0)^{-1}`` (Kumar & Mukherjee 2024, MLST 5 025063).

    Outputs are the ``d`` velocity components ``u1 … ud``; initial data at ``t0`` and Dirichlet data on every
    face (each face constrains every component) come from the closed form.

    Args:
        A0: ``(d, d)`` matrix, ``A(0)``.
        lower, upper: the box ``D = Π [lower_i, upper_i]`` (numbers broadcast to all coordinates).
        window: ``(t0, T)``; rejected first (``ValueError`` naming the window and the blow-up time) if
            ``I + t A0`` is singular anywhere on ``[t0, T]`` (:func:`blowup_exact.check_window`).
    """

    def __init__(
        self,
        A0: Union[np.ndarray, Sequence[Sequence[float]]],
        lower: Union[float, Sequence[float]],
        upper: Union[float, Sequence[float]],
        window: Tuple[float, float],
        *,
        label: Optional[str] = None,
    ) -> None:
        try:
            t0, T = window
        except (TypeError, ValueError):
            raise ValueError(f"window must be a pair (t0, T), got {window!r}") from None
        t0, T = be.check_window(A0, t0, T, label=label)
        A0 = np.atleast_2d(np.array(A0, dtype=np.float64))  # a (d, d) matrix: check_window validated it
        d = A0.shape[0]
        lo, hi = _as_vector("lower", lower, d), _as_vector("upper", upper, d)
        if not all(a < b for a, b in zip(lo, hi)):
            raise ValueError(f"lower must be < upper in every coordinate, got lower={lo}, upper={hi}")
        A0.setflags(write=False)
        super().__init__(
            name="burgers-blowup",
            spatial_dim=d,
            n_outputs=d,
            lower=lo,
            upper=hi,
            time_interval=(t0, T),
            params={"A0": A0.tolist(), "lower": lo, "upper": hi, "t0": t0, "T": T},
            output_names=tuple(f"u{i + 1}" for i in range(d)),
        )
        self.A0 = A0
        self._A0_torch: Dict[Tuple[torch.dtype, torch.device], Tensor] = {}

    # ------------------------------------------------------------------ presets
    @classmethod
    def one_d(cls, delta: float) -> "BurgersBlowup":
        """(1+1)-D preset: ``u = x/(t−1)`` (``A0 = [[-1]]``), ``D = [-1, 1]``, ``t ∈ [-1+δ, δ]``; blow-up at
        ``t = 1``, so ``δ < 1`` (or ``δ > 2``). The paper sweeps ``δ ∈ {0.950, 0.954, …, 0.998}``."""
        return BurgersBlowup(dim=1, delta=delta)

    @classmethod
    def two_d(cls, delta: float) -> "BurgersBlowup":
        """(2+1)-D preset: ``A0 = [[1, 1], [1, -1]]``, ``D = [0, 1]²``, ``t ∈ [δ − 1/√2, δ]``;
        ``u1 = (x1 + x2 − 2 x1 t)/(1 − 2t²)``, ``u2 = (x1 − x2 − 2 x2 t)/(1 − 2t²)``; blow-up at ``t = ±1/√2``,
        so ``0 < δ < 1/√2``. The paper sweeps ``δ = t0 + 1/√2``, ``t0 ∈ {−0.60, −0.58, …, −0.02}``."""
        return BurgersBlowup(dim=2, delta=delta)

    # ------------------------------------------------------------------ physics
    def residual(self, f: Fields) -> Tensor:
        """``(u_t + (u·∇)u)_i = ∂_t u_i + Σ_k u_k ∂u_i/∂x_k``, shape ``(N, d)``."""
        d = self.spatial_dim
        u = f.u
        comps = []
        for i in range(d):
            r = f.dt(i)
            for k in range(d):
                r = r + u[:, k] * f.d(i, k)
            comps.append(r)
        return torch.stack(comps, dim=1)

    def _A0_as(self, x: Tensor) -> Tensor:
        key = (x.dtype, x.device)
        A0 = self._A0_torch.get(key)
        if A0 is None:
            A0 = self._A0_torch[key] = torch.tensor(self.A0, dtype=x.dtype, device=x.device)
        return A0

    def A(self, t: Tensor) -> Tensor:
        """``A(t) = (I + t A0)^{-1} A0`` in torch for times of shape ``(N,)``, shape ``(N, d, d)``
        (differentiable in ``t``; ``A0`` commutes with ``(I + t A0)^{-1}``)."""
        A0 = self._A0_as(t)
        eye = torch.eye(self.spatial_dim, dtype=t.dtype, device=t.device)
        return torch.linalg.solve(eye + t[:, None, None] * A0, A0.expand(t.shape[0], -1, -1))

    def A_entries(self, t: Any) -> List[List[Any]]:
        """``A(t) = (I + t A0)^{-1} A0`` as a ``d × d`` nested list, for times ``t`` of any number type with
        ``+ − × /`` (tensors, :class:`~pinnkit.enclosure.interval.Interval`, ``Slope``): Gaussian elimination
        without pivoting on ``I + t A0`` with the columns of ``A0`` as right-hand sides. Every pivot is
        ``1 + t λ``-like and non-zero on the problem's window for the shipped presets; a pivot interval that
        contains 0 raises ``ZeroDivisionError`` (use a narrower time box)."""
        d = self.spatial_dim
        A0 = self.A0.tolist()
        M = [[(1.0 if i == j else 0.0) + t * A0[i][j] for j in range(d)] for i in range(d)]
        rhs = [[A0[i][j] for j in range(d)] for i in range(d)]  # row i, column j
        for k in range(d):
            for i in range(k + 1, d):
                f = M[i][k] / M[k][k]
                for j in range(k, d):
                    M[i][j] = M[i][j] - f * M[k][j]
                rhs[i] = [rhs[i][j] - f * rhs[k][j] for j in range(d)]
        X: List[List[Any]] = [[None] * d for _ in range(d)]
        for i in reversed(range(d)):
            for j in range(d):
                acc = rhs[i][j]
                for m in range(i + 1, d):
                    acc = acc - M[i][m] * X[m][j]
                X[i][j] = acc / M[i][i]
        return X

    def exact(self, x: Tensor) -> Tensor:
        """``u = A(t) x``, computed as the solution of ``(I + t A0) u = A0 x`` by ``torch.linalg.solve``, so
        that autograd and forward-mode derivatives in ``x`` and ``t`` are those of the closed form. On
        enclosures (an ``Interval`` or ``Slope`` of boxes) the same closed form is evaluated by
        :meth:`A_entries`, in the enclosure's arithmetic."""
        d = self.spatial_dim
        if not isinstance(x, Tensor):
            A = self.A_entries(x[:, d])
            cols = []
            for i in range(d):
                acc = A[i][0] * x[:, 0]
                for j in range(1, d):
                    acc = acc + A[i][j] * x[:, j]
                cols.append(acc)
            return torch.stack(cols, dim=1)
        A0 = self._A0_as(x)
        xs, t = x[:, :d], x[:, d]
        eye = torch.eye(d, dtype=x.dtype, device=x.device)
        return torch.linalg.solve(eye + t[:, None, None] * A0, (xs @ A0.T).unsqueeze(-1)).squeeze(-1)

    def initial(self, x: Tensor) -> Tensor:
        """``u(x, t0) = A(t0) x``."""
        x0 = x.clone()
        x0[:, self.spatial_dim] = self.time_interval[0]
        return self.exact(x0)

    def conditions(self) -> List[Condition]:
        """Initial data at ``t0`` and one Dirichlet condition per face (``boundary_x{k}_{0|1}``, lower/upper),
        each on all ``d`` components; per-face conditions give each face its own points and residual, as the
        (1+1)-D bound (Theorem 2) needs ``R_sb,−1`` and ``R_sb,1`` separately."""
        conds: List[Condition] = [InitialCondition("initial", target=self.initial)]
        for face in all_faces(self.spatial_dim):
            conds.append(DirichletBC(f"boundary_x{face.dim + 1}_{face.side}", target=self.exact, faces=(face,)))
        return conds

    # ------------------------------------------------------------------ analytic quantities
    @property
    def blowup_time(self) -> float:
        """First blow-up time after ``T`` (``+inf`` if none): ``t = -1/λ`` for a real eigenvalue ``λ`` of A0."""
        return be.next_blowup_time(self.A0, self.time_interval[1])

    @property
    def distance_to_blowup(self) -> float:
        """``blowup_time − T`` (``1 − δ`` for the (1+1)-D preset, ``1/√2 − δ`` for the (2+1)-D one)."""
        return self.blowup_time - self.time_interval[1]

    def grad_sup_norm(self, kind: str = "max_column_sum") -> float:
        """``‖∇u‖_∞ = sup_{t ∈ [t0, T]} ‖A(t)‖`` with ``kind`` ``"max_column_sum"`` (``max_j Σ_i |A_ij|``, the
        paper's code) or ``"spectral"``; :func:`blowup_exact.grad_sup_norm`. (1+1)-D preset: ``1/(1−δ)``."""
        check_choice("kind", kind, GRAD_NORMS)
        return be.grad_sup_norm(self.A0, *self.time_interval, norm=kind)

    def energy(self) -> float:
        """``∫_Ω ‖u‖² = ∫_{t0}^T tr(A M Aᵀ) dt``, ``M = ∫_D x xᵀ dx`` (:func:`blowup_exact.energy_time_integral`;
        closed form for symmetric A0). (1+1)-D preset: ``2/(3(δ−1)(δ−2))``."""
        return be.energy_time_integral(self.A0, *self.time_interval, self.lower, self.upper)


class BurgersBlowup(InviscidBurgersBlowup):
    """Inviscid Burgers near blow-up, the two presets of Kumar & Mukherjee (2024) by ``dim`` and ``delta``.

    ``dim = 1``: ``u = x/(t−1)`` on ``[-1,1] × [-1+δ, δ]`` (``δ < 1``); ``dim = 2``: ``u = A(t) x`` with
    ``A0 = [[1, 1], [1, -1]]`` on ``[0,1]² × [δ − 1/√2, δ]`` (``0 < δ < 1/√2``). See
    :meth:`InviscidBurgersBlowup.one_d` / :meth:`InviscidBurgersBlowup.two_d`.
    """

    PARAMETERS = {
        "dim": (1, "spatial dimension, 1 or 2 (the paper's (1+1)-D and (2+1)-D problems)"),
        "delta": (0.5, "window end δ: dim 1 needs δ < 1 (paper: 0.95…0.998), dim 2 needs 0 < δ < 1/√2"),
    }

    _PRESETS = {
        1: (be.burgers_1d_blowup, "delta < 1 or delta > 2"),
        2: (be.burgers_2d_blowup, "0 < delta < 1/√2 ≈ 0.7071"),
    }

    def __init__(self, dim: int = 1, delta: float = 0.5) -> None:
        dim = check_int("dim", dim, 1, 2)
        # |δ| <= MAX_COEFFICIENT: a window [δ − 1, δ] further out is lost in the float32 input scaling
        if (
            isinstance(delta, (bool, np.bool_))
            or not isinstance(delta, numbers.Real)
            or not -MAX_COEFFICIENT <= delta <= MAX_COEFFICIENT
        ):
            raise ValueError(f"delta must be a finite number with |delta| <= {MAX_COEFFICIENT:g}, got {delta!r}")
        make, allowed = self._PRESETS[dim]
        try:
            spec = make(float(delta))  # validates the window with the reference module's check_window
        except ValueError as err:
            raise ValueError(f"delta must keep the window clear of blow-up for dim={dim} ({allowed}): {err}") from None
        super().__init__(spec.A0, spec.lower, spec.upper, (spec.t0, spec.T), label=f"delta={delta!r}")
        self.params = {"dim": dim, "delta": float(delta)}
        self.delta = float(delta)
