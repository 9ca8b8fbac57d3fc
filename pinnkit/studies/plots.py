"""Plots of a blow-up study: log-RHS vs log-LHS with δ labels (as in Kumar & Mukherjee's figure), error and
estimate against the distance to blow-up, and the ratio estimate / true error."""

from __future__ import annotations

import os
from typing import Dict, List

import numpy as np
from matplotlib.figure import Figure

__all__ = ["plot_study"]


def _groups(records: List[dict]) -> Dict[str, List[dict]]:
    out: Dict[str, List[dict]] = {}
    for r in records:
        out.setdefault(f"w={r['width']}, λ_g={r['grad_penalty']:g}", []).append(r)
    for rs in out.values():
        rs.sort(key=lambda r: r["delta"])
    return out


def plot_study(records: List[dict], dim: int, out: str) -> Dict[str, str]:
    """``log_rhs_vs_log_lhs.png`` (Theorem 1, and Theorem 2 in 1-D) and ``error_and_estimate_vs_distance.png``
    under ``out``; returns ``{"theorem_plot": path, "error_plot": path}``."""
    groups = _groups(records)
    paths = {}
    theorems = ["theorem1"] + (["theorem2"] if dim == 1 else [])
    fig = Figure(figsize=(6 * len(theorems), 4.8))
    axes = fig.subplots(1, len(theorems), squeeze=False)
    for ax, th in zip(axes[0], theorems):
        for label, rs in groups.items():
            x = [r["analysis"][f"{th}/log_lhs"] for r in rs]
            y = [r["analysis"][f"{th}/log_rhs"] for r in rs]
            ax.plot(x, y, "o-", ms=4, lw=0.8, label=label)
            for xi, yi, r in zip(x, y, rs):
                ax.annotate(
                    f"{r['delta']:.3f}", (xi, yi), fontsize=6, alpha=0.7, xytext=(2, 2), textcoords="offset points"
                )
        ax.set_xlabel("log-LHS  (log of the true error term)")
        ax.set_ylabel("log-RHS  (log of the bound)")
        ax.set_title(f"{'Theorem 1' if th == 'theorem1' else 'Theorem 2'}, ({dim}+1)-D, labels: δ", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    paths["theorem_plot"] = os.path.join(out, "log_rhs_vs_log_lhs.png")
    fig.savefig(paths["theorem_plot"], dpi=130)

    fig = Figure(figsize=(12, 4.5))
    axes = fig.subplots(1, 2)
    dists = [r["distance_to_blowup"] for rs in groups.values() for r in rs]
    if dists and min(dists) == max(dists) > 0:  # one δ: a decade around it, not a zero-width axis
        for ax in axes:
            ax.set_xscale("log")
            ax.set_xlim(min(dists) / np.sqrt(10.0), min(dists) * np.sqrt(10.0))
    for i, (label, rs) in enumerate(groups.items()):
        c = f"C{i}"
        dist = [r["distance_to_blowup"] for r in rs]
        true = [np.sqrt(r["analysis"]["tight/true"]) for r in rs]
        est = [np.sqrt(r["analysis"]["tight/estimate"]) for r in rs]
        axes[0].loglog(dist, true, "o-", color=c, ms=4, label=f"true ‖u−u_θ‖, {label}")
        axes[0].loglog(dist, est, "s--", color=c, ms=4, mfc="none", label=f"tight estimate, {label}")
        ratio = [r["analysis"]["tight/ratio_l2"] for r in rs]
        axes[1].semilogx(dist, ratio, "s--", color=c, ms=4, mfc="none", label=f"estimate, {label}")
        if "certified/bound_l2" in rs[0]["analysis"]:
            cert = [r["analysis"]["certified/bound_l2"] for r in rs]
            axes[0].loglog(dist, cert, "^-", color=c, ms=5, label=f"certified bound, {label}")
            cratio = [r["analysis"]["certified/ratio_l2"] for r in rs]
            axes[1].semilogx(dist, cratio, "^-", color=c, ms=5, label=f"certified, {label}")
    axes[0].set_xlabel("distance to blow-up")
    axes[0].set_ylabel("L² error over space–time")
    axes[0].legend(fontsize=7)
    axes[0].grid(alpha=0.3, which="both")
    axes[1].axhline(1.0, color="k", lw=0.8)
    axes[1].set_xlabel("distance to blow-up")
    axes[1].set_ylabel("bound or estimate / true error (L² norms)")
    axes[1].legend(fontsize=7)
    axes[1].grid(alpha=0.3, which="both")
    fig.tight_layout()
    paths["error_plot"] = os.path.join(out, "error_and_estimate_vs_distance.png")
    fig.savefig(paths["error_plot"], dpi=130)
    return paths
