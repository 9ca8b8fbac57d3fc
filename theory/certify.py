"""Every certified number that applies to a trained model and its problem, in one call (what ``pinnkit solve
--certify`` prints): the residual certificate of any problem, the maximum-principle and L² energy bounds of a
linear parabolic one, the certified tight bound of the blow-up family. Each entry says what it bounds and is
a proved bound (``is_bound=True``)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, List

from torch import nn

from pinnkit.enclosure.net import supports

__all__ = ["CertifiedNumber", "certify"]


@dataclass
class CertifiedNumber:
    """``upper`` (and, where certified from both sides, ``lower``) of the quantity ``what``."""

    name: str
    what: str
    upper: float
    lower: float
    seconds: float
    boxes: int
    is_bound: bool = True

    def as_dict(self) -> dict:
        return asdict(self)


def certify(model: nn.Module, problem: Any, max_boxes: int = 8000) -> List[CertifiedNumber]:
    """The certified numbers that apply to ``model`` on ``problem`` (module docstring), with ``max_boxes``
    boxes per certificate; an empty list for a net the enclosures do not cover."""
    from .blowup_certified import certified_tight_bound
    from .certified import certify_residual
    from .parabolic import dirichlet_everywhere, heat_sup_bound, linear_parabolic_coefficients, parabolic_l2_bound

    if not supports(model):
        return []
    out: List[CertifiedNumber] = []
    res = certify_residual(model, problem, rtol=0.25, max_boxes=max_boxes)
    names = list(getattr(problem, "residual_names", None) or res.components)
    for name, (lo, hi) in zip(names, res.sup_abs):
        out.append(
            CertifiedNumber(
                f"sup|{name}|", "sup of the PDE residual (not the error)", hi, lo, res.seconds, res.boxes_sup
            )
        )
    out.append(
        CertifiedNumber(
            "∫R²",
            "integral of the squared PDE residual",
            res.integral[1],
            res.integral[0],
            res.seconds,
            res.boxes_integral,
        )
    )
    if hasattr(problem, "A0") and hasattr(problem, "A_entries"):
        c = certified_tight_bound(model, problem, max_boxes=max_boxes, rtol=0.1)
        out.append(
            CertifiedNumber("‖u_θ − u‖_L2", "L² error over space-time", c.bound_l2, float("nan"), c.seconds, c.boxes)
        )
    try:
        linear_parabolic_coefficients(problem)
        parabolic = dirichlet_everywhere(problem)
    except ValueError:
        parabolic = False
    if parabolic:
        t0 = time.perf_counter()
        s = heat_sup_bound(model, problem, max_boxes=max_boxes, certify_true=False)
        out.append(
            CertifiedNumber(
                "‖u_θ − u‖_∞", "sup error (maximum principle)", s.bound, float("nan"), time.perf_counter() - t0, s.boxes
            )
        )
        b = parabolic_l2_bound(model, problem, max_boxes=max_boxes, fallback=True, sup=s)
        out.append(
            CertifiedNumber(
                "‖u_θ − u‖_L2", f"L² error over space-time ({b.method})", b.bound, float("nan"), b.seconds, b.boxes
            )
        )
    return out
