"""Derivatives of a network's outputs with respect to its inputs — the hot path of every PINN.

Points have shape ``(N, D)`` with time, when present, in the last column; outputs have shape ``(N, m)``.
A :class:`Fields` object wraps a function and a batch of points and computes, lazily and once each, the
values, first derivatives ``∂u_i/∂x_k`` and pure second derivatives ``∂²u_i/∂x_k²`` that a residual asks
for. Two engines are provided and tested against each other and against closed forms:

* ``"autograd"`` — nested reverse mode: one ``torch.autograd.grad`` call per output component gives the
  whole input gradient ``∇u_i`` (all D columns at once), and one more call per (component, direction)
  gives the pure second derivative. Every call keeps ``create_graph=True`` so the result can be
  differentiated again with respect to the network's parameters.
* ``"forward"`` — ``torch.func.jvp``: the directional derivative along the unit vector ``e_k`` is a
  Jacobian-vector product, and the pure second derivative is the jvp of that jvp (forward-over-forward).

Measured on this project's 2-core CPU (float32, N = 2000 points, D = 3, Adam step on the heat residual
``u_t − Δu``): 3×20 tanh net 217 vs 76 steps/s, 4×50 75 vs 33, 6×100 28 vs 11 (autograd vs forward).
Nested autograd is therefore the default.

* ``"taylor"`` — one forward pass that carries the value and the requested first and second derivatives
  through the net (:mod:`pinnkit.jets`), for models that offer ``jet`` (:class:`pinnkit.nets.MLP`). Which
  derivatives to carry is a *plan*: the set of requests a residual made (``Fields.requests``), learned on
  a first call that runs on autograd. A request outside the plan is answered by autograd, so results never
  depend on the plan, only the speed does. Models without ``jet`` always use autograd. Eager, it does about
  the same arithmetic as nested autograd and is slightly slower (Burgers 3×20: 161 vs 192 steps/s); its
  single graph is what ``torch.compile`` can fuse (``TrainConfig.compile``): 1.4–1.9× DeepXDE on heat and
  Burgers, 4.1× on Kovasznay (``python -m benchmarks --track-every 0``, 2 threads, quiet 2-core CPU).
"""

from __future__ import annotations

from typing import Callable, Dict, Iterable, Optional, Sequence, Tuple

import torch
from torch import Tensor

__all__ = [
    "FieldOperators",
    "Fields",
    "METHODS",
    "gradient",
    "time_derivative",
    "laplacian",
    "divergence",
    "jacobian",
    "hessian_diagonal",
]

METHODS = ("autograd", "forward", "taylor")

Fn = Callable[[Tensor], Tensor]


def _as_2d(u: Tensor) -> Tensor:
    return u.unsqueeze(-1) if u.dim() == 1 else u


class FieldOperators:
    """Vector calculus from the partial derivatives ``d(i, k)`` and ``d2(i, k)`` a subclass provides; shared
    by :class:`Fields` and the shared-point DeepONet fields (:class:`pinnkit.operator_fields.SharedFields`),
    so a residual written against one runs on the other."""

    spatial_dim: int
    time_index: int

    def d(self, i: int, k: int) -> Tensor:
        raise NotImplementedError

    def d2(self, i: int, k: int) -> Tensor:
        raise NotImplementedError

    @property
    def spatial_dims(self) -> range:
        return range(self.spatial_dim)

    def dt(self, i: int = 0) -> Tensor:
        """``∂u_i/∂t``, shape ``(N,)``."""
        return self.d(i, self.time_index)

    def grad(self, i: int = 0, dims: Optional[Sequence[int]] = None) -> Tensor:
        """Spatial gradient ``∇_x u_i``, shape ``(N, d)`` (or over ``dims``)."""
        dims = self.spatial_dims if dims is None else dims
        return torch.stack([self.d(i, k) for k in dims], dim=1)

    def laplacian(self, i: int = 0, dims: Optional[Sequence[int]] = None) -> Tensor:
        """``Δu_i = Σ_k ∂²u_i/∂x_k²`` over the spatial dims (or ``dims``), shape ``(N,)``."""
        dims = self.spatial_dims if dims is None else dims
        out = None
        for k in dims:
            term = self.d2(i, k)
            out = term if out is None else out + term
        return out


class Fields(FieldOperators):
    """Lazy, cached derivatives of ``fn`` at the points ``x``.

    Args:
        fn: maps points ``(N, D)`` to outputs ``(N, m)`` (or ``(N,)``), acting row by row.
        x: the points, shape ``(N, D)``.
        spatial_dim: number of spatial coordinates ``d``; the input has ``D = d`` (steady) or
            ``D = d + 1`` columns (time last).
        method: ``"autograd"`` (default) or ``"forward"``.
    """

    def __init__(
        self,
        fn: Fn,
        x: Tensor,
        spatial_dim: Optional[int] = None,
        method: str = "autograd",
        plan: Optional[frozenset] = None,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if x.dim() != 2:
            raise ValueError(f"points x must have shape (N, D), got shape {tuple(x.shape)}")
        self.fn = fn
        self.method = method
        self.D = x.shape[1]
        self.spatial_dim = self.D if spatial_dim is None else int(spatial_dim)
        if not (self.D - 1 <= self.spatial_dim <= self.D):
            raise ValueError(f"spatial_dim must be D or D-1 for inputs with D={self.D} columns, got {self.spatial_dim}")
        self.has_time = self.spatial_dim == self.D - 1
        self.requests: set = set()  # ("d", k) and ("d2", j, k) asked for, j <= k
        self._jet = None
        if method == "taylor":
            if plan is not None and getattr(fn, "supports_jet", False):
                self._jet = plan_lists(plan)
            else:
                self.method = "autograd"  # learn the plan (or no jet available): plain nested autograd
        self._fallback: Optional["Fields"] = None
        self._jet_first: Dict[int, Tensor] = {}
        self._jet_second: Dict[Tuple[int, int], Tensor] = {}
        if self.method == "autograd":
            self.x = x if x.requires_grad else x.detach().requires_grad_(True)
        else:
            self.x = x
        self._u: Optional[Tensor] = None
        self._grad: Dict[int, Tensor] = {}  # autograd: component -> (N, D)
        self._first: Dict[int, Tensor] = {}  # forward: direction -> (N, m)
        self._second: Dict[Tuple[int, int], Tensor] = {}  # (component, direction) -> (N,)
        self._second_all: Dict[int, Tensor] = {}  # forward: direction -> (N, m)

    # ------------------------------------------------------------------ values
    @property
    def u(self) -> Tensor:
        """Network outputs, shape ``(N, m)``."""
        if self._u is None:
            with torch.enable_grad():
                if self._jet is not None:
                    u, self._jet_first, self._jet_second = self.fn.jet(self.x, *self._jet)
                    self._u = _as_2d(u)
                else:
                    self._u = _as_2d(self.fn(self.x))
        return self._u

    def _outside_plan(self) -> "Fields":
        """Autograd on the same points for a request the taylor plan does not cover."""
        if self._fallback is None:
            self._fallback = Fields(self.fn, self.x, self.spatial_dim, "autograd")
        return self._fallback

    @property
    def n_outputs(self) -> int:
        return self.u.shape[1]

    @property
    def time_index(self) -> int:
        if not self.has_time:
            raise ValueError("this problem is steady: the inputs have no time column")
        return self.D - 1

    def _unit(self, k: int) -> Tensor:
        v = torch.zeros_like(self.x)
        v[:, k] = 1.0
        return v

    # --------------------------------------------------------- first derivatives
    def _component_grad(self, i: int) -> Tensor:
        """``∇u_i`` over all D inputs, shape ``(N, D)`` (autograd engine)."""
        g = self._grad.get(i)
        if g is None:
            with torch.enable_grad():
                g = torch.autograd.grad(self.u[:, i].sum(), self.x, create_graph=True)[0]
            self._grad[i] = g
        return g

    def _forward_first(self, k: int) -> Tensor:
        d = self._first.get(k)
        if d is None:
            with torch.enable_grad():
                u, d = torch.func.jvp(self.fn, (self.x,), (self._unit(k),))
            d = _as_2d(d)
            if self._u is None:
                self._u = _as_2d(u)
            self._first[k] = d
        return d

    def d(self, i: int, k: int) -> Tensor:
        """``∂u_i/∂x_k``, shape ``(N,)``."""
        self._check(i, k)
        self.requests.add(("d", k))
        if self.method == "taylor":
            _ = self.u  # the jet is computed with the values
            d = self._jet_first.get(k)
            return d[:, i] if d is not None else self._outside_plan().d(i, k)
        if self.method == "autograd":
            return self._component_grad(i)[:, k]
        return self._forward_first(k)[:, i]

    # -------------------------------------------------------- second derivatives
    def d2(self, i: int, k: int) -> Tensor:
        """Pure second derivative ``∂²u_i/∂x_k²``, shape ``(N,)``."""
        self._check(i, k)
        self.requests.add(("d2", k, k))
        key = (i, k)
        out = self._second.get(key)
        if out is not None:
            return out
        if self.method == "taylor":
            _ = self.u  # the jet is computed with the values
            d2 = self._jet_second.get((k, k))
            return d2[:, i] if d2 is not None else self._outside_plan().d2(i, k)
        if self.method == "autograd":
            g = self._component_grad(i)
            with torch.enable_grad():
                out = torch.autograd.grad(g[:, k].sum(), self.x, create_graph=True)[0][:, k]
        else:
            out = self._forward_second(k)[:, i]
        self._second[key] = out
        return out

    def _forward_second(self, k: int) -> Tensor:
        d2 = self._second_all.get(k)
        if d2 is None:
            v = self._unit(k)

            def directional(y: Tensor) -> Tensor:
                return torch.func.jvp(self.fn, (y,), (v,))[1]

            with torch.enable_grad():
                d1, d2 = torch.func.jvp(directional, (self.x,), (v,))
            self._first.setdefault(k, _as_2d(d1))
            d2 = _as_2d(d2)
            self._second_all[k] = d2
        return d2

    def d2_mixed(self, i: int, j: int, k: int) -> Tensor:
        """Mixed second derivative ``∂²u_i/∂x_j∂x_k``, shape ``(N,)``."""
        if j == k:
            return self.d2(i, k)
        self._check(i, j)
        self._check(i, k)
        pair = (min(j, k), max(j, k))
        self.requests.add(("d2",) + pair)
        if self.method == "taylor":
            _ = self.u  # the jet is computed with the values
            d2 = self._jet_second.get(pair)
            return d2[:, i] if d2 is not None else self._outside_plan().d2_mixed(i, j, k)
        with torch.enable_grad():
            if self.method == "autograd":
                g = self._component_grad(i)
                return torch.autograd.grad(g[:, j].sum(), self.x, create_graph=True)[0][:, k]
            vj, vk = self._unit(j), self._unit(k)

            def directional(y: Tensor) -> Tensor:
                return _as_2d(torch.func.jvp(self.fn, (y,), (vj,))[1])[:, i]

            return torch.func.jvp(directional, (self.x,), (vk,))[1]

    # ------------------------------------------------------------ vector calculus
    def grad(self, i: int = 0, dims: Optional[Sequence[int]] = None) -> Tensor:
        """Spatial gradient ``∇_x u_i``, shape ``(N, d)`` (or over ``dims``); one reverse pass with autograd."""
        if self.method != "autograd":
            return super().grad(i, dims)
        dims = self.spatial_dims if dims is None else dims
        g = self._component_grad(i)
        if list(dims) == list(range(self.D))[: len(dims)]:
            return g[:, : len(dims)]
        return g[:, list(dims)]

    def divergence(self, components: Optional[Sequence[int]] = None) -> Tensor:
        """``∇·v = Σ_k ∂v_k/∂x_k`` for the velocity made of ``components`` (default: the first d)."""
        components = list(range(self.spatial_dim)) if components is None else list(components)
        if len(components) != self.spatial_dim:
            raise ValueError(
                f"divergence needs {self.spatial_dim} components (one per spatial dim), got {len(components)}"
            )
        out = None
        for k, i in enumerate(components):
            term = self.d(i, k)
            out = term if out is None else out + term
        return out

    def jacobian(self) -> Tensor:
        """Full input Jacobian ``∂u_i/∂x_k``, shape ``(N, m, D)``."""
        return torch.stack(
            [torch.stack([self.d(i, k) for k in range(self.D)], dim=1) for i in range(self.n_outputs)], dim=1
        )

    def _check(self, i: int, k: int) -> None:
        if not 0 <= k < self.D:
            raise IndexError(f"input index k={k} out of range [0, {self.D})")
        if not 0 <= i < self.n_outputs:
            raise IndexError(f"output index i={i} out of range [0, {self.n_outputs})")


def plan_lists(plan: Iterable[tuple]) -> Tuple[list, list]:
    """``(first, second)`` index lists for :func:`pinnkit.jets.mlp_jet` from a set of requests."""
    second = sorted({(r[1], r[2]) for r in plan if r[0] == "d2"})
    first = sorted({r[1] for r in plan if r[0] == "d"} | {k for p in second for k in p})
    return first, second


# ---------------------------------------------------------------- functional API
def gradient(fn: Fn, x: Tensor, i: int = 0, method: str = "autograd") -> Tensor:
    """``∇u_i`` with respect to all inputs, shape ``(N, D)``."""
    f = Fields(fn, x, method=method)
    return torch.stack([f.d(i, k) for k in range(f.D)], dim=1)


def time_derivative(fn: Fn, x: Tensor, i: int = 0, method: str = "autograd") -> Tensor:
    """``∂u_i/∂t`` with time the last input column, shape ``(N,)``."""
    return Fields(fn, x, spatial_dim=x.shape[1] - 1, method=method).dt(i)


def laplacian(fn: Fn, x: Tensor, i: int = 0, spatial_dim: Optional[int] = None, method: str = "autograd") -> Tensor:
    """``Σ_k ∂²u_i/∂x_k²`` over the first ``spatial_dim`` inputs (all by default), shape ``(N,)``."""
    return Fields(fn, x, spatial_dim=spatial_dim, method=method).laplacian(i)


def hessian_diagonal(fn: Fn, x: Tensor, i: int = 0, method: str = "autograd") -> Tensor:
    """``(∂²u_i/∂x_k²)_k`` over all inputs, shape ``(N, D)``."""
    f = Fields(fn, x, method=method)
    return torch.stack([f.d2(i, k) for k in range(f.D)], dim=1)


def divergence(fn: Fn, x: Tensor, spatial_dim: Optional[int] = None, method: str = "autograd") -> Tensor:
    """``Σ_k ∂u_k/∂x_k`` of a vector field whose first ``d`` outputs are its components, shape ``(N,)``."""
    return Fields(fn, x, spatial_dim=spatial_dim, method=method).divergence()


def jacobian(fn: Fn, x: Tensor, method: str = "autograd") -> Tensor:
    """``∂u_i/∂x_k``, shape ``(N, m, D)``."""
    return Fields(fn, x, method=method).jacobian()
