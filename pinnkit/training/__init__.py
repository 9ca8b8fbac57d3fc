"""The training core: one loop (:mod:`.loop`) under every trainer, its optimiser stages (:mod:`.stages`),
history schema (:mod:`.history`), checkpoints (:mod:`.checkpoint`), divergence guard (:mod:`.divergence`)
and loss balancing (:mod:`.balance`)."""

from .balance import GradientBalance
from .divergence import InitialLossNotFinite, TrainingDiverged
from .history import new_history
from .loop import Callback, TrainingLoop
from .stages import BFGS, LBFGS, SGD, SSBFGS, Adam, FirstOrder, QuasiNewton, Stage, first_order, quasi_newton

__all__ = [
    "TrainingLoop",
    "Callback",
    "TrainingDiverged",
    "InitialLossNotFinite",
    "new_history",
    "GradientBalance",
    "Stage",
    "FirstOrder",
    "QuasiNewton",
    "Adam",
    "SGD",
    "LBFGS",
    "BFGS",
    "SSBFGS",
    "first_order",
    "quasi_newton",
]
