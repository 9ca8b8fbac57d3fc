r"""A proved bound on the PINN error for inviscid Burgers near blow-up: the tight estimate of
:func:`pinnkit.theory.burgers_blowup.tight_estimate` with every sampled quantity replaced by a certified one.

Setting: the family ``u = A(t) x`` of :class:`pinnkit.equations.InviscidBurgersBlowup` on ``Ω = D × [t0, T]``,
``D`` a box, any ``d``; a surrogate ``u_θ`` (a pinnkit MLP or residual MLP with tanh or sin, input scaling and
Fourier features allowed); ``e = u_θ − u``, ``R = ∂_t u_θ + (u_θ·∇)u_θ``, ``z(t) = ‖e(·,t)‖²_{L²(D)}``.

Derivation (each step an inequality that holds for the real numbers; the computed numbers enclose the real
ones, so the chain holds on this machine):

1. Exact energy identity (``tight_estimate``'s steps 1–3): ``½ z' = B(t) + ∫_D eᵀ M e + ∫_D e·R`` with
   ``M = ½(∇·u_θ) I − sym(∇u)``, ``B(t) = −½ ∮_{∂D} (u_θ·n) |e|² dS`` (on ``∂D``, ``e`` is the boundary residual).
2. ``∫ eᵀMe ≤ a(t) z`` with ``a(t) = ½ sup_x ∇·u_θ + λ_max(−sym A(t))`` (``∇u = A(t)`` does not depend on ``x``)
   and ``∫ e·R ≤ √z r(t)``, ``r(t) = ‖R(·,t)‖_{L²(D)}`` (Cauchy–Schwarz). So ``z' ≤ 2a z + 2r√z + 2B``.
3. On a slab ``[τ_k, τ_{k+1}]`` (length ``h``) take certified constants: ``a_k ≥ sup_{D×slab} ½∇·u_θ +
   sup_{t ∈ slab} λ_max(−sym A(t))`` (a branch-and-bound maximum of the centred enclosure of ``∇·u_θ`` over
   space–time boxes, and the eigenvalue bound of the interval matrix ``A(slab)`` from the closed form:
   exact in 1-D, the 2 × 2 formula in 2-D, Gershgorin beyond); ``b_k ≥ sup_{t∈slab} B(t)`` (sums of
   ``area × sup`` over face boxes × slab, ``sup`` of the centred enclosure of ``−½ (u_θ·n)|e|²``); and
   ``S_k ≥ ∫_{slab} r² dt = ∫∫_{D×slab} |R|²`` (box sums of the mean-value bounds of ``∫_B |R|²``,
   :func:`pinnkit.enclosure.slope.square_integral` and, the residual being of first order, the Taylor bounds
   of :func:`pinnkit.enclosure.slope.second_order_square_integral`). ``a⁺ = max(a_k, 0)`` may replace
   ``a_k`` (``z ≥ 0``).
4. Upper solution, in closed form (:func:`propagate`): for any ``ε > 0``, Young's inequality
   ``2r√z ≤ εz + r²/ε`` makes the inequality linear, ``z' ≤ c z + r²/ε + 2B`` with ``c = 2a⁺ + ε``, so
   (variation of constants, ``∫_slab r² ≤ S_k``, ``B ≤ b_k``) ``z(τ_k + s) ≤ e^{cs}(z̄_k + S_k/ε) +
   2b_k(e^{cs} − 1)/c`` on the slab; ``z̄_{k+1}`` is its value at ``s = h`` and its integral over the slab bounds
   ``∫_slab z``. ``ε`` is chosen per slab to minimise the bound (any positive value is valid).
5. ``z̄_0 ≥ z(t0) = ∫_D |e(x, t0)|²`` (box sums of the mean-value bounds of ``∫_B |e|²``, the exact initial
   data evaluated by the problem's own closed form on enclosures), and ``∫_Ω ‖e‖² ≤ Σ_k ∫_slab z``.

Every enclosure is sound in float64 (:mod:`pinnkit.enclosure`); the per-slab sums carry the bound
``γ_n Σ|x_i|`` of their rounding; the recurrence is evaluated with every operation rounded upward (the
elementary ``exp`` padded by ``2⁻⁴⁴`` relative, ``√`` correctly rounded). So ``bound ≥ ∫_Ω ‖u_θ − u‖²`` for this
model on this machine: ``is_bound = True``.

The boxes are refined adaptively: the recurrence is differentiated (in plain floating point, only to rank)
with respect to each certified constant, and the boxes with the largest ``sensitivity × gap`` are bisected,
along the axis with the largest ``|slope_k| ρ_k``, until the bound is within ``rtol`` of the same recurrence
evaluated with the lower ends of every constant (``limit``, what the refinement converges towards) or the
box budget is spent.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from pinnkit.enclosure.interval import Interval
from pinnkit.enclosure.scalar import dn, exp_up, expm1_up, sqrt_up, up
from pinnkit.metrics import weighted_sum
from pinnkit.validation import check_int, check_real

from .box_families import BoxFamily, check_box_memory, refine_families, slab_grid
from .burgers_blowup import check_blowup_problem, evaluate, gauss_rule, graded_time_grid
from .certified import ResidualForms, check_certify_args, field_forms

__all__ = [
    "CERTIFIED_OPTIONS",
    "CertifiedTightBound",
    "certified_tight_bound",
    "check_box_settings",
    "check_certified_args",
    "gauss_error_sq",
    "propagate",
    "slab_eigenvalue_bound",
]

_INF = math.inf


@dataclass
class CertifiedTightBound:
    """``bound ≥ ∫_Ω ‖u_θ − u‖²`` (proved; module docstring) and what it is made of.

    ``bound_l2 = √bound`` bounds the L² error; ``limit`` is the same recurrence with the lower end of every
    certified constant (what refinement converges towards; ``bound/limit`` says how much the boxes still cost);
    ``true`` is ``∫_Ω ‖e‖²`` by Gauss–Legendre (the ground truth the bound is compared with, not a certificate),
    ``ratio_l2 = √(bound/true)``. Per slab: ``times`` (``K+1``), ``z_bar`` (``K+1``, ``≥ ‖e(τ_k)‖²``), ``a``, ``S``,
    ``b`` (``K``). ``boxes``: boxes of the final partitions; ``rounds`` of refinement; ``seconds``."""

    bound: float
    bound_l2: float
    limit: float
    true: float
    ratio_l2: float
    initial_sq: float
    times: np.ndarray
    z_bar: np.ndarray
    a: np.ndarray
    S: np.ndarray
    b: np.ndarray
    boxes: int
    rounds: int
    seconds: float
    is_bound: bool = True
    estimated: bool = False
    settings: Dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """The bound is above the (quadrature) true error."""
        return bool(self.bound >= self.true)

    def summary(self) -> Dict[str, float]:
        return {
            "bound": self.bound,
            "bound_l2": self.bound_l2,
            "limit": self.limit,
            "true": self.true,
            "ratio_l2": self.ratio_l2,
            "boxes": float(self.boxes),
            "seconds": self.seconds,
        }


# =========================================================================== eigenvalue bound of A(t)
def slab_eigenvalue_bound(problem: Any, times: np.ndarray, pieces: int = 8) -> np.ndarray:
    """``λ_k ≥ sup_{t ∈ [τ_k, τ_{k+1}]} λ_max(−sym A(t))`` for each slab: ``A`` enclosed over ``pieces`` equal
    sub-intervals of the slab by the closed form in interval arithmetic (:meth:`A_entries`), then the largest
    eigenvalue of the symmetric interval matrix ``S = −(A + Aᵀ)/2`` bounded by ``S_11`` (d = 1), by
    ``(s11 + s22)/2 + √(((s11 − s22)/2)² + s12²)`` (d = 2, exact for every matrix in the box) or by Gershgorin's
    discs ``max_i (s_ii + Σ_{j≠i} |s_ij|)`` (d ≥ 3)."""
    tau = torch.as_tensor(np.asarray(times, dtype=np.float64))
    K = tau.numel() - 1
    frac = torch.linspace(0.0, 1.0, pieces + 1, dtype=torch.float64)
    cuts = tau[:-1, None] + (tau[1:] - tau[:-1])[:, None] * frac[None, :]
    cuts[:, 0], cuts[:, -1] = tau[:-1], tau[1:]
    t = Interval(cuts[:, :-1].reshape(-1), cuts[:, 1:].reshape(-1))
    A = problem.A_entries(t)
    d = problem.spatial_dim
    S = [[(A[i][j] + A[j][i]) * -0.5 for j in range(d)] for i in range(d)]
    if d == 1:
        lam = S[0][0].hi
    elif d == 2:
        m = (S[0][0] + S[1][1]) * 0.5
        q = ((S[0][0] - S[1][1]) * 0.5).square() + S[0][1].square()
        lam = (m + q.sqrt()).hi
    else:
        rows = []
        for i in range(d):
            acc = S[i][i]
            for j in range(d):
                if j != i:
                    acc = acc + Interval.point(S[i][j].mag())
            rows.append(acc.hi)
        lam = torch.stack(rows).max(0).values
    return lam.reshape(K, pieces).max(1).values.numpy()


# =========================================================================== the recurrence
def _epsilon(z: float, S: float, b: float, h: float) -> float:
    """Young's parameter of a slab: the ``ε`` minimising ``e^{εh}(z + S/ε + 2b⁺h)`` to first order,
    ``1/ε = (hS + √(h²S² + 4Sh(z + 2b⁺h)))/(2S)`` (any ``ε > 0`` is valid; this one makes the bound tight)."""
    if S <= 0:
        return 0.0
    zz = max(z, 0.0) + 2.0 * max(b, 0.0) * h
    inv = (h * S + math.sqrt(h * h * S * S + 4.0 * S * h * zz)) / (2.0 * S)
    return 1.0 / inv if inv > 0 else 1.0 / h


def propagate(z0: float, a: np.ndarray, S: np.ndarray, b: np.ndarray, times: np.ndarray) -> Tuple[float, np.ndarray]:
    r"""``(Σ_k ∫_slab z̄, z̄)`` from the certified constants, every operation rounded upward.

    On a slab (length ``h``), for any ``ε > 0``, Young's inequality ``2r√z ≤ εz + r²/ε`` turns
    ``z' ≤ 2az + 2r√z + 2B`` into the linear ``z' ≤ c z + r²/ε + 2B``, ``c = 2a⁺ + ε`` (``a⁺ = max(a, 0)``, valid as
    ``z ≥ 0``), whose comparison solution is, for ``s ∈ [0, h]``,
    ``z(τ+s) ≤ e^{cs} z_k + e^{cs} S/ε + 2b (e^{cs} − 1)/c`` (``∫_0^s r² ≤ S``, ``B ≤ b``). At ``s = h``:
    ``z̄_{k+1} = e^{ch}(z̄_k + S/ε) + 2b E``, ``E = (e^{ch} − 1)/c`` (for ``b < 0``, ``2bE ≤ 2bh``); integrated:
    ``∫_slab z ≤ (z̄_k + S/ε) E + 2b⁺ (E − h)/c`` with ``(E − h)/c = (e^x − 1 − x)/c² ≤ h² e^x/2``, ``x = ch``.
    ``ε`` is chosen per slab by :func:`_epsilon` (any positive choice is valid)."""
    K = len(a)
    z = np.empty(K + 1)
    z[0] = max(float(z0), 0.0)
    total = 0.0
    for k in range(K):
        h = up(float(times[k + 1]) - float(times[k]))
        ak, Sk, bk = max(float(a[k]), 0.0), max(float(S[k]), 0.0), float(b[k])
        eps = _epsilon(z[k], Sk, bk, h)
        c = up(up(2.0 * ak) + eps)
        x = up(c * h)
        ex = exp_up(x)
        E = up(expm1_up(x) / c) if c > 0 else h
        forced = up(z[k] + (up(Sk / eps) if eps > 0 else 0.0))
        if bk >= 0:
            push = up(up(2.0 * bk) * E)
        else:
            push = up(2.0 * bk * dn(h))  # 2b E ≤ 2b h when b < 0 (E ≥ h)
        z[k + 1] = max(up(up(ex * forced) + push), 0.0)
        piece = up(forced * E)
        if bk > 0:
            piece = up(piece + up(up(2.0 * bk) * up(up(up(h * h) * ex) * 0.5)))
        total = up(total + piece)
    return total, z


def _propagate_torch(z0: Tensor, a: Tensor, S: Tensor, b: Tensor, h: Tensor) -> Tensor:
    """The recurrence of :func:`propagate` in plain floating point (differentiable), only to rank boxes."""
    total = torch.zeros((), dtype=torch.float64)
    z = torch.clamp(z0, min=0.0)
    for k in range(a.shape[0]):
        ak, Sk, bk, hk = torch.clamp(a[k], min=0.0), torch.clamp(S[k], min=0.0), b[k], h[k]
        eps = _epsilon(float(z.detach()), float(Sk.detach()), float(bk.detach()), float(hk))
        c = 2.0 * ak + eps
        x = c * hk
        E = torch.expm1(x) / c if float(c.detach()) > 0 else hk
        forced = z + (Sk / eps if eps > 0 else 0.0 * Sk)
        push = 2.0 * bk * E if float(bk.detach()) >= 0 else 2.0 * bk * hk
        piece = forced * E + (2.0 * torch.clamp(bk, min=0.0) * hk * hk * torch.exp(x) * 0.5)
        total = total + piece
        z = torch.clamp(torch.exp(x) * forced + push, min=0.0)
    return total


# =========================================================================== the bound
#: the settings of :func:`certified_tight_bound` after ``model`` and ``problem``
CERTIFIED_OPTIONS = ("n_slices", "cells", "max_boxes", "rtol", "batch", "n_true")


def gauss_error_sq(model: nn.Module, problem: Any, tau: np.ndarray, n_space: int) -> float:
    """The true ``∫_Ω ‖u_θ − u‖²`` that a certificate is compared with, by Gauss–Legendre: 4 nodes in each slab
    ``[τ_k, τ_{k+1}]``, ``n_space`` per spatial axis (tensor rule)."""
    d = problem.spatial_dim
    zg, wg = np.polynomial.legendre.leggauss(4)
    X, W = gauss_rule([float(v) for v in problem.lower], [float(v) for v in problem.upper], [n_space] * d)
    hs = np.diff(tau)
    tt = (tau[:-1, None] + 0.5 * hs[:, None] * (zg[None, :] + 1.0)).ravel()
    wt = (0.5 * hs[:, None] * wg[None, :]).ravel()
    pts = np.concatenate([np.tile(X, (len(tt), 1)), np.repeat(tt, len(X))[:, None]], 1)
    e = evaluate(model, problem, pts, derivatives=False)
    sq = ((e["u"] - e["exact"]) ** 2).sum(1).reshape(len(tt), len(X))
    return weighted_sum(wt, np.sum(sq * W[None, :], axis=1))


def check_box_settings(
    d: int, n_slices: Any, cells: Any, max_boxes: Any, rtol: Any, batch: Any, n_true: Any
) -> Dict[str, Any]:
    """The box settings shared by the blow-up certificates, checked (ValueError naming the parameter and its
    range), with the defaults of ``cells`` (16 in 1-D, 4 above) and ``n_true`` (64, 16, 6) for ``d`` filled in."""
    return dict(
        n_slices=check_int("n_slices", n_slices, 1, 4096),
        cells={1: 16}.get(d, 4) if cells is None else check_int("cells", cells, 1, 1024),
        max_boxes=check_int("max_boxes", max_boxes, 1, 10**7),
        rtol=check_real("rtol", rtol, 0.0, 10.0),
        batch=check_int("batch", batch, 1, 10**6),
        n_true={1: 64, 2: 16}.get(d, 6) if n_true is None else check_int("n_true", n_true, 1, 512),
    )


def check_certified_args(
    problem: Any,
    n_slices: Any = 64,
    cells: Any = None,
    max_boxes: Any = 20_000,
    rtol: Any = 0.05,
    batch: Any = 4096,
    n_true: Any = None,
) -> Dict[str, Any]:
    """The settings of :func:`certified_tight_bound`, checked (ValueError naming the parameter and its range)
    and with the defaults of ``cells`` and ``n_true`` filled in, before any work."""
    check_blowup_problem(problem)
    d = problem.spatial_dim
    out = check_box_settings(d, n_slices, cells, max_boxes, rtol, batch, n_true)
    n_slices, cells, max_boxes = out["n_slices"], out["cells"], out["max_boxes"]
    need = cells**d * n_slices * 2 + 2 * d * n_slices * max(1, cells ** (d - 1)) + cells**d
    if need > max_boxes:
        raise ValueError(
            f"max_boxes must be at least the initial partition ({need} boxes for n_slices={n_slices}, "
            f"cells={cells} in {d}-D), got {max_boxes}"
        )
    return out


def certified_tight_bound(
    model: nn.Module,
    problem: Any,
    n_slices: int = 64,
    *,
    cells: Optional[int] = None,
    max_boxes: int = 20_000,
    rtol: float = 0.05,
    batch: int = 4096,
    n_true: Optional[int] = None,
) -> CertifiedTightBound:
    """Proved bound on ``∫_Ω ‖u_θ − u‖²`` for the blow-up family (module docstring).

    Args:
        model: the trained surrogate (``(N, d+1)`` → ``(N, d)``; a pinnkit MLP or ResidualMLP, tanh or sin).
        problem: an :class:`~pinnkit.equations.InviscidBurgersBlowup`.
        n_slices: time slabs (graded towards blow-up, :func:`graded_time_grid`).

    Other arguments:
        cells: initial cells per spatial axis in every slab (default 16 in 1-D, 4 beyond).
        max_boxes: budget of boxes over all families; ``rtol``: stop when ``√(bound/limit) ≤ 1 + rtol``.
        batch: boxes per enclosure evaluation; ``n_true``: Gauss nodes per spatial axis for the true error
            (default 64 in 1-D, 16 in 2-D, 6 beyond; four per slab in time).
    """
    check_certify_args(model, problem, rtol, max_boxes, 1)
    opts = check_certified_args(problem, n_slices, cells, max_boxes, rtol, batch, n_true)
    n_slices, cells, max_boxes, rtol, batch, n_true = (opts[k] for k in CERTIFIED_OPTIONS)
    d = problem.spatial_dim
    check_box_memory(model, d + 1, d, max_boxes, batch)
    t_start = time.perf_counter()
    model = copy.deepcopy(model).double()
    lower = [float(v) for v in problem.lower]
    upper = [float(v) for v in problem.upper]
    t0, T = problem.time_interval
    tau = graded_time_grid(problem, n_slices)
    K = n_slices

    def ev(expr: Callable, lo: Tensor, hi: Tensor) -> ResidualForms:
        return field_forms(model, lo, hi, d, expr, batch, second_order=True)

    def error(f):
        return f.u - problem.exact(f.x)

    def div_half(f):
        return f.divergence() * 0.5

    spatial = list(range(d))
    lo, hi, slab = slab_grid(lower, upper, tau, [cells] * d)
    families = [
        BoxFamily("a", "max", div_half, lo, hi, slab, K, [], spatial + [d], ev),
        BoxFamily(
            "S", "sumsq", problem.residual, lo.clone(), hi.clone(), slab.clone(), K, spatial + [d], spatial + [d], ev
        ),
    ]
    # faces: x_k = lower_k or upper_k, the other spatial axes and the slab's times
    for k in range(d):
        others = [j for j in spatial if j != k]
        for sign, val in ((-1.0, lower[k]), (1.0, upper[k])):
            lo_o = [lower[j] for j in others]
            hi_o = [upper[j] for j in others]
            blo, bhi, bslab = slab_grid(lo_o, hi_o, tau, [cells] * len(others))
            col = torch.full((blo.shape[0], 1), val, dtype=torch.float64)
            blo = torch.cat([blo[:, :k], col, blo[:, k:]], 1)
            bhi = torch.cat([bhi[:, :k], col.clone(), bhi[:, k:]], 1)

            def flux(f, k=k, sign=sign):
                e = error(f)
                sq = e[:, 0].square()
                for i in range(1, d):
                    sq = sq + e[:, i].square()
                return f.u[:, k] * sq * (-0.5 * sign)

            families.append(
                BoxFamily(f"b{k}{int(sign > 0)}", "sum", flux, blo, bhi, bslab, K, others, others + [d], ev, feeds="b")
            )
    zlo, zhi, _ = slab_grid(lower, upper, np.array([t0, t0]), [cells] * d)
    families.append(
        BoxFamily("z0", "sumsq", error, zlo, zhi, torch.zeros(zlo.shape[0], dtype=torch.long), 1, spatial, spatial, ev)
    )
    lam = torch.as_tensor(slab_eigenvalue_bound(problem, tau))
    h = torch.as_tensor(np.diff(tau))

    def constants(which: int) -> Dict[str, Tensor]:
        """z0, a, S, b per slab from the families' upper (0) or lower (1) ends."""
        agg = [f.aggregate() for f in families]
        a = agg[0][which] + lam
        if which == 0:
            a = torch.nextafter(a, torch.tensor(_INF))
        b = agg[2][which]
        for i in range(3, len(families) - 1):  # the faces' sums, each addition rounded outward
            b = b + agg[i][which]
            b = torch.nextafter(b, torch.tensor(_INF if which == 0 else -_INF))
        return {"z0": agg[-1][which][:1], "a": a, "S": agg[1][which], "b": b}

    def bound(c: Dict[str, Tensor]) -> float:
        return propagate(float(c["z0"][0]), c["a"].numpy(), c["S"].numpy(), c["b"].numpy(), tau)[0]

    def smooth(c: Dict[str, Tensor]) -> Tensor:
        return _propagate_torch(c["z0"][0], c["a"], c["S"], c["b"], h)

    up, _, limit, rounds = refine_families(families, constants, bound, smooth, max_boxes, rtol)
    z0, a, S, b = up["z0"][0].detach(), up["a"].detach(), up["S"].detach(), up["b"].detach()

    true = gauss_error_sq(model, problem, tau, n_true)
    bound_final, z_bar = propagate(float(z0), a.numpy(), S.numpy(), b.numpy(), tau)
    ratio = math.sqrt(bound_final / true) if true > 0 else _INF
    return CertifiedTightBound(
        bound=bound_final,
        bound_l2=sqrt_up(bound_final),
        limit=limit,
        true=true,
        ratio_l2=ratio,
        initial_sq=float(z0),
        times=tau,
        z_bar=z_bar,
        a=a.numpy(),
        S=S.numpy(),
        b=b.numpy(),
        boxes=sum(f.n() for f in families),
        rounds=rounds,
        seconds=time.perf_counter() - t_start,
        settings={
            "n_slices": n_slices,
            "cells": cells,
            "max_boxes": max_boxes,
            "rtol": rtol,
            "boxes_by_family": {f.name: f.n() for f in families},
        },
    )
