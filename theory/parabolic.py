"""Certified a-posteriori error bound for the heat equation from the parabolic maximum principle.

Let ``u`` solve ``u_t = κΔu`` on ``Ω × (0, T]`` (``Ω`` a box) with ``u = g`` on ``∂Ω`` and ``u(·, 0) = u_0``, and
let ``u_θ`` be a smooth surrogate (a tanh/sin net). The error ``e = u_θ − u`` satisfies
``e_t − κΔe = R`` with ``R = ∂_t u_θ − κΔu_θ`` the PDE residual of the net, ``e = u_θ − g`` on ``∂Ω`` and
``e(·, 0) = u_θ(·, 0) − u_0`` (the condition residuals). With ``M = max(sup_Ω |e(·, 0)|, sup_{∂Ω×[0,T]} |e|)`` and
``ρ = sup |R|``, the functions ``w_± = M + ρt ∓ e`` satisfy ``∂_t w_± − κΔw_± = ρ ∓ R ≥ 0`` in the domain and
``w_± ≥ 0`` on the parabolic boundary, so ``w_± ≥ 0`` everywhere (weak maximum principle, e.g. Evans, *PDE*,
§7.1.4, Thm 8), that is ``‖u_θ − u‖_∞ ≤ M + T ρ``. Sharper, with ``ρ(t) = sup_x |R(x, t)|`` and
``w_± = M + ∫_0^t ρ ∓ e`` (``∂_t w_± = ρ(t) ∓ R ≥ 0`` likewise), over time slabs ``[t_k, t_{k+1}]``:

    ‖u_θ − u‖_{L^∞(Ω×[0,T])} ≤ M + Σ_k (t_{k+1} − t_k) sup_{Ω×[t_k, t_{k+1}]} |R|.

Each of ``sup |e(·,0)|``, ``sup_∂ |e|`` and ``sup |R|`` is certified over box covers of the initial slice, the
faces and the space–time box (:func:`pinnkit.theory.certified.certified_sup`: interval enclosures of the net,
its derivatives, and of the data ``g``, ``u_0`` evaluated by the problem's own code in interval arithmetic),
with every sum rounded outward, so the result is a bound for this trained model on this machine
(``is_bound=True``). The true sup error is certified the same way (both sides), since the exact solution is
known, which gives a proved interval for the ratio bound / true error.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from pinnkit.enclosure.boxes import grid_boxes, per_axis_for
from pinnkit.enclosure.scalar import FOUR_THIRDS, dn, exp_up, sqrt_up, up
from pinnkit.metrics import weighted_sum
from pinnkit.validation import check_int

from .box_families import BoxFamily, check_box_memory, refine_families
from .certified import check_certify_args, field_forms

__all__ = [
    "HeatSupBound",
    "heat_sup_bound",
    "ParabolicL2Bound",
    "parabolic_l2_bound",
    "linear_parabolic_coefficients",
    "dirichlet_everywhere",
]


@dataclass
class HeatSupBound:
    """``bound ≥ ‖u_θ − u‖_∞`` (proved); its terms (upper bounds) ``initial`` = sup|e(·,0)|, ``boundary`` =
    sup_∂|e|, ``residual`` = the largest slab sup|R|, ``T``; ``true`` = ``(lower, upper)`` of the certified sup error; ``boxes``
    and ``seconds`` of the certification."""

    bound: float
    initial: float
    boundary: float
    residual: float
    T: float
    true: Tuple[float, float]
    boxes: int
    seconds: float
    is_bound: bool = True
    estimated: bool = False

    @property
    def ratio(self) -> Tuple[float, float]:
        """Proved interval of bound / true sup error."""
        lo, hi = self.true
        return (self.bound / hi if hi > 0 else float("inf"), self.bound / lo if lo > 0 else float("inf"))


def _faces(problem: Any, which: str, n: int) -> Tuple[Tensor, Tensor]:
    """Box covers of the initial slice (``which="initial"``) or of every face of ``∂Ω × [0, T]``."""
    lower = torch.tensor(problem.input_lower, dtype=torch.float64)
    upper = torch.tensor(problem.input_upper, dtype=torch.float64)
    D, d = problem.input_dim, problem.spatial_dim
    parts_lo, parts_hi = [], []
    fixed = [(d, 0)] if which == "initial" else [(k, s) for k in range(d) for s in (0, 1)]
    for k, s in fixed:
        free = [j for j in range(D) if j != k]
        ext = (upper - lower)[free].tolist()
        lo, hi = grid_boxes(lower[free], upper[free], per_axis_for(n, ext))
        v = (lower if s == 0 else upper)[k].item()
        col = torch.full((lo.shape[0], 1), v, dtype=torch.float64)
        parts_lo.append(torch.cat([lo[:, :k], col, lo[:, k:]], 1))
        parts_hi.append(torch.cat([hi[:, :k], col, hi[:, k:]], 1))
    return torch.cat(parts_lo), torch.cat(parts_hi)


def _slab_cover(extent: Sequence[float], slabs: int, initial_boxes: int) -> int:
    """Boxes of the initial cover of ``slabs`` equal time slabs of a space–time box of ``extent`` (each slab
    ``per_axis_for(initial_boxes // slabs)`` cells)."""
    ext = [float(e) for e in extent[:-1]] + [float(extent[-1]) / slabs]
    return slabs * math.prod(per_axis_for(max(1, initial_boxes // slabs), ext))


def heat_sup_bound(
    model: nn.Module,
    problem: Any,
    *,
    slabs: Optional[int] = None,
    rtol: float = 0.1,
    max_boxes: int = 20_000,
    initial_boxes: int = 256,
    certify_true: bool = True,
    batch: int = 4096,
) -> HeatSupBound:
    """The certified maximum-principle bound on ``‖u_θ − u‖_∞`` for a linear parabolic problem with Dirichlet
    data on the whole boundary (module docstring): :class:`pinnkit.equations.Heat`,
    :class:`pinnkit.equations.AdvectionDiffusion` or a user's problem declaring ``linear_parabolic()`` (checked
    against its residual, :func:`linear_parabolic_coefficients`). The comparison functions
    ``w± = M + ∫_0^t ρ ∓ e`` satisfy ``∂_t w − κΔw + β·∇w + c w = ρ + c(M + ∫ρ) ∓ R ≥ 0`` when ``c ≥ 0``, so the
    same bound holds with advection and reaction.

    Sharper, by sign: ``w = M⁺ + ∫_0^t ρ⁺ − e`` with ``M⁺ ≥ max(sup e, 0)`` on the parabolic boundary and
    ``ρ⁺(t) ≥ max(sup_x R(x, t), 0)`` is a supersolution likewise, so ``e ≤ M⁺ + ∫ρ⁺``, and ``−e ≤ M⁻ + ∫ρ⁻``
    with ``−e``, ``−R``: ``‖e‖_∞ ≤ max(M⁺ + ∫ρ⁺, M⁻ + ∫ρ⁻)`` (an oscillating residual and an error of one sign
    at the boundary gain up to 2×).

    ``slabs`` time slabs (equal; ``None``: 64, fewer when ``max_boxes`` is small); the signed sups of ``e`` on the initial slice and on the faces and of ``R`` per
    slab are branch-and-bound maxima over box families (:class:`.box_families.BoxFamily`) refined together, each box
    ranked by the bound's sensitivity to its constant (``h_k`` for slab ``k``) times its gap, until the bound is
    within ``(1 + rtol)`` of the attained values (``limit``) or ``max_boxes`` boxes (all families together) are
    used; ``initial_boxes``: the starting cover of each family. ``certify_true``: also certify the true sup
    error from both sides (``true``; else ``(nan, nan)``); ``batch``: boxes per enclosure evaluation."""
    from pinnkit.validation import check_bool

    check_certify_args(model, problem, rtol, max_boxes, initial_boxes)
    slabs = None if slabs is None else check_int("slabs", slabs, 1, 4096)
    certify_true = check_bool("certify_true", certify_true)
    batch = check_int("batch", batch, 1, 10**6)
    linear_parabolic_coefficients(problem)
    if not dirichlet_everywhere(problem):
        raise ValueError(
            "problem must have Dirichlet data on the whole boundary (and an initial condition): the "
            f"maximum-principle bound needs u = g on the parabolic boundary, got {problem!r}"
        )
    d = problem.spatial_dim
    lower = torch.tensor(problem.input_lower, dtype=torch.float64)
    upper = torch.tensor(problem.input_upper, dtype=torch.float64)
    check_box_memory(model, d + 1, 2, max_boxes, batch)
    t0 = time.perf_counter()
    model = copy.deepcopy(model).double()
    scale = upper - lower

    def ev(expr, lo, hi):
        return field_forms(model, lo, hi, d, expr, batch, second_order=True)

    def signed_error(sign: float):
        def expr(f):
            return (f.u[:, 0] - problem.exact(f.x)[:, 0]) * sign

        return expr

    def signed_residual(sign: float):
        def expr(f):
            r = problem.residual(f)
            return (r[:, 0] if r.dim() == 2 else r) * sign

        return expr

    allax = list(range(d + 1))
    # the parabolic boundary starts coarser than the space–time slabs (its sups converge faster: one dimension less)
    lo_i, hi_i = _faces(problem, "initial", max(1, initial_boxes // 4))
    lo_b, hi_b = _faces(problem, "boundary", max(1, initial_boxes // (4 * d)))
    t_lo, t_hi = problem.time_interval
    n_faces = lo_i.shape[0] + lo_b.shape[0]
    ext = (upper - lower).tolist()
    if slabs is None:  # the most slabs (up to 64) whose covers take at most half the budget
        slabs = next(
            (s for s in (64, 32, 16, 8, 4, 2) if 2 * (n_faces + _slab_cover(ext, s, initial_boxes)) <= max_boxes // 2),
            1,
        )
    cuts = torch.linspace(t_lo, t_hi, slabs + 1, dtype=torch.float64)
    cuts[0], cuts[-1] = t_lo, t_hi
    per_slab = max(1, initial_boxes // slabs)
    s_lo, s_hi, s_slab = [], [], []
    for k in range(slabs):
        a, b = lower.clone(), upper.clone()
        a[d], b[d] = cuts[k], cuts[k + 1]
        lo0, hi0 = grid_boxes(a, b, per_axis_for(per_slab, (b - a).tolist()))
        s_lo.append(lo0)
        s_hi.append(hi0)
        s_slab.append(torch.full((lo0.shape[0],), k, dtype=torch.long))
    S_lo, S_hi, S_slab = torch.cat(s_lo), torch.cat(s_hi), torch.cat(s_slab)
    need = 2 * (n_faces + S_lo.shape[0])
    if need > max_boxes:
        raise ValueError(
            f"max_boxes must be at least the initial covers ({need} boxes for slabs={slabs}, "
            f"initial_boxes={initial_boxes}), got {max_boxes}"
        )
    families = []
    for name, sign in (("+", 1.0), ("-", -1.0)):  # e ≤ M⁺ + ∫ρ⁺ and −e ≤ M⁻ + ∫ρ⁻, separately
        zi, zb = torch.zeros(lo_i.shape[0], dtype=torch.long), torch.zeros(lo_b.shape[0], dtype=torch.long)
        families += [
            BoxFamily("M0" + name, "max", signed_error(sign), lo_i, hi_i, zi, 1, [], allax, ev),
            BoxFamily("Mb" + name, "max", signed_error(sign), lo_b, hi_b, zb, 1, [], allax, ev),
            BoxFamily("rho" + name, "max", signed_residual(sign), S_lo, S_hi, S_slab, slabs, [], allax, ev),
        ]
    h_up = [up(float(cuts[k + 1]) - float(cuts[k])) for k in range(slabs)]
    h = torch.tensor(h_up, dtype=torch.float64)

    def constants(which: int):
        return {f.name: f.aggregate()[which] for f in families}

    def side(c, name: str) -> float:
        total = max(float(c["M0" + name][0]), float(c["Mb" + name][0]), 0.0)
        for hk, rk in zip(h_up, c["rho" + name].tolist()):
            total = up(total + up(hk * max(rk, 0.0)))
        return total

    def bound(c) -> float:
        return max(side(c, "+"), side(c, "-"))

    def smooth(c):
        def one(name):
            m = torch.clamp(torch.maximum(c["M0" + name][0], c["Mb" + name][0]), min=0.0)
            return m + (h * torch.clamp(c["rho" + name], min=0.0)).sum()

        return torch.maximum(one("+"), one("-"))

    # refine_families compares √(bound/limit) (its bounds are squares); this bound is a norm
    c_up, _, _, _ = refine_families(families, constants, bound, smooth, max_boxes, math.sqrt(1.0 + rtol) - 1.0)
    result = bound(c_up)
    initial = max(float(c_up["M0+"][0]), float(c_up["M0-"][0]))
    boundary = max(float(c_up["Mb+"][0]), float(c_up["Mb-"][0]))
    rho = max(float(c_up["rho+"].max()), float(c_up["rho-"].max()))
    true_lo = true_hi = float("nan")
    n4 = 0
    if certify_true:  # sup |e| over Ω, from both sides: a branch-and-bound maximum of the centred forms
        lo0, hi0 = grid_boxes(lower, upper, per_axis_for(initial_boxes, scale.tolist()))
        z0 = torch.zeros(lo0.shape[0], dtype=torch.long)

        def abs_error(f):
            e = f.u[:, 0] - problem.exact(f.x)[:, 0]
            return torch.stack([e, -e], 1)

        fam = BoxFamily("E", "max", abs_error, lo0, hi0, z0, 1, [], allax, ev)
        c_t, true_hi, lim, _ = refine_families(
            [fam],
            lambda w: {"E": fam.aggregate()[w]},
            lambda c: float(c["E"][0]),
            lambda c: c["E"][0],
            max_boxes,
            math.sqrt(1.0 + rtol) - 1.0,
        )
        true_lo = float(fam.aggregate()[1][0])
        n4 = fam.n()
    return HeatSupBound(
        bound=result,
        initial=initial,
        boundary=boundary,
        residual=rho,
        T=t_hi - t_lo,
        true=(true_lo, true_hi),
        boxes=sum(f.n() for f in families) + n4,
        seconds=time.perf_counter() - t0,
    )


# =========================================================================== linear parabolic problems
def linear_parabolic_coefficients(problem: Any, check: bool = True) -> Tuple[float, Tuple[float, ...], float]:
    """``(κ, β, c)`` of a problem declared linear parabolic, ``u_t − κΔu + β·∇u + c u = f`` (its
    ``linear_parabolic()`` method: :class:`~pinnkit.equations.Heat`, :class:`~pinnkit.equations.AdvectionDiffusion`
    or a user's problem), with ``κ > 0``, ``c ≥ 0``. ``check``: verify the declaration against the problem's own
    residual on a random smooth function ``φ`` (``R(φ) − R(0) = φ_t − κΔφ + β·∇φ + cφ`` at random points, to
    1e-8 relative), so that a wrong declaration is refused instead of giving a false bound."""
    from pinnkit.derivatives import Fields
    from pinnkit.validation import check_bool

    check = check_bool("check", check)
    if not callable(getattr(problem, "linear_parabolic", None)) or not getattr(problem, "time_dependent", False):
        raise ValueError(
            f"problem must declare itself linear parabolic (a linear_parabolic() method returning kappa, velocity, "
            f"reaction of u_t − κΔu + β·∇u + c u = f), got {type(problem).__name__}"
        )
    spec = problem.linear_parabolic()
    d = problem.spatial_dim
    kappa = float(spec["kappa"])
    beta = tuple(float(b) for b in spec.get("velocity", (0.0,) * d))
    c = float(spec.get("reaction", 0.0))
    if not (kappa > 0 and len(beta) == d and c >= 0 and all(map(lambda v: abs(v) < 1e300, beta + (kappa, c)))):
        raise ValueError(f"linear_parabolic() must give kappa > 0, {d} velocities and reaction >= 0, got {spec}")
    if check:
        g = torch.Generator().manual_seed(0)
        lo = torch.tensor(problem.input_lower, dtype=torch.float64)
        hi = torch.tensor(problem.input_upper, dtype=torch.float64)
        x = (lo + (hi - lo) * torch.rand(64, d + 1, generator=g, dtype=torch.float64)).requires_grad_(True)
        W = torch.randn(d + 1, 3, generator=g, dtype=torch.float64)

        def phi(z: Tensor) -> Tensor:
            return torch.sin(z @ W).sum(1, keepdim=True)

        def zero(z: Tensor) -> Tensor:  # the zero function, with derivatives that keep their graph
            return 0.0 * torch.sin(z).sum(1, keepdim=True)

        f = Fields(phi, x, spatial_dim=d)
        got = problem.residual(f)[:, 0] - problem.residual(Fields(zero, x, spatial_dim=d))[:, 0]
        want = f.dt(0) - kappa * f.laplacian(0) + c * f.u[:, 0]
        for k in range(d):
            want = want + beta[k] * f.d(0, k)
        got, want = got.detach(), want.detach()
        if not torch.allclose(got, want, rtol=1e-8, atol=1e-8 * float(want.abs().max())):
            raise ValueError(
                f"{type(problem).__name__}.linear_parabolic() = {spec} does not match its residual "
                "(R(φ) − R(0) ≠ φ_t − κΔφ + β·∇φ + cφ on a test function)"
            )
    return kappa, beta, c


def dirichlet_everywhere(problem: Any) -> bool:
    """Whether ``problem`` has an initial condition and Dirichlet data on every face (all outputs)."""
    from pinnkit.equations.base import DirichletBC, InitialCondition

    conds = problem.conditions()
    has_ic = any(isinstance(c, InitialCondition) for c in conds)
    faces = set()
    for c in conds:
        if isinstance(c, DirichletBC) and getattr(c, "components", None) is None:
            loc = c.location(problem)
            faces |= set(loc) if not isinstance(loc, str) else set()
    return has_ic and len(faces) == 2 * problem.spatial_dim


@dataclass
class ParabolicL2Bound:
    """``bound ≥ ‖u_θ − u‖_{L²(Ω × [0, T])}`` (proved; :func:`parabolic_l2_bound`), ``final ≥ ‖e(·, T)‖_{L²}``,
    ``initial ≥ ‖e(·, 0)‖_{L²}``; ``mu = κλ₁ + c`` the decay rate used; ``method`` ``"energy"`` (the energy
    identity, e = 0 on the boundary), ``"modal"`` (:mod:`.parabolic_modal`; ``mu`` is then the decay rate of the
    modes left out) or ``"sup-norm fallback"`` (``√(|Ω|T) × the maximum-principle bound``);
    ``true``: ``‖e‖_{L²(Ω×[0,T])}`` by Gauss–Legendre (the ground truth, not a certificate); ``limit``: the
    energy recurrence at the lower ends of its constants; ``boxes`` and ``seconds`` of the certification."""

    bound: float
    final: float
    initial: float
    mu: float
    method: str
    true: float
    limit: float
    boxes: int
    seconds: float
    is_bound: bool = True
    estimated: bool = False

    @property
    def ratio(self) -> float:
        return self.bound / self.true if self.true > 0 else float("inf")


def energy_recurrence(w0: float, S: Sequence[float], times: Sequence[float], mu: float) -> Tuple[float, float]:
    """``(∫_0^T ‖e‖² dt, ‖e(T)‖)`` upper bounds, every operation rounded upward: on a slab of length ``h``,
    ``w(τ+s) ≤ e^{−μs} w_k + √(s S_k)`` so ``w_{k+1} = e^{−μh} w_k + √(h S_k)`` and
    ``∫_slab w² ≤ w_k² (1 − e^{−2μh})/(2μ) + (4/3) w_k √S_k h^{3/2} + S_k h²/2``."""
    w, total = max(w0, 0.0), 0.0
    for k in range(len(S)):
        h = up(float(times[k + 1]) - float(times[k]))
        Sk = max(float(S[k]), 0.0)
        if mu > 0:
            damp = exp_up(-dn(mu * dn(h)))
            first = min(h, up(up(-math.expm1(-dn(2.0 * dn(mu * dn(h)))) * (1 + 2.0**-44)) / dn(2.0 * mu)))
        else:
            damp, first = 1.0, h
        q = up(math.sqrt(up(h * Sk)))
        t1 = up(up(w * w) * first)
        t2 = up(up(up(FOUR_THIRDS * w) * up(math.sqrt(Sk))) * up(h * up(math.sqrt(h))))
        t3 = up(up(Sk * up(h * h)) * 0.5)
        total = up(total + up(up(t1 + t2) + t3))
        w = up(up(damp * w) + q)
    return total, w


def energy_recurrence_torch(w0: Tensor, S: Tensor, h: Tensor, mu: float) -> Tensor:
    total, w = torch.zeros((), dtype=torch.float64), w0
    for k in range(S.shape[0]):
        Sk = torch.clamp(S[k], min=0.0) + 1e-300
        first = (1 - math.exp(-2 * mu * float(h[k]))) / (2 * mu) if mu > 0 else float(h[k])
        total = total + w * w * first + (4 / 3) * w * torch.sqrt(Sk) * h[k] ** 1.5 + Sk * h[k] ** 2 / 2
        w = math.exp(-mu * float(h[k])) * w + torch.sqrt(h[k] * Sk)
    return total


def parabolic_l2_bound(
    model: nn.Module,
    problem: Any,
    *,
    n_slices: Optional[int] = None,
    cells: Optional[int] = None,
    max_boxes: int = 40_000,
    rtol: float = 0.1,
    fallback: bool = False,
    n_true: Optional[int] = None,
    sup: Optional[HeatSupBound] = None,
    modes: Optional[int] = None,
) -> ParabolicL2Bound:
    r"""Certified bound on ``‖u_θ − u‖_{L²(Ω×[0,T])}`` for a linear parabolic problem (declared by
    ``linear_parabolic()``, checked by :func:`linear_parabolic_coefficients`) from the L² energy identity.

    Derivation. ``e = u_θ − u`` solves ``e_t − κΔe + β·∇e + c e = R`` (``R`` the residual of the net; the
    residual of ``u`` is 0 and the operator is linear). With ``e = 0`` on ``∂D`` — exactly, when the net is a
    :class:`~pinnkit.constraints.HardConstraints` wrapper with ``kinds=("boundary",)`` and the data are
    homogeneous — multiplying by ``e`` and integrating by parts (``∫ e β·∇e = ½∮ (β·n) e² = 0``,
    ``∫ e Δe = −‖∇e‖²``) gives ``½ d/dt ‖e‖² = −κ‖∇e‖² − c‖e‖² + ∫ e R ≤ −μ‖e‖² + ‖e‖ ‖R(t)‖`` with
    ``μ = κλ₁ + c`` and ``λ₁ = π² Σ_i 1/L_i²`` the first Dirichlet eigenvalue of ``−Δ`` on the box (Poincaré–
    Friedrichs: ``‖∇e‖² ≥ λ₁‖e‖²`` on ``H¹₀``). So ``w = ‖e‖`` has ``w' ≤ −μw + ‖R(t)‖`` and, on each time slab,
    ``w(τ_k + s) ≤ e^{−μs} w(τ_k) + √(s S_k)``, ``S_k ≥ ∫∫_{D×slab} R²`` (Cauchy–Schwarz in time); the
    space–time norm follows by integrating the square (:func:`energy_recurrence`). ``w(0) = ‖e(·,0)‖`` and
    ``S_k`` are certified box sums (mean-value bounds of ``∫_B f²``), refined where the bound is most
    sensitive; every operation is rounded outward, so the result is proved for this model.

    Modal refinement (``method = "modal"``, the default in 1-D when ``β = 0``): the lowest ``modes`` Dirichlet
    modes per axis of the error are followed exactly through signed box integrals of the residual against
    each mode, so the cancellations of an oscillating residual count, and only the rest decays at ``λ₁``'s
    successor (:mod:`.parabolic_modal`, derivation there). ``modes=0`` keeps the energy recurrence above.

    With a boundary error that is not identically zero the boundary terms ``κ∮ e ∂_n e`` involve the unknown
    normal derivative of the exact solution; then (``fallback=True``) the bound is ``√(|D| T)`` times the
    maximum-principle bound of :func:`heat_sup_bound` (valid for the same problems, looser), and
    ``method = "sup-norm fallback"``; without ``fallback`` such a net is refused. ``sup``: the
    :func:`heat_sup_bound` of this model and problem when already computed (the fallback then reuses it).
    """
    from pinnkit.constraints import HardConstraints
    from pinnkit.validation import check_bool

    from .box_families import BoxFamily, check_box_memory, refine_families, slab_grid

    check_certify_args(model, problem, rtol, max_boxes, 1)
    n_slices = None if n_slices is None else check_int("n_slices", n_slices, 1, 4096)
    fallback = check_bool("fallback", fallback)
    modes = None if modes is None else check_int("modes", modes, 0, 64)
    d = problem.spatial_dim
    cells = {1: 16, 2: 6}.get(d, 3) if cells is None else check_int("cells", cells, 1, 1024)
    n_true = {1: 64, 2: 24}.get(d, 6) if n_true is None else check_int("n_true", n_true, 1, 512)
    kappa, beta, c = linear_parabolic_coefficients(problem)
    if not dirichlet_everywhere(problem):
        raise ValueError("problem must have an initial condition and Dirichlet data on every face")
    if modes is None:  # in 2-D and beyond the modal integrals need finer boxes than the energy bound's sums
        modes = 4 if d == 1 else 0
    modal = modes > 0 and all(b_ == 0.0 for b_ in beta)
    n_slices = (64 if modal else 16) if n_slices is None else n_slices
    check_box_memory(model, d + 1, (modes**d + 1) if modal else 1, max_boxes, 4096)
    need = cells**d * (n_slices + 1)
    if need > max_boxes:
        raise ValueError(f"max_boxes must be at least the initial partition ({need} boxes), got {max_boxes}")
    t_start = time.perf_counter()
    exact_zero_boundary = isinstance(model, HardConstraints) and "boundary" in model.kinds
    model = copy.deepcopy(model).double()
    lower = [float(v) for v in problem.lower]
    upper = [float(v) for v in problem.upper]
    t0, T = (float(v) for v in problem.time_interval)
    vol = 1.0
    for a, b in zip(lower, upper):
        vol = up(vol * up(b - a))  # |D|, rounded up
    if sup is not None and not isinstance(sup, HeatSupBound):
        raise ValueError(f"sup must be None or the HeatSupBound of this model, got {type(sup).__name__}")
    if not exact_zero_boundary:
        if not fallback:
            raise ValueError(
                "the L² energy bound needs e = 0 on the boundary: train with hard_constraints=('boundary',) "
                "(pinnkit.solve(..., hard_constraints=('boundary',))), or pass fallback=True for "
                "√(|Ω|T) × the maximum-principle bound"
            )
        s = (
            sup
            if sup is not None
            else heat_sup_bound(model, problem, rtol=rtol, max_boxes=max_boxes, certify_true=False)
        )
        true = _true_l2(model, problem, n_true)
        b = up(up(math.sqrt(up(vol * up(T - t0)))) * s.bound)
        return ParabolicL2Bound(
            b,
            up(s.bound * up(math.sqrt(vol))),
            float("nan"),
            0.0,
            "sup-norm fallback",
            true,
            b,
            s.boxes,
            time.perf_counter() - t_start,
        )
    if modal:  # self-adjoint: follow the lowest modes exactly
        from .parabolic_modal import modal_l2_bound

        m = modal_l2_bound(model, problem, kappa, c, modes, n_slices, cells, max_boxes, rtol)
        return ParabolicL2Bound(
            bound=m["bound"],
            final=m["final"],
            initial=m["initial"],
            mu=m["mu_perp"],
            method="modal",
            true=_true_l2(model, problem, n_true),
            limit=m["limit"],
            boxes=m["boxes"],
            seconds=time.perf_counter() - t_start,
        )
    lam1 = sum(math.pi**2 / (b - a) ** 2 for a, b in zip(lower, upper))
    mu = (kappa * lam1 + c) * (1 - 1e-12)  # rounded down: a smaller decay rate is still valid
    tau = np.linspace(t0, T, n_slices + 1)
    tau[0], tau[-1] = t0, T

    def ev(expr, lo: Tensor, hi: Tensor):
        return field_forms(model, lo, hi, d, expr, 4096)

    def error(f):
        return f.u - problem.exact(f.x)

    spatial = list(range(d))
    lo, hi, slab = slab_grid(lower, upper, tau, [cells] * d)
    zlo, zhi, _ = slab_grid(lower, upper, np.array([t0, t0]), [cells] * d)
    families = [
        BoxFamily("S", "sumsq", problem.residual, lo, hi, slab, n_slices, spatial + [d], spatial + [d], ev),
        BoxFamily("z0", "sumsq", error, zlo, zhi, torch.zeros(zlo.shape[0], dtype=torch.long), 1, spatial, spatial, ev),
    ]
    h = torch.as_tensor(np.diff(tau))

    def constants(which: int):
        agg = [f.aggregate() for f in families]
        return {"S": agg[0][which], "z0": agg[1][which][:1]}

    def bound(cst) -> float:
        return energy_recurrence(sqrt_up(float(cst["z0"][0])), cst["S"].tolist(), tau, mu)[0]

    def smooth(cst) -> Tensor:
        return energy_recurrence_torch(torch.sqrt(torch.clamp(cst["z0"][0], min=0.0) + 1e-300), cst["S"], h, mu)

    up_c, total, limit, _ = refine_families(families, constants, bound, smooth, max_boxes, rtol)
    w0 = sqrt_up(float(up_c["z0"][0]))
    total, w_T = energy_recurrence(w0, up_c["S"].tolist(), tau, mu)
    true = _true_l2(model, problem, n_true)
    return ParabolicL2Bound(
        bound=sqrt_up(total),
        final=w_T,
        initial=w0,
        mu=mu,
        method="energy",
        true=true,
        limit=math.sqrt(max(limit, 0.0)),
        boxes=sum(f.n() for f in families),
        seconds=time.perf_counter() - t_start,
    )


def _true_l2(model: nn.Module, problem: Any, n: int) -> float:
    """``‖u_θ − u‖_{L²(Ω×[0,T])}`` by a tensor Gauss–Legendre rule (``n`` per spatial axis, 4n in time)."""
    from .burgers_blowup import gauss_rule

    d = problem.spatial_dim
    X, W = gauss_rule(problem.input_lower, problem.input_upper, [n] * d + [4 * n])
    with torch.no_grad():
        u = model(torch.as_tensor(X)).numpy()
        ex = problem.exact(torch.as_tensor(X)).numpy()
    return float(math.sqrt(weighted_sum(W, ((u - ex) ** 2).sum(1))))
