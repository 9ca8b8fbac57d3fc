"""2-D heat equation in DeepXDE (PyTorch backend) and in pinnkit, side by side in one process.

Same problem (u_t = κΔu on [0,1]² × [0,1], u = sin πx sin πy e^{−2π²κt}, zero Dirichlet data), same net
(tanh MLP, Glorot normal, pinnkit's initial weights copied into DeepXDE), same points (pinnkit's Sobol
points, given to DeepXDE as anchors and point-set conditions), same optimiser (Adam at a fixed learning
rate, then L-BFGS), same iterations, float32, same number of threads. Prints Adam and L-BFGS iterations per
second of each, their ratio, and both final relative L2 errors on one held-out grid. One problem of the
suite in :mod:`benchmarks.suite` (``python -m benchmarks`` runs them all), with its sizes as flags.

    python benchmarks/heat_vs_deepxde.py [--adam 2000] [--lbfgs 500] [--width 32] [--depth 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run as a script

import torch  # noqa: E402

from benchmarks.floor import peak_rate  # noqa: E402
from benchmarks.suite import ProblemSpec, Settings, all_versions, machine, markdown_table, run_problem  # noqa: E402


def main(argv: Optional[Sequence[str]] = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adam", type=int, default=2000)
    ap.add_argument("--lbfgs", type=int, default=500)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lbfgs-history", type=int, default=50)
    ap.add_argument("--n-domain", type=int, default=2000)
    ap.add_argument("--n-boundary", type=int, default=200)
    ap.add_argument("--n-initial", type=int, default=200)
    ap.add_argument("--n-eval", type=int, default=20000)
    ap.add_argument("--kappa", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--method", default="taylor", choices=["autograd", "forward", "taylor"], help="pinnkit's derivative engine"
    )
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    def make():
        from pinnkit.equations import Heat

        return Heat(dim=2, kappa=args.kappa)

    spec = ProblemSpec(
        "heat2d", make, args.width, args.depth, args.n_domain, args.n_boundary, args.n_initial, lr=args.lr
    )
    lbfgs = -(-args.lbfgs // 20) * 20
    settings = Settings(
        adam=args.adam,
        lbfgs=lbfgs,
        threads=args.threads,
        seed=args.seed,
        method=args.method,
        lbfgs_history=args.lbfgs_history,
        n_eval=args.n_eval,
    )
    res = run_problem(spec, settings)
    report = {
        "config": {
            **vars(args),
            "lbfgs": lbfgs,
            "method": args.method,
            "compile": False,
            "warmup": settings.warmup,
            "device": "cpu",
        },
        "versions": all_versions(),
        "seed": args.seed,
        "machine": machine(settings),
        "peak_matmul_gflops": peak_rate(),
        "results": {"heat2d": res},
    }
    print(markdown_table(report))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2, default=str)
    return report


if __name__ == "__main__":
    main()
