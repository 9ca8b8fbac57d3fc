"""Output non-dimensionalisation: ``u(x) = U · N(x)`` for a solution of magnitude ``U``.

With the inputs mapped onto ``[-1, 1]^D`` (:class:`pinnkit.nets.InputScaling`) a net of unit-scale weights
represents functions of order one; a solution of order ``U = 10⁻³`` (or ``10³``) then sits at the edge of what
its initialisation and the optimiser's steps resolve. Multiplying by ``U`` makes the free net's target of
order one again — the output half of non-dimensionalising the problem (the input half is the box map).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from pinnkit.equations.base import Problem

__all__ = ["OutputScale", "detect_output_scale"]


class OutputScale(nn.Module):
    """``net`` with its output multiplied by the fixed scale ``scale`` (a buffer, saved with checkpoints)."""

    def __init__(self, net: nn.Module, scale: float) -> None:
        super().__init__()
        if not scale > 0 or scale != scale or scale == float("inf"):
            raise ValueError(f"output_scale must be a finite number > 0, got {scale!r}")
        self.net = net
        self.register_buffer("scale", torch.tensor(float(scale), dtype=torch.get_default_dtype()))

    def forward(self, x: Tensor) -> Tensor:
        return self.scale * self.net(x)


def detect_output_scale(problem: "Problem", n: int = 1024) -> float:
    """``U = max |g|`` over the problem's initial and Dirichlet data ``g`` at ``n`` Sobol points of each
    condition (1.0 where every such datum is zero or there is none)."""
    from pinnkit.equations.base import DirichletBC, InitialCondition

    from ..sampling import condition_points

    scale = 0.0
    for c in problem.conditions():
        if not isinstance(c, (InitialCondition, DirichletBC)) or not callable(getattr(c, "target", None)):
            continue
        pts = torch.as_tensor(condition_points(problem, c, n, n, "sobol", 0), dtype=torch.float64)
        if pts.shape[0] == 0:
            continue
        scale = max(scale, float(c.target(pts).abs().max()))
    return scale if scale > 0 and scale == scale and scale != float("inf") else 1.0
