"""pinnkit: physics-informed PDE learning, with error bounds computed while training."""

__version__ = "0.1.0"

from .api import build_net, solve  # noqa: E402
from .derivatives import Fields  # noqa: E402
from .nets import MLP, FourierFeatures, MeanFieldTwoLayer, ResidualMLP  # noqa: E402
from .result import Result  # noqa: E402
from .sampling import Sampler  # noqa: E402
from .trainer import PINNTrainer, TrainConfig, TrainingDiverged  # noqa: E402

__all__ = [
    "__version__",
    "solve",
    "build_net",
    "Fields",
    "MLP",
    "ResidualMLP",
    "FourierFeatures",
    "MeanFieldTwoLayer",
    "Result",
    "Sampler",
    "PINNTrainer",
    "TrainConfig",
    "TrainingDiverged",
]
