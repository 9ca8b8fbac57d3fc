"""The one history schema every trainer writes.

``history`` is a plain dict (JSON-ready):

* ``step``: the record's step — the number of completed updates when its loss was evaluated (the loss of a
  first-order record is the one its step's update descended; a quasi-Newton record is the last evaluation
  of its chunk);
* ``stage``: the stage's name (``"adam"``, ``"sgd"``, ``"lbfgs"``, ``"bfgs"``, ``"ssbfgs"``, ``"flow"``...);
* ``time``: cumulative training time in seconds (evaluation and checkpoints excluded);
* ``lr``: the stage's learning rate at that step (1 for quasi-Newton stages);
* ``loss``: the weighted objective; ``terms``: ``{name: [value per record]}``, unweighted;
* ``extra``: ``{name: [value per record]}``, trainer-specific numbers of the same records (for example the
  mean-field flow's time, dissipation and birth–death counts);
* ``diagnostics``: ``{name: [[step, value], ...]}`` from callbacks (held-out errors, bounds, weights), with the
  step at which the callback ran (completed updates).
"""

from __future__ import annotations

from typing import Mapping, Optional

from torch import Tensor

__all__ = ["new_history", "record", "record_diagnostics", "diagnostic_series"]


def new_history() -> dict:
    """An empty history."""
    return {"step": [], "stage": [], "time": [], "lr": [], "loss": [], "terms": {}, "extra": {}, "diagnostics": {}}


def _number(v) -> float:
    return float(v.detach()) if isinstance(v, Tensor) else float(v)


def record(
    history: dict,
    step: int,
    stage: str,
    time: float,
    lr: float,
    loss: object,
    terms: Mapping[str, object],
    extra: Optional[Mapping[str, object]] = None,
) -> None:
    """Append one record (tensors are detached and turned into floats)."""
    history["step"].append(int(step))
    history["stage"].append(stage)
    history["time"].append(float(time))
    history["lr"].append(float(lr))
    history["loss"].append(_number(loss))
    for k, v in terms.items():
        history["terms"].setdefault(k, []).append(_number(v))
    for k, v in (extra or {}).items():
        history["extra"].setdefault(k, []).append(_number(v))


def record_diagnostics(history: dict, step: int, values: Mapping[str, object]) -> None:
    """Append ``[step, value]`` for every ``name: value`` of a callback's result."""
    for k, v in values.items():
        history["diagnostics"].setdefault(k, []).append([int(step), _number(v)])


def diagnostic_series(history: dict, name: str) -> tuple:
    """``(steps, values)`` of one diagnostic, as two lists."""
    pairs = history["diagnostics"].get(name, [])
    return [s for s, _ in pairs], [v for _, v in pairs]
