"""DeepONet size lower bound (Mukherjee & Roy, TMLR 2024) against measurement: training risk vs the common
dimension q for several training-set sizes n, on noisy heat-operator data.

The statement (an ESTIMATE in pinnkit: its constant is unknown, see ``pinnkit.theory.deeponet_bound``): to
push the empirical risk on n noisy samples below the noise variance σ², q must grow like n^{1/4}.  Here:
n_f input functions (periodic GRF) × P fixed points each, labels = exact heat solution + N(0, σ²) noise,
n = n_f · P.  For each (n, q) a DeepONet (fixed branch/trunk widths) is trained full-batch with Adam; we record
its final training risk and, per n, the smallest q whose risk fell below ``level = σ²/2``.  The estimate's
constant C is calibrated on the smallest n (C = q_min / n^{1/4}), so the other n test the exponent.

    python examples/deeponet_size_bound.py [--qs 1 2 4 8 16 32] [--nf 8 32 128] [--steps 2500] [--out runs/deeponet-size]

Writes risk_vs_q.png, qmin_vs_n.png and summary.json (and cells.json: finished cells, reused on a re-run).
About 5 minutes on one core with the defaults.  The study itself is :mod:`pinnkit.studies.deeponet_size`
(also ``pinnkit study deeponet-size``); this script is a thin wrapper around it.
"""

from __future__ import annotations

import argparse
import json

from pinnkit.studies.deeponet_size import SizeStudyConfig, noisy_subset, run_size_study, train_risk

__all__ = ["main", "noisy_subset", "train_risk"]


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
    cfg = SizeStudyConfig(
        qs=args.qs,
        n_functions=args.nf,
        points=args.points,
        noise=args.noise,
        steps=args.steps,
        seed=args.seed,
        threads=1,
        out=args.out,
    )
    try:
        cfg.validate()
    except ValueError as exc:
        ap.error(str(exc))
    summary = run_size_study(cfg, progress=True)
    print(json.dumps({k: summary[k] for k in ("measured_q_min", "constant", "estimated_q_min_real", "seconds")}))


if __name__ == "__main__":
    main()
