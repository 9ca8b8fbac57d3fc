"""DeepONet size scaling study: training risk vs the common dimension q for several training-set sizes n, on
noisy heat-operator data, set against the Mukherjee & Roy (TMLR 2024, arXiv 2308.06338v3) size ESTIMATE
``q_min ≈ C n^{1/4}`` (:func:`pinnkit.theory.deeponet_size_estimate`; the constant C is unknown, so this is an
estimate, never a bound: ``is_bound = False`` everywhere).

Setting: n_f input functions (periodic SE GRF, ℓ = 0.2, σ = 1, 32 sensors; heat u_t = κ u_xx, κ = 0.01, on a
33 × 21 (x, t) grid, data seed 11) × P fixed random grid points each; labels = exact solution + N(0, σ²) noise;
n = n_f · P.  For each (n, q) a DeepONet (branch and trunk 2 × 64 tanh, periodic trunk embedding with 4 harmonics)
is trained full-batch with Adam (lr 3e-3, halved every steps/4) and its final training risk
``R = mean((G_θ(u_i)(y_j) − ũ_ij)²)`` recorded.  Per n, ``q_min`` is the smallest q with ``R < level = σ²/2``.
The estimate's constant is calibrated on the smallest n that reached the level, ``C = q_min / n^{1/4}``
(:func:`pinnkit.theory.calibrate_constant`), so the other n test only the exponent 1/4.

Outputs in ``out``: ``summary.json``, ``risk_vs_q.png``, ``qmin_vs_n.png`` and ``cells.json`` (one record per
trained (n_f, q) cell, rewritten atomically after every cell).  With ``resume`` (default) cells already in
``cells.json`` or ``summary.json`` whose settings and training data match are not trained again.  Used by
``pinnkit study deeponet-size`` and ``examples/deeponet_size_bound.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Dict, List, Optional, Tuple

import numpy as np

__all__ = [
    "SizeStudyConfig",
    "run_size_study",
    "noisy_subset",
    "train_risk",
    "heat_data",
    "format_table",
    "DATA_SETTINGS",
    "NET_SETTINGS",
]

#: the heat-operator data every cell draws from (the first n_f functions of one data set)
DATA_SETTINGS = {
    "pde": "heat",
    "m_sensors": 32,
    "nx": 33,
    "nt": 21,
    "grf": {"kernel": "se", "length_scale": 0.2, "sigma": 1.0},
    "kappa": 0.01,
    "seed": 11,
}
#: the DeepONet and its training, apart from q, steps and seed
NET_SETTINGS = {
    "branch_width": 64,
    "branch_depth": 2,
    "trunk_width": 64,
    "trunk_depth": 2,
    "periodic": [1.0, 4],
    "trunk_output_activation": False,
    "lr": 3e-3,
    "lr_decay": 0.5,
    "decays": 4,
    "full_batch": True,
}
_CELLS_FILE = "cells.json"


@dataclass
class SizeStudyConfig:
    """The grid and the data: common dimensions ``qs``, numbers of training functions ``n_functions``
    (n = n_f · ``points``), label noise std ``noise`` σ (level σ²/2), Adam ``steps`` per cell, ``seed`` (net
    initialisation, the choice of points and the noise), torch ``threads`` (0: leave as is), output folder
    ``out``, ``resume``: reuse finished cells found in ``out``.  ``qs`` and ``n_functions`` are sorted.
    ``cluster``: ``None`` trains the cells one after the other here; ``"local"`` as tasks on a local Dask
    cluster of ``workers`` workers; a scheduler address on that Dask cluster (the same risks either way)."""

    qs: List[int] = field(default_factory=lambda: [1, 2, 4, 8, 16, 32])
    n_functions: List[int] = field(default_factory=lambda: [8, 32, 128])
    points: int = 16
    noise: float = 0.1
    steps: int = 2500
    seed: int = 0
    threads: int = 1
    out: str = "runs/deeponet-size"
    resume: bool = True
    cluster: Optional[str] = None
    workers: int = 2

    def validate(self) -> "SizeStudyConfig":
        """Check every setting (ValueError names the parameter and its allowed range); sorts the grids."""
        from pinnkit.preflight import check_output_dir
        from pinnkit.validation import check_int, check_positive

        for name in ("qs", "n_functions"):
            values = getattr(self, name)
            try:  # a 0-d array has __iter__ but cannot be iterated
                items = None if isinstance(values, (str, bytes)) else list(values)
            except TypeError:
                items = None
            if not items:
                raise ValueError(f"{name} must be a non-empty list of integers >= 1, got {values!r}")
            values = items
            checked = [check_int(name, v, 1, 4096 if name == "qs" else 100_000) for v in values]
            if len(set(checked)) != len(checked):
                raise ValueError(f"{name} must not repeat a value, got {values!r}")
            setattr(self, name, sorted(checked))
        self.points = check_int("points", self.points, 1, DATA_SETTINGS["nx"] * DATA_SETTINGS["nt"])
        check_positive("noise", self.noise)
        self.noise = float(self.noise)
        self.steps = check_int("steps", self.steps, 1)
        self.seed = check_int("seed", self.seed, 0, 2**32 - 1)
        self.threads = check_int("threads", self.threads, 0, 1024)
        if not isinstance(self.out, (str, os.PathLike)) or not str(self.out):
            raise ValueError(f"out must be a non-empty path, got {self.out!r}")
        self.out = check_output_dir("out", os.fspath(self.out))
        if not isinstance(self.resume, bool):
            raise ValueError(f"resume must be True or False, got {self.resume!r}")
        from .cluster import check_cluster

        self.cluster = check_cluster(self.cluster)
        self.workers = check_int("workers", self.workers, 1, 4096)
        return self

    @property
    def level(self) -> float:
        """The risk level σ²/2 that defines q_min (below the noise variance σ², so the estimate applies)."""
        return self.noise**2 / 2

    def cell_settings(self) -> dict:
        """Everything besides (n_f, q) that decides a cell's result; a stored cell is reused only if equal."""
        return {
            "points": self.points,
            "noise": self.noise,
            "steps": self.steps,
            "seed": self.seed,
            "data": DATA_SETTINGS,
            "net": NET_SETTINGS,
        }


# ---------------------------------------------------------------- data and one cell
def heat_data(n_functions: int, progress: bool = False):
    """The first ``n_functions`` of the study's heat data set (cached by :func:`make_dataset`)."""
    from pinnkit.equations.operator_data import make_dataset

    d = DATA_SETTINGS
    return make_dataset(
        d["pde"],
        n_functions,
        m_sensors=d["m_sensors"],
        nx=d["nx"],
        nt=d["nt"],
        grf=d["grf"],
        kappa=d["kappa"],
        seed=d["seed"],
        progress=progress,
    )


def noisy_subset(data, n_functions: int, n_points: int, noise: float, seed: int):
    """First n_functions functions at n_points fixed random grid points, labels + N(0, noise²)."""
    rng = np.random.default_rng(seed)
    pts = np.sort(rng.choice(data.coords.shape[0], n_points, replace=False))
    sol = data.solutions[:n_functions][:, pts] + noise * rng.standard_normal((n_functions, n_points))
    return replace(data, inputs=data.inputs[:n_functions], coords=data.coords[pts], solutions=sol)


def _fingerprint(sub) -> str:
    h = hashlib.sha256()
    for a in (sub.inputs, sub.coords, sub.solutions):
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


def train_risk(sub, q: int, steps: int, seed: int) -> float:
    """Final full-batch training MSE ``mean((G_θ(u_i)(y_j) − ũ_ij)²)`` of a DeepONet with common dimension q."""
    from pinnkit.nets import DeepONet
    from pinnkit.operator_trainer import DeepONetTrainer, OperatorTrainConfig

    s = NET_SETTINGS
    net = DeepONet(
        sub.inputs.shape[1],
        2,
        q=q,
        branch_width=s["branch_width"],
        branch_depth=s["branch_depth"],
        trunk_width=s["trunk_width"],
        trunk_depth=s["trunk_depth"],
        periodic=tuple(s["periodic"]),
        trunk_output_activation=s["trunk_output_activation"],
        seed=seed,
    )
    cfg = OperatorTrainConfig(
        mode="data",
        steps=steps,
        lr=s["lr"],
        lr_decay=s["lr_decay"],
        decay_every=max(steps // s["decays"], 1),
        batch_functions=sub.inputs.shape[0],
        batch_points=sub.coords.shape[0],
        log_every=steps,
        checkpoint_every=steps,
        progress=False,
        seed=seed,
    )
    trainer = DeepONetTrainer(net, sub, config=cfg)
    trainer.train()
    pred = trainer.predict(sub.inputs, sub.coords)
    return float(np.mean((pred - sub.solutions) ** 2))


def _train_cell(args) -> Tuple[float, float]:
    """``(risk, seconds)`` of one cell ``(subset, q, steps, seed, threads)``, in this process or as a Dask task
    (torch on ``threads`` threads, as the main process would run it; 0: as the process is)."""
    import torch

    sub, q, steps, seed, threads = args
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        t0 = time.perf_counter()
        risk = train_risk(sub, q, steps, seed)
        return risk, time.perf_counter() - t0
    finally:
        torch.set_num_threads(previous)


# ---------------------------------------------------------------- resume store
def _atomic_json(path: str, obj) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(obj, fh, indent=1)
    os.replace(tmp, path)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _cell_problem(c, settings: dict) -> Optional[str]:
    """Why the stored cell ``c`` cannot be reused under ``settings`` (None: it can)."""
    if not isinstance(c, dict):
        return f"is not a JSON object ({c!r:.60})"
    missing = [k for k in ("n_functions", "n", "q", "risk", "steps", "data_sha256_16") if k not in c]
    if missing:
        return f"lacks the keys {missing}"
    if not (_is_int(c["n_functions"]) and _is_int(c["q"]) and _is_int(c["n"])):
        return "has an n_functions, n or q that is not an integer"
    if not isinstance(c["risk"], (int, float)) or isinstance(c["risk"], bool):
        return f"has a risk that is not a number ({c['risk']!r})"
    if c["steps"] != settings["steps"] or c["n"] != c["n_functions"] * settings["points"]:
        return "does not match its settings (steps or n)"
    if not isinstance(c["data_sha256_16"], str):
        return "has no data fingerprint"
    return None


def _stored_cells(out: str, settings: dict) -> Dict[tuple, dict]:
    """Cells recorded in ``out``/cells.json or ``out``/summary.json under the same cell settings (the full
    :meth:`SizeStudyConfig.cell_settings`, and per cell its training data's fingerprint, checked by the
    caller). A malformed cell is skipped with a warning naming the file (it is trained again)."""
    import warnings

    found: Dict[tuple, dict] = {}
    for name in ("summary.json", _CELLS_FILE):  # cells.json last: it is rewritten after every cell
        path = os.path.join(out, name)
        try:
            with open(path) as fh:
                stored = json.load(fh)
        except (OSError, ValueError):
            continue
        if not isinstance(stored, dict) or stored.get("cell_settings") != settings:
            continue
        cells = stored.get("cells", [])
        if not isinstance(cells, list):
            warnings.warn(f"{path}: 'cells' is not a list; its cells are trained again", stacklevel=3)
            continue
        for i, c in enumerate(cells):
            problem = _cell_problem(c, settings)
            if problem is not None:
                warnings.warn(f"{path}: cell {i} {problem}; not reused (trained again)", stacklevel=3)
                continue
            found[(c["n_functions"], c["q"])] = c
    return found


# ---------------------------------------------------------------- the study
def _plots(
    cfg: SizeStudyConfig,
    risks: Dict[int, List[float]],
    q_min: Dict[int, Optional[int]],
    predicted: Dict[int, float],
    c: float,
    ns: Dict[int, int],
) -> Dict[str, str]:
    from matplotlib.figure import Figure  # no pyplot: the caller's backend stays as it is

    sigma2, level = cfg.noise**2, cfg.level
    paths = {"risk_vs_q": os.path.join(cfg.out, "risk_vs_q.png"), "qmin_vs_n": os.path.join(cfg.out, "qmin_vs_n.png")}
    fig = Figure(figsize=(6.5, 4.5))
    ax = fig.subplots()
    for i, nf in enumerate(cfg.n_functions):
        ax.loglog(cfg.qs, risks[nf], "o-", color=f"C{i}", label=f"n = {ns[nf]} ({nf} functions)")
        ax.axvline(predicted[nf], color=f"C{i}", ls=":", lw=1)
    ax.axhline(sigma2, color="k", ls="--", lw=1, label="noise variance σ²")
    ax.axhline(level, color="gray", ls="-.", lw=1, label="level σ²/2")
    ax.set_xlabel("q (common branch/trunk dimension)"), ax.set_ylabel("training risk (MSE)")
    ax.set_title("risk vs q; dotted: ESTIMATE C n^{1/4} (C from smallest n; not a bound)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(paths["risk_vs_q"], dpi=110)

    fig = Figure(figsize=(5.5, 4))
    ax = fig.subplots()
    n_arr = np.array([ns[nf] for nf in cfg.n_functions], dtype=float)
    grid = np.geomspace(n_arr.min(), n_arr.max(), 50)
    ax.loglog(grid, c * grid**0.25, "k--", label=f"ESTIMATE {c:.2f} n^(1/4) (not a bound)")
    meas = [(ns[nf], q_min[nf]) for nf in cfg.n_functions if q_min[nf] is not None]
    if meas:
        ax.loglog(*zip(*meas), "o", ms=8, label="measured smallest q with risk < σ²/2")
    ax.set_xlabel("n (training samples)"), ax.set_ylabel("q"), ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(paths["qmin_vs_n"], dpi=110)
    return paths


def run_size_study(config: SizeStudyConfig, progress: bool = True) -> dict:
    """Train every (n_f, q) cell of ``config`` (or reuse it, see the module docstring), find q_min per n, set it
    beside the calibrated ESTIMATE ``C n^{1/4}`` and write summary.json and the plots; returns the summary
    (plus ``trained_cells``: the (n_f, q) cells trained by this call).  Bad settings raise ValueError before
    any data generation or training."""
    import torch

    from pinnkit.theory import calibrate_constant, deeponet_size_estimate
    from pinnkit.theory.deeponet_bound import Q_EXPONENT, SOURCE
    from pinnkit.versions import versions

    cfg = config.validate()
    t0 = time.perf_counter()
    previous_threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    try:
        os.makedirs(cfg.out, exist_ok=True)
        settings = cfg.cell_settings()
        stored = _stored_cells(cfg.out, settings) if cfg.resume else {}
        data = heat_data(max(cfg.n_functions))
        sigma2, level = cfg.noise**2, cfg.level
        cells: Dict[tuple, dict] = {}
        trained: List[List[int]] = []
        risks: Dict[int, List[float]] = {}
        subs = {nf: noisy_subset(data, nf, cfg.points, cfg.noise, cfg.seed) for nf in cfg.n_functions}
        shas = {nf: _fingerprint(sub) for nf, sub in subs.items()}
        todo = []
        for nf in cfg.n_functions:
            for q in cfg.qs:
                old = stored.get((nf, q))
                if old is not None and old.get("data_sha256_16") == shas[nf]:
                    cells[(nf, q)] = old
                else:
                    todo.append((nf, q))

        def finished(nf: int, q: int, risk: float, seconds: float) -> None:
            cells[(nf, q)] = {
                "n_functions": nf,
                "n": nf * cfg.points,
                "q": q,
                "risk": risk,
                "steps": cfg.steps,
                "train_seconds": seconds,
                "data_sha256_16": shas[nf],
            }
            trained.append([nf, q])
            stored[(nf, q)] = cells[(nf, q)]  # keep cells of other grids found in out
            _atomic_json(
                os.path.join(cfg.out, _CELLS_FILE),
                {"cell_settings": settings, "cells": [stored[k] for k in sorted(stored)]},
            )
            if all((nf, qq) in cells for qq in cfg.qs):  # the row of this n is complete
                risks[nf] = [cells[(nf, qq)]["risk"] for qq in cfg.qs]
                if progress:
                    print(
                        f"n_f={nf} (n={nf * cfg.points}): "
                        + ", ".join(f"q={qq}: {r:.2e}" for qq, r in zip(cfg.qs, risks[nf])),
                        flush=True,
                    )

        args = [(subs[nf], q, cfg.steps, cfg.seed, cfg.threads) for nf, q in todo]
        if cfg.cluster is not None and todo:
            from .cluster import dask_client, run_tasks

            names = [f"deeponet-size-nf{nf}-q{q}" for nf, q in todo]
            by_name = dict(zip(names, todo))
            with dask_client(cfg.cluster, min(cfg.workers, len(todo))) as client:
                for name, (risk, seconds) in run_tasks(client, _train_cell, args, names):
                    finished(*by_name[name], risk, seconds)
        else:
            for (nf, q), a in zip(todo, args):
                finished(nf, q, *_train_cell(a))
        trained.sort()
        for nf in cfg.n_functions:
            risks[nf] = [cells[(nf, q)]["risk"] for q in cfg.qs]
        q_min = {nf: next((q for q, r in zip(cfg.qs, risks[nf]) if r < level), None) for nf in cfg.n_functions}
        ns = {nf: nf * cfg.points for nf in cfg.n_functions}
        base = next((nf for nf in cfg.n_functions if q_min[nf] is not None), None)
        c = calibrate_constant(q_min[base], ns[base]) if base is not None else 1.0
        estimates = {
            nf: deeponet_size_estimate(ns[nf], level=level, noise_variance=sigma2, constant=c) for nf in cfg.n_functions
        }
        predicted = {nf: e.q_min_real for nf, e in estimates.items()}
        paths = _plots(cfg, risks, q_min, predicted, c, ns)
        summary = {
            "config": asdict(cfg),
            "seed": cfg.seed,
            "versions": versions(),
            "qs": cfg.qs,
            "n_functions": cfg.n_functions,
            "n": {str(k): v for k, v in ns.items()},
            "points_per_function": cfg.points,
            "noise_std": cfg.noise,
            "noise_variance": sigma2,
            "level": level,
            "risks": {str(k): v for k, v in risks.items()},
            "measured_q_min": {str(k): v for k, v in q_min.items()},
            "constant": c,
            "constant_calibrated_on_n": ns[base] if base is not None else None,
            "estimated_q_min_real": {str(k): v for k, v in predicted.items()},
            "estimated_q_min": {str(k): e.q_min for k, e in estimates.items()},
            "estimate": {
                "formula": "q_min ≈ C * n^(1/4), C = q_min(n0) / n0^(1/4) on the smallest n0 reaching the level",
                "exponent": Q_EXPONENT,
                "source": SOURCE,
                "is_bound": False,
                "estimated": True,
            },
            "is_bound": False,
            "estimated": True,
            "cell_settings": settings,
            "cells": [cells[(nf, q)] for nf in cfg.n_functions for q in cfg.qs],
            "files": sorted(paths.values()) + [os.path.join(cfg.out, "summary.json")],
            "seconds": time.perf_counter() - t0,
        }
        _atomic_json(os.path.join(cfg.out, "summary.json"), summary)
    finally:
        torch.set_num_threads(previous_threads)
    return {**summary, "trained_cells": trained}


def format_table(summary: dict) -> str:
    """The study as a short table: n_f, n, measured q_min, ESTIMATED q_min (⌈C n^{1/4}⌉ and C n^{1/4}) and the
    training risk at every q."""
    qs = summary["qs"]
    head = f"{'n_f':>5} {'n':>7} {'q_min meas':>10} {'q_min EST':>9} {'(C n^1/4)':>9} " + " ".join(
        f"{'risk q=' + str(q):>11}" for q in qs
    )
    lines = [head]
    for nf in summary["n_functions"]:
        k = str(nf)
        meas = summary["measured_q_min"][k]
        lines.append(
            f"{nf:>5} {summary['n'][k]:>7} {'none' if meas is None else meas:>10} "
            f"{summary['estimated_q_min'][k]:>9} {summary['estimated_q_min_real'][k]:>9.2f} "
            + " ".join(f"{r:>11.3e}" for r in summary["risks"][k])
        )
    base = summary["constant_calibrated_on_n"]
    lines.append(
        f"level σ²/2 = {summary['level']:.3e}; ESTIMATE (not a bound) C = {summary['constant']:.3f}"
        + (f" calibrated on n = {base}" if base is not None else " (no n reached the level: C = 1)")
    )
    return "\n".join(lines)
