"""Mean-field two-layer PINN against a deep MLP at equal parameter count and equal wall time.

Problems: 1-D heat (``u_t = 0.1 u_xx``, sine solution) and viscous Burgers (``ν = 0.01/π``, Raissi et al.).
Mean-field: :class:`pinnkit.nets.MeanFieldTwoLayer` with ``n = --n`` tanh units (``4n`` parameters), mean-field
gradient flow (:mod:`pinnkit.meanfield_trainer`, step ``--dt``, condition weight 1) and optionally birth–death
(``--alpha``), stopped after ``--budget`` seconds. MLP: ``pinnkit.solve`` with ``{"width": --width, "depth":
--depth}`` (default 21×3 = 1009 parameters against 1024), Adam (pinnkit's defaults: lr 3e-3, condition
weight 10) for as many steps as fit the same budget (steps/s measured by a short probe), no L-BFGS. Both use
1000 Sobol collocation points and 200 per condition; errors are relative L2 on pinnkit's held-out grid.

    python examples/meanfield_vs_mlp.py --budget 60
"""

from __future__ import annotations

import argparse
import json
import math
import os

import torch

import pinnkit
from pinnkit.equations import Heat, ViscousBurgers
from pinnkit.meanfield_trainer import train_meanfield_pinn


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per training")
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--width", type=int, default=21)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only-mlp", action="store_true", help="skip the mean-field rows")
    ap.add_argument("--out", default="runs/meanfield-vs-mlp")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for name, problem, dt in (("heat", Heat(), 0.1), ("burgers", ViscousBurgers(), 0.05)):
        for label, alpha in () if args.only_mlp else (("meanfield-gd", None), ("meanfield-bd", args.alpha)):
            r = train_meanfield_pinn(
                problem,
                n=args.n,
                steps=10**7,
                dt=dt,
                alpha=alpha,
                seed=args.seed,
                n_domain=1000,
                n_boundary=200,
                n_initial=200,
                record_every=200,
                birth_death_until=None,
                max_wall_s=args.budget,
                dtype=torch.float32,
            )
            rows.append(
                {
                    "problem": name,
                    "model": label,
                    "params": 4 * args.n,
                    "steps": r.history["step"][-1],
                    "wall_s": r.wall_s,
                    "loss": r.energy,
                    "relative_l2": r.errors["relative_l2"],
                }
            )
            print(rows[-1], flush=True)
        net = {"width": args.width, "depth": args.depth}
        common = dict(
            net=net,
            lbfgs_steps=0,
            n_domain=1000,
            n_boundary=200,
            n_initial=200,
            seed=args.seed,
            progress=False,
            n_eval=20000,
        )
        probe = pinnkit.solve(problem, steps=100, **common)
        rate = 100 / probe.timings["train_s"]  # training time only (not setup or evaluation)
        steps = max(100, int(rate * args.budget * 0.95))
        res = pinnkit.solve(problem, steps=steps, **common)
        rows.append(
            {
                "problem": name,
                "model": f"mlp {args.width}x{args.depth}",
                "params": res.config["n_parameters"],
                "steps": steps,
                "wall_s": res.timings["train_s"],
                "loss": res.history["loss"][-1] if res.history.get("loss") else math.nan,
                "relative_l2": res.errors["relative_l2"],
            }
        )
        print(rows[-1], flush=True)
    with open(os.path.join(args.out, "table.json"), "w") as fh:
        json.dump({"args": vars(args), "rows": rows}, fh, indent=1)
    print("| problem | model | params | steps | wall s | loss | rel. L2 |\n|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['problem']} | {r['model']} | {r['params']} | {r['steps']} | {r['wall_s']:.0f} | {r['loss']:.2e} | "
            f"{r['relative_l2']:.2e} |"
        )


if __name__ == "__main__":
    main()
