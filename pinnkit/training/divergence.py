"""The divergence guard's error: a non-finite loss or parameter stops training at the last good state."""

from __future__ import annotations

from typing import Optional

__all__ = ["TrainingDiverged"]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite. The model has been restored to the last good checkpoint."""

    def __init__(self, step: int, loss: float, restored_step: int, path: Optional[str]):
        where = (
            f"; last good checkpoint (step {restored_step}) kept at {path}"
            if path
            else f"; model restored to step {restored_step}"
        )
        super().__init__(f"training diverged at step {step}: loss = {loss}{where}")
        self.step, self.loss, self.restored_step, self.path = step, loss, restored_step, path
