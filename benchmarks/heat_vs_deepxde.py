"""2-D heat equation in DeepXDE (PyTorch backend) and in pinnkit, side by side in one process.

Same problem (u_t = κΔu on [0,1]² × [0,1], u = sin πx sin πy e^{−2π²κt}, zero Dirichlet data), same net
(tanh MLP, Glorot normal), same numbers of domain/boundary/initial points (Sobol in both), same optimiser
(Adam at a fixed learning rate, then L-BFGS), same iterations, float32, same number of threads. Prints Adam
and L-BFGS iterations per second of each, their ratio, and both final relative L2 errors on one held-out
grid.

    python benchmarks/heat_vs_deepxde.py [--adam 2000] [--lbfgs 500] [--width 32] [--depth 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("DDE_BACKEND", "pytorch")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import pinnkit  # noqa: E402
from pinnkit.equations import Heat  # noqa: E402
from pinnkit.metrics import relative_l2  # noqa: E402
from pinnkit.sampling import evaluation_points  # noqa: E402
from pinnkit.versions import versions  # noqa: E402


def run_deepxde(problem: Heat, args) -> dict:
    import deepxde as dde

    dde.config.set_random_seed(args.seed)
    dde.config.set_default_float("float32")
    kappa = problem.kappa
    geom = dde.geometry.GeometryXTime(dde.geometry.Rectangle([0, 0], [1, 1]), dde.geometry.TimeDomain(0, problem.time_interval[1]))

    def pde(x, y):
        y_t = dde.grad.jacobian(y, x, i=0, j=2)
        y_xx = dde.grad.hessian(y, x, i=0, j=0)
        y_yy = dde.grad.hessian(y, x, i=1, j=1)
        return y_t - kappa * (y_xx + y_yy)

    def exact(x):
        return problem.exact(torch.as_tensor(x, dtype=torch.float64)).numpy()

    bc = dde.icbc.DirichletBC(geom, lambda x: np.zeros((len(x), 1)), lambda x, on: on and not np.isclose(x[2], 0))
    ic = dde.icbc.IC(geom, exact, lambda x, on: on and np.isclose(x[2], 0))
    data = dde.data.TimePDE(geom, pde, [bc, ic], num_domain=args.n_domain, num_boundary=args.n_boundary,
                            num_initial=args.n_initial, train_distribution="Sobol")
    net = dde.nn.FNN([3] + [args.width] * args.depth + [1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    model.compile("adam", lr=args.lr)
    t0 = time.perf_counter()
    model.train(iterations=args.adam, display_every=max(args.adam, 1), verbose=0)
    adam_s = time.perf_counter() - t0
    lbfgs_s, lbfgs_iters = 0.0, 0
    if args.lbfgs:
        dde.optimizers.config.set_LBFGS_options(maxiter=args.lbfgs, maxcor=args.lbfgs_history)
        # one torch.optim.LBFGS.step of up to min(1000, maxiter) iterations, as DeepXDE does by default
        dde.optimizers.config.LBFGS_options["iter_per_step"] = min(1000, args.lbfgs)
        dde.optimizers.config.LBFGS_options["fun_per_step"] = int(1.25 * min(1000, args.lbfgs))
        model.compile("L-BFGS")
        before = model.train_state.step
        t0 = time.perf_counter()
        model.train(display_every=max(args.lbfgs, 1), verbose=0)
        lbfgs_s = time.perf_counter() - t0
        lbfgs_iters = model.train_state.step - before
    pts = evaluation_points(problem, args.n_eval)
    err = relative_l2(model.predict(pts.astype(np.float32)), exact(pts))
    return {"adam_s": adam_s, "adam_it_s": args.adam / adam_s, "lbfgs_s": lbfgs_s, "lbfgs_iters": lbfgs_iters,
            "lbfgs_it_s": lbfgs_iters / lbfgs_s if lbfgs_s else None, "relative_l2": err}


def run_pinnkit(problem: Heat, args) -> dict:
    r = pinnkit.solve(problem, net={"width": args.width, "depth": args.depth, "init": "glorot"}, steps=args.adam,
                      lbfgs_steps=args.lbfgs, lr=args.lr, lr_decay=1.0, n_domain=args.n_domain,
                      n_boundary=args.n_boundary, n_initial=args.n_initial, sampling="sobol", seed=args.seed,
                      n_eval=args.n_eval, lbfgs_history=args.lbfgs_history, condition_weight=1.0,
                      progress=False)
    h = r.history
    n_adam = sum(1 for s in h["stage"] if s == "adam")
    adam_s = h["time"][n_adam - 1] if n_adam else 0.0
    lbfgs_s = h["time"][-1] - adam_s
    lbfgs_iters = h["step"][-1] + 1 - n_adam if len(h["step"]) > n_adam else 0
    return {"adam_s": adam_s, "adam_it_s": n_adam / adam_s if adam_s else None, "lbfgs_s": lbfgs_s,
            "lbfgs_iters": lbfgs_iters, "lbfgs_it_s": lbfgs_iters / lbfgs_s if lbfgs_s else None,
            "relative_l2": r.errors["relative_l2"]}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adam", type=int, default=2000)
    ap.add_argument("--lbfgs", type=int, default=500)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lbfgs-history", type=int, default=100)
    ap.add_argument("--n-domain", type=int, default=2000)
    ap.add_argument("--n-boundary", type=int, default=200)
    ap.add_argument("--n-initial", type=int, default=200)
    ap.add_argument("--n-eval", type=int, default=20000)
    ap.add_argument("--kappa", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    problem = Heat(dim=2, kappa=args.kappa)
    results = {"deepxde": run_deepxde(problem, args), "pinnkit": run_pinnkit(problem, args)}
    d, p = results["deepxde"], results["pinnkit"]
    results["adam_speedup"] = p["adam_it_s"] / d["adam_it_s"]
    results["lbfgs_speedup"] = (p["lbfgs_it_s"] / d["lbfgs_it_s"]) if p["lbfgs_it_s"] and d["lbfgs_it_s"] else None
    results["config"] = vars(args)
    results["versions"] = versions()
    print(f"2-D heat, {args.depth}x{args.width} tanh, {args.n_domain}+{args.n_boundary}+{args.n_initial} points, "
          f"Adam {args.adam} + L-BFGS {args.lbfgs}, float32, {args.threads} threads")
    print(f"{'':10}{'Adam it/s':>12}{'L-BFGS it/s':>14}{'L-BFGS its':>12}{'rel L2':>12}")
    for name in ("deepxde", "pinnkit"):
        r = results[name]
        lb = f"{r['lbfgs_it_s']:.1f}" if r["lbfgs_it_s"] else "-"
        print(f"{name:10}{r['adam_it_s']:>12.1f}{lb:>14}{r['lbfgs_iters']:>12}{r['relative_l2']:>12.2e}")
    lbs = f"{results['lbfgs_speedup']:.2f}x" if results["lbfgs_speedup"] else "-"
    print(f"speed ratio pinnkit/deepxde: Adam {results['adam_speedup']:.2f}x, L-BFGS {lbs}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=str)
    return results


if __name__ == "__main__":
    main()
