"""The divergence guard's error: a non-finite loss or parameter stops training at the last good state."""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional

__all__ = ["TrainingDiverged", "InitialLossNotFinite", "EXIT_DIVERGED"]

#: the command line's exit status when training diverged (2: bad input, 130: interrupted)
EXIT_DIVERGED = 3


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite. The model has been restored to the last good state; ``path`` is the
    checkpoint file holding it, or None when none was written (then nothing on disk is named)."""

    def __init__(self, step: int, loss: float, restored_step: int, path: Optional[str]):
        where = (
            f"; last good checkpoint (step {restored_step}) kept at {path}"
            if path
            else f"; model restored to step {restored_step} (no checkpoint file was written)"
        )
        super().__init__(f"training diverged at step {step}: loss = {loss}{where}")
        self.step, self.loss, self.restored_step, self.path = step, loss, restored_step, path


def _float(v: Any) -> float:
    try:
        return float(v.detach()) if hasattr(v, "detach") else float(v)
    except (TypeError, ValueError, RuntimeError):
        return math.nan


class InitialLossNotFinite(ValueError):
    """The loss is NaN or infinite at the initial parameters, before any training step: a setting (a problem
    parameter, a net scale, the dtype) makes the numbers overflow. A bad input, so a ``ValueError``."""

    def __init__(self, loss: float, terms: Mapping[str, Any], problem: Optional[Mapping[str, Any]] = None):
        bad = [f"{k} = {_float(v):.3g}" for k, v in terms.items() if not math.isfinite(_float(v))]
        params = {k: v for k, v in (problem or {}).items() if k != "name"}
        large = {k: v for k, v in params.items() if isinstance(v, (int, float)) and abs(v) >= 1e6}
        hint = (
            f"; the problem parameter(s) {', '.join(f'{k}={v!r}' for k, v in large.items())} are too large"
            if large
            else "; check the problem's parameters, the net's scales and the dtype"
        )
        super().__init__(
            f"the loss is {loss} at the initial parameters, before any training step"
            + (f" ({', '.join(bad)})" if bad else "")
            + hint
        )
        self.loss, self.terms = loss, dict(terms)
