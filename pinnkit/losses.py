"""PINN loss terms: mean squared PDE residual, condition residuals, optional gradient penalties.

``L(θ) = w_pde · mean_i |R(x_i)|² + Σ_c w_c · mean_j |B_c(y_j)|²`` with ``|·|²`` summed over residual
components (Raissi, Perdikaris & Karniadakis 2019, eq. 4), plus, when asked for:

* ``"grad_u"``: ``mean_i Σ_c ‖∇_x u_c(x_i)‖²`` — a penalty on the surrogate's spatial gradient, the quantity
  that enters the exponent of the blow-up bound (Kumar & Mukherjee 2024, Theorem 1);
* ``"gpinn"``: ``mean_i Σ_r Σ_k |∂R_r/∂x_k(x_i)|²`` over all inputs including time — gradient-enhanced
  PINN (Yu, Lu, Meng & Karniadakis 2022, eq. 5).

Conditions that the model imposes exactly (its ``enforced_conditions``) are left out of the loss.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict, Iterable, Mapping, Optional

import torch
from torch import Tensor

from .derivatives import Fields
from .sampling import Batch

if TYPE_CHECKING:
    from pinnkit.equations import Problem

__all__ = ["mean_square", "loss_terms", "point_residuals", "total_loss", "PENALTIES"]

PENALTIES = ("grad_u", "gpinn")


def mean_square(r: Tensor) -> Tensor:
    """``mean_i Σ_k r_ik²`` for a residual of shape ``(N, k)``."""
    return r.pow(2).sum(dim=1).mean() if r.dim() == 2 else r.pow(2).mean()


def enforced_conditions(model: object) -> frozenset:
    """Names of the conditions a model satisfies by construction (hard constraints)."""
    return frozenset(getattr(model, "enforced_conditions", ()))


def _fields_factory(problem, model, method, plans, created) -> Callable[[str], Callable[[Tensor], Fields]]:
    """``fields_for(term)(x)``: the :class:`Fields` of ``model`` at ``x`` with ``term``'s derivative plan,
    remembered in ``created`` so the plans can learn what each term asked for."""

    def fields_for(term: str) -> Callable[[Tensor], Fields]:
        def fields(x: Tensor) -> Fields:
            plan = plans.get(term) if plans is not None else None
            f = Fields(model, x, spatial_dim=problem.spatial_dim, method=method, plan=plan)
            created.setdefault(term, []).append(f)
            return f

        return fields

    return fields_for


def _condition_residuals(problem, model, batch: Batch, fields_for) -> Dict[str, Tensor]:
    """``{condition name: residual (N_c, k)}`` for the conditions the model does not impose exactly."""
    skip = enforced_conditions(model)
    out = {}
    for c in problem.conditions():
        if c.name not in skip:
            normals = batch.normals.get(c.name) if getattr(c, "needs_normals", False) else None
            out[c.name] = c.residual(fields_for(c.name), batch.conditions[c.name], normals)
    return out


def _learn_plans(plans: Optional[Dict[str, frozenset]], method: str, update: bool, created: Dict[str, list]) -> None:
    if plans is not None and method == "taylor" and update:
        for term, fs in created.items():
            plans[term] = frozenset(plans.get(term, frozenset())).union(*(g.requests for g in fs))


def point_residuals(
    problem: Problem,
    model: Callable[[Tensor], Tensor],
    batch: Batch,
    method: str = "autograd",
    plans: Optional[Dict[str, frozenset]] = None,
) -> Dict[str, Tensor]:
    """Pointwise residuals ``{"pde": R(x_i) (N, r), <condition name>: B_c(y_j) (N_c, k)}`` on ``batch``, each
    with its graph to the parameters: the quantities whose mean squares are :func:`loss_terms` (the NTK of a
    PINN and causal weighting read them point by point)."""
    created: Dict[str, list] = {}
    fields_for = _fields_factory(problem, model, method, plans, created)
    out = {"pde": problem.residual(fields_for("pde")(batch.domain))}
    out.update(_condition_residuals(problem, model, batch, fields_for))
    return out


def loss_terms(
    problem: Problem,
    model: Callable[[Tensor], Tensor],
    batch: Batch,
    method: str = "autograd",
    penalties: Iterable[str] = (),
    plans: Optional[Dict[str, frozenset]] = None,
    update_plans: bool = True,
    pde_loss: Optional[Callable[[Tensor, Tensor], Tensor]] = None,
) -> Dict[str, Tensor]:
    """Unweighted loss terms ``{"pde": …, <condition name>: …, <penalty>: …}``.

    With ``method="taylor"``, ``plans`` (a dict the caller keeps between calls) maps each term to the
    derivatives its residual asked for; it is filled on the first call and used from then on
    (``update_plans=False`` leaves it as it is, e.g. inside a compiled graph). ``pde_loss(residual, x)``,
    when given, adds the term ``"pde_weighted"`` computed from the pointwise PDE residual and its points
    (e.g. :class:`pinnkit.training.causal.CausalWeighting`); ``"pde"`` stays the plain mean square.
    """
    penalties = tuple(penalties)
    created: Dict[str, list] = {}
    fields_for = _fields_factory(problem, model, method, plans, created)
    x = batch.domain
    if "gpinn" in penalties:
        x = x.detach().requires_grad_(True)
    f = fields_for("pde")(x)
    residual = problem.residual(f)
    terms = {"pde": mean_square(residual)}
    if pde_loss is not None:
        terms["pde_weighted"] = pde_loss(residual, x)
    if "grad_u" in penalties:
        terms["grad_u"] = torch.stack([f.grad(i) for i in range(f.n_outputs)], dim=1).pow(2).sum(dim=(1, 2)).mean()
    if "gpinn" in penalties:
        grads = [torch.autograd.grad(residual[:, r].sum(), x, create_graph=True)[0] for r in range(residual.shape[1])]
        terms["gpinn"] = torch.stack(grads, dim=1).pow(2).sum(dim=(1, 2)).mean()
    for name, r in _condition_residuals(problem, model, batch, fields_for).items():
        terms[name] = mean_square(r)
    _learn_plans(plans, method, update_plans, created)
    return terms


def total_loss(terms: Mapping[str, Tensor], weights: Optional[Mapping[str, float]] = None) -> Tensor:
    """``Σ_name w_name · term_name`` with missing weights equal to 1."""
    weights = weights or {}
    return sum(weights.get(k, 1.0) * v for k, v in terms.items())
