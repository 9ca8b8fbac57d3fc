"""PINN loss terms: mean squared PDE residual and condition residuals, and their weighted sum.

``L(θ) = w_pde · mean_i |R(x_i)|² + Σ_c w_c · mean_j |B_c(y_j)|²`` with ``|·|²`` summed over residual
components (Raissi, Perdikaris & Karniadakis 2019, eq. 4).
"""

from __future__ import annotations

from typing import Callable, Dict, Mapping, Optional

import torch
from torch import Tensor

from .derivatives import Fields
from .sampling import Batch

__all__ = ["mean_square", "loss_terms", "total_loss"]


def mean_square(r: Tensor) -> Tensor:
    """``mean_i Σ_k r_ik²`` for a residual of shape ``(N, k)``."""
    return r.pow(2).sum(dim=1).mean() if r.dim() == 2 else r.pow(2).mean()


def loss_terms(problem, model: Callable[[Tensor], Tensor], batch: Batch, method: str = "autograd") -> Dict[str, Tensor]:
    """Unweighted loss terms ``{"pde": …, <condition name>: …}``."""

    def fields(x: Tensor) -> Fields:
        return Fields(model, x, spatial_dim=problem.spatial_dim, method=method)

    terms = {"pde": mean_square(problem.residual(fields(batch.domain)))}
    for c in problem.conditions():
        terms[c.name] = mean_square(c.residual(fields, batch.conditions[c.name]))
    return terms


def total_loss(terms: Mapping[str, Tensor], weights: Optional[Mapping[str, float]] = None) -> Tensor:
    """``Σ_name w_name · term_name`` with missing weights equal to 1."""
    weights = weights or {}
    return sum(weights.get(k, 1.0) * v for k, v in terms.items())
