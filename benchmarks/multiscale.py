"""Multi-scale problems: which part of the pipeline makes them train, measured one change at a time.

The two settings of :class:`pinnkit.equations.AnisotropicHeat` — ``"modes"`` (modes sin πx · sin 8πy on the unit
square, κ_y = κ_x/64) and ``"units"`` (L_x = 1000 m, L_y = 1 m, κ_x = 100 vs κ_y = 0.01 m²/day, T = 10 days,
amplitude 10⁻³) — each trained with:

* ``plain``: pinnkit's plain default (64×3 tanh, 2000 Adam + 3000 L-BFGS, soft conditions; ``preset="default"``);
* ``fourier``: the plain default with 64 Fourier features at the per-axis scales the problem declares
  (``fourier_sigma="auto"``);
* ``output-scale``: the plain default with the output non-dimensionalised (``output_scale="auto"``: ``u = U N``,
  ``U`` from the initial and boundary data);
* ``preset``: the problem's preset (initial and boundary data imposed exactly, 3×32, 1000 Adam then the dense
  self-scaled BFGS stage); ``preset-boundary-only``: the same with the boundary data alone imposed (``"auto"``);
* ``preset+fourier`` and ``preset+output-scale``: the preset with each of the two added.

Relative L2 on 20000 held-out points and training time, one line per run.

    python benchmarks/multiscale.py [--settings modes units] [--variants plain preset ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run as a script

import torch  # noqa: E402

import pinnkit  # noqa: E402
from pinnkit.equations import AnisotropicHeat  # noqa: E402
from pinnkit.versions import versions  # noqa: E402

FOURIER = {"fourier_features": 64, "fourier_sigma": "auto"}
VARIANTS: Dict[str, Dict[str, Any]] = {
    "plain": {"preset": "default"},
    "fourier": {"preset": "default", "net": FOURIER},
    "output-scale": {"preset": "default", "net": {"output_scale": "auto"}},
    "preset": {},
    "preset-boundary-only": {"hard_constraints": "auto"},
    "preset+fourier": {"net": {**FOURIER, "fourier_features": 32}},
    "preset+output-scale": {"net": {"output_scale": "auto"}},
}


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", nargs="+", default=["modes", "units"], choices=["modes", "units"])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    for setting in args.settings:
        for name in args.variants:
            r = pinnkit.solve(AnisotropicHeat(setting=setting), seed=args.seed, progress=False, **VARIANTS[name])
            row = {
                "setting": setting,
                "variant": name,
                "relative_l2": r.errors["relative_l2"],
                "train_s": r.timings["train_s"],
                "steps": len(r.history["loss"]),
                "hard_constraints": r.config["hard_constraints"],
            }
            rows.append(row)
            print(f"{setting:6s} {name:20s} rel L2 {row['relative_l2']:.2e}  {row['train_s']:6.1f} s", flush=True)
    report = {"config": vars(args), "versions": versions(), "threads": args.threads, "seed": args.seed, "rows": rows}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return report


if __name__ == "__main__":
    main()
