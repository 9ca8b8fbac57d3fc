"""DeepONet size lower bound (Mukherjee & Roy, TMLR 2024) against measurement: training risk vs the common
dimension q for several training-set sizes n, on noisy heat-operator data.

The statement (an ESTIMATE in pinnkit: its constant is unknown, see ``pinnkit.theory.deeponet_bound``): to
push the empirical risk on n noisy samples below the noise variance σ², q must grow like n^{1/4}.  Here:
n_f input functions (periodic GRF) × P fixed points each, labels = exact heat solution + N(0, σ²) noise,
n = n_f · P.  For each (n, q) a DeepONet (fixed branch/trunk widths) is trained full-batch with Adam; we record
its final training risk and, per n, the smallest q whose risk fell below ``level = σ²/2``.  The estimate's
constant C is calibrated on the smallest n (C = q_min / n^{1/4}), so the other n test the exponent.

    python examples/deeponet_size_bound.py [--qs 1 2 4 8 16 32] [--nf 8 32 128] [--steps 2500] [--out runs/deeponet-size]

Writes risk_vs_q.png, qmin_vs_n.png and summary.json.  About 5 minutes on one core with the defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from pinnkit.equations.operator_data import make_dataset  # noqa: E402
from pinnkit.nets import DeepONet  # noqa: E402
from pinnkit.operator_trainer import DeepONetTrainer, OperatorTrainConfig  # noqa: E402
from pinnkit.theory import calibrate_constant, deeponet_size_estimate  # noqa: E402


def noisy_subset(data, n_functions: int, n_points: int, noise: float, seed: int):
    """First n_functions functions at n_points fixed random grid points, labels + N(0, noise²)."""
    rng = np.random.default_rng(seed)
    pts = np.sort(rng.choice(data.coords.shape[0], n_points, replace=False))
    sol = data.solutions[:n_functions][:, pts] + noise * rng.standard_normal((n_functions, n_points))
    return replace(data, inputs=data.inputs[:n_functions], coords=data.coords[pts], solutions=sol)


def train_risk(sub, q: int, steps: int, seed: int) -> float:
    """Final full-batch training MSE of a DeepONet with common dimension q."""
    net = DeepONet(sub.inputs.shape[1], 2, q=q, branch_width=64, branch_depth=2, trunk_width=64, trunk_depth=2,
                   periodic=(1.0, 4), trunk_output_activation=False, seed=seed)
    cfg = OperatorTrainConfig(mode="data", steps=steps, lr=3e-3, lr_decay=0.5, decay_every=max(steps // 4, 1),
                              batch_functions=sub.inputs.shape[0], batch_points=sub.coords.shape[0],
                              log_every=steps, checkpoint_every=steps, progress=False, seed=seed)
    trainer = DeepONetTrainer(net, sub, config=cfg)
    trainer.train()
    pred = trainer.predict(sub.inputs, sub.coords)
    return float(np.mean((pred - sub.solutions) ** 2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qs", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    ap.add_argument("--nf", type=int, nargs="+", default=[8, 32, 128], help="numbers of training functions")
    ap.add_argument("--points", type=int, default=16, help="fixed points per function")
    ap.add_argument("--noise", type=float, default=0.1, help="label noise standard deviation σ")
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/deeponet-size")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    data = make_dataset("heat", max(args.nf), m_sensors=32, nx=33, nt=21,
                        grf={"kernel": "se", "length_scale": 0.2, "sigma": 1.0}, kappa=0.01, seed=11, progress=False)
    sigma2 = args.noise**2
    level = sigma2 / 2
    t0 = time.perf_counter()
    risks: dict = {}
    for nf in args.nf:
        sub = noisy_subset(data, nf, args.points, args.noise, args.seed)
        risks[nf] = [train_risk(sub, q, args.steps, args.seed) for q in args.qs]
        print(f"n_f={nf} (n={nf * args.points}): " + ", ".join(f"q={q}: {r:.2e}" for q, r in zip(args.qs, risks[nf])))
    q_min = {nf: next((q for q, r in zip(args.qs, risks[nf]) if r < level), None) for nf in args.nf}
    ns = {nf: nf * args.points for nf in args.nf}
    base = next((nf for nf in args.nf if q_min[nf] is not None), None)
    c = calibrate_constant(q_min[base], ns[base]) if base is not None else 1.0
    predicted = {nf: deeponet_size_estimate(ns[nf], level=level, noise_variance=sigma2, constant=c).q_min_real
                 for nf in args.nf}

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for i, nf in enumerate(args.nf):
        ax.loglog(args.qs, risks[nf], "o-", color=f"C{i}", label=f"n = {ns[nf]} ({nf} functions)")
        ax.axvline(predicted[nf], color=f"C{i}", ls=":", lw=1)
    ax.axhline(sigma2, color="k", ls="--", lw=1, label="noise variance σ²")
    ax.axhline(level, color="gray", ls="-.", lw=1, label="level σ²/2")
    ax.set_xlabel("q (common branch/trunk dimension)"), ax.set_ylabel("training risk (MSE)")
    ax.set_title("risk vs q; dotted: estimate C n^{1/4} (C from smallest n)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "risk_vs_q.png"), dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 4))
    n_arr = np.array([ns[nf] for nf in args.nf], dtype=float)
    grid = np.geomspace(n_arr.min(), n_arr.max(), 50)
    ax.loglog(grid, c * grid**0.25, "k--", label=f"estimate {c:.2f} n^(1/4)")
    meas = [(ns[nf], q_min[nf]) for nf in args.nf if q_min[nf] is not None]
    if meas:
        ax.loglog(*zip(*meas), "o", ms=8, label="measured smallest q with risk < σ²/2")
    ax.set_xlabel("n (training samples)"), ax.set_ylabel("q"), ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "qmin_vs_n.png"), dpi=110)
    plt.close(fig)

    summary = {"qs": args.qs, "n_functions": args.nf, "points_per_function": args.points, "noise_std": args.noise,
               "level": level, "risks": {str(k): v for k, v in risks.items()},
               "measured_q_min": {str(k): v for k, v in q_min.items()}, "constant": c,
               "estimated_q_min_real": {str(k): v for k, v in predicted.items()},
               "is_bound": False, "estimated": True, "seconds": time.perf_counter() - t0}
    with open(os.path.join(args.out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=1)
    print(json.dumps({k: summary[k] for k in ("measured_q_min", "constant", "estimated_q_min_real", "seconds")}))


if __name__ == "__main__":
    main()
