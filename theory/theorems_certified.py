r"""Kumar & Mukherjee's Theorems 1 and 2 (journal Thms 4.1 and 4.2; :mod:`.burgers_blowup`) with every term
certified, and the hypotheses under which each is a proved bound for this model on this machine.

:func:`~pinnkit.theory.burgers_blowup.theorem1` and ``theorem2`` estimate each term (quadratures, sampled
suprema). Here every integral is a certified box sum (:class:`.box_families.BoxFamily`), every supremum a
branch-and-bound maximum of a centred enclosure, the exact solution's terms are evaluated on intervals
(:meth:`BurgersBlowup.A_entries`, ``exact()`` on enclosures), and the right-hand sides are evaluated with every
operation rounded upward. What remains is whether the theorem's inequality holds at all, which the papers'
statements do not make checkable; the two derivations below prove it under explicit hypotheses, checked on
the certified numbers (``hypotheses``; ``is_bound`` is True only when all hold).

Theorem 1 (any d), ``e = u_θ − u``, ``y(t) = ‖e(·,t)‖²_{L²(D)}``. From ``e_t = R − (u_θ·∇)u_θ + (u·∇)u``
(no integration by parts, hence no boundary term):
``|∫ e·(v·∇)v| ≤ G_v Σ_ij ∫|e_i||v_j| ≤ (d/2) G_v (y + ‖v‖²)`` with ``G_v = sup_Ω max_ij |∂_j v_i|`` (below
every matrix norm offered), and ``2∫e·R ≤ y + ‖R‖²``, so ``y' ≤ C1' y + f(t)`` with ``C1' = 1 + dG_θ + dG ≤ C1``
and ``∫_{t0}^T f = ∫_Ω‖R‖² + dG_θ∫_Ω‖u_θ‖² + dG∫_Ω‖u‖² ≤ C2 − ∫_D‖R_t‖²``. Grönwall:
``y(t) ≤ e^{C1(t−t0)} C2``, ``∫_Ω‖e‖² ≤ C2 (e^{C1 L0} − 1)/C1`` (``L0 = T − t0``), which is at most the
theorem's ``C1 C2/4 · e^{C1 L}`` when (H1) ``2 log C1 ≥ log 4 + C1 (L0 − L)`` (``log(e^x − 1) < x``); with the
full window (``L = L0``) this is ``C1 ≥ 2``. The map ``C ↦ (e^{C L0} − 1)/C`` increases, so certified upper
constants keep the chain.

Theorem 2, consistent variant (``∫∫e² ≤ (1 + Ce^C)[∫R_tb² + …]``) on ``u = x/(t−1)``, ``[−1,1] × [t0, δ]``,
``g = 1/(1−δ)``. In 1-D ``u_θ u_θx − u u_x = (eu)_x + e e_x``; integrating by parts,
``½y' = ∫eR + ½y/(1−t) − ½[e²u]_{−1}^{1} − ⅓[e³]_{−1}^{1}``, so
``y' ≤ (1 + g) y + ‖R‖² + Σ_± e_±² (g + ⅔|e_±|)``; with ``|e_±| ≤ S_± + g`` (``S_± = sup_t |u_θ(±1,t)|``) the
boundary term is at most ``Σ_± e_±² (5g/3 + ⅔ S_±)``, which is at most ``2 C_2b Σ_± e_±²`` (``C_2b = S_+ +
3g/2``) when (H2) ``S_− ≤ 2g + 3 S_+``. Grönwall with ``1 + g ≤ C``: ``∫∫e² ≤ (y_0 + ∫∫R² + 2C_2b Σ∫R_sb²)
(e^{C L0} − 1)/C``, at most the theorem's ``(1 + Ce^C)[…]`` (the ``C_1b`` terms are ≥ 0) when (H3)
``C (L0 − 1) ≤ 2 log C``. The statement AS WRITTEN (``(∫∫e²)^{1/2} ≤ (1 + Ce^C) B_w`` with the signed ``∫R_tb``)
then follows when (H4) ``B_w > 0`` and ``B_c ≤ (1 + Ce^C) B_w²`` (``B_c`` the consistent bracket), since
``(∫∫e²)^{1/2} ≤ ((1 + Ce^C) B_c)^{1/2}``.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch
from torch import Tensor, nn

from pinnkit.enclosure.interval import Interval
from pinnkit.enclosure.scalar import dn, log_dn, log_up, sqrt_up, up
from pinnkit.validation import check_choice, check_int, check_real

from .blowup_certified import check_box_settings, gauss_error_sq
from .box_families import BoxFamily, check_box_memory, refine_families, slab_grid
from .burgers_blowup import GRAD_NORMS, check_1d_preset, check_blowup_problem, evaluate, gauss_rule, graded_time_grid
from .certified import check_certify_args, field_forms, signed_integrals

__all__ = [
    "CertifiedTheorem1",
    "CertifiedTheorem2",
    "certified_theorem1",
    "certified_theorem2",
    "exact_gradient_sup",
]

_INF = math.inf


def _sum_up(values) -> float:
    """An upper bound of the exact sum of floats (``fsum`` is correctly rounded)."""
    return up(math.fsum(float(v) for v in values))


def _mul_up(*xs: float) -> float:
    out = 1.0
    for x in xs:
        out = up(out * x)
    return out


def exact_gradient_sup(problem: Any, norm: str = "max_column_sum", pieces: int = 512) -> float:
    """``≥ sup_{t ∈ [t0, T]} ‖A(t)‖`` (``∇u = A(t)``): ``A`` enclosed on ``pieces`` graded sub-intervals of the
    window by the closed form in interval arithmetic (:meth:`A_entries`); ``"max_column_sum"`` is
    ``max_j Σ_i |A_ij|``, ``"spectral"`` is bounded by ``(‖A‖_1 ‖A‖_∞)^{1/2}`` (Hölder)."""
    check_blowup_problem(problem)
    check_choice("norm", norm, GRAD_NORMS)
    check_int("pieces", pieces, 1, 10**6)
    tau = torch.as_tensor(graded_time_grid(problem, pieces))
    A = problem.A_entries(Interval(tau[:-1], tau[1:]))
    d = problem.spatial_dim

    def sums(by_column: bool) -> Tensor:
        out = []
        for j in range(d):
            acc = Interval.point(torch.zeros(pieces, dtype=torch.float64))
            for i in range(d):
                acc = acc + Interval.point((A[i][j] if by_column else A[j][i]).mag())
            out.append(acc.hi)
        return torch.stack(out).max(0).values

    col = float(sums(True).max())
    if norm == "max_column_sum" or d == 1:
        return col
    if d == 2:
        m, q = _gram_parts(A[0][0], A[0][1], A[1][0], A[1][1])
        return sqrt_up(float((m + q.sqrt()).hi.max()))
    return sqrt_up(up(col * float(sums(False).max())))


def _abs_columns(terms: List[Any]) -> Any:
    """``stack`` of ``Σ_i s_i t_i`` over every sign vector ``s``: its maximum is ``sup Σ_i |t_i|``."""
    out = []
    n = len(terms)
    for mask in range(2**n):
        acc = None
        for i, t in enumerate(terms):
            s = t if (mask >> i) & 1 == 0 else -t
            acc = s if acc is None else acc + s
        out.append(acc)
    return torch.stack(out, 1)


def _jacobian_sup_expr(d: int, by_column: bool) -> Callable[[Any], Any]:
    """Expression whose maximum over a box family is ``sup max_j Σ_i |∂_j u_i|`` (columns) or
    ``sup max_i Σ_j |∂_j u_i|`` (rows)."""

    def expr(f):
        parts = []
        for a in range(d):
            terms = [f.d(i, a) if by_column else f.d(a, i) for i in range(d)]
            parts.append(_abs_columns(terms))
        return torch.cat(parts, 1)

    return expr


def _gram_parts(a, b, c, e):
    """``(m, q)`` of ``JᵀJ`` for ``J = [[a, b], [c, e]]``: ``m = (M11 + M22)/2``, ``q = ((M11 − M22)/2)² + M12²``, so
    that ``‖J‖_2² = λ_max(JᵀJ) = m + √q`` (works on floats, intervals and slopes)."""
    M11, M22, M12 = a * a + c * c, b * b + e * e, a * b + c * e
    half = (M11 - M22) * 0.5
    return (M11 + M22) * 0.5, half * half + M12 * M12


def _spectral_sq_expr(s: float) -> Callable[[Any], Any]:
    """``m + q/(2s) + s/2 ≥ m + √q = ‖J‖_2²`` for any ``s > 0`` (AM–GM, equality at ``√q = s``): a polynomial in
    the Jacobian, whose maximum over a box family bounds ``sup ‖J‖_2²`` in 2-D."""

    def expr(f):
        m, q = _gram_parts(f.d(0, 0), f.d(0, 1), f.d(1, 0), f.d(1, 1))
        return m + q * (0.5 / s) + 0.5 * s

    return expr


def _sampled_gram_root(model: nn.Module, problem: Any) -> float:
    """``√q`` at the sampled maximiser of ``‖J‖_2`` (Gauss points): the AM–GM parameter of
    :func:`_spectral_sq_expr` (a choice, not a certified number; any positive value keeps the bound)."""
    t0, T = problem.time_interval
    pts, _ = gauss_rule([*map(float, problem.lower), t0], [*map(float, problem.upper), T], [12, 12, 12])
    J = evaluate(model, problem, pts)["jac"][:, :, :2]
    m, q = _gram_parts(J[:, 0, 0], J[:, 0, 1], J[:, 1, 0], J[:, 1, 1])
    k = int(np.argmax(m + np.sqrt(q)))
    return max(float(np.sqrt(q[k])), 1e-8)


# =========================================================================== Theorem 1
@dataclass
class CertifiedTheorem1:
    """Theorem 1 (journal Thm 4.1) with every term certified (upper bounds; module docstring): ``log_rhs ≥
    log(C1 C2/4) + C1 L`` evaluated at the certified constants, rounded upward. ``true`` is ``∫_Ω‖e‖²`` by
    Gauss–Legendre (the ground truth it is compared with), ``log_lhs = log true``. ``hypotheses``: (H1) of the
    module docstring, checked; ``is_bound`` is True when it holds (then ``∫_Ω‖e‖² ≤ exp(log_rhs)`` is proved)."""

    d: int
    window_length: float
    norm: str
    initial_residual_sq: float
    pde_residual_sq: float
    grad_surrogate_sup: float
    grad_exact_sup: float
    surrogate_sq: float
    exact_sq: float
    C1: float
    C2: float
    log_rhs: float
    true: float
    log_lhs: float
    hypotheses: Dict[str, bool]
    boxes: int
    seconds: float
    is_bound: bool = False
    estimated: bool = False
    settings: Dict[str, Any] = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        return bool(self.log_lhs <= self.log_rhs)

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def _check_common(model, problem, n_slices, cells, max_boxes, rtol, batch, n_true, d):
    check_certify_args(model, problem, rtol, max_boxes, 1)
    return tuple(check_box_settings(d, n_slices, cells, max_boxes, rtol, batch, n_true).values())


def _ranked(log_certified: Callable[[Dict[str, Tensor]], float], log_smooth: Callable[[Dict[str, Tensor]], Tensor], c0):
    """``(bound, smooth)`` for :func:`refine_families`: ``exp(log − anchor)`` of the certified and of the plain
    right-hand side, the anchor fixed at the first constants ``c0`` (ratios of right-hand sides, no overflow)."""
    anchor = float(log_smooth(c0).detach())

    def bound(c):
        return math.exp(min(log_certified(c) - anchor, 700.0))

    def smooth(c):
        return torch.exp(log_smooth(c) - anchor)

    return bound, smooth


def certified_theorem1(
    model: nn.Module,
    problem: Any,
    norm: str = "max_column_sum",
    window_length: Optional[float] = None,
    *,
    n_slices: int = 16,
    cells: Optional[int] = None,
    max_boxes: int = 8_000,
    rtol: float = 0.05,
    batch: int = 4096,
    n_true: Optional[int] = None,
) -> CertifiedTheorem1:
    """Theorem 1 of Kumar & Mukherjee with every term certified, on an :class:`InviscidBurgersBlowup`.

    Args:
        model: the trained surrogate (a pinnkit MLP or ResidualMLP with tanh or sin).
        problem: the blow-up problem (any d).
        norm: the matrix norm of the Jacobians (``"max_column_sum"``, the paper's code, or ``"spectral"``:
            ``|J|`` in 1-D; in 2-D ``‖J‖_2² = m + √q ≤ m + q/(2s) + s/2`` (:func:`_spectral_sq_expr`); bounded
            by ``(‖J‖_1 ‖J‖_∞)^{1/2}`` beyond).
        window_length: ``L`` in the exponent (default ``T − t0``; the paper's ``1/√2``).

    Other arguments: ``n_slices`` graded time slabs of the initial partition, ``cells`` per spatial axis,
    ``max_boxes`` over all families, ``rtol`` (stop when the right-hand side is within ``(1 + rtol)²`` of its
    limit), ``batch`` boxes per enclosure evaluation, ``n_true`` Gauss nodes per axis for the true error.
    """
    check_blowup_problem(problem)
    check_choice("norm", norm, GRAD_NORMS)
    d = problem.spatial_dim
    n_slices, cells, max_boxes, rtol, batch, n_true = _check_common(
        model, problem, n_slices, cells, max_boxes, rtol, batch, n_true, d
    )
    t0, T = problem.time_interval
    L0 = float(T - t0)
    L = L0 if window_length is None else check_real("window_length", window_length, 0.0, 1e6)
    spectral = norm == "spectral" and d > 1
    n_families = 6 if spectral and d > 2 else 5
    need = n_families * n_slices * cells**d
    if need > max_boxes:
        raise ValueError(f"max_boxes must be at least the initial partition ({need} boxes), got {max_boxes}")
    check_box_memory(model, d + 1, 2 * d * 2**d, max_boxes, batch)
    t_start = time.perf_counter()
    model = copy.deepcopy(model).double()
    lower = [float(v) for v in problem.lower]
    upper = [float(v) for v in problem.upper]
    tau = graded_time_grid(problem, n_slices)
    K = n_slices
    spatial = list(range(d))
    allax = spatial + [d]

    def ev(expr, lo, hi):
        return field_forms(model, lo, hi, d, expr, batch, second_order=True)

    def grid():
        lo, hi, slab = slab_grid(lower, upper, tau, [cells] * d)
        return lo, hi, slab

    fam: Dict[str, BoxFamily] = {}
    fam["G"] = BoxFamily("G", "max", _jacobian_sup_expr(d, True), *grid(), K, [], allax, ev)
    if spectral and d == 2:  # ‖J‖_2² through AM–GM, s from a sampled maximiser (any s > 0 is valid)
        fam["G"] = BoxFamily(
            "G", "max", _spectral_sq_expr(_sampled_gram_root(model, problem)), *grid(), K, [], allax, ev
        )
    elif spectral:  # Hölder: ‖J‖_2 ≤ (‖J‖_1 ‖J‖_∞)^{1/2}
        fam["Grow"] = BoxFamily("Grow", "max", _jacobian_sup_expr(d, False), *grid(), K, [], allax, ev)
    fam["R"] = BoxFamily("R", "sumsq", problem.residual, *grid(), K, allax, allax, ev)
    fam["U"] = BoxFamily("U", "sumsq", lambda f: f.u, *grid(), K, allax, allax, ev)
    fam["E"] = BoxFamily("E", "sumsq", lambda f: problem.exact(f.x), *grid(), K, allax, allax, ev)
    zlo, zhi, _ = slab_grid(lower, upper, np.array([t0, t0]), [cells] * d)
    zslab = torch.zeros(zlo.shape[0], dtype=torch.long)
    fam["z0"] = BoxFamily("z0", "sumsq", lambda f: f.u - problem.exact(f.x), zlo, zhi, zslab, 1, spatial, spatial, ev)
    families = list(fam.values())
    g_exact = exact_gradient_sup(problem, norm)
    d2 = float(d * d)

    def constants(which: int) -> Dict[str, Tensor]:
        return {name: f.aggregate()[which] for name, f in fam.items()}

    def terms(c: Dict[str, Tensor]) -> Dict[str, float]:
        """The theorem's constants from certified (upper) per-slab values, rounded upward."""
        G = max(float(c["G"].max()), 0.0)
        if spectral and d == 2:
            G = sqrt_up(G)
        elif spectral:
            G = sqrt_up(up(G * max(float(c["Grow"].max()), 0.0)))
        R, U, E = (_sum_up(c[k].tolist()) for k in ("R", "U", "E"))
        z0 = float(c["z0"][0])
        C1 = up(up(up(d2 * G) + 1.0) + up(d2 * g_exact))
        C2 = _sum_up([z0, R, _mul_up(d2, G, U), _mul_up(d2, g_exact, E)])
        return dict(G=G, R=R, U=U, E=E, z0=z0, C1=C1, C2=C2)

    def log_rhs(t: Dict[str, float]) -> float:
        if t["C2"] <= 0:
            return -_INF
        return up(log_up(up(up(t["C1"] * t["C2"]) * 0.25)) + up(t["C1"] * L))

    def log_torch(c: Dict[str, Tensor]) -> Tensor:
        G = torch.clamp(c["G"].max(), min=0.0)
        if spectral and d == 2:
            G = torch.sqrt(G + 1e-300)
        elif spectral:
            G = torch.sqrt(G * torch.clamp(c["Grow"].max(), min=0.0) + 1e-300)
        C1 = d2 * G + 1.0 + d2 * g_exact
        C2 = c["z0"][0] + c["R"].sum() + d2 * G * c["U"].sum() + d2 * g_exact * c["E"].sum()
        return torch.log(C1 * C2 * 0.25 + 1e-300) + C1 * L

    bound, smooth = _ranked(lambda c: log_rhs(terms(c)), log_torch, constants(0))
    refine_families(families, constants, bound, smooth, max_boxes, rtol)
    t = terms(constants(0))
    lr = log_rhs(t)
    C1 = t["C1"]
    # (H1): 2 log C1 ≥ log 4 + C1 (L0 − L), evaluated on the safe side
    gap = max(up(L0 - L), 0.0)
    h1 = up(log_up(4.0) + up(C1 * gap)) <= dn(2.0 * log_dn(C1))
    true = gauss_error_sq(model, problem, tau, n_true)
    hyp = {"H1: 2 log C1 >= log 4 + C1 (L0 - L)": bool(h1)}
    return CertifiedTheorem1(
        d=d,
        window_length=L,
        norm=norm,
        initial_residual_sq=t["z0"],
        pde_residual_sq=t["R"],
        grad_surrogate_sup=t["G"],
        grad_exact_sup=g_exact,
        surrogate_sq=t["U"],
        exact_sq=t["E"],
        C1=C1,
        C2=t["C2"],
        log_rhs=lr,
        true=true,
        log_lhs=math.log(true) if true > 0 else -_INF,
        hypotheses=hyp,
        boxes=sum(f.n() for f in families),
        seconds=time.perf_counter() - t_start,
        is_bound=all(hyp.values()),
        settings={"n_slices": n_slices, "cells": cells, "max_boxes": max_boxes, "rtol": rtol},
    )


# =========================================================================== Theorem 2
@dataclass
class CertifiedTheorem2:
    """Theorem 2 (journal Thm 4.2) with every term certified, both variants (module docstring).

    Certified upper bounds: ``initial_residual_sq`` (``∫R_tb²``), ``interior_residual_sq``, ``boundary_left_sq``,
    ``boundary_right_sq``, ``surrogate_right_sup`` (``S_+``), ``surrogate_left_sup`` (``S_−``), ``C``, ``C1b``,
    ``C2b``; ``initial_residual_integral`` is the enclosure ``(lower, upper)`` of the signed ``∫R_tb``.
    ``log_rhs_consistent ≥ log((1 + Ce^C) B_c)``; ``log_rhs_as_written ≥ log((1 + Ce^C) B_w)`` (NaN when ``B_w``
    can be ``≤ 0``). ``true`` is ``∫∫e²`` by Gauss–Legendre. ``hypotheses``: (H2)–(H4), checked on the certified
    numbers; ``is_bound_consistent`` / ``is_bound_as_written`` say which statement is proved."""

    delta: float
    t0: float
    initial_residual_integral: tuple
    initial_residual_sq: float
    interior_residual_sq: float
    boundary_left_sq: float
    boundary_right_sq: float
    surrogate_right_sup: float
    surrogate_left_sup: float
    C: float
    C1b: float
    C2b: float
    bracket_consistent: float
    bracket_as_written: tuple
    log_prefactor: float
    log_rhs_consistent: float
    log_rhs_as_written: float
    true: float
    hypotheses: Dict[str, bool]
    boxes: int
    seconds: float
    is_bound_consistent: bool = False
    is_bound_as_written: bool = False
    estimated: bool = False
    settings: Dict[str, Any] = field(default_factory=dict)

    @property
    def is_bound(self) -> bool:
        """The consistent statement is proved (the as-written one is reported by ``is_bound_as_written``)."""
        return self.is_bound_consistent

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def certified_theorem2(
    model: nn.Module,
    problem: Any,
    *,
    n_slices: int = 16,
    cells: Optional[int] = None,
    max_boxes: int = 6_000,
    rtol: float = 0.05,
    batch: int = 4096,
    n_true: Optional[int] = None,
) -> CertifiedTheorem2:
    """Theorem 2 of Kumar & Mukherjee with every term certified, on the (1+1)-D preset ``u = x/(t − 1)``.

    Args:
        model: the trained surrogate (a pinnkit MLP or ResidualMLP with tanh or sin).
        problem: ``BurgersBlowup(dim=1, delta=…)`` (any window ending before the blow-up).

    Other arguments as :func:`certified_theorem1`.
    """
    delta = check_1d_preset(problem)
    n_slices, cells, max_boxes, rtol, batch, n_true = _check_common(
        model, problem, n_slices, cells, max_boxes, rtol, batch, n_true, 1
    )
    need = n_slices * (cells + 4) + cells
    if need > max_boxes:
        raise ValueError(f"max_boxes must be at least the initial partition ({need} boxes), got {max_boxes}")
    check_box_memory(model, 2, 2, max_boxes, batch)
    t_start = time.perf_counter()
    model = copy.deepcopy(model).double()
    t0, T = problem.time_interval
    L0 = float(T - t0)
    tau = graded_time_grid(problem, n_slices)
    K = n_slices

    def ev(expr, lo, hi):
        return field_forms(model, lo, hi, 1, expr, batch, second_order=True)

    def error(f):
        return f.u - problem.exact(f.x)

    fam: Dict[str, BoxFamily] = {}
    fam["R"] = BoxFamily("R", "sumsq", problem.residual, *slab_grid([-1.0], [1.0], tau, [cells]), K, [0, 1], [0, 1], ev)
    for name, xval in (("l", -1.0), ("r", 1.0)):
        blo, bhi, bslab = slab_grid([], [], tau, [])
        col = torch.full((blo.shape[0], 1), xval, dtype=torch.float64)
        blo, bhi = torch.cat([col, blo], 1), torch.cat([col.clone(), bhi], 1)
        fam[name] = BoxFamily(name, "sumsq", error, blo, bhi, bslab, K, [1], [1], ev)
        fam["S" + name] = BoxFamily(
            "S" + name, "max", lambda f: torch.stack([f.u[:, 0], -f.u[:, 0]], 1), blo, bhi, bslab, K, [], [1], ev
        )
    zlo, zhi, _ = slab_grid([-1.0], [1.0], np.array([t0, t0]), [cells])
    fam["z0"] = BoxFamily("z0", "sumsq", error, zlo, zhi, torch.zeros(zlo.shape[0], dtype=torch.long), 1, [0], [0], ev)
    families = list(fam.values())

    g = up(1.0 / dn(1.0 - delta))  # ≥ 1/(1 − δ) = sup_t |u(±1, t)|
    C = up(1.0 + up(2.0 * g))
    C1b = up(g * g)
    log_pref = up(up(C + log_up(C)) + math.log1p(up(math.exp(-C) * (1 + 2.0**-40)) / C) * (1 + 2.0**-40))

    def terms(c: Dict[str, Tensor]) -> Dict[str, float]:
        R, left, right = (_sum_up(c[k].tolist()) for k in ("R", "l", "r"))
        Sr, Sl = max(float(c["Sr"].max()), 0.0), max(float(c["Sl"].max()), 0.0)
        C2b = up(Sr + up(1.5 * g))
        z0 = float(c["z0"][0])
        bnd = _sum_up(
            [_mul_up(2.0, C2b, _sum_up([left, right])), _mul_up(2.0, C1b, _sum_up([sqrt_up(left), sqrt_up(right)]))]
        )
        Bc = _sum_up([z0, R, bnd])
        return dict(R=R, l=left, r=right, Sr=Sr, Sl=Sl, C2b=C2b, z0=z0, bnd=bnd, Bc=Bc)

    def log_torch(c: Dict[str, Tensor]) -> Tensor:
        C2b = torch.clamp(c["Sr"].max(), min=0.0) + 1.5 * g
        left, right = c["l"].sum(), c["r"].sum()
        Bc = c["z0"][0] + c["R"].sum() + 2 * C2b * (left + right)
        Bc = Bc + 2 * C1b * (torch.sqrt(left + 1e-300) + torch.sqrt(right + 1e-300))
        return torch.log(Bc + 1e-300) + log_pref

    def constants(which: int) -> Dict[str, Tensor]:
        return {name: f.aggregate()[which] for name, f in fam.items()}

    bound, smooth = _ranked(lambda c: up(log_up(terms(c)["Bc"]) + log_pref), log_torch, constants(0))
    refine_families(families, constants, bound, smooth, max_boxes, rtol)
    t = terms(constants(0))
    # lower end of S_+ (a value attained at a point): for (H2)
    Sr_low = max(float(fam["Sr"].aggregate()[1].max()), 0.0)
    # signed ∫R_tb, enclosed, from the initial boxes
    F0 = fam["z0"].F
    w0 = (fam["z0"].hi - fam["z0"].lo)[:, 0]
    I_tb = signed_integrals(F0.columns(slice(0, 1)), Interval.point(w0))[:, 0].sum(0)
    I_lo, I_hi = float(I_tb.lo), float(I_tb.hi)
    log_c = up(log_up(t["Bc"]) + log_pref) if t["Bc"] > 0 else -_INF
    # B_w = ∫R_tb + rest, rest = ∫∫R² + 2C_2b(∫R_sb,−1² + ∫R_sb,1²) + 2C_1b(…): upper and certified lower ends
    rest_hi = up(t["Bc"] - t["z0"])
    c_lo = constants(1)  # certified lower ends (Darboux sums from below; a value attained for S_+)
    R_lo, l_lo, r_lo = (max(dn(math.fsum(c_lo[k].tolist())), 0.0) for k in ("R", "l", "r"))
    g_lo = dn(1.0 / up(1.0 - delta))
    C2b_lo = dn(Sr_low + dn(1.5 * g_lo))
    sq_lo = dn(dn(math.sqrt(l_lo)) + dn(math.sqrt(r_lo)))
    rest_lo = dn(dn(R_lo + dn(dn(2.0 * C2b_lo) * dn(l_lo + r_lo))) + dn(dn(2.0 * dn(g_lo * g_lo)) * sq_lo))
    Bw_lo, Bw_hi = dn(I_lo + rest_lo), up(I_hi + rest_hi)
    log_w = up(log_up(Bw_hi) + log_pref) if Bw_lo > 0 else float("nan")
    # hypotheses
    h2 = t["Sl"] <= dn(dn(2.0 * g_lo) + dn(3.0 * Sr_low))
    h3 = up(C * max(up(L0 - 1.0), 0.0)) <= dn(2.0 * log_dn(C))
    log_pref_lo = dn(C + log_dn(C))  # log(1 + Ce^C) > C + log C
    h4 = Bw_lo > 0 and up(log_up(t["Bc"])) <= dn(log_pref_lo + dn(2.0 * log_dn(Bw_lo)))
    hyp = {
        "H2: S_- <= 2/(1-delta) + 3 S_+": bool(h2),
        "H3: C (L0 - 1) <= 2 log C": bool(h3),
        "H4 (as written): B_w > 0 and B_c <= (1 + C e^C) B_w^2": bool(h4),
    }
    true = gauss_error_sq(model, problem, tau, n_true)
    return CertifiedTheorem2(
        delta=delta,
        t0=float(t0),
        initial_residual_integral=(I_lo, I_hi),
        initial_residual_sq=t["z0"],
        interior_residual_sq=t["R"],
        boundary_left_sq=t["l"],
        boundary_right_sq=t["r"],
        surrogate_right_sup=t["Sr"],
        surrogate_left_sup=t["Sl"],
        C=C,
        C1b=C1b,
        C2b=t["C2b"],
        bracket_consistent=t["Bc"],
        bracket_as_written=(Bw_lo, Bw_hi),
        log_prefactor=log_pref,
        log_rhs_consistent=log_c,
        log_rhs_as_written=log_w,
        true=true,
        hypotheses=hyp,
        boxes=sum(f.n() for f in families),
        seconds=time.perf_counter() - t_start,
        is_bound_consistent=bool(h2 and h3),
        is_bound_as_written=bool(h2 and h3 and h4),
        settings={"n_slices": n_slices, "cells": cells, "max_boxes": max_boxes, "rtol": rtol},
    )
