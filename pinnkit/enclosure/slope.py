"""Interval slopes: enclosures of a quantity and of its gradient over a box, carried together through
arithmetic, so that any expression built from a net's fields gets a mean-value (centred) form.

A :class:`Slope` holds ``v ⊇ {f(x) : x ∈ B}`` (shape ``S``) and ``g ⊇ {∇f(x) : x ∈ B}`` (shape ``S + (D,)``).
Sums, products, quotients, squares, ``sin``/``cos``/``exp``/``tanh``, indexing, ``torch.stack``/``torch.cat``
follow the rules of first-order forward differentiation (sum, product, quotient and chain rules) evaluated
in the outward-rounded interval arithmetic of :mod:`pinnkit.enclosure.interval`; by the inclusion property
every result still encloses the exact value and gradient at every point of the box. With ``f(c)`` enclosed at
a point ``c`` of the box (the same expression on degenerate boxes), the mean-value theorem
``f(x) = f(c) + ∇f(ξ)·(x − c)``, ``ξ ∈ B`` gives the centred form

    f(B) ⊆ f(c) + Σ_k g_k · [−ρ_k, ρ_k],      ρ_k ≥ |x_k − c_k| on B,

whose width falls like ``ρ`` as the box shrinks, without the dependency losses of evaluating the expression
on intervals (a residual ``u_t + u u_x`` whose two terms nearly cancel is enclosed to the size of its own
gradient times ``ρ``, not to the size of ``u_tt ρ``). This is the slope/mean-value form of Moore, Kearfott &
Cloud, *Introduction to Interval Analysis* (SIAM 2009), §6.4, evaluated with forward-mode derivatives.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .interval import Interval, down, up

__all__ = ["Slope", "centred_form", "square_integral"]


def _last(x: Interval) -> Interval:
    """``x`` with a trailing axis of length 1 (to broadcast against a gradient)."""
    return x.unsqueeze(-1)


class Slope:
    """Value and gradient enclosures over boxes (module docstring); gradients on the trailing axis."""

    __slots__ = ("v", "g")

    def __init__(self, v: Interval, g: Interval) -> None:
        self.v, self.g = v, g

    @property
    def shape(self) -> torch.Size:
        return self.v.shape

    @property
    def n_inputs(self) -> int:
        return self.g.shape[-1]

    def dim(self) -> int:
        return self.v.dim()

    def _as(self, other) -> "Slope":
        if isinstance(other, Slope):
            return other
        v = Interval._as(other)
        zeros = torch.zeros(tuple(v.shape) + (self.n_inputs,), dtype=torch.float64)
        return Slope(v, Interval.point(zeros))

    # ------------------------------------------------------------------ shape
    def __getitem__(self, idx) -> "Slope":
        idx_t = idx if isinstance(idx, tuple) else (idx,)
        gidx = idx_t + (slice(None),) if any(i is Ellipsis for i in idx_t) else idx
        return Slope(self.v[idx], self.g[gidx])

    def unsqueeze(self, dim: int) -> "Slope":
        return Slope(self.v.unsqueeze(dim), self.g.unsqueeze(dim if dim >= 0 else dim - 1))

    def clone(self) -> "Slope":
        return Slope(self.v.clone(), self.g.clone())

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other) -> "Slope":
        o = self._as(other)
        return Slope(self.v + o.v, self.g + o.g)

    __radd__ = __add__

    def __neg__(self) -> "Slope":
        return Slope(-self.v, -self.g)

    def __sub__(self, other) -> "Slope":
        o = self._as(other)
        return Slope(self.v - o.v, self.g - o.g)

    def __rsub__(self, other) -> "Slope":
        return self._as(other) - self

    def __mul__(self, other) -> "Slope":
        o = self._as(other)
        return Slope(self.v * o.v, self.g * _last(o.v) + _last(self.v) * o.g)

    __rmul__ = __mul__

    def __truediv__(self, other) -> "Slope":
        o = self._as(other)
        q = self.v / o.v
        return Slope(q, (self.g - _last(q) * o.g) / _last(o.v))

    def __rtruediv__(self, other) -> "Slope":
        return self._as(other) / self

    def __pow__(self, k) -> "Slope":
        if not isinstance(k, int) or k < 0:
            raise TypeError(f"a Slope can only be raised to a non-negative integer power, got {k!r}")
        if k == 0:
            return self._as(torch.ones_like(self.v.lo))
        if k == 2:
            return self.square()
        out = self
        for _ in range(k - 1):
            out = out * self
        return out

    def square(self) -> "Slope":
        return Slope(self.v.square(), (2.0 * _last(self.v)) * self.g)

    def sum(self, dim: int) -> "Slope":
        return Slope(self.v.sum(dim), self.g.sum(dim if dim >= 0 else dim - 1))

    def prod(self, dim: int) -> "Slope":
        n = self.shape[dim]
        out = self.select(dim, 0)
        for j in range(1, n):
            out = out * self.select(dim, j)
        return out

    def select(self, dim: int, index: int) -> "Slope":
        return Slope(self.v.select(dim, index), self.g.select(dim if dim >= 0 else dim - 1, index))

    # ------------------------------------------------------------------ elementary functions (chain rule)
    def sin(self) -> "Slope":
        return Slope(self.v.sin(), _last(self.v.cos()) * self.g)

    def cos(self) -> "Slope":
        return Slope(self.v.cos(), _last(-self.v.sin()) * self.g)

    def exp(self) -> "Slope":
        e = self.v.exp()
        return Slope(e, _last(e) * self.g)

    def tanh(self) -> "Slope":
        t = self.v.tanh()
        return Slope(t, _last(1.0 - t.square()) * self.g)

    def __repr__(self) -> str:
        return f"Slope(v={self.v!r}, g={self.g!r})"

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """``torch.stack``/``torch.cat`` of slopes (and intervals or tensors as constants), the elementary
        functions of one, ``torch.zeros_like``/``ones_like`` (constants: zero gradient)."""
        kwargs = kwargs or {}
        unary = {torch.sin: "sin", torch.cos: "cos", torch.tanh: "tanh", torch.exp: "exp"}
        if func in unary and len(args) == 1 and not kwargs:
            return getattr(args[0], unary[func])()
        if func in (torch.zeros_like, torch.ones_like) and len(args) == 1:
            s = args[0]
            return s._as(func(s.v.lo))
        if func in (torch.stack, torch.cat):
            seq = list(args[0])
            dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
            ref = next(p for p in seq if isinstance(p, Slope))
            parts = [ref._as(p) for p in seq]
            gdim = dim if dim >= 0 else dim - 1
            return Slope(func([p.v for p in parts], dim=dim), func([p.g for p in parts], dim=gdim))
        raise TypeError(f"{getattr(func, '__name__', func)} has no slope rule (pinnkit.enclosure.Slope)")


def centred_form(at_centre: Interval, slope: Interval, rho: Tensor) -> Interval:
    """``f(c) + Σ_k slope_k · [−ρ_k, ρ_k]`` (sum over the trailing axis of ``slope``; ``rho`` of shape
    ``(N, D)`` broadcast over the middle axes)."""
    box = Interval(-rho, rho)
    while box.lo.dim() < slope.lo.dim():
        box = box.unsqueeze(1)
    return at_centre + (slope * box).sum(-1)


def square_integral(at_centre: Interval, slope: Interval, rho: Tensor, vol: Interval) -> Interval:
    r"""Enclosure of ``∫_B f² dx`` for each box from ``f(c)`` and the gradient enclosure over ``B``.

    With ``G_k = max |slope_k|``, ``|f(x)| ≤ |f(c)| + Σ_k G_k |x_k − c_k| =: φ(x)`` (mean-value theorem) and, by
    Minkowski's inequality, ``‖φ‖_{L²(B)} ≤ √vol (|f(c)| + Σ_k G_k ρ_k/√3)`` since ``∫_B (x_k − c_k)² dx ≤ vol ρ_k²/3``
    (for ``a = hi − c``, ``b = c − lo``: ``(a³ + b³)/(3(a + b)) = (a² − ab + b²)/3 ≤ max(a, b)²/3``). Likewise
    ``‖f‖_{L²(B)} ≥ √vol (min|f(c)| − Σ_k G_k ρ_k/√3)⁺`` (reverse triangle inequality). Hence

        vol · ((min|f(c)| − s)⁺)² ≤ ∫_B f² ≤ vol · (max|f(c)| + s)²,   s = Σ_k G_k ρ_k / √3,

    a gap of order ``ρ`` relative to the value (the upper Darboux sum's is of order ``|∇f| ρ / |f|`` as well,
    but with ``√3`` more and with the full box width). ``at_centre`` ``(N, ...)``, ``slope`` ``(N, ..., D)``,
    ``vol`` ``(N,)``; returns ``(N, ...)``."""
    G = slope.mag()
    r = rho
    while r.dim() < G.dim():
        r = r.unsqueeze(1)
    c3 = torch.tensor(1.0 / math.sqrt(3.0), dtype=torch.float64)
    inv_sqrt3 = Interval(down(down(c3)), up(up(c3)))  # 1/√3, a few ulps each way
    s = (Interval.point(G) * Interval.point(r)).sum(-1) * inv_sqrt3
    mag_c = at_centre.mag()
    mig_c = torch.where(
        (at_centre.lo <= 0) & (at_centre.hi >= 0),
        torch.zeros_like(mag_c),
        torch.minimum(at_centre.lo.abs(), at_centre.hi.abs()),
    )
    upper = (Interval.point(mag_c) + s).square()
    low_lin = Interval.point(mig_c) - s
    lower = Interval(torch.clamp(low_lin.lo, min=0.0), torch.clamp(low_lin.lo, min=0.0)).square()
    v = vol
    while v.lo.dim() < upper.lo.dim():
        v = v.unsqueeze(-1)
    return Interval((lower * v).lo, (upper * v).hi)
