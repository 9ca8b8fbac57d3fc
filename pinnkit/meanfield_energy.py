r"""Energies and particle potentials of mean-field two-layer nets (:class:`~pinnkit.nets.MeanFieldTwoLayer`),
for PINN risks and plain regression; the flow that descends them is :mod:`pinnkit.meanfield_trainer`.

**Setting** (Mei, Montanari & Nguyen 2018; Rotskoff & Vanden-Eijnden 2018; Chizat & Bach 2018). The net
``f_μ(x) = ∫ φ(x; θ) dμ(θ)``, ``φ(x; θ) = c σ(w·x + b)``, with ``μ = μ_n = (1/n) Σ_i δ_{θ_i}``. An energy
``E(μ)`` that depends on ``μ`` through ``f_μ`` has first variation (potential)
``V(θ; μ) = δE/δμ(θ) = lim_{ε→0} [E(μ + ε δ_θ) − E(μ)] / ε = DE[f_μ](φ_θ)``, the derivative of ``E`` in the
direction of one more unit's output ``φ_θ``.

**PINN risk.** ``E(μ) = w_r mean_x |R[f_μ](x)|² + Σ_c w_c mean_y |B_c[f_μ](y)|²`` (residual ``R`` at collocation
points, condition residuals ``B_c``; :func:`pinnkit.losses.loss_terms`). Its first variation is

``V(θ; μ) = 2 w_r mean_x ⟨R[f_μ](x), DR[f_μ](φ_θ)(x)⟩ + 2 Σ_c w_c mean_y ⟨B_c[f_μ](y), DB_c[f_μ](φ_θ)(y)⟩``

with ``DR[f](φ)`` the Fréchet derivative (linearisation) of the residual operator at ``f``:

* heat ``R[f] = f_t − κΔf`` is affine: ``DR[f](φ) = φ_t − κΔφ``;
* viscous Burgers ``R[f] = f_t + f f_x − ν f_xx``: ``DR[f](φ) = φ_t + f φ_x + φ f_x − ν φ_xx``;
* initial/Dirichlet data ``B[f] = f − g``: ``DB(φ) = φ``; Neumann ``∂_n f − g``: ``∂_n φ``; periodic
  ``f(x+p) − f(x)``: ``φ(x+p) − φ(x)``.

For regression ``E = ½ mean_x |f_μ(x) − y(x)|²``: ``V(θ; μ) = mean_x ⟨f_μ(x) − y(x), φ_θ(x)⟩``.

**Per-particle potentials for free.** ``f_μ`` is linear in each output weight, ``∂f/∂c_i = σ(w_i·x + b_i)/n``,
and ``φ_{θ_i} = c_i σ(w_i·x + b_i)``, so by linearity of ``DE[f]``
``⟨c_i, ∂E/∂c_i⟩ = DE[f](c_i σ_i)/n = V(θ_i)/n``, i.e. ``V(θ_i) = n ⟨c_i, ∂E/∂c_i⟩``, exactly, for any such
``E`` (no linearisation of the PDE by hand); likewise ``∇_θ V(θ_i) = n ∇_{θ_i} E``. One backward pass of
the loss gives both the velocity field and all ``n`` potentials. :func:`potential_at` evaluates ``V`` at
arbitrary ``θ`` (not particles) by differentiating ``E(f_μ + Σ_j ε_j φ_{θ_j})`` in ``ε`` at 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Tuple

import torch
from torch import Tensor, nn

from .derivatives import METHODS
from .losses import loss_terms, mean_square, total_loss
from .nets import MeanFieldTwoLayer
from .sampling import Batch, Sampler
from .validation import check_choice, check_nonnegative

if TYPE_CHECKING:
    from pinnkit.equations import Problem

__all__ = [
    "RegressionEnergy",
    "PINNEnergy",
    "Energy",
    "Terms",
    "particle_potentials",
    "potential_at",
    "perturbed_energy",
]

Terms = Dict[str, Tensor]

#: the dtypes a mean-field run computes in, by name
DTYPES = {"float32": torch.float32, "float64": torch.float64}


class ArgumentTypeError(ValueError, TypeError):
    """An argument of the wrong kind (a ``ValueError`` like every refusal of a bad input, and a ``TypeError``)."""


def check_dtype(name: str, dtype: Any) -> torch.dtype:
    """``"float32"``/``"float64"`` or ``torch.float32``/``torch.float64``, as a ``torch.dtype``."""
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    if isinstance(dtype, torch.dtype) and dtype in DTYPES.values():
        return dtype
    raise ValueError(f"{name} must be one of {tuple(DTYPES)} or torch.float32 / torch.float64, got {dtype!r}")


def check_problem(problem: Any, name: str = "problem") -> "Problem":
    """``problem`` must be a :class:`pinnkit.equations.Problem`."""
    from pinnkit.equations import Problem

    if not isinstance(problem, Problem):
        raise ArgumentTypeError(f"{name} must be a pinnkit.equations.Problem, got {type(problem).__name__}")
    return problem


def check_data(x: Any, y: Any, names: Tuple[str, str] = ("x", "y")) -> Tuple[Tensor, Tensor]:
    """Regression data: ``x`` a finite floating tensor ``(N, d)`` with ``N >= 1``, ``y`` finite ``(N,)`` or
    ``(N, m)`` (returned as ``(N, m)``)."""
    nx, ny = names
    for name, t in ((nx, x), (ny, y)):
        if not isinstance(t, Tensor) or not t.is_floating_point():
            raise ArgumentTypeError(f"{name} must be a floating-point torch.Tensor, got {type(t).__name__}")
    if x.dim() != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"{nx} must have shape (N, d) with N, d >= 1, got {tuple(x.shape)}")
    if y.dim() == 1:
        y = y[:, None]
    if y.dim() != 2 or y.shape[1] < 1:
        raise ValueError(f"{ny} must have shape (N,) or (N, m), got {tuple(y.shape)}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{nx} and {ny} must have the same number of rows, got {x.shape[0]} and {y.shape[0]}")
    for name, t in ((nx, x), (ny, y)):
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} contains NaN or inf values")
    return x, y


# =========================================================================== energies
class RegressionEnergy:
    """``E = ½ mean_x |f(x) − y(x)|²`` (sum over output components) on fixed data ``(x, y)``."""

    def __init__(self, x: Tensor, y: Tensor):
        x, y = check_data(x, y)
        self.x, self.y = x, y

    def __call__(self, model: Callable[[Tensor], Tensor], step: int = 0) -> Tuple[Tensor, Terms]:
        e = 0.5 * mean_square(model(self.x) - self.y)
        return e, {"data": e}


class PINNEnergy:
    """The PINN risk ``E = Σ_name w_name · term_name`` of :func:`pinnkit.losses.loss_terms` (the PDE term has
    weight 1 unless ``weights`` names ``"pde"``; conditions ``condition_weight`` unless named) on the points of a
    :class:`~pinnkit.sampling.Sampler` (its ``resample_every`` round at each step)."""

    def __init__(
        self,
        problem: Problem,
        sampler: Optional[Sampler] = None,
        weights: Optional[Mapping[str, float]] = None,
        condition_weight: float = 1.0,
        method: str = "autograd",
        dtype: torch.dtype = torch.float64,
    ):
        check_problem(problem)
        if sampler is not None and not isinstance(sampler, Sampler):
            raise ArgumentTypeError(f"sampler must be None or a pinnkit.sampling.Sampler, got {type(sampler).__name__}")
        condition_weight = check_nonnegative("condition_weight", condition_weight)
        names = ["pde"] + [c.name for c in problem.conditions()]
        if weights is not None and not isinstance(weights, Mapping):
            raise ValueError(
                f"weights must be None or a dict {{term: weight}} with terms from {names}, got {weights!r}"
            )
        for k, v in dict(weights or {}).items():
            if k not in names:
                raise ValueError(f"weights has unknown term {k!r}; the terms of {problem.name!r} are {names}")
            check_nonnegative(f"weights[{k!r}]", v)
        check_choice("method", method, METHODS)
        dtype = check_dtype("dtype", dtype)
        self.problem = problem
        self.sampler = sampler if sampler is not None else Sampler(problem, 256, 64, 64)
        self.weights = {**{c.name: float(condition_weight) for c in problem.conditions()}, **dict(weights or {})}
        self.method, self.dtype = method, dtype
        self._round: Optional[int] = None
        self._batch: Optional[Batch] = None

    def batch(self, step: int = 0) -> Batch:
        r = self.sampler.round_of(step)
        if r != self._round:
            self._batch, self._round = self.sampler.draw(r, dtype=self.dtype), r
        return self._batch

    def __call__(self, model: Callable[[Tensor], Tensor], step: int = 0) -> Tuple[Tensor, Terms]:
        terms = loss_terms(self.problem, model, self.batch(step), method=self.method)
        return total_loss(terms, self.weights), terms


Energy = Callable[..., Tuple[Tensor, Terms]]


# =========================================================================== potentials
def particle_potentials(
    model: MeanFieldTwoLayer, energy: Energy, step: int = 0
) -> Tuple[Tensor, Tensor, List[Tensor], Terms]:
    """``(E, V, grads, terms)``: the energy, the potentials ``V_i = V(θ_i) = n ⟨c_i, ∂E/∂c_i⟩`` (shape ``(n,)``),
    the parameter gradients ``[∂E/∂c, ∂E/∂w, ∂E/∂b]`` from one backward pass (see the module docstring) and
    the energy's detached terms."""
    e, terms = energy(model, step)
    grads = list(torch.autograd.grad(e, [model.c, model.w, model.b]))
    V = model.n * (model.c.detach() * grads[0]).sum(dim=1)
    return e.detach(), V, grads, {k: v.detach() for k, v in terms.items()}


class _Perturbed(nn.Module):
    """``f_μ(x) + Σ_j ε_j φ(x; θ_j)``: the net of the measure ``μ + Σ_j ε_j δ_{θ_j}``."""

    def __init__(self, model: MeanFieldTwoLayer, theta: Tensor, eps: Tensor):
        super().__init__()
        self.model, self.eps = model, eps
        m, d = model.out_dim, model.in_dim
        self.tc, self.tw, self.tb = theta[:, :m], theta[:, m : m + d], theta[:, m + d]

    def forward(self, x: Tensor) -> Tensor:
        xs = self.model.scaling(x) if self.model.scaling is not None else x
        phi = self.model.act(xs @ self.tw.T + self.tb)
        return self.model(x) + phi @ (self.eps[:, None] * self.tc)


def perturbed_energy(model: MeanFieldTwoLayer, energy: Energy, theta: Tensor, eps: Tensor, step: int = 0) -> Tensor:
    """``E(μ + Σ_j ε_j δ_{θ_j})`` for particles ``theta`` (``(k, out_dim + in_dim + 1)``) of masses ``eps``."""
    theta = theta.to(dtype=model.w.dtype, device=model.w.device)
    return energy(_Perturbed(model, theta, eps), step)[0]


def potential_at(model: MeanFieldTwoLayer, energy: Energy, theta: Tensor, step: int = 0) -> Tensor:
    """``V(θ_j; μ) = ∂/∂ε_j E(μ + Σ_j ε_j δ_{θ_j}) |_{ε=0}`` at arbitrary particles ``theta``, shape ``(k,)``."""
    eps = torch.zeros(theta.shape[0], dtype=model.w.dtype, device=model.w.device, requires_grad=True)
    return torch.autograd.grad(perturbed_energy(model, energy, theta, eps, step), eps)[0]
