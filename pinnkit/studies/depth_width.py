"""Depth/width study: over a grid of depths × widths, (a) the spread over initialisations of the squared activation
length, the NTK diagonal and the squared input gradient, measured beside the predicted values
(:mod:`pinnkit.theory.depth_width`), and (b) the relative L2 error of a PINN trained with the same fixed budget on
each net, on heat and viscous Burgers, against β = Σ_l 1/n_l, with Pearson and Spearman correlations of
log10(error) with β.

(a) For every activation of ``spread_activations`` and every (depth, width): an MLP on 2 inputs with the input
box [0, 1]² mapped onto [−1, 1]² (a (1+1)-D PINN's net), ``n_seeds`` initialisations (seeds ``seed …``) at
``n_points`` fixed inputs: :func:`pinnkit.theory.depth_width_spread`. ReLU's length factor Π(1 + 5/n_l) is exact
(Gaussian weights, zero biases); every other predicted number is an estimate (or not covered).

(b) For every problem of ``problems``, (depth, width) and training seed: ``pinnkit.solve`` with an MLP of the
study's ``activation`` (a smooth one: the residuals need u_xx, which a ReLU net has zero), ``steps`` Adam steps
then at most ``lbfgs_steps`` L-BFGS iterations (the same budget for every net; L-BFGS may stop early at its
tolerance), the settings of :data:`TRAIN_SETTINGS`, and its relative L2 error on ``n_eval`` held-out grid points
against the ground truth (heat: closed form; Burgers: Cole–Hopf). Problems: :data:`PROBLEM_SETTINGS`.

Each job writes its record under ``out/jobs`` named by a readable name plus a fingerprint of its full
configuration (:func:`job_config`); a rerun reuses exactly the records whose configuration matches and whose digest
checks out (anything else is moved aside as ``.bad`` and the job runs again), a running job holds a lock file,
and Ctrl-C raises :class:`~pinnkit.studies.jobs.StudyInterrupted` (finished jobs are kept). Outputs in ``out``:
``summary.json``, ``spreads.csv``, ``errors.csv``, ``spreads.png`` (measured vs predicted against β, and predicted
vs measured) and ``error_vs_beta.png``. Every number is measured or estimated; none is a bound.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "DepthWidthStudyConfig",
    "run_depth_width_study",
    "measure_spread",
    "train_error",
    "job_config",
    "job_name",
    "load_job_record",
    "summarise",
    "format_tables",
    "PROBLEM_SETTINGS",
    "TRAIN_SETTINGS",
    "SPREAD_NET",
    "RECORD_SCHEMA",
    "PINN_ACTIVATIONS",
]

#: version of the records' layout and of what decides their numbers (part of every fingerprint)
RECORD_SCHEMA = 1
#: the problems and their parameters (pinnkit.equations defaults otherwise)
PROBLEM_SETTINGS: Dict[str, Dict[str, Any]] = {
    "heat": {"dim": 1},  # u_t = 0.1 u_xx on [0, 1] x [0, 1], u = e^{-0.1 π² t} sin(πx)
    "burgers": {},  # u_t + u u_x = (0.01/π) u_xx on [-1, 1] x [0, 1], u(x, 0) = -sin(πx)
}
#: the training settings of every PINN job besides net, steps, L-BFGS iterations and seed (pinnkit.solve keywords)
TRAIN_SETTINGS: Dict[str, Any] = {
    "lr": 3e-3,
    "lr_decay": 0.9,
    "decay_every": 200,
    "optimizer": "adam",
    "quasi_newton": "lbfgs",
    "n_domain": 1000,
    "n_boundary": 400,
    "n_initial": 400,
    "sampling": "sobol",
    "condition_weight": 10.0,
    "dtype": "float32",
    "n_eval": 4096,
}
#: the nets of the spread jobs: 2 inputs, the box [0, 1]² mapped onto [−1, 1]², one output
SPREAD_NET: Dict[str, Any] = {"in_dim": 2, "out_dim": 1, "input_bounds": [[0.0, 0.0], [1.0, 1.0]]}
#: activations a PINN of this study may use (second derivatives that are not identically zero)
PINN_ACTIVATIONS = ("tanh", "sin", "gelu", "silu", "softplus", "sigmoid")
MAX_DEPTH, MAX_WIDTH = 64, 4096
_MAX_SEED = 2**32 - 1
_SPREAD_KEYS = ("beta", "prediction", "length", "ntk", "input_gradient", "seconds")
_TRAIN_KEYS = ("beta", "relative_l2", "train_s", "final_loss", "n_parameters", "steps_run", "diverged")
#: bytes per parameter (weights, gradients, Adam moments, L-BFGS history, copies) and per (point × unit × layer)
#: of the second-order autograd graph: generous estimates, as in the blow-up study
_BYTES_PER_PARAMETER, _BYTES_PER_ACTIVATION = 8 * 128, 8 * 12


def _int_list(name: str, values: Any, low: int, high: int) -> List[int]:
    from pinnkit.validation import check_int, check_list

    items = check_list(name, values, f"integers in [{low}, {high}]")
    checked = [check_int(name, v, low, high) for v in items]
    if len(set(checked)) != len(checked):
        raise ValueError(f"{name} must not repeat a value, got {values!r}")
    return checked


def _choice_list(name: str, values: Any, choices: Tuple[str, ...]) -> List[str]:
    from pinnkit.validation import check_choice, check_list

    items = check_list(name, values, f"values from {choices}")
    checked = [check_choice(name, v, choices) for v in items]
    if len(set(checked)) != len(checked):
        raise ValueError(f"{name} must not repeat a value, got {values!r}")
    return checked


def net_parameters(depth: int, width: int, in_dim: int = 2, out_dim: int = 1) -> int:
    """Weights and biases of an MLP with ``depth`` hidden layers of ``width`` units."""
    return (in_dim + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * out_dim


@dataclass
class DepthWidthStudyConfig:
    """The grid: ``depths`` × ``widths`` (MLPs, hidden layers of equal width). Spreads: ``spread_activations``,
    ``n_seeds`` initialisations from base ``seed`` at ``n_points`` inputs. Training: ``problems`` (of
    :data:`PROBLEM_SETTINGS`), the PINN's ``activation`` (one of :data:`PINN_ACTIVATIONS`), ``steps`` Adam steps
    and at most ``lbfgs_steps`` L-BFGS iterations for every net, one run per seed of ``train_seeds``. torch
    ``threads`` (0: leave as is), output folder ``out``, ``resume``: reuse matching records found in ``out``."""

    depths: List[int] = field(default_factory=lambda: [2, 4, 8])
    widths: List[int] = field(default_factory=lambda: [16, 32, 64])
    spread_activations: List[str] = field(default_factory=lambda: ["relu", "tanh"])
    n_seeds: int = 2000
    n_points: int = 4
    seed: int = 0
    problems: List[str] = field(default_factory=lambda: ["heat", "burgers"])
    activation: str = "tanh"
    steps: int = 300
    lbfgs_steps: int = 100
    train_seeds: List[int] = field(default_factory=lambda: [0])
    threads: int = 1
    out: str = "runs/depth-width"
    resume: bool = True

    def validate(self) -> "DepthWidthStudyConfig":
        """Check every setting (ValueError naming the parameter and its allowed range) before any work; sorts
        the depths, widths and seeds."""
        from pinnkit.nets import ACTIVATIONS
        from pinnkit.preflight import check_memory, check_output_dir
        from pinnkit.theory.depth_width import MAX_POINTS, MAX_SEEDS
        from pinnkit.validation import check_bool, check_choice, check_int

        self.depths = sorted(_int_list("depths", self.depths, 1, MAX_DEPTH))
        self.widths = sorted(_int_list("widths", self.widths, 1, MAX_WIDTH))
        self.spread_activations = _choice_list("spread_activations", self.spread_activations, tuple(ACTIVATIONS))
        self.n_seeds = check_int("n_seeds", self.n_seeds, 2, MAX_SEEDS)
        self.n_points = check_int("n_points", self.n_points, 1, MAX_POINTS)
        self.seed = check_int("seed", self.seed, 0, _MAX_SEED)
        self.problems = _choice_list("problems", self.problems, tuple(PROBLEM_SETTINGS))
        check_choice("activation", self.activation, PINN_ACTIVATIONS + ("relu",))
        if self.activation == "relu":
            raise ValueError(
                f"activation must be one of {PINN_ACTIVATIONS} (a ReLU net has u_xx = 0 almost everywhere, so the "
                "heat and Burgers residuals cannot be fit), got 'relu'"
            )
        check_choice("activation", self.activation, PINN_ACTIVATIONS)
        self.steps = check_int("steps", self.steps, 1, 10**7)
        self.lbfgs_steps = check_int("lbfgs_steps", self.lbfgs_steps, 0, 10**7)
        self.train_seeds = sorted(_int_list("train_seeds", self.train_seeds, 0, _MAX_SEED))
        self.threads = check_int("threads", self.threads, 0, 1024)
        if not isinstance(self.out, (str, os.PathLike)) or not str(self.out).strip():
            raise ValueError(f"out must be a non-empty path, got {self.out!r}")
        self.out = check_output_dir("out", os.fspath(self.out))
        self.resume = check_bool("resume", self.resume)
        d, w = max(self.depths), max(self.widths)
        points = sum(TRAIN_SETTINGS[k] for k in ("n_domain", "n_eval", "n_initial")) + 2 * TRAIN_SETTINGS["n_boundary"]
        check_memory(
            "widths",
            w,
            _BYTES_PER_PARAMETER * net_parameters(d, w) + _BYTES_PER_ACTIVATION * w * d * points,
            f"the study's training (depth {d}, width {w})",
        )
        check_memory(
            "n_seeds",
            self.n_seeds,
            8 * 4 * self.n_seeds * self.n_points + 64 * 2**20 + 64 * net_parameters(d, w),
            "the study's spread measurement",
        )
        return self

    def jobs(self) -> List[dict]:
        """The spread jobs, then the training jobs."""
        spread = [
            {
                "kind": "spread",
                "activation": a,
                "depth": d,
                "width": w,
                "n_seeds": self.n_seeds,
                "n_points": self.n_points,
                "seed": self.seed,
            }
            for a in self.spread_activations
            for d in self.depths
            for w in self.widths
        ]
        train = [
            {
                "kind": "train",
                "problem": p,
                "activation": self.activation,
                "depth": d,
                "width": w,
                "seed": s,
                "steps": self.steps,
                "lbfgs_steps": self.lbfgs_steps,
            }
            for p in self.problems
            for d in self.depths
            for w in self.widths
            for s in self.train_seeds
        ]
        return spread + train


# ---------------------------------------------------------------- jobs
def job_config(job: dict) -> dict:
    """Everything that decides a job's numbers (what its fingerprint hashes and its record stores)."""
    if job["kind"] == "spread":
        return {"schema": RECORD_SCHEMA, **job, "net": SPREAD_NET}
    return {
        "schema": RECORD_SCHEMA,
        **job,
        "problem_params": PROBLEM_SETTINGS[job["problem"]],
        "train": TRAIN_SETTINGS,
    }


def job_name(job: dict) -> str:
    """A readable name plus the fingerprint of :func:`job_config`, e.g. ``spread_relu_d4_w32_3f2a9c01b7de`` or
    ``train_heat_tanh_d4_w32_s0_9b1d…``."""
    from .jobs import fingerprint

    if job["kind"] == "spread":
        head = f"spread_{job['activation']}_d{job['depth']}_w{job['width']}"
    else:
        head = f"train_{job['problem']}_{job['activation']}_d{job['depth']}_w{job['width']}_s{job['seed']}"
    return f"{head}_{fingerprint(job_config(job))}"


def _paths(job: dict, out: str) -> Dict[str, str]:
    name = job_name(job)
    return {
        "name": name,
        "record": os.path.join(out, "jobs", name + ".json"),
        "lock": os.path.join(out, "jobs", name + ".lock"),
    }


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _record_problem(job: dict, record: dict) -> Optional[str]:
    """Why a digest-sound record of ``job`` still cannot be used (None: it can)."""
    if job["kind"] == "spread":
        for q in ("length", "ntk", "input_gradient"):
            m = record[q]
            if not isinstance(m, dict) or not all(_is_number(m.get(k)) for k in ("mean", "ratio", "ratio_se")):
                return f"holds a {q} entry without numeric mean, ratio and ratio_se"
        return None if _is_number(record["beta"]) else "holds a beta that is not a number"
    if not all(_is_number(record[k]) for k in ("beta", "relative_l2", "train_s", "n_parameters")):
        return "holds a beta, relative_l2, train_s or n_parameters that is not a number"
    return None


def load_job_record(job: dict, out: str, log: Optional[Callable[[str], Any]] = None) -> Optional[dict]:
    """The finished record of ``job`` in ``out``, or None. An unusable file (unreadable, not a JSON object, keys
    missing, digest mismatch, made for another job, values of the wrong type) is moved aside to
    ``<name>.json.bad`` with a warning naming it and what is wrong; the job then runs again."""
    from .jobs import load_record, reject_record

    path = _paths(job, out)["record"]
    keys = _SPREAD_KEYS if job["kind"] == "spread" else _TRAIN_KEYS
    record, problem = load_record(path, {"job": job_config(job)}, keys)
    if record is not None:
        problem = _record_problem(job, record)
        if problem is None:
            return record
    if problem is None:
        return None
    return reject_record(path, problem, log)


def spread_net(job: dict):
    """The MLP template of a spread job (:data:`SPREAD_NET`, the job's depth, width and activation)."""
    from pinnkit.nets import MLP

    lo, hi = SPREAD_NET["input_bounds"]
    return MLP(
        SPREAD_NET["in_dim"],
        SPREAD_NET["out_dim"],
        job["width"],
        job["depth"],
        activation=job["activation"],
        input_bounds=(lo, hi),
    )


def measure_spread(job: dict) -> dict:
    """The record body of a spread job: :func:`pinnkit.theory.depth_width_spread` of :func:`spread_net`."""
    from pinnkit.theory import depth_width_spread

    s = depth_width_spread(spread_net(job), n_seeds=job["n_seeds"], seed=job["seed"], n_points=job["n_points"])
    d = s.as_dict()
    return {
        "beta": s.beta,
        "prediction": d["prediction"],
        **{q: d[q] for q in ("length", "ntk", "input_gradient")},
        "seconds": s.seconds,
    }


def train_error(job: dict) -> dict:
    """The record body of a training job: ``pinnkit.solve`` with the job's net and budget; the held-out relative L2
    error (NaN, with ``diverged = True``, when the training diverged)."""
    import pinnkit
    from pinnkit.theory import depth_width_beta
    from pinnkit.training.divergence import TrainingDiverged

    widths = [job["width"]] * job["depth"]
    body = {"beta": depth_width_beta(widths), "n_parameters": net_parameters(job["depth"], job["width"])}
    t0 = time.perf_counter()
    try:
        r = pinnkit.solve(
            job["problem"],
            net={"kind": "mlp", "width": job["width"], "depth": job["depth"], "activation": job["activation"]},
            steps=job["steps"],
            lbfgs_steps=job["lbfgs_steps"],
            seed=job["seed"],
            progress=False,
            preset="default",  # this study's settings, not a problem's tuned preset
            **TRAIN_SETTINGS,
            **PROBLEM_SETTINGS[job["problem"]],
        )
    except TrainingDiverged:
        nan = float("nan")
        return {**body, "relative_l2": nan, "train_s": time.perf_counter() - t0, "final_loss": nan, "steps_run": 0}
    return {
        **body,
        "relative_l2": float(r.errors["relative_l2"]),
        "train_s": float(r.timings["train_s"]),
        "final_loss": float(r.history["loss"][-1]),
        "n_parameters": int(r.config["n_parameters"]),
        "steps_run": int(r.history["step"][-1]) if r.history["step"] else 0,
        "diverged": False,
    }


def _run_job(job: dict, out: str) -> Tuple[dict, bool]:
    """``(record, trained)``: the finished record if another run left one meanwhile, else run and write it."""
    from .jobs import JobLock, write_record

    paths = _paths(job, out)
    with JobLock(paths["lock"], f"job {paths['name']}"):
        record = load_job_record(job, out)
        if record is not None:
            return record, False
        body = measure_spread(job) if job["kind"] == "spread" else train_error(job)
        body.setdefault("diverged", bool(job["kind"] == "train" and not math.isfinite(body["relative_l2"])))
        return write_record(paths["record"], {**body, "job": job_config(job)}), True


# ---------------------------------------------------------------- the summary
def _corr(x: Sequence[float], y: Sequence[float]) -> Dict[str, Any]:
    """Pearson and Spearman coefficients (with their p-values) of the finite pairs; NaN with fewer than 3."""
    from scipy import stats

    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    nan = float("nan")
    if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return {"pearson": nan, "pearson_p": nan, "spearman": nan, "spearman_p": nan, "n": int(ok.sum())}
    p, s = stats.pearsonr(x[ok], y[ok]), stats.spearmanr(x[ok], y[ok])
    return {
        "pearson": float(p[0]),
        "pearson_p": float(p[1]),
        "spearman": float(s[0]),
        "spearman_p": float(s[1]),
        "n": int(ok.sum()),
    }


def _fit_rate(beta: Sequence[float], ratio: Sequence[float]) -> Optional[float]:
    """Least-squares slope ``c`` of ``log(ratio) = a + c β`` (None with fewer than 2 distinct β)."""
    b, r = np.asarray(beta, float), np.asarray(ratio, float)
    ok = np.isfinite(b) & np.isfinite(r) & (r > 0)
    if len(set(b[ok].tolist())) < 2:
        return None
    return float(np.polyfit(b[ok], np.log(r[ok]), 1)[0])


def summarise(spread_rows: List[dict], error_rows: List[dict]) -> dict:
    """(a) per activation and quantity: the fitted growth rate of log E[X²]/E[X]² in β beside the predicted rate
    (and the same fit to the predicted values),
    and for exact predictions the largest |z| (measured − predicted, in standard errors); (b) per problem: Pearson
    and Spearman correlations of log10(relative L2) with β (and, for context, Spearman with depth and width),
    over the nets (the error of a net: the geometric mean over its training seeds)."""
    spreads: Dict[str, dict] = {}
    for a in dict.fromkeys(r["activation"] for r in spread_rows):
        rows = [r for r in spread_rows if r["activation"] == a]
        out = {}
        for q in ("length", "ntk", "input_gradient"):
            kinds = {r[f"{q}_kind"] for r in rows}
            rates = {r[f"{q}_rate"] for r in rows}
            g = {
                "kind": kinds.pop() if len(kinds) == 1 else sorted(kinds),
                "predicted_rate": rates.pop() if len(rates) == 1 else None,
                "fitted_rate": _fit_rate([r["beta"] for r in rows], [r[f"{q}_ratio"] for r in rows]),
                # the same fit to the predicted values (Π(1 + 5/n) grows more slowly than exp(5β) at small n)
                "predicted_values_fitted_rate": _fit_rate(
                    [r["beta"] for r in rows], [r[f"{q}_predicted"] for r in rows]
                )
                if all(r[f"{q}_predicted"] is not None for r in rows)
                else None,
                "ratio_min": min(r[f"{q}_ratio"] for r in rows),
                "ratio_max": max(r[f"{q}_ratio"] for r in rows),
            }
            zs = [abs(r[f"{q}_z"]) for r in rows if r[f"{q}_z"] is not None]
            if zs:
                g["max_abs_z"] = max(zs)
                over = [r[f"{q}_ratio"] / r[f"{q}_predicted"] for r in rows if r[f"{q}_predicted"]]
                g["measured_over_predicted_min"], g["measured_over_predicted_max"] = min(over), max(over)
            out[q] = g
        spreads[a] = out
    errors: Dict[str, dict] = {}
    for p in dict.fromkeys(r["problem"] for r in error_rows):
        rows = [r for r in error_rows if r["problem"] == p]
        nets = sorted({(r["depth"], r["width"]) for r in rows})
        per_net = []
        for d, w in nets:
            errs = [r["relative_l2"] for r in rows if (r["depth"], r["width"]) == (d, w)]
            finite = [e for e in errs if math.isfinite(e) and e > 0]
            log_err = float(np.mean(np.log10(finite))) if finite else float("nan")
            beta = next(r["beta"] for r in rows if (r["depth"], r["width"]) == (d, w))
            per_net.append({"depth": d, "width": w, "beta": beta, "log10_error": log_err, "runs": len(errs)})
        lb = [n["log10_error"] for n in per_net]
        errors[p] = {
            "nets": per_net,
            "log10_error_vs_beta": _corr([n["beta"] for n in per_net], lb),
            "spearman_vs_depth": _corr([n["depth"] for n in per_net], lb)["spearman"],
            "spearman_vs_width": _corr([n["width"] for n in per_net], lb)["spearman"],
            "error_min": float(np.nanmin([10**v for v in lb])) if any(map(math.isfinite, lb)) else float("nan"),
            "error_max": float(np.nanmax([10**v for v in lb])) if any(map(math.isfinite, lb)) else float("nan"),
            "diverged": int(sum(bool(r.get("diverged")) for r in rows)),
        }
    return {"spreads": spreads, "errors": errors}


def _spread_row(rec: dict) -> dict:
    j = rec["job"]
    row = {k: j[k] for k in ("activation", "depth", "width", "n_seeds")}
    row["beta"] = rec["beta"]
    pred = rec["prediction"]
    for q in ("length", "ntk", "input_gradient"):
        m = rec[q]
        row.update(
            {
                f"{q}_ratio": m["ratio"],
                f"{q}_ratio_se": m["ratio_se"],
                f"{q}_predicted": m["predicted"],
                f"{q}_kind": m["kind"],
                f"{q}_rate": pred[q]["rate"],
                f"{q}_z": m["z"],
            }
        )
    row["length_mean_over_m0"] = rec["length"]["mean_over_m0"]
    row["seconds"] = rec["seconds"]
    return row


def _error_row(rec: dict) -> dict:
    j = rec["job"]
    row = {k: j[k] for k in ("problem", "activation", "depth", "width", "seed", "steps", "lbfgs_steps")}
    row.update({k: rec[k] for k in _TRAIN_KEYS})
    return row


def _write_csv(path: str, rows: List[dict]) -> None:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w") as fh:
        fh.write(",".join(cols) + "\n")
        for r in rows:
            fh.write(",".join("" if r.get(c) is None else str(r.get(c)) for c in cols) + "\n")


def _plots(spread_rows: List[dict], error_rows: List[dict], summary: dict, out: str) -> Dict[str, str]:
    from matplotlib.figure import Figure  # no pyplot: the caller's backend stays as it is

    paths = {"spreads_plot": os.path.join(out, "spreads.png"), "error_plot": os.path.join(out, "error_vs_beta.png")}
    titles = {
        "length": "squared activation length M_L",
        "ntk": "NTK diagonal Θ(x,x) = ‖∂u/∂θ‖²",
        "input_gradient": "squared input gradient ‖∇_x u‖²",
    }
    fig = Figure(figsize=(17, 4.6))
    axes = fig.subplots(1, 4)
    acts = list(dict.fromkeys(r["activation"] for r in spread_rows))
    for ax, q in zip(axes[:3], ("length", "ntk", "input_gradient")):
        for i, a in enumerate(acts):
            rows = sorted((r for r in spread_rows if r["activation"] == a), key=lambda r: r["beta"])
            b = [r["beta"] for r in rows]
            ax.errorbar(
                b,
                [r[f"{q}_ratio"] for r in rows],
                yerr=[2 * r[f"{q}_ratio_se"] for r in rows],
                fmt="o",
                color=f"C{i}",
                ms=4,
                capsize=2,
                label=f"{a}: measured (±2 se)",
            )
            pr = [(r["beta"], r[f"{q}_predicted"]) for r in rows if r[f"{q}_predicted"] is not None]
            if pr:
                kind = rows[0][f"{q}_kind"]
                ax.plot(*zip(*pr), "x", color=f"C{i}", ms=7, mew=1.5, label=f"{a}: predicted ({kind})")
            fit = summary["spreads"][a][q]["fitted_rate"]
            if fit is not None and len(b) > 1:
                ax.plot([], [], " ", label=f"{a}: fitted rate {fit:.2f}")
        ax.set_yscale("log")
        ax.set_xlabel("β = Σ 1/n_l")
        ax.set_ylabel("E[X²]/E[X]² over initialisations")
        ax.set_title(titles[q], fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6)
    ax = axes[3]
    lo, hi = math.inf, 0.0
    for i, a in enumerate(acts):
        for q, mk in (("length", "o"), ("ntk", "s")):
            rows = [r for r in spread_rows if r["activation"] == a and r[f"{q}_predicted"] is not None]
            if not rows:
                continue
            p = [r[f"{q}_predicted"] for r in rows]
            m = [r[f"{q}_ratio"] for r in rows]
            ax.errorbar(
                p,
                m,
                yerr=[2 * r[f"{q}_ratio_se"] for r in rows],
                fmt=mk,
                color=f"C{i}",
                ms=4,
                capsize=2,
                mfc="none" if rows[0][f"{q}_kind"] != "exact" else None,
                label=f"{a}, {q} ({rows[0][f'{q}_kind']})",
            )
            lo, hi = min(lo, *p, *m), max(hi, *p, *m)
    if hi > 0:
        ax.loglog([lo / 1.2, hi * 1.2], [lo / 1.2, hi * 1.2], "k--", lw=0.8, label="measured = predicted")
        ax.legend(fontsize=6)
    ax.set_xlabel("predicted E[X²]/E[X]²")
    ax.set_ylabel("measured E[X²]/E[X]²")
    ax.set_title("predicted vs measured (filled: exact, open: estimate)", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(paths["spreads_plot"], dpi=110)

    problems = list(dict.fromkeys(r["problem"] for r in error_rows))
    fig = Figure(figsize=(5.5 * max(len(problems), 1), 4.4))
    axes = fig.subplots(1, max(len(problems), 1), squeeze=False)[0]
    for ax, p in zip(axes, problems):
        e = summary["errors"][p]
        depths = sorted({n["depth"] for n in e["nets"]})
        for i, d in enumerate(depths):
            nets = sorted((n for n in e["nets"] if n["depth"] == d), key=lambda n: n["beta"])
            ax.semilogy(
                [n["beta"] for n in nets],
                [10 ** n["log10_error"] for n in nets],
                "o-",
                color=f"C{i}",
                label=f"depth {d}",
            )
            for n in nets:
                ax.annotate(
                    f"w{n['width']}",
                    (n["beta"], 10 ** n["log10_error"]),
                    fontsize=6,
                    xytext=(2, 2),
                    textcoords="offset points",
                )
        c = e["log10_error_vs_beta"]
        ax.set_title(f"{p}: Pearson {c['pearson']:.2f}, Spearman {c['spearman']:.2f} (log error vs β)", fontsize=9)
        ax.set_xlabel("β = Σ 1/n_l")
        ax.set_ylabel("relative L2 error (held-out grid)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(paths["error_plot"], dpi=110)
    return paths


def interrupted_message(out: str) -> str:
    return (
        f"study interrupted; rerun the same command to resume: finished jobs are kept (in {os.path.join(out, 'jobs')})"
    )


def run_depth_width_study(
    config: DepthWidthStudyConfig, progress: bool = True, log: Callable[[str], Any] = print
) -> dict:
    """Run (or resume) every job of the study, then write the tables, correlations, plots and summary.json.

    A job whose record in ``out/jobs`` matches its full configuration is reused (``log`` says how many), unless
    ``config.resume`` is False (then every job runs again and its record is replaced). Returns the summary plus
    ``"reused"`` and ``"trained"`` (job names). Bad settings raise ValueError before any work."""
    import torch
    from tqdm.auto import tqdm

    from pinnkit.versions import versions

    from .jobs import StudyInterrupted

    cfg = config.validate()
    t0 = time.perf_counter()
    os.makedirs(cfg.out, exist_ok=True)
    with open(os.path.join(cfg.out, "config.json"), "w") as fh:
        json.dump(asdict(cfg), fh, indent=1)
    jobs = cfg.jobs()
    found: Dict[str, dict] = {}
    reused: List[str] = []
    todo: List[dict] = []
    for j in jobs:
        rec = load_job_record(j, cfg.out, log) if cfg.resume else None
        if rec is None:
            todo.append(j)
        else:
            found[job_name(j)] = rec
            reused.append(job_name(j))
    if reused:
        log(f"reused {len(reused)} of {len(jobs)} jobs from earlier runs in {cfg.out} (same settings)")
    trained: List[str] = []
    previous = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    bar = tqdm(total=len(jobs), initial=len(reused), desc="depth-width study", disable=not progress)
    try:
        for j in todo:
            bar.set_postfix_str(job_name(j).rsplit("_", 1)[0], refresh=False)
            if not cfg.resume:  # a fresh run replaces the record of this job
                path = _paths(j, cfg.out)["record"]
                if os.path.exists(path):
                    os.remove(path)
            rec, was_trained = _run_job(j, cfg.out)
            found[job_name(j)] = rec
            (trained if was_trained else reused).append(job_name(j))
            bar.update(1)
    except KeyboardInterrupt:
        bar.close()
        raise StudyInterrupted(interrupted_message(cfg.out)) from None
    finally:
        torch.set_num_threads(previous)
    bar.close()
    records = [found[job_name(j)] for j in jobs]
    spread_rows = [_spread_row(r) for r in records if r["job"]["kind"] == "spread"]
    error_rows = [_error_row(r) for r in records if r["job"]["kind"] == "train"]
    summary = summarise(spread_rows, error_rows)
    paths = {"spreads_csv": os.path.join(cfg.out, "spreads.csv"), "errors_csv": os.path.join(cfg.out, "errors.csv")}
    _write_csv(paths["spreads_csv"], spread_rows)
    _write_csv(paths["errors_csv"], error_rows)
    paths.update(_plots(spread_rows, error_rows, summary, cfg.out))
    paths["summary"] = os.path.join(cfg.out, "summary.json")
    from pinnkit.theory.depth_width import SOURCES

    full = {
        "config": asdict(cfg),
        "versions": versions(),
        "problem_settings": PROBLEM_SETTINGS,
        "train_settings": TRAIN_SETTINGS,
        "spread_net": SPREAD_NET,
        "sources": SOURCES,
        **summary,
        "spread_rows": spread_rows,
        "error_rows": error_rows,
        "files": sorted(paths.values()),
        "jobs_run": len(trained),
        "jobs_reused": len(reused),
        "train_seconds_total": float(sum(r["train_s"] for r in error_rows)),
        "spread_seconds_total": float(sum(r["seconds"] for r in spread_rows)),
        "seconds": time.perf_counter() - t0,
        "estimated": True,
        "is_bound": False,
    }
    from .jobs import normalise

    full = normalise(full)
    tmp = paths["summary"] + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(full, fh, indent=1, allow_nan=True)
    os.replace(tmp, paths["summary"])
    return {**full, "reused": reused, "trained": trained}


#: the kinds as the table prints them
_KIND = {"exact": "exact", "estimate": "estimate", "not covered": "—"}


def _fmt(v: Optional[float], spec: str = ".3g") -> str:
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)


def format_tables(summary: dict) -> str:
    """The study as text: the spreads (measured ± se beside predicted, per activation and net), the fitted growth
    rates, the errors per net and problem, and the correlations of log error with β."""
    lines = [
        f"{'act':>5} {'depth':>5} {'width':>5} {'β':>6}  {'M_L meas ± se':>16} {'pred':>7} {'kind':>8} "
        f"{'Θ meas ± se':>16} {'pred':>7} {'kind':>8} {'‖∇u‖² meas ± se':>17}"
    ]
    for r in summary["spread_rows"]:
        lines.append(
            f"{r['activation']:>5} {r['depth']:>5} {r['width']:>5} {r['beta']:6.3f}  "
            f"{_fmt(r['length_ratio']):>7} ± {_fmt(r['length_ratio_se'], '.2g'):<6} {_fmt(r['length_predicted']):>7} "
            f"{_KIND[r['length_kind']]:>8} {_fmt(r['ntk_ratio']):>7} ± {_fmt(r['ntk_ratio_se'], '.2g'):<6} "
            f"{_fmt(r['ntk_predicted']):>7} {_KIND[r['ntk_kind']]:>8} "
            f"{_fmt(r['input_gradient_ratio']):>8} ± {_fmt(r['input_gradient_ratio_se'], '.2g'):<6}"
        )
    lines.append(
        "ratios are E[X²]/E[X]² over initialisations (measured: an estimate from the seeds); kind —: not covered"
    )
    for a, g in summary["spreads"].items():
        parts = []
        for q in ("length", "ntk", "input_gradient"):
            s = f"{q}: fitted rate {_fmt(g[q]['fitted_rate'], '.2f')}"
            if g[q]["predicted_rate"] is not None:
                own = g[q]["predicted_values_fitted_rate"]
                s += f" (predicted {g[q]['predicted_rate']:g}, {g[q]['kind']}"
                s += f"; the predicted values' own fit {own:.2f})" if own is not None else ")"
            if "max_abs_z" in g[q]:
                s += f", measured/predicted in [{g[q]['measured_over_predicted_min']:.2f}, "
                s += f"{g[q]['measured_over_predicted_max']:.2f}], max |z| {g[q]['max_abs_z']:.1f}"
            parts.append(s)
        lines.append(f"{a}: " + "; ".join(parts))
    lines.append(f"{'problem':>8} {'depth':>5} {'width':>5} {'β':>6} {'rel L2':>9} {'train s':>8}")
    for r in summary["error_rows"]:
        lines.append(
            f"{r['problem']:>8} {r['depth']:>5} {r['width']:>5} {r['beta']:6.3f} {_fmt(r['relative_l2'], '9.2e')} "
            f"{r['train_s']:8.1f}"
        )
    for p, e in summary["errors"].items():
        c = e["log10_error_vs_beta"]
        lines.append(
            f"{p}: log10(rel L2) vs β over {c['n']} nets: Pearson {_fmt(c['pearson'], '.2f')} (p {_fmt(c['pearson_p'], '.2g')}), "
            f"Spearman {_fmt(c['spearman'], '.2f')} (p {_fmt(c['spearman_p'], '.2g')}); Spearman vs depth "
            f"{_fmt(e['spearman_vs_depth'], '.2f')}, vs width {_fmt(e['spearman_vs_width'], '.2f')}; error in "
            f"[{_fmt(e['error_min'], '.2e')}, {_fmt(e['error_max'], '.2e')}]"
        )
    return "\n".join(lines)
