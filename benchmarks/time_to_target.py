"""Time to a target error, pinnkit's tuned pipeline against DeepXDE on the same model, side by side in one run.

2-D heat (``u_t = 0.1 Δu`` on ``[0,1]² × [0,1]``, the suite's ``heat2d``): the same 3×32 tanh net from the same
initial weights, the same 2000 / 200 / 200 Sobol points, float32, the same exact imposition of the zero
Dirichlet data (``hard_constraints="auto"``: pinnkit's :class:`~pinnkit.constraints.HardConstraints` map, given to DeepXDE as its
``apply_output_transform``), the same Adam stage (1000 steps from 3e-3, ×0.9 every 200). Then each library's
best second stage: pinnkit's dense self-scaled BFGS (the heat preset, :mod:`pinnkit.presets`), DeepXDE's
L-BFGS (history 50; it has no dense or self-scaled BFGS). The held-out relative L2 on 20000 grid points is
measured every ``--track-every`` iterations with its time excluded; the training time at which each library
first reaches each target is printed, with the ratio.

    python benchmarks/time_to_target.py [--targets 1e-3 1e-4] [--qn 2000] [--dde-lbfgs 4000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, List, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run as a script

import numpy as np  # noqa: E402
import torch  # noqa: E402

import pinnkit  # noqa: E402
from benchmarks.suite import PROBLEMS, Settings, all_versions, errors_of, machine, time_to_target  # noqa: E402
from pinnkit.api import build_net  # noqa: E402
from pinnkit.constraints import HardConstraints, auto_kinds  # noqa: E402
from pinnkit.sampling import Sampler, evaluation_points  # noqa: E402


def pinnkit_side(spec, problem, args, eval_pts) -> Dict[str, Any]:
    """pinnkit's preset for the problem on the spec's net and points; the error trace off its history."""
    r = pinnkit.solve(
        problem,
        net={"width": spec.width, "depth": spec.depth, "activation": "tanh", "init": "glorot"},
        steps=args.adam,
        lr=args.lr,
        lr_decay=0.9,
        decay_every=200,
        lbfgs_steps=args.qn,
        n_domain=spec.n_domain,
        n_boundary=spec.n_boundary,
        n_initial=spec.n_initial,
        hard_constraints="auto",
        dtype="float32",
        seed=args.seed,
        n_eval=len(eval_pts),
        track_every=args.track_every,
        progress=False,
        checkpoint_every=10**9,
    )
    h = r.history
    time_at = {int(s): t for s, t in zip(h["step"], h["time"])}
    steps = sorted(time_at)

    def at(s: int) -> float:  # cumulative training time after the last recorded step before s
        before = [k for k in steps if k < s]
        return time_at[before[-1]] if before else 0.0

    trace = [[int(s), at(int(s)), float(e)] for s, e in h["diagnostics"]["relative_l2"]]
    return {
        "stages": [s["stage"] for s in r.config["stages"]],
        "hard_constraints": r.config["hard_constraints"],
        "train_s": h["time"][-1],
        "relative_l2": r.errors["relative_l2"],
        "trace": trace,
    }


def deepxde_side(spec, problem, args, eval_pts, truth, hard_constraints: bool = True) -> Dict[str, Any]:
    """DeepXDE from the same initial net on the same points with the same hard-constraint map (or, with
    ``hard_constraints=False``, every condition in the loss: DeepXDE's examples' way)."""
    from benchmarks.deepxde_problems import run_deepxde

    net = build_net(
        {"width": spec.width, "depth": spec.depth, "activation": "tanh", "init": "glorot"}, problem, args.seed
    )
    batch = Sampler(problem, spec.n_domain, spec.n_boundary, spec.n_initial, "sobol", 0, args.seed).draw(0)
    hard = HardConstraints(torch.nn.Identity(), problem, auto_kinds(problem))
    out = run_deepxde(
        problem,
        net,
        batch,
        adam=args.adam,
        lbfgs=args.dde_lbfgs,
        lr=args.lr,
        lbfgs_history=50,
        lbfgs_chunk=20,
        warmup=0,
        seed=args.seed,
        device="cpu",
        eval_points=eval_pts,
        error_fn=lambda pred: errors_of(problem, pred, eval_pts, truth),
        track_every=args.track_every,
        output_transform=hard.transform if hard_constraints else None,
        enforced=hard.enforced_conditions if hard_constraints else (),
        lr_decay=("step", 200, 0.9),
    )
    return {k: out[k] for k in ("train_s", "relative_l2", "trace", "adam_iters", "lbfgs_iters")}


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", default="heat2d", choices=["heat2d"])
    ap.add_argument("--targets", type=float, nargs="+", default=[1e-3, 1e-4])
    ap.add_argument("--adam", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--qn", type=int, default=2000, help="pinnkit's self-scaled BFGS iterations")
    ap.add_argument("--dde-lbfgs", type=int, default=4000, help="DeepXDE's L-BFGS iterations")
    ap.add_argument("--track-every", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--dde-soft", action="store_true", help="also run DeepXDE with the conditions in the loss (its examples' way)"
    )
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    spec = PROBLEMS[args.problem]
    problem = spec.make()
    eval_pts = evaluation_points(problem, 20000)
    truth = problem.reference(torch.as_tensor(eval_pts, dtype=torch.float64)).numpy()
    sides = {"pinnkit": pinnkit_side(spec, problem, args, eval_pts)}
    sides["deepxde"] = deepxde_side(spec, problem, args, eval_pts, truth)
    if args.dde_soft:
        sides["deepxde-soft"] = deepxde_side(spec, problem, args, eval_pts, truth, hard_constraints=False)
    rows: List[Dict[str, Any]] = []
    others = [lib for lib in sides if lib != "pinnkit"]
    for target in args.targets:
        hit = {lib: time_to_target(side["trace"], target) for lib, side in sides.items()}
        p = hit["pinnkit"]
        ratio = {
            lib: hit[lib]["time_s"] / p["time_s"] if p["reached"] and hit[lib]["reached"] else None for lib in others
        }
        rows.append({"target": target, **hit, "ratio": ratio})

    def cell(h: Dict[str, Any]) -> str:
        return f"{h['time_s']:.1f} ({h['step']})" if h["reached"] else f"not reached (best {h['best_relative_l2']:.2e})"

    head = ["target", "pinnkit s (step)"] + [c for lib in others for c in (f"{lib} s (step)", f"{lib} / pinnkit")]
    print(f"{args.problem}, {args.threads} threads, {args.adam} Adam steps")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        parts = [f"{row['target']:.0e}", cell(row["pinnkit"])]
        for lib in others:
            r = row["ratio"][lib]
            parts += [cell(row[lib]), f"{r:.1f}×" if r is not None else "—"]
        print("| " + " | ".join(parts) + " |")
    for lib, side in sides.items():
        print(f"{lib}: final relative L2 {side['relative_l2']:.3e} after {side['train_s']:.1f} s of training")
    report = {
        "config": vars(args),
        "spec": spec.describe(),
        "versions": all_versions(),
        "machine": machine(Settings(threads=args.threads)),
        "threads": args.threads,
        "seed": args.seed,
        "sides": sides,
        "rows": rows,
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, default=float)
    return report


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
