"""Width scaling of mean-field two-layer nets: final loss, L2 error and fluctuation against n, for plain
mean-field gradient flow ("gd") and birth–death ("bd", Rotskoff, Jelassi, Bruna & Vanden-Eijnden 2019).

For each problem, n in a geometric range (``--min-n`` … ``--max-n`` by ``--factor``) and several seeds, a
:class:`pinnkit.nets.MeanFieldTwoLayer` is trained for the same mean-field time ``T = steps·dt`` by
:class:`pinnkit.meanfield_trainer.MeanFieldTrainer` (learning rate ``dt·n``, so all widths move at the same
speed). Birth–death runs at rate ``--alpha`` for the first ``--bd-fraction`` of the steps, then plain gradient
descent (as in the authors' notebooks). Problems:

* ``regression``: ``½ mean |f − y|²`` on a 24×24 grid of ``[−1,1]²``, target a fixed random tanh teacher of
  width 4096 (``y = Σ_j a_j tanh(v_j·x + b_j)/√4096``, ``v_j ~ N(0, 9I)``) — wider than every student;
* ``heat``: the 1-D heat PINN (``u_t = 0.1 u_xx``, sine solution), 256 Sobol collocation points, 64 per
  condition, all weights 1;
* ``burgers``: viscous Burgers PINN at ``ν = --nu``.

Reported per (problem, method): the least-squares slope of ``log(final loss)`` against ``log n`` (mean ± std
across seeds), of the held-out relative L2 error, and of the fluctuation ``‖f_n − f_ref‖²`` (mean square over
the held-out points, ``f_ref`` = average of the widest nets over seeds: the central limit theorem of the
mean-field limit predicts ``E‖f_n − f_∞‖² ∝ 1/n`` at every fixed time). Mean-field theory predicts a loss
excess of order ``1/n`` at long times *once the n → ∞ flow has converged*; at finite time the loss is
``E_∞(T) + O(1/n)`` and the first term can dominate. Writes ``results.json``, ``table.csv`` and
``scaling.png`` to ``--out``.

    python examples/meanfield_scaling.py --max-n 1024 --seeds 3            # about 6 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import time
from typing import Dict, List

import numpy as np
import torch

from pinnkit.equations import Heat, ViscousBurgers
from pinnkit.meanfield_trainer import MeanFieldConfig, MeanFieldTrainer, PINNEnergy, RegressionEnergy
from pinnkit.nets import MeanFieldTwoLayer
from pinnkit.sampling import Sampler, evaluation_points

DEFAULTS = {
    "regression": {"dt": 1.0, "steps": 600},
    "heat": {"dt": 0.1, "steps": 1000},
    "burgers": {"dt": 0.05, "steps": 1000},
}


def teacher_data(seed: int = 123, m: int = 4096, k: int = 24, test_k: int = 41):
    g = torch.Generator().manual_seed(seed)
    V = 3.0 * torch.randn(m, 2, generator=g, dtype=torch.float64)
    B = torch.randn(m, generator=g, dtype=torch.float64)
    A = torch.randn(m, generator=g, dtype=torch.float64)

    def grid(k: int) -> torch.Tensor:
        ax = torch.linspace(-1, 1, k, dtype=torch.float64)
        return torch.stack(torch.meshgrid(ax, ax, indexing="ij"), -1).reshape(-1, 2)

    def f(x: torch.Tensor) -> torch.Tensor:
        return (torch.tanh(x @ V.T + B) @ A / math.sqrt(m))[:, None]

    x, xt = grid(k), grid(test_k)
    return x, f(x), xt, f(xt)


def run_one(problem: str, n: int, seed: int, method: str, args) -> Dict:
    dt = args.dt if args.dt else DEFAULTS[problem]["dt"]
    steps = args.steps if args.steps else DEFAULTS[problem]["steps"]
    g = torch.Generator().manual_seed(seed)
    if problem == "regression":
        x, y, xt, yt = teacher_data()
        model = MeanFieldTwoLayer(2, n=n, generator=g).double()
        energy = RegressionEnergy(x, y)
        x_eval, y_eval = xt, yt
    else:
        p = Heat() if problem == "heat" else ViscousBurgers(nu=args.nu)
        model = MeanFieldTwoLayer(p.input_dim, n=n, input_bounds=(p.input_lower, p.input_upper), generator=g).double()
        energy = PINNEnergy(p, Sampler(p, 256, 64, 64, seed=seed), condition_weight=1.0)
        pts = evaluation_points(p, 4096)
        x_eval = torch.as_tensor(pts, dtype=torch.float64)
        y_eval = p.reference(x_eval)
    cfg = MeanFieldConfig(
        dt=dt,
        steps=steps,
        alpha=args.alpha if method == "bd" else None,
        birth_death_until=int(args.bd_fraction * steps) if method == "bd" else None,
        seed=seed,
        record_every=max(1, steps // 20),
    )
    tr = MeanFieldTrainer(model, energy, cfg)
    t0 = time.perf_counter()
    h = tr.train()
    wall = time.perf_counter() - t0
    with torch.no_grad():
        pred = model(x_eval)
    rel = float((pred - y_eval).norm() / y_eval.norm())
    return {
        "problem": problem,
        "method": method,
        "n": n,
        "seed": seed,
        "dt": dt,
        "steps": steps,
        "T": dt * steps,
        "loss": h["loss"][-1],
        "loss_curve": list(zip(h["extra"]["t"], h["loss"])),
        "relative_l2": rel,
        "events": tr.births,
        "wall_s": wall,
        "pred": pred[:, 0].tolist(),
    }


def slope(ns, vals) -> float:
    ns, vals = np.asarray(ns, float), np.asarray(vals, float)
    ok = vals > 0
    return float(np.polyfit(np.log(ns[ok]), np.log(vals[ok]), 1)[0]) if ok.sum() >= 2 else math.nan


def analyse(runs: List[Dict]) -> Dict:
    out = {}
    for problem in sorted({r["problem"] for r in runs}):
        for method in ("gd", "bd"):
            rs = [r for r in runs if r["problem"] == problem and r["method"] == method]
            if not rs:
                continue
            ns = sorted({r["n"] for r in rs})
            seeds = sorted({r["seed"] for r in rs})
            by = {(r["n"], r["seed"]): r for r in rs}
            ref = np.mean([by[(ns[-1], s)]["pred"] for s in seeds if (ns[-1], s) in by], axis=0)
            per_seed = {"loss": [], "relative_l2": [], "fluctuation": []}
            for s in seeds:
                nn_ = [n for n in ns if (n, s) in by]
                per_seed["loss"].append(slope(nn_, [by[(n, s)]["loss"] for n in nn_]))
                per_seed["relative_l2"].append(slope(nn_, [by[(n, s)]["relative_l2"] for n in nn_]))
                fl_n = [n for n in nn_ if n != ns[-1]]
                per_seed["fluctuation"].append(
                    slope(fl_n, [np.mean((np.asarray(by[(n, s)]["pred"]) - ref) ** 2) for n in fl_n])
                )
            table = []
            for n in ns:
                row = [by[(n, s)] for s in seeds if (n, s) in by]
                fl = [float(np.mean((np.asarray(r["pred"]) - ref) ** 2)) for r in row]
                table.append(
                    {
                        "n": n,
                        "loss_mean": float(np.mean([r["loss"] for r in row])),
                        "loss_std": float(np.std([r["loss"] for r in row])),
                        "relative_l2_mean": float(np.mean([r["relative_l2"] for r in row])),
                        "fluctuation_mean": float(np.mean(fl)) if n != ns[-1] else math.nan,
                        "events_mean": float(np.mean([r["events"] for r in row])),
                        "wall_s_mean": float(np.mean([r["wall_s"] for r in row])),
                    }
                )
            out[f"{problem}/{method}"] = {
                "slopes": {
                    k: {"mean": float(np.nanmean(v)), "std": float(np.nanstd(v)), "per_seed": v}
                    for k, v in per_seed.items()
                },
                "table": table,
                "T": rs[0]["T"],
                "dt": rs[0]["dt"],
                "steps": rs[0]["steps"],
            }
    return out


def plot(summary: Dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    problems = sorted({k.split("/")[0] for k in summary})
    fig, axes = plt.subplots(len(problems), 3, figsize=(13, 3.6 * len(problems)), squeeze=False)
    for i, prob in enumerate(problems):
        for method, mk in (("gd", "o-"), ("bd", "s--")):
            s = summary.get(f"{prob}/{method}")
            if s is None:
                continue
            ns = [r["n"] for r in s["table"]]
            for j, (key, col) in enumerate(
                (("loss", "loss_mean"), ("relative_l2", "relative_l2_mean"), ("fluctuation", "fluctuation_mean"))
            ):
                vals = [r[col] for r in s["table"]]
                sl = s["slopes"][key]
                axes[i, j].loglog(ns, vals, mk, label=f"{method}: slope {sl['mean']:.2f} ± {sl['std']:.2f}")
                axes[i, j].set_title(f"{prob}: {key}")
                axes[i, j].set_xlabel("n")
                axes[i, j].xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
                axes[i, j].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", default="regression,heat", help="comma list of regression, heat, burgers")
    ap.add_argument("--min-n", type=int, default=16)
    ap.add_argument("--max-n", type=int, default=4096)
    ap.add_argument("--factor", type=int, default=4)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=0, help="0: per-problem default")
    ap.add_argument("--dt", type=float, default=0.0, help="0: per-problem default")
    ap.add_argument("--alpha", type=float, default=0.05, help="birth–death rate")
    ap.add_argument("--bd-fraction", type=float, default=0.5, help="birth–death acts in this first fraction")
    ap.add_argument("--nu", type=float, default=0.05, help="Burgers viscosity")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="runs/meanfield-scaling")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    ns = []
    n = args.min_n
    while n <= args.max_n:
        ns.append(n)
        n *= args.factor
    runs = []
    t0 = time.perf_counter()
    for problem in args.problems.split(","):
        for method in ("gd", "bd"):
            for seed in range(args.seeds):
                for n in ns:
                    r = run_one(problem, n, seed, method, args)
                    runs.append(r)
                    print(
                        f"{problem:10s} {method} n={n:5d} seed={seed} loss={r['loss']:.3e} "
                        f"relL2={r['relative_l2']:.3e} events={r['events']} {r['wall_s']:.1f}s",
                        flush=True,
                    )
    summary = analyse(runs)
    summary["_meta"] = {"args": vars(args), "ns": ns, "total_wall_s": time.perf_counter() - t0}
    with open(os.path.join(args.out, "results.json"), "w") as fh:
        json.dump(
            {"summary": summary, "runs": [{k: v for k, v in r.items() if k != "pred"} for r in runs]}, fh, indent=1
        )
    with open(os.path.join(args.out, "table.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "problem",
                "method",
                "n",
                "loss_mean",
                "loss_std",
                "relative_l2_mean",
                "fluctuation_mean",
                "events_mean",
                "wall_s_mean",
            ]
        )
        for key, s in summary.items():
            if key.startswith("_"):
                continue
            for row in s["table"]:
                w.writerow(
                    [
                        *key.split("/"),
                        row["n"],
                        row["loss_mean"],
                        row["loss_std"],
                        row["relative_l2_mean"],
                        row["fluctuation_mean"],
                        row["events_mean"],
                        row["wall_s_mean"],
                    ]
                )
    plot({k: v for k, v in summary.items() if not k.startswith("_")}, os.path.join(args.out, "scaling.png"))
    for key, s in summary.items():
        if key.startswith("_"):
            continue
        sl = s["slopes"]
        print(
            f"{key:16s} T={s['T']:g}  slope loss {sl['loss']['mean']:+.2f}±{sl['loss']['std']:.2f}  "
            f"L2 {sl['relative_l2']['mean']:+.2f}±{sl['relative_l2']['std']:.2f}  "
            f"fluct {sl['fluctuation']['mean']:+.2f}±{sl['fluctuation']['std']:.2f}"
        )
    print(f"total {time.perf_counter() - t0:.0f}s; wrote {args.out}")


if __name__ == "__main__":
    main()
