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
import time
from dataclasses import dataclass
from typing import Any, Tuple

import torch
from torch import Tensor, nn

from pinnkit.enclosure.boxes import grid_boxes, per_axis_for
from pinnkit.enclosure.fields import IntervalFields
from pinnkit.enclosure.interval import Interval

from .certified import certified_sup, check_certify_args, residual_enclosure

__all__ = ["HeatSupBound", "heat_sup_bound"]


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


def heat_sup_bound(
    model: nn.Module,
    problem: Any,
    *,
    slabs: int = 1,
    rtol: float = 0.1,
    max_boxes: int = 20_000,
    initial_boxes: int = 256,
    certify_true: bool = True,
) -> HeatSupBound:
    """The certified maximum-principle bound on ``‖u_θ − u‖_∞`` for :class:`pinnkit.equations.Heat` with
    Dirichlet data (module docstring), with ``slabs`` time slabs; refinement as in
    :func:`~pinnkit.theory.certified.certify_residual` (``max_boxes`` per supremum and per slab).
    ``certify_true``: also certify the true sup error from both sides (``true``; else ``(nan, nan)``)."""
    from pinnkit.equations import Heat
    from pinnkit.validation import check_bool, check_int

    check_certify_args(model, problem, rtol, max_boxes, initial_boxes)
    slabs = check_int("slabs", slabs, 1, 1000)
    certify_true = check_bool("certify_true", certify_true)
    if not isinstance(problem, Heat) or problem.boundary != "dirichlet":
        raise ValueError(
            "problem must be a pinnkit.equations.Heat with Dirichlet data (solution 'sine' or 'two-mode'); the "
            f"maximum-principle bound here needs u = g on the whole boundary, got {problem!r}"
        )
    t0 = time.perf_counter()
    model = copy.deepcopy(model).double()
    lower = torch.tensor(problem.input_lower, dtype=torch.float64)
    upper = torch.tensor(problem.input_upper, dtype=torch.float64)
    scale = upper - lower
    d = problem.spatial_dim

    def error(lo: Tensor, hi: Tensor) -> Interval:
        u = IntervalFields(model, lo, hi, d).u[:, 0]
        return u - problem.exact(Interval(lo, hi))[:, 0]

    lo_i, hi_i = _faces(problem, "initial", initial_boxes)
    _, initial, n1 = certified_sup(error, lo_i, hi_i, scale, rtol=rtol, max_boxes=max_boxes)
    lo_b, hi_b = _faces(problem, "boundary", initial_boxes)
    _, boundary, n2 = certified_sup(error, lo_b, hi_b, scale, rtol=rtol, max_boxes=max_boxes)

    def residual(lo: Tensor, hi: Tensor) -> Interval:
        return residual_enclosure(model, problem, lo, hi)[:, 0]

    t_lo, t_hi = problem.time_interval
    cuts = torch.linspace(t_lo, t_hi, slabs + 1, dtype=torch.float64)
    cuts[0], cuts[-1] = t_lo, t_hi
    total = Interval(torch.tensor(max(initial, boundary), dtype=torch.float64))
    rho, n3 = 0.0, 0
    for k in range(slabs):
        s_lower, s_upper = lower.clone(), upper.clone()
        s_lower[d], s_upper[d] = cuts[k], cuts[k + 1]
        lo0, hi0 = grid_boxes(
            s_lower, s_upper, per_axis_for(max(1, initial_boxes // slabs), (s_upper - s_lower).tolist())
        )
        _, rho_k, n = certified_sup(residual, lo0, hi0, scale, rtol=rtol, max_boxes=max_boxes)
        h = Interval(cuts[k + 1]) - Interval(cuts[k])
        total = total + h * Interval(torch.tensor(rho_k, dtype=torch.float64))
        rho, n3 = max(rho, rho_k), n3 + n
    bound = float(total.hi)
    true_lo = true_hi = float("nan")
    n4 = 0
    if certify_true:
        lo0, hi0 = grid_boxes(lower, upper, per_axis_for(initial_boxes, scale.tolist()))
        true_lo, true_hi, n4 = certified_sup(error, lo0, hi0, scale, rtol=rtol, max_boxes=max_boxes)
    T = t_hi - t_lo
    return HeatSupBound(
        bound=bound,
        initial=initial,
        boundary=boundary,
        residual=rho,
        T=T,
        true=(true_lo, true_hi),
        boxes=n1 + n2 + n3 + n4,
        seconds=time.perf_counter() - t0,
    )
