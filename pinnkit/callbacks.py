"""Callbacks run by the trainer every k steps; their numbers go into ``history["diagnostics"]``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict

import numpy as np
import torch

from .metrics import fix_gauge, relative_l2

if TYPE_CHECKING:
    from pinnkit.equations import Problem

__all__ = ["ErrorTracker", "NTKTracker"]


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


class NTKTracker:
    """The PINN's empirical NTK (:mod:`pinnkit.ntk`) every ``every`` steps on the trainer's current batch, on at
    most ``points`` rows of each term's residual (Wang, Yu & Perdikaris 2022).

    Numbers per call, under ``history["diagnostics"]``: for every term ``c`` (``"pde"`` and each condition)
    ``ntk/trace/c`` (the mean of the diagonal of ``K_cc``), ``ntk/eig/c/i`` (its ``i``-th largest eigenvalue,
    ``i < top``) and ``ntk/eig_min/c``, ``ntk/ratio/c = tr_pde / tr_c`` (the NTK balance's weight before
    averaging) and, for a condition, ``ntk/cross/c = ‖K_pde,c‖_F / (‖K_pde,pde‖_F ‖K_cc‖_F)^{1/2}`` (how strongly
    the blocks couple). The whole blocks of the last call are kept in :attr:`last`.
    """

    def __init__(self, every: int = 500, points: int = 64, top: int = 16):
        from .validation import check_int

        self.every = check_int("ntk_every", every, 0)
        self.points = check_int("ntk_points", points, 1, 100_000)
        self.top = check_int("ntk_top", top, 1, 100_000)
        self.last: Dict[str, Dict[str, torch.Tensor]] = {}

    def __call__(self, trainer) -> Dict[str, float]:
        from .losses import point_residuals
        from .ntk import ntk_blocks

        residuals = point_residuals(
            trainer.problem, trainer.model, trainer.current_batch(), trainer.config.method, trainer._plans
        )
        residuals = {k: v for k, v in residuals.items() if v.numel()}
        blocks = ntk_blocks(residuals, list(trainer.model.parameters()), self.points)
        self.last = blocks
        out: Dict[str, float] = {}
        tr = {}
        for c, row in blocks.items():
            K = row[c].double()
            eig = torch.linalg.eigvalsh(K).flip(0)
            tr[c] = float(torch.diagonal(K).mean())
            out[f"ntk/trace/{c}"] = tr[c]
            for i, e in enumerate(eig[: self.top].tolist()):
                out[f"ntk/eig/{c}/{i}"] = e
            out[f"ntk/eig_min/{c}"] = float(eig[-1])
        for c in blocks:
            if "pde" in tr and tr[c] > 0:
                out[f"ntk/ratio/{c}"] = tr["pde"] / tr[c]
            if c != "pde" and "pde" in blocks:
                num = float(blocks["pde"][c].double().norm())
                den = float(blocks["pde"]["pde"].double().norm() * blocks[c][c].double().norm()) ** 0.5
                out[f"ntk/cross/{c}"] = num / den if den > 0 else float("nan")
        return out
