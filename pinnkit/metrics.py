"""Relative L2 error against a ground truth on held-out points."""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Sequence

import numpy as np

if TYPE_CHECKING:
    from pinnkit.equations.base import Problem

__all__ = ["relative_l2", "l2_norm", "weighted_sum", "error_report"]


def relative_l2(pred: np.ndarray, true: np.ndarray) -> float:
    """``‖pred − true‖₂ / ‖true‖₂`` over all points and components (discrete L2 on the held-out set)."""
    pred, true = np.asarray(pred, float), np.asarray(true, float)
    if pred.shape != true.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from truth shape {true.shape}")
    denom = l2_norm(true)
    return l2_norm(pred - true) / denom if denom > 0 else l2_norm(pred - true)


def l2_norm(a: np.ndarray) -> float:
    """``sqrt(Σ a²)`` by numpy's pairwise summation, not BLAS: the same digits whatever the number of BLAS
    threads (``np.linalg.norm`` calls a BLAS dot whose rounding depends on them, so a Dask worker, which
    runs BLAS on one thread, would report another last digit than the main process)."""
    return float(np.sqrt(np.sum(np.square(np.asarray(a, float)))))


def weighted_sum(w: np.ndarray, v: np.ndarray) -> float:
    """``Σ_i w_i v_i`` (a quadrature rule applied to sampled values) by numpy's pairwise summation of the
    products, not a BLAS dot: the same digits whatever the number of BLAS threads, so a study's worker
    processes (one BLAS thread under Dask, the machine's default in a process pool) report the same row."""
    return float(np.sum(np.asarray(w, float) * np.asarray(v, float)))


def error_report(pred: np.ndarray, true: np.ndarray, names: Sequence[str]) -> Dict[str, float]:
    """Relative L2 overall and per output component, plus the max absolute error."""
    out = {"relative_l2": relative_l2(pred, true), "max_abs_error": float(np.max(np.abs(pred - true)))}
    if pred.shape[1] > 1:
        for i, n in enumerate(names):
            out[f"relative_l2_{n}"] = relative_l2(pred[:, i], true[:, i])
    return out


def fix_gauge(problem: Problem, values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Remove the free constant of a pressure fixed only up to a constant (``problem.pressure_gauge ==
    "mean"``): the pressure mean is subtracted per time level when the points form a grid in time (at least
    8 points per distinct time), else once overall. Other problems pass through unchanged."""
    if getattr(problem, "pressure_gauge", None) != "mean":
        return values
    times = None
    if problem.time_dependent:
        t = np.asarray(points)[:, -1]
        if np.unique(t).size * 8 <= t.size:
            times = t
    return problem.remove_pressure_mean(values, times)


def problem_errors(problem: Problem, pred: np.ndarray, true: np.ndarray, points: np.ndarray) -> Dict[str, float]:
    """:func:`error_report` after :func:`fix_gauge` on prediction and truth alike; for velocity–pressure
    problems also ``relative_l2_velocity`` = ``‖u_θ − u‖₂/‖u‖₂`` over all velocity components together
    (the pressure's own error, mean removed, is ``relative_l2_p``)."""
    pred, true = fix_gauge(problem, pred, points), fix_gauge(problem, true, points)
    out = error_report(pred, true, problem.output_names)
    vel = getattr(problem, "velocity_components", None)
    if vel is not None and getattr(problem, "pressure_index", None) is not None:
        out["relative_l2_velocity"] = relative_l2(pred[:, list(vel)], true[:, list(vel)])
    return out
