"""Command line: ``pinnkit list``, ``pinnkit solve NAME [options]``, ``pinnkit study blowup [options]``,
``pinnkit study deeponet-size [options]``, ``pinnkit study depth-width [options]``, ``pinnkit deeponet PDE
[options]``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

__all__ = ["main", "EXIT_BAD_INPUT", "EXIT_DIVERGED", "EXIT_INTERRUPTED", "MAX_THREADS"]

#: exit statuses: 0 done, 2 a bad input (nothing was run), 3 training diverged (the last good state kept),
#: 130 interrupted (Ctrl-C; what was finished is kept)
EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 3, 130
#: the most torch threads ``--threads`` may ask for
MAX_THREADS = 4096


def _parse_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _cmd_list(args) -> int:
    from pinnkit.equations import PROBLEMS

    for name, cls in sorted(PROBLEMS.items()):
        doc = (cls.__doc__ or "").strip().splitlines()[0].replace("``", "")
        print(f"{name}: {doc}")
        for pname, (default, desc) in getattr(cls, "PARAMETERS", {}).items():
            print(f"    --{pname.replace('_', '-'):<12} default {default!r:<10} {desc}")
    return 0


def _problem_params(args, extra: List[str]) -> dict:
    from pinnkit.equations import PROBLEMS

    cls = PROBLEMS.get(args.name)
    if cls is None:
        raise ValueError(f"unknown problem {args.name!r}; available: {sorted(PROBLEMS)}")
    allowed = getattr(cls, "PARAMETERS", {})
    params = {}
    it = iter(extra)
    for tok in it:
        if not tok.startswith("--"):
            raise ValueError(f"unexpected argument {tok!r}")
        key, _, val = tok[2:].partition("=")
        key = key.replace("-", "_")
        if key not in allowed:
            raise ValueError(
                f"unknown option --{key.replace('_', '-')} for {args.name!r}; "
                f"problem parameters: {['--' + k.replace('_', '-') for k in allowed]}"
            )
        if not val:
            val = next(it, None)
            if val is None:
                raise ValueError(f"option --{key} needs a value")
        params[key] = _parse_value(val)
    return params


#: options of ``pinnkit solve`` passed to :func:`pinnkit.solve` under their own name when given; left out, they
#: take the problem's preset (:mod:`pinnkit.presets`)
SOLVE_OPTIONS = (
    "steps",
    "lbfgs_steps",
    "lr",
    "lr_decay",
    "decay_every",
    "optimizer",
    "quasi_newton",
    "n_domain",
    "n_boundary",
    "n_initial",
    "sampling",
    "resample_every",
    "adaptive",
    "condition_weight",
    "grad_penalty",
    "gpinn_penalty",
    "balance",
    "ntk_every",
    "method",
    "dtype",
    "compile",
    "device",
)
#: net options of ``pinnkit solve`` and their key in the net spec (merged onto the preset's net)
NET_OPTIONS = {
    "net": "kind",
    "width": "width",
    "depth": "depth",
    "activation": "activation",
    "fourier_features": "fourier_features",
    "fourier_sigma": "fourier_sigma",
    "output_scale": "output_scale",
}
#: ``--hard-constraints`` values and the ``hard_constraints`` of :func:`pinnkit.solve` they stand for
HARD_CONSTRAINTS = {
    "auto": "auto",
    "none": (),
    "initial": ("initial",),
    "boundary": ("boundary",),
    "both": ("initial", "boundary"),
}


def _scale_or_auto(text: str):
    """A number, or ``auto`` (``--fourier-sigma``, ``--output-scale``)."""
    return "auto" if text.strip() == "auto" else float(text)


def solve_options(args: argparse.Namespace) -> dict:
    """The :func:`pinnkit.solve` keywords of the options given on the command line (the rest are the preset's)."""
    opts = {k: getattr(args, k) for k in SOLVE_OPTIONS if getattr(args, k) is not None}
    if args.causal is not None or args.causal_chunks is not None:
        causal = {"eps": tuple(args.causal) if args.causal is not None else None, "chunks": args.causal_chunks}
        opts["causal"] = {k: v for k, v in causal.items() if v is not None} or True
    if args.hard_constraints is not None:
        opts["hard_constraints"] = HARD_CONSTRAINTS[args.hard_constraints]
    net = {key: getattr(args, k) for k, key in NET_OPTIONS.items() if getattr(args, k) is not None}
    if net:
        opts["net"] = net
    return opts


def _cmd_solve(args, extra: List[str]) -> int:
    import torch

    import pinnkit
    from pinnkit import distributed
    from pinnkit.preflight import check_output_dir
    from pinnkit.validation import check_int, check_positive

    params = _problem_params(args, extra)
    if args.minutes is not None:
        check_positive("--minutes", args.minutes)
    check_int("--threads", args.threads, 0, MAX_THREADS)
    check_int("--seed", args.seed, 0, 2**63 - 1)
    check_int("--track-every", args.track_every, 0)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = args.out or os.path.join(
        "runs", f"{args.name}-" + "-".join(f"{k}{v}" for k, v in params.items()) + f"-s{args.seed}"
    )
    check_output_dir("--out", out)
    inverse = {}
    if args.infer:
        parts = [tok.partition("=") for tok in args.infer]
        if all(eq for _, eq, _ in parts):
            inverse["infer"] = {key: _parse_value(val) for key, _, val in parts}
        elif not any(eq for _, eq, _ in parts):
            inverse["infer"] = [key for key, _, _ in parts]
        else:
            raise ValueError("--infer: give a guess for every name (NAME=GUESS) or for none")
    if args.data:
        inverse["data"] = list(args.data)
    result = pinnkit.solve(
        args.name,
        **inverse,
        **solve_options(args),
        seed=args.seed,
        track_every=args.track_every,
        checkpoint_dir=os.path.join(out, "checkpoints"),
        resume=args.resume,
        overwrite=args.overwrite,
        time_limit=None if args.minutes is None else 60.0 * args.minutes,
        progress=not args.quiet,
        **params,
    )
    paths = result.save(out)
    if not distributed.is_main():  # under torchrun rank 0 prints and writes for the run
        return 0
    print(result.problem.describe())
    for k, v in result.errors.items():
        print(f"  {k:<22} {v:.3e}")
    if "relative_l2_velocity" in result.errors:
        print(f"  {'velocity rel L2':<22} {result.errors['relative_l2_velocity']:.3e}")
        p_name = result.problem.output_names[result.problem.pressure_index]
        print(f"  {'pressure rel L2':<22} {result.errors[f'relative_l2_{p_name}']:.3e}   (mean removed)")
    for name, rec in result.inferred.items():
        if rec.get("field"):
            print(f"  {'inferred ' + name + '(x)':<22} relative L2 {rec['relative_l2']:.2e} against the truth")
            continue
        print(
            f"  {'inferred ' + name:<22} {rec['value']:.6g}   (truth {rec['truth']:.6g}, relative error "
            f"{rec['relative_error']:.2e}, from {rec['initial']:.3g})"
        )
    print(f"  {'train time':<22} {result.timings['train_s']:.1f} s   ({len(result.history['step'])} steps)")
    print(f"  {'final loss':<22} {result.history['loss'][-1]:.3e}")
    if args.certify:
        _print_certified(result, out, paths)
    print(f"  wrote {', '.join(sorted(paths.values()))}")
    return 0


def _cmd_observe(args, extra: List[str]) -> int:
    from pinnkit.equations import make_problem
    from pinnkit.equations.inverse import observations_from, save_observations

    problem = make_problem(args.name, **_problem_params(args, extra))
    obs = observations_from(problem, args.n, noise=args.noise, seed=args.seed, components=args.components)
    save_observations(args.out, obs, problem)
    print(f"{problem.describe()}: {len(obs.points)} observations (noise {obs.noise:g}) written to {args.out}")
    return 0


def _print_certified(result, out: str, paths: dict) -> None:
    """``--certify``: every certified number that applies (pinnkit.theory.certify), printed with the word
    "certified", and written to ``certified.json``."""
    import json

    from pinnkit.theory.certify import certify

    numbers = certify(result.model, result.problem)
    if not numbers:
        print("  certified: no enclosure rule for this net (tanh/sin MLPs, boundary hard constraints)")
        return
    for c in numbers:
        side = f"in [{c.lower:.3e}, {c.upper:.3e}]" if c.lower == c.lower else f"<= {c.upper:.3e}"
        print(f"  {c.name:<22} {side}   certified ({c.what}; {c.seconds:.1f} s, {c.boxes} boxes)")
    paths["certified"] = os.path.join(out, "certified.json")
    with open(paths["certified"], "w") as fh:
        json.dump([c.as_dict() for c in numbers], fh, indent=1)


def _cmd_study(args) -> int:
    if args.kind == "deeponet-size":
        return _cmd_deeponet_size(args)
    if args.kind == "depth-width":
        return _cmd_depth_width(args)
    from pinnkit.studies.blowup import StudyConfig, run_study

    cfg = StudyConfig(
        dim=args.dim,
        deltas=args.deltas,
        widths=args.widths,
        grad_penalties=args.grad_penalties,
        seeds=args.seeds,
        protocol=args.protocol,
        steps=args.steps,
        lbfgs_steps=args.lbfgs_steps,
        n_theory_samples=args.theory_samples,
        workers=args.workers,
        out=args.out or f"runs/blowup-{args.dim}d-{args.protocol}",
        cluster=_cluster(args),
    )
    if args.paper:
        cfg.protocol, cfg.widths, cfg.out = "paper", [30, 100], args.out or f"runs/blowup-{args.dim}d-paper"
    out = run_study(cfg, progress=not args.quiet)
    rows = out["records"]
    print(f"blow-up study, ({cfg.dim}+1)-D, protocol {cfg.protocol}: {len(rows)} runs -> {cfg.out}")
    print(
        f"{'delta':>8} {'width':>5} {'λ_g':>7} {'rel L2':>9} {'true L2':>9} {'tight est':>9} {'ratio':>6} "
        f"{'bound (certified)':>17} {'ratio':>6} {'Th1 logL':>9} {'Th1 logR':>9}"
    )
    for r in rows:
        a = r["analysis"]
        print(
            f"{r['delta']:8.4f} {r['width']:5d} {r['grad_penalty']:7.0e} {r['relative_l2']:9.2e} "
            f"{a['tight/true'] ** 0.5:9.2e} {a['tight/estimate'] ** 0.5:9.2e} {a['tight/ratio_l2']:6.2f} "
            f"{a['certified/bound_l2']:9.2e} certified {a['certified/ratio_l2']:6.2f} "
            f"{a['theorem1/log_lhs']:9.2f} {a['theorem1/log_rhs']:9.2f}"
        )
    for key, g in out["summary"].items():
        th = "  ".join(
            f"{k}: pearson {g[k]['pearson']:.2f}, spearman {g[k]['spearman']:.2f}"
            for k in ("theorem1", "theorem2", "tight")
            if k in g
        )
        print(
            f"{key}: {th}; tight estimate (an estimate)/true in [{g['tight_ratio_min']:.2f}, "
            f"{g['tight_ratio_max']:.2f}] (L² norms), above the true error on every δ: {g['tight_always_valid']}"
        )
        print(
            f"  certified bound (proved, floating point included)/true in [{g['certified_ratio_min']:.2f}, "
            f"{g['certified_ratio_max']:.2f}] (L² norms), above the true error on every δ: "
            f"{g['certified_always_valid']}; certification {g['certified_seconds_total']:.1f} s in all "
            f"(training {g['train_seconds_total']:.1f} s), at most {g['certified_boxes_max']} boxes"
        )
        if "certified_theorem1_proved" in g:
            t2 = (
                f"; Theorem 2 (consistent) certified and proved on {g['certified_theorem2_proved']} of {g['n_deltas']} "
                f"runs, as written on {g['certified_theorem2_as_written_proved']}"
                if "certified_theorem2_proved" in g
                else ""
            )
            print(
                f"  Theorem 1 with every term certified: proved on {g['certified_theorem1_proved']} of {g['n_deltas']} "
                f"runs, log-RHS certified - estimated in [{g['certified_theorem1_excess_min']:.2f}, "
                f"{g['certified_theorem1_excess_max']:.2f}]{t2}"
            )
    return 0


def _cluster(args) -> Optional[str]:
    """``--scheduler ADDRESS`` (an existing Dask cluster), ``--dask`` (a local one), or None (the process pool)."""
    from pinnkit.studies.cluster import LOCAL, check_cluster

    if args.scheduler is not None and args.dask:
        raise ValueError("give --dask (start a local Dask cluster) or --scheduler ADDRESS (use one), not both")
    if args.scheduler is None:
        return LOCAL if args.dask else None
    try:
        if args.scheduler == LOCAL:
            raise ValueError
        return check_cluster(args.scheduler)
    except ValueError:
        raise ValueError(
            f"--scheduler must be a Dask scheduler address such as tcp://host:8786, got {args.scheduler!r}"
        ) from None


def _add_cluster_options(parser, local_default: str) -> None:
    parser.add_argument(
        "--dask",
        action="store_true",
        help=f"run each training as a task on a local Dask cluster of --workers workers (default: {local_default})",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run each training as a task on the Dask cluster at ADDRESS (e.g. tcp://host:8786; workers "
        "must share the output folder)",
    )


def _cmd_deeponet_size(args) -> int:
    from pinnkit.studies.deeponet_size import SizeStudyConfig, format_table, run_size_study

    cfg = SizeStudyConfig(
        qs=args.qs,
        n_functions=args.n_functions,
        points=args.points,
        noise=args.noise,
        steps=args.steps,
        seed=args.seed,
        threads=args.threads,
        out=args.out,
        resume=args.resume,
        cluster=_cluster(args),
        workers=args.workers,
    ).validate()  # bad settings fail before anything is printed or trained
    print(
        f"DeepONet size study: q in {cfg.qs}, n_f in {cfg.n_functions} x {cfg.points} points, noise σ = "
        f"{cfg.noise:g}, {cfg.steps} steps per cell -> {cfg.out}",
        flush=True,
    )
    summary = run_size_study(cfg, progress=not args.quiet)
    print(format_table(summary))
    n_cells = len(summary["cells"])
    print(
        f"trained {len(summary['trained_cells'])} of {n_cells} cells ({n_cells - len(summary['trained_cells'])} "
        f"reused) in {summary['seconds']:.1f} s; wrote {', '.join(summary['files'])}"
    )
    return 0


def _cmd_depth_width(args) -> int:
    from pinnkit.studies.depth_width import DepthWidthStudyConfig, format_tables, run_depth_width_study

    cfg = DepthWidthStudyConfig(
        depths=args.depths,
        widths=args.widths,
        spread_activations=args.spread_activations,
        n_seeds=args.n_seeds,
        n_points=args.n_points,
        seed=args.seed,
        problems=args.problems,
        activation=args.activation,
        steps=args.steps,
        lbfgs_steps=args.lbfgs_steps,
        train_seeds=args.train_seeds,
        threads=args.threads,
        out=args.out,
        resume=args.resume,
    ).validate()  # bad settings fail before anything is printed or run
    print(
        f"depth-width study: depths {cfg.depths} x widths {cfg.widths}; spreads of {cfg.spread_activations} MLPs "
        f"over {cfg.n_seeds} initialisations; {cfg.activation} PINNs on {cfg.problems}, {cfg.steps} Adam steps + "
        f"<= {cfg.lbfgs_steps} L-BFGS iterations each -> {cfg.out}",
        flush=True,
    )
    summary = run_depth_width_study(cfg, progress=not args.quiet)
    print(format_tables(summary))
    print(
        f"ran {summary['jobs_run']} jobs, reused {summary['jobs_reused']}, in {summary['seconds']:.1f} s; wrote "
        + ", ".join(summary["files"])
    )
    return 0


def _cmd_deeponet(args) -> int:
    from pinnkit.operator_run import OperatorRunConfig, run

    cfg = OperatorRunConfig(
        pde=args.pde,
        mode=args.mode,
        grf=args.grf,
        steps=args.steps,
        minutes=args.minutes,
        n_train=args.n_train,
        n_test=args.n_test,
        m_sensors=args.m_sensors,
        nx=args.nx,
        nt=args.nt,
        hard_initial=args.hard_initial,
        seed=args.seed,
        threads=args.threads,
        out=args.out or os.path.join("runs", f"deeponet-{args.pde}"),
        resume=args.resume,
        overwrite=args.overwrite,
        progress=not args.quiet,
    ).validate()  # bad settings fail here, before anything is printed, generated or trained
    print(
        f"DeepONet on {args.pde}, mode {args.mode}, inputs {args.grf}: {args.n_train} training / {args.n_test} "
        f"test functions -> {cfg.out}"
    )
    summary = run(cfg, log=lambda line: print("  " + line, flush=True))
    for mode, r in summary["runs"].items():
        if r["resumed_from_step"] is not None:
            print(f"  {mode}: resumed from step {r['resumed_from_step']}")
    print(f"  wrote {', '.join(summary['files'])}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from pinnkit import presets
    from pinnkit.operator_run import DEFAULT_STEPS, GRFS, PDES, RUN_MODES
    from pinnkit.presets import DEFAULT

    p = argparse.ArgumentParser(prog="pinnkit", description="Physics-informed PDE learning.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the equations and their parameters")
    # allow_abbrev=False: problem parameters (--re, --a, --d, ...) must never be taken for a prefix of an option
    s = sub.add_parser(
        "solve", help="train a PINN on a named problem; problem parameters as --name value", allow_abbrev=False
    )
    s.add_argument("name")
    d = DEFAULT
    s.epilog = (
        "Options left out take the problem's preset (pinnkit.presets); per-problem presets: " + presets.describe()
    )
    s.add_argument("--net", default=None, choices=["mlp", "resmlp", "meanfield"], help=f"default {d['net']['kind']}")
    s.add_argument("--width", type=int, default=None, help=f"default {d['net']['width']}")
    s.add_argument("--depth", type=int, default=None, help=f"hidden layers (default {d['net']['depth']})")
    s.add_argument("--activation", default=None, help=f"default {d['net']['activation']}")
    s.add_argument(
        "--fourier-features", type=int, default=None, help="Fourier feature embedding size (default 0: none)"
    )
    s.add_argument(
        "--fourier-sigma",
        type=_scale_or_auto,
        default=None,
        help="Fourier feature scale (default 1.0), or auto: per-axis scales from the wave numbers the problem declares",
    )
    s.add_argument(
        "--output-scale",
        type=_scale_or_auto,
        default=None,
        help="multiply the net's output by this scale, or auto: the magnitude of the initial and boundary data",
    )
    s.add_argument(
        "--hard-constraints",
        default=None,
        choices=list(HARD_CONSTRAINTS),
        help="impose conditions exactly: auto (the boundary data where admitted, else the initial data; heat's "
        "preset), none, initial, boundary, both",
    )
    s.add_argument("--steps", type=int, default=None, help=f"Adam steps (default {d['steps']})")
    s.add_argument("--lr", type=float, default=None, help=f"Adam learning rate (default {d['lr']})")
    s.add_argument("--lr-decay", type=float, default=None, help=f"learning-rate factor (default {d['lr_decay']})")
    s.add_argument(
        "--decay-every", type=int, default=None, help=f"... every so many steps (default {d['decay_every']})"
    )
    s.add_argument("--optimizer", default=None, choices=["adam", "sgd"], help=f"first stage (default {d['optimizer']})")
    s.add_argument(
        "--lbfgs-steps", type=int, default=None, help=f"quasi-Newton iterations (default {d['lbfgs_steps']})"
    )
    s.add_argument(
        "--quasi-newton",
        default=None,
        choices=["lbfgs", "bfgs", "ssbfgs"],
        help="second stage (default lbfgs, ssbfgs for the Navier–Stokes problems; bfgs/ssbfgs: dense, "
        "nets <= 20k parameters)",
    )
    s.add_argument("--n-domain", type=int, default=None, help=f"default {d['n_domain']}")
    s.add_argument(
        "--n-boundary", type=int, default=None, help=f"points per boundary condition (default {d['n_boundary']})"
    )
    s.add_argument("--n-initial", type=int, default=None, help=f"default {d['n_initial']}")
    s.add_argument("--sampling", default=None, choices=["sobol", "lhs", "uniform"], help=f"default {d['sampling']}")
    s.add_argument(
        "--resample-every", type=int, default=None, help="redraw the points every k steps (default 0: never)"
    )
    s.add_argument(
        "--adaptive",
        default=None,
        choices=["rad"],
        help="residual-based adaptive resampling every --resample-every steps (default off)",
    )
    s.add_argument(
        "--condition-weight",
        type=float,
        default=None,
        help=f"weight of every initial/boundary term (default {d['condition_weight']})",
    )
    s.add_argument("--grad-penalty", type=float, default=None, help="λ of λ mean |∇_x u|² (default 0)")
    s.add_argument("--gpinn-penalty", type=float, default=None, help="λ of the gPINN term λ mean |∇R|² (default 0)")
    s.add_argument(
        "--balance",
        default=None,
        choices=["max-mean", "norm", "ntk"],
        help="condition weights from gradient statistics or the NTK's trace ratios (default off)",
    )
    s.add_argument(
        "--causal",
        type=float,
        nargs="+",
        default=None,
        metavar="EPS",
        help="causal weighting in time with ε (or an increasing ε schedule; default off)",
    )
    s.add_argument("--causal-chunks", type=int, default=None, help="time chunks of causal weighting (default 32)")
    s.add_argument("--ntk-every", type=int, default=None, help="record the empirical NTK every k steps (default off)")
    s.add_argument(
        "--method",
        default=None,
        choices=["autograd", "forward", "taylor"],
        help="derivative engine (default autograd; taylor, compiled, for the Navier–Stokes problems)",
    )
    s.add_argument(
        "--dtype",
        default=None,
        choices=["float32", "float64"],
        help="default float32 (float64 for the Navier–Stokes problems)",
    )
    s.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="torch.compile the taylor objective (default off; on for the Navier–Stokes problems)",
    )
    s.add_argument("--device", default=None, help=f"default {d['device']}")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    s.add_argument("--track-every", type=int, default=500, help="record held-out error every k steps (0: off)")
    s.add_argument("--out", default=None, help="output directory (default runs/NAME-...)")
    s.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints/checkpoint.pt")
    s.add_argument(
        "--overwrite", action="store_true", help="start over, replacing the checkpoint an earlier run left in OUT"
    )
    s.add_argument("--minutes", type=float, default=None, help="end training after this many minutes of it")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument(
        "--certify",
        action="store_true",
        help="after training, print every certified (proved) number that applies: residual sups, error bounds",
    )
    s.add_argument(
        "--infer",
        nargs="+",
        default=None,
        metavar="NAME[=GUESS]",
        help="unknown coefficients to learn with the net (the problem's UNKNOWNS, e.g. nu), optionally with a guess",
    )
    s.add_argument("--data", nargs="+", default=None, metavar="CSV", help="observation files (pinnkit observe)")

    ob = sub.add_parser(
        "observe",
        help="write observations of a problem's ground truth (with noise) as CSV; problem parameters as --name value",
        allow_abbrev=False,
    )
    ob.add_argument("name")
    ob.add_argument("--n", type=int, default=2000, help="number of points (default 2000)")
    ob.add_argument("--noise", type=float, default=0.0, help="relative Gaussian noise σ: y = u + σ std(u) ξ")
    ob.add_argument("--components", type=int, nargs="+", default=None, help="observed outputs (default all)")
    ob.add_argument("--seed", type=int, default=0)
    ob.add_argument("--out", required=True, help="the CSV file to write")

    st = sub.add_parser(
        "study",
        help="studies: 'blowup' (PINN error vs bounds approaching Burgers blow-up), "
        "'deeponet-size' (DeepONet training risk vs q and n, Mukherjee-Roy estimate), "
        "'depth-width' (spreads at initialisation and PINN error against β = Σ 1/n_l)",
    )
    kinds = st.add_subparsers(dest="kind", required=True, metavar="KIND")
    sb = kinds.add_parser("blowup", help="PINN error vs Theorems 1/2 and the tight estimate approaching blow-up")
    sb.add_argument("--dim", type=int, default=1, choices=[1, 2])
    sb.add_argument("--deltas", type=float, nargs="+", default=None, help="default: the paper's grid")
    sb.add_argument("--widths", type=int, nargs="+", default=[30])
    sb.add_argument("--grad-penalties", type=float, nargs="+", default=[0.0, 1e-3])
    sb.add_argument("--seeds", type=int, nargs="+", default=[1234])
    sb.add_argument("--protocol", choices=["fast", "paper"], default="fast")
    sb.add_argument("--paper", action="store_true", help="paper scale: its protocol, widths 30 and 100")
    sb.add_argument("--steps", type=int, default=None, help="override the protocol's Adam steps")
    sb.add_argument("--lbfgs-steps", type=int, default=None, help="override the protocol's L-BFGS steps")
    sb.add_argument("--theory-samples", type=int, default=100_000)
    sb.add_argument("--workers", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    _add_cluster_options(sb, "a local process pool")
    sb.add_argument("--out", default=None)
    sb.add_argument("--quiet", action="store_true")

    from pinnkit.studies.deeponet_size import SizeStudyConfig

    sd = SizeStudyConfig()
    sz = kinds.add_parser(
        "deeponet-size",
        allow_abbrev=False,
        help="DeepONet training risk vs q for several n on noisy heat data, beside the "
        "Mukherjee-Roy size ESTIMATE q ~ C n^(1/4) (not a bound)",
    )
    sz.add_argument("--qs", type=int, nargs="+", default=sd.qs, help=f"common dimensions q (default {sd.qs})")
    sz.add_argument(
        "--n-functions",
        type=int,
        nargs="+",
        default=sd.n_functions,
        help=f"numbers of training functions; n = n_f * points (default {sd.n_functions})",
    )
    sz.add_argument("--points", type=int, default=sd.points, help=f"fixed points per function (default {sd.points})")
    sz.add_argument("--noise", type=float, default=sd.noise, help=f"label noise std σ; level σ²/2 (default {sd.noise})")
    sz.add_argument("--steps", type=int, default=sd.steps, help=f"full-batch Adam steps per cell (default {sd.steps})")
    sz.add_argument("--seed", type=int, default=sd.seed, help="nets, point choice and noise (default 0)")
    sz.add_argument(
        "--threads", type=int, default=sd.threads, help=f"torch threads (0: torch's default; default {sd.threads})"
    )
    sz.add_argument("--out", default=sd.out, help=f"output directory (default {sd.out})")
    sz.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=sd.resume,
        help="reuse finished (n, q) cells found in OUT (default on)",
    )
    sz.add_argument("--quiet", action="store_true", help="no per-n progress lines")
    sz.add_argument("--workers", type=int, default=sd.workers, help="workers of a local Dask cluster (--dask)")
    _add_cluster_options(sz, "one cell after the other in this process")

    from pinnkit.nets import ACTIVATIONS
    from pinnkit.studies.depth_width import PINN_ACTIVATIONS, PROBLEM_SETTINGS, DepthWidthStudyConfig

    dw = DepthWidthStudyConfig()
    sw = kinds.add_parser(
        "depth-width",
        allow_abbrev=False,
        help="spreads over initialisations (measured beside predicted) and the PINN error after a fixed budget "
        "on heat and viscous Burgers, against β = Σ 1/n_l",
    )
    sw.add_argument("--depths", type=int, nargs="+", default=dw.depths, help=f"hidden layers (default {dw.depths})")
    sw.add_argument("--widths", type=int, nargs="+", default=dw.widths, help=f"units per layer (default {dw.widths})")
    sw.add_argument(
        "--spread-activations",
        nargs="+",
        choices=ACTIVATIONS,
        default=dw.spread_activations,
        help=f"activations of the spread measurement (default {dw.spread_activations}; relu: exact prediction)",
    )
    sw.add_argument(
        "--n-seeds",
        type=int,
        default=dw.n_seeds,
        help=f"initialisations per net for the spreads (default {dw.n_seeds})",
    )
    sw.add_argument("--n-points", type=int, default=dw.n_points, help=f"fixed inputs (default {dw.n_points})")
    sw.add_argument("--seed", type=int, default=dw.seed, help="base seed of the initialisations (default 0)")
    sw.add_argument(
        "--problems", nargs="+", choices=tuple(PROBLEM_SETTINGS), default=dw.problems, help="default: heat burgers"
    )
    sw.add_argument(
        "--activation", choices=PINN_ACTIVATIONS, default=dw.activation, help=f"the PINNs' (default {dw.activation})"
    )
    sw.add_argument("--steps", type=int, default=dw.steps, help=f"Adam steps of every PINN (default {dw.steps})")
    sw.add_argument(
        "--lbfgs-steps",
        type=int,
        default=dw.lbfgs_steps,
        help=f"then at most this many L-BFGS iterations (default {dw.lbfgs_steps})",
    )
    sw.add_argument(
        "--train-seeds", type=int, nargs="+", default=dw.train_seeds, help="one PINN per seed and net (default 0)"
    )
    sw.add_argument(
        "--threads", type=int, default=dw.threads, help=f"torch threads (0: torch's default; default {dw.threads})"
    )
    sw.add_argument("--out", default=dw.out, help=f"output directory (default {dw.out})")
    sw.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=dw.resume,
        help="reuse finished jobs found in OUT with the same settings (default on)",
    )
    sw.add_argument("--quiet", action="store_true", help="no progress bar")

    dn = sub.add_parser(
        "deeponet",
        allow_abbrev=False,
        help="operator learning: a DeepONet maps GRF initial conditions to Burgers/heat solutions",
    )
    dn.add_argument("pde", choices=PDES)
    dn.add_argument(
        "--mode",
        choices=RUN_MODES,
        default="both",
        help="data (solution data), physics (PDE only, PI-DeepONet), hybrid, both (data then physics)",
    )
    dn.add_argument("--grf", choices=tuple(GRFS), default="wang2021", help="input-function distribution")
    default_steps = ", ".join(f"{k} {v}" for k, v in DEFAULT_STEPS.items())
    dn.add_argument("--steps", type=int, default=None, help=f"Adam steps per mode (default: {default_steps})")
    dn.add_argument("--minutes", type=float, default=20.0, help="wall-clock limit per mode (default 20)")
    dn.add_argument("--n-train", type=int, default=1000, help="training functions (data seed 1)")
    dn.add_argument("--n-test", type=int, default=100, help="held-out test functions (data seed 2)")
    dn.add_argument("--m-sensors", type=int, default=101, help="sensors per input function")
    dn.add_argument("--nx", type=int, default=101, help="output grid points in x")
    dn.add_argument("--nt", type=int, default=101, help="output grid points in t")
    dn.add_argument(
        "--hard-initial",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="physics/hybrid: impose u(x, 0) = u0(x) exactly (default on)",
    )
    dn.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    dn.add_argument("--seed", type=int, default=0, help="net initialisation and mini-batches")
    dn.add_argument("--out", default=None, help="output directory (default runs/deeponet-PDE)")
    dn.add_argument("--resume", action="store_true", help="continue each mode from OUT/checkpoint_<mode>/")
    dn.add_argument(
        "--overwrite", action="store_true", help="start over, replacing the checkpoints an earlier run left in OUT"
    )
    dn.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def _resume_hint(args) -> str:
    if args.command == "solve":
        return "rerun the same command with --resume to continue from the last checkpoint"
    if args.command == "deeponet":
        return "rerun the same command with --resume to continue each mode from its checkpoint"
    return "rerun the same command to resume; finished jobs are kept"


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line; returns the exit status (:data:`EXIT_BAD_INPUT`, :data:`EXIT_DIVERGED`,
    :data:`EXIT_INTERRUPTED`, or 0)."""
    from pinnkit.training.divergence import TrainingDiverged

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    try:
        if args.command == "study" and extra:
            parser.error(
                f"unrecognized arguments for 'study {args.kind}': {' '.join(extra)} "
                f"(see pinnkit study {args.kind} --help)"
            )
        if args.command in ("list", "deeponet") and extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        if args.command == "list":
            return _cmd_list(args)
        if args.command == "study":
            return _cmd_study(args)
        if args.command == "deeponet":
            return _cmd_deeponet(args)
        if args.command == "observe":
            return _cmd_observe(args, extra)
        return _cmd_solve(args, extra)
    except (ValueError, FileNotFoundError) as exc:
        print(f"pinnkit: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except TrainingDiverged as exc:
        print(
            f"pinnkit: {exc}; nothing else was written: lower --lr (or the setting that diverged) and run again",
            file=sys.stderr,
        )
        return EXIT_DIVERGED
    except KeyboardInterrupt as exc:  # a study's StudyInterrupted says itself how to resume
        print(f"pinnkit: {str(exc) or 'interrupted; ' + _resume_hint(args)}", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
