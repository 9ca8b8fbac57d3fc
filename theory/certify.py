"""Every certified number that applies to a trained model and its problem, in one call (what ``pinnkit solve
--certify`` prints): the residual certificate of any problem, the maximum-principle and L² energy bounds of a
linear parabolic one, the certified tight bound of the blow-up family and Kumar & Mukherjee's theorems where
they are proved for the model. Each entry says what it bounds and is a proved bound (``is_bound=True``)."""

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
        from .theorems_certified import certified_theorem1, certified_theorem2

        t1 = certified_theorem1(model, problem, max_boxes=max_boxes)
        if t1.is_bound:  # only a statement that is proved for this model is printed as certified
            out.append(
                CertifiedNumber(
                    "log ∫‖e‖² (Thm 1)",
                    "log of the squared L² error, Kumar & Mukherjee's Theorem 1",
                    t1.log_rhs,
                    float("nan"),
                    t1.seconds,
                    t1.boxes,
                )
            )
        if problem.spatial_dim == 1 and _is_1d_preset(problem):
            t2 = certified_theorem2(model, problem, max_boxes=max_boxes)
            if t2.is_bound_consistent:
                out.append(
                    CertifiedNumber(
                        "log ∫‖e‖² (Thm 2)",
                        "log of the squared L² error, Theorem 2 (consistent variant)",
                        t2.log_rhs_consistent,
                        float("nan"),
                        t2.seconds,
                        t2.boxes,
                    )
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


def _is_1d_preset(problem: Any) -> bool:
    from .burgers_blowup import check_1d_preset

    try:
        check_1d_preset(problem)
    except ValueError:
        return False
    return True
