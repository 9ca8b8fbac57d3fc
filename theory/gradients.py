r"""Gradient-penalty diagnostics for PINNs on inviscid Burgers near blow-up.

Kumar & Mukherjee (MLST 5 025063, 2024; arXiv 2310.05169, journal Thm 4.1) bound the error by
``log(C1 C2/4) + C1·L`` with ``C1 = d²‖∇u_θ‖_∞ + 1 + d²‖∇u‖_∞`` and
``C2 = ∫‖R_t‖² + ∫‖R_pde‖² + d²‖∇u_θ‖_∞ ∫‖u_θ‖² + d²‖∇u‖_∞ ∫‖u‖²``: the surrogate's gradient enters the
exponent and multiplies ``∫‖u_θ‖²``, the paper's theoretical reason why penalising ``‖∇_x u_θ‖`` helps.
gPINN (Yu, Lu, Meng & Karniadakis 2022, CMAME 393 114823) penalises the gradient of the residual,
``Σ_k ∫ |∂R/∂x_k|²``. :func:`gradient_diagnostics` reports both gradients and their share in ``C1``, ``C2``.

Status: sups are maxima over the sample points and integrals quadratures — estimates (``estimated = True``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

import numpy as np
import torch
from torch import nn

from pinnkit.derivatives import Fields
from pinnkit.metrics import weighted_sum
from pinnkit.validation import check_choice, check_points

from .burgers_blowup import (
    GRAD_NORMS,
    MODEL_DESCRIPTION,
    QUADRATURES,
    Theorem1Terms,
    check_blowup_problem,
    check_theorem1_args,
    field_fn,
    matrix_norm,
    model_device,
    model_dtype,
    omega_rule,
    rule_size,
    theorem1,
)
from .checks import ArgumentTypeError, check_count, check_memory, check_module, check_seed, hidden_units

if TYPE_CHECKING:
    from pinnkit.equations.burgers import InviscidBurgersBlowup

__all__ = ["GradientDiagnostics", "gradient_diagnostics", "residual_gradient"]


@dataclass
class GradientDiagnostics:
    r"""Gradient sizes of a surrogate and their weight in the constants of Theorem 1.

    * ``grad_sup = max_samples ‖∇_x u_θ‖`` (matrix norm ``norm`` of the spatial Jacobian ``∂u_θ,i/∂x_j``;
      the sampled estimate of ``‖∇u_θ‖_∞`` in ``C1``), ``grad_l2_sq = ∫_Ω ‖∇_x u_θ‖_F²`` (the quantity a
      gradient penalty ``‖∇_x u_θ‖²`` minimises), ``grad_l2 = √grad_l2_sq``;
    * ``residual_grad_sup = max_samples ‖∇_{x,t} R_pde‖_F``, ``residual_grad_l2_sq = ∫_Ω ‖∇_{x,t} R_pde‖_F²``,
      ``residual_grad_x_l2_sq = ∫_Ω Σ_{i,k≤d} |∂R_i/∂x_k|²`` (gPINN's spatial penalty);
    * ``C1``, ``C2`` of Theorem 1 and the surrogate's shares ``share_C1 = d² grad_sup / C1`` and
      ``share_C2 = d² grad_sup ∫‖u_θ‖² / C2``.
    """

    d: int
    norm: str
    n_samples: int
    grad_sup: float
    grad_l2_sq: float
    grad_l2: float
    residual_grad_sup: float
    residual_grad_l2_sq: float
    residual_grad_l2: float
    residual_grad_x_l2_sq: float
    C1: float
    C2: float
    share_C1: float
    share_C2: float
    estimated: bool = True

    def as_dict(self) -> Dict[str, float]:
        return asdict(self)


def residual_gradient(model: nn.Module, problem: InviscidBurgersBlowup, x: torch.Tensor) -> torch.Tensor:
    """``∂R_i/∂x_k`` at points ``x`` (``(N, D)``), shape ``(N, d, D)``: the residual is built with
    :class:`Fields` (whose derivatives keep ``create_graph=True``) and differentiated once more by
    ``torch.autograd.grad`` with respect to the inputs (rows are independent, so the gradient of the sum
    over rows is the per-row gradient)."""
    check_module("model", model, MODEL_DESCRIPTION)
    check_blowup_problem(problem)
    if not isinstance(x, torch.Tensor):
        raise ArgumentTypeError(f"x must be a torch.Tensor of points, got {type(x).__name__}")
    check_points("x", x, problem.spatial_dim + 1)
    if x.shape[0] < 1:
        raise ValueError("x must hold at least one point, got shape (0, ...)")
    with torch.enable_grad():
        f = Fields(field_fn(model), x, spatial_dim=problem.spatial_dim)
        R = problem.residual(f)
        rows = [torch.autograd.grad(R[:, i].sum(), f.x, retain_graph=True)[0] for i in range(R.shape[1])]
    return torch.stack(rows, dim=1).detach()


def check_gradient_args(
    problem,
    n_samples: Any,
    seed: Any,
    norm: Any,
    method: Any,
    theorem1_terms: Any,
    chunk: Any,
    model: Optional[nn.Module] = None,
) -> Tuple[int, int, int]:
    """The arguments of :func:`gradient_diagnostics`, checked (and what it will hold, ``model``'s linear
    layers included when given, estimated against the memory) before any work."""
    check_blowup_problem(problem)
    check_choice("norm", norm, GRAD_NORMS)
    check_choice("method", method, QUADRATURES)
    seed = check_seed("seed", seed)
    chunk = check_count("chunk", chunk)
    if theorem1_terms is not None and not isinstance(theorem1_terms, Theorem1Terms):
        raise ArgumentTypeError(
            f"theorem1_terms must be None or a Theorem1Terms (a theorem1 result), got {type(theorem1_terms).__name__}"
        )
    n_samples = check_count("n_samples", n_samples)
    d = problem.spatial_dim
    size = rule_size(n_samples, d + 1, method)
    rows = min(chunk, size)
    # the points and weights, the per-chunk Jacobians and residual gradients, and the chunk's second-order
    # autograd graph (every hidden activation with its first and second input derivatives)
    graph = 8 * rows * ((d + 1) ** 2 + 1) * (hidden_units(model) + 16) * 4
    estimate = 8 * size * (3 * (d + 1) + 2) + 8 * rows * 4 * d * (d + 1) + graph
    check_memory("n_samples", n_samples, estimate, f"gradient_diagnostics ({size} points in Ω, chunks of {rows})")
    if theorem1_terms is None:
        check_theorem1_args(problem, n_samples, seed, norm, method, None, None)
    return n_samples, seed, chunk


def gradient_diagnostics(
    model: nn.Module,
    problem: InviscidBurgersBlowup,
    n_samples: int = 8192,
    seed: int = 0,
    norm: str = "max_column_sum",
    method: str = "uniform",
    theorem1_terms: Optional[Theorem1Terms] = None,
    chunk: int = 8192,
) -> GradientDiagnostics:
    """Gradient diagnostics on ``n_samples`` points of ``Ω`` (``method``: ``uniform``/``sobol``/``gauss``).

    ``theorem1_terms``: reuse a :func:`theorem1` result for ``C1``, ``C2`` and ``∫‖u_θ‖²`` (else it is
    computed with the same points; ``grad_sup`` is taken as the larger of the two sampled maxima so that
    the shares use one consistent value of ``‖∇u_θ‖_∞``).
    """
    check_module("model", model, MODEL_DESCRIPTION)
    n_samples, seed, chunk = check_gradient_args(problem, n_samples, seed, norm, method, theorem1_terms, chunk, model)
    d = problem.spatial_dim
    pts, w = omega_rule(problem, n_samples, method, seed)
    dtype, device = model_dtype(model), model_device(model)
    g_sup, r_sup = 0.0, 0.0
    g_l2, r_l2, r_x_l2 = 0.0, 0.0, 0.0
    for i in range(0, len(pts), chunk):
        x = torch.as_tensor(pts[i : i + chunk], dtype=dtype, device=device)
        wi = w[i : i + chunk]
        with torch.enable_grad():
            f = Fields(field_fn(model), x, spatial_dim=d)
            J = f.jacobian()[:, :, :d].detach().to(torch.float64).cpu().numpy()
        G = residual_gradient(model, problem, x).to(torch.float64).cpu().numpy()
        g_sup = max(g_sup, float(matrix_norm(J, norm).max()))
        g_l2 += weighted_sum(wi, (J**2).sum(axis=(1, 2)))
        gf = (G**2).sum(axis=(1, 2))
        r_sup = max(r_sup, float(np.sqrt(gf.max())))
        r_l2 += weighted_sum(wi, gf)
        r_x_l2 += weighted_sum(wi, (G[:, :, :d] ** 2).sum(axis=(1, 2)))
    t1 = (
        theorem1_terms
        if theorem1_terms is not None
        else theorem1(model, problem, n_samples=n_samples, seed=seed, norm=norm, method=method)
    )
    d2 = d * d
    G_sup = max(g_sup, t1.grad_surrogate_sup)
    C1 = d2 * G_sup + 1.0 + d2 * t1.grad_exact_sup
    C2 = (
        t1.initial_residual_sq
        + t1.pde_residual_sq
        + d2 * G_sup * t1.surrogate_sq
        + d2 * t1.grad_exact_sup * t1.exact_sq
    )
    return GradientDiagnostics(
        d=d,
        norm=norm,
        n_samples=len(pts),
        grad_sup=g_sup,
        grad_l2_sq=g_l2,
        grad_l2=math.sqrt(g_l2),
        residual_grad_sup=r_sup,
        residual_grad_l2_sq=r_l2,
        residual_grad_l2=math.sqrt(r_l2),
        residual_grad_x_l2_sq=r_x_l2,
        C1=C1,
        C2=C2,
        share_C1=d2 * G_sup / C1,
        share_C2=d2 * G_sup * t1.surrogate_sq / C2,
    )
