"""The outcome of a solve: trained model, history, held-out errors, and everything needed to reproduce it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Dict, Optional, Union

import numpy as np
import torch
from torch import nn

from . import distributed
from .report import is_flow_problem, plot_coefficients, plot_flow, plot_loss_history, plot_ntk, plot_solution
from .validation import check_points

__all__ = ["Result", "predict"]

ArrayLike = Union[np.ndarray, torch.Tensor, float]


def predict(model: nn.Module, x: np.ndarray, batch: int = 65536) -> np.ndarray:
    """Evaluate ``model`` at points ``x`` (``(N, D)``) in its own dtype, in batches, as numpy."""
    p = next(model.parameters())
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = torch.as_tensor(x[i : i + batch], dtype=p.dtype, device=p.device)
            y = model(xb)
            out.append((y.unsqueeze(-1) if y.dim() == 1 else y).cpu().double().numpy())
    return np.concatenate(out, axis=0)


@dataclass
class Result:
    """A trained PINN and its record.

    ``errors`` holds the relative L2 error (and max abs error) on the held-out points; ``config`` the full
    configuration (problem, net, sampler, optimiser, seed); ``versions`` the library versions.
    """

    problem: object
    model: nn.Module
    history: dict
    config: dict
    errors: Dict[str, float]
    timings: Dict[str, float]
    versions: Dict[str, str]
    eval_points: np.ndarray = field(repr=False, default=None)
    #: the learned unknown coefficients of an inverse run: ``{name: {value, truth, initial, relative_error}}``
    inferred: Dict[str, Dict[str, float]] = field(default_factory=dict)

    @property
    def relative_l2(self) -> float:
        return self.errors["relative_l2"]

    def _inputs(self, x: ArrayLike, t: Optional[ArrayLike]) -> np.ndarray:
        p = self.problem
        x = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=float)
        if x.ndim == 1:
            x = x[:, None] if p.spatial_dim == 1 or x.shape[0] != p.spatial_dim else x[None, :]
        if t is not None:
            if not p.time_dependent:
                raise ValueError(f"{p.name} is steady: pass no t")
            t = np.broadcast_to(np.asarray(t, dtype=float).reshape(-1), (x.shape[0],))
            x = np.concatenate([x, t[:, None]], axis=1)
        check_points("x (with t appended)" if t is not None else "x", torch.from_numpy(x), p.input_dim)
        return x

    def predict(self, x: ArrayLike, t: Optional[ArrayLike] = None) -> np.ndarray:
        """Network output at spatial points ``x`` (``(N, d)``) and times ``t`` (scalar or ``(N,)``) — or at
        full space–time points ``x`` (``(N, D)``, time last) when ``t`` is omitted. Returns ``(N, m)``."""
        return predict(self.model, self._inputs(x, t))

    def exact(self, x: ArrayLike, t: Optional[ArrayLike] = None) -> np.ndarray:
        pts = torch.as_tensor(self._inputs(x, t), dtype=torch.float64)
        return self.problem.reference(pts).numpy()

    def is_finite(self) -> bool:
        """Every weight of the model and every error is finite."""
        weights = all(bool(torch.isfinite(p).all()) for p in self.model.state_dict().values() if p.is_floating_point())
        return weights and all(np.isfinite(v) for v in self.errors.values() if isinstance(v, (int, float)))

    def summary(self) -> dict:
        return {
            "problem": self.problem.describe(),
            "errors": self.errors,
            "inferred": self.inferred,
            "timings": self.timings,
            "final_loss": self.history["loss"][-1] if self.history["loss"] else None,
            "steps": len(self.history["step"]),
            "config": self.config,
            "versions": self.versions,
        }

    def save(self, directory: str, plots: bool = True) -> Dict[str, str]:
        """Write ``summary.json`` (config, versions, seed, timings, errors), ``history.json``, the model's
        state dict, and plots (solution/error slice, loss history; for velocity–pressure problems also
        ``velocity.png``, ``pressure.png``, ``errors.png`` from :func:`pinnkit.report.plot_flow`; ``ntk.png`` when
        the NTK was recorded). Returns the
        written paths.

        A result that is not finite (NaN or infinite weights or errors) never replaces the files of an earlier
        result in ``directory``: it raises ValueError and leaves them as they were. Under ``torchrun`` only
        rank 0 writes (every rank holds the same model); the others return the same paths."""
        paths = {
            "summary": os.path.join(directory, "summary.json"),
            "history": os.path.join(directory, "history.json"),
            "model": os.path.join(directory, "model.pt"),
        }
        if not self.is_finite():
            kept = [p for p in (paths["summary"], paths["model"]) if os.path.exists(p)]
            if kept:
                raise ValueError(
                    f"this result is not finite (NaN or infinite weights or errors); the earlier results "
                    f"{', '.join(kept)} are kept, not overwritten"
                )
        if not distributed.is_main():
            return paths
        os.makedirs(directory, exist_ok=True)
        with open(paths["summary"], "w") as fh:
            json.dump(self.summary(), fh, indent=2, default=str)
        with open(paths["history"], "w") as fh:
            json.dump(self.history, fh)
        torch.save(self.model.state_dict(), paths["model"])
        if plots:
            paths["loss_plot"] = plot_loss_history(self.history, os.path.join(directory, "loss_history.png"))
            if self.problem.input_dim >= 1:
                truth = (lambda z: self.exact(z)) if self.problem.has_exact else None
                paths["solution_plot"] = plot_solution(
                    self.problem, lambda z: predict(self.model, z), os.path.join(directory, "solution.png"), truth
                )
            if any(not rec.get("field") for rec in self.inferred.values()):
                paths["coefficients_plot"] = plot_coefficients(
                    self.history, self.inferred, os.path.join(directory, "coefficients.png")
                )
            ntk = plot_ntk(self.history, os.path.join(directory, "ntk.png"))
            if ntk is not None:
                paths["ntk_plot"] = ntk
            if is_flow_problem(self.problem):
                paths.update(plot_flow(self.problem, lambda z: predict(self.model, z), directory, truth))
        return paths
