"""Blow-up study: train a PINN per δ on inviscid Burgers approaching finite-time blow-up, and set the true
L² error beside the risk, Theorems 1/2 of Kumar & Mukherjee (2024) and our tight a-posteriori estimate,
with and without a gradient penalty.

Each (δ, penalty, width, seed) job writes its own JSON under ``out/jobs``; a job whose JSON exists is not
run again, and a job interrupted mid-training resumes from its checkpoint — the study is resumable as a
whole. Jobs run in parallel processes (one torch thread each).
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

__all__ = ["PAPER_DELTAS", "PROTOCOLS", "StudyConfig", "run_study", "run_job", "summarise"]

#: the paper's sweeps: (1+1)-D δ ∈ {0.950, 0.954, …, 0.998}; (2+1)-D δ = t0 + 1/√2, t0 ∈ {−0.60, −0.58, …, −0.02}
PAPER_DELTAS = {
    1: [round(0.950 + 0.004 * k, 3) for k in range(13)],
    2: [float(t0) + 1 / math.sqrt(2) for t0 in np.round(np.arange(-0.60, -0.019, 0.02), 2)],
}

#: training protocols. "paper": the authors' code (Adam lr 1e-4, 100,000 full-batch steps, 20,000
#: collocation points, 300 per initial/boundary line or face, all weights 1, Xavier-normal tanh nets,
#: six hidden layers). "fast": our default, Adam with a decaying rate then L-BFGS, minutes on a CPU.
PROTOCOLS: Dict[str, dict] = {
    "paper": dict(
        steps=100_000,
        lbfgs_steps=0,
        lr=1e-4,
        lr_decay=1.0,
        n_domain=20_000,
        n_boundary=300,
        n_initial=300,
        condition_weight=1.0,
        depth=6,
    ),
    "fast": dict(
        steps=1500,
        lbfgs_steps=1000,
        lr=3e-3,
        lr_decay=0.9,
        decay_every=150,
        n_domain=2000,
        n_boundary=200,
        n_initial=200,
        condition_weight=1.0,
        depth=4,
    ),
}


@dataclass
class StudyConfig:
    """What to sweep and how to train. ``deltas=None`` takes the paper's grid for ``dim``."""

    dim: int = 1
    deltas: Optional[List[float]] = None
    widths: List[int] = field(default_factory=lambda: [30])
    grad_penalties: List[float] = field(default_factory=lambda: [0.0, 1e-3])
    seeds: List[int] = field(default_factory=lambda: [1234])
    protocol: str = "fast"
    steps: Optional[int] = None
    lbfgs_steps: Optional[int] = None
    n_theory_samples: int = 100_000
    workers: int = 2
    out: str = "runs/blowup"

    def validate(self) -> "StudyConfig":
        from pinnkit.validation import check_choice, check_int, check_positive

        check_int("dim", self.dim, 1, 2)
        check_choice("protocol", self.protocol, tuple(PROTOCOLS))
        check_int("workers", self.workers, 1)
        check_int("n_theory_samples", self.n_theory_samples, 1000)
        if self.steps is not None:
            check_int("steps", self.steps, 1)
        if self.lbfgs_steps is not None:
            check_int("lbfgs_steps", self.lbfgs_steps, 0)
        for w in self.widths:
            check_int("widths", w, 1)
        for g in self.grad_penalties:
            if g != 0:
                check_positive("grad_penalties", g)
        if self.deltas is None:
            self.deltas = list(PAPER_DELTAS[self.dim])
        if not self.deltas:
            raise ValueError("deltas must hold at least one value")
        from pinnkit.equations import BurgersBlowup

        for d in self.deltas:  # reject windows that reach blow-up before any training
            BurgersBlowup(dim=self.dim, delta=float(d))
        return self

    def jobs(self) -> List[dict]:
        return [
            {
                "dim": self.dim,
                "delta": float(d),
                "width": w,
                "grad_penalty": float(g),
                "seed": s,
                "protocol": self.protocol,
                "steps": self.steps,
                "lbfgs_steps": self.lbfgs_steps,
                "n_theory_samples": self.n_theory_samples,
            }
            for d in self.deltas
            for w in self.widths
            for g in self.grad_penalties
            for s in self.seeds
        ]


def job_name(job: dict) -> str:
    return f"d{job['dim']}_delta{job['delta']:.6f}_w{job['width']}_gp{job['grad_penalty']:g}_s{job['seed']}"


def run_job(job: dict, out: str) -> dict:
    """Train one PINN and analyse it; write and return its record (skipped if the record exists)."""
    path = os.path.join(out, "jobs", job_name(job) + ".json")
    if os.path.exists(path):
        with open(path) as fh:
            return json.load(fh)
    import torch

    import pinnkit
    from pinnkit.equations import BurgersBlowup

    torch.set_num_threads(1)
    problem = BurgersBlowup(dim=job["dim"], delta=job["delta"])
    proto = dict(PROTOCOLS[job["protocol"]])
    depth = proto.pop("depth")
    for key in ("steps", "lbfgs_steps"):
        if job.get(key) is not None:
            proto[key] = job[key]
    ckpt = os.path.join(out, "checkpoints", job_name(job))
    resume = os.path.exists(os.path.join(ckpt, "checkpoint.pt"))
    t0 = time.perf_counter()
    result = pinnkit.solve(
        problem,
        net={"width": job["width"], "depth": depth, "init": "glorot"},
        grad_penalty=job["grad_penalty"],
        seed=job["seed"],
        checkpoint_dir=ckpt,
        checkpoint_every=1000,
        resume=resume,
        progress=False,
        n_eval=20_000,
        **proto,
    )
    train_s = time.perf_counter() - t0
    record = {
        **job,
        "distance_to_blowup": problem.distance_to_blowup,
        "train_s": train_s,
        "final_loss": result.history["loss"][-1],
        "risk": sum(v[-1] for k, v in result.history["terms"].items() if k != "grad_u"),
        "relative_l2": result.errors.get("relative_l2"),
        "analysis": analyse(result.model, problem, job),
    }
    record["analysis_s"] = time.perf_counter() - t0 - train_s
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(record, fh, indent=1, default=float)
    os.replace(tmp, path)
    return record


def analyse(model, problem, job: dict) -> Dict[str, float]:
    """Theorem 1 (any d), Theorem 2 and its consistent variant (d = 1), the tight estimate, gradient
    diagnostics — flattened to ``{"theorem1/log_rhs": …, …}``."""
    from pinnkit.theory.tracking import TheoryTracker

    tracker = TheoryTracker(problem, n_samples=job["n_theory_samples"], tight_slices=64, seed=job["seed"])
    return tracker.compute(model)


def _worker(args) -> dict:
    job, out = args
    return run_job(job, out)


def run_study(config: StudyConfig, progress: bool = True) -> dict:
    """Run (or resume) every job of the study, then write the table, correlations and plots."""
    from tqdm.auto import tqdm

    config.validate()
    os.makedirs(config.out, exist_ok=True)
    with open(os.path.join(config.out, "config.json"), "w") as fh:
        json.dump(asdict(config), fh, indent=1)
    jobs = config.jobs()
    records: List[dict] = []
    bar = tqdm(total=len(jobs), desc=f"blow-up study ({config.dim}+1)-D", disable=not progress)
    if config.workers == 1:
        for j in jobs:
            records.append(run_job(j, config.out))
            bar.update(1)
    else:
        ctx = mp.get_context("spawn")
        with ctx.Pool(config.workers) as pool:
            for rec in pool.imap_unordered(_worker, [(j, config.out) for j in jobs]):
                records.append(rec)
                bar.update(1)
    bar.close()
    records.sort(key=lambda r: (r["width"], r["grad_penalty"], r["seed"], r["delta"]))
    summary = summarise(records)
    write_outputs(config, records, summary)
    return {"records": records, "summary": summary}


def _corr(x: Sequence[float], y: Sequence[float]) -> Dict[str, float]:
    from scipy import stats

    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return {"pearson": float("nan"), "spearman": float("nan"), "n": int(ok.sum())}
    return {
        "pearson": float(stats.pearsonr(x[ok], y[ok])[0]),
        "spearman": float(stats.spearmanr(x[ok], y[ok])[0]),
        "n": int(ok.sum()),
    }


def summarise(records: List[dict]) -> dict:
    """Per (width, penalty): correlations across δ of log-RHS vs log-LHS (Theorem 1; Theorem 2 in 1-D) and
    of the tight estimate vs the true error, and the range of the ratio estimate/true error (L² norms)."""
    groups: Dict[str, List[dict]] = {}
    for r in records:
        groups.setdefault(f"width={r['width']}, grad_penalty={r['grad_penalty']:g}", []).append(r)
    out = {}
    for key, rs in groups.items():
        a = [r["analysis"] for r in rs]
        g = {"n_deltas": len(rs)}
        g["theorem1"] = _corr([x["theorem1/log_lhs"] for x in a], [x["theorem1/log_rhs"] for x in a])
        if "theorem2/log_rhs" in a[0]:
            g["theorem2"] = _corr([x["theorem2/log_lhs"] for x in a], [x["theorem2/log_rhs"] for x in a])
        g["tight"] = _corr(
            [math.log(x["tight/true"]) if x["tight/true"] > 0 else float("nan") for x in a],
            [math.log(x["tight/estimate"]) if x["tight/estimate"] > 0 else float("nan") for x in a],
        )
        ratios = [x["tight/ratio_l2"] for x in a if math.isfinite(x["tight/ratio_l2"])]
        g["tight_ratio_min"] = min(ratios) if ratios else float("nan")
        g["tight_ratio_max"] = max(ratios) if ratios else float("nan")
        g["tight_always_valid"] = all(x["tight/estimate"] >= x["tight/true"] for x in a)
        g["mean_relative_l2"] = float(np.mean([r["relative_l2"] for r in rs]))
        out[key] = g
    return out


def write_outputs(config: StudyConfig, records: List[dict], summary: dict) -> Dict[str, str]:
    """``table.csv``, ``table.json``, ``summary.json`` and the plots, under ``config.out``."""
    from .plots import plot_study

    flat = [{**{k: v for k, v in r.items() if k != "analysis"}, **r["analysis"]} for r in records]
    cols = list(dict.fromkeys(k for row in flat for k in row))
    paths = {
        k: os.path.join(config.out, f)
        for k, f in (("csv", "table.csv"), ("json", "table.json"), ("summary", "summary.json"))
    }
    with open(paths["csv"], "w") as fh:
        fh.write(",".join(cols) + "\n")
        for row in flat:
            fh.write(",".join("" if row.get(c) is None else str(row.get(c)) for c in cols) + "\n")
    with open(paths["json"], "w") as fh:
        json.dump(flat, fh, indent=1, default=float)
    with open(paths["summary"], "w") as fh:
        json.dump(summary, fh, indent=1, default=float)
    paths.update(plot_study(records, config.dim, config.out))
    return paths
