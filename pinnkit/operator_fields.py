"""Derivatives of a DeepONet's outputs at points shared by a batch of input functions, with the interface of
:class:`pinnkit.derivatives.Fields`, so that a residual written for Fields runs on them unchanged.

For B functions u^(i) and N points y_p shared by all of them, the unstacked DeepONet is
``G(u)(y) = Σ_k b_k(u) τ_k(y) + b_0``, so every y-derivative is a contraction of the branch output with the
same derivative of the trunk, ``∂^α G(u^(i))(y_p) = Σ_k b_k(u^(i)) ∂^α τ_k(y_p)``: the trunk and its
derivatives are computed once for the N points (one forward Taylor pass, :meth:`DeepONet.trunk_jet`) instead
of once per (function, point) pair, B× cheaper than reverse-mode autograd at independent points.  With the
exact-initial transform ``G = g(x) + t·N`` (g the trigonometric interpolant of the sensors, N the plain net):
``G_x = g_x + t N_x``, ``G_t = N + t N_t``, ``G_xx = g_xx + t N_xx``, ``G_tt = 2 N_t + t N_tt``.

Rows are the (function, point) pairs flattened function-major: row ``i·N + p`` is function i at point p, so
``u`` has shape ``(B·N, 1)`` and each derivative ``(B·N,)``.  Only the derivatives of the jet *plan*
(``first``, ``second``; default ∂_x, ∂_t and ∂_xx, which covers second-order evolution equations) are
computed; any other request raises a ValueError that names it.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence

import torch
from torch import Tensor

from .derivatives import FieldOperators

__all__ = ["SharedFields", "DEFAULT_FIRST", "DEFAULT_SECOND"]

DEFAULT_FIRST = (0, 1)  # ∂_x, ∂_t
DEFAULT_SECOND = (0,)  # ∂_xx


class SharedFields(FieldOperators):
    """Fields-like derivatives of ``model(u, y)`` for every function of ``u`` (B, m) at the points ``y`` (N, 2).

    Args:
        model: a :class:`~pinnkit.nets.DeepONet` with one output and (x, t) trunk input.
        u: sensor values of the B input functions.
        y: the N shared points, columns (x, t).
        first, second: the directions of the first and pure second derivatives to compute (0 = x, 1 = t).
    """

    spatial_dim = 1
    has_time = True
    time_index = 1
    n_outputs = 1

    def __init__(
        self, model, u: Tensor, y: Tensor, first: Sequence[int] = DEFAULT_FIRST, second: Sequence[int] = DEFAULT_SECOND
    ):
        if y.dim() != 2 or y.shape[1] != 2:
            raise ValueError(f"points y must have shape (N, 2) with columns (x, t), got {tuple(y.shape)}")
        self.model, self.u_sensors, self.y = model, u, y
        self.B, self.N = u.shape[0], y.shape[0]
        self.D = 2
        self.first = tuple(first)
        self.second = tuple(second)
        if model.hard_initial and 1 in self.second and 1 not in self.first:
            self.first = self.first + (1,)  # G_tt = 2 N_t + t N_tt needs N_t
        self.requests: set = set()
        self._value: Optional[Tensor] = None
        self._d1: Dict[int, Tensor] = {}
        self._d2: Dict[int, Tensor] = {}
        self._x: Optional[Tensor] = None

    # ------------------------------------------------------------ the jet, (B, N) arrays
    def _compute(self) -> None:
        model, u, y = self.model, self.u_sensors, self.y
        b = model.branch_features(u)[:, 0]
        tau, d1, d2 = model.trunk_jet(y, first=self.first, second=self.second)
        s = b @ tau[:, 0].T + model.bias
        first = {k: b @ d1[k][:, 0].T for k in self.first}
        second = {k: b @ d2[k][:, 0].T for k in self.second}
        if model.hard_initial:  # G = g(x) + t·N
            g, g_x, g_xx = model.initial_interpolant(u, y[:, 0], derivatives=True)
            t = y[:, 1]
            hard1 = {0: lambda: g_x + t * first[0], 1: lambda: s + t * first[1]}
            hard2 = {0: lambda: g_xx + t * second[0], 1: lambda: 2 * first[1] + t * second[1]}
            new_first = {k: hard1[k]() for k in self.first}
            new_second = {k: hard2[k]() for k in self.second}
            s, first, second = g + t * s, new_first, new_second
        self._value, self._d1, self._d2 = s, first, second

    def _grid(self, kind: str, k: Optional[int] = None) -> Tensor:
        if self._value is None:
            with torch.enable_grad():
                self._compute()
        if kind == "u":
            return self._value
        table, plan = (self._d1, self.first) if kind == "d" else (self._d2, self.second)
        out = table.get(k)
        if out is None:
            name = {"d": f"d(0, {k})", "d2": f"d2(0, {k})"}[kind]
            raise ValueError(
                f"SharedFields: {name} is not in the jet plan (first={self.first}, "
                f"second={self.second}); build SharedFields with it, or use shared_points=False"
            )
        return out

    # ------------------------------------------------------------ the Fields interface
    @property
    def x(self) -> Tensor:
        """The points of every row, ``(B·N, 2)``: y repeated for each function."""
        if self._x is None:
            self._x = self.y.repeat(self.B, 1)
        return self._x

    @property
    def u(self) -> Tensor:
        """``G(u^(i))(y_p)``, shape ``(B·N, 1)``."""
        return self._grid("u").reshape(-1, 1)

    def _check(self, i: int, k: int) -> None:
        if i != 0:
            raise IndexError(f"output index i={i} out of range [0, 1)")
        if not 0 <= k < self.D:
            raise IndexError(f"input index k={k} out of range [0, {self.D})")

    def d(self, i: int, k: int) -> Tensor:
        """``∂G/∂y_k``, shape ``(B·N,)``."""
        self._check(i, k)
        self.requests.add(("d", k))
        return self._grid("d", k).reshape(-1)

    def d2(self, i: int, k: int) -> Tensor:
        """Pure second derivative ``∂²G/∂y_k²``, shape ``(B·N,)``."""
        self._check(i, k)
        self.requests.add(("d2", k, k))
        return self._grid("d2", k).reshape(-1)

    def d2_mixed(self, i: int, j: int, k: int) -> Tensor:
        """Only the pure second derivatives are available here (j == k)."""
        if j == k:
            return self.d2(i, k)
        raise ValueError(
            f"SharedFields: the mixed derivative d2_mixed(0, {j}, {k}) is not available; use shared_points=False"
        )

    def grid(self, values: Tensor) -> Tensor:
        """Rows ``(B·N, …)`` back to ``(B, N, …)``."""
        return values.reshape(self.B, self.N, *values.shape[1:])
