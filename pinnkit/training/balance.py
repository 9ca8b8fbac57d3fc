"""Loss balancing as a strategy object: condition weights set from gradient statistics.

:class:`GradientBalance` (Wang, Teng & Perdikaris 2021, SIAM J. Sci. Comput. 43(5), Algorithm 1). With
``g_c = ∇_θ L_c`` the gradient of each unweighted term:

* ``rule="max-mean"``: ``λ̂_c = max_θ |g_pde| / mean_θ |g_c|`` (their eq. 40);
* ``rule="norm"``: ``λ̂_c = ‖g_pde‖ / ‖g_c‖`` (equal gradient norms; Wang et al. 2023, arXiv:2308.08468);

then ``λ_c ← (1 − α) λ_c + α λ̂_c`` every ``every`` first-order steps. The PDE weight stays as configured.

:class:`NTKBalance` (``rule="ntk"``; Wang, Yu & Perdikaris 2022, J. Comput. Phys. 449, 110768, Algorithm 1):
the trace ratio of the empirical NTK (:mod:`pinnkit.ntk`), ``λ̂_c = Tr K / Tr K_cc`` with the traces as means
over the rows (points × components) of each block; normalised so that the PDE weight stays as configured,
``λ̂_c = w_pde · tr_pde / tr_c`` (the paper's ratios λ_c/λ_pde; a common factor of all weights does not change
Adam's iterates), with the same moving average. The strings ``"max-mean"``, ``"norm"`` and ``"ntk"`` are
shortcuts (:func:`as_balance`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Mapping, Optional, Union

import torch
from torch import Tensor

from ..validation import check_choice, check_int, check_range

__all__ = ["GradientBalance", "NTKBalance", "BALANCE_RULES", "as_balance"]

BALANCE_RULES = ("max-mean", "norm", "ntk")
GRADIENT_RULES = ("max-mean", "norm")


def _average_in(
    weights: Dict[str, float], name: str, ref: float, scale: float, configured: Mapping[str, float], alpha: float
) -> None:
    """``λ_name ← (1 − α) λ_name + α ref/scale`` in place (from the configured weight, default 1, the first
    time); left as it is when ``ref/scale`` is not a finite positive ratio."""
    if not (scale > 0 and math.isfinite(scale) and math.isfinite(ref)):
        return
    old = weights.get(name, configured.get(name, 1.0))
    weights[name] = (1 - alpha) * old + alpha * ref / scale


@dataclass(frozen=True)
class GradientBalance:
    """Gradient-statistics weights of the condition terms (see the module docstring)."""

    rule: str = "max-mean"
    every: int = 100
    alpha: float = 0.1

    #: what :meth:`update` reads: the loss terms (False) or the pointwise residuals (True)
    pointwise = False

    def validate(self) -> "GradientBalance":
        check_choice("balance", self.rule, GRADIENT_RULES)
        check_int("balance_every", self.every, 1)
        check_range("balance_alpha", self.alpha, 0.0, 1.0, low_open=True)
        return self

    def update(
        self,
        terms: Mapping[str, Tensor],
        params: Iterable[Tensor],
        weights: Dict[str, float],
        configured: Mapping[str, float],
        skip: Iterable[str] = (),
        reduce: Optional[Callable[[Tensor], Tensor]] = None,
    ) -> Dict[str, float]:
        """New condition weights from the gradients of ``terms`` (the PDE term and ``skip`` are left alone);
        ``weights`` holds the current balanced weights, ``configured`` the user's weights (default 1)."""
        params = [p for p in params if p.requires_grad]

        def flat(term: Tensor) -> Tensor:
            gs = torch.autograd.grad(term, params, retain_graph=True, allow_unused=True)
            g = torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(gs, params)])
            return reduce(g) if reduce is not None else g

        g_pde = flat(terms["pde"])
        ref = float(g_pde.abs().max()) if self.rule == "max-mean" else float(g_pde.norm())
        out = dict(weights)
        skip = set(skip)
        for name, term in terms.items():
            if name == "pde" or name in skip:
                continue
            g = flat(term)
            scale = float(g.abs().mean()) if self.rule == "max-mean" else float(g.norm())
            _average_in(out, name, ref, scale, configured, self.alpha)
        return out


@dataclass(frozen=True)
class NTKBalance:
    """NTK trace-ratio weights of the condition terms (see the module docstring); ``points``: rows of each
    term's residual on which the traces are computed (evenly spaced through the batch)."""

    every: int = 100
    alpha: float = 0.1
    points: int = 64
    rule = "ntk"
    pointwise = True

    def validate(self) -> "NTKBalance":
        check_int("balance_every", self.every, 1)
        check_range("balance_alpha", self.alpha, 0.0, 1.0, low_open=True)
        check_int("balance_points", self.points, 1, 100_000)
        return self

    def update(
        self,
        residuals: Mapping[str, Tensor],
        params: Iterable[Tensor],
        weights: Dict[str, float],
        configured: Mapping[str, float],
        skip: Iterable[str] = (),
        reduce: Optional[Callable[[Tensor], Tensor]] = None,
    ) -> Dict[str, float]:
        """New condition weights from the pointwise residuals ``{"pde": (N, r), <condition>: (N_c, k)}`` (with
        graphs to ``params``); ``reduce`` sums the traces and row counts over the ranks."""
        from ..ntk import trace_means

        skip = set(skip)
        sums = trace_means({k: v for k, v in residuals.items() if k not in skip}, list(params), self.points)
        names = list(sums)
        both = torch.stack([sums[k] for k in names])
        both = reduce(both) if reduce is not None else both
        tr = {k: float(both[i, 0] / both[i, 1]) for i, k in enumerate(names) if float(both[i, 1]) > 0}
        out = dict(weights)
        ref = tr.get("pde", math.nan) * configured.get("pde", 1.0)
        for name, t in tr.items():
            if name != "pde":
                _average_in(out, name, ref, t, configured, self.alpha)
        return out


Balance = Union[GradientBalance, NTKBalance]


def as_balance(balance: Union[None, str, Balance], every: int = 100, alpha: float = 0.1) -> Optional[Balance]:
    """A balancing strategy from itself, a rule name (with ``every`` and ``alpha``), or None."""
    if balance is None or isinstance(balance, (GradientBalance, NTKBalance)):
        return balance.validate() if balance is not None else None
    check_choice("balance", balance, BALANCE_RULES)
    if balance == "ntk":
        return NTKBalance(every, alpha).validate()
    return GradientBalance(balance, every, alpha).validate()
