"""The empirical neural tangent kernel of a PINN (Wang, Yu & Perdikaris 2022, J. Comput. Phys. 449, 110768).

For loss terms with pointwise residuals ``r_c(x_i)`` (the PDE residual, each condition's residual; one row per
point and output component) the kernel blocks are

    K_cd(i, j) = ⟨∂_θ r_c(x_i), ∂_θ r_d(y_j)⟩,

so that under gradient flow on ``Σ_c mean_i r_c²`` the residuals evolve as ``dr/dt = −K r`` (their eq. 3.7
up to the mean's 1/N). ``K_uu`` of the paper is the block of a Dirichlet/initial condition, ``K_rr`` the PDE's.
The blocks are computed exactly on ``points`` rows per term (evenly spaced through the batch, all of them when
fewer): one row of the Jacobian ``J_c = ∂r_c/∂θ`` per residual entry, by batched reverse mode.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Optional, Sequence

import torch
from torch import Tensor

__all__ = ["jacobian_rows", "pick_rows", "ntk_blocks", "trace_means"]


def pick_rows(r: Tensor, points: Optional[int]) -> Tensor:
    """At most ``points`` rows of the residual ``r`` (N, k), evenly spaced (all when ``points`` is None or
    ``N <= points``), flattened to one entry per (row, component)."""
    n = r.shape[0]
    if points is not None and n > points:
        idx = torch.linspace(0, n - 1, points, device=r.device).round().long()
        r = r[idx]
    return r.reshape(-1)


def jacobian_rows(values: Tensor, params: Sequence[Tensor]) -> Tensor:
    """``J`` of shape ``(len(values), P)``: row ``i`` the gradient of ``values[i]`` with respect to all of
    ``params`` (flattened in order; parameters ``values`` does not depend on give zeros). Uses batched
    reverse mode (``is_grads_batched``), row by row where an operation has no batching rule."""
    params = [p for p in params if p.requires_grad]
    n = values.numel()
    flat = values.reshape(-1)
    eye = torch.eye(n, dtype=flat.dtype, device=flat.device)

    def assemble(gs: Iterable[Optional[Tensor]], lead: tuple) -> Tensor:
        return torch.cat(
            [
                (g if g is not None else torch.zeros(*lead, *p.shape, dtype=flat.dtype, device=flat.device)).reshape(
                    *lead, -1
                )
                for g, p in zip(gs, params)
            ],
            dim=-1,
        )

    try:
        gs = torch.autograd.grad(
            flat, params, grad_outputs=eye, retain_graph=True, allow_unused=True, is_grads_batched=True
        )
        return assemble(gs, (n,))
    except RuntimeError:  # no batching rule for some operation: one reverse pass per row
        rows: List[Tensor] = []
        for i in range(n):
            gs = torch.autograd.grad(flat[i], params, retain_graph=True, allow_unused=True)
            rows.append(assemble(gs, ()))
        return torch.stack(rows) if rows else torch.zeros(0, sum(p.numel() for p in params), dtype=flat.dtype)


def ntk_blocks(
    residuals: Mapping[str, Tensor], params: Sequence[Tensor], points: Optional[int] = 64
) -> Dict[str, Dict[str, Tensor]]:
    """``{c: {d: K_cd}}`` for every pair of terms in ``residuals`` (``{name: (N_c, k)}``, with graphs to
    ``params``), on at most ``points`` rows per term (:func:`pick_rows`). The result carries no graph."""
    jac = {name: jacobian_rows(pick_rows(r, points), params).detach() for name, r in residuals.items()}
    return {c: {d: jac[c] @ jac[d].T for d in jac} for c in jac}


def trace_means(
    residuals: Mapping[str, Tensor], params: Sequence[Tensor], points: Optional[int] = 64
) -> Dict[str, Tensor]:
    """``{c: (Σ_i ‖∂_θ r_c(x_i)‖², number of rows)}`` as a 2-vector per term — ``Tr K_cc`` and its size on the
    rows :func:`pick_rows` picks (a sum and a count, so that ranks can add theirs)."""
    out = {}
    for name, r in residuals.items():
        J = jacobian_rows(pick_rows(r, points), params).detach()
        out[name] = torch.stack([J.pow(2).sum(), torch.tensor(float(J.shape[0]), dtype=J.dtype, device=J.device)])
    return out
