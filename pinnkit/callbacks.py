"""Callbacks run by the trainer every k steps; their numbers go into ``history["diagnostics"]``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict

import numpy as np
import torch

from .metrics import fix_gauge, relative_l2

if TYPE_CHECKING:
    from pinnkit.equations import Problem

__all__ = ["ErrorTracker"]


class ErrorTracker:
    """Relative L2 error of the model against the problem's ground truth on fixed held-out points."""

    def __init__(self, problem: Problem, points: np.ndarray, every: int = 500):
        self.every = every
        self.points = np.asarray(points, dtype=float)
        self.problem = problem
        self.truth = fix_gauge(
            problem, problem.reference(torch.as_tensor(self.points, dtype=torch.float64)).numpy(), self.points
        )

    def __call__(self, trainer) -> Dict[str, float]:
        from .result import predict

        pred = fix_gauge(self.problem, predict(trainer.model, self.points), self.points)
        return {"relative_l2": relative_l2(pred, self.truth)}
