"""pinnkit: physics-informed PDE learning, with error bounds computed while training.

The public names are loaded on first use (PEP 562), so ``import pinnkit`` is cheap and a torch-free module
such as :mod:`pinnkit.validation` can be imported without torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "solve": "api",
    "build_net": "api",
    "Fields": "derivatives",
    "MLP": "nets",
    "ResidualMLP": "nets",
    "FourierFeatures": "nets",
    "MeanFieldTwoLayer": "nets",
    "Result": "result",
    "Sampler": "sampling",
    "PINNTrainer": "trainer",
    "TrainConfig": "trainer",
    "TrainingDiverged": "training",
    "Points": "sampling",
    "RAD": "sampling",
    "Loss": "api",
    "Engine": "api",
    "Checkpoint": "api",
    "Adam": "training",
    "SGD": "training",
    "LBFGS": "training",
    "BFGS": "training",
    "SSBFGS": "training",
    "GradientBalance": "training",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value
    try:  # a submodule, e.g. pinnkit.trainer after a bare ``import pinnkit``
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list:
    return sorted(set(globals()) | set(_EXPORTS))
