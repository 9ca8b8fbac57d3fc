"""Optimiser stages: typed, validated values that the training loop runs in order.

A run is a sequence of stages, e.g. ``(Adam(steps=2000, lr=3e-3, decay=0.9, every=200), SSBFGS(steps=3000))``:
a first-order stage with an exponential learning-rate schedule, then a quasi-Newton stage that runs in
chunks of ``chunk`` iterations (history, callbacks and checkpoints between chunks). The strings of the
command line (``"adam"``, ``"sgd"``, ``"lbfgs"``, ``"bfgs"``, ``"ssbfgs"``) are shortcuts for these classes
(:func:`first_order`, :func:`quasi_newton`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, Union

import torch

from ..bfgs import BFGS as _DenseBFGS
from ..bfgs import MAX_DENSE_PARAMETERS
from ..validation import check_choice, check_int, check_positive, check_range

__all__ = [
    "Stage",
    "FirstOrder",
    "Adam",
    "SGD",
    "QuasiNewton",
    "LBFGS",
    "BFGS",
    "SSBFGS",
    "first_order",
    "quasi_newton",
    "FIRST_ORDER",
    "QUASI_NEWTON",
    "stage_from_dict",
]

Params = Union[Iterable[torch.Tensor], List[Mapping[str, Any]]]


@dataclass(frozen=True)
class Stage:
    """``steps`` optimiser steps (iterations for a quasi-Newton stage)."""

    steps: int = 0

    name = "stage"

    def validate(self) -> "Stage":
        check_int(f"{self.name}.steps", self.steps, 0)
        return self

    def build(self, params: Params) -> torch.optim.Optimizer:
        raise NotImplementedError

    def as_dict(self) -> dict:
        from dataclasses import asdict

        return {"stage": self.name, **asdict(self)}


@dataclass(frozen=True)
class FirstOrder(Stage):
    """A first-order stage; learning rate at step ``s`` of the stage ``lr · decay^(s / every)``."""

    lr: float = 1e-3
    decay: float = 0.9
    every: int = 1000

    def validate(self) -> "FirstOrder":
        super().validate()
        check_positive("lr", self.lr)
        check_range("lr_decay", self.decay, 0.0, 1.0, low_open=True)
        check_int("decay_every", self.every, 1)
        return self

    def lr_at(self, step: int) -> float:
        """``lr · decay^(step / every)`` for the step ``step`` counted from the stage's start."""
        return self.lr * self.decay ** (step / self.every)


@dataclass(frozen=True)
class Adam(FirstOrder):
    """Adam (Kingma & Ba 2015), torch's fused kernel where the device and dtype have it."""

    name = "adam"

    def build(self, params: Params) -> torch.optim.Optimizer:
        params = list(params)
        try:  # the fused kernel does the whole update in one pass (8× faster than the loop on small nets)
            return torch.optim.Adam(params, lr=self.lr, fused=True)
        except (RuntimeError, TypeError, ValueError):  # pragma: no cover - device/dtype without fused Adam
            return torch.optim.Adam(params, lr=self.lr)


@dataclass(frozen=True)
class SGD(FirstOrder):
    """Plain gradient descent ``θ ← θ − lr_s ∇L``."""

    name = "sgd"

    def build(self, params: Params) -> torch.optim.Optimizer:
        return torch.optim.SGD(list(params), lr=self.lr)


@dataclass(frozen=True)
class QuasiNewton(Stage):
    """A quasi-Newton stage run in chunks of ``chunk`` iterations with a strong-Wolfe line search."""

    chunk: int = 20

    def validate(self) -> "QuasiNewton":
        super().validate()
        check_int("lbfgs_chunk", self.chunk, 1)
        return self


@dataclass(frozen=True)
class LBFGS(QuasiNewton):
    """torch's L-BFGS with ``history`` correction pairs (Liu & Nocedal 1989)."""

    history: int = 50

    name = "lbfgs"

    def validate(self) -> "LBFGS":
        super().validate()
        check_int("lbfgs_history", self.history, 1)
        return self

    def build(self, params: Params) -> torch.optim.Optimizer:
        return torch.optim.LBFGS(
            list(params),
            lr=1.0,
            max_iter=self.chunk,
            max_eval=self.chunk * 4,
            history_size=self.history,
            tolerance_grad=0.0,
            tolerance_change=0.0,
            line_search_fn="strong_wolfe",
        )


@dataclass(frozen=True)
class BFGS(QuasiNewton):
    """Dense BFGS (:mod:`pinnkit.bfgs`), for nets up to ``MAX_DENSE_PARAMETERS`` parameters."""

    name = "bfgs"
    scaling = "none"

    def build(self, params: Params) -> torch.optim.Optimizer:
        params = list(params)
        n = sum(p.numel() for p in params)
        if n > MAX_DENSE_PARAMETERS:
            raise ValueError(
                f"quasi_newton={self.name!r} stores a dense {n}×{n} matrix: the net must have "
                f"<= {MAX_DENSE_PARAMETERS} parameters (it has {n}); use quasi_newton='lbfgs'"
            )
        return _DenseBFGS(params, max_iter=self.chunk, scaling=self.scaling)


@dataclass(frozen=True)
class SSBFGS(BFGS):
    """Dense self-scaled BFGS (Al-Baali's scaling, :mod:`pinnkit.bfgs`); best in float64."""

    name = "ssbfgs"
    scaling = "self"


FIRST_ORDER = {"adam": Adam, "sgd": SGD}
QUASI_NEWTON = {"lbfgs": LBFGS, "bfgs": BFGS, "ssbfgs": SSBFGS}


def first_order(name: str, steps: int, lr: float = 1e-3, decay: float = 0.9, every: int = 1000) -> FirstOrder:
    """The first-order stage named ``name`` (``"adam"`` or ``"sgd"``)."""
    check_choice("optimizer", name, tuple(FIRST_ORDER))
    return FIRST_ORDER[name](steps=steps, lr=lr, decay=decay, every=every).validate()


def quasi_newton(name: str, steps: int, chunk: int = 20, history: int = 50) -> QuasiNewton:
    """The quasi-Newton stage named ``name`` (``"lbfgs"``, ``"bfgs"`` or ``"ssbfgs"``)."""
    check_choice("quasi_newton", name, tuple(QUASI_NEWTON))
    if name == "lbfgs":
        return LBFGS(steps=steps, chunk=chunk, history=history).validate()
    check_int("lbfgs_history", history, 1)
    return QUASI_NEWTON[name](steps=steps, chunk=chunk).validate()


def stage_from_dict(d: Mapping[str, Any]) -> Stage:
    """Inverse of :meth:`Stage.as_dict` (for configurations read back from JSON)."""
    d = dict(d)
    name = d.pop("stage")
    classes = {**FIRST_ORDER, **QUASI_NEWTON}
    check_choice("stage", name, tuple(classes))
    return classes[name](**d).validate()
