"""Enclosures of a net's output and of its first and second input derivatives over axis-aligned boxes.

For a batch of boxes ``B = [lo, hi] ⊂ R^D`` (``lo``, ``hi`` of shape ``(N, D)``) :func:`enclose` returns
intervals ``V ⊇ {u(x)}``, ``G ⊇ {∇u(x)}`` and ``H ⊇ {∇²u(x)}`` over ``x ∈ B`` (shapes ``(N, m)``, ``(N, m, D)``,
``(N, m, D, D)``), sound in floating point (:mod:`pinnkit.enclosure.interval`).

**Jets.** The value, gradient and Hessian are carried through the layers together (the pointwise rule of
:mod:`pinnkit.jets`, in interval arithmetic): for ``z = W h + b``, ``z_k = W h_k``, ``z_jk = W h_jk``; for
``a = σ(z)``, ``a_k = σ'(z) z_k``, ``a_jk = σ''(z) z_j z_k + σ'(z) z_jk`` (Griewank & Walther, *Evaluating
Derivatives*, ch. 13), with ``σ'``, ``σ''`` enclosed over the whole interval of ``z``: tanh ``1 − t²`` and
``−2t(1 − t²)`` with ``t ∈ tanh(z)``; sin ``cos z`` and ``−sin z``; Fourier features ``[cos ζ, sin ζ]`` with
``ζ = Bx'`` likewise.

**Centred forms.** The interval jet over the box (the *naive* enclosure) overestimates through depth. By the
mean-value theorem ``u(x) = u(c) + ∇u(ξ)·(x − c)`` for some ``ξ ∈ B``, so ``u(B) ⊆ u(c) + G(B)·[−ρ, ρ]``
(``c`` a point of the box, ``ρ`` an upper bound of ``|x − c|``), and likewise ``∇u(B) ⊆ ∇u(c) + H(B)·[−ρ, ρ]``;
``u(c)``, ``∇u(c)`` come from the interval jet of the degenerate box ``[c, c]``. Each is intersected with the
naive enclosure. The width of ``V`` then falls like ``ρ`` (with the width of ``u(c)`` at rounding level) and
that of ``G`` like ``ρ``; ``H`` is the naive enclosure.

Nets: :class:`pinnkit.nets.MLP` and :class:`pinnkit.nets.ResidualMLP` with tanh or sin, with or without input
scaling and Fourier features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Tuple

import torch
from torch import Tensor, nn

from .interval import Interval

__all__ = ["Jet", "Enclosure", "enclose", "naive_jet", "ENCLOSURE_ACTIVATIONS", "supports"]


@dataclass
class Jet:
    """Interval jet of a layer's state: value ``(N, n)``, gradient ``(N, n, D)``, Hessian ``(N, n, D, D)``."""

    v: Interval
    g: Interval
    h: Interval

    def linear(self, W: Tensor, b: Tensor | None) -> "Jet":
        """``z = W a + b``: the value gets the bias, the derivatives do not."""
        g = self.g.transpose(-1, -2).linear(W).transpose(-1, -2)
        h = self.h.transpose(-1, -3).linear(W).transpose(-1, -3)
        return Jet(self.v.linear(W, b), g, h)

    def activate(self, rule: Callable[[Interval], Tuple[Interval, Interval, Interval]]) -> "Jet":
        """``a = σ(z)``, ``a_k = σ'(z) z_k``, ``a_jk = σ''(z) z_j z_k + σ'(z) z_jk`` (diagonal ``z_j²`` squared)."""
        s0, s1, s2 = rule(self.v)
        g = s1.unsqueeze(-1) * self.g
        outer = self.g.unsqueeze(-1) * self.g.unsqueeze(-2)
        D = self.g.shape[-1]
        sq = self.g.square()
        idx = torch.arange(D)
        outer.lo[..., idx, idx] = sq.lo
        outer.hi[..., idx, idx] = sq.hi
        h = s2.unsqueeze(-1).unsqueeze(-1) * outer + s1.unsqueeze(-1).unsqueeze(-1) * self.h
        return Jet(s0, g, h)

    def __add__(self, other: "Jet") -> "Jet":
        return Jet(self.v + other.v, self.g + other.g, self.h + other.h)

    def scaled(self, c: float) -> "Jet":
        s = Interval.from_value(c)
        return Jet(self.v * s, self.g * s, self.h * s)

    @staticmethod
    def cat(parts, dim: int = 1) -> "Jet":
        """Concatenate along the feature axis (``dim = 1`` of the value)."""
        return Jet(
            Interval.cat([p.v for p in parts], dim),
            Interval.cat([p.g for p in parts], dim),
            Interval.cat([p.h for p in parts], dim),
        )


def _tanh_rule(z: Interval) -> Tuple[Interval, Interval, Interval]:
    t = z.tanh()
    s1 = 1.0 - t.square()
    s1 = Interval(torch.clamp(s1.lo, min=0.0), torch.clamp(s1.hi, max=1.0))  # 1 − tanh² ∈ [0, 1]
    return t, s1, (-2.0 * t) * s1


def _sin_rule(z: Interval) -> Tuple[Interval, Interval, Interval]:
    s = z.sin()
    return s, z.cos(), -s


def _cos_rule(z: Interval) -> Tuple[Interval, Interval, Interval]:
    c = z.cos()
    return c, -z.sin(), -c


#: activation name -> interval rule z ↦ (σ(z), σ'(z), σ''(z)) enclosures
ENCLOSURE_ACTIVATIONS: Dict[str, Callable[[Interval], Tuple[Interval, Interval, Interval]]] = {
    "tanh": _tanh_rule,
    "sin": _sin_rule,
}


def supports(model: nn.Module) -> bool:
    """Whether :func:`enclose` has a rule for ``model``."""
    from ..nets.mlp import MLP, ResidualMLP

    return isinstance(model, (MLP, ResidualMLP)) and model.activation_name in ENCLOSURE_ACTIVATIONS


def _input_jet(lo: Tensor, hi: Tensor) -> Jet:
    N, D = lo.shape
    eye = torch.eye(D, dtype=torch.float64).expand(N, D, D)
    zeros = torch.zeros(N, D, D, D, dtype=torch.float64)
    return Jet(Interval(lo, hi), Interval.point(eye.clone()), Interval.point(zeros))


def _embed(model: nn.Module, jet: Jet) -> Jet:
    if model.scaling is not None:  # x' = (x − c)/h: value shifted and divided, derivatives divided
        c = model.scaling.center.detach().to(torch.float64)
        hw = Interval.point(model.scaling.half_width.detach().to(torch.float64))
        inv = Interval(1.0, 1.0) / hw
        v = (jet.v - Interval.point(c)) * inv
        jet = Jet(v, jet.g * inv.unsqueeze(-1), jet.h * inv.unsqueeze(-1).unsqueeze(-1))
    if model.fourier is not None:
        z = jet.linear(model.fourier.B, None)
        jet = Jet.cat([z.activate(_cos_rule), z.activate(_sin_rule)])
    return jet


def naive_jet(model: nn.Module, lo: Tensor, hi: Tensor) -> Jet:
    """The interval jet of ``model`` over the boxes ``[lo, hi]`` (``(N, D)``), layer by layer (no centred form)."""
    from ..nets.mlp import MLP, ResidualMLP

    if not supports(model):
        raise ValueError(
            f"no enclosure rule for {type(model).__name__} with activation "
            f"{getattr(model, 'activation_name', '?')!r}; supported: MLP and ResidualMLP with "
            f"{tuple(ENCLOSURE_ACTIVATIONS)}"
        )
    rule = ENCLOSURE_ACTIVATIONS[model.activation_name]
    jet = _embed(model, _input_jet(lo, hi))
    if isinstance(model, MLP):
        for layer in model.hidden:
            jet = jet.linear(layer.weight, layer.bias).activate(rule)
    elif isinstance(model, ResidualMLP):
        jet = jet.linear(model.lift.weight, model.lift.bias).activate(rule)
        for block in model.blocks:
            jet = jet + jet.linear(block.weight, block.bias).activate(rule).scaled(model.branch_scale)
    return jet.linear(model.head.weight, model.head.bias)


@dataclass
class Enclosure:
    """Enclosures over each box: ``value`` ``(N, m)``, ``grad`` ``(N, m, D)``, ``hess`` ``(N, m, D, D)``."""

    value: Interval
    grad: Interval
    hess: Interval


def _centred(at_c: Interval, slope: Interval, rho: Tensor, naive: Interval) -> Interval:
    """``f(c) + Σ_k slope_k · [−ρ_k, ρ_k]`` over the last axis of ``slope``, intersected with ``naive``."""
    box = Interval(-rho, rho)
    while box.lo.dim() < slope.lo.dim():
        box = box.unsqueeze(1)
    return (at_c + (slope * box).sum(-1)).intersect(naive)


def enclose(model: nn.Module, lo: Tensor, hi: Tensor) -> Enclosure:
    """Sound enclosures of the output, gradient and Hessian of ``model`` over each box ``[lo_i, hi_i]``
    (module docstring: interval jets with mean-value forms, float64, outward rounding)."""
    lo = torch.as_tensor(lo, dtype=torch.float64)
    hi = torch.as_tensor(hi, dtype=torch.float64)
    if lo.dim() != 2 or lo.shape != hi.shape:
        raise ValueError(f"lo and hi must both have shape (N, D), got {tuple(lo.shape)} and {tuple(hi.shape)}")
    if not bool((lo <= hi).all()) or not bool(torch.isfinite(lo).all() & torch.isfinite(hi).all()):
        raise ValueError("boxes must be finite with lo <= hi in every coordinate")
    with torch.no_grad():
        box = naive_jet(model, lo, hi)
        c = Interval(lo, hi).mid()
        rho = Interval(lo, hi).rad(c)
        at = naive_jet(model, c, c.clone())
        value = _centred(at.v, box.g, rho, box.v)
        grad = _centred(at.g, box.h, rho, box.g)
    return Enclosure(value, grad, box.h)
