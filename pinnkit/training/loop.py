"""The one training loop under every trainer.

:class:`TrainingLoop` owns the mechanics: the ordered optimiser stages (:mod:`pinnkit.training.stages`: a
first-order stage with its learning-rate schedule, quasi-Newton stages in chunks), the history schema
(:mod:`pinnkit.training.history`), the divergence guard and restore, checkpoint and resume (atomic,
``weights_only``, bit-identical continuation), the progress bar, callbacks every k steps, a training-time
limit and the run's random generator. A trainer subclasses it and supplies only what differs:

* :meth:`stages` — the run's stages (read at every :meth:`train`, so a config may be changed between runs);
* :meth:`objective` — ``(weighted loss, unweighted terms)`` at the current parameters;
* optionally the hooks :meth:`before_backward` (reweight the loss), :meth:`after_backward` (read the
  gradients), :meth:`after_update` (e.g. birth–death of particles), :meth:`record_extra` (trainer-specific
  numbers per record), :meth:`on_train_end`, and :meth:`extra_state` / :meth:`load_extra_state` for state the
  checkpoint must carry.

The design follows neuraloperator's single ``Trainer`` with overridable hooks; the code is our own.
"""

from __future__ import annotations

import copy
import math
import os
import time
import warnings
from typing import Any, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .. import distributed
from .checkpoint import load_state, save_atomic
from .divergence import InitialLossNotFinite, TrainingDiverged
from .history import new_history, record, record_diagnostics
from .stages import QuasiNewton, Stage

__all__ = ["TrainingLoop", "Callback", "STATE_FORMAT"]

STATE_FORMAT = 2

#: settings a resumed run may change: where files go, what is shown, how often things happen, its budget
RESUMABLE = frozenset(
    {
        "checkpoint_dir",
        "progress",
        "log_every",
        "record_every",
        "checkpoint_every",
        "eval_every",
        "time_limit",
        "steps",
        "adam_steps",
        "lbfgs_steps",
    }
)


def _flatten(d: Any, prefix: str = "") -> Dict[str, Any]:
    """``{"a.b": leaf}`` for nested dicts and lists (tuples read as lists)."""
    if isinstance(d, Mapping):
        out: Dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(d, (list, tuple)):
        out = {}
        for i, v in enumerate(d):
            out.update(_flatten(v, f"{prefix}{i}."))
        return out if d else {prefix[:-1]: []}
    return {prefix[:-1]: d}


def config_mismatch(saved: Mapping[str, Any], current: Mapping[str, Any]) -> List[Tuple[str, Any, Any]]:
    """``(setting, saved value, current value)`` for every setting (dotted name) in which a checkpoint's
    configuration and this run's differ, leaving out :data:`RESUMABLE` ones; the problem's settings first."""
    a, b = _flatten(saved), _flatten(current)
    keys = sorted(set(a) | set(b), key=lambda k: (not k.startswith("problem."), k))
    return [
        (k, a.get(k, "<absent>"), b.get(k, "<absent>"))
        for k in keys
        if k.rsplit(".", 1)[-1] not in RESUMABLE and a.get(k, "<absent>") != b.get(k, "<absent>")
    ]


class Callback(Protocol):
    """Anything with ``every`` (steps; 0 or None: only at the end) and ``__call__(trainer) -> {name: number}``."""

    every: int

    def __call__(self, trainer: Any) -> Mapping[str, float]: ...


class TrainingLoop:
    """Runs :meth:`stages` in order on ``model``; see the module docstring for what a subclass supplies.

    ``record_every``: steps between history records of a first-order stage (the last step of a stage and of
    the run is always recorded; a quasi-Newton stage records once per chunk); ``log_every``: steps between
    progress-bar updates of the loss; ``checkpoint_every``: steps between checkpoints (the in-memory good
    state the divergence guard restores, written to ``checkpoint_dir`` when set); ``time_limit``: seconds
    of training time after which the run ends, after the step that crosses it (its record, callbacks and
    checkpoint included); ``seed``: seeds :attr:`generator`, the run's random stream (saved in checkpoints).
    """

    checkpoint_name = "checkpoint.pt"
    #: whether :meth:`objective` returns terms reduced over the ranks by :meth:`reduce_terms` (each rank on
    #: its shard of the data), so the gradients are summed over the ranks after each backward pass. A trainer
    #: that leaves it False computes the whole objective on every rank under ``torchrun`` (the same numbers
    #: everywhere, nothing summed)
    sharded = False

    def __init__(
        self,
        model: nn.Module,
        *,
        callbacks: Sequence[Callback] = (),
        record_every: int = 1,
        log_every: int = 50,
        checkpoint_every: int = 500,
        checkpoint_dir: Optional[str] = None,
        time_limit: Optional[float] = None,
        progress: bool = True,
        desc: str = "train",
        seed: Optional[int] = None,
    ):
        self.model = model
        #: the process group under a ``torchrun`` launch (None in one process): loss terms and gradients are
        #: summed over its ranks (:mod:`pinnkit.distributed`), rank 0 writes checkpoints and shows progress
        self.group = distributed.init_from_env(
            str(next(iter(model.parameters())).device) if list(model.parameters()) else "cpu"
        )
        distributed.broadcast_module(model, self.group)
        self.callbacks: List[Callback] = list(callbacks)
        #: True while the callbacks due at the end of a run are called (a callback may do its full work then)
        self.finishing = False
        self.record_every, self.log_every = record_every, log_every
        self.checkpoint_every, self.checkpoint_dir = checkpoint_every, checkpoint_dir
        self.time_limit, self.progress, self.desc = time_limit, progress, desc
        self.generator: Optional[torch.Generator] = None if seed is None else torch.Generator().manual_seed(seed)
        self.step = 0
        self.history = new_history()
        self._elapsed = 0.0
        self.stage_index, self.stage_start, self._stage_done = 0, 0, False
        self._time_up = False
        self.optimizers: List[torch.optim.Optimizer] = [self.build_optimizer(s) for s in self.stages()]
        self._base_lrs = [[g.get("lr", 1.0) for g in o.param_groups] for o in self.optimizers]
        self._snapshot: Optional[dict] = None
        self._snapshot_on_disk: Optional[str] = None  # the file holding _snapshot, once written or loaded

    # ------------------------------------------------------------------ what a trainer supplies
    def stages(self) -> Sequence[Stage]:
        raise NotImplementedError

    def objective(self) -> Tuple[Tensor, Mapping[str, Tensor]]:
        raise NotImplementedError

    def build_optimizer(self, stage: Stage) -> torch.optim.Optimizer:
        """The stage's optimiser on the model's parameters (a net's ``param_groups(lr)`` for first-order stages)."""
        groups_fn = getattr(self.model, "param_groups", None)
        if not isinstance(stage, QuasiNewton) and callable(groups_fn):
            return stage.build(groups_fn(stage.lr))
        return stage.build(self.model.parameters())

    def before_backward(self, loss: Tensor, terms: Mapping[str, Tensor]) -> Tensor:
        return loss

    def after_backward(self) -> None:
        pass

    def after_update(self) -> None:
        pass

    def record_extra(self) -> Optional[Mapping[str, float]]:
        return None

    def on_train_end(self) -> None:
        pass

    def extra_state(self) -> dict:
        return {}

    def load_extra_state(self, state: Mapping[str, Any]) -> None:
        pass

    def config_dict(self) -> dict:
        return {}

    def run_config(self) -> dict:
        """:meth:`config_dict`, with the number of processes under ``torchrun`` (a checkpoint resumes only
        with as many processes as wrote it)."""
        cfg = self.config_dict()
        return {**cfg, "distributed": self.group.as_dict()} if self.group is not None else cfg

    # ------------------------------------------------------------------ run
    @property
    def total_steps(self) -> int:
        return sum(s.steps for s in self.stages())

    def train(self, steps: Optional[int] = None) -> dict:
        """Run the remaining steps (at most ``steps`` more when given) and return the history."""
        if self._snapshot is None:
            self._snapshot = self._state()
        stages = self.stages()
        limit = None if steps is None else self.step + steps
        self._time_up = False
        bar = tqdm(
            total=sum(s.steps for s in stages),
            initial=self.step,
            disable=not self.progress or not distributed.is_main(self.group),
            desc=self.desc,
            leave=False,
        )
        try:
            while self.stage_index < len(stages):
                stage = stages[self.stage_index]
                if self._stage_done or self.step - self.stage_start >= stage.steps:
                    self.stage_index, self.stage_start, self._stage_done = self.stage_index + 1, self.step, False
                    continue
                if limit is not None and self.step >= limit:
                    break
                before = self.step
                if isinstance(stage, QuasiNewton):
                    self._quasi_newton_chunk(stage, stages)
                else:
                    self._first_order_step(stage, stages, limit)
                bar.update(self.step - before)
                self._after_step(bar, before, stages, limit)
                if self._time_up:
                    break
        finally:
            bar.close()
        self._warn_if_worse()
        self.on_train_end()
        return self.history

    def _warn_if_worse(self) -> None:
        """A run that ends with its loss far above where it started trained nothing useful: say so."""
        losses = self.history["loss"]
        if len(losses) >= 2 and math.isfinite(losses[-1]) and losses[-1] > 10.0 * losses[0]:
            warnings.warn(
                f"the loss rose from {losses[0]:.3e} to {losses[-1]:.3e} over training: the learning rate (or "
                "another setting) is too large for this problem",
                RuntimeWarning,
                stacklevel=3,
            )

    def _finished(self, stages: Sequence[Stage], limit: Optional[int]) -> bool:
        """No work left after the step just taken (or the time or step limit reached)."""
        if self._time_up or (limit is not None and self.step >= limit):
            return True
        i = self.stage_index
        done = self._stage_done or self.step - self.stage_start >= stages[i].steps
        return done and all(s.steps == 0 for s in stages[i + 1 :])

    def _check_time(self) -> None:
        if self.time_limit is not None:  # the ranks' clocks differ: stop together when any is past the limit
            up = distributed.any_true(self._elapsed >= self.time_limit, self.group, self.device_for_load())
            self._time_up = self._time_up or up

    def reduce_terms(self, terms: Mapping[str, Tensor], shares: Mapping[str, float]) -> Dict[str, Tensor]:
        """The run's loss terms from this process's local means: the identity in one process; under
        ``torchrun`` the sums ``Σ_r share_r · term_r`` over the ranks (``shares``: this rank's fraction of each
        term's points), whose gradients the loop sums over the ranks after the backward pass."""
        return distributed.share_sum(terms, shares, self.group)

    def _reduce_gradients(self) -> None:
        if self.sharded:
            distributed.all_reduce_gradients(self.model.parameters(), self.group)

    def _first_order_step(self, stage: Stage, stages: Sequence[Stage], limit: Optional[int]) -> None:
        t0 = time.perf_counter()
        opt = self.optimizers[self.stage_index]
        k = self.step - self.stage_start
        lr = stage.lr_at(k)
        for g, base in zip(opt.param_groups, self._base_lrs[self.stage_index]):
            g["lr"] = base * lr / stage.lr
        opt.zero_grad(set_to_none=True)
        loss, terms = self.objective()
        self._guard(loss, terms=terms)
        loss = self.before_backward(loss, terms)
        loss.backward()
        self._reduce_gradients()
        self.after_backward()
        opt.step()
        self.after_update()
        self._elapsed += time.perf_counter() - t0
        self._check_time()
        s = self.step
        self.step += 1
        if s % self.record_every == 0 or self.step - self.stage_start >= stage.steps or self._finished(stages, limit):
            self.record(s, stage.name, lr, loss, terms, self.record_extra())

    def _quasi_newton_chunk(self, stage: QuasiNewton, stages: Sequence[Stage]) -> None:
        t0 = time.perf_counter()
        opt = self.optimizers[self.stage_index]
        last: Dict[str, Any] = {}

        def closure() -> Tensor:
            opt.zero_grad(set_to_none=True)
            loss, terms = self.objective()
            if torch.isfinite(loss):  # the same on every rank: the value is the global loss
                loss.backward()
                self._reduce_gradients()
            last["terms"], last["loss"] = terms, loss
            return loss

        state = opt.state[opt._params[0]]
        n_before = state.get("n_iter", 0)
        opt.param_groups[0]["max_iter"] = min(stage.chunk, stage.steps - (self.step - self.stage_start))
        opt.step(closure)
        n_done = state.get("n_iter", 0) - n_before
        self._elapsed += time.perf_counter() - t0
        self._check_time()
        self._guard(last["loss"], params=True, terms=last.get("terms"))
        if n_done == 0:  # the line search could make no progress at all: the stage ends
            self._stage_done = True
            return
        previous = self.history["loss"][-1] if self.history["loss"] else math.inf
        self.step += n_done
        self.record(self.step - 1, stage.name, 1.0, last["loss"], last["terms"], self.record_extra())
        # a whole chunk without any decrease means the line search is failing at round-off (typical in
        # float32 near the loss floor): further iterations would only burn evaluations
        if self.history["stage"][-2:-1] == [stage.name] and self.history["loss"][-1] >= previous * (1 - 1e-12):
            self._stage_done = True

    def _after_step(self, bar, before: int, stages: Sequence[Stage], limit: Optional[int]) -> None:
        """Progress, callbacks and checkpoints due in the steps ``(before, self.step]``."""
        s = self.step
        if s == before:
            return
        finished = self._finished(stages, limit)

        def due(every: Optional[int]) -> bool:
            return finished or bool(every) and s // every != before // every

        if due(self.log_every) and self.history["loss"]:
            bar.set_postfix(loss=f"{self.history['loss'][-1]:.3e}", refresh=False)
        self.finishing = finished
        for cb in self.callbacks:
            if due(getattr(cb, "every", None)):
                self.run_callback(cb)
        self.finishing = False
        if due(self.checkpoint_every):
            self.checkpoint()

    def run_callback(self, cb: Callback) -> None:
        """Call ``cb(self)`` and put its numbers into ``history["diagnostics"]`` at the current step."""
        record_diagnostics(self.history, self.step, cb(self))

    def record(
        self,
        step: int,
        stage: str,
        lr: float,
        loss: Tensor,
        terms: Mapping[str, Tensor],
        extra: Optional[Mapping[str, float]] = None,
    ) -> None:
        record(self.history, step, stage, self._elapsed, lr, loss, terms, extra)

    # ------------------------------------------------------------------ divergence guard
    def _guard(self, loss: Tensor, params: bool = False, terms: Optional[Mapping[str, Tensor]] = None) -> None:
        bad = not bool(torch.isfinite(loss))
        if params and not bad:
            bad = not all(bool(torch.isfinite(p).all()) for p in self.model.parameters())
        if not bad:
            return
        if self.step == 0 and not self.history["step"] and not params:  # the first evaluation, untrained
            self._restore(self._snapshot)
            raise InitialLossNotFinite(float(loss.detach()), terms or {}, self.config_dict().get("problem"))
        step, good = self.step, self._snapshot
        self._restore(good)
        raise TrainingDiverged(step, float(loss.detach()), good["step"], self._snapshot_on_disk)

    # ------------------------------------------------------------------ checkpoints
    @property
    def checkpoint_path(self) -> Optional[str]:
        d = self.checkpoint_dir
        return os.path.join(d, self.checkpoint_name) if d else None

    def _state(self) -> dict:
        return {
            "format": STATE_FORMAT,
            "step": self.step,
            "elapsed": self._elapsed,
            "stage_index": self.stage_index,
            "stage_start": self.stage_start,
            "stage_done": self._stage_done,
            "model": copy.deepcopy(self.model.state_dict()),
            "optimizers": [copy.deepcopy(o.state_dict()) for o in self.optimizers],
            "generator": self.generator.get_state() if self.generator is not None else None,
            "history": copy.deepcopy(self.history),
            "config": self.run_config(),
            "trainer": copy.deepcopy(self.extra_state()),
        }

    def _restore(self, state: Mapping[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        for opt, s in zip(self.optimizers, state["optimizers"]):
            opt.load_state_dict(s)
        if self.generator is not None and state.get("generator") is not None:
            self.generator.set_state(state["generator"])
        self.step, self._elapsed = state["step"], state["elapsed"]
        self.stage_index, self.stage_start, self._stage_done = (
            state["stage_index"],
            state["stage_start"],
            state["stage_done"],
        )
        self.history = copy.deepcopy(state["history"])
        self.load_extra_state(state.get("trainer", {}))

    def checkpoint(self) -> None:
        """Remember the current (good) state; write it to ``checkpoint_dir`` when one is set."""
        self._snapshot = self._state()
        if self.checkpoint_path:
            if distributed.is_main(self.group):  # every rank holds the same state: rank 0 writes it
                save_atomic(self._snapshot, self.checkpoint_path)
            self._snapshot_on_disk = self.checkpoint_path

    def load_checkpoint(self, path: Optional[str] = None) -> "TrainingLoop":
        """Resume from a checkpoint (``torch.load(..., weights_only=True)``)."""
        state = load_state(path or self.checkpoint_path, map_location=self.device_for_load())
        where = path or self.checkpoint_path
        if state.get("format") != STATE_FORMAT:
            raise ValueError(
                f"checkpoint {where!r} has format {state.get('format')!r}; "
                f"this version of pinnkit reads format {STATE_FORMAT} (start the run again)"
            )
        differ = config_mismatch(state.get("config", {}), self.run_config())
        if differ:
            shown = "; ".join(f"{k}: {then!r} there, {now!r} here" for k, then, now in differ[:6])
            raise ValueError(
                f"checkpoint {where!r} belongs to another run: {shown}"
                + (f" (and {len(differ) - 6} more)" if len(differ) > 6 else "")
                + "; resume with the same settings (only a longer budget may change) or start over"
            )
        if state["step"] > self.total_steps:
            raise ValueError(
                f"checkpoint {where!r} is at step {state['step']}, past this run's budget of {self.total_steps} "
                "steps; give at least as many steps to resume"
            )
        self._restore(state)
        self._snapshot, self._snapshot_on_disk = state, where
        return self

    def device_for_load(self) -> Optional[torch.device]:
        p = next(iter(self.model.parameters()), None)
        return p.device if p is not None else None
