r"""Depth/width diagnostics at initialisation: β = Σ_l 1/n_l, the predicted spread over random initialisations
of the squared activation length and of gradient norms, and the spread measured over many seeds beside it.

Notation. A net with hidden layers of widths ``n_1 … n_L`` (the layers followed by the activation; for
:class:`~pinnkit.nets.ResidualMLP` the lift and the ``depth`` blocks, ``depth + 1`` layers, whereas its
``hidden_widths()`` lists only the blocks) maps a fixed input ``x`` to ``h_0`` (``x`` after the input scaling
and Fourier features, ``n_0 = feature_dim`` entries), then ``h_l = σ(W_l h_{l−1} + b_l)``, and ``u = W h_L + b``.
``M_l = ‖h_l‖²/n_l``. ``β = Σ_{l=1}^{L} 1/n_l`` (for constant width, depth/width). For the spread of a
positive random quantity ``X`` over initialisations we report ``E[X²]/E[X]² = 1 + Var(X)/E[X]²``.

Three quantities, each at a fixed input ``x``:

* ``length``: ``M_L``, the mean squared entry of the last hidden layer.
* ``ntk``: ``Θ(x, x) = ‖∂u/∂θ‖²`` over every weight and bias (head included): the NTK diagonal.
* ``input_gradient``: ``G = ‖∇_x u‖²`` (derivatives with respect to the raw input, before the input scaling).

What is predicted, per activation (``kind``):

1. ``length`` — **exact** for the ReLU MLP with Gaussian zero-mean weights (any variance per layer; pinnkit's He
   ``2/fan_in`` and Glorot ``2/(fan_in+fan_out)`` both draw ``normal_``, :func:`pinnkit.nets.init_linear`) and
   zero biases:

       E[M_L²] / E[M_L]² = Π_{l=1}^{L} (1 + 5/n_l)          (≈ e^{5β} when every n_l is large)

   Derivation (Hanin & Rolnick 2018, "How to start training: the effect of initialization and architecture",
   NeurIPS 31, Thm 5 for He init: E[M_L] = M_0 and a variance of M_L exponential in β; the exact product is
   this recursion). Given ``h = h_{l−1}``, the pre-activations ``z_i = Σ_j W_ij h_j`` are i.i.d.
   ``N(0, σ²)``, ``σ² = v_l ‖h‖²`` (``v_l`` the weight variance; He: ``σ² = 2‖h‖²/n_{l−1}``). For ReLU
   ``E relu(z)² = σ²/2`` and ``E relu(z)⁴ = 3σ⁴/2`` (half of the Gaussian moments), so with ``c_l = n_l v_l/2``

       E[‖h_l‖² | h] = n_l σ²/2 = c_l ‖h‖²,
       E[‖h_l‖⁴ | h] = n_l · 3σ⁴/2 + n_l(n_l − 1) σ⁴/4 = (n_l σ²/2)² (1 + 5/n_l) = c_l² ‖h‖⁴ (1 + 5/n_l),

   and by the tower property ``E‖h_L‖² = Π c_l ‖h_0‖²``, ``E‖h_L‖⁴ = Π c_l² (1 + 5/n_l) ‖h_0‖⁴``: the ratio is
   the product above for every fixed ``x`` with ``h_0 ≠ 0`` (He: ``c_l = n_l/n_{l−1}``, so E[M_L] = M_0).
   The Gaussian fourth moment is essential: for other weight laws ``E z⁴`` involves ``Σ_j h_j⁴``, not only
   ``‖h‖²``, and the recursion does not close.
   For the identity activation the same steps give ``Π (1 + 2/n_l)`` exactly (``E z⁴ = 3σ⁴``); for tanh and sin
   (odd, unit slope at 0) that product is an **estimate** (the linearisation ``σ(z) ≈ z``, good while the
   pre-activations are small, which Glorot init keeps them in these nets: ``v_l ≈ 1/n``). GELU, SiLU,
   softplus, sigmoid and every residual MLP are **not covered** (no value): for the residual update
   ``h + L^{−1/2} σ(W h)`` the conditional moments involve ``Σ_i h_i`` and ``⟨h, σ(Wh)⟩``, not only ``‖h‖²``
   (Hanin & Rolnick prove that the variance of the activation length does not blow up in residual nets once the
   mean length is controlled, without a formula for this architecture).
2. ``ntk`` — **estimate** for the ReLU MLP: ``E[Θ²]/E[Θ]² ≃ exp(5β)`` (Hanin & Nica 2019, "Finite depth and
   width corrections to the neural tangent kernel", ICLR 2020, Thm 1: He-initialised ReLU nets; ``≃`` hides
   constant factors and O(1/n) corrections, asymptotic in depth and width). The value given is ``exp(5β)``;
   compare its growth in β (``rate = 5``), not its level. Not covered for other activations.
3. ``input_gradient`` — **estimate, growth only** for the ReLU MLP: Hanin 2018 ("Which neural net architectures
   give rise to exploding and vanishing gradients?", NeurIPS 31, Thm 1) shows that the second moment of the
   squared entries of the input–output Jacobian, relative to the square of their mean, grows exponentially in
   β with constants bounded above and below (depending on the weights' fourth moment); no constant is computed
   here, so ``value = None``. Not covered for other activations.

The measured side (:func:`depth_width_spread`) is an **estimate** too (sampled): seed ``s`` of ``n_seeds`` is the
net re-initialised from ``torch.Generator().manual_seed(seed + s)`` (:func:`fresh_init`), evaluated in float64
at ``n_points`` fixed inputs; ``E[X²]/E[X]²`` per point, averaged over the points, with a delta-method standard
error over seeds (itself unreliable when ``X`` is heavy-tailed, i.e. at large β). No number here is a bound.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn

from pinnkit.nets import ACTIVATIONS, INIT_BY_ACTIVATION, MLP, ResidualMLP, init_linear
from pinnkit.validation import check_choice, check_int, check_list, check_points

from .checks import ArgumentTypeError, check_memory, check_seed

__all__ = [
    "ARCHITECTURES",
    "KINDS",
    "QUANTITIES",
    "SOURCES",
    "PredictedFactor",
    "DepthWidthPrediction",
    "MeasuredSpread",
    "DepthWidthSpread",
    "hidden_layer_widths",
    "depth_width_beta",
    "depth_width_prediction",
    "fresh_init",
    "init_points",
    "init_samples",
    "depth_width_spread",
]

ARCHITECTURES = ("mlp", "resmlp")
#: how a predicted value is known: proved for these nets, an estimate (asymptotic or linearised), or not at all
KINDS = ("exact", "estimate", "not covered")
QUANTITIES = ("length", "ntk", "input_gradient")
SOURCES = {
    "hanin_rolnick_2018": "Hanin & Rolnick, How to start training: the effect of initialization and architecture, "
    "NeurIPS 31 (2018), Thm 5 (ReLU, He init); the exact product follows from the recursion derived here",
    "hanin_nica_2019": "Hanin & Nica, Finite depth and width corrections to the neural tangent kernel, ICLR 2020 "
    "(arXiv 1909.05989), Thm 1 (ReLU, He init)",
    "hanin_2018": "Hanin, Which neural net architectures give rise to exploding and vanishing gradients?, "
    "NeurIPS 31 (2018), Thm 1 (ReLU)",
}
#: activations whose length factor is estimated by the linearisation σ(z) ≈ z (odd, σ'(0) = 1)
LINEARISED = ("tanh", "sin")
#: the most seeds and points :func:`init_samples` accepts
MAX_SEEDS, MAX_POINTS = 1_000_000, 64
#: the seed-chunk of :func:`init_samples` holds about this many bytes of parameters and gradients
_CHUNK_BYTES = 32 * 2**20
#: the fixed default inputs are drawn with this seed (independent of the initialisation seeds)
POINT_SEED = 20180


@dataclass(frozen=True)
class PredictedFactor:
    """The predicted ``E[X²]/E[X]²`` of one quantity (``length``, ``ntk``, ``input_gradient``): ``value`` (None
    when no number is known), ``kind`` (``exact`` / ``estimate`` / ``not covered``), ``rate`` (``c`` of a stated
    growth ``exp(c β)``, None where none is), the ``formula`` and its ``source``."""

    quantity: str
    value: Optional[float]
    kind: str
    rate: Optional[float]
    formula: str
    source: str

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DepthWidthPrediction:
    """β and the predicted spreads of a net at initialisation (module docstring: formulas and sources)."""

    architecture: str
    activation: str
    init: str
    widths: Tuple[int, ...]
    beta: float
    length: PredictedFactor
    ntk: PredictedFactor
    input_gradient: PredictedFactor

    def factor(self, quantity: str) -> PredictedFactor:
        return getattr(self, check_choice("quantity", quantity, QUANTITIES))

    def as_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["widths"] = list(self.widths)
        return d


@dataclass(frozen=True)
class MeasuredSpread:
    """One quantity measured over seeds: ``mean`` of ``X`` (averaged over the points), ``ratio`` =
    ``E[X²]/E[X]²`` (per point, averaged) with its delta-method standard error ``ratio_se``, the ``predicted``
    value and its ``kind``, and ``z = (ratio − predicted)/ratio_se`` (None without a predicted value). For
    ``length`` also ``mean_over_m0`` = ``E[M_L]/M_0`` and its standard error (1 for He-initialised ReLU)."""

    quantity: str
    mean: float
    ratio: float
    ratio_se: float
    predicted: Optional[float]
    kind: str
    z: Optional[float]
    mean_over_m0: Optional[float] = None
    mean_over_m0_se: Optional[float] = None
    estimated: bool = True

    @property
    def relative_variance(self) -> float:
        """``Var(X)/E[X]² = ratio − 1``."""
        return self.ratio - 1.0

    def as_dict(self) -> Dict[str, Any]:
        return {**asdict(self), "relative_variance": self.relative_variance}


@dataclass(frozen=True)
class DepthWidthSpread:
    """Measured beside predicted: the :class:`DepthWidthPrediction` of the net and a :class:`MeasuredSpread`
    per quantity over ``n_seeds`` initialisations (seeds ``seed … seed + n_seeds − 1``) at ``n_points`` inputs.
    Sampled: ``estimated = True``, never a bound."""

    prediction: DepthWidthPrediction
    n_seeds: int
    seed: int
    n_points: int
    length: MeasuredSpread
    ntk: MeasuredSpread
    input_gradient: MeasuredSpread
    seconds: float
    estimated: bool = True
    is_bound: bool = False

    @property
    def beta(self) -> float:
        return self.prediction.beta

    def measured(self, quantity: str) -> MeasuredSpread:
        return getattr(self, check_choice("quantity", quantity, QUANTITIES))

    def as_dict(self) -> Dict[str, Any]:
        return {
            "prediction": self.prediction.as_dict(),
            "n_seeds": self.n_seeds,
            "seed": self.seed,
            "n_points": self.n_points,
            **{q: self.measured(q).as_dict() for q in QUANTITIES},
            "seconds": self.seconds,
            "estimated": True,
            "is_bound": False,
        }


# ---------------------------------------------------------------- checks
def _check_net(name: str, net: Any) -> nn.Module:
    if not isinstance(net, (MLP, ResidualMLP)):
        raise ArgumentTypeError(
            f"{name} must be a pinnkit.nets.MLP or ResidualMLP (the nets these diagnostics cover), got "
            f"{type(net).__name__}"
        )
    return net


def _check_widths(widths: Any) -> Tuple[int, ...]:
    items = check_list("widths", widths, "integers in [1, 10**9]")
    return tuple(check_int("widths", w, 1, 10**9) for w in items)


def hidden_layer_widths(net: Union[MLP, ResidualMLP]) -> List[int]:
    """Widths ``n_1 … n_L`` of the layers followed by the activation: an MLP's ``depth`` hidden layers; a
    residual MLP's lift and its ``depth`` blocks (``depth + 1`` layers)."""
    _check_net("net", net)
    layers = list(net.hidden) if isinstance(net, MLP) else [net.lift, *net.blocks]
    return [int(m.out_features) for m in layers]


def depth_width_beta(net_or_widths: Union[MLP, ResidualMLP, Sequence[int]]) -> float:
    """``β = Σ_l 1/n_l`` over the hidden widths (:func:`hidden_layer_widths` of a net, or the list given);
    for constant width ``n`` and ``L`` hidden layers, ``L/n`` (Hanin 2018; Hanin & Rolnick 2018)."""
    if isinstance(net_or_widths, (MLP, ResidualMLP)):
        widths = hidden_layer_widths(net_or_widths)
    elif isinstance(net_or_widths, nn.Module):
        raise ArgumentTypeError(
            f"net_or_widths must be a pinnkit.nets.MLP / ResidualMLP or a list of widths, got "
            f"{type(net_or_widths).__name__}"
        )
    else:
        try:
            widths = list(_check_widths(net_or_widths))
        except ValueError as exc:
            raise ValueError(f"net_or_widths: {exc} (or give a pinnkit.nets.MLP / ResidualMLP)") from None
    return float(math.fsum(1.0 / n for n in widths))


# ---------------------------------------------------------------- the predictions
def _length_factor(architecture: str, activation: str, widths: Sequence[int]) -> PredictedFactor:
    if architecture == "mlp" and activation == "relu":
        return PredictedFactor(
            "length",
            math.prod(1.0 + 5.0 / n for n in widths),
            "exact",
            5.0,
            "E[M_L²]/E[M_L]² = Π_l (1 + 5/n_l) ≈ exp(5β) (ReLU, Gaussian zero-mean weights, zero biases, fixed x ≠ 0)",
            SOURCES["hanin_rolnick_2018"],
        )
    if architecture == "mlp" and activation in LINEARISED:
        return PredictedFactor(
            "length",
            math.prod(1.0 + 2.0 / n for n in widths),
            "estimate",
            2.0,
            f"E[M_L²]/E[M_L]² ≈ Π_l (1 + 2/n_l) ≈ exp(2β): exact for the identity activation (Gaussian weights, "
            f"zero biases); for {activation} the linearisation σ(z) ≈ z, an estimate for small pre-activations",
            "derived here (the recursion of Hanin & Rolnick 2018 with E z⁴ = 3σ⁴)",
        )
    why = (
        "the residual update h + L^(-1/2) σ(W h) has conditional moments that depend on more than ‖h‖²"
        if architecture == "resmlp"
        else f"no formula for {activation}: its moments under a Gaussian pre-activation do not close in ‖h‖²"
    )
    return PredictedFactor("length", None, "not covered", None, why, "none")


def _ntk_factor(architecture: str, activation: str, beta: float) -> PredictedFactor:
    if architecture == "mlp" and activation == "relu":
        return PredictedFactor(
            "ntk",
            math.exp(5.0 * beta),
            "estimate",
            5.0,
            "E[Θ²]/E[Θ]² ≃ exp(5β), Θ = ‖∂u/∂θ‖² = K(x, x); ≃: up to constant factors and O(1/n), asymptotic in "
            "depth and width: compare the growth (rate 5), not the level",
            SOURCES["hanin_nica_2019"],
        )
    return PredictedFactor("ntk", None, "not covered", None, f"no result for {architecture} / {activation}", "none")


def _gradient_factor(architecture: str, activation: str) -> PredictedFactor:
    if architecture == "mlp" and activation == "relu":
        return PredictedFactor(
            "input_gradient",
            None,
            "estimate",
            None,
            "log E[Z²²]/E[Z²]² of the input-output Jacobian entries Z grows linearly in β, between constant "
            "multiples of β (constants depend on the weights' fourth moment; not computed: growth only)",
            SOURCES["hanin_2018"],
        )
    return PredictedFactor(
        "input_gradient", None, "not covered", None, f"no result for {architecture} / {activation}", "none"
    )


def depth_width_prediction(
    net: Optional[Union[MLP, ResidualMLP]] = None,
    widths: Optional[Sequence[int]] = None,
    activation: Optional[str] = None,
    architecture: str = "mlp",
    init: Optional[str] = None,
) -> DepthWidthPrediction:
    """β and the predicted ``E[X²]/E[X]²`` of the squared activation length, the NTK diagonal and the squared
    input gradient at initialisation, each with its ``kind`` (exact / estimate / not covered), formula and
    source (module docstring). Give a ``net`` (MLP or ResidualMLP: its widths, activation and init are read
    off it), or ``widths`` with an ``activation`` (``architecture`` ``"mlp"`` or ``"resmlp"``, ``init``
    default by activation)."""
    if net is not None:
        _check_net("net", net)
        if widths is not None or activation is not None or init is not None:
            raise ValueError("give net, or widths with activation (and init), not both: net fixes them")
        architecture = "mlp" if isinstance(net, MLP) else "resmlp"
        ws = tuple(hidden_layer_widths(net))
        activation, init = net.activation_name, net.init_scheme
    else:
        if widths is None:
            raise ValueError("widths must be given (a non-empty list of integers >= 1) when net is None")
        ws = _check_widths(widths)
        check_choice("activation", activation, ACTIVATIONS)
        check_choice("architecture", architecture, ARCHITECTURES)
        init = INIT_BY_ACTIVATION[activation] if init is None else check_choice("init", init, ("glorot", "he"))
    beta = float(math.fsum(1.0 / n for n in ws))
    return DepthWidthPrediction(
        architecture=architecture,
        activation=activation,
        init=init,
        widths=ws,
        beta=beta,
        length=_length_factor(architecture, activation, ws),
        ntk=_ntk_factor(architecture, activation, beta),
        input_gradient=_gradient_factor(architecture, activation),
    )


# ---------------------------------------------------------------- the measurement
def fresh_init(net: Union[MLP, ResidualMLP], seed: int) -> nn.Module:
    """A copy of ``net`` with every ``nn.Linear`` re-initialised, in module order, by
    :func:`pinnkit.nets.init_linear` (the net's own scheme, biases zero) from ``torch.Generator().manual_seed(seed)``;
    input scaling and Fourier features (fixed buffers) are kept. Seed ``s`` of :func:`init_samples` is this net."""
    _check_net("net", net)
    seed = check_int("seed", seed, 0, 2**64 - 1)
    out = copy.deepcopy(net)
    g = torch.Generator().manual_seed(seed)
    for m in out.modules():
        if isinstance(m, nn.Linear):
            init_linear(m, out.init_scheme, generator=g)
    return out


def init_points(net: Union[MLP, ResidualMLP], n_points: int = 4) -> torch.Tensor:
    """``n_points`` fixed inputs (float64, ``(n_points, in_dim)``): uniform in the net's input box when it has
    an input scaling, else in ``[−1, 1]^D``, from a generator seeded :data:`POINT_SEED`."""
    _check_net("net", net)
    n_points = check_int("n_points", n_points, 1, MAX_POINTS)
    g = torch.Generator().manual_seed(POINT_SEED)
    u = torch.rand(n_points, net.in_dim, generator=g, dtype=torch.float64)
    if net.scaling is not None:
        c, hw = net.scaling.center.double(), net.scaling.half_width.double()
        return c + hw * (2 * u - 1)
    return 2 * u - 1


def _n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def _check_sample_args(net: Any, x: Any, n_seeds: Any, seed: Any, n_points: Any) -> Tuple[int, int, torch.Tensor]:
    """Every argument of :func:`init_samples`, checked before any work; returns ``(n_seeds, seed, points)``."""
    _check_net("net", net)
    n_seeds = check_int("n_seeds", n_seeds, 2, MAX_SEEDS)
    seed = check_seed("seed", seed)
    if x is None:
        pts = init_points(net, n_points)
    else:
        if not isinstance(x, torch.Tensor):
            raise ArgumentTypeError(
                f"x must be None or a torch.Tensor of shape (P, {net.in_dim}), got {type(x).__name__}"
            )
        check_points("x", x, net.in_dim)
        check_int("x rows", x.shape[0], 1, MAX_POINTS)
        pts = x.detach().to("cpu", torch.float64)
    with torch.no_grad():
        h0 = copy.deepcopy(net).double().embed(pts)
    m0 = (h0**2).sum(-1) / h0.shape[-1]
    if not bool((m0 > 0).all()):
        raise ValueError("x must not hold an input whose embedding is 0 (M_0 = 0: the spreads are undefined there)")
    n_params = _n_params(net)
    check_memory(
        "n_seeds", n_seeds, 8 * n_seeds * len(pts) * 4 + 4 * _CHUNK_BYTES + 64 * n_params, "init_samples (results)"
    )
    return n_seeds, seed, pts


def init_samples(
    net: Union[MLP, ResidualMLP],
    x: Optional[torch.Tensor] = None,
    n_seeds: int = 2000,
    seed: int = 0,
    n_points: int = 4,
) -> Dict[str, np.ndarray]:
    """Per-seed samples at initialisation: ``{"length": M_L, "ntk": Θ(x,x), "input_gradient": ‖∇_x u‖²}``, each
    ``(n_seeds, P)``, plus ``"m0"`` (``(P,)``, M_0 of each input) and ``"x"``. Seed ``s`` is
    ``fresh_init(net, seed + s)``, evaluated in float64 at the inputs ``x`` (default :func:`init_points`); the
    seeds are evaluated in chunks, vectorised with ``torch.func.vmap``. Scalar-output nets only are needed:
    for ``out_dim > 1`` the first output is used."""
    from torch.func import functional_call, grad, vmap

    n_seeds, seed, pts = _check_sample_args(net, x, n_seeds, seed, n_points)
    template = copy.deepcopy(net)
    body = copy.deepcopy(template).double()
    body.head = nn.Identity()  # its forward returns h_L
    linears = [(name, m) for name, m in template.named_modules() if isinstance(m, nn.Linear)]
    n_params = _n_params(template)
    chunk = max(1, min(n_seeds, _CHUNK_BYTES // (8 * n_params * (2 + len(pts)))))

    scratch = copy.deepcopy(template)  # re-initialised in place per seed (no draw from torch's global generator)
    scratch_linears = [m for m in scratch.modules() if isinstance(m, nn.Linear)]

    def draw(s: int) -> Dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(seed + s)
        out = {}
        for (name, _), m in zip(linears, scratch_linears):  # the module order of fresh_init / _init_all
            init_linear(m, template.init_scheme, generator=g)
            out[f"{name}.weight"] = m.weight.detach().to(torch.float64, copy=True)
            if m.bias is not None:
                out[f"{name}.bias"] = m.bias.detach().to(torch.float64, copy=True)
        return out

    def head_out(p: Dict[str, torch.Tensor], h: torch.Tensor) -> torch.Tensor:
        return h @ p["head.weight"][0] + p["head.bias"][0]

    def features(p: Dict[str, torch.Tensor], xi: torch.Tensor) -> torch.Tensor:
        params = {k: v for k, v in p.items() if not k.startswith("head.")}
        return functional_call(body, params, (xi.unsqueeze(0),))[0]

    def u(p: Dict[str, torch.Tensor], xi: torch.Tensor) -> torch.Tensor:
        return head_out(p, features(p, xi))

    def per_point(p: Dict[str, torch.Tensor], xi: torch.Tensor):
        h = features(p, xi)
        gp, gx = grad(u, argnums=(0, 1))(p, xi)
        ntk = sum((v**2).sum() for v in gp.values())
        return (h**2).mean(), ntk, (gx**2).sum()

    per_seed = vmap(per_point, in_dims=(None, 0))  # over the points
    batched = vmap(per_seed, in_dims=(0, None))  # over the seeds
    out = {q: np.empty((n_seeds, len(pts))) for q in QUANTITIES}
    for start in range(0, n_seeds, chunk):
        draws = [draw(s) for s in range(start, min(start + chunk, n_seeds))]
        stacked = {k: torch.stack([d[k] for d in draws]) for k in draws[0]}
        m, th, gx = batched(stacked, pts)
        stop = start + len(draws)
        out["length"][start:stop] = m.numpy()
        out["ntk"][start:stop] = th.numpy()
        out["input_gradient"][start:stop] = gx.numpy()
    with torch.no_grad():
        h0 = body.embed(pts)
    return {**out, "m0": ((h0**2).sum(-1) / h0.shape[-1]).numpy(), "x": pts.numpy()}


def _ratio_stats(X: np.ndarray) -> Tuple[float, float, float]:
    """``(mean, ratio, se)``: mean of ``X`` and of ``E[X²]/E[X]²`` over the columns (points) of ``X`` (seeds ×
    points), the standard error by the delta method on the per-seed influence ``(X² − a)/b² − 2a(X − b)/b³``
    averaged over the points (so the points' correlation through the shared seeds is kept)."""
    a, b = (X**2).mean(0), X.mean(0)
    psi = ((X**2 - a) / b**2 - 2 * a * (X - b) / b**3).mean(1)
    return float(b.mean()), float((a / b**2).mean()), float(psi.std(ddof=1) / math.sqrt(len(X)))


def depth_width_spread(
    net: Union[MLP, ResidualMLP],
    x: Optional[torch.Tensor] = None,
    n_seeds: int = 2000,
    seed: int = 0,
    n_points: int = 4,
) -> DepthWidthSpread:
    """The spread over ``n_seeds`` initialisations (:func:`init_samples`) of ``M_L``, ``Θ(x, x)`` and ``‖∇_x u‖²``
    as ``E[X²]/E[X]²`` with standard errors, beside :func:`depth_width_prediction` of ``net``. An estimate."""
    import time

    t0 = time.perf_counter()
    _check_sample_args(net, x, n_seeds, seed, n_points)  # every argument, before any work
    pred = depth_width_prediction(net)
    s = init_samples(net, x=x, n_seeds=n_seeds, seed=seed, n_points=n_points)
    n_seeds, n_pts = s["length"].shape
    measured = {}
    for q in QUANTITIES:
        mean, ratio, se = _ratio_stats(s[q])
        f = pred.factor(q)
        z = (ratio - f.value) / se if f.value is not None and se > 0 else None
        extra = {}
        if q == "length":
            rel = s["length"] / s["m0"]
            extra = {
                "mean_over_m0": float(rel.mean()),
                "mean_over_m0_se": float(rel.mean(1).std(ddof=1) / math.sqrt(n_seeds)),
            }
        measured[q] = MeasuredSpread(q, mean, ratio, se, f.value, f.kind, z, **extra)
    return DepthWidthSpread(pred, n_seeds, int(seed), n_pts, **measured, seconds=time.perf_counter() - t0)
