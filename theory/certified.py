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
import time
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Tuple

import torch
from torch import Tensor, nn

from pinnkit.enclosure.boxes import bisect, grid_boxes, per_axis_for, volumes
from pinnkit.enclosure.fields import IntervalFields
from pinnkit.enclosure.interval import Interval
from pinnkit.enclosure.net import supports
from pinnkit.validation import check_int, check_real

__all__ = ["ResidualCertificate", "certify_residual", "residual_enclosure", "certified_sup", "check_certify_args"]


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


def residual_enclosure(model: nn.Module, problem: Any, lo: Tensor, hi: Tensor, batch: int = 2048) -> Interval:
    """``R(B)`` for each box ``[lo_i, hi_i]`` (shape ``(N, n_residuals)``), in batches of ``batch`` boxes."""
    parts = []
    for s in range(0, lo.shape[0], batch):
        f = IntervalFields(model, lo[s : s + batch], hi[s : s + batch], problem.spatial_dim)
        r = problem.residual(f)
        if not isinstance(r, Interval):
            raise ValueError(
                f"{type(problem).__name__}.residual did not return an interval: it must be built from the "
                "Fields it is given (f.u, f.d, f.d2, f.dt, f.laplacian, ...), not from tensors"
            )
        parts.append(r if r.lo.dim() == 2 else r.unsqueeze(-1))
    return Interval.cat(parts, 0)


def _mig(r: Interval) -> Tensor:
    """``min |x|`` over each interval."""
    straddle = (r.lo <= 0) & (r.hi >= 0)
    return torch.where(straddle, torch.zeros_like(r.lo), torch.minimum(r.lo.abs(), r.hi.abs()))


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
    return lo, hi, Interval.cat([F[rest], Fn], 0), nlo, nhi


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
        best = max(best, float(_mig(fn(centre, centre.clone())).max()))
        mag = F.mag()
        top = float(mag.max())
        keep = mag >= best  # cannot hold the supremum otherwise
        lo, hi, mag, F = lo[keep], hi[keep], mag[keep], F[keep]
        if top <= (1.0 + rtol) * best or lo.shape[0] * 2 > max_boxes:
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

    def residuals(lo: Tensor, hi: Tensor) -> Interval:
        return residual_enclosure(model, problem, lo, hi, batch)

    # ---- sup |R_c|, per component: branch and bound
    R0 = residuals(lo0, hi0)
    n_comp = R0.shape[1]
    sups: List[Tuple[float, float]] = []
    boxes_sup = 0
    for c in range(n_comp):

        def fn(lo: Tensor, hi: Tensor, c: int = c) -> Interval:
            return residuals(lo, hi)[:, c]

        s_lo, s_hi, n = certified_sup(fn, lo0, hi0, scale, rtol=rtol, max_boxes=max_boxes, first=R0[:, c])
        sups.append((s_lo, s_hi))
        boxes_sup = max(boxes_sup, n)

    # ---- ∫ |R|²: Darboux sums with refinement of the largest gaps
    lo, hi, R = lo0, hi0, R0
    while True:
        sq = R[:, 0].square()
        for c in range(1, n_comp):
            sq = sq + R[:, c].square()
        vs = volumes(lo, hi) * sq
        contrib = Interval(torch.clamp(vs.lo, min=0.0), vs.hi)
        total = contrib.sum(0)
        low, high = max(0.0, float(total.lo)), float(total.hi)
        if high - low <= rtol * high or lo.shape[0] * 2 > max_boxes:
            break
        lo, hi, R, _, _ = refine(lo, hi, R, contrib.hi - contrib.lo, residuals, scale, max_boxes)
    names = [f"R{c}" for c in range(n_comp)]
    return ResidualCertificate(
        sup_abs=sups,
        integral=(low, high),
        boxes_sup=boxes_sup,
        boxes_integral=lo.shape[0],
        seconds=time.perf_counter() - t0,
        components=names,
    )
