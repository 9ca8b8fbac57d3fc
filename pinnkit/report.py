"""Plots a person would rather look at than read: solution, pointwise error, loss history, and for
velocity–pressure problems the speed with streamlines, the pressure and the error fields."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable, List, Optional, Tuple

import numpy as np
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from pinnkit.equations.base import Problem

__all__ = [
    "plot_coefficients",
    "plot_loss_history",
    "plot_ntk",
    "plot_solution",
    "slice_grid",
    "plot_flow",
    "is_flow_problem",
    "QUASI_NEWTON_STAGES",
]

#: history stage names of the quasi-Newton optimisers (shaded in the loss plot), with their display names;
#: any other stage (``"adam"``, ``"sgd"``, ...) is first-order
QUASI_NEWTON_STAGES = {"lbfgs": "L-BFGS", "bfgs": "BFGS", "ssbfgs": "self-scaled BFGS"}


def plot_loss_history(history: dict, path: str) -> str:
    """Total loss and each unweighted term against the step, log scale; the quasi-Newton stage (a stage named
    in :data:`QUASI_NEWTON_STAGES`) shaded."""
    fig = Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    steps = np.asarray(history["step"])
    ax.semilogy(steps, history["loss"], color="k", lw=1.5, label="total (weighted)")
    for name, vals in history["terms"].items():
        ax.semilogy(steps, vals, lw=0.9, alpha=0.8, label=name)
    qn = [(s, st) for s, st in zip(history["step"], history["stage"]) if st in QUASI_NEWTON_STAGES]
    if qn:
        ax.axvspan(qn[0][0], qn[-1][0], color="0.9", zorder=0, label=QUASI_NEWTON_STAGES[qn[0][1]])
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
    return path


def plot_ntk(history: dict, path: str) -> Optional[str]:
    """The empirical NTK recorded by :class:`pinnkit.callbacks.NTKTracker`: left, the largest eigenvalues of
    each diagonal block at the first and last recorded step (log scale); right, each block's mean diagonal
    (trace / rows) against the step. None when the history holds no NTK records."""
    diag = history.get("diagnostics", {})
    terms = sorted({k.split("/")[2] for k in diag if k.startswith("ntk/eig/")})
    if not terms:
        return None
    fig = Figure(figsize=(10, 4))
    ax_spec, ax_tr = fig.subplots(1, 2)
    colors = {t: f"C{i}" for i, t in enumerate(terms)}
    for t in terms:
        keys = sorted((k for k in diag if k.startswith(f"ntk/eig/{t}/")), key=lambda k: int(k.rsplit("/", 1)[1]))
        series = np.asarray([[v for _, v in diag[k]] for k in keys])  # (eigenvalue index, call)
        steps = [s for s, _ in diag[keys[0]]]
        idx = np.arange(1, len(keys) + 1)
        ax_spec.semilogy(idx, np.maximum(series[:, 0], 1e-300), "--", color=colors[t], label=f"{t}, step {steps[0]}")
        if len(steps) > 1:
            ax_spec.semilogy(
                idx, np.maximum(series[:, -1], 1e-300), "-", color=colors[t], label=f"{t}, step {steps[-1]}"
            )
        tr = np.asarray(diag[f"ntk/trace/{t}"])
        ax_tr.semilogy(tr[:, 0], tr[:, 1], "o-", ms=3, color=colors[t], label=t)
    ax_spec.set_xlabel("eigenvalue index")
    ax_spec.set_ylabel("eigenvalue of K_cc")
    ax_spec.set_title("NTK spectra")
    ax_tr.set_xlabel("step")
    ax_tr.set_ylabel("Tr K_cc / rows")
    ax_tr.set_title("NTK traces")
    for ax in (ax_spec, ax_tr):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def slice_grid(problem: Problem, n: int = 101) -> Tuple[np.ndarray, np.ndarray, np.ndarray, Tuple[str, str], str]:
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


def plot_coefficients(history: dict, inferred: dict, path: str) -> str:
    """The learned coefficients of an inverse run against the step (``history["diagnostics"]``,
    ``coefficient/<name>``), each in its own panel with its truth dashed."""
    names = [n for n, rec in inferred.items() if not rec.get("field")]
    fig = Figure(figsize=(5.5, 2.6 * max(len(names), 1)))
    axes = fig.subplots(len(names), 1, squeeze=False)[:, 0]
    for ax, name in zip(axes, names):
        pairs = np.asarray(history.get("diagnostics", {}).get(f"coefficient/{name}", []), dtype=float)
        rec = inferred[name]
        steps = np.concatenate([[0.0], pairs[:, 0]]) if len(pairs) else np.array([0.0])
        vals = np.concatenate([[rec["initial"]], pairs[:, 1]]) if len(pairs) else np.array([rec["initial"]])
        ax.plot(steps, vals, "-", lw=1.4, label=f"{name} learned ({rec['value']:.5g})")
        ax.axhline(rec["truth"], color="k", ls="--", lw=1, label=f"truth {rec['truth']:.5g}")
        ax.set_xlabel("step")
        ax.set_ylabel(name)
        ax.set_title(f"{name}: relative error {rec['relative_error']:.2e}", fontsize=9)
        ax.legend(fontsize=8)
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def plot_solution(
    problem: Problem, predict: Callable[[np.ndarray], np.ndarray], path: str, truth: Optional[Callable] = None
) -> str:
    """Prediction, ground truth and pointwise absolute error on a 2-D slice, one row per output."""
    if problem.input_dim == 1:
        x = np.linspace(problem.input_lower[0], problem.input_upper[0], 400)[:, None]
        u = predict(x)
        fig = Figure(figsize=(6, 4))
        ax = fig.subplots()
        ax.plot(x[:, 0], u, label="PINN")
        if truth is not None:
            ax.plot(x[:, 0], truth(x), "--", label="exact")
        ax.legend()
        fig.savefig(path, dpi=120)
        return path
    pts, a, b, (la, lb), title = slice_grid(problem)
    pred = predict(pts)
    true = truth(pts) if truth is not None else None
    if not problem.on_box:  # masked to the domain: points of the bounding box outside it are left blank
        outside = ~problem.spatial_domain.inside(pts[:, : problem.spatial_dim])
        pred = np.where(outside[:, None], np.nan, pred)
        if true is not None:
            true = np.where(outside[:, None], np.nan, true)
    m = pred.shape[1]
    cols = 3 if true is not None else 1
    fig = Figure(figsize=(4.2 * cols, 3.5 * m))
    axes = fig.subplots(m, cols, squeeze=False)
    for k in range(m):
        panels: List = [(pred[:, k], f"{problem.output_names[k]} predicted", "viridis")]
        if true is not None:
            panels += [
                (true[:, k], f"{problem.output_names[k]} exact", "viridis"),
                (np.abs(pred[:, k] - true[:, k]), "|error|", "magma"),
            ]
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
    return path


# =========================================================================== flow fields (Navier–Stokes)
def is_flow_problem(problem: Problem) -> bool:
    """A velocity–pressure problem: it names its velocity columns and its pressure column
    (:class:`pinnkit.equations.IncompressibleNS` and subclasses such as the lid-driven cavity)."""
    return (
        getattr(problem, "velocity_components", None) is not None
        and getattr(problem, "pressure_index", None) is not None
        and problem.spatial_dim >= 2
    )


def _flow_slice(problem, n: int):
    """The plotting plane of a flow problem: the whole box for 2-D, the mid-plane ``x₃ = centre`` for 3-D;
    at the final time for unsteady problems (:func:`slice_grid`). Returns ``(points, a, b, labels, where)``."""
    pts, a, b, labels, _ = slice_grid(problem, n)
    where = []
    if problem.spatial_dim > 2:
        lo, hi = problem.lower, problem.upper
        where += [f"{problem.input_names[k]} = {(lo[k] + hi[k]) / 2:g}" for k in range(2, problem.spatial_dim)]
    if problem.time_dependent:
        where.append(f"t = {problem.time_interval[1]:g}")
    return pts, a, b, labels, (" (" + ", ".join(where) + ")") if where else ""


def _panel(fig, ax, a, b, vals, title, labels, cmap="viridis", stream=None, vmin=None, vmax=None):
    grid = vals.reshape(len(a), len(b)).T
    im = ax.pcolormesh(a, b, grid, shading="auto", cmap=cmap, vmin=vmin, vmax=vmax)
    fig.colorbar(im, ax=ax)
    if stream is not None:
        ux, uy = (c.reshape(len(a), len(b)).T for c in stream)
        speed = np.hypot(ux, uy)
        if np.isfinite(speed).all() and speed.max() > 0:
            ax.streamplot(a, b, ux, uy, color="w", linewidth=0.6, density=1.2, arrowsize=0.6)
        ax.set_xlim(a[0], a[-1])
        ax.set_ylim(b[0], b[-1])
    ax.set_aspect("equal")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(title, fontsize=9)


def _save(fig, path: str) -> str:
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def plot_flow(
    problem: Problem,
    predict: Callable[[np.ndarray], np.ndarray],
    directory: str,
    truth: Optional[Callable[[np.ndarray], np.ndarray]] = None,
    n: int = 101,
    streamlines: Optional[bool] = None,
) -> dict:
    """Figures of a velocity–pressure solution on its plotting plane (:func:`_flow_slice`):

    * ``velocity.png`` — speed ``|u|`` (all components) predicted and reference, with streamlines of the
      in-plane velocity, and the pointwise velocity error ``|u_θ − u|`` (Euclidean over components);
    * ``pressure.png`` — pressure predicted and reference, each with its mean over the plane removed (the
      pressure is fixed only up to a constant), and ``|p_θ − p|`` after that;
    * ``errors.png`` — the pointwise absolute error of every output (pressure mean removed).

    ``streamlines=None`` draws them for steady 2-D problems (always for the lid-driven cavity); without
    ``truth`` only the prediction panels are drawn and ``errors.png`` is skipped. Returns
    ``{"velocity_plot": path, "pressure_plot": path[, "error_plot": path]}``.
    """
    if not is_flow_problem(problem):
        raise ValueError(f"{problem.name} is not a velocity–pressure problem")
    if streamlines is None:
        streamlines = problem.spatial_dim == 2 and (not problem.time_dependent or problem.name == "cavity")
    pts, a, b, labels, where = _flow_slice(problem, n)
    vel, jp = list(problem.velocity_components), problem.pressure_index
    names = problem.output_names
    pred = np.asarray(predict(pts), dtype=float)
    true = np.asarray(truth(pts), dtype=float) if truth is not None else None
    rows = [("PINN", pred)] + ([("reference", true)] if true is not None else [])
    for _, arr in rows:
        arr[:, jp] -= arr[:, jp].mean()
    paths = {}

    # velocity: speed + streamlines, and the velocity error
    speeds = [np.linalg.norm(arr[:, vel], axis=1) for _, arr in rows]
    vmax = max(float(s.max()) for s in speeds)
    cols = len(rows) + (1 if true is not None else 0)
    fig = Figure(figsize=(4.6 * cols, 4.0))
    axes = fig.subplots(1, cols, squeeze=False)
    for c, ((label, arr), speed) in enumerate(zip(rows, speeds)):
        stream = (arr[:, vel[0]], arr[:, vel[1]]) if streamlines else None
        _panel(fig, axes[0, c], a, b, speed, f"|velocity|, {label}{where}", labels, stream=stream, vmin=0.0, vmax=vmax)
    if true is not None:
        err = np.linalg.norm(pred[:, vel] - true[:, vel], axis=1)
        _panel(fig, axes[0, -1], a, b, err, f"|u_θ − u|{where}", labels, cmap="magma")
    paths["velocity_plot"] = _save(fig, os.path.join(directory, "velocity.png"))

    # pressure (mean removed)
    lim = max(float(np.abs(arr[:, jp]).max()) for _, arr in rows) or 1.0
    fig = Figure(figsize=(4.6 * cols, 4.0))
    axes = fig.subplots(1, cols, squeeze=False)
    for c, (label, arr) in enumerate(rows):
        _panel(
            fig,
            axes[0, c],
            a,
            b,
            arr[:, jp],
            f"{names[jp]} − mean, {label}{where}",
            labels,
            cmap="RdBu_r",
            vmin=-lim,
            vmax=lim,
        )
    if true is not None:
        _panel(
            fig,
            axes[0, -1],
            a,
            b,
            np.abs(pred[:, jp] - true[:, jp]),
            f"|p_θ − p| (means removed){where}",
            labels,
            cmap="magma",
        )
    paths["pressure_plot"] = _save(fig, os.path.join(directory, "pressure.png"))

    # pointwise error of every output
    if true is not None:
        m = pred.shape[1]
        fig = Figure(figsize=(4.4 * m, 3.8))
        axes = fig.subplots(1, m, squeeze=False)
        for k in range(m):
            extra = " (mean removed)" if k == jp else ""
            _panel(
                fig,
                axes[0, k],
                a,
                b,
                np.abs(pred[:, k] - true[:, k]),
                f"|{names[k]}_θ − {names[k]}|{extra}{where}",
                labels,
                cmap="magma",
            )
        paths["error_plot"] = _save(fig, os.path.join(directory, "errors.png"))
    return paths
