"""DeepONet (Lu, Jin, Pang, Zhang & Karniadakis 2021, Nat. Mach. Intell. 3): an operator G mapping an input
function u, seen through its values at m fixed sensors, to a function of y = (x, t):

    G_θ(u)(y) = Σ_{k=1}^{q} b_k(u(x_1), …, u(x_m)) · τ_k(y) + b_0,

with the branch net b: R^m → R^q, the trunk net τ: R^d → R^q (both :class:`~pinnkit.nets.MLP`) and a
trainable bias b_0.  For ``n_out`` outputs both nets emit q·n_out numbers and output j uses the j-th block
of q ("split branch and trunk", Lu et al. 2022, CMAME 393).  As in Lu et al. the trunk's last layer is
followed by the activation as well (``trunk_output_activation``).

The trunk input may be embedded first: ``fourier_features > 0`` uses random Fourier features
γ(y) = [cos By, sin By], B ~ N(0, σ²) (Wang, Wang & Perdikaris 2021); ``periodic=(L, K)`` replaces the first
coordinate x by [cos(2πkx/L), sin(2πkx/L)]_{k=1..K}, which makes every output exactly L-periodic in x.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from typing import Dict, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from ..jets import activate_jet, mlp_jet_tangents
from ..validation import check_int, check_positive
from .mlp import MLP, FourierFeatures

__all__ = ["DeepONet", "PeriodicEmbedding"]


class PeriodicEmbedding(nn.Module):
    """``(x, rest) ↦ (cos(2πkx/L), sin(2πkx/L) for k = 1..K, rest)``: exact L-periodicity in the first column."""

    def __init__(self, period: float = 1.0, n_modes: int = 4) -> None:
        super().__init__()
        check_positive("period", period)
        check_int("n_modes", n_modes, 1)
        self.period, self.n_modes = float(period), int(n_modes)
        self.register_buffer(
            "k", 2.0 * math.pi * torch.arange(1, n_modes + 1, dtype=torch.get_default_dtype()) / period
        )

    def out_dim(self, in_dim: int) -> int:
        return 2 * self.n_modes + in_dim - 1

    def forward(self, y: Tensor) -> Tensor:
        z = y[:, :1] * self.k
        return torch.cat([torch.cos(z), torch.sin(z), y[:, 1:]], dim=-1)


class DeepONet(nn.Module):
    """Unstacked DeepONet ``G_θ(u)(y) = Σ_k b_k(u) τ_k(y) + b_0`` (Lu et al. 2021).

    Args:
        m_sensors: number m of sensor values the branch net reads.
        coord_dim: dimension d of the trunk input y (2 for (x, t)).
        q: common output dimension of branch and trunk (per output).
        n_out: number of outputs; branch and trunk then emit ``q · n_out`` numbers.
        branch / trunk ``width`` and ``depth``: hidden layers of the two MLPs.
        activation: hidden activation of both nets (see :mod:`pinnkit.nets.activations`).
        trunk_output_activation: apply the activation to the trunk's output too (Lu et al. 2021).
        fourier_features, fourier_sigma: random Fourier features on the (embedded) trunk input; 0 = none.
        periodic: ``(period, n_modes)`` for an exactly periodic first trunk coordinate, or None.
        trunk_input_bounds: ``(lower, upper)`` box of y mapped onto [-1, 1]^d before the embedding.
        seed: seeds parameter initialisation and the Fourier matrix (None = torch's global generator).
    """

    def __init__(
        self,
        m_sensors: int,
        coord_dim: int = 2,
        q: int = 64,
        n_out: int = 1,
        branch_width: int = 64,
        branch_depth: int = 3,
        trunk_width: int = 64,
        trunk_depth: int = 3,
        activation: str = "tanh",
        trunk_output_activation: bool = True,
        fourier_features: int = 0,
        fourier_sigma: float = 1.0,
        periodic: Optional[Tuple[float, int]] = None,
        hard_initial: bool = False,
        trunk_input_bounds: Optional[Tuple[Sequence[float], Sequence[float]]] = None,
        seed: Optional[int] = None,
    ) -> None:
        super().__init__()
        self.m_sensors = check_int("m_sensors", m_sensors, 1)
        self.coord_dim = check_int("coord_dim", coord_dim, 1)
        self.q = check_int("q", q, 1)
        self.n_out = check_int("n_out", n_out, 1)
        check_int("fourier_features", fourier_features, 0)
        if trunk_input_bounds is not None and periodic is not None:
            raise ValueError("periodic and trunk_input_bounds exclude each other: the periodic embedding needs raw x")
        if not isinstance(trunk_output_activation, bool):
            raise ValueError(f"trunk_output_activation must be True or False, got {trunk_output_activation!r}")
        self.config = dict(
            m_sensors=m_sensors,
            coord_dim=coord_dim,
            q=q,
            n_out=n_out,
            branch_width=branch_width,
            branch_depth=branch_depth,
            trunk_width=trunk_width,
            trunk_depth=trunk_depth,
            activation=activation,
            trunk_output_activation=trunk_output_activation,
            fourier_features=fourier_features,
            fourier_sigma=fourier_sigma,
            periodic=None if periodic is None else [float(periodic[0]), int(periodic[1])],
            trunk_input_bounds=trunk_input_bounds,
            hard_initial=hard_initial,
            seed=seed,
        )
        if not isinstance(hard_initial, bool):
            raise ValueError(f"hard_initial must be True or False, got {hard_initial!r}")
        if hard_initial and (coord_dim != 2 or n_out != 1):
            raise ValueError(f"hard_initial needs coord_dim=2 (y = (x, t)) and n_out=1, got {coord_dim}, {n_out}")
        self.hard_initial = hard_initial
        ctx = torch.random.fork_rng(devices=[]) if seed is not None else nullcontext()
        with ctx:
            if seed is not None:
                torch.manual_seed(seed)
            self.periodic = PeriodicEmbedding(*periodic) if periodic is not None else None
            trunk_in = self.periodic.out_dim(coord_dim) if self.periodic is not None else coord_dim
            fourier = (
                FourierFeatures(trunk_in, fourier_features, fourier_sigma, seed=None if seed is None else seed + 1)
                if fourier_features > 0
                else None
            )
            self.branch = MLP(m_sensors, q * n_out, branch_width, branch_depth, activation)
            self.trunk = MLP(
                trunk_in,
                q * n_out,
                trunk_width,
                trunk_depth,
                activation,
                fourier=fourier,
                input_bounds=trunk_input_bounds,
            )
        self.trunk_output_activation = trunk_output_activation
        self.bias = nn.Parameter(torch.zeros(n_out))

    # ------------------------------------------------------------ the two nets
    def branch_features(self, u: Tensor) -> Tensor:
        """b(u): (B, m) → (B, n_out, q)."""
        if u.dim() != 2 or u.shape[1] != self.m_sensors:
            raise ValueError(f"u must have shape (n_functions, m_sensors={self.m_sensors}), got {tuple(u.shape)}")
        return self.branch(u).reshape(u.shape[0], self.n_out, self.q)

    def _check_coords(self, y: Tensor) -> None:
        if y.dim() != 2 or y.shape[1] != self.coord_dim:
            raise ValueError(f"y must have shape (n_points, coord_dim={self.coord_dim}), got {tuple(y.shape)}")

    def trunk_features(self, y: Tensor) -> Tensor:
        """τ(y): (P, d) → (P, n_out, q)."""
        self._check_coords(y)
        z = self.periodic(y) if self.periodic is not None else y
        t = self.trunk(z)
        if self.trunk_output_activation:
            t = self.trunk.act(t)
        return t.reshape(y.shape[0], self.n_out, self.q)

    # ------------------------------------------------------------ evaluation
    def forward(self, u: Tensor, y: Tensor) -> Tensor:
        """Cartesian product: every function at every point.  u (B, m), y (P, d) → (B, P) for one output,
        (B, P, n_out) otherwise: ``out[i, p, j] = Σ_k b[i, j, k] τ[p, j, k] + b0[j]``."""
        b, tau = self.branch_features(u), self.trunk_features(y)
        if self.n_out > 1:
            return torch.einsum("bjk,pjk->bpj", b, tau) + self.bias
        out = torch.addmm(self.bias, b[:, 0], tau[:, 0].T)  # one GEMM: b0 + B·Tᵀ
        if self.hard_initial:
            return self.initial_interpolant(u, y[:, 0])[0] + y[:, 1] * out
        return out

    def pointwise(self, u: Tensor, y: Tensor, index: Optional[Tensor] = None) -> Tensor:
        """Paired evaluation: row i of y belongs to function ``index[i]`` of u (or to row i of u when index is
        None).  Returns (N,) for one output, (N, n_out) otherwise.  The branch runs once per function."""
        b = self.branch_features(u)
        if index is not None:
            b = b[index]
        elif b.shape[0] != y.shape[0]:
            raise ValueError(f"u and y need the same number of rows without index, got {b.shape[0]} and {y.shape[0]}")
        out = (b * self.trunk_features(y)).sum(-1) + self.bias
        if self.hard_initial:
            g = self.initial_interpolant(u, y[:, 0], pointwise_index=index)[0]
            return g + y[:, 1] * out[:, 0]
        return out[:, 0] if self.n_out == 1 else out

    @staticmethod
    def initial_interpolant(
        u: Tensor, x: Tensor, pointwise_index: Optional[Tensor] = None, derivatives: bool = False
    ) -> Tuple[Tensor, Optional[Tensor], Optional[Tensor]]:
        """Trigonometric interpolant g of the sensor values u (B, m) on x_i = i/m, [0, 1) periodic, at x:
        ``g(x) = Σ_j w_j (A_j cos 2πjx − B_j sin 2πjx)``, ``A + iB = rfft(u)/m``, w_0 = 1, w_j = 2, w_{m/2} = 1
        (the real cos-only Nyquist term, as in the data generator).  Returns (g, g_x, g_xx) as (B, P) arrays
        (or (P,) with ``pointwise_index``: row p uses function index[p]); the derivatives only if asked.

        With ``hard_initial`` the net is G(u)(x, t) = g(x) + t · (Σ_k b_k τ_k + b_0): the initial condition
        holds exactly (Lagaris et al. 1998-style output transform)."""
        m = u.shape[1]
        c = torch.fft.rfft(u, dim=1) / m
        j = torch.arange(c.shape[1], dtype=u.dtype, device=u.device)
        w = torch.full_like(j, 2.0)
        w[0] = 1.0
        if m % 2 == 0:
            w[-1] = 1.0
        a, b = c.real * w, c.imag * w
        if pointwise_index is not None:
            a, b = a[pointwise_index], b[pointwise_index]
        k = 2 * math.pi * j
        theta = x[:, None] * k
        cos, sin = torch.cos(theta), torch.sin(theta)
        if pointwise_index is not None:
            g = (a * cos - b * sin).sum(1)
            if not derivatives:
                return g, None, None
            return g, (-(a * sin + b * cos) * k).sum(1), (-(a * cos - b * sin) * k**2).sum(1)
        g = a @ cos.T - b @ sin.T
        if not derivatives:
            return g, None, None
        return g, -(a * k) @ sin.T - (b * k) @ cos.T, -(a * k**2) @ cos.T + (b * k**2) @ sin.T

    def trunk_jet(
        self, y: Tensor, first: Sequence[int] = (0, 1), second: Sequence[int] = (0,)
    ) -> Tuple[Tensor, Dict[int, Tensor], Dict[int, Tensor]]:
        """Trunk features and their derivatives in y: returns τ (P, n_out, q), {i: ∂τ/∂y_i for i in first},
        {i: ∂²τ/∂y_i² for i in second}.  Differentiable in the parameters; with shared points the Cartesian
        derivatives are ∂_i G(u)(y) = Σ_k b_k(u) ∂_i τ_k(y).

        One forward Taylor pass (:func:`pinnkit.jets.mlp_jet_tangents`) when the trunk's activation has a jet
        rule: the periodic embedding's derivatives are analytic, (cos kx, sin kx)' = k(−sin kx, cos kx) and
        (cos kx, sin kx)'' = −k²(cos kx, sin kx).  Otherwise (or when a subclass redefines
        :meth:`trunk_features`) nested forward-mode autodiff (``torch.func.jvp``) of :meth:`trunk_features`."""
        if self.trunk.supports_jet and type(self).trunk_features is DeepONet.trunk_features:
            return self._trunk_taylor(y, list(first), list(second))
        return self._trunk_jvp(y, first, second)

    def _trunk_jvp(self, y: Tensor, first: Sequence[int], second: Sequence[int]):
        from torch.func import jvp

        def direction(i: int) -> Tensor:
            e = torch.zeros_like(y)
            e[:, i] = 1.0
            return e

        value = self.trunk_features(y)
        d1 = {i: jvp(self.trunk_features, (y,), (direction(i),))[1] for i in first}
        d2 = {}
        for i in second:
            e = direction(i)
            d2[i] = jvp(lambda z, e=e: jvp(self.trunk_features, (z,), (e,))[1], (y,), (e,))[1]
        return value, d1, d2

    def _trunk_taylor(self, y: Tensor, first: list, second: list):
        self._check_coords(y)
        dirs = first + [i for i in second if i not in first]  # tangent directions carried through the net
        pos = {i: n for n, i in enumerate(dirs)}
        P, d = y.shape
        if self.periodic is None:
            eye = torch.eye(d, dtype=y.dtype, device=y.device)
            jet = [y] + [eye[i].expand(P, d) for i in dirs] + [torch.zeros_like(y) for _ in second]
        else:
            k = self.periodic.k.to(y)
            kx = y[:, :1] * k
            c, s = torch.cos(kx), torch.sin(kx)
            rest = y[:, 1:]
            zero_f, zero_r = torch.zeros_like(c), torch.zeros_like(rest)
            eye = torch.eye(d - 1, dtype=y.dtype, device=y.device)

            def tangent(i: int) -> Tensor:
                if i == 0:
                    return torch.cat([-k * s, k * c, zero_r], dim=-1)
                return torch.cat([zero_f, zero_f, eye[i - 1].expand(P, d - 1)], dim=-1)

            def curvature(i: int) -> Tensor:
                if i == 0:
                    return torch.cat([-(k * k) * c, -(k * k) * s, zero_r], dim=-1)
                return torch.cat([zero_f, zero_f, zero_r], dim=-1)

            jet = [torch.cat([c, s, rest], dim=-1)] + [tangent(i) for i in dirs] + [curvature(i) for i in second]
        pairs = [(pos[i], pos[i]) for i in second]
        out = mlp_jet_tangents(self.trunk, jet, len(dirs), pairs)
        if self.trunk_output_activation:
            out = activate_jet(self.trunk.activation_name, out, len(dirs), pairs)
        shape = (P, self.n_out, self.q)
        d1 = {i: out[1 + pos[i]].reshape(shape) for i in first}
        d2 = {i: out[1 + len(dirs) + n].reshape(shape) for n, i in enumerate(second)}
        return out[0].reshape(shape), d1, d2

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
