"""Families of boxes over time slabs, each carrying the enclosures of one expression, and their per-slab
aggregates (a maximum, a sum of ``∫_B f²``, or a sum of ``measure × sup_B f`` taken over the elementary time
intervals): the bookkeeping the certified bounds of :mod:`.blowup_certified` and :mod:`.parabolic` refine."""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from pinnkit.enclosure.boxes import bisect_along, volumes

from .certified import NEGLIGIBLE, ResidualForms, square_integrals

__all__ = ["BoxFamily", "box_memory", "check_box_memory", "refine_families", "slab_grid", "slab_sum", "split_axes"]

_INF = math.inf


def box_memory(width: int, D: int, n_out: int, max_boxes: int, batch: int) -> Dict[str, int]:
    """Bytes (estimates) a certificate holds: ``"boxes"``, every stored box with its corners and centre and the
    enclosures of an expression, its gradient and Hessian (``8 · 2 · (n_out (3 + 2D + D²) + 4D)``, doubled for
    the bookkeeping); ``"batch"``, one batch of interval jets to third order of every hidden unit
    (``16 · width · (1 + D + D² + D³)`` bytes, about 12 live copies: measured 0.7 GiB above the process for a
    30-wide net in 2+1 dimensions at 4096)."""
    per_box = 2 * 16 * (n_out * (3 + 2 * D + D * D) + 4 * D)
    return {
        "boxes": int(max_boxes) * per_box,  # integers: exact for any budget, however large
        "batch": 12 * int(batch) * 16 * int(width) * (1 + D + D * D + D**3),
    }


def check_box_memory(model, D: int, n_out: int, max_boxes: int, batch: int) -> None:
    """Refuse, before any work, a box budget or batch whose memory (:func:`box_memory`) would not fit."""
    from torch import nn

    from pinnkit.preflight import check_memory

    width = max((m.out_features for m in model.modules() if isinstance(m, nn.Linear)), default=1)
    need = box_memory(width, D, n_out, max_boxes, batch)
    check_memory("max_boxes", max_boxes, need["boxes"], "the certificate's boxes")
    check_memory("batch", batch, need["batch"], "one batch of enclosures")


def slab_sum(values: Tensor, slab: Tensor, K: int, upward: bool) -> Tensor:
    """Per-slab sums of ``values`` with their rounding accounted for: ``|fl(Σx) − Σx| ≤ γ_n Σ|x|`` (Higham
    §4.2), added (``upward``) or subtracted."""
    s = torch.zeros(K, dtype=torch.float64).index_add_(0, slab, values)
    a = torch.zeros(K, dtype=torch.float64).index_add_(0, slab, values.abs())
    n = torch.zeros(K, dtype=torch.float64).index_add_(0, slab, torch.ones_like(values))
    g = (n + 1) * 2.0**-53 / (1 - (n + 1) * 2.0**-53)
    err = 2.0 * g * a + n * 2.0**-1022
    return torch.nextafter(s + err, torch.tensor(_INF)) if upward else torch.nextafter(s - err, torch.tensor(-_INF))


class BoxFamily:
    """One family of boxes (per slab) and the enclosures of one expression over them.

    ``kind``: ``"max"`` (per-slab maximum of the expression, over all its columns: an expression returning
    ``stack([f, −f])`` gives ``sup |f|``), ``"sumsq"`` (per-slab sum of ``∫_B |f|²`` over
    ``measure_dims``), ``"sum"`` (per-slab sum of ``measure × sup_B f``)."""

    def __init__(self, name, kind, expr, lo, hi, slab, K, measure_dims, split_axes, evaluate_fn, feeds=None):
        self.name, self.kind, self.expr, self.K = name, kind, expr, K
        #: the name of the certified constant this family's aggregate feeds (default: its own name)
        self.feeds = name if feeds is None else feeds
        self.measure_dims, self.split_axes = list(measure_dims), list(split_axes)
        self._eval = evaluate_fn
        self.lo, self.hi, self.slab = lo, hi, slab
        self.F: ResidualForms = self._eval(expr, lo, hi)
        self._contrib()

    def _contrib(self) -> None:
        if self.kind != "max":
            self.c_hi, self.c_lo = self._contributions(self.F, self.lo, self.hi)

    def _contributions(self, F: ResidualForms, lo: Tensor, hi: Tensor) -> Tuple[Tensor, Tensor]:
        """Per box, the upper and lower ends of what it adds to its slab: ``∫_B |f|²`` (``"sumsq"``) or
        ``measure × f`` (``"sum"``: the upper end over the box, the value at its centre)."""
        w = volumes(lo, hi, self.measure_dims)
        if self.kind == "sumsq":
            c = square_integrals(F, w)
            return c.hi, torch.clamp(c.lo, min=0.0)
        return (w * F.value[:, 0]).hi, (w * F.at_centre[:, 0]).lo

    def n(self) -> int:
        return self.lo.shape[0]

    def _top(self) -> Tensor:
        """Upper end of each box's enclosure, the largest over the expression's columns (``"max"``)."""
        return self.F.value.hi.amax(1)

    def aggregate(self) -> Tuple[Tensor, Tensor]:
        """``(upper, lower)`` per slab: the certified constant, and its value in the limit of fine boxes (a lower
        end of what it can become)."""
        K = self.K
        if self.kind == "max":
            up_ = torch.full((K,), -_INF, dtype=torch.float64).scatter_reduce(
                0, self.slab, self._top(), "amax", include_self=True
            )
            lo_ = torch.full((K,), -_INF, dtype=torch.float64).scatter_reduce(
                0, self.slab, self.F.at_centre.lo.amax(1), "amax", include_self=True
            )
            return up_, lo_
        if self.kind == "sumsq":
            return slab_sum(self.c_hi, self.slab, K, True), slab_sum(self.c_lo, self.slab, K, False)
        return self._sup_in_time(self.c_hi, True), self._sup_in_time(self.c_lo, False)

    def _sup_in_time(self, c: Tensor, upward: bool) -> Tensor:
        """``sup_{t ∈ slab} Σ_{boxes B ∋ t} c_B`` per slab (for ``"sum"`` families, whose boxes may be split in
        time: at a time ``t`` only the boxes over ``t`` count, so the sum is taken on every elementary interval
        between the boxes' time cuts and the largest is kept; sums rounded outward, :func:`slab_sum`)."""
        out = torch.full((self.K,), -_INF, dtype=torch.float64)
        tlo, thi = self.lo[:, -1], self.hi[:, -1]
        order = torch.argsort(self.slab)
        slab_sorted = self.slab[order]
        counts = torch.bincount(slab_sorted, minlength=self.K).tolist()
        start = 0
        for k, n in enumerate(counts):
            if n == 0:
                continue
            idx = order[start : start + n]
            start += n
            cuts = torch.unique(torch.cat([tlo[idx], thi[idx]]))
            mids = 0.5 * (cuts[:-1] + cuts[1:]) if cuts.numel() > 1 else cuts
            cover = (tlo[idx][None, :] <= mids[:, None]) & (mids[:, None] <= thi[idx][None, :])  # (E, n)
            vals = c[idx][None, :].expand(cover.shape[0], -1)
            vals = torch.where(cover, vals, torch.zeros_like(vals))
            E = vals.shape[0]
            sums = slab_sum(vals.reshape(-1), torch.arange(E).repeat_interleave(n), E, upward)
            out[k] = sums.max()
        return out

    def scores(self, sens: Tensor, lower: Tensor) -> Tensor:
        """``sensitivity × gap`` of each box (``sens``, ``lower``: per slab). For a maximum only the boxes in the
        upper half of the slab's gap count, and each gets ``1/n`` of it when ``n`` boxes are there: the maximum
        falls only once all the top boxes are split (a flat maximum needs every one of them)."""
        if self.kind == "max":
            hi = self._top()
            top = torch.full((self.K,), -_INF, dtype=torch.float64).scatter_reduce(0, self.slab, hi, "amax")
            gap = torch.clamp(hi - lower[self.slab], min=0.0)
            near = hi >= top[self.slab] - 0.5 * (top[self.slab] - lower[self.slab])
            n_near = torch.zeros(self.K, dtype=torch.float64).index_add_(0, self.slab, near.double())
            gap = torch.where(near, gap / n_near[self.slab].clamp(min=1.0), torch.zeros_like(gap))
        else:
            gap = torch.clamp(self.c_hi - self.c_lo, min=0.0)
        return sens.abs()[self.slab] * gap

    def drop_dominated(self, lower: Tensor) -> None:
        """``max`` boxes whose upper bound is below the slab's best attained value cannot hold the maximum."""
        if self.kind != "max":
            return
        keep = self._top() >= lower[self.slab]
        if not bool(keep.all()):
            self._select(keep)

    def _select(self, idx) -> None:
        self.lo, self.hi, self.slab, self.F = self.lo[idx], self.hi[idx], self.slab[idx], self.F[idx]
        if self.kind != "max":
            self.c_hi, self.c_lo = self.c_hi[idx], self.c_lo[idx]

    def split(self, idx: Tensor) -> int:
        """Bisect the boxes ``idx`` along the allowed axis with the largest ``|slope_k| ρ_k``."""
        if idx.numel() == 0:
            return 0
        axis = split_axes(self.F[idx], self.lo[idx], self.hi[idx], self.split_axes)
        nlo, nhi = bisect_along(self.lo[idx], self.hi[idx], axis)
        new_slab = self.slab[idx].repeat(2)
        keep = torch.ones(self.n(), dtype=torch.bool)
        keep[idx] = False
        self._select(keep)
        Fn = self._eval(self.expr, nlo, nhi)
        self.lo, self.hi = torch.cat([self.lo, nlo]), torch.cat([self.hi, nhi])
        self.slab = torch.cat([self.slab, new_slab])
        self.F = ResidualForms.cat([self.F, Fn])
        if self.kind != "max":
            nc_hi, nc_lo = self._contributions(Fn, nlo, nhi)
            self.c_hi, self.c_lo = torch.cat([self.c_hi, nc_hi]), torch.cat([self.c_lo, nc_lo])
        return nlo.shape[0]


def split_axes(F: Any, lo: Tensor, hi: Tensor, allowed: Sequence[int]) -> Tensor:
    """For each box, the axis among ``allowed`` to bisect: the largest effect ``max_c |[∂_k R_c](B)| ρ_k`` of a
    side on the enclosure's width, or the widest allowed side where every slope vanishes. ``F`` is the boxes'
    :class:`~theory.certified.ResidualForms`."""
    G = F.slope.mag().amax(1) * F.rho  # (n, D)
    mask = torch.full_like(G, -1.0)
    mask[:, allowed] = G[:, allowed]
    axis = mask.argmax(1)
    flat = mask.max(1).values <= 0
    if bool(flat.any()):
        width = (hi - lo)[:, allowed]
        axis[flat] = torch.as_tensor(allowed)[width[flat].argmax(1)]
    return axis


def slab_grid(
    lower: List[float], upper: List[float], times: np.ndarray, per_axis: List[int]
) -> Tuple[Tensor, Tensor, Tensor]:
    """Boxes ``cells × [τ_k, τ_{k+1}]`` for every slab ``k``: ``lo``, ``hi`` ``(K·C, d+1)`` and the slab index."""
    from pinnkit.enclosure.boxes import grid_boxes

    if len(per_axis) == 0:  # a point (the faces of a 1-D domain)
        clo = chi = torch.zeros(1, 0, dtype=torch.float64)
    else:
        clo, chi = grid_boxes(lower, upper, per_axis)
    K, C = len(times) - 1, clo.shape[0]
    tau = torch.as_tensor(np.asarray(times, dtype=np.float64))
    lo = torch.cat([clo.repeat(K, 1), tau[:-1].repeat_interleave(C)[:, None]], 1)
    hi = torch.cat([chi.repeat(K, 1), tau[1:].repeat_interleave(C)[:, None]], 1)
    return lo, hi, torch.arange(K).repeat_interleave(C)


def refine_families(
    families: Sequence[BoxFamily],
    constants: Callable[[int], Dict[str, Tensor]],
    bound: Callable[[Dict[str, Tensor]], float],
    smooth: Callable[[Dict[str, Tensor]], Tensor],
    max_boxes: int,
    rtol: float,
) -> Tuple[Dict[str, Tensor], float, float, int]:
    """Refine the box families of a certified bound until it is within ``rtol`` of its limit.

    ``constants(0)`` are the certified constants (upper ends, per slab, by name) the families' aggregates make,
    ``constants(1)`` their lower ends; ``bound(c)`` the proved bound from them (rounded outward), ``smooth(c)``
    the same formula in plain differentiable floating point (only to rank boxes). Each round ranks every box by
    ``|∂ smooth/∂ constant| × gap`` (the constant it feeds, at its slab) and bisects the top quarter (fewer where
    ``max_boxes`` would be passed); it stops when ``√(bound/limit) ≤ 1 + rtol`` (``limit = smooth(constants(1))``,
    what refinement converges towards), when the budget is spent or nothing can improve. Returns
    ``(constants(0), bound, limit, rounds)``."""
    rounds = 0
    while True:
        up, low = constants(0), constants(1)
        value = bound(up)
        with torch.no_grad():
            limit = float(smooth(low))
        total = sum(f.n() for f in families)
        if value <= NEGLIGIBLE or math.sqrt(value / max(limit, 1e-300)) <= 1.0 + rtol or total >= max_boxes:
            return up, value, limit, rounds
        q = {k: v.detach().clone().requires_grad_(True) for k, v in up.items()}
        grads = torch.autograd.grad(smooth(q), list(q.values()), allow_unused=True)
        sens = {k: (torch.zeros_like(q[k]) if g is None else g).reshape(-1) for k, g in zip(q, grads)}
        scores, owners, local = [], [], []
        for i, f in enumerate(families):
            lower = f.aggregate()[1] if f.kind == "max" else None
            if lower is not None:
                f.drop_dominated(lower)
            scores.append(f.scores(sens[f.feeds], lower))
            owners.append(torch.full((f.n(),), i, dtype=torch.long))
            local.append(torch.arange(f.n()))
        sc, own, loc = torch.cat(scores), torch.cat(owners), torch.cat(local)
        sc = torch.nan_to_num(sc, nan=0.0, posinf=0.0)
        n_split = max(1, min(int(0.25 * sc.numel()) + 1, max_boxes - sc.numel()))
        top = torch.argsort(sc, descending=True)[:n_split]
        top = top[sc[top] > 0]
        if top.numel() == 0:
            return up, value, limit, rounds
        for i, f in enumerate(families):
            f.split(loc[top[own[top] == i]])
        rounds += 1
