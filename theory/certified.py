"""Certified residual bounds of a trained PINN: proved, floating point included, for this model.

For any :class:`~pinnkit.equations.Problem` (shipped or a user's) whose residual is written with ``Fields``,
the residual is evaluated on enclosures of the net over boxes (:class:`pinnkit.enclosure.fields.IntervalFields`:
the inclusion property of interval arithmetic makes ``R(B)`` contain ``R(x)`` for every ``x ∈ B``). Over a
partition ``{B}`` of the space–time domain ``Ω``:

- ``sup_Ω |R| ≤ max_B mag R(B)`` and ``≥ max_B |R(c_B)|`` (a value at a point is a lower bound). Boxes whose
  upper bound exceeds the best lower bound are bisected, largest first, until the two agree within ``rtol``
  or the box budget is spent; boxes that cannot hold the supremum are dropped.
- ``∫_Ω |R|² ≤ Σ_B vol(B) sup_B |R|²`` and ``≥ Σ_B vol(B) inf_B |R|²`` (the upper and lower Darboux sums of
  ``|R|² = Σ_c R_c²``, which converge to the integral as the boxes shrink, ``|R|²`` being continuous); the
  boxes with the largest gap ``vol · (sup − inf)`` are bisected first.

Every sum and product of the bounds is done in the outward-rounded arithmetic of
:mod:`pinnkit.enclosure.interval`, so the numbers hold on this machine (``is_bound=True``). What is certified
is the *residual* (not the error); the error bounds build on these.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Tuple

import torch
from torch import Tensor, nn

from pinnkit.enclosure.boxes import bisect, grid_boxes, per_axis_for, volumes
from pinnkit.enclosure.fields import CentreSlopeFields, Slope2Fields, SlopeFields, centre_fields
from pinnkit.enclosure.interval import Interval, down, up
from pinnkit.enclosure.net import enclose, supports
from pinnkit.enclosure.slope import Slope, Slope2, centred_form, second_order_square_integral, square_integral
from pinnkit.validation import check_int, check_real

__all__ = [
    "ResidualCertificate",
    "ResidualForms",
    "certify_residual",
    "field_forms",
    "residual_forms",
    "residual_enclosure",
    "signed_integrals",
    "square_integrals",
    "certified_sup",
    "check_certify_args",
]


#: refinement stops once a gap is below this (``2⁻⁹⁰⁰ ≈ 1e-271``): the outward rounding of an exactly zero
#: residual leaves bounds of a few subnormals, which no refinement removes
NEGLIGIBLE = 2.0**-900


@dataclass
class ResidualCertificate:
    """Proved bounds on the residual of a trained net over the problem's space–time box.

    ``sup_abs``: ``(lower, upper)`` of ``sup_Ω |R_c|`` per residual component ``c``; ``integral``: ``(lower,
    upper)`` of ``∫_Ω Σ_c R_c²``; ``boxes_sup``/``boxes_integral``: the boxes of the final partitions;
    ``seconds``: certification time."""

    sup_abs: List[Tuple[float, float]]
    integral: Tuple[float, float]
    boxes_sup: int
    boxes_integral: int
    seconds: float
    is_bound: bool = True
    estimated: bool = False
    what: str = "residual"
    components: List[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = {f"sup_abs/{n}/upper": hi for n, (_, hi) in zip(self.components, self.sup_abs)}
        out.update({f"sup_abs/{n}/lower": lo for n, (lo, _) in zip(self.components, self.sup_abs)})
        out.update({"integral/lower": self.integral[0], "integral/upper": self.integral[1]})
        out.update({"boxes": self.boxes_sup + self.boxes_integral, "seconds": self.seconds})
        return out


@dataclass
class ResidualForms:
    """The residual over each box in several forms: ``value`` the centred enclosure ``(N, C)`` (mean-value form
    ``R(c) + [∇R](B)·[−ρ, ρ]``, with ``second_order`` also the Taylor form, intersected with the direct interval
    evaluation), ``at_centre`` ``R(c)`` ``(N, C)``, ``slope`` ``[∇R](B)`` ``(N, C, D)``, ``rho`` ``(N, D)``; with
    ``second_order`` also ``grad_centre`` ``∇R(c)`` ``(N, C, D)``, ``hess`` ``[∇²R](B)`` ``(N, C, D, D)`` and the boxes
    ``lo``, ``hi``, ``centre``."""

    value: Interval
    at_centre: Interval
    slope: Interval
    rho: Tensor
    grad_centre: Optional[Interval] = None
    hess: Optional[Interval] = None
    lo: Optional[Tensor] = None
    hi: Optional[Tensor] = None
    centre: Optional[Tensor] = None

    def __getitem__(self, idx) -> "ResidualForms":
        opt = [None if x is None else x[idx] for x in (self.grad_centre, self.hess, self.lo, self.hi, self.centre)]
        return ResidualForms(self.value[idx], self.at_centre[idx], self.slope[idx], self.rho[idx], *opt)

    @staticmethod
    def cat(parts: List["ResidualForms"], dim: int = 0) -> "ResidualForms":
        def icat(name):
            xs = [getattr(p, name) for p in parts]
            return None if any(x is None for x in xs) else Interval.cat(xs, 0)

        def tcat(name):
            xs = [getattr(p, name) for p in parts]
            return None if any(x is None for x in xs) else torch.cat(xs, 0)

        return ResidualForms(
            icat("value"),
            icat("at_centre"),
            icat("slope"),
            tcat("rho"),
            icat("grad_centre"),
            icat("hess"),
            tcat("lo"),
            tcat("hi"),
            tcat("centre"),
        )

    def columns(self, cols) -> "ResidualForms":
        """The forms of the columns ``cols`` alone (boxes and radii shared)."""
        gc = None if self.grad_centre is None else self.grad_centre[:, cols]
        hess = None if self.hess is None else self.hess[:, cols]
        return ResidualForms(
            self.value[:, cols],
            self.at_centre[:, cols],
            self.slope[:, cols],
            self.rho,
            gc,
            hess,
            self.lo,
            self.hi,
            self.centre,
        )

    def square_integral(self, vol: Interval) -> Interval:
        """``∫_B Σ_c R_c²`` for each box, ``(N,)``: the mean-value bound
        (:func:`pinnkit.enclosure.slope.square_integral`) and, with second-order forms, the Taylor bound
        (:func:`pinnkit.enclosure.slope.second_order_square_integral`), intersected."""
        out = square_integral(self.at_centre, self.slope, self.rho, vol)
        if self.hess is not None:
            two = second_order_square_integral(
                self.at_centre, self.grad_centre, self.hess, self.lo, self.hi, self.centre, vol
            )
            out = out.intersect(two)
        return out.sum(-1)


def _as_columns(r: Any, problem: Any) -> Any:
    if not isinstance(r, (Interval, Slope, Slope2)):
        raise ValueError(
            f"{type(problem).__name__}.residual did not return an interval: it must be built from the "
            "Fields it is given (f.u, f.d, f.d2, f.dt, f.laplacian, ...), not from tensors"
        )
    return r if r.dim() == 2 else r.unsqueeze(-1)


def _taylor_form(Rc: Slope, H: Interval, rho: Tensor) -> Interval:
    """``R(c) + ∇R(c)·[−ρ, ρ] + ½ Σ_jk [∇²R](B)_jk [−ρ_j, ρ_j][−ρ_k, ρ_k]`` (``[0, ρ_j²]`` on the diagonal)."""
    lin = centred_form(Rc.v, Rc.g, rho)
    D = rho.shape[1]
    rr = rho.unsqueeze(-1) * rho.unsqueeze(-2)
    box = Interval(down(-rr), up(rr))
    idx = torch.arange(D)
    box.lo[:, idx, idx] = 0.0
    quad = (H * box.unsqueeze(1)).sum(-1).sum(-1) * 0.5
    return lin + quad


def field_forms(
    model: nn.Module,
    lo: Tensor,
    hi: Tensor,
    spatial_dim: int,
    expression: Callable[[Any], Any],
    batch: int = 2048,
    second_order: bool = False,
) -> ResidualForms:
    """:class:`ResidualForms` of ``expression(fields)`` (a residual, a condition residual, any quantity built
    from ``Fields``) over each box ``[lo_i, hi_i]``, in batches of ``batch`` boxes: the expression is evaluated
    once on slopes over the box (``R(B)``, ``[∇R](B)`` and with ``second_order`` ``[∇²R](B)``) and once at the
    box centres. ``second_order`` applies to expressions of first derivatives only (Burgers, Navier–Stokes'
    convective part...); one that asks for second derivatives falls back to first order."""
    parts = []
    for s in range(0, lo.shape[0], batch):
        a, b = lo[s : s + batch], hi[s : s + batch]
        enc = enclose(model, a, b)
        if second_order:
            try:
                R2 = _as_columns(expression(Slope2Fields(enc, a, b, spatial_dim)), expression)
                Rc = _as_columns(expression(CentreSlopeFields(enc, spatial_dim)), expression)
            except NotImplementedError:
                R2 = None
            if R2 is not None and isinstance(R2, Slope2) and isinstance(Rc, Slope):
                value = centred_form(Rc.v, R2.g, enc.rho).intersect(R2.v)
                value = value.intersect(_taylor_form(Rc, R2.H, enc.rho))
                parts.append(ResidualForms(value, Rc.v, R2.g, enc.rho, Rc.g, R2.H, a, b, enc.centre))
                continue
        Rs = _as_columns(expression(SlopeFields(enc, a, b, spatial_dim)), expression)
        Rc = _as_columns(expression(centre_fields(enc, spatial_dim)), expression)
        if not isinstance(Rs, Slope):  # the expression does not depend on the fields
            Rs = Slope(Rs, Interval.point(torch.zeros(tuple(Rs.shape) + (a.shape[1],), dtype=torch.float64)))
        value = centred_form(Rc, Rs.g, enc.rho).intersect(Rs.v)
        parts.append(ResidualForms(value, Rc, Rs.g, enc.rho))
    return ResidualForms.cat(parts)


def residual_forms(model: nn.Module, problem: Any, lo: Tensor, hi: Tensor, batch: int = 2048) -> ResidualForms:
    """:class:`ResidualForms` of ``problem.residual`` over each box (:func:`field_forms`, second order where
    the residual is of first order)."""
    return field_forms(model, lo, hi, problem.spatial_dim, problem.residual, batch, second_order=True)


def residual_enclosure(model: nn.Module, problem: Any, lo: Tensor, hi: Tensor, batch: int = 2048) -> Interval:
    """``R(B)`` for each box ``[lo_i, hi_i]`` (shape ``(N, n_residuals)``): the centred (mean-value) enclosure
    of :func:`residual_forms`."""
    return residual_forms(model, problem, lo, hi, batch).value


def signed_integrals(F: ResidualForms, vol: Interval) -> Interval:
    """``∫_B g_c`` for every box and column ``(N, C)``. With the gradient at the centre ``∇g(c)``
    (``F.grad_centre``): ``g(x) − g(c) − ∇g(c)·(x − c) = ∫_0^1 (∇g(c + s(x−c)) − ∇g(c))·(x − c) ds``, each
    component at most ``dev_i = mag([∂_i g](B) − ∂_i g(c))``, and the linear term integrates to zero over the box
    (``c`` its midpoint, up to ``δ_i`` of rounding), so ``∫_B g ∈ |B| (g(c) + [−m, m])``,
    ``m = Σ_i dev_i ρ_i/2 + Σ_i mag(∂_i g(c)) δ_i``: a width ``O(ρ²)`` per unit volume. Without it the
    mean-value theorem gives ``m = Σ_i mag([∂_i g](B)) ρ_i/2``."""
    rho = F.rho.unsqueeze(1)
    if F.grad_centre is None:
        m = (F.slope.mag() * rho).sum(-1) * 0.5
    else:
        gc = F.grad_centre
        dev = torch.maximum(F.slope.hi - gc.lo, gc.hi - F.slope.lo)
        delta = (torch.maximum(F.lo.abs(), F.hi.abs()) * 2.0**-52 + 2.0**-1074).unsqueeze(1)
        m = (dev * rho).sum(-1) * 0.5 + (gc.mag() * delta).sum(-1)
    m = torch.nextafter(m * (1 + 2.0**-50), torch.tensor(math.inf))
    return (F.at_centre + Interval(-m, m)) * vol.unsqueeze(1)


def square_integrals(F: ResidualForms, vol: Interval) -> Interval:
    """``∫_B |R|²`` for each box: the tighter of the mean-value bound (:meth:`ResidualForms.square_integral`)
    and the Darboux bounds ``vol · [inf, sup]_B |R|²``, both proved, so their intersection is too."""
    sq = F.value[:, 0].square()
    for c in range(1, F.value.shape[1]):
        sq = sq + F.value[:, c].square()
    darboux = vol * sq
    darboux = Interval(torch.clamp(darboux.lo, min=0.0), darboux.hi)
    return F.square_integral(vol).intersect(darboux)


def refine(
    lo: Tensor,
    hi: Tensor,
    F: Interval,
    score: Tensor,
    fn: Callable[[Tensor, Tensor], Interval],
    scale: Tensor,
    max_boxes: int,
) -> Tuple[Tensor, Tensor, Interval, Tensor, Tensor]:
    """One refinement round of a box partition carrying enclosures ``F = fn(lo, hi)``: the quarter of the
    boxes with the largest ``score`` (fewer where ``max_boxes`` would be passed) is bisected and ``fn`` is
    evaluated on the halves. Returns the new partition and its enclosures, then the new halves alone."""
    n = lo.shape[0]
    k = max(1, min(n, max_boxes // 2 - n // 2, int(0.25 * n) + 1))
    order = torch.argsort(score, descending=True)
    split, rest = order[:k], order[k:]
    nlo, nhi = bisect(lo[split], hi[split], scale)
    Fn = fn(nlo, nhi)
    lo, hi = torch.cat([lo[rest], nlo]), torch.cat([hi[rest], nhi])
    return lo, hi, type(F).cat([F[rest], Fn], 0), nlo, nhi


def certified_sup(
    fn: Callable[[Tensor, Tensor], Interval],
    lo: Tensor,
    hi: Tensor,
    scale: Tensor,
    *,
    rtol: float = 0.1,
    max_boxes: int = 20_000,
    first: Optional[Interval] = None,
) -> Tuple[float, float, int]:
    """``(lower, upper, boxes)`` with ``lower ≤ sup_{x ∈ ∪B} |f(x)| ≤ upper`` for ``f`` enclosed over boxes by
    ``fn(lo, hi) -> Interval (N,)``: branch and bound. Upper: the largest enclosure magnitude over a cover of
    the region; lower: the largest ``min |f|`` over degenerate boxes at the box centres (a value attained).
    A box whose upper bound is below the best lower bound cannot hold the supremum and is dropped; the boxes
    with the largest upper bounds are bisected (along the widest side in units of ``scale``) until
    ``upper ≤ (1 + rtol) lower`` or the next round would pass ``max_boxes``. ``first``: ``fn(lo, hi)`` if known."""
    F = fn(lo, hi) if first is None else first
    best = 0.0
    new_lo, new_hi = lo, hi  # boxes whose centres are not evaluated yet
    while True:
        centre = Interval(new_lo, new_hi).mid()
        best = max(best, float(fn(centre, centre.clone()).mig().max()))
        mag = F.mag()
        top = float(mag.max())
        keep = mag >= best  # cannot hold the supremum otherwise
        lo, hi, mag, F = lo[keep], hi[keep], mag[keep], F[keep]
        if top <= (1.0 + rtol) * best + NEGLIGIBLE or lo.shape[0] * 2 > max_boxes:
            return best, top, lo.shape[0]
        lo, hi, F, new_lo, new_hi = refine(lo, hi, F, mag, fn, scale, max_boxes)


def check_certify_args(model: nn.Module, problem: Any, rtol: float, max_boxes: int, initial_boxes: int) -> None:
    """The checks every certificate makes before any work: a supported net, a Problem, and the budgets."""
    if not isinstance(model, nn.Module) or not supports(model):
        raise ValueError(
            "model must be a pinnkit MLP or ResidualMLP with tanh or sin (no hard-constraint wrapper), got "
            f"{type(model).__name__}"
        )
    if not hasattr(problem, "residual") or not hasattr(problem, "input_lower"):
        raise ValueError(f"problem must be a pinnkit Problem, got {problem!r}")
    if not getattr(problem, "on_box", True):
        raise ValueError(
            f"certificates partition a box into boxes; {problem.name} lives on "
            f"{problem.spatial_domain.describe()}, which they do not cover"
        )
    check_real("rtol", rtol, 0.0, 10.0)
    check_int("initial_boxes", initial_boxes, 1, 10**5)
    check_int("max_boxes", max_boxes, initial_boxes, 10**7)


def certify_residual(
    model: nn.Module,
    problem: Any,
    *,
    rtol: float = 0.1,
    max_boxes: int = 20_000,
    initial_boxes: int = 256,
    batch: int = 2048,
) -> ResidualCertificate:
    """Certified ``sup_Ω |R_c|`` (each component) and ``∫_Ω |R|²`` of ``model`` on ``problem`` (module
    docstring). ``rtol``: refine until ``upper ≤ (1 + rtol) lower`` (sup) and ``upper − lower ≤ rtol · upper``
    (integral), or until ``max_boxes`` boxes are in a partition; ``initial_boxes``: the starting grid."""
    check_certify_args(model, problem, rtol, max_boxes, initial_boxes)
    check_int("batch", batch, 1, 10**6)
    t0 = time.perf_counter()
    model = copy.deepcopy(model).double()  # the user's model is left as it is
    lower = torch.tensor(problem.input_lower, dtype=torch.float64)
    upper = torch.tensor(problem.input_upper, dtype=torch.float64)
    scale = upper - lower
    lo0, hi0 = grid_boxes(lower, upper, per_axis_for(initial_boxes, scale.tolist()))

    def forms(lo: Tensor, hi: Tensor) -> ResidualForms:
        return residual_forms(model, problem, lo, hi, batch)

    # ---- sup |R_c|, per component: branch and bound
    F0 = forms(lo0, hi0)
    R0 = F0.value
    n_comp = R0.shape[1]
    sups: List[Tuple[float, float]] = []
    boxes_sup = 0
    for c in range(n_comp):

        def fn(lo: Tensor, hi: Tensor, c: int = c) -> Interval:
            return forms(lo, hi).value[:, c]

        s_lo, s_hi, n = certified_sup(fn, lo0, hi0, scale, rtol=rtol, max_boxes=max_boxes, first=R0[:, c])
        sups.append((s_lo, s_hi))
        boxes_sup = max(boxes_sup, n)

    # ---- ∫ |R|²: box sums of the mean-value integral bounds, refining the largest gaps
    lo, hi, F = lo0, hi0, F0
    while True:
        contrib = square_integrals(F, volumes(lo, hi))
        total = contrib.sum(0)
        low, high = max(0.0, float(total.lo)), float(total.hi)
        if high - low <= rtol * high + NEGLIGIBLE or lo.shape[0] * 2 > max_boxes:
            break
        lo, hi, F, _, _ = refine(lo, hi, F, contrib.hi - contrib.lo, forms, scale, max_boxes)
    names = [f"R{c}" for c in range(n_comp)]
    return ResidualCertificate(
        sup_abs=sups,
        integral=(low, high),
        boxes_sup=boxes_sup,
        boxes_integral=lo.shape[0],
        seconds=time.perf_counter() - t0,
        components=names,
    )
