"""Plots a person would rather look at than read: solution, pointwise error, loss history."""

from __future__ import annotations

import os
from typing import Callable, List, Optional

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["plot_loss_history", "plot_solution", "slice_grid"]


def plot_loss_history(history: dict, path: str) -> str:
    """Total loss and each unweighted term against the step, log scale; the quasi-Newton stage shaded."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    steps = np.asarray(history["step"])
    ax.semilogy(steps, history["loss"], color="k", lw=1.5, label="total (weighted)")
    for name, vals in history["terms"].items():
        ax.semilogy(steps, vals, lw=0.9, alpha=0.8, label=name)
    qn = [(s, st) for s, st in zip(history["step"], history["stage"]) if st != "adam"]
    if qn:
        names = {"lbfgs": "L-BFGS", "bfgs": "BFGS", "ssbfgs": "self-scaled BFGS"}
        ax.axvspan(qn[0][0], qn[-1][0], color="0.9", zorder=0, label=names.get(qn[0][1], qn[0][1]))
    for name, pairs in history.get("diagnostics", {}).items():
        if name.startswith("relative_l2") and pairs:
            p = np.asarray(pairs)
            ax.semilogy(p[:, 0], p[:, 1], "o--", ms=3, lw=1, label=f"{name} (held-out)")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def slice_grid(problem, n: int = 101):
    """A 2-D slice of the input box for plotting: ``(x, t)`` for 1-D unsteady problems, else the first two
    spatial coordinates with the others at the box centre and time at the final time.

    Returns ``(points (n², D), axis-1 values, axis-2 values, axis labels)``."""
    lo, hi = np.asarray(problem.input_lower, float), np.asarray(problem.input_upper, float)
    D = problem.input_dim
    if D == 1:
        raise ValueError("a 1-D input has no 2-D slice")
    i, j = (0, 1)
    names = problem.input_names
    a = np.linspace(lo[i], hi[i], n)
    b = np.linspace(lo[j], hi[j], n)
    A, B = np.meshgrid(a, b, indexing="ij")
    pts = np.tile((lo + hi) / 2, (n * n, 1))
    if problem.time_dependent and D > 2:
        pts[:, -1] = hi[-1]
    pts[:, i], pts[:, j] = A.ravel(), B.ravel()
    title = ""
    if problem.time_dependent and D > 2:
        title = f" at t = {hi[-1]:g}" + (", other coordinates at the centre" if D > 3 else "")
    return pts, a, b, (names[i], names[j]), title


def plot_solution(problem, predict: Callable[[np.ndarray], np.ndarray], path: str, truth: Optional[Callable] = None) -> str:
    """Prediction, ground truth and pointwise absolute error on a 2-D slice, one row per output."""
    if problem.input_dim == 1:
        x = np.linspace(problem.input_lower[0], problem.input_upper[0], 400)[:, None]
        u = predict(x)
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(x[:, 0], u, label="PINN")
        if truth is not None:
            ax.plot(x[:, 0], truth(x), "--", label="exact")
        ax.legend()
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return path
    pts, a, b, (la, lb), title = slice_grid(problem)
    pred = predict(pts)
    true = truth(pts) if truth is not None else None
    m = pred.shape[1]
    cols = 3 if true is not None else 1
    fig, axes = plt.subplots(m, cols, figsize=(4.2 * cols, 3.5 * m), squeeze=False)
    for k in range(m):
        panels: List = [(pred[:, k], f"{problem.output_names[k]} predicted", "viridis")]
        if true is not None:
            panels += [(true[:, k], f"{problem.output_names[k]} exact", "viridis"),
                       (np.abs(pred[:, k] - true[:, k]), "|error|", "magma")]
        for c, (vals, name, cmap) in enumerate(panels):
            ax = axes[k, c]
            im = ax.pcolormesh(a, b, vals.reshape(len(a), len(b)).T, shading="auto", cmap=cmap)
            fig.colorbar(im, ax=ax)
            ax.set_xlabel(la)
            ax.set_ylabel(lb)
            ax.set_title(name + title, fontsize=9)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
