"""Dense BFGS and self-scaled BFGS with a strong-Wolfe line search, as a ``torch.optim.Optimizer``.

L-BFGS keeps a few curvature pairs; for the small nets PINNs use (a few thousand parameters) the full
inverse-Hessian approximation ``H`` fits in memory and converges much further in float64 (Urbán, Stefanou &
Pons 2024, "Unveiling the optimization process of PINNs"; Kiyani et al. 2025). One iteration, with
``s = x_{k+1} − x_k``, ``y = g_{k+1} − g_k``, ``ρ = 1/(sᵀy)`` (Nocedal & Wright, *Numerical Optimization*,
eq. 6.17):

    H_{k+1} = (I − ρ s yᵀ) H_k (I − ρ y sᵀ) + ρ s sᵀ,

written in the Broyden-family form with a scaling ``τ_k`` (Al-Baali 1998; Urbán et al. 2024, §3):

    H_{k+1} = (1/τ_k) [H_k − H_k y yᵀ H_k / (yᵀ H_k y) + v vᵀ] + s sᵀ/(sᵀ y),
    v = √(yᵀH_k y) (s/(sᵀy) − H_k y/(yᵀ H_k y)).

``τ_k = 1`` is BFGS. ``scaling="self"`` takes ``τ_k = min(1, 1/b_k)`` with ``b_k = s_kᵀ B_k s_k / (s_kᵀ y_k)``
(``B_k = H_k⁻¹``; for ``s = −α H_k g_k`` this is ``−α s_kᵀ g_k / s_kᵀ y_k``), which enlarges ``H`` when the
model's curvature along the step exceeds the measured one. Before the first update ``H_0 = (sᵀy / yᵀy) I``
(N&W eq. 6.20). Pairs with ``sᵀy ≤ 1e-10 ‖s‖‖y‖`` are skipped, so ``H`` stays positive definite.

The line search (N&W Algorithms 3.5 and 3.6, cubic interpolation in the zoom) finds a step with
``f(x + αp) ≤ f(x) + c₁ α gᵀp`` and ``|∇f(x + αp)ᵀp| ≤ c₂ |gᵀp|``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Optional, Tuple, Union

import torch
from torch import Tensor

__all__ = ["BFGS", "strong_wolfe", "MAX_DENSE_PARAMETERS"]

MAX_DENSE_PARAMETERS = 20000
SCALINGS = ("none", "self")


def _cubic_min(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float, lo: float, hi: float) -> float:
    """Minimiser of the cubic through (x1, f1, f1') and (x2, f2, f2'), clamped to [lo, hi] (N&W eq. 3.59)."""
    d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc >= 0 and math.isfinite(disc):
        d2 = math.copysign(math.sqrt(disc), x2 - x1)
        denom = g2 - g1 + 2.0 * d2
        if denom != 0:
            x = x2 - (x2 - x1) * (g2 + d2 - d1) / denom
            if math.isfinite(x):
                return min(max(x, lo), hi)
    return 0.5 * (lo + hi)


def strong_wolfe(
    phi: Callable[[float], Tuple[float, float]],
    f0: float,
    d0: float,
    alpha: float = 1.0,
    c1: float = 1e-4,
    c2: float = 0.9,
    max_evals: int = 25,
) -> Tuple[float, float, int]:
    """Step length satisfying the strong Wolfe conditions for ``phi(α) = (f(x + αp), ∇f(x + αp)ᵀp)``.

    ``d0 = ∇f(x)ᵀp < 0``. Returns ``(α, f(α), evaluations)``; ``α = 0`` when no decrease was found.
    The last call of ``phi`` is always at the returned ``α`` (so a caller may cache the gradient there).
    """
    if not d0 < 0:
        raise ValueError(f"strong_wolfe needs a descent direction, got directional derivative {d0}")
    evals = 0
    a_prev, f_prev, d_prev = 0.0, f0, d0
    best = (0.0, f0)
    last_alpha = None

    def evaluate(a: float) -> Tuple[float, float]:
        nonlocal evals, best, last_alpha
        f, d = phi(a)
        evals += 1
        last_alpha = a
        if math.isfinite(f) and f < best[1]:
            best = (a, f)
        return f, d

    def zoom(lo: float, f_lo: float, d_lo: float, hi: float, f_hi: float, d_hi: float) -> Tuple[float, float]:
        while evals < max_evals:
            left, right = min(lo, hi), max(lo, hi)
            width = right - left
            if width <= 1e-12 * max(1.0, right):
                break
            a = _cubic_min(lo, f_lo, d_lo, hi, f_hi, d_hi, left + 0.1 * width, right - 0.1 * width)
            f, d = evaluate(a)
            if not math.isfinite(f) or f > f0 + c1 * a * d0 or f >= f_lo:
                hi, f_hi, d_hi = a, f, d
            else:
                if abs(d) <= -c2 * d0:
                    return a, f
                if d * (hi - lo) >= 0:
                    hi, f_hi, d_hi = lo, f_lo, d_lo
                lo, f_lo, d_lo = a, f, d
        return best

    a = alpha
    result: Optional[Tuple[float, float]] = None
    while evals < max_evals:
        f, d = evaluate(a)
        if not math.isfinite(f) or f > f0 + c1 * a * d0 or (evals > 1 and f >= f_prev):
            if not math.isfinite(f):  # step far too long: shrink and retry
                a = 0.5 * (a_prev + a) if a_prev > 0 else 0.1 * a
                continue
            result = zoom(a_prev, f_prev, d_prev, a, f, d)
            break
        if abs(d) <= -c2 * d0:
            result = (a, f)
            break
        if d >= 0:
            result = zoom(a, f, d, a_prev, f_prev, d_prev)
            break
        a_prev, f_prev, d_prev = a, f, d
        a = 4.0 * a
    if result is None:
        result = best
    a, f = result
    if last_alpha != a and a > 0:  # leave the parameters (and gradient) at the returned step
        phi(a)
        evals += 1
    return a, f, evals


class BFGS(torch.optim.Optimizer):
    """Dense (self-scaled) BFGS; ``step(closure)`` runs up to ``max_iter`` iterations.

    ``closure()`` must zero the gradients, compute the loss, call ``backward()`` and return the loss.
    The state (``H``, the current gradient and loss, ``n_iter``) lives in ``state_dict()``.
    """

    def __init__(
        self,
        params: Union[Iterable[Tensor], Iterable[dict[str, Any]]],
        max_iter: int = 20,
        scaling: str = "self",
        c1: float = 1e-4,
        c2: float = 0.9,
        max_evals_per_iter: int = 25,
    ) -> None:
        if scaling not in SCALINGS:
            raise ValueError(f"scaling must be one of {SCALINGS}, got {scaling!r}")
        super().__init__(
            params, dict(max_iter=max_iter, scaling=scaling, c1=c1, c2=c2, max_evals_per_iter=max_evals_per_iter)
        )
        if len(self.param_groups) != 1:
            raise ValueError("BFGS takes one parameter group")
        self._params = self.param_groups[0]["params"]
        n = sum(p.numel() for p in self._params)
        if n > MAX_DENSE_PARAMETERS:
            raise ValueError(
                f"BFGS stores a dense {n}×{n} matrix; the number of parameters must be "
                f"<= {MAX_DENSE_PARAMETERS} (use L-BFGS for larger nets)"
            )
        self.n_params = n

    # flat views ---------------------------------------------------------
    def _flat_params(self) -> Tensor:
        return torch.cat([p.detach().reshape(-1) for p in self._params])

    def _flat_grad(self) -> Tensor:
        return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in self._params])

    def _set_params(self, x: Tensor) -> None:
        i = 0
        with torch.no_grad():
            for p in self._params:
                k = p.numel()
                p.copy_(x[i : i + k].view_as(p))
                i += k

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor]) -> Tensor:  # type: ignore[override]
        group = self.param_groups[0]
        state = self.state[self._params[0]]
        closure = torch.enable_grad()(closure)
        if "g" not in state:
            loss = float(closure())
            state.update(f=loss, g=self._flat_grad(), n_iter=0, n_evals=1, H=None)
        x = self._flat_params()
        f, g, H = state["f"], state["g"], state["H"]
        for _ in range(group["max_iter"]):
            if not math.isfinite(f) or float(g.abs().max()) == 0.0:
                break
            p = -g if H is None else -(H @ g)
            d0 = float(g @ p)
            if not d0 < 0:  # H lost positive definiteness to round-off: restart from steepest descent
                H, p = None, -g
                d0 = float(g @ p)
            alpha0 = min(1.0, 1.0 / float(g.abs().sum())) if H is None else 1.0
            cache = {}

            def phi(a: float, x: Tensor = x, p: Tensor = p, cache: dict = cache) -> Tuple[float, float]:
                self._set_params(x + a * p)
                value = float(closure())
                grad = self._flat_grad()
                cache["g"] = grad
                return value, float(grad @ p)

            alpha, f_new, evals = strong_wolfe(
                phi, f, d0, alpha0, group["c1"], group["c2"], group["max_evals_per_iter"]
            )
            state["n_evals"] += evals
            if alpha == 0.0:  # no decrease along p: restore x; stop this call
                self._set_params(x)
                if H is not None:  # try once more from steepest descent next call
                    H = None
                break
            g_new = cache["g"]
            s = alpha * p
            y = g_new - g
            sy = float(s @ y)
            if sy > 1e-10 * float(s.norm() * y.norm()):
                if H is None:
                    H = torch.eye(self.n_params, dtype=g.dtype, device=g.device) * (sy / float(y @ y))
                Hy = H @ y
                yHy = float(y @ Hy)
                tau = 1.0
                if group["scaling"] == "self":
                    b = -alpha * float(s @ g) / sy
                    tau = min(1.0, 1.0 / b) if b > 0 else 1.0
                # H − Hy Hyᵀ/yHy + v vᵀ = H + (yHy/sy²) s sᵀ − (s Hyᵀ + Hy sᵀ)/sy: rank-one updates in place,
                # no n×n temporaries (each pass over H costs as much as the matrix–vector products)
                H.addr_(s, s, alpha=yHy / sy**2)
                H.addr_(s, Hy, alpha=-1.0 / sy)
                H.addr_(Hy, s, alpha=-1.0 / sy)
                if tau != 1.0:
                    H.div_(tau)
                H.addr_(s, s, alpha=1.0 / sy)
            x = x + s
            f, g = f_new, g_new
            state["n_iter"] += 1
        self._set_params(x)
        state.update(f=f, g=g, H=H)
        return torch.tensor(f)
