"""DeepONet training: data-driven, physics-informed (PI-DeepONet) and hybrid, on an
:class:`~pinnkit.equations.operator_data.OperatorDataset` (input functions at m sensors → solution on a grid).

Losses, each a mean over a mini-batch of B input functions u^(i) (weights ``w_*`` in ``config.weights``):

* data (Lu et al. 2021):   L_data = mean_{i,p} |G_θ(u^(i))(y_p) − s^(i)(y_p)|², P grid points y_p per step
  shared by the batch (Cartesian product, one trunk pass).
* physics (Wang, Wang & Perdikaris 2021, Sci. Adv. 7): no solution data, only the PDE of the operator problem
  (:class:`~pinnkit.equations.OperatorProblem`, by default the one that generated the data) for each u^(i):
    L_pde = mean_{i,r} |R[G_θ(u^(i))](x_r, t_r)|² with the problem's residual R at N_r uniform collocation points
      per function, derivatives with respect to the trunk input y = (x, t) (branch output is constant in y);
    L_initial = mean_{i,j} |G_θ(u^(i))(x_j, 0) − s_0^(i)(x_j)|² at the m sensors x_j (s_0 = u by default);
    L_boundary = mean_{i,l} |G(0, t_l) − G(L, t_l)|² + |∂_x G(0, t_l) − ∂_x G(L, t_l)|² (L-periodic in x;
      dropped when the net is exactly L-periodic in x through :class:`~pinnkit.nets.PeriodicEmbedding`).
  The assembly is :mod:`pinnkit.operator_losses`; no PDE is named here.
* hybrid: the sum of both (weighted).

Adam with learning rate ``lr · lr_decay^(step / decay_every)``; functions and points are drawn from a torch
generator seeded with ``config.seed`` (its state is part of the checkpoint, so a resumed run continues the
same sequence).  Accuracy on held-out functions: relative L2 ``‖G_θ(u) − s‖₂ / ‖s‖₂`` on the full output
grid of each function; we report the mean and the worst over the test set.  Checkpoints load with
``torch.load(..., weights_only=True)``; a NaN/inf loss raises :class:`~pinnkit.trainer.TrainingDiverged` with
the model restored to the last good state.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import Tensor

from pinnkit.equations.operator_data import OperatorDataset
from pinnkit.equations.operator_problems import OperatorProblem, operator_problem

from . import distributed, operator_losses
from .nets.deeponet import DeepONet
from .presets import DEEPONET
from .trainer import DTYPES
from .training.loop import Callback, TrainingLoop
from .training.stages import Adam
from .validation import check_choice, check_int, check_positive, check_range

__all__ = ["OperatorTrainConfig", "DeepONetTrainer", "relative_l2_per_function", "MODES"]

MODES = ("data", "physics", "hybrid")
TERMS = {"data": ("data",), "physics": ("pde", "initial", "boundary"), "hybrid": ("data", "pde", "initial", "boundary")}
CHECKPOINT_NAME = "deeponet_checkpoint.pt"


@dataclass
class OperatorTrainConfig:
    """Settings of :class:`DeepONetTrainer` (see the module docstring for the losses).

    Learning rate ``lr · lr_decay^(step / decay_every)``; per step ``batch_functions`` functions, with
    ``batch_points`` grid points (data), ``n_collocation`` residual points each, ``n_initial`` sensors (0 = all
    m) and ``n_boundary`` times (physics).  ``shared_points``: the functions of a batch share their collocation
    and boundary points (trunk and its y-derivatives computed once by forward-mode AD, then contracted with
    each branch output: B× cheaper); False draws independent points per function (reverse-mode autograd).  ``time_limit`` (s of training time) ends training early, after
    the step that crosses it (final log, evaluation and checkpoint included)."""

    mode: str = "data"
    steps: int = 5000
    lr: float = 1e-3
    lr_decay: float = DEEPONET["lr_decay"]
    decay_every: int = 1000
    batch_functions: int = 64
    batch_points: int = 512
    n_collocation: int = 128
    n_initial: int = 0
    n_boundary: int = 32
    shared_points: bool = True
    weights: Dict[str, float] = field(default_factory=dict)
    seed: int = 0
    dtype: str = "float32"
    log_every: int = 50
    eval_every: int = 0
    checkpoint_every: int = 1000
    checkpoint_dir: Optional[str] = None
    time_limit: Optional[float] = None
    progress: bool = True

    def validate(self) -> "OperatorTrainConfig":
        check_choice("mode", self.mode, MODES)
        check_int("steps", self.steps, 0)
        check_positive("lr", self.lr)
        check_range("lr_decay", self.lr_decay, 0.0, 1.0, low_open=True)
        for name in (
            "decay_every",
            "batch_functions",
            "batch_points",
            "n_collocation",
            "n_boundary",
            "log_every",
            "checkpoint_every",
        ):
            check_int(name, getattr(self, name), 1)
        check_int("n_initial", self.n_initial, 0)
        check_int("eval_every", self.eval_every, 0)
        check_int("seed", self.seed, 0, 2**63 - 1)
        check_choice("dtype", self.dtype, tuple(DTYPES))
        if not isinstance(self.shared_points, bool):
            raise ValueError(f"shared_points must be True or False, got {self.shared_points!r}")
        if self.time_limit is not None:
            check_positive("time_limit", self.time_limit)
        allowed = TERMS[self.mode]
        for k, w in self.weights.items():
            if k not in allowed:
                raise ValueError(f"weights has unknown term {k!r} for mode={self.mode!r}; terms are {allowed}")
            if not (
                isinstance(w, numbers.Real) and not isinstance(w, (bool, np.bool_)) and math.isfinite(w) and w >= 0
            ):
                raise ValueError(f"weights[{k!r}] must be a finite number >= 0, got {w!r}")
        self.weights = {k: float(w) for k, w in self.weights.items()}  # numpy scalars stored as plain floats
        return self


def relative_l2_per_function(pred: Tensor, true: Tensor) -> Tensor:
    """``‖pred_i − true_i‖₂ / ‖true_i‖₂`` for each row i of (n_functions, P) arrays."""
    return torch.linalg.vector_norm(pred - true, dim=1) / torch.linalg.vector_norm(true, dim=1)


class _Evaluate:
    """Mean and worst relative L2 on the test set, as a callback every ``every`` steps."""

    def __init__(self, dataset: OperatorDataset, every: int):
        self.dataset, self.every = dataset, every

    def __call__(self, trainer: "DeepONetTrainer") -> Dict[str, float]:
        r = trainer.evaluate(self.dataset)
        return {"mean_rel_l2": r["mean_rel_l2"], "max_rel_l2": r["max_rel_l2"]}


class DeepONetTrainer(TrainingLoop):
    """Trains ``model`` (a :class:`~pinnkit.nets.DeepONet` with one output) on ``train``; evaluates on ``test``.

    Runs on the training core (:class:`~pinnkit.training.TrainingLoop`): ``train()`` runs the remaining steps
    and returns the history (:mod:`pinnkit.training.history`: every ``log_every`` steps the step, cumulative
    training time in s, learning rate, weighted loss and unweighted terms; every ``eval_every`` steps, when a
    ``test`` set is given, ``mean_rel_l2`` and ``max_rel_l2`` under ``history["diagnostics"]``); ``callbacks``
    run every k steps; checkpoints carry the random stream, so a resumed run continues bit for bit.
    ``evaluate(dataset)`` returns the per-function errors and their mean, median and worst.
    ``problem``: the :class:`~pinnkit.equations.OperatorProblem` whose residual the physics terms use; default
    :func:`~pinnkit.equations.operator_problem` of ``train`` (the PDE that generated it).
    """

    checkpoint_name = CHECKPOINT_NAME
    sharded = True  # each rank on its block of the points (functions); terms summed over the ranks

    def __init__(
        self,
        model: DeepONet,
        train: OperatorDataset,
        test: Optional[OperatorDataset] = None,
        config: Optional[OperatorTrainConfig] = None,
        problem: Optional[OperatorProblem] = None,
        callbacks: Sequence[Callback] = (),
    ):
        self.config = cfg = (config or OperatorTrainConfig()).validate()
        self.dtype = DTYPES[cfg.dtype]
        if not isinstance(model, DeepONet):
            raise ValueError(f"model must be a pinnkit.nets.DeepONet, got {type(model).__name__}")
        if model.n_out != 1 or model.coord_dim != 2:
            raise ValueError(
                f"model must have n_out=1 and coord_dim=2 for (x, t) data, got n_out={model.n_out}, "
                f"coord_dim={model.coord_dim}"
            )
        m = train.inputs.shape[1]
        if model.m_sensors != m:
            raise ValueError(f"model.m_sensors must equal the dataset's number of sensors {m}, got {model.m_sensors}")
        n_train = train.inputs.shape[0]
        check_int("batch_functions", cfg.batch_functions, 1, n_train)
        group = distributed.init_from_env("cpu")  # under torchrun: join the launch's process group
        if group is not None and cfg.batch_functions < group.world_size:
            raise ValueError(
                f"batch_functions={cfg.batch_functions} cannot be split over {group.world_size} processes: give "
                f"batch_functions >= {group.world_size}"
            )
        if cfg.mode != "physics":
            check_int("batch_points", cfg.batch_points, 1, train.coords.shape[0])
        check_int("n_initial", cfg.n_initial, 0, m)
        if test is not None and test.inputs.shape[1] != m:
            raise ValueError(f"test must have the training data's {m} sensors, got {test.inputs.shape[1]}")
        if problem is None:
            problem = operator_problem(train)
        elif not isinstance(problem, OperatorProblem):
            raise ValueError(f"problem must be a pinnkit.equations.OperatorProblem, got {type(problem).__name__}")
        operator_losses.check_problem_for_model(problem, model, physics=cfg.mode != "data")
        self.problem = problem
        model = model.to(dtype=self.dtype)
        self.train_data, self.test_data = train, test
        as_t = lambda a: torch.as_tensor(np.asarray(a), dtype=self.dtype)  # noqa: E731
        self.u_train = as_t(train.inputs)
        self.sensors = as_t(train.sensors)
        self.coords = as_t(train.coords)
        self.s_train = as_t(train.solutions)
        # an L-periodic embedding makes u(0, t) = u(L, t) and u_x(0, t) = u_x(L, t) hold identically
        self.exact_periodic = operator_losses.exactly_periodic(model, problem)
        self.terms = [
            t
            for t in TERMS[cfg.mode]
            if not (t == "boundary" and self.exact_periodic) and not (t == "initial" and model.hard_initial)
        ]  # those hold exactly
        self.weights = {t: float(cfg.weights.get(t, 1.0)) for t in self.terms}
        cbs = list(callbacks)
        if test is not None and cfg.eval_every:
            cbs.append(_Evaluate(test, cfg.eval_every))
        super().__init__(
            model,
            callbacks=cbs,
            record_every=cfg.log_every,
            log_every=cfg.log_every,
            checkpoint_every=cfg.checkpoint_every,
            checkpoint_dir=cfg.checkpoint_dir,
            time_limit=cfg.time_limit,
            progress=cfg.progress,
            desc=f"DeepONet[{cfg.mode}]",
            seed=cfg.seed,
        )

    # ------------------------------------------------------------ what the core asks for
    def stages(self) -> Tuple[Adam]:
        c = self.config
        return (Adam(steps=c.steps, lr=c.lr, decay=c.lr_decay, every=c.decay_every),)

    def objective(self) -> Tuple[Tensor, Dict[str, Tensor]]:
        terms = self.loss_terms()
        return sum(self.weights[k] * v for k, v in terms.items()), terms

    def _rows(self) -> Optional[Tuple[int, int]]:
        """This process's block of the batch's functions under ``torchrun`` (None in one process): every rank
        draws the whole batch from the shared random stream and computes its losses on its block."""
        g = self.group
        return None if g is None else distributed.shard_range(self.config.batch_functions, g.rank, g.world_size)

    def config_dict(self) -> dict:
        return asdict(self.config)

    # ------------------------------------------------------------ sampling
    def _randperm(self, n: int, k: int) -> Tensor:
        return torch.randperm(n, generator=self.generator)[:k]

    def _uniform(self, *shape: int) -> Tensor:
        return torch.rand(*shape, generator=self.generator, dtype=self.dtype)

    # ------------------------------------------------------------ losses
    def data_loss(self, idx: Tensor, rows: Optional[Tuple[int, int]] = None) -> Tensor:
        """Mean squared error on ``batch_points`` grid points shared by the functions ``idx`` (those of
        ``idx[lo:hi]`` for ``rows = (lo, hi)``; the points are drawn the same either way)."""
        n_points = self.coords.shape[0]
        p = None if self.config.batch_points >= n_points else self._randperm(n_points, self.config.batch_points)
        if rows is not None:
            idx = idx[rows[0] : rows[1]]
        if p is None:  # every point: no permutation, no gather
            return torch.mean((self.model(self.u_train[idx], self.coords) - self.s_train[idx]) ** 2)
        pred = self.model(self.u_train[idx], self.coords[p])
        return torch.mean((pred - self.s_train[idx[:, None], p[None, :]]) ** 2)

    def residual(self, u: Tensor, y: Tensor, index: Tensor) -> Tensor:
        """The problem's residual of G_θ(u[index_r]) at each row y_r, shape (N,), derivatives by autograd in y."""
        return operator_losses.residual_independent(self.problem, self.model, u, y, index)

    def residual_shared(self, u: Tensor, y: Tensor) -> Tensor:
        """The problem's residual (B, N) of every function of u at the shared points y (N, 2): the trunk and its
        derivatives by forward-mode AD once, ``∂G(u)(y) = Σ_k b_k(u) ∂τ_k(y)``."""
        return operator_losses.residual_shared(self.problem, self.model, u, y)

    def physics_losses(self, idx: Tensor, rows: Optional[Tuple[int, int]] = None) -> Dict[str, Tensor]:
        """L_pde, L_initial and (unless exactly periodic) L_boundary for the functions ``idx``."""
        cfg = self.config
        return operator_losses.physics_losses(
            self.problem,
            self.model,
            self.u_train[idx],
            self.sensors,
            n_collocation=cfg.n_collocation,
            n_initial=cfg.n_initial,
            n_boundary=cfg.n_boundary,
            shared_points=cfg.shared_points,
            terms=self.terms,
            uniform=self._uniform,
            randperm=self._randperm,
            rows=rows,
        )

    def loss_terms(self) -> Dict[str, Tensor]:
        """Unweighted terms on a fresh mini-batch of ``batch_functions`` training functions."""
        idx = self._randperm(self.u_train.shape[0], self.config.batch_functions)
        rows = self._rows()
        terms: Dict[str, Tensor] = {}
        shard = {} if rows is None else {"rows": rows}
        if "data" in self.terms:
            terms["data"] = self.data_loss(idx, **shard)
        if self.config.mode != "data":
            terms.update(self.physics_losses(idx, **shard))
        if rows is not None:  # every term is a mean over the batch's functions: this rank's share of them
            share = (rows[1] - rows[0]) / self.config.batch_functions
            terms = self.reduce_terms(terms, {k: share for k in terms})
        return terms

    # ------------------------------------------------------------ evaluation
    @torch.no_grad()
    def predict(self, inputs: ArrayLike, coords: Optional[ArrayLike] = None, chunk: int = 100) -> np.ndarray:
        """G_θ(u)(y) for inputs (n, m) at coords (P, 2) (default: the training grid), as (n, P) numpy."""
        u = torch.as_tensor(np.asarray(inputs), dtype=self.dtype)
        y = self.coords if coords is None else torch.as_tensor(np.asarray(coords), dtype=self.dtype)
        out = [self.model(u[i : i + chunk], y) for i in range(0, u.shape[0], chunk)]
        return torch.cat(out).double().numpy()

    def evaluate(self, dataset: OperatorDataset) -> dict:
        """Relative L2 per function on the dataset's grid, with mean, median and worst (max)."""
        pred = torch.as_tensor(self.predict(dataset.inputs, dataset.coords))
        err = relative_l2_per_function(pred, torch.as_tensor(np.asarray(dataset.solutions, dtype=np.float64)))
        return {
            "rel_l2": err.numpy(),
            "mean_rel_l2": float(err.mean()),
            "median_rel_l2": float(err.median()),
            "max_rel_l2": float(err.max()),
        }
