"""Box partitions of a domain and their refinement: uniform grids, bisection along the widest side (relative to
the domain), and volumes enclosed in interval arithmetic."""

from __future__ import annotations

import math
from typing import Sequence, Tuple

import torch
from torch import Tensor

from .interval import Interval, down, up

__all__ = ["grid_boxes", "bisect", "bisect_along", "volumes", "per_axis_for"]


def grid_boxes(lower: Sequence[float], upper: Sequence[float], per_axis: Sequence[int]) -> Tuple[Tensor, Tensor]:
    """A uniform partition of ``[lower, upper]`` into ``Π per_axis`` boxes: ``(lo, hi)`` of shape ``(N, D)``.
    Neighbouring boxes share their faces exactly (the same float64 cut points), so the boxes cover the domain."""
    lower = torch.as_tensor(lower, dtype=torch.float64)
    upper = torch.as_tensor(upper, dtype=torch.float64)
    cuts = []
    for a, b, n in zip(lower.tolist(), upper.tolist(), per_axis):
        c = torch.linspace(a, b, int(n) + 1, dtype=torch.float64)
        c[0], c[-1] = a, b
        cuts.append(c)
    los = torch.meshgrid(*[c[:-1] for c in cuts], indexing="ij")
    his = torch.meshgrid(*[c[1:] for c in cuts], indexing="ij")
    return torch.stack([g.reshape(-1) for g in los], 1), torch.stack([g.reshape(-1) for g in his], 1)


def bisect(lo: Tensor, hi: Tensor, scale: Tensor) -> Tuple[Tensor, Tensor]:
    """Split each box in two along its widest side measured in units of ``scale`` (the domain's extent per
    axis); the two halves share the cut point, so they cover the box. Returns ``2N`` boxes."""
    return bisect_along(lo, hi, ((hi - lo) / scale).argmax(1))


def bisect_along(lo: Tensor, hi: Tensor, axis: Tensor) -> Tuple[Tensor, Tensor]:
    """Split box ``i`` in two at the midpoint of axis ``axis[i]``; the halves share the cut point. Returns
    ``2N`` boxes (the lower halves first)."""
    rows = torch.arange(lo.shape[0])
    mid = lo[rows, axis] + 0.5 * (hi[rows, axis] - lo[rows, axis])
    hi1, lo2 = hi.clone(), lo.clone()
    hi1[rows, axis] = mid
    lo2[rows, axis] = mid
    return torch.cat([lo, lo2]), torch.cat([hi1, hi])


def volumes(lo: Tensor, hi: Tensor, dims: Sequence[int] | None = None) -> Interval:
    """``Π_k (hi_k − lo_k)`` over the axes ``dims`` (default all) enclosed (each side rounded outward, products
    in interval arithmetic)."""
    dims = list(range(lo.shape[1])) if dims is None else list(dims)
    if not dims:
        return Interval.point(torch.ones(lo.shape[0], dtype=torch.float64))
    side = Interval(torch.clamp(down(hi - lo), min=0.0), up(hi - lo))
    v = side[:, dims[0]]
    for k in dims[1:]:
        v = v * side[:, k]
    return Interval(torch.clamp(v.lo, min=0.0), v.hi)


def per_axis_for(n_boxes: int, extent: Sequence[float]) -> list:
    """Cells per axis for about ``n_boxes`` boxes, proportional to the extents."""
    D = len(extent)
    total = math.prod(extent)
    side = (total / max(n_boxes, 1)) ** (1.0 / D)
    return [max(1, round(e / side)) for e in extent]
