"""Networks: plain ``torch.nn.Module``s with no PDE knowledge."""

from .activations import ACTIVATIONS, INIT_BY_ACTIVATION, activation, init_linear
from .deeponet import DeepONet, PeriodicEmbedding
from .meanfield import MeanFieldTwoLayer
from .mlp import MLP, FourierFeatures, InputScaling, ResidualMLP

__all__ = [
    "ACTIVATIONS",
    "INIT_BY_ACTIVATION",
    "activation",
    "init_linear",
    "MLP",
    "ResidualMLP",
    "FourierFeatures",
    "InputScaling",
    "MeanFieldTwoLayer",
    "DeepONet",
    "PeriodicEmbedding",
]
