r"""Periodic linear convection, the failure mode of plain PINNs studied by Krishnapriyan, Gholami, Zhe, Kirby &
Mahoney (NeurIPS 2021, "Characterizing possible failure modes in physics-informed neural networks"):

    u_t + β u_x = 0   on [0, 2π] × [0, T],   u(x, 0) = sin(k x),   u(0, t) = u(2π, t),

with the exact solution ``u(x, t) = sin(k (x − β t))``. For ``β`` beyond about 10 (with ``T = 1``) a plain
PINN settles on a solution that is wrong away from ``t = 0`` — information from the initial condition does
not propagate forward in time — which makes it the test problem for causal weighting
(:mod:`pinnkit.training.causal`) and other remedies.
"""

from __future__ import annotations

import math
from typing import List

import torch
from torch import Tensor

from pinnkit.derivatives import Fields
from pinnkit.validation import check_int, check_real

from .base import MAX_COEFFICIENT, MIN_TIME, Condition, InitialCondition, PeriodicBC, Problem

__all__ = ["Convection"]


class Convection(Problem):
    """``u_t + β u_x = 0`` on ``[0, 2π] × [0, T]``, periodic in ``x``, ``u(x, 0) = sin(k x)`` (module docstring).

    Args:
        beta: convection speed ``β``.
        k: wave number of the initial condition (an integer, so that it is ``2π``-periodic).
        T: final time.
    """

    PARAMETERS = {
        "beta": (30.0, "convection speed β in [-1e4, 1e4]"),
        "k": (1, "wave number of the initial condition, integer in [1, 100]"),
        "T": (1.0, "final time T in [1e-30, 1e4]"),
    }

    def __init__(self, beta: float = 30.0, k: int = 1, T: float = 1.0) -> None:
        beta = check_real("beta", beta, -MAX_COEFFICIENT, MAX_COEFFICIENT, low_open=False)
        k = check_int("k", k, 1, 100)
        T = check_real("T", T, MIN_TIME, MAX_COEFFICIENT, low_open=False)
        super().__init__(
            name="convection",
            spatial_dim=1,
            n_outputs=1,
            lower=(0.0,),
            upper=(2.0 * math.pi,),
            time_interval=(0.0, T),
            params={"beta": beta, "k": k, "T": T},
        )
        self.beta, self.k = beta, k

    def exact(self, x: Tensor) -> Tensor:
        return torch.sin(self.k * (x[:, 0] - self.beta * x[:, 1])).unsqueeze(-1)

    def residual(self, f: Fields) -> Tensor:
        """``u_t + β u_x``."""
        return (f.dt(0) + self.beta * f.d(0, 0)).unsqueeze(-1)

    def conditions(self) -> List[Condition]:
        return [
            InitialCondition("initial", target=self.exact),
            PeriodicBC("periodic_x", dim=0, period=2.0 * math.pi),
        ]
