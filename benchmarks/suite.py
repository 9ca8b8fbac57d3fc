"""pinnkit against DeepXDE on the same work: speed, accuracy, time to a target error, and the matmul floor.

For every problem of the suite both libraries train, one after the other in this process, the same tanh
MLP from the same initial weights (pinnkit's Glorot-normal init, zero biases, copied into DeepXDE's
``FNN``) on the same points (pinnkit's sampler; DeepXDE gets them as PDE anchors and ``PointSetBC``s),
with the same loss (``Σ_terms mean Σ_components r²``, all weights 1), Adam at a fixed learning rate for
``--adam`` steps, then ``--lbfgs`` L-BFGS iterations (torch's L-BFGS, strong-Wolfe line search, history
50, in steps of 20 iterations), float32, the same seed and thread count. Reported per problem:

* Adam iterations/s of each and the ratio pinnkit/DeepXDE, after a warm-up of the first 20 iterations
  (compile time lands there) whose time is reported apart; L-BFGS iterations/s of each;
* final relative L2 of each on one held-out grid against the exact solution (Kovasznay: all of u, v, p
  with the pressure mean removed; velocity and pressure apart in the JSON);
* time to relative L2 1e-3 (heat, Burgers): the held-out error every ``--track-every`` iterations, the
  evaluation time excluded; "not reached" with the best error otherwise;
* the floor (:mod:`benchmarks.floor`): FLOPs of one iteration counted from the net's shape, the measured
  time of those matmuls, and each library's time per Adam iteration as a multiple of it.

    python -m benchmarks [--problems heat2d burgers-3x20 ...] [--adam N] [--lbfgs N] [--quick]
                         [--threads 2] [--device cpu|cuda] [--pinnkit-method taylor|autograd]
                         [--no-compile] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import os
import platform
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence

os.environ.setdefault("DDE_BACKEND", "pytorch")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import pinnkit  # noqa: E402
from pinnkit.api import build_net  # noqa: E402
from pinnkit.metrics import fix_gauge, problem_errors, relative_l2  # noqa: E402
from pinnkit.sampling import Sampler, evaluation_points  # noqa: E402
from pinnkit.versions import versions  # noqa: E402

from .floor import iteration_floor, peak_rate, term_streams  # noqa: E402

__all__ = ["ProblemSpec", "Settings", "PROBLEMS", "run_problem", "run_suite", "markdown_table", "main"]


@dataclass(frozen=True)
class ProblemSpec:
    """One suite entry: a problem, its net and its point counts."""

    key: str
    make: Callable[[], Any]
    width: int
    depth: int
    n_domain: int
    n_boundary: int
    n_initial: int
    lr: float = 1e-3
    target: Optional[float] = 1e-3
    note: str = ""

    def describe(self) -> Dict[str, Any]:
        d = {k: v for k, v in dataclasses.asdict(self).items() if k != "make"}
        p = self.make()
        d["problem"] = {"name": p.name, **p.params}
        return d


def _heat():
    from pinnkit.equations import Heat

    return Heat(dim=2)


def _burgers():
    from pinnkit.equations import ViscousBurgers

    return ViscousBurgers()


def _kovasznay():
    from pinnkit.equations import Kovasznay

    return Kovasznay()


_BURGERS_NOTE = "DeepXDE's Burgers example: 2540 domain, 80 boundary, 160 initial points, Adam lr 1e-3"
PROBLEMS: Dict[str, ProblemSpec] = {
    s.key: s
    for s in [
        ProblemSpec("heat2d", _heat, 32, 3, 2000, 200, 200, note="u_t = 0.1 Δu on [0,1]² × [0,1], sine mode"),
        ProblemSpec("burgers-3x20", _burgers, 20, 3, 2540, 80, 160, note=_BURGERS_NOTE),
        ProblemSpec("burgers-4x50", _burgers, 50, 4, 2540, 80, 160, note=_BURGERS_NOTE),
        ProblemSpec("burgers-6x100", _burgers, 100, 6, 2540, 80, 160, note=_BURGERS_NOTE),
        ProblemSpec(
            "kovasznay",
            _kovasznay,
            50,
            4,
            2601,
            400,
            1,
            target=None,
            note="DeepXDE's Kovasznay example: Re 20, 4x50 net, 2601 domain, 400 boundary points",
        ),
    ]
}


@dataclass
class Settings:
    """Run settings shared by all problems."""

    adam: int = 2000
    lbfgs: int = 500
    threads: int = 2
    seed: int = 0
    device: str = "cpu"
    method: str = "taylor"
    compile: bool = False
    warmup: int = 20
    track_every: int = 100
    lbfgs_chunk: int = 20
    lbfgs_history: int = 50
    n_eval: int = 20000
    sampling: str = "sobol"
    libraries: Sequence[str] = ("pinnkit", "deepxde")


# ------------------------------------------------------------------------------------------ errors
def errors_of(problem, pred: np.ndarray, points: np.ndarray, truth: np.ndarray) -> Dict[str, float]:
    """Held-out errors: :func:`pinnkit.metrics.problem_errors` (relative L2 over all outputs, a free
    pressure constant removed), plus ``velocity_l2`` and ``pressure_l2`` for velocity–pressure problems."""
    out = problem_errors(problem, pred, truth, points)
    comps = getattr(problem, "velocity_components", None)
    if comps is not None:
        p_fix, t_fix = fix_gauge(problem, pred, points), fix_gauge(problem, truth, points)
        vel = list(comps)
        out["velocity_l2"] = relative_l2(p_fix[:, vel], t_fix[:, vel])
        out["pressure_l2"] = relative_l2(p_fix[:, -1], t_fix[:, -1])
    return out


def time_to_target(trace: Sequence[Sequence[float]], target: Optional[float]) -> Dict[str, Any]:
    """First ``[step, seconds, error]`` of ``trace`` at or below ``target``; else the best error seen."""
    best = min((e for _, _, e in trace), default=None)
    out: Dict[str, Any] = {"target": target, "reached": False, "time_s": None, "step": None, "best_relative_l2": best}
    if target is None:
        return out
    for step, t, err in trace:
        if err <= target:
            out.update(reached=True, time_s=t, step=int(step))
            break
    return out


# ----------------------------------------------------------------------------------------- pinnkit
def _solve_kwargs(settings: Settings) -> Dict[str, Any]:
    """``method``; ``compile`` when this pinnkit's ``solve`` takes it; ``preset="default"`` where ``solve`` has
    per-problem presets (this suite sets every option itself, the same for both libraries: the Kovasznay
    preset's float64 and self-scaled BFGS must not apply here)."""
    params = inspect.signature(pinnkit.solve).parameters
    try:
        from pinnkit.api import SHORTCUTS as shortcuts  # the flat keywords of solve(**options)
    except ImportError:  # an older pinnkit: every option is a parameter of solve
        shortcuts = ()
    kw: Dict[str, Any] = {"method": settings.method}
    if "compile" in params or "compile" in shortcuts:
        kw["compile"] = settings.compile
    elif settings.compile:
        print("  (pinnkit.solve has no 'compile' keyword: running without torch.compile)")
    if "preset" in params:
        kw["preset"] = "default"
    return kw


def run_pinnkit(
    spec: ProblemSpec, problem, settings: Settings, eval_pts: np.ndarray, truth: np.ndarray
) -> Dict[str, Any]:
    """Train with :func:`pinnkit.solve` and read speeds, errors and the error trace off its history."""
    kw = _solve_kwargs(settings)
    r = pinnkit.solve(
        problem,
        net={"width": spec.width, "depth": spec.depth, "activation": "tanh", "init": "glorot"},
        steps=settings.adam,
        lbfgs_steps=settings.lbfgs,
        lr=spec.lr,
        lr_decay=1.0,
        lbfgs_history=settings.lbfgs_history,
        lbfgs_chunk=settings.lbfgs_chunk,
        n_domain=spec.n_domain,
        n_boundary=spec.n_boundary,
        n_initial=spec.n_initial,
        sampling=settings.sampling,
        condition_weight=1.0,
        dtype="float32",
        device=settings.device,
        seed=settings.seed,
        n_eval=settings.n_eval,
        track_every=settings.track_every,
        progress=False,
        checkpoint_every=10**9,
        **kw,
    )
    h = r.history
    n_adam = sum(1 for s in h["stage"] if s == "adam")
    w = min(settings.warmup, n_adam)
    warm_s = h["time"][w - 1] if w else 0.0
    adam_s = h["time"][n_adam - 1] if n_adam else 0.0
    steady = adam_s - warm_s
    n_lbfgs = h["step"][-1] + 1 - n_adam if len(h["step"]) > n_adam else 0
    lbfgs_s = h["time"][-1] - adam_s if n_lbfgs else 0.0
    time_at = {int(s): t for s, t in zip(h["step"], h["time"])}  # cumulative training time after step s
    trace = [
        [int(s), time_at.get(int(s) - 1, h["time"][-1]), float(e)] for s, e in h["diagnostics"].get("relative_l2", [])
    ]
    errors = errors_of(problem, r.predict(eval_pts), eval_pts, truth)
    return {
        "adam_iters": n_adam,
        "adam_warmup_iters": w,
        "adam_warmup_s": warm_s,
        "adam_steady_s": steady,
        "adam_it_s": (n_adam - w) / steady if n_adam > w and steady > 0 else None,
        "lbfgs_iters": n_lbfgs,
        "lbfgs_s": lbfgs_s,
        "lbfgs_it_s": n_lbfgs / lbfgs_s if n_lbfgs and lbfgs_s > 0 else None,
        "train_s": h["time"][-1] if h["time"] else 0.0,
        "errors": errors,
        "relative_l2": errors["relative_l2"],
        "trace": trace,
        "initial_loss": h["loss"][0] if h["loss"] else None,
        "final_loss": h["loss"][-1] if h["loss"] else None,
        "solve_options": {k: v for k, v in kw.items()},
    }


# ----------------------------------------------------------------------------------------- deepxde
def run_deepxde_side(
    spec: ProblemSpec, problem, settings: Settings, eval_pts: np.ndarray, truth: np.ndarray
) -> Dict[str, Any]:
    """DeepXDE on pinnkit's points and initial net (:func:`benchmarks.deepxde_problems.run_deepxde`)."""
    from .deepxde_problems import run_deepxde

    net = build_net(
        {"width": spec.width, "depth": spec.depth, "activation": "tanh", "init": "glorot"}, problem, settings.seed
    )
    batch = Sampler(problem, spec.n_domain, spec.n_boundary, spec.n_initial, settings.sampling, 0, settings.seed).draw(
        0
    )
    return run_deepxde(
        problem,
        net,
        batch,
        adam=settings.adam,
        lbfgs=settings.lbfgs,
        lr=spec.lr,
        lbfgs_history=settings.lbfgs_history,
        lbfgs_chunk=settings.lbfgs_chunk,
        warmup=settings.warmup,
        seed=settings.seed,
        device=settings.device,
        eval_points=eval_pts,
        error_fn=lambda pred: errors_of(problem, pred, eval_pts, truth),
        track_every=settings.track_every,
    )


# ------------------------------------------------------------------------------------------- suite
def floor_of(spec: ProblemSpec, problem, settings: Settings) -> Dict[str, Any]:
    """The floor of one iteration of this problem (:mod:`benchmarks.floor`)."""
    streams = term_streams(problem)
    rows = {}
    for term, s in streams.items():
        if term == "pde":
            n = spec.n_domain
        else:
            loc = next(c for c in problem.conditions() if c.name == term).location(problem)
            n = spec.n_initial if loc == "initial" else spec.n_boundary
        rows[term] = (n, s)
    out = iteration_floor(problem.input_dim, spec.width, spec.depth, problem.n_outputs, rows, settings.device)
    out["streams"] = streams
    return out


def run_problem(spec: ProblemSpec, settings: Settings, log: Callable[[str], None] = print) -> Dict[str, Any]:
    """Both libraries and the floor on one problem."""
    problem = spec.make()
    eval_pts = evaluation_points(problem, settings.n_eval)
    truth = problem.reference(torch.as_tensor(eval_pts, dtype=torch.float64)).numpy()
    out: Dict[str, Any] = {"spec": spec.describe()}
    runners = {"pinnkit": run_pinnkit, "deepxde": run_deepxde_side}
    for lib in settings.libraries:
        t0 = time.perf_counter()
        res = runners[lib](spec, problem, settings, eval_pts, truth)
        res["wall_s"] = time.perf_counter() - t0
        res["time_to_target"] = time_to_target(res["trace"], spec.target)
        out[lib] = res
        rate = f"{res['adam_it_s']:.1f}" if res["adam_it_s"] else "-"
        log(f"  {lib:8} Adam {rate} it/s, rel L2 {res['relative_l2']:.2e}, wall {res['wall_s']:.1f}s")
    fl = floor_of(spec, problem, settings)
    for lib in settings.libraries:
        r = out[lib]
        r["s_per_adam_iter"] = 1.0 / r["adam_it_s"] if r["adam_it_s"] else None
        r["floor_multiple"] = r["s_per_adam_iter"] / fl["floor_s"] if r["s_per_adam_iter"] else None
    out["floor"] = fl
    p, d = out.get("pinnkit"), out.get("deepxde")
    if p and d:
        out["ratios"] = {
            "adam": p["adam_it_s"] / d["adam_it_s"] if p["adam_it_s"] and d["adam_it_s"] else None,
            "lbfgs": p["lbfgs_it_s"] / d["lbfgs_it_s"] if p["lbfgs_it_s"] and d["lbfgs_it_s"] else None,
            "time_to_target": (
                d["time_to_target"]["time_s"] / p["time_to_target"]["time_s"]
                if p["time_to_target"]["reached"] and d["time_to_target"]["reached"]
                else None
            ),
        }
    return out


def machine(settings: Settings) -> Dict[str, Any]:
    """CPU count, torch threads, device and processor."""
    info = {
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "device": settings.device,
        "processor": platform.processor() or platform.machine(),
    }
    if hasattr(os, "getloadavg"):
        info["load_average_1min"] = os.getloadavg()[0]
    if settings.device.startswith("cuda") and torch.cuda.is_available():
        info["cuda_device"] = torch.cuda.get_device_name()
    return info


def all_versions() -> Dict[str, str]:
    """:func:`pinnkit.versions.versions` plus DeepXDE's version."""
    v = versions()
    try:
        from .deepxde_problems import import_deepxde

        v["deepxde"] = import_deepxde().__version__
    except Exception as exc:  # pragma: no cover - DeepXDE missing or broken
        v["deepxde"] = f"unavailable ({type(exc).__name__})"
    return v


def run_suite(
    keys: Sequence[str],
    settings: Settings,
    log: Callable[[str], None] = print,
    specs: Optional[Dict[str, ProblemSpec]] = None,
) -> Dict[str, Any]:
    """Every problem in ``keys``; the JSON-ready record with config, versions, seed and machine."""
    specs = specs or PROBLEMS
    torch.set_num_threads(settings.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if settings.device == "cpu" and settings.threads > 1 and load > (os.cpu_count() or 1):
        # seen on the 2-core project machine at load 8: 2 threads ran 60x slower than 1
        log(
            f"warning: load average {load:.1f} exceeds {os.cpu_count()} CPUs; with {settings.threads} threads the "
            "timings can collapse (threads wait on each other); try --threads 1"
        )
    report: Dict[str, Any] = {
        "config": {**dataclasses.asdict(settings), "problems": list(keys)},
        "versions": all_versions(),
        "seed": settings.seed,
        "machine": machine(settings),
        "peak_matmul_gflops": peak_rate(settings.device),
        "results": {},
    }
    for key in keys:
        log(f"{key}:")
        report["results"][key] = run_problem(specs[key], settings, log)
    return report


# ------------------------------------------------------------------------------------------ output
def _num(x: Optional[float], fmt: str) -> str:
    return format(x, fmt) if x is not None else "-"


def _ttt(r: Dict[str, Any]) -> str:
    t = r["time_to_target"]
    if t["target"] is None:
        return "n/a"
    if t["reached"]:
        return f"{t['time_s']:.1f} s"
    return f"not reached (best {_num(t['best_relative_l2'], '.1e')})"


def _l2(r: Dict[str, Any]) -> str:
    """Relative L2, with velocity and pressure apart for velocity–pressure problems."""
    if not r:
        return "-"
    e = r["errors"]
    if "velocity_l2" in e:
        return f"{e['relative_l2']:.2e} (u,v {e['velocity_l2']:.1e}; p {e['pressure_l2']:.1e})"
    return f"{e['relative_l2']:.2e}"


def markdown_table(report: Dict[str, Any]) -> str:
    """The suite's results as Markdown: one row per problem, pinnkit | DeepXDE side by side."""
    cfg, m = report["config"], report["machine"]
    opts = f"method={cfg['method']}, compile={cfg['compile']}"
    head = (
        f"Adam {cfg['adam']} + L-BFGS {cfg['lbfgs']} iterations, float32, {m['torch_threads']} threads, "
        f"device {cfg['device']}, seed {cfg['seed']}; pinnkit {report['versions'].get('pinnkit')} ({opts}), "
        f"DeepXDE {report['versions'].get('deepxde')}, torch {report['versions'].get('torch')}; "
        f"large-matmul peak {report['peak_matmul_gflops']:.0f} GFLOP/s.\n"
        f"Speeds after a {cfg['warmup']}-iteration warm-up; ratios are pinnkit/DeepXDE; rel L2 on the held-out "
        f"grid (Kovasznay: u, v, p, pressure mean removed); floor = measured time of the iteration's matmuls.\n\n"
    )
    cols = [
        "problem",
        "net",
        "Adam it/s pk",
        "Adam it/s DX",
        "Adam ratio",
        "L-BFGS it/s pk",
        "L-BFGS it/s DX",
        "L-BFGS ratio",
        "rel L2 pk",
        "rel L2 DX",
        "t→1e-3 pk",
        "t→1e-3 DX",
        "GFLOP/it",
        "floor ms/it",
        "pk × floor",
        "DX × floor",
        "warm-up s pk/DX",
    ]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for key, res in report["results"].items():
        s, fl = res["spec"], res["floor"]
        p, d = res.get("pinnkit", {}), res.get("deepxde", {})
        ratios = res.get("ratios", {})

        def g(r, k, fmt):
            return _num(r.get(k), fmt) if r else "-"

        row = [
            key,
            f"{s['depth']}×{s['width']}",
            g(p, "adam_it_s", ".1f"),
            g(d, "adam_it_s", ".1f"),
            _num(ratios.get("adam"), ".2f") + ("×" if ratios.get("adam") else ""),
            g(p, "lbfgs_it_s", ".1f"),
            g(d, "lbfgs_it_s", ".1f"),
            _num(ratios.get("lbfgs"), ".2f") + ("×" if ratios.get("lbfgs") else ""),
            _l2(p),
            _l2(d),
            _ttt(p) if p else "-",
            _ttt(d) if d else "-",
            f"{fl['flops'] / 1e9:.3f}",
            f"{fl['floor_s'] * 1e3:.2f}",
            g(p, "floor_multiple", ".1f"),
            g(d, "floor_multiple", ".1f"),
            f"{g(p, 'adam_warmup_s', '.2f')} / {g(d, 'adam_warmup_s', '.2f')}",
        ]
        lines.append("| " + " | ".join(row) + " |")
    return head + "\n".join(lines) + "\n"


def write_outputs(report: Dict[str, Any], out_dir: str) -> Dict[str, str]:
    """``bench.json`` and ``bench.md`` under ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {"json": os.path.join(out_dir, "bench.json"), "markdown": os.path.join(out_dir, "bench.md")}
    with open(paths["json"], "w") as fh:
        json.dump(report, fh, indent=2, default=str)
    with open(paths["markdown"], "w") as fh:
        fh.write(markdown_table(report))
    return paths


QUICK = {"adam": 30, "lbfgs": 20, "warmup": 5, "track_every": 10, "n_eval": 2000}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument(
        "--problems",
        nargs="+",
        default=list(PROBLEMS),
        choices=list(PROBLEMS),
        metavar="NAME",
        help=f"subset of {list(PROBLEMS)}",
    )
    ap.add_argument("--adam", type=int, default=None, help="Adam iterations (default 2000; --quick 30)")
    ap.add_argument("--lbfgs", type=int, default=None, help="L-BFGS iterations (default 500; --quick 20)")
    ap.add_argument("--quick", action="store_true", help="tiny iteration counts and a small held-out grid")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--pinnkit-method", default="taylor", choices=["autograd", "taylor", "forward"])
    ap.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="pass compile=True to pinnkit.solve (torch.compile of the taylor objective; default on, "
        "the warm-up with the compilation is reported apart)",
    )
    ap.add_argument("--track-every", type=int, default=None, help="held-out error every k iterations (default 100)")
    ap.add_argument("--n-eval", type=int, default=None, help="held-out grid size (default 20000)")
    ap.add_argument("--libraries", nargs="+", default=["pinnkit", "deepxde"], choices=["pinnkit", "deepxde"])
    ap.add_argument("--out", default=os.path.join("benchmarks", "results"), help="output folder")
    return ap.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    base = {**dataclasses.asdict(Settings()), **(QUICK if args.quick else {})}
    for name in ("adam", "lbfgs", "track_every", "n_eval"):
        if getattr(args, name) is not None:
            base[name] = getattr(args, name)
    chunk = base["lbfgs_chunk"]
    base["lbfgs"] = -(-base["lbfgs"] // chunk) * chunk  # whole L-BFGS steps in both libraries
    base.update(
        threads=args.threads,
        seed=args.seed,
        device=args.device,
        method=args.pinnkit_method,
        compile=args.compile,
        libraries=tuple(args.libraries),
    )
    return Settings(**base)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    settings = settings_from(args)
    if settings.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available")
    report = run_suite(args.problems, settings)
    paths = write_outputs(report, args.out)
    print()
    print(markdown_table(report))
    print(f"written: {paths['markdown']}, {paths['json']}")
    report["paths"] = paths
    return report
