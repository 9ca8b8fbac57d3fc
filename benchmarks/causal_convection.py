"""Causal weighting where plain training fails to propagate information in time (issue 17, item 3).

Periodic convection ``u_t + β u_x = 0``, ``u(x, 0) = sin x`` (:class:`pinnkit.equations.Convection`), the
failure mode of Krishnapriyan et al. (2021): the same net, points, seed and optimiser budget, trained plainly
and with causal weighting (:class:`pinnkit.training.causal.CausalWeighting`, ε schedule 1e-2 … 1e2 over 32
time chunks). Prints and writes (``--out``, JSON) the held-out relative L2 of each, the relative L2 on the
first and the last tenth of the time interval (where a failed run is right and wrong), and wall times.

    python benchmarks/causal_convection.py                       # β = 30, 4000 Adam + 2000 L-BFGS steps
    python benchmarks/causal_convection.py --beta 20 --steps 2000 --lbfgs-steps 1000
"""

from __future__ import annotations

import argparse
import json
import time

import torch

import pinnkit
from pinnkit.metrics import relative_l2


def run(beta: float, causal, steps: int, lbfgs_steps: int, seed: int, n_domain: int) -> dict:
    t0 = time.perf_counter()
    res = pinnkit.solve(
        "convection",
        beta=beta,
        causal=causal,
        steps=steps,
        lbfgs_steps=lbfgs_steps,
        n_domain=n_domain,
        n_boundary=256,
        n_initial=256,
        net={"width": 64, "depth": 4},
        seed=seed,
        progress=False,
    )
    wall = time.perf_counter() - t0
    x = res.eval_points
    truth = res.exact(x)
    pred = res.predict(x)
    t = x[:, 1]
    T = res.problem.time_interval[1]
    out = {
        "causal": causal,
        "relative_l2": res.errors["relative_l2"],
        "relative_l2_first_tenth": relative_l2(pred[t <= 0.1 * T], truth[t <= 0.1 * T]),
        "relative_l2_last_tenth": relative_l2(pred[t >= 0.9 * T], truth[t >= 0.9 * T]),
        "train_s": res.timings["train_s"],
        "wall_s": wall,
    }
    if causal is not None:
        extra = res.history["extra"]
        out["final_eps"] = extra["causal_eps"][-1] if extra.get("causal_eps") else None
        out["final_min_weight"] = extra["causal_min_weight"][-1] if extra.get("causal_min_weight") else None
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--beta", type=float, default=30.0)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--lbfgs-steps", type=int, default=2000)
    ap.add_argument("--n-domain", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for causal in (None, {"eps": (1e-2, 1e-1, 1.0, 10.0, 100.0), "chunks": 32}):
        r = run(args.beta, causal, args.steps, args.lbfgs_steps, args.seed, args.n_domain)
        rows.append(r)
        name = "causal" if causal else "plain"
        print(
            f"{name:7s} rel L2 {r['relative_l2']:.3e} (t<=0.1T {r['relative_l2_first_tenth']:.2e}, "
            f"t>=0.9T {r['relative_l2_last_tenth']:.2e})  train {r['train_s']:.1f} s"
            + (f"  final eps {r['final_eps']}, min weight {r['final_min_weight']:.3f}" if causal else ""),
            flush=True,
        )
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(
                {"beta": args.beta, "steps": args.steps, "lbfgs_steps": args.lbfgs_steps, "rows": rows}, fh, indent=2
            )


if __name__ == "__main__":
    main()
