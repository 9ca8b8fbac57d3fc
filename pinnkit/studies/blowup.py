"""Blow-up study: train a PINN per δ on inviscid Burgers approaching finite-time blow-up, and set the true
L² error beside the risk, Theorems 1/2 of Kumar & Mukherjee (2024) and our tight a-posteriori estimate,
with and without a gradient penalty.

Each (δ, penalty, width, seed) job writes its own JSON record under ``out/jobs``, named by a readable name
plus a fingerprint of the job's full configuration (:func:`job_config`: protocol and its resolved settings,
steps and L-BFGS overrides, theory samples, the record schema); a record is reused only by the job with exactly
that configuration (stored in it and compared on load), and only when its digest checks out — anything else is
moved aside (``.bad``) with a warning and the job runs again. A job interrupted mid-training resumes from its
checkpoint (``out/checkpoints/<name>``) — the study is resumable as a whole. Jobs run in parallel spawn processes
(one torch thread each, at most one per core) that die with the main process; a running job holds a lock file
(``out/jobs/<name>.lock``), so a second run in the same folder never trains it twice at once
(:mod:`pinnkit.studies.jobs`).
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import numbers
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from .cluster import check_cluster, dask_client, run_tasks

__all__ = [
    "PAPER_DELTAS",
    "PROTOCOLS",
    "RECORD_SCHEMA",
    "StudyConfig",
    "run_study",
    "run_job",
    "job_config",
    "job_name",
    "job_memory",
    "load_job_record",
    "summarise",
]

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


#: version of a job's record layout and of what decides its numbers; part of every job's fingerprint, so a
#: change here (or in how a job is trained or analysed) never reuses records of the old layout
RECORD_SCHEMA = 4
#: settings of a job besides the protocol that change its numbers (part of the fingerprint)
ANALYSIS_SETTINGS = {
    "net_init": "glorot",
    "n_eval": 20_000,
    "tight_slices": 64,
    # the certified bound per dimension: (1+1)-D ~4 s a job; (2+1)-D boxes are 3-D, so more of them
    "certified": {
        "1": {"n_slices": 64, "max_boxes": 8000, "rtol": 0.1},
        "2": {"n_slices": 64, "max_boxes": 30000, "rtol": 0.1},
    },
    # Kumar & Mukherjee's theorems with every term certified (theory.tracking.FINAL_THEOREMS)
    "certified_theorems": {"theorem1": {"max_boxes": 4000}, "theorem2": {}},
}
#: the keys every record must hold (besides ``digest`` and the job's own keys)
RECORD_KEYS = ("job", "distance_to_blowup", "train_s", "final_loss", "risk", "relative_l2", "analysis", "analysis_s")
_ANALYSIS_KEYS = (
    "theorem1/log_lhs",
    "theorem1/log_rhs",
    "tight/true",
    "tight/estimate",
    "tight/ratio_l2",
    "certified/bound",
    "certified/ratio_l2",
    "certified/seconds",
    "certified/boxes",
)
_JOB_KEYS = ("dim", "delta", "width", "grad_penalty", "seed", "protocol", "steps", "lbfgs_steps", "n_theory_samples")
#: theory analysis: bytes per sample (points, weights, surrogate, exact solution, Jacobian, residual in float64,
#: their concatenated copies and temporaries) per (d+1)² — a generous estimate (measured, 1-D, width 30: 400,000
#: samples peaked at 645 MiB with the process, estimated 940 MiB; paper protocol, width 100: training peaked at
#: 899 MiB, estimated 1381 MiB)
_THEORY_BYTES_PER_SAMPLE = 128
#: the derivative graph of a chunk of evaluation points (theory/burgers_blowup.py evaluates 32768 at a time)
_THEORY_CHUNK = 32768
#: bytes per parameter (weights, gradients, Adam moments, L-BFGS history of 50 pairs, copies; 8 bytes each)
_BYTES_PER_PARAMETER = 8 * 128
#: bytes per (point × unit × layer) of the autograd graph with its input derivatives (a generous estimate)
_BYTES_PER_ACTIVATION = 8 * 12
#: a worker process with torch imported
_WORKER_BYTES = 200 * 2**20
_MAX_SEED = 2**63 - 1


def _number_list(name: str, values, kind: str) -> list:
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a non-empty list of {kind}, got {values!r}")
    try:
        values = list(values)
    except TypeError:  # a 0-d array
        raise ValueError(f"{name} must be a non-empty list of {kind}, got {values!r}") from None
    if not values:
        raise ValueError(f"{name} must be a non-empty list of {kind}, got []")
    return values


def _finite(name: str, v) -> float:
    try:  # float() of an int such as 10**400 overflows
        ok = not isinstance(v, bool) and isinstance(v, numbers.Real) and math.isfinite(float(v))
    except OverflowError:
        ok = False
    if not ok:
        raise ValueError(f"{name} must hold finite numbers, got {v!r}")
    return float(v)


def _no_repeats(name: str, values: list) -> None:
    seen = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{name} must not repeat a value; {v!r} appears more than once in {values!r}")
        seen.add(v)


def job_memory(dim: int, width: int, proto: dict, n_theory_samples: int) -> Dict[str, float]:
    """Estimated bytes one job allocates: ``{"training": …, "theory": …}`` (each counting the worker process,
    the net and its optimiser state; ``theory`` the larger of the analysis' samples and the certified bound's
    boxes and batch, which run one after the other). An over-estimate by design."""
    from pinnkit.theory.box_families import box_memory

    depth = int(proto["depth"])
    params = (dim + 1) * width + (depth - 1) * width * (width + 1) + (width + 1) * dim + width
    net = _BYTES_PER_PARAMETER * params + _WORKER_BYTES
    points = max(proto["n_domain"], ANALYSIS_SETTINGS["n_eval"]) + proto["n_boundary"] + proto["n_initial"]
    graph = _BYTES_PER_ACTIVATION * width * depth
    theory = _THEORY_BYTES_PER_SAMPLE * (dim + 1) ** 2 * n_theory_samples
    cert = box_memory(width, dim + 1, dim, ANALYSIS_SETTINGS["certified"][str(dim)]["max_boxes"], 4096)
    return {
        "training": net + graph * points,
        "theory": net + max(graph * min(n_theory_samples, _THEORY_CHUNK) + theory, cert["boxes"] + cert["batch"]),
    }


@dataclass
class StudyConfig:
    """What to sweep and how to train. ``deltas=None`` takes the paper's grid for ``dim``. ``workers``: at
    most this many parallel processes (fewer when the machine has fewer cores or fewer jobs are left).
    ``cluster``: ``None`` runs the jobs in a local process pool; ``"local"`` as tasks on a local Dask cluster
    of ``workers`` workers; a scheduler address (``"tcp://host:8786"``) on that Dask cluster, as many at a
    time as it has workers (:mod:`pinnkit.studies.cluster`). The rows are the same either way."""

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
    cluster: Optional[str] = None

    def validate(self) -> "StudyConfig":
        """Check every setting (ValueError naming the parameter and its allowed range) before any work;
        normalises the lists (floats for δ and penalties, ints for widths and seeds)."""
        from pinnkit.preflight import check_memory, check_output_dir
        from pinnkit.validation import check_choice, check_int, check_nonnegative

        self.dim = check_int("dim", self.dim, 1, 2)
        check_choice("protocol", self.protocol, tuple(PROTOCOLS))
        self.workers = check_int("workers", self.workers, 1)
        self.cluster = check_cluster(self.cluster)
        self.n_theory_samples = check_int("n_theory_samples", self.n_theory_samples, 1000)
        if self.steps is not None:
            self.steps = check_int("steps", self.steps, 1)
        if self.lbfgs_steps is not None:
            self.lbfgs_steps = check_int("lbfgs_steps", self.lbfgs_steps, 0)
        self.widths = [check_int("widths", w, 1) for w in _number_list("widths", self.widths, "integers >= 1")]
        self.grad_penalties = [
            check_nonnegative("grad_penalties", g)
            for g in _number_list("grad_penalties", self.grad_penalties, "finite numbers >= 0")
        ]
        self.seeds = [
            check_int("seeds", s, 0, _MAX_SEED)
            for s in _number_list("seeds", self.seeds, f"integers in [0, {_MAX_SEED}]")
        ]
        if self.deltas is None:
            self.deltas = list(PAPER_DELTAS[self.dim])
        self.deltas = [_finite("deltas", d) for d in _number_list("deltas", self.deltas, "finite numbers")]
        for name in ("deltas", "widths", "grad_penalties", "seeds"):
            _no_repeats(name, getattr(self, name))
        self.out = check_output_dir("out", self.out)
        from pinnkit.equations import BurgersBlowup

        for d in self.deltas:  # reject windows that reach blow-up before any training
            BurgersBlowup(dim=self.dim, delta=float(d))
        n_jobs = len(self.deltas) * len(self.widths) * len(self.grad_penalties) * len(self.seeds)
        parallel = min(self.workers, os.cpu_count() or 1, n_jobs)
        proto = resolved_protocol({"protocol": self.protocol, "steps": self.steps, "lbfgs_steps": self.lbfgs_steps})
        for w in self.widths:
            check_memory(
                "widths", w, parallel * job_memory(self.dim, w, proto, 1000)["training"], "the study's training"
            )
        check_memory(
            "n_theory_samples",
            self.n_theory_samples,
            parallel * job_memory(self.dim, min(self.widths), proto, self.n_theory_samples)["theory"],
            "the study's theory analysis",
        )
        check_memory("deltas", f"<{len(self.deltas)} values>", n_jobs * 64 * 2**10, "the study's table of jobs")
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


def resolved_protocol(job: dict) -> dict:
    """The training settings of ``job``: its protocol's, with the ``steps`` / ``lbfgs_steps`` overrides."""
    proto = dict(PROTOCOLS[job["protocol"]])
    for key in ("steps", "lbfgs_steps"):
        if job.get(key) is not None:
            proto[key] = job[key]
    return proto


def job_config(job: dict) -> dict:
    """Everything that decides a job's numbers (what its fingerprint hashes and its record stores)."""
    return {
        "schema": RECORD_SCHEMA,
        "dim": job["dim"],
        "delta": float(job["delta"]),
        "width": job["width"],
        "grad_penalty": float(job["grad_penalty"]),
        "seed": job["seed"],
        "protocol": job["protocol"],
        "train": resolved_protocol(job),
        "n_theory_samples": job["n_theory_samples"],
        "analysis": dict(ANALYSIS_SETTINGS),
    }


def job_name(job: dict) -> str:
    """A readable name plus the fingerprint of the job's full configuration (:func:`job_config`), e.g.
    ``d1_delta0.950000_w30_gp0_s1234_fast_3f2a9c01b7de``; the record and the checkpoint folder carry it."""
    from .jobs import fingerprint

    return (
        f"d{job['dim']}_delta{job['delta']:.6f}_w{job['width']}_gp{job['grad_penalty']:g}_s{job['seed']}_"
        f"{job['protocol']}_{fingerprint(job_config(job))}"
    )


def _paths(job: dict, out: str) -> Dict[str, str]:
    name = job_name(job)
    return {
        "name": name,
        "record": os.path.join(out, "jobs", name + ".json"),
        "lock": os.path.join(out, "jobs", name + ".lock"),
        "checkpoint": os.path.join(out, "checkpoints", name),
    }


def _expected(job: dict) -> dict:
    return {**{k: job[k] for k in _JOB_KEYS}, "job": job_config(job)}


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def load_job_record(job: dict, out: str, log=None) -> Optional[dict]:
    """The finished record of ``job`` in ``out``, or None. A file that cannot be used (unreadable, not a JSON
    object, keys missing, digest mismatch, made for another job, values of the wrong type) is moved aside to
    ``<name>.json.bad`` with a warning naming it and what is wrong; the job then runs again."""
    from .jobs import load_record, reject_record

    path = _paths(job, out)["record"]
    record, problem = load_record(path, _expected(job), RECORD_KEYS)
    if record is not None:
        a = record["analysis"]
        need = _ANALYSIS_KEYS + (("theorem2/log_lhs", "theorem2/log_rhs") if job["dim"] == 1 else ())
        if not isinstance(a, dict) or not all(_is_number(v) for v in a.values()):
            problem = "holds an analysis that is not a table of numbers"
        elif any(k not in a for k in need):
            problem = f"holds an analysis that lacks {[k for k in need if k not in a]}"
        elif not (record["relative_l2"] is None or _is_number(record["relative_l2"])):
            problem = "holds a relative_l2 that is not a number"
        else:
            return record
    if problem is None:
        return None
    return reject_record(path, problem, log)


def run_job(job: dict, out: str) -> dict:
    """Train one PINN and analyse it; write and return its record (the finished record if there is one)."""
    return _run_job(job, out)[0]


def _run_job(job: dict, out: str):
    from .jobs import JobLock, write_record

    paths = _paths(job, out)
    with JobLock(paths["lock"], f"job {paths['name']}"):
        record = load_job_record(job, out)  # another run may have finished it meanwhile
        if record is not None:
            return record, False
        return write_record(paths["record"], _train(job, paths["checkpoint"])), True


def _train(job: dict, ckpt: str) -> dict:
    import torch

    import pinnkit
    from pinnkit.equations import BurgersBlowup

    torch.set_num_threads(1)
    problem = BurgersBlowup(dim=job["dim"], delta=job["delta"])
    proto = resolved_protocol(job)
    depth = proto.pop("depth")
    resume = os.path.exists(os.path.join(ckpt, "checkpoint.pt"))
    t0 = time.perf_counter()
    result = pinnkit.solve(
        problem,
        net={"width": job["width"], "depth": depth, "init": ANALYSIS_SETTINGS["net_init"]},
        grad_penalty=job["grad_penalty"],
        seed=job["seed"],
        checkpoint_dir=ckpt,
        checkpoint_every=1000,
        resume=resume,
        progress=False,
        n_eval=ANALYSIS_SETTINGS["n_eval"],
        **proto,
    )
    train_s = time.perf_counter() - t0
    record = {
        **{k: job[k] for k in _JOB_KEYS},
        "job": job_config(job),
        "distance_to_blowup": problem.distance_to_blowup,
        "train_s": train_s,
        "final_loss": result.history["loss"][-1],
        "risk": sum(v[-1] for k, v in result.history["terms"].items() if k != "grad_u"),
        "relative_l2": result.errors.get("relative_l2"),
        "analysis": analyse(result.model, problem, job),
    }
    record["analysis_s"] = time.perf_counter() - t0 - train_s
    return record


def analyse(model, problem, job: dict) -> Dict[str, float]:
    """Theorem 1 (any d), Theorem 2 and its consistent variant (d = 1), the tight estimate, the certified
    bound (at its full setting), gradient diagnostics — flattened to ``{"theorem1/log_rhs": …, …}``."""
    from pinnkit.theory.tracking import TheoryTracker

    tracker = TheoryTracker(
        problem,
        n_samples=job["n_theory_samples"],
        tight_slices=ANALYSIS_SETTINGS["tight_slices"],
        seed=job["seed"],
        final_certified_options=ANALYSIS_SETTINGS["certified"][str(job["dim"])],
        theorem_options=ANALYSIS_SETTINGS["certified_theorems"],
    )
    return tracker.compute(model, final=True)


def _worker(args):
    job, out = args
    record, trained = _run_job(job, out)
    return job_name(job), record, trained


def _make_pool(n: int):
    """A spawn pool of ``n`` workers that die with this process and ignore SIGINT. They are started with SIGINT
    ignored here, a disposition that survives exec and that Python keeps at start-up, so a Ctrl-C while a worker
    is still importing (before its initializer runs) prints nothing in it either."""
    import signal
    import threading

    from .jobs import init_worker

    main = threading.current_thread() is threading.main_thread()  # only the main thread may set handlers
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        return mp.get_context("spawn").Pool(n, initializer=init_worker, initargs=(os.getpid(),))
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


def interrupted_message(out: str) -> str:
    return (
        f"study interrupted; rerun the same command to resume: finished jobs are kept (in {os.path.join(out, 'jobs')}) "
        "and a job cut short resumes from its checkpoint"
    )


def run_study(config: StudyConfig, progress: bool = True, log: Callable[[str], Any] = print) -> dict:
    """Run (or resume) every job of the study, then write the table, correlations and plots.

    A job whose record in ``out/jobs`` was made with exactly the same settings (its fingerprint and stored
    configuration match) is reused, not trained again (``log`` says how many); a record that cannot be used is
    moved aside and the job runs again. Jobs run in at most ``min(workers, os.cpu_count(), jobs left)``
    processes, none when every job is reused. A job whose lock file is held by a live process (another run of
    this study in the same folder) raises :class:`~pinnkit.studies.jobs.JobBusy` (a ValueError) before
    anything starts. Ctrl-C stops the workers and raises
    :class:`~pinnkit.studies.jobs.StudyInterrupted` (a KeyboardInterrupt) whose message says how to resume.

    Returns ``{"records", "summary", "reused", "trained"}`` (the last two: the job names)."""
    from tqdm.auto import tqdm

    from .jobs import JobBusy, JobLock, StudyInterrupted

    config.validate()
    os.makedirs(config.out, exist_ok=True)
    with open(os.path.join(config.out, "config.json"), "w") as fh:
        json.dump(asdict(config), fh, indent=1)
    jobs = config.jobs()
    found: Dict[str, dict] = {}
    reused: List[str] = []
    todo: List[dict] = []
    for j in jobs:
        rec = load_job_record(j, config.out)
        if rec is None:
            todo.append(j)
        else:
            found[job_name(j)] = rec
            reused.append(job_name(j))
    busy = [(p, JobLock.holder(p["lock"])) for p in (_paths(j, config.out) for j in todo)]
    busy = [(p, pid) for p, pid in busy if pid is not None]
    if busy:
        (p, pid), more = busy[0], len(busy) - 1
        raise JobBusy(
            f"job {p['name']} of this study is being run by another process right now (pid "
            f"{pid if pid > 0 else '?'}, lock file {p['lock']})"
            + (f", and {more} more job(s) too" if more else "")
            + "; wait for that run to finish or stop it, then rerun"
        )
    if reused:
        log(f"reused {len(reused)} of {len(jobs)} jobs from earlier runs in {config.out} (same settings)")
    trained: List[str] = []
    n_workers = min(config.workers, os.cpu_count() or 1, len(todo))
    bar = tqdm(total=len(jobs), initial=len(reused), desc=f"blow-up study ({config.dim}+1)-D", disable=not progress)

    def done(name: str, rec: dict, was_trained: bool) -> None:
        found[name] = rec
        (trained if was_trained else reused).append(name)
        bar.update(1)

    try:
        if config.cluster is not None and todo:
            with dask_client(config.cluster, max(n_workers, 1)) as client:
                names = [job_name(j) for j in todo]
                for _, item in run_tasks(client, _worker, [(j, config.out) for j in todo], names):
                    done(*item)
        elif n_workers <= 1:
            for j in todo:
                done(*_worker((j, config.out)))
        else:
            pool = _make_pool(n_workers)
            try:
                for item in pool.imap_unordered(_worker, [(j, config.out) for j in todo]):
                    done(*item)
                pool.close()
            except BaseException:
                pool.terminate()
                raise
            finally:
                pool.join()
    except KeyboardInterrupt:
        bar.close()
        raise StudyInterrupted(interrupted_message(config.out)) from None
    bar.close()
    records = [found[job_name(j)] for j in jobs]
    records.sort(key=lambda r: (r["width"], r["grad_penalty"], r["seed"], r["delta"]))
    summary = summarise(records)
    write_outputs(config, records, summary)
    return {"records": records, "summary": summary, "reused": reused, "trained": trained}


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


def _logs(rows: List[dict], key: str) -> List[float]:
    """``log row[key]`` for each row (nan where it is not positive)."""
    return [math.log(x[key]) if x[key] > 0 else float("nan") for x in rows]


def _finite_range(rows: List[dict], key: str) -> tuple:
    """``(min, max)`` of the finite ``row[key]`` (nan, nan when none is)."""
    vals = [x[key] for x in rows if math.isfinite(x[key])]
    return (min(vals), max(vals)) if vals else (float("nan"), float("nan"))


def summarise(records: List[dict]) -> dict:
    """Per (width, penalty): correlations across δ of log-RHS vs log-LHS (Theorem 1; Theorem 2 in 1-D) and
    of the tight estimate vs the true error, and the range of the ratio estimate/true error (L² norms).
    Non-finite values (a diverged estimate, say) are kept in the records but left out of every number here."""
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
        g["tight"] = _corr(_logs(a, "tight/true"), _logs(a, "tight/estimate"))
        g["tight_ratio_min"], g["tight_ratio_max"] = _finite_range(a, "tight/ratio_l2")
        pairs = [(x["tight/estimate"], x["tight/true"]) for x in a]
        g["tight_always_valid"] = all(e >= t for e, t in pairs if math.isfinite(e) and math.isfinite(t))
        if all("certified/bound" in x for x in a):
            g["certified"] = _corr(_logs(a, "tight/true"), _logs(a, "certified/bound"))
            g["certified_ratio_min"], g["certified_ratio_max"] = _finite_range(a, "certified/ratio_l2")
            # the proved bound against the true error (Gauss–Legendre, the tight estimate's rule)
            g["certified_always_valid"] = all(x["certified/bound"] >= x["tight/true"] for x in a)
            g["certified_seconds_total"] = float(sum(x["certified/seconds"] for x in a))
            g["certified_seconds_max"] = float(max(x["certified/seconds"] for x in a))
            g["certified_boxes_max"] = int(max(x["certified/boxes"] for x in a))
        if all("certified_theorem1/log_rhs" in x for x in a):
            # Kumar & Mukherjee's theorems with every term certified: on how many runs each is proved, and what
            # certifying the terms adds to the estimated log right-hand side
            g["certified_theorem1_proved"] = int(sum(x["certified_theorem1/is_bound"] > 0 for x in a))
            excess = [x["certified_theorem1/log_rhs"] - x["theorem1/log_rhs"] for x in a]
            g["certified_theorem1_excess_min"], g["certified_theorem1_excess_max"] = min(excess), max(excess)
            if all("certified_theorem2/log_rhs_consistent" in x for x in a):
                g["certified_theorem2_proved"] = int(sum(x["certified_theorem2/is_bound_consistent"] > 0 for x in a))
                g["certified_theorem2_as_written_proved"] = int(
                    sum(x["certified_theorem2/is_bound_as_written"] > 0 for x in a)
                )
        g["train_seconds_total"] = float(sum(r.get("train_s", float("nan")) for r in rs))
        l2 = [r["relative_l2"] for r in rs if r["relative_l2"] is not None and math.isfinite(r["relative_l2"])]
        g["mean_relative_l2"] = float(np.mean(l2)) if l2 else float("nan")
        out[key] = g
    return out


def write_outputs(config: StudyConfig, records: List[dict], summary: dict) -> Dict[str, str]:
    """``table.csv``, ``table.json``, ``summary.json`` and the plots, under ``config.out``."""
    from .plots import plot_study

    flat = [
        {**{k: v for k, v in r.items() if k not in ("analysis", "job", "digest")}, **r["analysis"]} for r in records
    ]
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
