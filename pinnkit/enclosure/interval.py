"""Rigorous float64 interval arithmetic on torch tensors: every result encloses the exact real result of the
operation on every point of its operands, on a real machine.

An :class:`Interval` holds two float64 tensors ``lo <= hi`` of one shape. How each operation stays sound:

- ``+``, ``−``, ``×`` of endpoints are IEEE-754 correctly rounded (round to nearest), so the exact value lies
  within one ulp of the computed one: each endpoint is moved one ulp outward (``torch.nextafter``).
- A product by a point matrix (:meth:`Interval.linear`) is done in midpoint–radius form (Rump 1999): with
  ``m``, ``r`` the midpoint and an upward radius of the operand, ``y = W m + b`` is computed in floating point
  and the radius ``|W| r + γ_k |W| |m| + u|y|`` bounds both the spread and the rounding error of the dot
  products, ``|fl(x·y) − x·y| ≤ γ_k |x|·|y|``, ``γ_k = k u / (1 − k u)``, ``u = 2⁻⁵³`` (Higham, *Accuracy and
  Stability of Numerical Algorithms*, 2nd ed., Thm 3.1/§3.1; it holds for any order of summation and with
  fused multiply–adds, so for any BLAS that does not use fast matrix multiplication). The computed bounds are
  themselves inflated by ``(1 + 2γ_k)`` and an underflow term ``k · 2⁻¹⁰²²``.
- ``tanh``, ``exp``, ``sin``, ``cos`` of the C library are not correctly rounded; they are accurate to a few ulps
  (glibc's manual lists at most 2–3 ulps for these in double precision). Each endpoint value is padded by
  :data:`LIBM_PAD` (relative ``2⁻⁴⁴``, i.e. 512 ulps, far beyond any documented error) plus ``2⁻¹⁰⁰⁰``,
  and clamped to ``[−1, 1]``. ``tanh`` is monotone; for ``sin``/``cos`` an interval containing a maximiser or
  minimiser (tested with a generous tolerance, so an extremum is never missed) gets ``±1``; an interval wider
  than ``2π`` or with endpoints beyond :data:`TRIG_LIMIT` gets ``[−1, 1]``.
"""

from __future__ import annotations

import math
from typing import Sequence, Union

import torch
from torch import Tensor

__all__ = ["Interval", "U", "LIBM_PAD", "TRIG_LIMIT", "gamma", "down", "up"]

#: unit roundoff of float64
U = 2.0**-53
#: relative padding of a C-library tanh/sin/cos value (512 ulps); absolute padding ``2⁻¹⁰⁰⁰`` on top
LIBM_PAD = 2.0**-44
_ABS_PAD = 2.0**-1000
_UNDERFLOW = 2.0**-1022
#: beyond this magnitude sin/cos of an interval is enclosed by [−1, 1] (argument reduction is not trusted)
TRIG_LIMIT = 1e6
_TWO_PI = 2.0 * math.pi
_TOL = 1e-9  # extremum tests: include an extremum within this distance (far above the rounding of k·2π + π/2)

Number = Union[float, int]


def gamma(k: int) -> float:
    """``γ_k = k u / (1 − k u)``, the relative error bound of a ``k``-term dot product (Higham §3.1)."""
    return k * U / (1.0 - k * U)


_NEG_INF = torch.tensor(-math.inf, dtype=torch.float64)
_POS_INF = torch.tensor(math.inf, dtype=torch.float64)


def down(x: Tensor) -> Tensor:
    """The float64 next below ``x`` (one ulp outward of a correctly rounded result)."""
    return torch.nextafter(x, _NEG_INF.to(x.device))


def up(x: Tensor) -> Tensor:
    """The float64 next above ``x``."""
    return torch.nextafter(x, _POS_INF.to(x.device))


def _pad_down(v: Tensor) -> Tensor:
    return down(v - (v.abs() * LIBM_PAD + _ABS_PAD))


def _pad_up(v: Tensor) -> Tensor:
    return up(v + (v.abs() * LIBM_PAD + _ABS_PAD))


class Interval:
    """A tensor of closed intervals ``[lo, hi]`` (float64), with sound arithmetic (module docstring)."""

    __slots__ = ("lo", "hi")

    def __init__(self, lo: Tensor, hi: Tensor | None = None) -> None:
        lo = torch.as_tensor(lo, dtype=torch.float64)
        hi = lo if hi is None else torch.as_tensor(hi, dtype=torch.float64)
        if lo.shape != hi.shape:
            lo, hi = torch.broadcast_tensors(lo, hi)
        self.lo, self.hi = lo, hi

    # ------------------------------------------------------------------ construction and shape
    @classmethod
    def point(cls, x: Tensor) -> "Interval":
        """The degenerate interval ``[x, x]`` of float64 values ``x`` (exact)."""
        x = torch.as_tensor(x, dtype=torch.float64)
        return cls(x, x.clone())

    @classmethod
    def from_value(cls, x: Number) -> "Interval":
        """An interval enclosing the real number ``x`` given as a Python float or int (one ulp each way when
        the float conversion of an int may round)."""
        t = torch.tensor(float(x), dtype=torch.float64)
        if isinstance(x, int) and float(x) != x:
            return cls(down(t), up(t))
        return cls(t, t.clone())

    @property
    def shape(self) -> torch.Size:
        return self.lo.shape

    def mid(self) -> Tensor:
        """A float64 point inside every interval (not necessarily the exact midpoint)."""
        return torch.minimum(torch.maximum(self.lo + 0.5 * (self.hi - self.lo), self.lo), self.hi)

    def rad(self, m: Tensor | None = None) -> Tensor:
        """An upper bound on ``max(hi − m, m − lo)`` for the point ``m`` (default :meth:`mid`)."""
        m = self.mid() if m is None else m
        return up(torch.maximum(self.hi - m, m - self.lo))

    def width(self) -> Tensor:
        return self.hi - self.lo

    def __getitem__(self, idx) -> "Interval":
        return Interval(self.lo[idx], self.hi[idx])

    def unsqueeze(self, dim: int) -> "Interval":
        return Interval(self.lo.unsqueeze(dim), self.hi.unsqueeze(dim))

    def reshape(self, *shape) -> "Interval":
        return Interval(self.lo.reshape(*shape), self.hi.reshape(*shape))

    def transpose(self, a: int, b: int) -> "Interval":
        return Interval(self.lo.transpose(a, b), self.hi.transpose(a, b))

    def clone(self) -> "Interval":
        return Interval(self.lo.clone(), self.hi.clone())

    def __setitem__(self, idx, value) -> None:
        v = Interval._as(value)
        self.lo[idx] = v.lo
        self.hi[idx] = v.hi

    @property
    def dtype(self) -> torch.dtype:
        return torch.float64

    @property
    def device(self) -> torch.device:
        return self.lo.device

    def dim(self) -> int:
        return self.lo.dim()

    def prod(self, dim: int) -> "Interval":
        """Product along ``dim`` (interval products, outward)."""
        out = self.select(dim, 0)
        for i in range(1, self.shape[dim]):
            out = out * self.select(dim, i)
        return out

    def select(self, dim: int, index: int) -> "Interval":
        return Interval(self.lo.select(dim, index), self.hi.select(dim, index))

    def movedim(self, source: int, destination: int) -> "Interval":
        return Interval(self.lo.movedim(source, destination), self.hi.movedim(source, destination))

    def expand(self, *shape) -> "Interval":
        return Interval(self.lo.expand(*shape), self.hi.expand(*shape))

    @staticmethod
    def cat(parts: Sequence["Interval"], dim: int) -> "Interval":
        return Interval(torch.cat([p.lo for p in parts], dim), torch.cat([p.hi for p in parts], dim))

    def contains(self, x: Tensor) -> Tensor:
        """Elementwise ``lo <= x <= hi``."""
        x = torch.as_tensor(x, dtype=torch.float64)
        return (self.lo <= x) & (x <= self.hi)

    def intersect(self, other: "Interval") -> "Interval":
        """The intersection (both are enclosures of the same quantity, so it is one too)."""
        return Interval(torch.maximum(self.lo, other.lo), torch.minimum(self.hi, other.hi))

    def mag(self) -> Tensor:
        """``max |x|`` over the interval."""
        return torch.maximum(self.lo.abs(), self.hi.abs())

    def mig(self) -> Tensor:
        """``min |x|`` over the interval (zero where it straddles 0)."""
        straddle = (self.lo <= 0) & (self.hi >= 0)
        return torch.where(straddle, torch.zeros_like(self.lo), torch.minimum(self.lo.abs(), self.hi.abs()))

    # ------------------------------------------------------------------ arithmetic
    @staticmethod
    def _as(x) -> "Interval":
        if isinstance(x, Interval):
            return x
        if isinstance(x, (int, float)):
            return Interval.from_value(x)
        return Interval.point(x)

    def __add__(self, other) -> "Interval":
        o = Interval._as(other)
        return Interval(down(self.lo + o.lo), up(self.hi + o.hi))

    __radd__ = __add__

    def __neg__(self) -> "Interval":
        return Interval(-self.hi, -self.lo)

    def __sub__(self, other) -> "Interval":
        o = Interval._as(other)
        return Interval(down(self.lo - o.hi), up(self.hi - o.lo))

    def __rsub__(self, other) -> "Interval":
        return Interval._as(other) - self

    def __mul__(self, other) -> "Interval":
        o = Interval._as(other)
        a, b, c, d = self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi
        lo = torch.minimum(torch.minimum(a, b), torch.minimum(c, d))
        hi = torch.maximum(torch.maximum(a, b), torch.maximum(c, d))
        return Interval(down(lo), up(hi))

    __rmul__ = __mul__

    def __truediv__(self, other) -> "Interval":
        o = Interval._as(other)
        if bool(((o.lo <= 0) & (o.hi >= 0)).any()):
            raise ZeroDivisionError("interval division by an interval containing 0")
        inv = Interval(down(1.0 / o.hi), up(1.0 / o.lo))
        return self * inv

    def __rtruediv__(self, other) -> "Interval":
        return Interval._as(other) / self

    def square(self) -> "Interval":
        """``{x² : x ∈ X}`` (tighter than ``X * X``: never below 0)."""
        lo2, hi2 = self.lo * self.lo, self.hi * self.hi
        straddle = (self.lo < 0) & (self.hi > 0)
        low = torch.where(straddle, torch.zeros_like(lo2), torch.minimum(lo2, hi2))
        return Interval(torch.clamp(down(low), min=0.0), up(torch.maximum(lo2, hi2)))

    def sum(self, dim: int) -> "Interval":
        """Sum along ``dim`` in midpoint–radius form (rounding bounded by ``γ_k``, as in :meth:`linear`)."""
        k = self.shape[dim]
        m = self.mid()
        r = self.rad(m)
        c = m.sum(dim)
        g = gamma(k + 1)
        rad = (r.sum(dim) + g * m.abs().sum(dim)) * (1.0 + 2.0 * g) + k * _UNDERFLOW
        rad = up(rad + U * c.abs())
        return Interval(down(c - rad), up(c + rad))

    def spread(self, rho: Tensor) -> Tensor:
        """An upper bound of ``Σ_k mag(X_k) ρ_k`` over the last axis (``ρ ≥ 0`` broadcast against it): the
        radius of ``Σ_k X_k · [−ρ_k, ρ_k]``, which is exactly ``[−Σ mag ρ, Σ mag ρ]``. Products of non-negative
        floats rounded up, the sum inflated by ``γ_{k+1}`` and one ulp."""
        p = up(self.mag() * rho)
        k = p.shape[-1]
        return up(p.sum(-1) * (1.0 + 2.0 * gamma(k + 1)) + k * _UNDERFLOW)

    def widened(self, radius: Tensor) -> "Interval":
        """``X + [−r, r]`` (outward rounded)."""
        return Interval(down(self.lo - radius), up(self.hi + radius))

    def linear(self, weight: Tensor, bias: Tensor | None = None) -> "Interval":
        """``X Wᵀ + b`` for a point matrix ``W`` (``(out, in)``), over the last axis of ``X``; sound for every
        point of ``X`` and for the rounding of the product (module docstring)."""
        W = weight.detach().to(torch.float64)
        k = W.shape[1]
        m = self.mid()
        r = self.rad(m)
        absW = W.abs()
        c = m @ W.T
        if bias is not None:
            c = c + bias.detach().to(torch.float64)
        g = gamma(k + 1)  # k products and the bias
        spread = r @ absW.T
        err = m.abs() @ absW.T
        if bias is not None:
            err = err + bias.detach().to(torch.float64).abs()
        rad = (spread + g * err) * (1.0 + 2.0 * g) + (k + 1) * _UNDERFLOW
        rad = up(rad + U * c.abs())
        return Interval(down(c - rad), up(c + rad))

    def scale(self, factor: Tensor) -> "Interval":
        """``X · f`` for a point tensor ``f`` broadcast over ``X`` (exactly rounded products, outward)."""
        return self * Interval.point(factor.detach().to(torch.float64))

    # ------------------------------------------------------------------ elementary functions
    def sqrt(self) -> "Interval":
        """``√x`` over ``[max(lo, 0), hi]`` (IEEE-754 square root is correctly rounded: one ulp outward)."""
        if bool((self.hi < 0).any()):
            raise ValueError("interval square root of an interval below 0")
        return Interval(torch.clamp(down(torch.sqrt(torch.clamp(self.lo, min=0.0))), min=0.0), up(torch.sqrt(self.hi)))

    def tanh(self) -> "Interval":
        """``tanh`` is increasing: padded values at the endpoints, within ``[−1, 1]``."""
        return Interval(
            torch.clamp(_pad_down(torch.tanh(self.lo)), min=-1.0), torch.clamp(_pad_up(torch.tanh(self.hi)), max=1.0)
        )

    def exp(self) -> "Interval":
        """``exp`` is increasing: padded values at the endpoints, never below 0."""
        return Interval(torch.clamp(_pad_down(torch.exp(self.lo)), min=0.0), _pad_up(torch.exp(self.hi)))

    def sin(self) -> "Interval":
        """``sin`` over each interval: padded endpoint values, ``+1`` where a point ``π/2 + 2πk`` may lie inside,
        ``−1`` where ``−π/2 + 2πk`` may."""
        return self._periodic(torch.sin, math.pi / 2, -math.pi / 2)

    def cos(self) -> "Interval":
        """``cos`` over each interval: maximisers ``2πk``, minimisers ``π + 2πk``."""
        return self._periodic(torch.cos, 0.0, math.pi)

    def _periodic(self, f, argmax: float, argmin: float) -> "Interval":
        a, b = self.lo, self.hi
        fa, fb = f(a), f(b)
        lo = _pad_down(torch.minimum(fa, fb))
        hi = _pad_up(torch.maximum(fa, fb))

        def may_contain(x0: float) -> Tensor:
            k = torch.ceil((a - x0) / _TWO_PI - _TOL)
            p = x0 + _TWO_PI * k
            return p <= b + _TOL * (1.0 + b.abs())

        wide = (b - a >= _TWO_PI) | (a.abs() > TRIG_LIMIT) | (b.abs() > TRIG_LIMIT)
        hi = torch.where(wide | may_contain(argmax), torch.ones_like(hi), torch.clamp(hi, max=1.0))
        lo = torch.where(wide | may_contain(argmin), -torch.ones_like(lo), torch.clamp(lo, min=-1.0))
        return Interval(lo, hi)

    def __repr__(self) -> str:
        return f"Interval(lo={self.lo}, hi={self.hi})"

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """``torch.stack``/``torch.cat`` of intervals, ``torch.sin``/``cos``/``tanh``/``exp`` of one and
        ``torch.zeros_like``/``ones_like`` (so residual and closed-form code written for tensors, source terms
        included, runs on them)."""
        kwargs = kwargs or {}
        unary = {torch.sin: "sin", torch.cos: "cos", torch.tanh: "tanh", torch.exp: "exp", torch.sqrt: "sqrt"}
        if func in unary and len(args) == 1 and not kwargs:
            return getattr(args[0], unary[func])()
        if func in (torch.zeros_like, torch.ones_like) and len(args) == 1:
            return Interval.point(func(args[0].lo))
        if func in (torch.stack, torch.cat):
            seq = args[0]
            dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
            parts = [Interval._as(p) for p in seq]
            return Interval(func([p.lo for p in parts], dim=dim), func([p.hi for p in parts], dim=dim))
        raise TypeError(f"{getattr(func, '__name__', func)} has no interval rule (pinnkit.enclosure.Interval)")
