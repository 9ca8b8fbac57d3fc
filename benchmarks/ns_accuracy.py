"""Navier–Stokes PINN accuracy against the targets of issue 5, with wall times.

Targets (velocity relative L2, ``‖u_θ − u‖₂/‖u‖₂`` over all velocity components):

* Kovasznay (Re = 20) ≤ 1e-4 on the held-out grid;
* Taylor–Green (ν = 0.01, T = 1) ≤ 1e-3 at t = 1 (101 × 101 grid on [0, 2π]²);
* Beltrami (a = d = ν = 1, T = 1) ≤ 1e-3 on the held-out points;
* lid-driven cavity, Re = 100, regularised lid: ≤ 2e-2 against our finite-difference reference.

The pressure error (mean removed; per time level for unsteady problems) is reported beside it. Every case
runs with the problem's preset of :mod:`pinnkit.presets` (the table ``pinnkit.solve`` and ``pinnkit solve``
read): float64, Adam, then the dense self-scaled BFGS stage of :mod:`pinnkit.bfgs` on 3-4 × 30 tanh nets, the
compiled taylor derivative engine. Every option given here replaces the preset's (``--quasi-newton lbfgs``,
``--width 50``, ``--no-compile``, ``--method autograd``, ...; the self-scaled BFGS stage costs grow with the
square of the parameter count: keep it to nets of a few thousand parameters). Not part of the test suite
(minutes per case)::

    python benchmarks/ns_accuracy.py                       # all four
    python benchmarks/ns_accuracy.py kovasznay --qn-steps 6000 --json runs/ns_kovasznay.json
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, Dict, List, Optional

import numpy as np
import torch

import pinnkit
from pinnkit import presets
from pinnkit.equations import make_problem
from pinnkit.metrics import fix_gauge, relative_l2

TARGETS = {"kovasznay": 1e-4, "taylor-green": 1e-3, "beltrami": 1e-3, "cavity": 2e-2}

#: per case: the problem parameters; the training settings are the problem's preset (pinnkit.presets.PRESETS)
CASES: Dict[str, dict] = {
    "kovasznay": {"params": {"re": 20.0}},
    "taylor-green": {"params": {"nu": 0.01, "T": 1.0}},
    "beltrami": {"params": {}},
    "cavity": {"params": {"re": 100.0, "lid": "regularised"}},
}

#: command-line options passed to pinnkit.solve when given: option -> solve keyword
_OPTIONS = {
    "steps": "steps",
    "qn_steps": "lbfgs_steps",
    "quasi_newton": "quasi_newton",
    "dtype": "dtype",
    "method": "method",
    "compile": "compile",
}


def velocity_pressure_errors(problem, result) -> Dict[str, float]:
    """Velocity and pressure (mean removed) relative L2: at the final time on a 101² grid for the 2-D
    unsteady Taylor–Green vortex, else on the solve's held-out points."""
    if problem.time_dependent and problem.spatial_dim == 2:
        a = np.linspace(problem.lower[0], problem.upper[0], 101)
        b = np.linspace(problem.lower[1], problem.upper[1], 101)
        A, B = np.meshgrid(a, b, indexing="ij")
        pts = np.stack([A.ravel(), B.ravel(), np.full(A.size, problem.time_interval[1])], axis=1)
        where = f"t = {problem.time_interval[1]:g}, 101² grid"
    else:
        pts, where = result.eval_points, f"held-out ({len(result.eval_points)} points)"
    pred = fix_gauge(problem, result.predict(pts), pts)
    true = fix_gauge(problem, result.exact(pts), pts)
    vel, jp = list(problem.velocity_components), problem.pressure_index
    return {
        "velocity_rel_l2": relative_l2(pred[:, vel], true[:, vel]),
        "pressure_rel_l2": relative_l2(pred[:, jp], true[:, jp]),
        "where": where,
    }


def solve_overrides(args: argparse.Namespace) -> Dict[str, Any]:
    """The :func:`pinnkit.solve` keywords of the options given (the rest are the problem's preset)."""
    out = {key: getattr(args, opt) for opt, key in _OPTIONS.items() if getattr(args, opt) is not None}
    net = {k: getattr(args, k) for k in ("width", "depth") if getattr(args, k)}
    if net:
        out["net"] = net
    return out


def run_case(name: str, args: argparse.Namespace) -> dict:
    case = CASES[name]
    problem = make_problem(name, **case["params"])
    overrides = solve_overrides(args)
    cfg = presets.resolve(problem, overrides)  # the configuration solve runs
    if name == "cavity":
        problem.exact(torch.zeros(1, 2, dtype=torch.float64))  # reference computed outside the timed solve
    cpu0, t0 = time.process_time(), time.perf_counter()
    r = pinnkit.solve(problem, **overrides, seed=args.seed, track_every=args.track_every, progress=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    errs = velocity_pressure_errors(problem, r)
    out = {
        "problem": problem.describe(),
        **errs,
        "target": TARGETS[name],
        "met": errs["velocity_rel_l2"] <= TARGETS[name],
        "wall_s": wall,
        "cpu_s": cpu,
        "iterations": len(r.history["step"]),
        "final_loss": r.history["loss"][-1],
        "net": cfg["net"],
        "method": cfg["method"],
        "compile": cfg["compile"],
        "n_parameters": r.config["n_parameters"],
        "steps": cfg["steps"],
        "qn_steps": cfg["lbfgs_steps"],
        "quasi_newton": cfg["quasi_newton"],
        "dtype": cfg["dtype"],
        "config": r.config,
        "error_history": r.history.get("diagnostics", {}).get("relative_l2"),
    }
    print(
        f"{name:<13} velocity rel L2 {errs['velocity_rel_l2']:.2e} (target {TARGETS[name]:.0e}, "
        f"{'met' if out['met'] else 'NOT met'}), pressure {errs['pressure_rel_l2']:.2e} [{errs['where']}]; "
        f"{wall:.0f} s wall, {cpu:.0f} s CPU, {out['iterations']} iterations",
        flush=True,
    )
    if args.save:
        r.save(f"{args.save}/{name}")
    return out


def build_parser() -> argparse.ArgumentParser:
    d = presets.DEFAULT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("problems", nargs="*", help=f"any of {list(CASES)} (default: all)")
    ap.add_argument("--steps", type=int, default=None, help="override every case's Adam steps")
    ap.add_argument("--qn-steps", type=int, default=None, help="override every case's quasi-Newton iterations")
    ap.add_argument(
        "--quasi-newton",
        default=None,
        choices=["lbfgs", "bfgs", "ssbfgs"],
        help="override the presets' quasi-Newton stage (ssbfgs)",
    )
    ap.add_argument("--dtype", default=None, choices=["float32", "float64"], help="override the presets' float64")
    ap.add_argument(
        "--method", default=None, choices=["autograd", "taylor", "forward"], help="override the presets' taylor engine"
    )
    ap.add_argument(
        "--compile", action=argparse.BooleanOptionalAction, default=None, help="override the presets' compile=True"
    )
    ap.add_argument("--width", type=int, default=None, help="override every case's width (presets: 30)")
    ap.add_argument("--depth", type=int, default=None, help="override every case's depth (presets: 3 or 4)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--track-every", type=int, default=500, help=f"(solve's default {d['track_every']})")
    ap.add_argument("--save", default=None, help="write each result (plots included) under SAVE/NAME")
    ap.add_argument("--json", default=None)
    return ap


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    ap = build_parser()
    args = ap.parse_args(argv)
    bad = sorted(set(args.problems) - set(CASES))
    if bad:
        ap.error(f"unknown problem(s) {bad}; choose from {list(CASES)}")
    torch.set_num_threads(args.threads)
    results = {name: run_case(name, args) for name in (args.problems or list(CASES))}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"results": results, "config": vars(args), "threads": args.threads}, fh, indent=1, default=float)
    return results


if __name__ == "__main__":
    main()
