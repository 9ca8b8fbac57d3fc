"""One operator-learning (DeepONet) experiment end to end: data, nets, training, test errors, plots, summary.

G: u0 ↦ u for viscous Burgers u_t + u u_x = ν u_xx (ν = 0.01) or heat u_t = κ u_xx (κ = 0.01, the default of
:mod:`pinnkit.equations.operator_data`), x ∈ [0, 1] periodic, t ∈ [0, 1], learned from solution data (Lu et al.
2021), from the PDE alone (PI-DeepONet, Wang, Wang & Perdikaris 2021) or from both, and evaluated on held-out
initial conditions (training functions from seed 1, test functions from seed 2).

Input functions (``grf``), zero-mean periodic GRFs at m = 101 sensors:

* ``wang2021`` (default): the covariance σ²(−Δ + τ² I)^{−γ}, γ = 4, τ = 5, σ = 25² of the PI-DeepONet Burgers
  data script (Wang, Wang & Perdikaris 2021, ``Burger/Data/gen_Burgers.m``).  In our parametrisation this is
  exactly a wrapped Matérn kernel with ν = γ − 1/2 = 7/2 and ℓ = √(2ν)/τ = √7/5 (spectral density
  ∝ (2ν/ℓ² + 4π²k²)^{−(ν+1/2)} = (25 + 4π²k²)^{−4}), with σ = 1.02271 before the mean is removed so that every
  Fourier mode has their variance 2·625²(4π²k² + 25)^{−4} (pointwise std 0.214).  This is the setting of the
  published 1.4% PI-DeepONet error.
* ``matern32``: a much rougher field, Matérn ν = 3/2, ℓ = √3/5 (the shape of 625(−Δ + 25 I)^{−2} of Li et al.
  2021), σ = 1 (pointwise std ≈ 0.51): steep shocks (|u_x| up to ≈ 110 at ν = 0.01).

:func:`run` writes summary.json (errors, wall times, configuration, seed, versions), history_<mode>.json,
predictions_<mode>.png (true, predicted and error for the best, median and worst test function) and
error_histogram.png, with a checkpoint per mode under ``checkpoint_<mode>/`` (``resume=True`` continues from it).
Used by ``pinnkit deeponet``, ``examples/deeponet_burgers.py`` and ``benchmarks/deeponet_vs_deepxde.py``.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import time
from dataclasses import asdict, dataclass, replace
from typing import Callable, Dict, Optional, Tuple

import numpy as np
import torch
from matplotlib.figure import Figure

from . import distributed  # noqa: E402
from .equations.operator_data import (  # noqa: E402
    OperatorDataset,
    dataset_config,
    default_cache_dir,
    generation_bytes,
    make_dataset,
)
from .nets.deeponet import DeepONet  # noqa: E402
from .operator_trainer import CHECKPOINT_NAME, DeepONetTrainer, OperatorTrainConfig  # noqa: E402
from .preflight import check_fresh_start, check_memory, check_output_dir  # noqa: E402
from .presets import DEEPONET  # noqa: E402
from .validation import check_bool, check_choice, check_int, check_nonnegative, check_positive  # noqa: E402
from .versions import versions  # noqa: E402

__all__ = [
    "GRFS",
    "PDES",
    "RUN_MODES",
    "NU",
    "DEFAULT_STEPS",
    "OperatorRunConfig",
    "operator_data",
    "make_net",
    "make_config",
    "plot_predictions",
    "plot_error_histogram",
    "format_result",
    "run",
]

GRFS = {
    "wang2021": {
        "kernel": "matern",
        "nu": 3.5,
        "length_scale": round(math.sqrt(7) / 5, 6),
        "sigma": 1.02271,
        "zero_mean": True,
    },
    "matern32": {
        "kernel": "matern",
        "nu": 1.5,
        "length_scale": round(math.sqrt(3) / 5, 4),
        "sigma": 1.0,
        "zero_mean": True,
    },
}
PDES = ("burgers", "heat")
RUN_MODES = ("data", "physics", "hybrid", "both")  # both: data, then physics
NU = 0.01
SEED_MAX = 2**63 - 1
THREADS_MAX = 4096
#: the allocation estimate of :meth:`OperatorRunConfig.memory_bytes` is multiplied by this
MEMORY_FACTOR = 2
# the run's tuned settings and their measured results: pinnkit.presets.DEEPONET
#: Adam steps per mode when none are given
DEFAULT_STEPS: Dict[str, int] = dict(DEEPONET["steps"])
#: functions per step when batch_functions is not given (capped at n_train)
DEFAULT_BATCH_FUNCTIONS: Dict[str, int] = dict(DEEPONET["batch_functions"])
DEFAULT_BATCH_POINTS: int = DEEPONET[
    "batch_points"
]  # grid points per function per step (data, hybrid), capped at nx·nt
_NET = DEEPONET["net"]


def _modes(mode: str) -> Tuple[str, ...]:
    return ("data", "physics") if mode == "both" else (mode,)


# ---------------------------------------------------------------- data and nets
def operator_data(
    pde: str = "burgers",
    n_train: int = 1000,
    n_test: int = 100,
    *,
    grf: str = "wang2021",
    m_sensors: int = 101,
    nx: int = 101,
    nt: int = 101,
    cache_dir: Optional[str] = None,
    progress: bool = True,
) -> Tuple[OperatorDataset, OperatorDataset]:
    """Training (seed 1) and test (seed 2) data sets for ``pde`` with inputs from the preset ``grf``
    (Burgers: ν = 0.01; heat: the default κ of ``make_dataset``), cached under a content hash."""
    kw = _data_kwargs(pde, grf, m_sensors, nx, nt)
    return (
        make_dataset(pde, n_train, seed=1, cache_dir=cache_dir, progress=progress, **kw),
        make_dataset(pde, n_test, seed=2, cache_dir=cache_dir, progress=progress, **kw),
    )


def _data_kwargs(pde: str, grf: str, m_sensors: int, nx: int, nt: int) -> dict:
    check_choice("pde", pde, PDES)
    check_choice("grf", grf, tuple(GRFS))
    kw = dict(m_sensors=m_sensors, nx=nx, nt=nt, grf=GRFS[grf])
    if pde == "burgers":
        kw["nu"] = NU
    return kw


def make_net(
    m: int = 101,
    hard_initial: bool = False,
    *,
    q: int = _NET["q"],
    width: int = _NET["width"],
    depth: int = _NET["depth"],
    periodic_modes: int = _NET["periodic_modes"],
    trunk_output_activation: bool = False,
    seed: int = 0,
) -> DeepONet:
    """Branch and trunk tanh MLPs (``depth`` hidden layers of ``width``), q = 100; the trunk sees x through an
    exactly 1-periodic embedding (``periodic_modes`` harmonics); ``hard_initial``: G(u)(x, t) = g_u(x) +
    t·N(u)(x, t), g_u the trigonometric interpolant of the sensors."""
    return DeepONet(
        m,
        2,
        q=q,
        branch_width=width,
        branch_depth=depth,
        trunk_width=width,
        trunk_depth=depth,
        periodic=(1.0, periodic_modes),
        trunk_output_activation=trunk_output_activation,
        hard_initial=hard_initial,
        seed=seed,
    )


def _seconds(minutes: Optional[float]) -> Optional[float]:
    """The time limit in s of ``minutes`` (None, or so large that it overflows: no limit)."""
    if minutes is None:
        return None
    seconds = 60.0 * float(minutes)
    return seconds if math.isfinite(seconds) else None


def make_config(
    mode: str,
    steps: int,
    minutes: Optional[float],
    out: str,
    *,
    lr: float = DEEPONET["lr"],
    lr_decay: float = DEEPONET["lr_decay"],
    decay_every: Optional[int] = None,
    batch_functions: Optional[int] = None,
    batch_points: int = DEFAULT_BATCH_POINTS,
    n_collocation: int = DEEPONET["n_collocation"],
    initial_weight: float = DEEPONET["initial_weight"],
    seed: int = 0,
    progress: bool = True,
) -> OperatorTrainConfig:
    """Training settings of one mode (validated; defaults :data:`pinnkit.presets.DEEPONET`): Adam at ``lr``,
    decayed by ``lr_decay`` every ``decay_every`` steps (default steps/20); ``batch_functions`` functions per step (default 64 data, 32 physics/hybrid) with
    ``batch_points`` grid points each (data, hybrid) or ``n_collocation`` residual points and initial-condition
    weight ``initial_weight`` (physics, hybrid); evaluation and checkpoint every steps/10 in ``out``/
    checkpoint_<mode>; stops after ``steps`` or ``minutes`` (None: no limit), whichever comes first."""
    check_choice("mode", mode, ("data", "physics", "hybrid"))
    check_int("steps", steps, 1)
    common = dict(
        steps=steps,
        time_limit=_seconds(minutes),
        eval_every=max(steps // 10, 1),
        log_every=100,
        checkpoint_every=max(steps // 10, 1),
        checkpoint_dir=os.path.join(out, f"checkpoint_{mode}"),
        seed=seed,
        progress=progress,
        lr=lr,
        lr_decay=lr_decay,
        decay_every=max(steps // DEEPONET["decays"], 1) if decay_every is None else decay_every,
        batch_functions=DEFAULT_BATCH_FUNCTIONS[mode] if batch_functions is None else batch_functions,
    )
    if mode == "data":
        cfg = OperatorTrainConfig(mode="data", batch_points=batch_points, **common)
    elif mode == "physics":
        cfg = OperatorTrainConfig(
            mode="physics", n_collocation=n_collocation, weights={"initial": initial_weight}, **common
        )
    else:
        cfg = OperatorTrainConfig(
            mode="hybrid",
            batch_points=batch_points,
            n_collocation=n_collocation,
            weights={"initial": initial_weight},
            **common,
        )
    return cfg.validate()


# ---------------------------------------------------------------- plots
def plot_predictions(
    trainer: DeepONetTrainer, test: OperatorDataset, errors: np.ndarray, path: str, title: str
) -> None:
    """True, predicted and error fields and three time slices for the best, median and worst test function."""
    nt, nx = test.grid_shape
    order = np.argsort(errors)
    picks = [order[0], order[len(order) // 2], order[-1]]  # best, median, worst
    pred = trainer.predict(test.inputs[picks]).reshape(-1, nt, nx)
    true = test.solutions_grid()[picks]
    fig = Figure(figsize=(15, 9.5))
    axes = fig.subplots(3, 4)
    x = np.linspace(0, 1, nx)
    extent = (0, 1, 0, float(test.config["t_final"]))
    for row, (i, p, s) in enumerate(zip(picks, pred, true)):
        lim = np.abs(s).max()
        for col, (field, name) in enumerate(((s, "true"), (p, "DeepONet"), (p - s, "error"))):
            ax = axes[row, col]
            im = ax.imshow(
                field,
                origin="lower",
                aspect="auto",
                extent=extent,
                cmap="RdBu_r",
                vmin=-lim if col < 2 else None,
                vmax=lim if col < 2 else None,
            )
            ax.set_title(f"test fn {i}: {name}" + (f" (rel L2 {errors[i]:.2%})" if col == 1 else ""))
            ax.set_xlabel("x"), ax.set_ylabel("t")
            fig.colorbar(im, ax=ax)
        ax = axes[row, 3]
        for k, c in zip((0, nt // 2, nt - 1), ("k", "C0", "C3")):
            ax.plot(x, s[k], c, lw=1.5, label=f"true t={k / (nt - 1):.1f}")
            ax.plot(x, p[k], c + "--", lw=1.2, label="DeepONet")
        ax.set_xlabel("x"), ax.legend(fontsize=6)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_error_histogram(errors: Dict[str, np.ndarray], path: str) -> None:
    """Histogram of the per-test-function relative L2 errors of each mode."""
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for mode, e in errors.items():
        ax.hist(e, bins=25, alpha=0.6, label=f"{mode}: mean {e.mean():.2%}")
    ax.set_xlabel("relative L2 error per test function"), ax.set_ylabel("count"), ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


# ---------------------------------------------------------------- the experiment
@dataclass
class OperatorRunConfig:
    """One experiment.  ``mode`` in data|physics|hybrid|both (both: data, then physics); ``steps`` per mode
    (None: 100000 data and physics, 40000 hybrid) and ``minutes`` per mode (None: no limit), whichever ends first;
    ``grf`` a key of :data:`GRFS`; ``hard_initial`` (default on) applies to physics and hybrid; ``seed`` seeds the nets and
    the mini-batches (the data seeds are fixed: 1 training, 2 test); ``threads`` torch threads for the run
    (0: leave as is, at most 4096); ``out`` default runs/deeponet-<pde>; ``resume``: continue each mode from its
    checkpoint; ``overwrite``: a run without ``resume`` may replace the checkpoints an earlier run left in ``out``
    (without it, such a run is refused before any work).
    The hyper-parameters are those of :func:`make_config` and :func:`make_net`; ``batch_functions`` and
    ``batch_points`` left as None take the mode's default capped at n_train and nx·nt. Defaults:
    :data:`pinnkit.presets.DEEPONET`."""

    pde: str = "burgers"
    mode: str = "both"
    grf: str = "wang2021"
    steps: Optional[int] = None
    minutes: Optional[float] = DEEPONET["minutes"]
    n_train: int = 1000
    n_test: int = 100
    m_sensors: int = 101
    nx: int = 101
    nt: int = 101
    hard_initial: bool = DEEPONET["hard_initial"]
    seed: int = 0
    threads: int = 0
    out: Optional[str] = None
    resume: bool = False
    overwrite: bool = False
    progress: bool = True
    cache_dir: Optional[str] = None
    lr: float = DEEPONET["lr"]
    lr_decay: float = DEEPONET["lr_decay"]
    decay_every: Optional[int] = None
    batch_functions: Optional[int] = None
    batch_points: Optional[int] = None
    n_collocation: int = DEEPONET["n_collocation"]
    initial_weight: float = DEEPONET["initial_weight"]
    width: int = _NET["width"]
    depth: int = _NET["depth"]
    q: int = _NET["q"]

    def validate(self) -> "OperatorRunConfig":
        """Check every setting (names the parameter and its allowed values) before any work: types and ranges
        (numpy scalars count as numbers, bools do not; numbers are stored back as plain int/float), the output
        and cache directories (writable, no file in the way), an estimate of the memory the run allocates, and
        that a run without ``resume`` or ``overwrite`` does not replace an earlier run's checkpoint in ``out``.
        Fills in ``out``."""
        self.pde = str(check_choice("pde", self.pde, PDES))
        self.mode = str(check_choice("mode", self.mode, RUN_MODES))
        self.grf = str(check_choice("grf", self.grf, tuple(GRFS)))
        for name in ("hard_initial", "resume", "overwrite", "progress"):
            setattr(self, name, check_bool(name, getattr(self, name)))
        if self.steps is not None:
            self.steps = check_int("steps", self.steps, 1)
        if self.minutes is not None:
            self.minutes = check_positive("minutes", self.minutes)
        self.n_train = check_int("n_train", self.n_train, 1)
        self.n_test = check_int("n_test", self.n_test, 1)
        self.m_sensors = check_int("m_sensors", self.m_sensors, 4)
        self.nx = check_int("nx", self.nx, 2)
        self.nt = check_int("nt", self.nt, 2)
        self.seed = check_int("seed", self.seed, 0, SEED_MAX)
        self.threads = check_int("threads", self.threads, 0, THREADS_MAX)
        self.lr = check_positive("lr", self.lr)
        if _is_number(self.lr_decay):  # the range is make_config's
            try:
                self.lr_decay = float(self.lr_decay)
            except OverflowError:  # an int such as 10**400
                raise ValueError(f"lr_decay must be a finite number in (0, 1], got {self.lr_decay!r}") from None
        self.initial_weight = check_nonnegative("initial_weight", self.initial_weight)
        self.n_collocation = check_int("n_collocation", self.n_collocation, 1)
        if self.decay_every is not None:
            self.decay_every = check_int("decay_every", self.decay_every, 1)
        for name in ("width", "depth", "q"):
            setattr(self, name, check_int(name, getattr(self, name), 1))
        if self.batch_functions is not None:
            self.batch_functions = check_int("batch_functions", self.batch_functions, 1, self.n_train)
        if self.batch_points is not None:
            self.batch_points = check_int("batch_points", self.batch_points, 1, self.nx * self.nt)
        if self.out is None:
            self.out = os.path.join("runs", f"deeponet-{self.pde}")
        self.out = check_output_dir("out", self.out)
        if self.cache_dir is not None:
            self.cache_dir = check_output_dir("cache_dir", self.cache_dir)
        else:
            check_output_dir("PINNKIT_CACHE", default_cache_dir())
        self.check_memory()
        # the data sets' grids and the GRF, without generating anything
        dataset_config(self.pde, self.n_train, **_data_kwargs(self.pde, self.grf, self.m_sensors, self.nx, self.nt))
        for mode in _modes(self.mode):
            cfg = self.train_config(mode)  # validates the hyper-parameters of every mode to run
            check_fresh_start(
                os.path.join(cfg.checkpoint_dir, CHECKPOINT_NAME),
                resume=self.resume,
                overwrite=self.overwrite,
                resume_hint="--resume",
                overwrite_hint="--overwrite",
            )
        return self

    # ------------------------------------------------------------ memory
    def memory_bytes(self, **sizes: int) -> int:
        """An estimate (before :data:`MEMORY_FACTOR`) of the bytes the run allocates with these settings
        (``sizes`` replace fields): both data sets' generation (float64 inputs n × m_sensors and solutions
        n × nx·nt, the solvers' work arrays, :func:`~pinnkit.equations.operator_data.generation_bytes`), their
        float32 copies for training, the evaluation of the test set, the net's parameters with their gradients,
        Adam moments and checkpoint copies, and the activations of one training step."""
        v = {name: getattr(self, name) for name in _SIZES}
        v.update(sizes)
        n_train, n_test, m, nx, nt = v["n_train"], v["n_test"], v["m_sensors"], v["nx"], v["nt"]
        width, depth, q, n_col = v["width"], v["depth"], v["q"], v["n_collocation"]
        p = nx * nt
        n_solve = None
        if self.pde == "burgers":  # default_n_solve(m, NU) in exact integers: the power of two >= max(m, 512)
            n_solve = 1 << (max(m, round(5.12 / NU)) - 1).bit_length()
        data = generation_bytes(self.pde, n_train, m, nx, nt, n_solve) + generation_bytes(
            self.pde, n_test, m, nx, nt, n_solve
        )
        f4 = 4
        tensors = (n_train + n_test) * (m + p) * f4 + 2 * p * f4
        evaluation = max(n_test, 100) * p * (f4 + 8 + 8 + 8) + 3 * p * width * f4  # predictions; trunk pass
        trunk_in = 2 * _NET["periodic_modes"] + 1
        params = (m + 1) * width + 2 * (depth - 1) * (width + 1) * width + 2 * (width + 1) * q + trunk_in * width
        weights = 6 * params * f4  # parameters, gradients, two Adam moments, two checkpoint copies
        bf = min(self.batch_functions or max(DEFAULT_BATCH_FUNCTIONS.values()), n_train)
        bp = self.batch_points if self.batch_points is not None else min(DEFAULT_BATCH_POINTS, p)
        step = 4 * (bf * bp + bp * width * (depth + 1)) * f4  # data: values and gradients
        step += 12 * (bf * n_col + n_col * width * (depth + 1)) * f4  # physics: residual jets
        step += 4 * bf * (m + width * (depth + 1)) * f4  # branch
        return data + tensors + evaluation + weights + step

    def check_memory(self) -> None:
        """Refuse a run whose :meth:`memory_bytes` (× :data:`MEMORY_FACTOR`) exceeds what this machine has,
        naming the size that, put back to its default, saves the most."""
        total = MEMORY_FACTOR * self.memory_bytes()
        best, saved = "n_train", -1
        for name, default in _SIZES.items():
            alt = min(getattr(self, name), default)
            s = total - MEMORY_FACTOR * self.memory_bytes(**{name: alt})
            if s > saved:
                best, saved = name, s
        check_memory(best, getattr(self, best), min(total, 10**300), "this DeepONet run")

    def mode_steps(self, mode: str) -> int:
        return DEFAULT_STEPS[mode] if self.steps is None else self.steps

    def train_config(self, mode: str) -> OperatorTrainConfig:
        """The trainer settings of ``mode``."""
        bf = self.batch_functions
        if bf is None:
            bf = min(DEFAULT_BATCH_FUNCTIONS[mode], self.n_train)
        bp = self.batch_points if self.batch_points is not None else min(DEFAULT_BATCH_POINTS, self.nx * self.nt)
        return make_config(
            mode,
            self.mode_steps(mode),
            self.minutes,
            self.out or "",
            lr=self.lr,
            lr_decay=self.lr_decay,
            decay_every=self.decay_every,
            batch_functions=bf,
            batch_points=bp,
            n_collocation=self.n_collocation,
            initial_weight=self.initial_weight,
            seed=self.seed,
            progress=self.progress,
        )

    def net(self, mode: str) -> DeepONet:
        """A fresh net for ``mode`` (seeded by ``seed``)."""
        return make_net(
            self.m_sensors,
            hard_initial=self.hard_initial and mode != "data",
            q=self.q,
            width=self.width,
            depth=self.depth,
            seed=self.seed,
        )


#: the sizes the memory estimate depends on, with their defaults
_SIZES: Dict[str, int] = {
    "n_train": 1000,
    "n_test": 100,
    "m_sensors": 101,
    "nx": 101,
    "nt": 101,
    "width": _NET["width"],
    "depth": _NET["depth"],
    "q": _NET["q"],
    "n_collocation": DEEPONET["n_collocation"],
}


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


_LABELS = {
    "data": "data-driven DeepONet",
    "physics": "physics-informed DeepONet (no solution data)",
    "hybrid": "hybrid DeepONet (data + PDE)",
}


def format_result(mode: str, r: dict) -> str:
    """One line: test errors, steps and training time of a mode's entry in ``summary["runs"]``."""
    return (
        f"{mode}: test rel L2 mean {r['mean_rel_l2']:.3%}, median {r['median_rel_l2']:.3%}, worst "
        f"{r['max_rel_l2']:.3%}; {r['steps']} steps in {r['train_seconds']:.1f} s ({r['it_per_s']:.0f} it/s)"
    )


def _head(data: OperatorDataset, n: int) -> OperatorDataset:
    """The first n functions of a data set (same grids)."""
    return replace(data, inputs=data.inputs[:n], solutions=data.solutions[:n])


def run(config: Optional[OperatorRunConfig] = None, log: Optional[Callable[[str], None]] = None, **overrides) -> dict:
    """Run the experiment ``config`` (fields replaced by ``overrides``) and return the summary it writes to
    ``out``/summary.json.  Bad settings raise ValueError before any data generation or training.  ``log``
    receives one line per finished mode (:func:`format_result`)."""
    cfg = replace(config or OperatorRunConfig(), **overrides).validate()
    out = cfg.out
    start = time.perf_counter()
    previous_threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    try:
        os.makedirs(out, exist_ok=True)
        train, test = operator_data(
            cfg.pde,
            cfg.n_train,
            cfg.n_test,
            grf=cfg.grf,
            m_sensors=cfg.m_sensors,
            nx=cfg.nx,
            nt=cfg.nt,
            cache_dir=cfg.cache_dir,
            progress=cfg.progress,
        )
        coefficient = {"nu": NU} if cfg.pde == "burgers" else {"kappa": float(train.config["kappa"])}
        summary = {
            "pde": cfg.pde,
            **coefficient,
            "grf_name": cfg.grf,
            "grf": GRFS[cfg.grf],
            "n_train": int(train.inputs.shape[0]),
            "n_test": int(test.inputs.shape[0]),
            "data_seconds": time.perf_counter() - start,
            "threads": torch.get_num_threads(),
            "seed": cfg.seed,
            "data_seeds": {"train": 1, "test": 2},
            "config": asdict(cfg),
            "versions": versions(),
            "runs": {},
        }
        files = []
        errors = {}
        for mode in _modes(cfg.mode):
            t_mode = time.perf_counter()
            net = cfg.net(mode)
            trainer = DeepONetTrainer(net, train, test, cfg.train_config(mode))
            resumed_from = None
            if cfg.resume and trainer.checkpoint_path and os.path.isfile(trainer.checkpoint_path):
                try:
                    trainer.load_checkpoint()
                except RuntimeError as exc:  # load_state_dict: another net (width, depth, q, m, hard_initial)
                    raise ValueError(
                        f"checkpoint {trainer.checkpoint_path} does not fit this run's net ({exc}); "
                        "remove it or run without resume"
                    ) from exc
                resumed_from = trainer.step
            history = trainer.train()
            r = trainer.evaluate(test)
            errors[mode] = r["rel_l2"]
            train_seconds = history["time"][-1]
            summary["runs"][mode] = {
                "mean_rel_l2": r["mean_rel_l2"],
                "median_rel_l2": r["median_rel_l2"],
                "max_rel_l2": r["max_rel_l2"],
                "steps": trainer.step,
                "train_seconds": train_seconds,
                "it_per_s": trainer.step / train_seconds,
                "resumed_from_step": resumed_from,
                "parameters": net.n_parameters(),
                "net": net.config,
                "train_config": asdict(trainer.config),
                "train_mean_rel_l2_first100": trainer.evaluate(_head(train, 100))["mean_rel_l2"],
            }
            paths = {
                "history": os.path.join(out, f"history_{mode}.json"),
                "predictions": os.path.join(out, f"predictions_{mode}.png"),
            }
            summary["runs"][mode]["checkpoint"] = trainer.checkpoint_path
            files += [paths["history"], paths["predictions"], trainer.checkpoint_path]
            if not distributed.is_main(trainer.group):  # under torchrun rank 0 writes and prints for the run
                continue
            with open(paths["history"], "w") as fh:
                json.dump(history, fh)
            coef = f"ν={NU}" if cfg.pde == "burgers" else f"κ={coefficient['kappa']:g}"
            plot_predictions(
                trainer,
                test,
                r["rel_l2"],
                paths["predictions"],
                f"{cfg.pde.capitalize()} {coef}: {_LABELS[mode]}, mean test rel L2 {r['mean_rel_l2']:.2%}",
            )
            summary["runs"][mode]["wall_seconds"] = time.perf_counter() - t_mode
            if log is not None:
                log(format_result(mode, summary["runs"][mode]))
        histogram = os.path.join(out, "error_histogram.png")
        if not distributed.is_main():
            return summary
        plot_error_histogram(errors, histogram)
        summary_path = os.path.join(out, "summary.json")
        summary["files"] = sorted(files + [histogram, summary_path])
        summary["wall_seconds"] = time.perf_counter() - start
        with open(summary_path, "w") as fh:
            json.dump(summary, fh, indent=1)
        return summary
    finally:
        torch.set_num_threads(previous_threads)
