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
that of ``G`` like ``ρ``; the Hessian gets the same form from carried third derivatives
(``a_ijk = σ‴ z_i z_j z_k + σ″(z_ij z_k + z_ik z_j + z_jk z_i) + σ′ z_ijk``; tanh ``σ‴ = −2(1 − t²)(1 − 3t²)``,
sin ``−cos``), or is the naive enclosure with ``centred_hessian=False``.

Nets: :class:`pinnkit.nets.MLP` and :class:`pinnkit.nets.ResidualMLP` with tanh or sin, with or without input
scaling and Fourier features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

import torch
from torch import Tensor, nn

from .interval import Interval, down, up

__all__ = ["Jet", "Enclosure", "enclose", "naive_jet", "ENCLOSURE_ACTIVATIONS", "supports"]


@dataclass
class Jet:
    """Interval jet of a layer's state: value ``(N, n)``, gradient ``(N, n, D)``, Hessian ``(N, n, D, D)`` and,
    when carried, third derivatives ``(N, n, D, D, D)``."""

    v: Interval
    g: Interval
    h: Interval
    t: Optional[Interval] = None

    def linear(self, W: Tensor, b: Optional[Tensor]) -> "Jet":
        """``z = W a + b``: the value gets the bias, the derivatives do not."""

        def lin(x: Interval) -> Interval:
            return x.movedim(1, -1).linear(W).movedim(-1, 1)

        return Jet(self.v.linear(W, b), lin(self.g), lin(self.h), None if self.t is None else lin(self.t))

    def activate(self, rule: Callable[[Interval], Tuple[Interval, ...]]) -> "Jet":
        """``a = σ(z)``, ``a_i = σ′ z_i``, ``a_ij = σ″ z_i z_j + σ′ z_ij`` (diagonal ``z_i²`` squared),
        ``a_ijk = σ‴ z_i z_j z_k + σ″ (z_ij z_k + z_ik z_j + z_jk z_i) + σ′ z_ijk``."""
        s0, s1, s2, s3 = rule(self.v)
        g = s1.unsqueeze(-1) * self.g
        outer = self.g.unsqueeze(-1) * self.g.unsqueeze(-2)
        D = self.g.shape[-1]
        sq = self.g.square()
        idx = torch.arange(D)
        outer.lo[..., idx, idx] = sq.lo
        outer.hi[..., idx, idx] = sq.hi
        e2 = s2.unsqueeze(-1).unsqueeze(-1)
        e1 = s1.unsqueeze(-1).unsqueeze(-1)
        h = e2 * outer + e1 * self.h
        t = None
        if self.t is not None:
            gk = self.g.unsqueeze(-2).unsqueeze(-2)
            # z_ij z_k + z_ik z_j + z_jk z_i from the one product P_ijk = z_ij z_k (z_ij is symmetric):
            # z_ik z_j = P_ikj and z_jk z_i = P_jki
            P = self.h.unsqueeze(-1) * gk
            n = P.lo.dim()
            perm = list(range(n - 3)) + [n - 1, n - 3, n - 2]  # R[a, b, c] = P[b, c, a]
            sym = P + Interval(P.lo.transpose(-1, -2), P.hi.transpose(-1, -2))
            sym = sym + Interval(P.lo.permute(perm), P.hi.permute(perm))
            t = (
                s3.unsqueeze(-1).unsqueeze(-1).unsqueeze(-1) * (outer.unsqueeze(-1) * gk)
                + e2.unsqueeze(-1) * sym
                + e1.unsqueeze(-1) * self.t
            )
        return Jet(s0, g, h, t)

    def __add__(self, other: "Jet") -> "Jet":
        t = None if self.t is None else self.t + other.t
        return Jet(self.v + other.v, self.g + other.g, self.h + other.h, t)

    def __mul__(self, other: "Jet") -> "Jet":
        """Leibniz's rule to the order carried: ``(ab)_i = a_i b + a b_i``, ``(ab)_ij = a_ij b + a_i b_j +
        a_j b_i + a b_ij``, ``(ab)_ijk = a_ijk b + a b_ijk + Σ_{3 perms} (a_ij b_k + a_k b_ij)``; the value axes
        broadcast (``(N, 1)`` against ``(N, m)``)."""
        a, b = self, other
        av, bv = a.v.unsqueeze(-1), b.v.unsqueeze(-1)
        g = a.g * bv + av * b.g
        ga_i, gb_j = a.g.unsqueeze(-1), b.g.unsqueeze(-2)
        outer = ga_i * gb_j
        h = a.h * bv.unsqueeze(-1) + outer + outer.transpose(-1, -2) + av.unsqueeze(-1) * b.h
        t = None
        if a.t is not None and b.t is not None:
            bv3, av3 = bv.unsqueeze(-1).unsqueeze(-1), av.unsqueeze(-1).unsqueeze(-1)
            gi_a, gj_a, gk_a = (
                a.g.unsqueeze(-1).unsqueeze(-1),
                a.g.unsqueeze(-2).unsqueeze(-1),
                a.g.unsqueeze(-2).unsqueeze(-2),
            )
            gi_b, gj_b, gk_b = (
                b.g.unsqueeze(-1).unsqueeze(-1),
                b.g.unsqueeze(-2).unsqueeze(-1),
                b.g.unsqueeze(-2).unsqueeze(-2),
            )
            ha_ij, ha_ik, ha_jk = a.h.unsqueeze(-1), a.h.unsqueeze(-2), a.h.unsqueeze(-3)
            hb_ij, hb_ik, hb_jk = b.h.unsqueeze(-1), b.h.unsqueeze(-2), b.h.unsqueeze(-3)
            t = (
                a.t * bv3
                + av3 * b.t
                + ha_ij * gk_b
                + ha_ik * gj_b
                + ha_jk * gi_b
                + gi_a * hb_jk
                + gj_a * hb_ik
                + gk_a * hb_ij
            )
        return Jet(a.v * b.v, g, h, t)

    def affine(self, scale: float, shift: float) -> "Jet":
        """``scale · J + shift``."""
        s = Interval.from_value(scale)
        t = None if self.t is None else self.t * s
        return Jet(self.v * s + shift, self.g * s, self.h * s, t)

    def column(self, k: int) -> "Jet":
        """Output ``k`` as a ``(N, 1)`` jet."""
        sl = slice(k, k + 1)
        return Jet(self.v[:, sl], self.g[:, sl], self.h[:, sl], None if self.t is None else self.t[:, sl])

    def scaled(self, c: float) -> "Jet":
        s = Interval.from_value(c)
        return Jet(self.v * s, self.g * s, self.h * s, None if self.t is None else self.t * s)

    @staticmethod
    def cat(parts, dim: int = 1) -> "Jet":
        """Concatenate along the feature axis (``dim = 1`` of the value)."""
        t = None if parts[0].t is None else Interval.cat([p.t for p in parts], dim)
        return Jet(
            Interval.cat([p.v for p in parts], dim),
            Interval.cat([p.g for p in parts], dim),
            Interval.cat([p.h for p in parts], dim),
            t,
        )


def _tanh_rule(z: Interval) -> Tuple[Interval, Interval, Interval, Interval]:
    t = z.tanh()
    t2 = t.square()
    s1 = 1.0 - t2
    s1 = Interval(torch.clamp(s1.lo, min=0.0), torch.clamp(s1.hi, max=1.0))  # 1 − tanh² ∈ [0, 1]
    return t, s1, (-2.0 * t) * s1, (-2.0 * s1) * (1.0 - 3.0 * t2)


def _sin_rule(z: Interval) -> Tuple[Interval, Interval, Interval, Interval]:
    s, c = z.sin(), z.cos()
    return s, c, -s, -c


def _cos_rule(z: Interval) -> Tuple[Interval, Interval, Interval, Interval]:
    s, c = z.sin(), z.cos()
    return c, -s, -c, s


#: activation name -> interval rule z ↦ enclosures of (σ(z), σ′(z), σ″(z), σ‴(z))
ENCLOSURE_ACTIVATIONS: Dict[str, Callable[[Interval], Tuple[Interval, Interval, Interval]]] = {
    "tanh": _tanh_rule,
    "sin": _sin_rule,
}


def _plain(model: nn.Module) -> bool:
    from ..nets.mlp import MLP, ResidualMLP

    return isinstance(model, (MLP, ResidualMLP)) and model.activation_name in ENCLOSURE_ACTIVATIONS


def supports(model: nn.Module) -> bool:
    """Whether :func:`enclose` has a rule for ``model``: an MLP or ResidualMLP with tanh or sin, or one wrapped in
    :class:`pinnkit.constraints.HardConstraints` enforcing homogeneous Dirichlet data (``kinds=("boundary",)``)."""
    from ..constraints import HardConstraints

    if isinstance(model, HardConstraints):
        return tuple(model.kinds) == ("boundary",) and _plain(model.net)
    return _plain(model)


def _boundary_factor(model: nn.Module, x: Jet) -> Jet:
    """The jet of ``φ(x) = Π_k 4 (x_k − lower_k)(upper_k − x_k)/(upper_k − lower_k)²`` from the input jet."""
    lower = model.lower.detach().to(torch.float64).tolist()
    upper = model.upper.detach().to(torch.float64).tolist()
    phi = None
    for k, (a, b) in enumerate(zip(lower, upper)):
        xk = x.column(k)
        w = torch.tensor(b - a, dtype=torch.float64)
        f = Interval.from_value(4.0) / Interval(down(w), up(w)).square()  # 4/(b − a)², the width enclosed
        q = xk.affine(1.0, -a) * xk.affine(-1.0, b)
        q = Jet(q.v * f, q.g * f, q.h * f, None if q.t is None else q.t * f)
        phi = q if phi is None else phi * q
    return phi


def _input_jet(lo: Tensor, hi: Tensor, order: int) -> Jet:
    N, D = lo.shape
    eye = torch.eye(D, dtype=torch.float64).expand(N, D, D)
    zeros = torch.zeros(N, D, D, D, dtype=torch.float64)
    t = Interval.point(torch.zeros(N, D, D, D, D, dtype=torch.float64)) if order >= 3 else None
    return Jet(Interval(lo, hi), Interval.point(eye.clone()), Interval.point(zeros), t)


def _embed(model: nn.Module, jet: Jet) -> Jet:
    if model.scaling is not None:  # x' = (x − c)/h: value shifted and divided, derivatives divided
        c = model.scaling.center.detach().to(torch.float64)
        hw = Interval.point(model.scaling.half_width.detach().to(torch.float64))
        inv = Interval(1.0, 1.0) / hw
        v = (jet.v - Interval.point(c)) * inv
        t = None if jet.t is None else jet.t * inv.unsqueeze(-1).unsqueeze(-1).unsqueeze(-1)
        jet = Jet(v, jet.g * inv.unsqueeze(-1), jet.h * inv.unsqueeze(-1).unsqueeze(-1), t)
    if model.fourier is not None:
        z = jet.linear(model.fourier.B, None)
        jet = Jet.cat([z.activate(_cos_rule), z.activate(_sin_rule)])
    return jet


def _check_supported(model: nn.Module) -> None:
    if not supports(model):
        raise ValueError(
            f"no enclosure rule for {type(model).__name__} with activation "
            f"{getattr(model, 'activation_name', '?')!r}; supported: MLP and ResidualMLP with "
            f"{tuple(ENCLOSURE_ACTIVATIONS)}, bare or in HardConstraints(kinds=('boundary',))"
        )


def _run(model: nn.Module, jet: Jet, after_linear: Callable[[Jet], Jet]) -> Jet:
    """The layers of ``model`` on an interval jet, ``after_linear`` applied to every affine layer's output."""
    from ..nets.mlp import MLP, ResidualMLP

    rule = ENCLOSURE_ACTIVATIONS[model.activation_name]
    jet = _embed(model, jet)
    if isinstance(model, MLP):
        for layer in model.hidden:
            jet = after_linear(jet.linear(layer.weight, layer.bias)).activate(rule)
    elif isinstance(model, ResidualMLP):
        jet = after_linear(jet.linear(model.lift.weight, model.lift.bias)).activate(rule)
        for block in model.blocks:
            jet = jet + after_linear(jet.linear(block.weight, block.bias)).activate(rule).scaled(model.branch_scale)
    return after_linear(jet.linear(model.head.weight, model.head.bias))


def _wrapped(model: nn.Module, jet_of: Callable[[nn.Module], Jet], x: Jet) -> Jet:
    """``jet_of(net)`` for a plain net, and ``φ · jet_of(net)`` for one wrapped in boundary hard constraints."""
    from ..constraints import HardConstraints

    if isinstance(model, HardConstraints):
        return _boundary_factor(model, x) * jet_of(model.net)
    return jet_of(model)


def naive_jet(model: nn.Module, lo: Tensor, hi: Tensor, order: int = 2) -> Jet:
    """The interval jet of ``model`` over the boxes ``[lo, hi]`` (``(N, D)``), layer by layer (no centred form),
    to derivatives of order ``order`` (2 or 3)."""
    _check_supported(model)
    x = _input_jet(lo, hi, order)
    return _wrapped(model, lambda net: _run(net, x, lambda j: j), x)


def _centred_jet(model: nn.Module, lo: Tensor, hi: Tensor, c: Tensor, rho: Tensor, order: int) -> Tuple[Jet, Jet]:
    """The jet over the boxes and the (degenerate) jet at the points ``c``, carried through the layers in
    lockstep; after every affine layer the box jet's value, gradient and (with third derivatives) Hessian are
    intersected with their mean-value forms about ``c`` (``z(B) ⊆ z(c) + [∇z](B)·[−ρ, ρ]`` and likewise one
    order up), which stops the wrapping of the intervals through depth."""
    _check_supported(model)
    from ..constraints import HardConstraints

    if isinstance(model, HardConstraints):  # φ · N: both jets of the free net, then the product rule
        box_n, at_n = _centred_jet(model.net, lo, hi, c, rho, order)
        xb, xc = _input_jet(lo, hi, order), _input_jet(c, c.clone(), 2)
        at = _boundary_factor(model, xc) * at_n
        box = _boundary_factor(model, xb) * box_n
        return _tighten(box, at, rho), at
    centre_layers = []
    _run(model, _input_jet(c, c.clone(), 2), lambda j: centre_layers.append(j) or j)
    it = iter(centre_layers)

    def tighten(j: Jet) -> Jet:
        at = next(it)
        v = _centred(at.v, j.g, rho, j.v)
        g = _centred(at.g, j.h, rho, j.g)
        h = j.h if j.t is None else _centred(at.h, j.t, rho, j.h)
        return Jet(v, g, h, j.t)

    box = _run(model, _input_jet(lo, hi, order), tighten)
    return box, centre_layers[-1]


def _tighten(j: Jet, at: Jet, rho: Tensor) -> Jet:
    v = _centred(at.v, j.g, rho, j.v)
    g = _centred(at.g, j.h, rho, j.g)
    h = j.h if j.t is None else _centred(at.h, j.t, rho, j.h)
    return Jet(v, g, h, j.t)


@dataclass
class Enclosure:
    """Enclosures over each box: ``value`` ``(N, m)``, ``grad`` ``(N, m, D)``, ``hess`` ``(N, m, D, D)``."""

    value: Interval
    grad: Interval
    hess: Interval
    #: third derivatives over each box ``(N, m, D, D, D)`` (naive interval jet), when carried
    third: Optional[Interval] = None
    #: value, gradient and Hessian at the point ``centre`` of each box (tight intervals), and ``rho`` ``(N, D)``
    #: with ``|x − centre| ≤ rho`` on the box
    at_centre: Optional[Tuple[Interval, Interval, Interval]] = None
    centre: Optional[Tensor] = None
    rho: Optional[Tensor] = None


def _centred(at_c: Interval, slope: Interval, rho: Tensor, naive: Interval) -> Interval:
    """``f(c) + Σ_k slope_k · [−ρ_k, ρ_k]`` over the last axis of ``slope``, intersected with ``naive``; the sum is
    ``[−Σ mag(slope_k) ρ_k, +…]`` exactly (:meth:`Interval.spread`)."""
    r = rho
    while r.dim() < slope.lo.dim():
        r = r.unsqueeze(1)
    return at_c.widened(slope.spread(r)).intersect(naive)


def enclose(model: nn.Module, lo: Tensor, hi: Tensor, centred_hessian: bool = True) -> Enclosure:
    """Sound enclosures of the output, gradient and Hessian of ``model`` over each box ``[lo_i, hi_i]``
    (module docstring: interval jets with mean-value forms, float64, outward rounding). ``centred_hessian``:
    carry third derivatives over the box so that the Hessian too gets a centred form
    ``∇²u(c) + [∇³u](B)·[−ρ, ρ]``."""
    lo = torch.as_tensor(lo, dtype=torch.float64)
    hi = torch.as_tensor(hi, dtype=torch.float64)
    if lo.dim() != 2 or lo.shape != hi.shape:
        raise ValueError(f"lo and hi must both have shape (N, D), got {tuple(lo.shape)} and {tuple(hi.shape)}")
    if not bool((lo <= hi).all()) or not bool(torch.isfinite(lo).all() & torch.isfinite(hi).all()):
        raise ValueError("boxes must be finite with lo <= hi in every coordinate")
    with torch.no_grad():
        c = Interval(lo, hi).mid()
        rho = Interval(lo, hi).rad(c)
        box, at = _centred_jet(model, lo, hi, c, rho, 3 if centred_hessian else 2)
        value, grad, hess = box.v, box.g, box.h
    return Enclosure(value, grad, hess, box.t, (at.v, at.g, at.h), c, rho)
