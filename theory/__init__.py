"""What we can promise (``pinnkit.theory``): functions of a trained model and a problem that return numbers —
risk-vs-error bounds, gradient-penalty, mean-field and depth/width diagnostics — each a small dataclass
with its formula and source in the docstring. No training code and no plotting here."""

from .blowup_certified import CertifiedTightBound, certified_tight_bound
from .burgers_blowup import (
    Theorem1Terms,
    Theorem2Terms,
    TightEstimate,
    theorem1,
    theorem2,
    theorem2_consistent,
    tight_estimate,
)
from .certified import ResidualCertificate, certify_residual
from .deeponet_bound import (
    DeepONetSizeEstimate,
    calibrate_constant,
    data_needed_for_q,
    deeponet_parameter_count,
    deeponet_size_estimate,
)
from .depth_width import (
    DepthWidthPrediction,
    DepthWidthSpread,
    MeasuredSpread,
    PredictedFactor,
    depth_width_beta,
    depth_width_prediction,
    depth_width_spread,
)
from .gradients import GradientDiagnostics, gradient_diagnostics
from .meanfield import EnergyDecay, MeanFieldState, ParticleMoments, energy_decay, meanfield_state, particle_moments
from .parabolic import (
    HeatSupBound,
    ParabolicL2Bound,
    heat_sup_bound,
    linear_parabolic_coefficients,
    parabolic_l2_bound,
)
from .theorems_certified import CertifiedTheorem1, CertifiedTheorem2, certified_theorem1, certified_theorem2
from .tracking import TheoryTracker

__all__ = [
    "CertifiedTightBound",
    "certified_tight_bound",
    "CertifiedTheorem1",
    "CertifiedTheorem2",
    "certified_theorem1",
    "certified_theorem2",
    "ResidualCertificate",
    "certify_residual",
    "HeatSupBound",
    "heat_sup_bound",
    "ParabolicL2Bound",
    "parabolic_l2_bound",
    "linear_parabolic_coefficients",
    "Theorem1Terms",
    "Theorem2Terms",
    "TightEstimate",
    "theorem1",
    "theorem2",
    "theorem2_consistent",
    "tight_estimate",
    "GradientDiagnostics",
    "gradient_diagnostics",
    "PredictedFactor",
    "DepthWidthPrediction",
    "MeasuredSpread",
    "DepthWidthSpread",
    "depth_width_beta",
    "depth_width_prediction",
    "depth_width_spread",
    "TheoryTracker",
    "ParticleMoments",
    "particle_moments",
    "MeanFieldState",
    "meanfield_state",
    "EnergyDecay",
    "energy_decay",
    "DeepONetSizeEstimate",
    "deeponet_size_estimate",
    "deeponet_parameter_count",
    "calibrate_constant",
    "data_needed_for_q",
]
