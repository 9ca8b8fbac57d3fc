"""The :class:`~pinnkit.derivatives.Fields` interface on enclosures: a problem's residual code runs unchanged
on intervals and returns a sound enclosure of the residual over each box.

``u`` is the value enclosure ``(N, m)``, ``d(i, k)`` the enclosure of ``∂u_i/∂x_k`` and ``d2(i, k)`` of
``∂²u_i/∂x_k²`` (from :func:`pinnkit.enclosure.enclose`); ``x`` the boxes as an :class:`Interval`. Any
residual built from these with ``+``, ``−``, ``×``, indexing, ``unsqueeze``, ``torch.stack`` and
``torch.cat`` (every shipped problem) is evaluated in interval arithmetic, so its result encloses the
residual of the net at every point of each box (the inclusion property of interval arithmetic: each
operation encloses its exact result over its operands).
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn

from ..derivatives import FieldOperators
from .interval import Interval
from .net import Enclosure, enclose
from .slope import Slope, Slope2

__all__ = ["IntervalFields", "SlopeFields", "Slope2Fields", "CentreSlopeFields", "centre_fields"]


class IntervalFields(FieldOperators):
    """Enclosures of a net's value and input derivatives over boxes, with the vector calculus of
    :class:`~pinnkit.derivatives.FieldOperators` (``dt``, ``grad``, ``laplacian``) and ``divergence``."""

    def __init__(self, model: Optional[nn.Module], lo, hi, spatial_dim: int, enclosure: Optional[Enclosure] = None):
        self.enclosure: Enclosure = enclose(model, lo, hi) if enclosure is None else enclosure
        self.x = Interval(lo, hi)
        self.D = self.x.shape[1]
        self.spatial_dim = int(spatial_dim)
        self.has_time = self.spatial_dim == self.D - 1

    @property
    def u(self) -> Interval:
        return self.enclosure.value

    @property
    def n_outputs(self) -> int:
        return self.enclosure.value.shape[1]

    @property
    def time_index(self) -> int:
        if not self.has_time:
            raise ValueError("this problem is steady: it has no time derivative")
        return self.D - 1

    def d(self, i: int, k: int) -> Interval:
        return self.enclosure.grad[:, i, k]

    def d2(self, i: int, k: int) -> Interval:
        return self.enclosure.hess[:, i, k, k]

    def d2_mixed(self, i: int, j: int, k: int) -> Interval:
        return self.enclosure.hess[:, i, j, k]

    def divergence(self, components: Optional[Sequence[int]] = None) -> Interval:
        """``∇·v = Σ_k ∂v_k/∂x_k`` for the velocity made of ``components`` (default: the first d)."""
        components = list(range(self.spatial_dim)) if components is None else list(components)
        out = None
        for k, i in enumerate(components):
            out = self.d(i, k) if out is None else out + self.d(i, k)
        return out


def centre_fields(enc: Enclosure, spatial_dim: int) -> IntervalFields:
    """:class:`IntervalFields` at the centre points of the boxes of ``enc`` (tight enclosures of the value and
    derivatives at one point of each box)."""
    v, g, h = enc.at_centre
    c = enc.centre
    return IntervalFields(None, c, c.clone(), spatial_dim, Enclosure(v, g, h))


class SlopeFields(IntervalFields):
    """The fields of a net over boxes as :class:`~pinnkit.enclosure.slope.Slope` s: every field carries the
    enclosure of its gradient over the box (``u`` the Jacobian, ``d(i, k)`` a Hessian row, ``d2(i, k)`` a row of
    third derivatives), so a residual written with ``Fields`` returns ``R(B)`` together with ``[∇R](B)``; ``x``
    is the identity slope. Needs an enclosure that carries third derivatives (``enclose(...,
    centred_hessian=True)``)."""

    def __init__(self, enc: Enclosure, lo, hi, spatial_dim: int) -> None:
        if enc.third is None:
            raise ValueError("SlopeFields needs an enclosure with third derivatives (centred_hessian=True)")
        super().__init__(None, lo, hi, spatial_dim, enc)
        N, D = self.x.shape
        eye = torch.eye(D, dtype=torch.float64).expand(N, D, D).clone()
        self.x = Slope(Interval(lo, hi), Interval.point(eye))

    @property
    def u(self) -> Slope:
        return Slope(self.enclosure.value, self.enclosure.grad)

    def d(self, i: int, k: int) -> Slope:
        return Slope(self.enclosure.grad[:, i, k], self.enclosure.hess[:, i, k, :])

    def d2(self, i: int, k: int) -> Slope:
        return Slope(self.enclosure.hess[:, i, k, k], self.enclosure.third[:, i, k, k, :])

    def d2_mixed(self, i: int, j: int, k: int) -> Slope:
        return Slope(self.enclosure.hess[:, i, j, k], self.enclosure.third[:, i, j, k, :])


class _FirstOrderOnly:
    def d2(self, i: int, k: int):
        raise NotImplementedError("second derivatives have no enclosure of their Hessian (it needs 4th derivatives)")

    def d2_mixed(self, i: int, j: int, k: int):
        raise NotImplementedError("second derivatives have no enclosure of their Hessian (it needs 4th derivatives)")


class Slope2Fields(_FirstOrderOnly, IntervalFields):
    """The fields of a net over boxes as second-order slopes (value, gradient and Hessian over the box): ``u``
    from the value, Jacobian and Hessian enclosures, ``d(i, k)`` from a Jacobian entry, a Hessian row and a
    slice of third derivatives. For residuals of first order (no ``d2``), such as Burgers'."""

    def __init__(self, enc: Enclosure, lo, hi, spatial_dim: int) -> None:
        if enc.third is None:
            raise ValueError("Slope2Fields needs an enclosure with third derivatives (centred_hessian=True)")
        super().__init__(None, lo, hi, spatial_dim, enc)
        N, D = self.x.shape
        eye = torch.eye(D, dtype=torch.float64).expand(N, D, D).clone()
        self.x = Slope2(
            Interval(lo, hi), Interval.point(eye), Interval.point(torch.zeros(N, D, D, D, dtype=torch.float64))
        )

    @property
    def u(self) -> Slope2:
        e = self.enclosure
        return Slope2(e.value, e.grad, e.hess)

    def d(self, i: int, k: int) -> Slope2:
        e = self.enclosure
        return Slope2(e.grad[:, i, k], e.hess[:, i, k, :], e.third[:, i, k, :, :])


class CentreSlopeFields(_FirstOrderOnly, IntervalFields):
    """First-order slopes at the centre point of each box (tight value and gradient there), for residuals of
    first order: ``u`` from the value and Jacobian at the centre, ``d(i, k)`` from the Jacobian entry and Hessian
    row at the centre."""

    def __init__(self, enc: Enclosure, spatial_dim: int) -> None:
        v, g, h = enc.at_centre
        c = enc.centre
        super().__init__(None, c, c.clone(), spatial_dim, Enclosure(v, g, h))
        N, D = c.shape
        eye = torch.eye(D, dtype=torch.float64).expand(N, D, D).clone()
        self.x = Slope(Interval(c, c.clone()), Interval.point(eye))
        self._g, self._h = g, h

    @property
    def u(self) -> Slope:
        return Slope(self.enclosure.value, self._g)

    def d(self, i: int, k: int) -> Slope:
        return Slope(self._g[:, i, k], self._h[:, i, k, :])
