"""Physics-informed DeepONet losses (Wang, Wang & Perdikaris 2021, Sci. Adv. 7, eabi8605) for any
:class:`~pinnkit.equations.OperatorProblem`: the engine side, no PDE here.

For a mini-batch of B input functions u^(i) (sensor values, (B, m)) and the problem's residual R:

* ``L_pde = mean_{i,r} |R[G_θ(u^(i))](x_r, t_r)|²`` at N_r uniform points of [0, L] × [0, T] per function:
  shared by the batch (:class:`~pinnkit.operator_fields.SharedFields`, forward-mode trunk jet, B× cheaper), or
  independent per function (:class:`~pinnkit.derivatives.Fields` on ``y ↦ G_θ(u^(index))(y)``, reverse-mode
  autograd in y);
* ``L_initial = mean_{i,j} |G_θ(u^(i))(x_j, 0) − initial(u^(i))_j|²`` at the sensors x_j (all of them, or
  ``n_initial`` drawn without replacement);
* ``L_boundary = mean_{i,l} |G(0, t_l) − G(L, t_l)|² + mean_{i,l} |∂_x G(0, t_l) − ∂_x G(L, t_l)|²`` for an
  L-periodic problem; dropped when the net is exactly L-periodic (:func:`exactly_periodic`).

Random numbers come from the caller's draw functions ``uniform(*shape)`` (U[0, 1) of the working dtype) and
``randperm(n, k)`` (the first k of a permutation of n), called in a fixed order: residual points, initial
sensors, boundary times, so a run is reproducible from the caller's generator.
"""

from __future__ import annotations

from typing import Callable, Dict, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .derivatives import Fields
from .nets.deeponet import DeepONet
from .operator_fields import DEFAULT_FIRST, DEFAULT_SECOND, SharedFields

__all__ = [
    "exactly_periodic",
    "check_problem_for_model",
    "input_values",
    "residual_shared",
    "residual_independent",
    "initial_loss",
    "boundary_loss",
    "physics_losses",
]

Uniform = Callable[..., Tensor]
RandPerm = Callable[[int, int], Tensor]
Rows = Tuple[int, int]


def exactly_periodic(model, problem) -> bool:
    """The net's periodic embedding makes G(0, t) = G(L, t) and G_x(0, t) = G_x(L, t) hold identically."""
    emb = getattr(model, "periodic", None)
    return problem.period is not None and emb is not None and abs(emb.period - problem.period) < 1e-12


def check_problem_for_model(problem, model, physics: bool) -> None:
    """Fail early when the model cannot represent the problem's conditions (physics-informed modes only)."""
    if problem.spatial_dim != 1:
        raise ValueError(f"operator problems must have spatial_dim=1, got {problem.spatial_dim}")
    if not physics:
        return
    if problem.period is None:
        raise NotImplementedError(
            f"{type(problem).__name__} is not periodic in x: boundary conditions of operator "
            "problems are not supported yet (declare the problem periodic)"
        )
    if model.hard_initial:
        if not problem.initial_is_input:
            raise ValueError(
                f"model.hard_initial builds in s(x, 0) = u(x), but {type(problem).__name__} overrides "
                "initial(); use a model with hard_initial=False"
            )
        if abs(problem.period - 1.0) > 1e-12:
            raise ValueError(
                f"model.hard_initial interpolates the sensors on [0, 1), but the problem's period is {problem.period}"
            )


def input_values(problem, u: Tensor, x: Tensor, index: Optional[Tensor] = None) -> Tensor:
    """The input functions at x: trigonometric interpolant of the sensor values (sensors x_j = jL/m), at the
    shared points x (N,) → (B, N), or with ``index`` row r of function index[r] → (N,)."""
    xs = x / problem.period
    return DeepONet.initial_interpolant(u, xs, pointwise_index=index)[0]


def _scale(problem, dtype) -> Tensor:
    return torch.tensor([problem.length, problem.t_final], dtype=dtype)


def residual_shared(
    problem, model, u: Tensor, y: Tensor, first: Sequence[int] = DEFAULT_FIRST, second: Sequence[int] = DEFAULT_SECOND
) -> Tensor:
    """The problem's residual for every function of u (B, m) at the shared points y (N, 2), shape (B, N) (or
    (B, N, r) for an r-component residual), derivatives by the forward-mode trunk jet."""
    f = SharedFields(model, u, y, first, second)
    inputs = input_values(problem, u, y[:, 0]).reshape(-1) if problem.uses_inputs else None
    r = problem.residual(f, inputs)
    return r.reshape(f.B, f.N) if r.numel() == f.B * f.N else r.reshape(f.B, f.N, -1)


def residual_independent(problem, model, u: Tensor, y: Tensor, index: Tensor) -> Tensor:
    """The problem's residual of G_θ(u[index_r]) at each row y_r, shape (N,) (or (N, r)), derivatives by
    reverse-mode autograd in y."""
    f = Fields(lambda z: model.pointwise(u, z, index), y, spatial_dim=1, method="autograd")
    inputs = input_values(problem, u, y[:, 0], index) if problem.uses_inputs else None
    r = problem.residual(f, inputs)
    return r[:, 0] if r.dim() == 2 and r.shape[1] == 1 else r


def initial_loss(
    problem, model, u: Tensor, sensors: Tensor, n_initial: int, randperm: RandPerm, rows: Optional[Rows] = None
) -> Tensor:
    """``mean |G(u)(x_j, 0) − initial(u)_j|²`` over all m sensors (``n_initial`` 0 or m) or n_initial of them."""
    m = sensors.shape[0]
    j = randperm(m, n_initial) if 0 < n_initial < m else torch.arange(m)
    u = _rows(u, rows)
    y0 = torch.stack([sensors[j], torch.zeros(len(j), dtype=sensors.dtype)], dim=1)
    return torch.mean((model(u, y0) - problem.initial(u)[:, j]) ** 2)


def boundary_loss(
    problem, model, u: Tensor, n_boundary: int, shared_points: bool, uniform: Uniform, rows: Optional[Rows] = None
) -> Tensor:
    """Periodic mismatch in value and x-derivative between x = 0 and x = L at n_boundary times t_l ~ U[0, T]
    (shared by the batch, or n_boundary per function)."""
    L, T = problem.period, problem.t_final
    if shared_points:
        t = uniform(n_boundary) * T
        yb = torch.cat([torch.stack([torch.zeros_like(t), t], 1), torch.stack([torch.full_like(t, L), t], 1)])
        bf = model.branch_features(_rows(u, rows))[:, 0]
        tau, d1, _ = model.trunk_jet(yb, first=(0,), second=())
        s, s_x = bf @ tau[:, 0].T, bf @ d1[0][:, 0].T
        n = len(t)
        return torch.mean((s[:, :n] - s[:, n:]) ** 2) + torch.mean((s_x[:, :n] - s_x[:, n:]) ** 2)
    b = u.shape[0]
    t = uniform(b * n_boundary) * T
    lo, hi = rows if rows is not None else (0, b)
    t, u, b = t[lo * n_boundary : hi * n_boundary], u[lo:hi], hi - lo
    yb = torch.cat([torch.stack([torch.zeros_like(t), t], 1), torch.stack([torch.full_like(t, L), t], 1)])
    yb.requires_grad_(True)
    ib = torch.arange(b).repeat_interleave(n_boundary).repeat(2)
    s = model.pointwise(u, yb, ib)
    (g,) = torch.autograd.grad(s.sum(), yb, create_graph=True)
    n = b * n_boundary
    return torch.mean((s[:n] - s[n:]) ** 2) + torch.mean((g[:n, 0] - g[n:, 0]) ** 2)


def physics_losses(
    problem,
    model,
    u: Tensor,
    sensors: Tensor,
    *,
    n_collocation: int,
    n_initial: int,
    n_boundary: int,
    shared_points: bool,
    terms: Sequence[str],
    uniform: Uniform,
    randperm: RandPerm,
    rows: Optional[Rows] = None,
) -> Dict[str, Tensor]:
    """``{"pde", "initial", "boundary"}`` (those of ``terms``; "pde" always) for the functions u (B, m).

    Draws, in order: the residual points (N_r × 2 shared, or B·N_r × 2), the initial sensors (when
    0 < n_initial < m), the boundary times (n_boundary shared, or B·n_boundary). ``rows = (lo, hi)``: the
    means over the functions ``u[lo:hi]`` only, from the same draws as for the whole batch (a process's
    shard of the batch under ``torchrun``)."""
    b = u.shape[0]
    lo, hi = rows if rows is not None else (0, b)
    scale = _scale(problem, u.dtype)
    if shared_points:
        y = uniform(n_collocation, 2) * scale
        out = {"pde": torch.mean(residual_shared(problem, model, u[lo:hi], y) ** 2)}
    else:
        y = (uniform(b * n_collocation, 2) * scale)[lo * n_collocation : hi * n_collocation]
        index = torch.arange(hi - lo).repeat_interleave(n_collocation)
        out = {"pde": torch.mean(residual_independent(problem, model, u[lo:hi], y, index) ** 2)}
    if "initial" in terms:
        out["initial"] = initial_loss(problem, model, u, sensors, n_initial, randperm, rows)
    if "boundary" in terms:
        out["boundary"] = boundary_loss(problem, model, u, n_boundary, shared_points, uniform, rows)
    return out


def _rows(u: Tensor, rows: Optional[Rows]) -> Tensor:
    return u if rows is None else u[rows[0] : rows[1]]
