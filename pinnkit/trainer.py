"""PINN trainer: Adam (or SGD) with an exponential learning-rate schedule, then L-BFGS with a strong-Wolfe
line search; callbacks every k steps; checkpoints that resume the same run; a divergence guard.

The trainer knows optimisation and nothing about a particular PDE: the problem supplies the loss terms
through :func:`pinnkit.losses.loss_terms`, the sampler the points.
"""

from __future__ import annotations

import copy
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Protocol, Sequence

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .bfgs import BFGS, MAX_DENSE_PARAMETERS
from .checkpoints import load_state, save_atomic
from .derivatives import METHODS, Fields
from .losses import loss_terms, total_loss
from .sampling import Batch, Sampler
from .validation import check_choice, check_int, check_positive, check_range

__all__ = ["TrainConfig", "PINNTrainer", "TrainingDiverged", "Callback", "DTYPES"]

DTYPES = {"float32": torch.float32, "float64": torch.float64}
QUASI_NEWTON = ("lbfgs", "bfgs", "ssbfgs")
BALANCE = ("max-mean", "norm")
CHECKPOINT_NAME = "checkpoint.pt"


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite. The model has been restored to the last good checkpoint."""

    def __init__(self, step: int, loss: float, restored_step: int, path: Optional[str]):
        where = f"; last good checkpoint (step {restored_step}) kept at {path}" if path else f"; model restored to step {restored_step}"
        super().__init__(f"training diverged at step {step}: loss = {loss}{where}")
        self.step, self.loss, self.restored_step, self.path = step, loss, restored_step, path


class Callback(Protocol):
    """Anything with ``every`` (steps) and ``__call__(trainer) -> {name: number}``."""

    every: int

    def __call__(self, trainer: "PINNTrainer") -> Mapping[str, float]: ...


@dataclass
class TrainConfig:
    """Optimisation settings (the sampler holds the point settings).

    The learning rate at step ``s`` of the first stage is ``lr · lr_decay^(s / decay_every)``.
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
    balance: Optional[str] = None
    balance_every: int = 100
    balance_alpha: float = 0.1
    method: str = "autograd"
    compile: bool = False
    dtype: str = "float32"
    device: str = "cpu"
    log_every: int = 50
    checkpoint_every: int = 500
    checkpoint_dir: Optional[str] = None
    progress: bool = True

    def validate(self) -> "TrainConfig":
        check_int("adam_steps", self.adam_steps, 0)
        check_int("lbfgs_steps", self.lbfgs_steps, 0)
        check_positive("lr", self.lr)
        check_range("lr_decay", self.lr_decay, 0.0, 1.0, low_open=True)
        check_int("decay_every", self.decay_every, 1)
        check_choice("optimizer", self.optimizer, ("adam", "sgd"))
        check_choice("quasi_newton", self.quasi_newton, QUASI_NEWTON)
        if self.balance is not None:
            check_choice("balance", self.balance, BALANCE)
        check_int("balance_every", self.balance_every, 1)
        check_range("balance_alpha", self.balance_alpha, 0.0, 1.0, low_open=True)
        check_int("lbfgs_history", self.lbfgs_history, 1)
        check_int("lbfgs_chunk", self.lbfgs_chunk, 1)
        check_choice("method", self.method, METHODS)
        check_choice("dtype", self.dtype, tuple(DTYPES))
        check_int("log_every", self.log_every, 1)
        if not isinstance(self.compile, bool):
            raise ValueError(f"compile must be True or False, got {self.compile!r}")
        check_int("checkpoint_every", self.checkpoint_every, 1)
        for name in ("grad_penalty", "gpinn_penalty"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        for k, w in self.weights.items():
            if not (isinstance(w, (int, float)) and math.isfinite(w) and w >= 0):
                raise ValueError(f"weights[{k!r}] must be a finite number >= 0, got {w!r}")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError("device 'cuda' requested but no CUDA device is available; use device='cpu'")
        return self


def _new_history() -> dict:
    return {"step": [], "stage": [], "time": [], "lr": [], "loss": [], "terms": {}, "diagnostics": {}}


class PINNTrainer:
    """Trains ``model`` on ``problem`` with points from ``sampler``.

    ``trainer.train()`` runs the remaining steps (all of them on a fresh trainer, the rest after
    :meth:`load_checkpoint`) and returns the history: per step the global step, stage, cumulative
    training time (s), learning rate, weighted loss and every unweighted term; per callback call the
    values it returned, under ``history["diagnostics"][name]`` as ``[step, value]`` pairs.
    """

    def __init__(
        self,
        problem,
        model: nn.Module,
        sampler: Sampler,
        config: Optional[TrainConfig] = None,
        callbacks: Sequence[Callback] = (),
    ):
        self.problem = problem
        self.config = (config or TrainConfig()).validate()
        self.dtype = DTYPES[self.config.dtype]
        self.device = torch.device(self.config.device)
        self.model = model.to(device=self.device, dtype=self.dtype)
        self.sampler = sampler
        self.callbacks = list(callbacks)
        unknown = set(self.config.weights) - {"pde"} - {c.name for c in problem.conditions()}
        if unknown:
            names = ["pde"] + [c.name for c in problem.conditions()]
            raise ValueError(f"weights has unknown term(s) {sorted(unknown)}; terms are {names}")
        self.step = 0
        self.history = _new_history()
        self._elapsed = 0.0
        self._round: Optional[int] = None
        self.batch: Optional[Batch] = None
        self.first_optimizer = self._make_first_optimizer()
        self.base_lrs = [g["lr"] for g in self.first_optimizer.param_groups]
        self.lbfgs = self._make_quasi_newton()
        self._lbfgs_done = False
        self._plans: Dict[str, frozenset] = {}  # derivative plans of the taylor engine, per loss term
        self._compiled = None  # the compiled objective; False once compilation failed or when it cannot help
        if self.config.compile and not (self.config.method == "taylor" and getattr(self.model, "supports_jet", False)):
            # nested autograd (double backward) cannot be compiled: tracing it would only add minutes
            warnings.warn("compile=True needs method='taylor' and a net with a Taylor-mode rule (pinnkit.nets.MLP "
                          "with tanh/sin/sigmoid/softplus/silu, no output transform); training runs eagerly")
            self._compiled = False
        self.balance_weights: Dict[str, float] = {}  # condition weights set by gradient balancing
        self._snapshot = self._state()

    # ------------------------------------------------------------- components
    def _make_first_optimizer(self) -> torch.optim.Optimizer:
        groups_fn = getattr(self.model, "param_groups", None)
        groups = groups_fn(self.config.lr) if callable(groups_fn) else [{"params": list(self.model.parameters()), "lr": self.config.lr}]
        if self.config.optimizer == "adam":
            try:  # the fused kernel does the whole update in one pass (8× faster than the loop on small nets)
                return torch.optim.Adam(groups, lr=self.config.lr, fused=True)
            except (RuntimeError, TypeError, ValueError):  # pragma: no cover - device/dtype without fused Adam
                return torch.optim.Adam(groups, lr=self.config.lr)
        return torch.optim.SGD(groups, lr=self.config.lr)

    def _make_quasi_newton(self) -> torch.optim.Optimizer:
        """The second stage: L-BFGS (torch), or dense BFGS / self-scaled BFGS (:mod:`pinnkit.bfgs`)."""
        cfg = self.config
        if cfg.quasi_newton == "lbfgs":
            return torch.optim.LBFGS(self.model.parameters(), lr=1.0, max_iter=cfg.lbfgs_chunk,
                                     max_eval=cfg.lbfgs_chunk * 4, history_size=cfg.lbfgs_history,
                                     tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe")
        n = sum(p.numel() for p in self.model.parameters())
        if n > MAX_DENSE_PARAMETERS:
            raise ValueError(f"quasi_newton={cfg.quasi_newton!r} stores a dense {n}×{n} matrix: the net must have "
                             f"<= {MAX_DENSE_PARAMETERS} parameters (it has {n}); use quasi_newton='lbfgs'")
        return BFGS(self.model.parameters(), max_iter=cfg.lbfgs_chunk,
                    scaling="self" if cfg.quasi_newton == "ssbfgs" else "none")

    @property
    def total_steps(self) -> int:
        return self.config.adam_steps + self.config.lbfgs_steps

    @property
    def stage(self) -> str:
        return "adam" if self.step < self.config.adam_steps else self.config.quasi_newton

    def lr_at(self, step: int) -> float:
        return self.config.lr * self.config.lr_decay ** (step / self.config.decay_every)

    def current_batch(self) -> Batch:
        r = self.sampler.round_of(min(self.step, max(self.config.adam_steps - 1, 0)))
        if r != self._round:
            residual = self._residual_values if getattr(self.sampler, "adaptive", None) else None
            self.batch = self.sampler.draw(r, dtype=self.dtype, device=self.device, residual=residual)
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
        return loss_terms(self.problem, self.model, batch or self.current_batch(), self.config.method,
                          penalties=tuple(self.penalty_weights), plans=self._plans)

    def loss(self, terms: Mapping[str, Tensor]) -> Tensor:
        return total_loss(terms, {**self.config.weights, **self.balance_weights, **self.penalty_weights})

    def _eager_terms(self, batch: Batch, update_plans: bool = True) -> Dict[str, Tensor]:
        return loss_terms(self.problem, self.model, batch, self.config.method,
                          penalties=tuple(self.penalty_weights), plans=self._plans, update_plans=update_plans)

    def objective(self, batch: Batch):
        """``(weighted loss, unweighted terms)`` on ``batch``. With ``config.compile`` the terms come from
        a ``torch.compile``-d function (after one eager call that learns the taylor plans); the weighting
        stays outside it, so changing weights never recompiles. If compilation fails (no C++ compiler,
        unsupported op) the trainer warns once and stays eager."""
        eager = not self.config.compile or self._compiled is False or (self.config.method == "taylor" and not self._plans)
        if eager:
            terms = self._eager_terms(batch)
        else:
            if self._compiled is None:
                self._compiled = torch.compile(lambda b: self._eager_terms(b, update_plans=False), dynamic=False)
            try:
                terms = self._compiled(batch)
            except Exception as exc:  # pragma: no cover - depends on the toolchain
                warnings.warn(f"torch.compile failed ({type(exc).__name__}: {exc}); training continues without it")
                self._compiled = False
                terms = self._eager_terms(batch)
        return self.loss(terms), terms

    def _balance(self, terms: Mapping[str, Tensor]) -> None:
        """Gradient-based weights of the condition terms (Wang, Teng & Perdikaris 2021, SIAM J. Sci.
        Comput. 43(5), Algorithm 1). With ``g_c = ∇_θ L_c`` (unweighted terms):

        * ``"max-mean"``: ``λ̂_c = max_θ |g_pde| / mean_θ |g_c|`` (their eq. 40);
        * ``"norm"``: ``λ̂_c = ‖g_pde‖ / ‖g_c‖`` (equal gradient norms; Wang et al. 2023, arXiv:2308.08468).

        then ``λ_c ← (1 − α) λ_c + α λ̂_c`` with ``α = balance_alpha``. The PDE weight stays as configured.
        """
        cfg = self.config
        params = [p for p in self.model.parameters() if p.requires_grad]

        def flat(term: Tensor) -> Tensor:
            gs = torch.autograd.grad(term, params, retain_graph=True, allow_unused=True)
            return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(gs, params)])

        g_pde = flat(terms["pde"])
        ref = float(g_pde.abs().max()) if cfg.balance == "max-mean" else float(g_pde.norm())
        for name, term in terms.items():
            if name == "pde" or name in self.penalty_weights:
                continue
            g = flat(term)
            scale = float(g.abs().mean()) if cfg.balance == "max-mean" else float(g.norm())
            if not (scale > 0 and math.isfinite(scale) and math.isfinite(ref)):
                continue
            old = self.balance_weights.get(name, cfg.weights.get(name, 1.0))
            self.balance_weights[name] = (1 - cfg.balance_alpha) * old + cfg.balance_alpha * ref / scale
        for name, w in self.balance_weights.items():
            self.history["diagnostics"].setdefault(f"weight/{name}", []).append([self.step, w])

    # ------------------------------------------------------------------ loop
    def train(self) -> dict:
        cfg = self.config
        bar = tqdm(total=self.total_steps, initial=self.step, disable=not cfg.progress, desc=f"{self.problem.name}", leave=False)
        try:
            while self.step < cfg.adam_steps:
                self._adam_step()
                bar.update(1)
                self._after_step(bar, self.step - 1)
            while self.step < self.total_steps and not self._lbfgs_done:
                before = self.step
                self._lbfgs_chunk()
                bar.update(self.step - before)
                self._after_step(bar, before)
        finally:
            bar.close()
        return self.history

    def _adam_step(self) -> None:
        t0 = time.perf_counter()
        lr = self.lr_at(self.step)
        for g, base in zip(self.first_optimizer.param_groups, self.base_lrs):
            g["lr"] = base * lr / self.config.lr
        batch = self.current_batch()
        self.first_optimizer.zero_grad(set_to_none=True)
        loss, terms = self.objective(batch)
        self._guard(loss)
        if self.config.balance and self.step % self.config.balance_every == 0:
            self._balance(terms)
            loss = self.loss(terms)
        loss.backward()
        self.first_optimizer.step()
        self._elapsed += time.perf_counter() - t0
        self._record(self.step, "adam", lr, loss, terms)
        self.step += 1

    def _lbfgs_chunk(self) -> None:
        t0 = time.perf_counter()
        batch = self.current_batch()
        last: dict = {}

        def closure() -> Tensor:
            self.lbfgs.zero_grad(set_to_none=True)
            loss, terms = self.objective(batch)
            if torch.isfinite(loss):
                loss.backward()
            last["terms"], last["loss"] = terms, loss
            return loss

        state = self.lbfgs.state[self.lbfgs._params[0]]
        n_before = state.get("n_iter", 0)
        max_iter = min(self.config.lbfgs_chunk, self.total_steps - self.step)
        self.lbfgs.param_groups[0]["max_iter"] = max_iter
        self.lbfgs.step(closure)
        n_done = state.get("n_iter", 0) - n_before
        self._elapsed += time.perf_counter() - t0
        self._guard(last["loss"], params=True)
        if n_done == 0:  # the line search could make no progress at all: the stage ends
            self._lbfgs_done = True
            return
        previous = self.history["loss"][-1] if self.history["loss"] else math.inf
        self.step += n_done
        self._record(self.step - 1, self.config.quasi_newton, 1.0, last["loss"], last["terms"])
        # a whole chunk without any decrease means the line search is failing at round-off (typical in
        # float32 near the loss floor): further iterations would only burn evaluations
        if self.history["stage"][-2:-1] == [self.config.quasi_newton] and self.history["loss"][-1] >= previous * (1 - 1e-12):
            self._lbfgs_done = True

    def _after_step(self, bar, before: int) -> None:
        """Logging, callbacks and checkpoints due in the steps ``(before, self.step]``."""
        cfg = self.config
        s = self.step
        if s == before:
            return
        finished = s == self.total_steps or self._lbfgs_done

        def due(every: int) -> bool:
            return s // every != before // every or finished

        if due(cfg.log_every):
            bar.set_postfix(loss=f"{self.history['loss'][-1]:.3e}", refresh=False)
        for cb in self.callbacks:
            if due(cb.every):
                self.run_callback(cb)
        if due(cfg.checkpoint_every):
            self.checkpoint()

    def run_callback(self, cb: Callback) -> None:
        values = cb(self)
        for k, v in values.items():
            self.history["diagnostics"].setdefault(k, []).append([self.step, float(v)])

    def _record(self, step: int, stage: str, lr: float, loss: Tensor, terms: Mapping[str, Tensor]) -> None:
        h = self.history
        h["step"].append(step)
        h["stage"].append(stage)
        h["time"].append(self._elapsed)
        h["lr"].append(lr)
        h["loss"].append(float(loss.detach()))
        for k, v in terms.items():
            h["terms"].setdefault(k, []).append(float(v.detach()))

    # ------------------------------------------------------ divergence guard
    def _guard(self, loss: Tensor, params: bool = False) -> None:
        bad = not bool(torch.isfinite(loss))
        if params and not bad:
            bad = not all(bool(torch.isfinite(p).all()) for p in self.model.parameters())
        if bad:
            step, good = self.step, self._snapshot
            self._restore(good)
            path = self.checkpoint_path if self.config.checkpoint_dir else None
            raise TrainingDiverged(step, float(loss.detach()), good["step"], path)

    # ------------------------------------------------------------ checkpoints
    @property
    def checkpoint_path(self) -> Optional[str]:
        d = self.config.checkpoint_dir
        return os.path.join(d, CHECKPOINT_NAME) if d else None

    def _state(self) -> dict:
        return {
            "format": 1,
            "step": self.step,
            "elapsed": self._elapsed,
            "lbfgs_done": self._lbfgs_done,
            "plans": {k: sorted(v) for k, v in self._plans.items()},
            "balance_weights": dict(self.balance_weights),
            "batch": self._batch_state(),
            "model": copy.deepcopy(self.model.state_dict()),
            "first_optimizer": copy.deepcopy(self.first_optimizer.state_dict()),
            "lbfgs": copy.deepcopy(self.lbfgs.state_dict()),
            "history": copy.deepcopy(self.history),
            "config": asdict(self.config),
        }

    def _restore(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.first_optimizer.load_state_dict(state["first_optimizer"])
        self.lbfgs.load_state_dict(state["lbfgs"])
        self.step = state["step"]
        self._elapsed = state["elapsed"]
        self._lbfgs_done = state["lbfgs_done"]
        self._plans = {k: frozenset(tuple(r) for r in v) for k, v in state.get("plans", {}).items()}
        self.balance_weights = dict(state.get("balance_weights", {}))
        self.history = copy.deepcopy(state["history"])
        self._round = None
        saved = state.get("batch")
        if saved:  # adaptive points depend on the model at the start of their round: restore them as they were
            self.batch = Batch(saved["domain"].to(self.device, self.dtype),
                               {k: v.to(self.device, self.dtype) for k, v in saved["conditions"].items()})
            self._round = saved["round"]

    def _batch_state(self) -> Optional[dict]:
        if not getattr(self.sampler, "adaptive", None) or self.batch is None:
            return None
        return {"round": self._round, "domain": self.batch.domain.clone(),
                "conditions": {k: v.clone() for k, v in self.batch.conditions.items()}}

    def checkpoint(self) -> None:
        """Remember the current (good) state; write it to ``checkpoint_dir`` when one is set."""
        self._snapshot = self._state()
        if self.checkpoint_path:
            save_atomic(self._snapshot, self.checkpoint_path)

    def load_checkpoint(self, path: Optional[str] = None) -> "PINNTrainer":
        """Resume from a checkpoint (``torch.load(..., weights_only=True)``)."""
        state = load_state(path or self.checkpoint_path, map_location=self.device)
        self._restore(state)
        self._snapshot = state
        return self
