"""PINN trainer on the training core (:mod:`pinnkit.training`): the first-order stage with its schedule,
then L-BFGS / dense BFGS / self-scaled BFGS; callbacks every k steps; checkpoints that resume the same run;
a divergence guard. What is PINN-specific lives here: the loss of a problem on the sampler's points
(:func:`pinnkit.losses.loss_terms`), the compiled objective, gradient balancing of the condition weights and
the sampler's rounds (adaptive points are part of the checkpoint).

The trainer knows optimisation and nothing about a particular PDE: the problem supplies the loss terms
through :func:`pinnkit.losses.loss_terms`, the sampler the points.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from . import distributed
from .derivatives import METHODS, Fields
from .losses import loss_terms, point_residuals, total_loss
from .run_options import check_device
from .sampling import Batch, Sampler
from .training.balance import BALANCE_RULES, Balance, GradientBalance, NTKBalance, as_balance
from .training.causal import CausalWeighting, as_causal
from .training.divergence import TrainingDiverged
from .training.loop import Callback, TrainingLoop
from .training.stages import FIRST_ORDER, QUASI_NEWTON, FirstOrder, Stage, first_order, quasi_newton
from .validation import check_choice, check_int, check_nonnegative, check_positive, check_range

if TYPE_CHECKING:
    from pinnkit.equations import Problem

__all__ = ["TrainConfig", "PINNTrainer", "TrainingDiverged", "Callback", "DTYPES"]

DTYPES = {"float32": torch.float32, "float64": torch.float64}
BALANCE = BALANCE_RULES
CHECKPOINT_NAME = "checkpoint.pt"


@dataclass
class TrainConfig:
    """Optimisation settings (the sampler holds the point settings).

    The stages: ``stages`` (a sequence of :mod:`pinnkit.training.stages` objects) when given; otherwise the
    shortcut fields build them: ``optimizer`` (``"adam"``/``"sgd"``) for ``adam_steps`` steps at learning
    rate ``lr · lr_decay^(s / decay_every)``, then ``quasi_newton`` (``"lbfgs"``/``"bfgs"``/``"ssbfgs"``) for
    ``lbfgs_steps`` iterations in chunks of ``lbfgs_chunk``. ``balance``: a
    :class:`~pinnkit.training.balance.GradientBalance`, an :class:`~pinnkit.training.balance.NTKBalance` or
    a rule name (``"max-mean"``, ``"norm"``, ``"ntk"``, with ``balance_every``, ``balance_alpha``).
    ``causal``: causal weighting of the PDE residual in time (:class:`~pinnkit.training.causal.CausalWeighting`,
    ``True`` for its defaults, or ε / an ε schedule) during the first-order stages. ``time_limit``: seconds of training time after which the run ends.
    """

    adam_steps: int = 2000
    lbfgs_steps: int = 500
    lr: float = 1e-3
    lr_decay: float = 0.9
    decay_every: int = 1000
    optimizer: str = "adam"
    quasi_newton: str = "lbfgs"
    lbfgs_history: int = 50
    lbfgs_chunk: int = 20
    weights: Dict[str, float] = field(default_factory=dict)
    grad_penalty: float = 0.0
    gpinn_penalty: float = 0.0
    balance: Union[None, str, Balance] = None
    balance_every: int = 100
    balance_alpha: float = 0.1
    causal: Union[None, bool, float, Tuple[float, ...], CausalWeighting] = None
    method: str = "autograd"
    compile: bool = False
    dtype: str = "float32"
    device: str = "cpu"
    log_every: int = 50
    checkpoint_every: int = 500
    checkpoint_dir: Optional[str] = None
    progress: bool = True
    time_limit: Optional[float] = None
    stages: Optional[Tuple[Stage, ...]] = None

    def validate(self) -> "TrainConfig":
        check_int("adam_steps", self.adam_steps, 0)
        check_int("lbfgs_steps", self.lbfgs_steps, 0)
        check_positive("lr", self.lr)
        check_range("lr_decay", self.lr_decay, 0.0, 1.0, low_open=True)
        check_int("decay_every", self.decay_every, 1)
        check_choice("optimizer", self.optimizer, tuple(FIRST_ORDER))
        check_choice("quasi_newton", self.quasi_newton, tuple(QUASI_NEWTON))
        as_balance(self.balance, self.balance_every, self.balance_alpha)
        self.causal = as_causal(self.causal)
        check_int("balance_every", self.balance_every, 1)
        check_range("balance_alpha", self.balance_alpha, 0.0, 1.0, low_open=True)
        check_int("lbfgs_history", self.lbfgs_history, 1)
        check_int("lbfgs_chunk", self.lbfgs_chunk, 1)
        check_choice("method", self.method, METHODS)
        check_choice("dtype", self.dtype, tuple(DTYPES))
        check_int("log_every", self.log_every, 1)
        for name in ("compile", "progress"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        check_int("checkpoint_every", self.checkpoint_every, 1)
        if self.time_limit is not None:
            check_positive("time_limit", self.time_limit)
        for name in ("grad_penalty", "gpinn_penalty"):
            setattr(self, name, check_nonnegative(name, getattr(self, name)))
        if not isinstance(self.weights, Mapping):
            raise ValueError(f"weights must be a mapping of condition names to weights, got {self.weights!r}")
        self.weights = {k: check_nonnegative(f"weights[{k!r}]", w) for k, w in self.weights.items()}
        if self.checkpoint_dir is not None and (
            not isinstance(self.checkpoint_dir, (str, os.PathLike)) or not str(os.fspath(self.checkpoint_dir)).strip()
        ):
            raise ValueError(f"checkpoint_dir must be None or a directory path, got {self.checkpoint_dir!r}")
        if self.stages is not None:
            try:  # a 0-d array or tensor has __iter__ but cannot be iterated
                stages = None if isinstance(self.stages, (Stage, str, bytes, Mapping)) else tuple(self.stages)
            except TypeError:
                stages = None
            if not stages or not all(isinstance(s, Stage) for s in stages):
                raise ValueError(
                    "stages must be a non-empty sequence of pinnkit.training stages (Adam(...), "
                    f"LBFGS(...), SSBFGS(...), ...), got {self.stages!r}"
                )
            self.stages = tuple(s.validate() for s in stages)
        self.device = check_device("device", self.device)
        return self

    def stage_list(self) -> Tuple[Stage, ...]:
        """The run's stages: ``stages`` if given, else the ones the shortcut fields describe."""
        if self.stages is not None:
            return tuple(self.stages)
        return (
            first_order(self.optimizer, self.adam_steps, self.lr, self.lr_decay, self.decay_every),
            quasi_newton(self.quasi_newton, self.lbfgs_steps, self.lbfgs_chunk, self.lbfgs_history),
        )

    def as_dict(self) -> Dict[str, Any]:
        """A JSON-ready dict of every setting, the resolved stages included."""
        d = {k: v for k, v in asdict(self).items() if k not in ("stages", "balance", "causal")}
        b = self.balance
        d["balance"] = {**asdict(b), "rule": b.rule} if isinstance(b, (GradientBalance, NTKBalance)) else b
        d["causal"] = self.causal.as_dict() if isinstance(self.causal, CausalWeighting) else self.causal
        d["stages"] = [s.as_dict() for s in self.stage_list()]
        return d


class PINNTrainer(TrainingLoop):
    """Trains ``model`` on ``problem`` with points from ``sampler``.

    ``trainer.train()`` runs the remaining steps (all of them on a fresh trainer, the rest after
    :meth:`load_checkpoint`) and returns the history (:mod:`pinnkit.training.history`): per step the
    step, stage, cumulative training time (s), learning rate, weighted loss and every unweighted term; per
    callback call the values it returned, under ``history["diagnostics"][name]`` as ``[step, value]`` pairs.
    """

    checkpoint_name = CHECKPOINT_NAME
    sharded = True  # each rank on its block of the points (functions); terms summed over the ranks

    def __init__(
        self,
        problem: Problem,
        model: nn.Module,
        sampler: Sampler,
        config: Optional[TrainConfig] = None,
        callbacks: Sequence[Callback] = (),
    ):
        self.problem = problem
        self.config = cfg = (config or TrainConfig()).validate()
        self.dtype = DTYPES[cfg.dtype]
        group = distributed.init_from_env(cfg.device)  # under torchrun: join the launch's process group
        self.device = torch.device(cfg.device)
        if group is not None and self.device.type == "cuda" and self.device.index is None:
            self.device = torch.device("cuda", group.local_rank)  # one GPU per process under torchrun
        if group is not None:
            _check_shardable(sampler, problem, group)
        model = model.to(device=self.device, dtype=self.dtype)
        self.sampler = sampler
        unknown = set(cfg.weights) - {"pde"} - {c.name for c in problem.conditions()}
        if unknown:
            names = ["pde"] + [c.name for c in problem.conditions()]
            raise ValueError(f"weights has unknown term(s) {sorted(unknown)}; terms are {names}")
        self._round: Optional[int] = None
        self.batch: Optional[Batch] = None
        self._plans: Dict[str, frozenset] = {}  # derivative plans of the taylor engine, per loss term
        self._compiled = None  # the compiled objective; False once compilation failed or when it cannot help
        if cfg.compile and not (cfg.method == "taylor" and getattr(model, "supports_jet", False)):
            # nested autograd (double backward) cannot be compiled: tracing it would only add minutes
            warnings.warn(
                "compile=True needs method='taylor' and a net with a Taylor-mode rule (pinnkit.nets.MLP "
                "with tanh/sin/sigmoid/softplus/silu, no output transform); training runs eagerly",
                stacklevel=2,
            )
            self._compiled = False
        self.balance_weights: Dict[str, float] = {}  # condition weights set by gradient balancing
        if cfg.causal is not None and not problem.time_dependent:
            raise ValueError(
                f"causal weighting orders the residual in time, but {problem.name} is steady; "
                "give causal=None for a problem without time"
            )
        if cfg.causal is not None and cfg.compile and self._compiled is None:
            warnings.warn("causal weighting changes its weights every step: training runs eagerly", stacklevel=2)
            self._compiled = False
        self.causal_stage = 0  # position in the causal ε schedule
        self._causal_w: Optional[Tensor] = None  # the causal weights of the last evaluation
        self._causal_used = 0.0  # and the ε they were computed with
        super().__init__(
            model,
            callbacks=callbacks,
            record_every=1,
            log_every=cfg.log_every,
            checkpoint_every=cfg.checkpoint_every,
            checkpoint_dir=cfg.checkpoint_dir,
            time_limit=cfg.time_limit,
            progress=cfg.progress,
            desc=f"{problem.name}",
        )

    # ------------------------------------------------------------- what the core asks for
    def stages(self) -> Tuple[Stage, ...]:
        return self.config.stage_list()

    @property
    def first_order_steps(self) -> int:
        """Steps of the leading first-order stages (the sampler's rounds run over these)."""
        n = 0
        for s in self.stages():
            if not isinstance(s, FirstOrder):
                break
            n += s.steps
        return n

    def current_batch(self) -> Batch:
        r = self.sampler.round_of(min(self.step, max(self.first_order_steps - 1, 0)))
        if r != self._round:
            residual = self._residual_values if getattr(self.sampler, "adaptive", None) else None
            self.batch = self.sampler.draw(r, dtype=self.dtype, device=self.device, residual=residual, group=self.group)
            self._round = r
        return self.batch

    def _residual_values(self, x: Tensor) -> Tensor:
        """The PDE residual of the current model at ``x`` (no parameter graph), for adaptive sampling."""
        f = Fields(self.model, x, spatial_dim=self.problem.spatial_dim, method="autograd")
        return self.problem.residual(f).detach()

    @property
    def penalty_weights(self) -> Dict[str, float]:
        """Weights of the gradient penalties that are switched on (``grad_u``, ``gpinn``)."""
        cfg = self.config
        return {k: w for k, w in (("grad_u", cfg.grad_penalty), ("gpinn", cfg.gpinn_penalty)) if w > 0}

    def loss_terms(self, batch: Optional[Batch] = None) -> Dict[str, Tensor]:
        return self._eager_terms(batch or self.current_batch())

    def loss(self, terms: Mapping[str, Tensor]) -> Tensor:
        """``Σ w_c term_c``; with causal weighting the PDE term is its causal form ``pde_weighted`` while the
        first-order stages run (``pde``, recorded beside it, stays the plain mean square)."""
        terms = dict(terms)
        causal = terms.pop("pde_weighted", None)
        if causal is not None and self._causal_active:
            terms["pde"] = causal
        return total_loss(terms, {**self.config.weights, **self.balance_weights, **self.penalty_weights})

    @property
    def _causal_active(self) -> bool:
        stages = self.stages()
        return self.stage_index < len(stages) and isinstance(stages[self.stage_index], FirstOrder)

    @property
    def causal_eps(self) -> Optional[float]:
        """The current ε of causal weighting (None when it is off)."""
        c = self.config.causal
        return None if c is None else c.schedule[min(self.causal_stage, len(c.schedule) - 1)]

    def _causal_term(self, share: float):
        """``pde_loss(residual, x)`` of :func:`pinnkit.losses.loss_terms` for causal weighting, or None."""
        c = self.config.causal
        if c is None:
            return None
        t0, t1 = self.problem.time_interval
        reduce = (lambda v: distributed.all_reduce_flat(v, self.group)) if self.group is not None else None

        def pde_loss(residual: Tensor, x: Tensor) -> Tensor:
            eps = self.causal_eps
            loss, w = c.loss(residual, x[:, -1], t0, t1, eps, reduce=reduce, share=share)
            self._causal_w, self._causal_used = w, eps
            return loss

        return pde_loss

    def _eager_terms(self, batch: Batch, update_plans: bool = True) -> Dict[str, Tensor]:
        return loss_terms(
            self.problem,
            self.model,
            batch,
            self.config.method,
            penalties=tuple(self.penalty_weights),
            plans=self._plans,
            update_plans=update_plans,
            pde_loss=self._causal_term(batch.shares.get("pde", 1.0)),
        )

    def objective(self, batch: Optional[Batch] = None) -> Tuple[Tensor, Dict[str, Tensor]]:
        """``(weighted loss, unweighted terms)`` on ``batch`` (default: the current one). With
        ``config.compile`` the terms come from a ``torch.compile``-d function (after one eager call that learns
        the taylor plans); the weighting stays outside it, so changing weights never recompiles. If
        compilation fails (no C++ compiler, unsupported op) the trainer warns once and stays eager."""
        batch = batch if batch is not None else self.current_batch()
        eager = (
            not self.config.compile or self._compiled is False or (self.config.method == "taylor" and not self._plans)
        )
        if eager:
            terms = self._eager_terms(batch)
        else:
            if self._compiled is None:
                self._compiled = torch.compile(lambda b: self._eager_terms(b, update_plans=False), dynamic=False)
            try:
                terms = self._compiled(batch)
            except Exception as exc:  # pragma: no cover - depends on the toolchain
                warnings.warn(
                    f"torch.compile failed ({type(exc).__name__}: {exc}); training continues without it", stacklevel=2
                )
                self._compiled = False
                terms = self._eager_terms(batch)
        if self.group is not None:  # local means → the run's terms (sums over the ranks' shares)
            pde = batch.shares.get("pde", 1.0)
            terms = self.reduce_terms(terms, {k: batch.shares.get(k, pde) for k in terms})
        return self.loss(terms), terms

    @property
    def balance(self) -> Optional[Balance]:
        c = self.config
        return as_balance(c.balance, c.balance_every, c.balance_alpha)

    def before_backward(self, loss: Tensor, terms: Mapping[str, Tensor]) -> Tensor:
        """Move along the causal ε schedule once every causal weight exceeds its ``tol``; balancing of the
        condition weights (:mod:`pinnkit.training.balance`) every ``every`` steps."""
        c = self.config.causal
        if c is not None and self._causal_w is not None and len(c.schedule) > 1:
            if self.causal_stage < len(c.schedule) - 1 and float(self._causal_w.min()) > c.tol:
                self.causal_stage += 1
                self.history["diagnostics"].setdefault("causal/eps", []).append([self.step, self.causal_eps])
        bal = self.balance
        if bal is None or self.step % bal.every:
            return loss
        if bal.pointwise:  # the NTK's traces: the residuals point by point on the current batch
            inputs: Mapping[str, Tensor] = point_residuals(
                self.problem, self.model, self.current_batch(), self.config.method, self._plans
            )
        else:
            inputs = {**terms, "pde": terms.get("pde_weighted", terms["pde"])} if self._causal_active else terms
            inputs = {k: v for k, v in inputs.items() if k != "pde_weighted"}
        self.balance_weights = bal.update(
            inputs,
            self.model.parameters(),
            self.balance_weights,
            self.config.weights,
            skip=self.penalty_weights,
            reduce=lambda g: distributed.all_reduce_flat(g, self.group),
        )
        for name, w in self.balance_weights.items():
            self.history["diagnostics"].setdefault(f"weight/{name}", []).append([self.step, w])
        return self.loss(terms)

    def record_extra(self) -> Optional[Mapping[str, float]]:
        """With causal weighting: the ε and the smallest weight of the last evaluation (1 when every chunk's
        residual is small enough to be trained)."""
        if self.config.causal is None or self._causal_w is None:
            return None
        return {"causal_eps": self._causal_used, "causal_min_weight": float(self._causal_w.min())}

    # ------------------------------------------------------------ checkpoint contents
    def extra_state(self) -> dict:
        return {
            "plans": {k: sorted(v) for k, v in self._plans.items()},
            "balance_weights": dict(self.balance_weights),
            "causal_stage": self.causal_stage,
            "batch": self._batch_state(),
        }

    def load_extra_state(self, state: Mapping[str, Any]) -> None:
        self._plans = {k: frozenset(tuple(r) for r in v) for k, v in state.get("plans", {}).items()}
        self.balance_weights = dict(state.get("balance_weights", {}))
        self.causal_stage = int(state.get("causal_stage", 0))
        self._round = None
        saved = state.get("batch")
        if saved:  # adaptive points depend on the model at the start of their round: restore them as they were
            g = self.group
            mine = (
                (lambda t: t)
                if g is None
                else (lambda t: t[slice(*distributed.shard_range(len(t), g.rank, g.world_size))])
            )
            put = lambda t: mine(t).to(self.device, self.dtype)  # noqa: E731
            self.batch = Batch(
                put(saved["domain"]),
                {k: put(v) for k, v in saved["conditions"].items()},
                {k: put(v) for k, v in saved.get("normals", {}).items()},
                {k: len(mine(v)) / len(v) for k, v in {"pde": saved["domain"], **saved["conditions"]}.items()},
            )
            self._round = saved["round"]

    def _batch_state(self) -> Optional[dict]:
        """The current adaptive points (all ranks' shards gathered, in rank order, so the checkpoint holds the
        whole point set), or None when the points are a pure function of the seed."""
        if not getattr(self.sampler, "adaptive", None) or self.batch is None:
            return None
        whole = lambda t: distributed.all_gather_rows(t, self.group).clone()  # noqa: E731
        return {
            "round": self._round,
            "domain": whole(self.batch.domain),
            "conditions": {k: whole(v) for k, v in self.batch.conditions.items()},
            "normals": {k: whole(v) for k, v in self.batch.normals.items()},
        }

    def config_dict(self) -> dict:
        p = self.problem
        s = self.sampler
        sampler = {
            "n_domain": s.n_domain,
            "n_boundary": s.n_boundary,
            "n_initial": s.n_initial,
            "method": s.method,
            "resample_every": s.resample_every,
            "seed": s.seed,
            "adaptive": s.strategy.as_dict() if s.strategy is not None else None,
            "pool_factor": s.pool_factor,
        }
        problem = {"name": p.name, **dict(getattr(p, "params", {}))}
        return {**self.config.as_dict(), "problem": problem, "sampler": sampler}


def _check_shardable(sampler: Sampler, problem: "Problem", group: distributed.Group) -> None:
    """Every rank must hold at least one point of every term (checked before any work)."""
    counts = {"n_domain": sampler.n_domain}
    for c in problem.conditions():
        loc = c.location(problem)
        if isinstance(loc, str) and loc == "initial":
            counts["n_initial"] = sampler.n_initial
        elif isinstance(loc, str) and loc == "data":
            counts[f"the observations {c.name!r}"] = len(c.points)
        else:
            counts["n_boundary"] = sampler.n_boundary
    for name, n in counts.items():
        if n < group.world_size:
            raise ValueError(
                f"{name}={n} cannot be split over {group.world_size} processes: give {name} >= {group.world_size}"
            )
