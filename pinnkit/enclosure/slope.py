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
from typing import Sequence, Tuple

import torch
from torch import Tensor

from .interval import Interval, down, up

__all__ = ["Slope", "Slope2", "centred_form", "square_integral", "second_order_square_integral"]


def _last(x: Interval) -> Interval:
    """``x`` with a trailing axis of length 1 (to broadcast against a gradient)."""
    return x.unsqueeze(-1)


def _neg_dim(dim: int, j: int) -> int:
    """Axis ``dim`` of a value as an axis of a part with ``j`` trailing derivative axes."""
    return dim if dim >= 0 else dim - j


class _Tower:
    """What :class:`Slope` and :class:`Slope2` share: a value and its derivatives over boxes, ``parts[j]`` with
    ``j`` trailing derivative axes, and the rules that act on every part alike (shape, sums, constants,
    ``torch.stack``/``cat`` and the elementary functions dispatched from torch)."""

    __slots__ = ()
    ORDER = 0

    @property
    def parts(self) -> Tuple[Interval, ...]:
        raise NotImplementedError

    @property
    def shape(self) -> torch.Size:
        return self.parts[0].shape

    def dim(self) -> int:
        return self.parts[0].dim()

    def _make(self, parts: Sequence[Interval]) -> "_Tower":
        return type(self)(*parts)

    def _as(self, other) -> "_Tower":
        """``other`` in this tower: itself, or a constant (an interval, number or tensor) with zero derivatives."""
        if isinstance(other, type(self)):
            return other
        if isinstance(other, _Tower):
            raise TypeError("cannot mix first- and second-order slopes")
        v = Interval._as(other)
        D = self.parts[1].shape[-1]
        zeros = [
            Interval.point(torch.zeros(tuple(v.shape) + (D,) * j, dtype=torch.float64))
            for j in range(1, self.ORDER + 1)
        ]
        return self._make([v, *zeros])

    # ------------------------------------------------------------------ shape
    def __getitem__(self, idx) -> "_Tower":
        idx_t = idx if isinstance(idx, tuple) else (idx,)
        ell = any(i is Ellipsis for i in idx_t)
        return self._make([p[idx_t + (slice(None),) * j if ell else idx] for j, p in enumerate(self.parts)])

    def unsqueeze(self, dim: int) -> "_Tower":
        return self._make([p.unsqueeze(_neg_dim(dim, j)) for j, p in enumerate(self.parts)])

    def clone(self) -> "_Tower":
        return self._make([p.clone() for p in self.parts])

    def sum(self, dim: int) -> "_Tower":
        return self._make([p.sum(_neg_dim(dim, j)) for j, p in enumerate(self.parts)])

    def select(self, dim: int, index: int) -> "_Tower":
        return self._make([p.select(_neg_dim(dim, j), index) for j, p in enumerate(self.parts)])

    def prod(self, dim: int) -> "_Tower":
        out = self.select(dim, 0)
        for j in range(1, self.shape[dim]):
            out = out * self.select(dim, j)
        return out

    # ------------------------------------------------------------------ linear arithmetic
    def __add__(self, other) -> "_Tower":
        o = self._as(other)
        return self._make([a + b for a, b in zip(self.parts, o.parts)])

    __radd__ = __add__

    def __neg__(self) -> "_Tower":
        return self._make([-p for p in self.parts])

    def __sub__(self, other) -> "_Tower":
        o = self._as(other)
        return self._make([a - b for a, b in zip(self.parts, o.parts)])

    def __rsub__(self, other) -> "_Tower":
        return self._as(other) - self

    def __rtruediv__(self, other) -> "_Tower":
        return self._as(other) / self

    def __pow__(self, k) -> "_Tower":
        if not isinstance(k, int) or k < 0:
            raise TypeError(f"a {type(self).__name__} can only be raised to a non-negative integer power, got {k!r}")
        if k == 0:
            return self._as(torch.ones_like(self.parts[0].lo))
        if k == 2:
            return self.square()
        out = self
        for _ in range(k - 1):
            out = out * self
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(repr(p) for p in self.parts)})"

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """``torch.stack``/``torch.cat`` of towers (and intervals or tensors as constants), the elementary
        functions of one, ``torch.zeros_like``/``ones_like`` (constants: zero derivatives)."""
        kwargs = kwargs or {}
        unary = {torch.sin: "sin", torch.cos: "cos", torch.tanh: "tanh", torch.exp: "exp"}
        if func in unary and len(args) == 1 and not kwargs:
            return getattr(args[0], unary[func])()
        if func in (torch.zeros_like, torch.ones_like) and len(args) == 1:
            s = args[0]
            return s._as(func(s.parts[0].lo))
        if func in (torch.stack, torch.cat):
            seq = list(args[0])
            dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
            ref = next(p for p in seq if isinstance(p, _Tower))
            parts = [ref._as(p).parts for p in seq]
            return ref._make([func([q[j] for q in parts], dim=_neg_dim(dim, j)) for j in range(ref.ORDER + 1)])
        raise TypeError(f"{getattr(func, '__name__', func)} has no rule for {cls.__name__} (pinnkit.enclosure)")


class Slope(_Tower):
    """Value and gradient enclosures over boxes (module docstring); gradients on the trailing axis."""

    __slots__ = ("v", "g")
    ORDER = 1

    def __init__(self, v: Interval, g: Interval) -> None:
        self.v, self.g = v, g

    @property
    def parts(self) -> Tuple[Interval, ...]:
        return (self.v, self.g)

    @property
    def n_inputs(self) -> int:
        return self.g.shape[-1]

    def __mul__(self, other) -> "Slope":
        o = self._as(other)
        return Slope(self.v * o.v, self.g * _last(o.v) + _last(self.v) * o.g)

    __rmul__ = __mul__

    def __truediv__(self, other) -> "Slope":
        o = self._as(other)
        q = self.v / o.v
        return Slope(q, (self.g - _last(q) * o.g) / _last(o.v))

    def square(self) -> "Slope":
        return Slope(self.v.square(), (2.0 * _last(self.v)) * self.g)

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


def centred_form(at_centre: Interval, slope: Interval, rho: Tensor) -> Interval:
    """``f(c) + Σ_k slope_k · [−ρ_k, ρ_k]`` (sum over the trailing axis of ``slope``; ``rho`` of shape
    ``(N, D)`` broadcast over the middle axes), computed as ``f(c) ± Σ_k mag(slope_k) ρ_k``."""
    r = rho
    while r.dim() < slope.lo.dim():
        r = r.unsqueeze(1)
    return at_centre.widened(slope.spread(r))


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


def _last2(x: Interval) -> Interval:
    return x.unsqueeze(-1).unsqueeze(-1)


def _outer(a: Interval, b: Interval) -> Interval:
    """``a bᵀ`` over the trailing axis (``(…, D)`` → ``(…, D, D)``)."""
    return a.unsqueeze(-1) * b.unsqueeze(-2)


class Slope2(_Tower):
    """Value, gradient and Hessian enclosures over boxes (``v`` ``S``, ``g`` ``S + (D,)``, ``H`` ``S + (D, D)``),
    carried by the second-order forward rules: ``(ab)'' = a H_b + b H_a + g_a g_bᵀ + g_b g_aᵀ``,
    ``f(a)'' = f''(a) g_a g_aᵀ + f'(a) H_a``. Over a box, ``H`` encloses the Hessian of the expression at every
    point, which bounds the remainder of its first-order Taylor polynomial about the centre
    (:func:`second_order_square_integral`)."""

    __slots__ = ("v", "g", "H")
    ORDER = 2

    def __init__(self, v: Interval, g: Interval, H: Interval) -> None:
        self.v, self.g, self.H = v, g, H

    @property
    def parts(self) -> Tuple[Interval, ...]:
        return (self.v, self.g, self.H)

    def __mul__(self, other) -> "Slope2":
        o = self._as(other)
        cross = _outer(self.g, o.g)
        H = _last2(self.v) * o.H + _last2(o.v) * self.H + cross + cross.transpose(-1, -2)
        return Slope2(self.v * o.v, self.g * _last(o.v) + _last(self.v) * o.g, H)

    __rmul__ = __mul__

    def reciprocal(self) -> "Slope2":
        r = Interval.from_value(1.0) / self.v
        r2 = r.square()
        g = _last(-r2) * self.g
        H = _last2(2.0 * r2 * r) * _outer(self.g, self.g) - _last2(r2) * self.H
        return Slope2(r, g, H)

    def __truediv__(self, other) -> "Slope2":
        return self * self._as(other).reciprocal()

    def square(self) -> "Slope2":
        return Slope2(
            self.v.square(), (2.0 * _last(self.v)) * self.g, 2.0 * (_outer(self.g, self.g) + _last2(self.v) * self.H)
        )

    def _chain(self, f0: Interval, f1: Interval, f2: Interval) -> "Slope2":
        return Slope2(f0, _last(f1) * self.g, _last2(f2) * _outer(self.g, self.g) + _last2(f1) * self.H)

    def sin(self) -> "Slope2":
        s, c = self.v.sin(), self.v.cos()
        return self._chain(s, c, -s)

    def cos(self) -> "Slope2":
        s, c = self.v.sin(), self.v.cos()
        return self._chain(c, -s, -c)

    def exp(self) -> "Slope2":
        e = self.v.exp()
        return self._chain(e, e, e)

    def tanh(self) -> "Slope2":
        t = self.v.tanh()
        s1 = 1.0 - t.square()
        return self._chain(t, s1, (-2.0 * t) * s1)


def second_order_square_integral(
    at_centre: Interval, grad_centre: Interval, hess_box: Interval, lo: Tensor, hi: Tensor, c: Tensor, vol: Interval
) -> Interval:
    r"""Enclosure of ``∫_B f²`` from ``f(c)``, ``∇f(c)`` and the Hessian enclosure over ``B`` (per box and
    component: ``at_centre`` ``(N, C)``, ``grad_centre`` ``(N, C, D)``, ``hess_box`` ``(N, C, D, D)``).

    Taylor: ``f = L + q`` with ``L(x) = f(c) + ∇f(c)·(x − c)`` and ``|q(x)| ≤ ½ Σ_jk |H_jk| |x_j − c_j||x_k − c_k|``.
    About the exact centre ``m`` of the box, ``L = C₀ + Σ_k g_k (x_k − m_k)`` with ``C₀ = f(c) + g·(m − c)``, so
    (odd moments vanish) ``‖L‖²_{L²(B)} = vol (C₀² + Σ_k g_k² ρ̃_k²/3)``, ``ρ̃`` the half widths; and
    ``‖q‖ ≤ ½ √vol Σ_jk |H_jk| κ_jk`` with ``κ_jk = ρ_j ρ_k/3`` (``j ≠ k``) and ``ρ_j²/√5`` (``j = k``) since
    ``∫(x − c)⁴ ≤ vol ρ⁴/5``, ``ρ ≥ |x − c|``. Then ``(‖L‖ − ‖q‖)⁺ ≤ ‖f‖ ≤ ‖L‖ + ‖q‖``. The gap is of order
    ``|H| ρ²`` relative to the value, against ``|∇f| ρ`` for :func:`square_integral`. ``vol`` ``(N,)`` is the
    measure of each box over the axes integrated (a box may be degenerate along others, as a face or an
    initial slice is: those have ``ρ = 0`` and add nothing to the Taylor terms)."""
    half = Interval(down((hi - lo) * 0.5), up((hi - lo) * 0.5))  # exact half widths, enclosed
    m = Interval(lo) + half  # the exact centre, enclosed
    delta = Interval.point(c) - m  # c − m (tiny)
    gd = (grad_centre * delta.unsqueeze(1)).sum(-1)
    C0 = at_centre - gd
    f64 = torch.float64
    third = Interval(torch.tensor(1.0 / 3.0 - 1e-16, dtype=f64), torch.tensor(1.0 / 3.0 + 1e-16, dtype=f64))
    lin = C0.square() + (grad_centre.square() * (half.square() * third).unsqueeze(1)).sum(-1)
    rho = Interval(lo, hi).rad(c)
    D = lo.shape[1]
    inv_sqrt5 = Interval(
        torch.tensor(0.4472135954999579 - 1e-15, dtype=f64), torch.tensor(0.447213595499958 + 1e-15, dtype=f64)
    )
    kap = Interval.point(rho.unsqueeze(-1) * rho.unsqueeze(-2)) * third  # (N, D, D)
    diag = Interval.point(rho.square()) * inv_sqrt5
    idx = torch.arange(D)
    kap.lo[:, idx, idx], kap.hi[:, idx, idx] = diag.lo, diag.hi
    q = (Interval.point(hess_box.mag()) * kap.unsqueeze(1)).sum(-1).sum(-1) * 0.5  # (N, C), per √vol
    normL_hi = Interval.point(lin.hi).sqrt()
    normL_lo = Interval.point(torch.clamp(lin.lo, min=0.0)).sqrt()
    upper = (normL_hi + q).square() * vol.unsqueeze(-1)
    low = normL_lo - q
    low = Interval(torch.clamp(low.lo, min=0.0), torch.clamp(low.lo, min=0.0))
    lower = low.square() * vol.unsqueeze(-1)
    return Interval(lower.lo, upper.hi)
