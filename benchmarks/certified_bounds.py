"""Certified numbers on trained nets, with wall times (issue 14): residual certificates of the four
Navier–Stokes flows (momentum and continuity components; a certificate of the residual, not of the error),
the maximum-principle sup-error bound on heat 1-D and 2-D, the L² bounds (modal and energy) of hard-constrained
heat and advection–diffusion nets, and the certified tight bound on a few (2+1)-D
blow-up windows. Every certified number is printed beside its sampled counterpart (a maximum over many
random points, which a proved upper bound must exceed). Not part of the test suite (minutes)::

    python benchmarks/certified_bounds.py                  # everything
    python benchmarks/certified_bounds.py ns heat          # some of it
    python benchmarks/certified_bounds.py --json runs/certified.json
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, Dict

import numpy as np
import torch

import pinnkit
from pinnkit.derivatives import Fields
from pinnkit.equations import BurgersBlowup, make_problem
from pinnkit.studies.blowup import PROTOCOLS
from pinnkit.theory import certified_tight_bound, certify_residual, heat_sup_bound, parabolic_l2_bound, tight_estimate

NS_CASES = {
    "kovasznay": {"re": 20.0},
    "taylor-green": {"nu": 0.01, "T": 1.0},
    "cavity": {"re": 100.0, "lid": "regularised"},
    "beltrami": {},
}


def _train(problem, width: int, depth: int, steps: int, qn: int, **kw) -> Any:
    t0 = time.perf_counter()
    r = pinnkit.solve(
        problem,
        net={"width": width, "depth": depth},
        steps=steps,
        lbfgs_steps=qn,
        quasi_newton="lbfgs",
        progress=False,
        dtype="float64",
        seed=0,
        **kw,
    )
    return r, time.perf_counter() - t0


def _sampled_sup(model, problem, n: int = 200_000, seed: int = 0) -> np.ndarray:
    lo = torch.tensor(problem.input_lower, dtype=torch.float64)
    hi = torch.tensor(problem.input_upper, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    out = None
    for s in range(0, n, 20_000):
        x = lo + (hi - lo) * torch.rand(min(20_000, n - s), lo.numel(), generator=g, dtype=torch.float64)
        r = problem.residual(Fields(model.double(), x.requires_grad_(True), spatial_dim=problem.spatial_dim))
        m = r.detach().abs().amax(0).numpy()
        out = m if out is None else np.maximum(out, m)
    return out


def ns(results: Dict[str, Any]) -> None:
    for name, params in NS_CASES.items():
        problem = make_problem(name, **params)
        r, train_s = _train(problem, 30, 3, 1500, 300)
        cert = certify_residual(r.model, problem, rtol=0.25, max_boxes=8000)
        sampled = _sampled_sup(r.model, problem)
        rows = []
        for c, ((lo, hi), s) in enumerate(zip(cert.sup_abs, sampled)):
            rows.append({"component": c, "certified_lower": lo, "certified_upper": hi, "sampled_max": float(s)})
            print(f"{name:13s} R{c}: certified sup|R| in [{lo:.3e}, {hi:.3e}], sampled max {s:.3e}")
        print(
            f"{name:13s} ∫|R|² in [{cert.integral[0]:.3e}, {cert.integral[1]:.3e}]; certification "
            f"{cert.seconds:.1f} s ({cert.boxes_sup} + {cert.boxes_integral} boxes), training {train_s:.1f} s, "
            f"rel L2 {r.errors.get('relative_l2', float('nan')):.2e}"
        )
        results[f"ns/{name}"] = {
            "components": rows,
            "integral": list(cert.integral),
            "seconds": cert.seconds,
            "train_s": train_s,
            "relative_l2": r.errors.get("relative_l2"),
        }


def heat(results: Dict[str, Any]) -> None:
    for dim, (width, depth, steps) in {1: (16, 2, 2000), 2: (20, 3, 3000)}.items():
        problem = make_problem("heat", dim=dim)
        r, train_s = _train(problem, width, depth, steps, 500)
        b = heat_sup_bound(r.model, problem, max_boxes=20_000 if dim == 1 else 200_000)
        lo = torch.tensor(problem.input_lower, dtype=torch.float64)
        hi = torch.tensor(problem.input_upper, dtype=torch.float64)
        x = lo + (hi - lo) * torch.rand(
            400_000, dim + 1, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
        )
        with torch.no_grad():
            sampled = (r.model.double()(x) - problem.exact(x)).abs().max().item()
        print(
            f"heat {dim}-D: certified sup error bound {b.bound:.3e} (terms: initial {b.initial:.2e}, boundary "
            f"{b.boundary:.2e}, T·sup|R| {b.T * b.residual:.2e}); certified true sup error in [{b.true[0]:.3e}, "
            f"{b.true[1]:.3e}], so bound/true in [{b.ratio[0]:.1f}, {b.ratio[1]:.1f}] (proved); sampled max error "
            f"{sampled:.3e}; {b.seconds:.1f} s, {b.boxes} boxes; training {train_s:.1f} s"
        )
        results[f"heat/{dim}d"] = {
            "bound": b.bound,
            "sampled_max_error": sampled,
            "ratio": list(b.ratio),
            "true": list(b.true),
            "seconds": b.seconds,
            "boxes": b.boxes,
            "train_s": train_s,
        }


def blowup2d(results: Dict[str, Any]) -> None:
    for t0 in (-0.6, -0.3, -0.1, -0.02):
        delta = t0 + 1 / np.sqrt(2)
        problem = BurgersBlowup(dim=2, delta=delta)
        t_start = time.perf_counter()
        proto = dict(PROTOCOLS["fast"])  # the study's protocol and net
        depth = proto.pop("depth")
        r = pinnkit.solve(
            problem, net={"width": 30, "depth": depth, "init": "glorot"}, seed=1234, progress=False, **proto
        )
        train_s = time.perf_counter() - t_start
        est = tight_estimate(r.model, problem)
        c = certified_tight_bound(r.model, problem, max_boxes=30_000, rtol=0.1)
        print(
            f"blow-up 2-D δ={delta:.3f}: certified L² bound {c.bound_l2:.3e} / true {c.true**0.5:.3e} = "
            f"{c.ratio_l2:.2f} (estimate {est.ratio_l2:.2f}); {c.seconds:.1f} s, {c.boxes} boxes; training "
            f"{train_s:.1f} s"
        )
        results[f"blowup2d/{delta:.4f}"] = {**c.summary(), "estimate_ratio_l2": est.ratio_l2, "train_s": train_s}


def parabolic(results: Dict[str, Any]) -> None:
    """L² bounds of boundary-hard-constrained nets: modal (heat 1-D), energy (heat 2-D, advection–diffusion)."""
    cases = [
        ("heat", 1, (16, 2, 2000), {}),
        ("heat", 2, (20, 3, 3000), {}),
        ("advection-diffusion", 1, (16, 2, 2000), {}),
    ]
    for name, dim, (width, depth, steps), params in cases:
        problem = make_problem(name, dim=dim, **params) if name == "heat" else make_problem(name, **params)
        r, train_s = _train(problem, width, depth, steps, 500, hard_constraints=("boundary",))
        b = parabolic_l2_bound(r.model, problem)
        print(
            f"{name} {dim}-D, hard boundary constraint: certified L² bound ({b.method}) {b.bound:.3e} / true "
            f"{b.true:.3e} = {b.ratio:.2f}; {b.seconds:.1f} s, {b.boxes} boxes; training {train_s:.1f} s"
        )
        results[f"parabolic/{name}/{dim}d"] = {
            "bound": b.bound,
            "true": b.true,
            "ratio": b.ratio,
            "method": b.method,
            "seconds": b.seconds,
            "boxes": b.boxes,
            "train_s": train_s,
        }


PARTS = {"ns": ns, "heat": heat, "parabolic": parabolic, "blowup2d": blowup2d}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parts", nargs="*", default=[], help=f"any of {list(PARTS)} (default: all)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    bad = [p for p in args.parts if p not in PARTS]
    if bad:
        ap.error(f"unknown parts {bad}; choose from {list(PARTS)}")
    torch.set_num_threads(1)
    results: Dict[str, Any] = {}
    for name in args.parts or list(PARTS):
        PARTS[name](results)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
