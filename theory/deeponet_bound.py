"""DeepONet size lower bound of Mukherjee & Roy (TMLR 2024, arXiv 2308.06338), as an ESTIMATE.

What the sources searched (``search`` corpus "pages"; stored pages arxiv.org/html/2308.06338v3,
ar5iv.labs.arxiv.org/html/2308.06338, openreview.net/forum?id=RwmWODTNFE, plus abstract listings) establish:

* Version and exponent.  arXiv v3 (23 Feb 2024; the TMLR version, accepted 1 Feb 2024, OpenReview RwmWODTNFE)
  states in its abstract that a DeepONet reaching low *training* (empirical) error on n *noisy* data points
  needs a common branch/trunk output dimension q that grows as Ω(n^{1/4}); the abstract calls the bound
  data-dependent (it is stated in terms of the number n of training points).  The ar5iv rendering (another,
  presumably earlier, version; its number is not shown) has Ω(n^{1/6}); an abstract listing of yet another
  (undated, apparently the first) version has Ω(√n).  We use the v3 exponent 1/4.
* Experiments (v3 abstract): advection–diffusion–reaction; at fixed model size, making a larger q keep
  lowering the training error appears to need training data growing *at least* quadratically in q (the
  √n-version's abstract drops "at least").  This is an empirical observation, not a theorem.
* Regime.  The bound concerns an empirical risk pushed below a threshold set by the label noise (a
  third-party summary, sciencestack.ai, says "below a noise-driven threshold" and that the theory is
  specialised to "sigmoid-ended" nets, i.e. branch/trunk outputs squashed into a bounded range).  That
  summary is machine-generated and not authoritative.

What could NOT be recovered: the stored copies hold only the title, abstract and opening of the
introduction, so the theorem itself — its number, the exact class of nets (activations, which layer is
sigmoid-ended, the output bound, the norm bounds on the weights and biases), the noise model (independent
noise of variance σ²? bounded labels?), the distribution assumed for (input function, location) pairs, the
margin by which the risk must sit below σ², the confidence level and the constant inside Ω — was not seen.
Hence, of the inequality ``q ≥ C · n^{1/4}``:

    known:    the exponent 1/4 (v3), and qualitatively the regime (training risk below the noise level);
    unknown:  C and every quantity it depends on (weight/output bounds, noise level, margin, confidence,
              input dimension), the precise threshold, and the hypotheses that define the net class.

A proved bound cannot be evaluated, so none is offered: everything here is an estimate,

    q_min(n) = ⌈C · n^{1/4}⌉,         size_min(n) = size of the architecture at q = q_min(n),
    n_min(q) = ⌈c · q²⌉               (the experimental data-scaling law, "at least quadratic"),

with C (and c) given or calibrated from one measured point (:func:`calibrate_constant`), and the results
carry ``is_bound = False`` and ``estimated = True`` (the project's rule: a *bound* is a proved bound with
every constant computed).  Only the *shape* (exponent 1/4, monotone in n) is the paper's.  Our regime check
``level < noise_variance`` (else ``applies = False``, q_min = 1: the noiseless target itself already has a
training risk of about σ², so reaching such a level needs no fitting of the noise) is our reading of "low
training error on noisy data", not the theorem's threshold.

Our nets would also be outside the class the summary describes even if the constant were known:
:class:`pinnkit.nets.DeepONet` has a *linear, unbounded* last branch layer; its trunk ends in the hidden
activation (default tanh: values in [−1, 1], not a sigmoid's (0, 1); ``activation="sigmoid"`` would bound
only the trunk) unless ``trunk_output_activation=False`` (then unbounded too); it adds a trainable output
bias b_0; and the operator trainer runs plain Adam without any norm constraint or projection, so no
a-priori weight or output bound holds.  Exposing a bound would need (i) the theorem's text (v3, with its
number) and (ii) nets built inside its class (bounded-output ends, weights clipped/projected to the stated
norm ball), with a check that refuses other nets.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from pinnkit.validation import check_min_int, check_nonnegative, check_positive

__all__ = [
    "DeepONetSizeEstimate",
    "deeponet_size_estimate",
    "deeponet_parameter_count",
    "calibrate_constant",
    "data_needed_for_q",
    "Q_EXPONENT",
]

Q_EXPONENT = 0.25  # q = Ω(n^{1/4}) in arXiv v3 / TMLR (earlier versions: n^{1/6}, and √n in one listing)
SOURCE = "Mukherjee & Roy, Size lower bounds for deep operator networks, TMLR 2024 (arXiv 2308.06338v3)"


def deeponet_parameter_count(
    q: int,
    m_sensors: int,
    coord_dim: int = 2,
    branch_hidden: Sequence[int] = (64, 64, 64),
    trunk_hidden: Sequence[int] = (64, 64, 64),
    n_out: int = 1,
) -> int:
    """Trainable parameters of an unstacked DeepONet with fully connected branch R^m → R^{q n_out} and trunk
    R^d → R^{q n_out} (hidden widths as given, biases everywhere) plus n_out output biases:
    Σ_layers (fan_in + 1) fan_out over both nets + n_out.  (For :class:`pinnkit.nets.DeepONet` without
    input embeddings this equals ``net.n_parameters()``.)"""
    q = check_min_int("q", q)
    m_sensors = check_min_int("m_sensors", m_sensors)
    coord_dim = check_min_int("coord_dim", coord_dim)
    n_out = check_min_int("n_out", n_out)
    branch = _check_widths("branch_hidden", branch_hidden)
    trunk = _check_widths("trunk_hidden", trunk_hidden)

    def mlp(d_in: int, hidden: Sequence[int]) -> int:
        dims = [d_in] + list(hidden) + [q * n_out]
        return sum((a + 1) * b for a, b in zip(dims[:-1], dims[1:]))

    return mlp(m_sensors, branch) + mlp(coord_dim, trunk) + n_out


def _check_widths(name: str, widths: Sequence[int]) -> List[int]:
    """Hidden widths: a sequence (possibly empty: no hidden layer) of integers >= 1."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, (Sequence, np.ndarray)):
        raise ValueError(f"{name} must be a sequence of integer widths >= 1, got {widths!r}")
    return [check_min_int(f"{name}[{i}]", w) for i, w in enumerate(widths)]


def _finite(value: float, what: str) -> float:
    """``value`` if it is a finite float, else a ValueError saying which arguments made it overflow."""
    if not math.isfinite(value):
        raise ValueError(f"{what} overflows (the result is not a finite number); lower them")
    return value


@dataclass
class DeepONetSizeEstimate:
    """Estimated smallest q (and parameter count) at which a DeepONet can push its empirical risk on
    ``n_train`` noisy training samples below ``level``: ``q_min = max(1, ⌈C n^{1/4}⌉)`` when
    ``level < noise_variance`` (see the module docstring; an ESTIMATE: ``is_bound = False``)."""

    n_train: int
    level: float
    noise_variance: Optional[float]
    constant: float
    exponent: float
    q_min: int
    q_min_real: float
    size_min: Optional[int]
    applies: bool
    is_bound: bool = False
    estimated: bool = True
    formula: str = "q_min = ceil(C * n^(1/4)) for empirical risk < noise variance"
    source: str = SOURCE

    def as_dict(self) -> Dict:
        return asdict(self)


def deeponet_size_estimate(
    n_train: int,
    level: float = 0.0,
    noise_variance: Optional[float] = None,
    constant: float = 1.0,
    m_sensors: Optional[int] = None,
    coord_dim: int = 2,
    branch_hidden: Sequence[int] = (64, 64, 64),
    trunk_hidden: Sequence[int] = (64, 64, 64),
    n_out: int = 1,
) -> DeepONetSizeEstimate:
    """Estimate of the smallest common dimension q for training risk < ``level`` on ``n_train`` samples.

    ``n_train`` counts training data points (function–location–value triples; for a Cartesian data set,
    functions × locations).  ``noise_variance`` σ² of the labels: the estimate applies for ``level < σ²``
    (None: assumed to apply).  ``constant`` is the unknown C (calibrate with :func:`calibrate_constant`).
    With ``m_sensors`` the architecture's parameter count at q_min is returned as ``size_min``."""
    n = check_min_int("n_train", n_train)
    level = check_nonnegative("level", level)
    c = check_positive("constant", constant)
    if noise_variance is not None:
        noise_variance = check_positive("noise_variance", noise_variance)
    if m_sensors is not None:
        m_sensors = check_min_int("m_sensors", m_sensors)
    coord_dim = check_min_int("coord_dim", coord_dim)
    n_out = check_min_int("n_out", n_out)
    branch_hidden = _check_widths("branch_hidden", branch_hidden)
    trunk_hidden = _check_widths("trunk_hidden", trunk_hidden)
    applies = noise_variance is None or level < noise_variance
    q_real = c * _root(n, "n_train") if applies else 1.0
    q_min = max(1, math.ceil(_finite(q_real, f"constant * n_train^{Q_EXPONENT} (constant={c}, n_train={n})") - 1e-12))
    size = None
    if m_sensors is not None:
        size = deeponet_parameter_count(q_min, m_sensors, coord_dim, branch_hidden, trunk_hidden, n_out)
    return DeepONetSizeEstimate(n, level, noise_variance, c, Q_EXPONENT, q_min, q_real, size, applies)


def calibrate_constant(q_observed: float, n_observed: int) -> float:
    """C such that C · n^{1/4} = q at one measured point (e.g. the smallest q that reached the level with
    n samples); predictions at other n then test the exponent, not the constant."""
    q = check_positive("q_observed", q_observed)
    return q / _root(check_min_int("n_observed", n_observed), "n_observed")


def _root(n: int, name: str) -> float:
    """``n ** Q_EXPONENT``; a ValueError naming ``name`` when ``n`` is too large for a float."""
    try:
        return n**Q_EXPONENT
    except OverflowError:
        raise ValueError(f"{name} must be an integer in [1, {sys.float_info.max:.3g}], got {n}") from None


def data_needed_for_q(q: int, constant: float = 1.0) -> int:
    """Conjectured scaling law (Mukherjee & Roy's experiments, an estimate): ``n_min = ⌈c q²⌉`` samples for a
    larger q to keep lowering the training error at fixed model size."""
    c, q = check_positive("constant", constant), check_min_int("q", q)
    try:
        need = c * q**2
    except OverflowError:
        need = math.inf
    return math.ceil(_finite(need, f"constant * q^2 (constant={c}, q={q})") - 1e-12)
