"""DeepONet for viscous Burgers u_t + u u_x = ν u_xx, ν = 0.01, x ∈ [0, 1] periodic, t ∈ [0, 1]:
G: u0 ↦ u, learned from solution data (Lu et al. 2021) and from the PDE alone (PI-DeepONet, Wang, Wang &
Perdikaris 2021), evaluated on 100 held-out initial conditions.

Input functions (``--grf``), zero-mean periodic GRFs at m = 101 sensors: ``wang2021`` (default, the smooth
field of the PI-DeepONet paper, wrapped Matérn ν = 7/2, ℓ = √7/5) or ``matern32`` (rough, steep shocks); see
:data:`pinnkit.operator_run.GRFS` for their derivation.  Solutions from pinnkit's ETDRK4 pseudo-spectral solver
on a 101 × 101 (x, t) grid.  The experiment itself is :func:`pinnkit.operator_run.run`, also behind
``pinnkit deeponet burgers``; this script is its command line with the defaults below.

    python examples/deeponet_burgers.py [--mode data|physics|hybrid|both] [--grf wang2021|matern32]
                                        [--minutes 20] [--steps N] [--no-hard-initial]
                                        [--out runs/deeponet-burgers]

Writes summary.json (errors, wall times, configuration), history_<mode>.json, predictions_<mode>.png (true,
predicted and error for three test functions) and error_histogram.png.  Training stops after --steps or
--minutes, whichever comes first.
"""

from __future__ import annotations

import argparse
import json

from pinnkit.operator_run import GRFS, RUN_MODES, run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=RUN_MODES, default="both")
    ap.add_argument("--grf", choices=tuple(GRFS), default="wang2021", help="input-function distribution")
    ap.add_argument("--steps", type=int, default=None, help="Adam steps (default: 100000 data and physics)")
    ap.add_argument("--minutes", type=float, default=20.0, help="wall-clock limit per mode")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--hard-initial",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="physics mode: impose u(x, 0) = u0(x) exactly (default on)",
    )
    ap.add_argument("--out", default="runs/deeponet-burgers")
    ap.add_argument("--resume", action="store_true", help="continue each mode from its checkpoint in OUT")
    ap.add_argument("--overwrite", action="store_true", help="start over, replacing the checkpoints in OUT")
    args = ap.parse_args()
    try:
        summary = run(
            pde="burgers",
            mode=args.mode,
            grf=args.grf,
            steps=args.steps,
            minutes=args.minutes,
            threads=args.threads,
            hard_initial=args.hard_initial,
            out=args.out,
            resume=args.resume,
            overwrite=args.overwrite,
            log=print,
        )
    except ValueError as exc:  # bad settings, found before any data generation or training
        ap.error(str(exc))
    print(
        json.dumps(
            {m: {k: v for k, v in s.items() if k not in ("net", "train_config")} for m, s in summary["runs"].items()},
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
