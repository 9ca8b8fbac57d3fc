"""Mean-field two-layer network ``f(x) = (1/n) Σ_i c_i σ(w_i·x + b_i)``.

In the mean-field limit (Mei, Montanari & Nguyen 2018; Rotskoff & Vanden-Eijnden 2018; Chizat & Bach 2018)
the net is the integral of ``φ(x; θ) = c σ(w·x + b)`` against the empirical measure
``μ_n = (1/n) Σ δ_{θ_i}``, and training is a Wasserstein gradient flow of the energy ``E[μ]``:
``dθ_i/dt = −∇_θ V(θ_i; μ_n)`` with ``V = δE/δμ``. Since ``∂E/∂θ_i = (1/n) ∇_θ V(θ_i)``, plain gradient
descent realises that flow when each neuron's step is scaled by ``n``: ``θ_i ← θ_i − (n Δt) ∂E/∂θ_i``.
:meth:`MeanFieldTwoLayer.param_groups` exposes that scaling; the trainer applies it. Adam normalises each
coordinate of the gradient itself, so the ×n rule changes nothing there: use plain GD/SGD for mean-field
experiments.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional

import torch
from torch import Tensor, nn

from ..preflight import check_memory
from ..validation import check_choice, check_min_int, check_nonnegative
from .activations import ACTIVATIONS
from .activations import activation as make_activation
from .mlp import InputScaling

__all__ = [
    "MeanFieldTwoLayer",
    "MEANFIELD_OPTIONS",
    "SPEC_KEYS",
    "check_meanfield_net",
    "check_net_options",
    "meanfield_spec",
]

#: the initial-measure options of :class:`MeanFieldTwoLayer` a caller may set through ``net_options``
MEANFIELD_OPTIONS = ("weight_scale", "bias_scale", "output_scale")


class ArgumentTypeError(ValueError, TypeError):
    """An argument of the wrong kind (a ``ValueError`` like every refusal of a bad input, and a ``TypeError``)."""


def check_net_options(options: Any, name: str = "net_options") -> Dict[str, float]:
    """``options`` (``None`` or a mapping) may set only :data:`MEANFIELD_OPTIONS`, each a finite number >= 0;
    a misspelt key is refused, naming it and listing the allowed keys. Returns the options as a dict."""
    if options is None:
        return {}
    if not isinstance(options, dict) and not hasattr(options, "keys"):
        raise ValueError(f"{name} must be None or a dict with keys from {list(MEANFIELD_OPTIONS)}, got {options!r}")
    options = dict(options)
    unknown = sorted(str(k) for k in options if k not in MEANFIELD_OPTIONS)
    if unknown:
        raise ValueError(f"unknown {name} key(s) {unknown}; allowed: {list(MEANFIELD_OPTIONS)}")
    for k, v in options.items():
        check_nonnegative(f"{name}[{k!r}]", v)
    return options


#: the keys a mean-field net spec (``{"kind": "meanfield", "n": 256, ...}``) may hold
SPEC_KEYS = ("kind", "n", "width", "activation") + MEANFIELD_OPTIONS


def meanfield_spec(spec: Any, default_n: int = 256, ignore: Any = ()) -> Dict[str, Any]:
    """The :class:`MeanFieldTwoLayer` keywords (``n``, ``activation`` and any of :data:`MEANFIELD_OPTIONS`) of
    a net spec such as ``{"kind": "meanfield", "n": 128, "activation": "tanh"}`` (``n`` may be given as
    ``width``; neither: ``default_n``). A key outside :data:`SPEC_KEYS` (and ``ignore``, e.g. the keys a
    caller merged in from an MLP default) is refused, naming it and listing the allowed keys; every value is
    checked like the net's own arguments. Nothing is built."""
    if not isinstance(spec, dict) and not hasattr(spec, "keys"):
        raise ValueError(f"a mean-field net spec must be a dict with keys from {list(SPEC_KEYS)}, got {spec!r}")
    spec = dict(spec)
    unknown = sorted(str(k) for k in spec if k not in SPEC_KEYS and k not in tuple(ignore))
    if unknown:
        raise ValueError(f"unknown mean-field net option(s) {unknown}; allowed: {list(SPEC_KEYS)}")
    if spec.get("kind", "meanfield") != "meanfield":
        raise ValueError(f"a mean-field net spec must have kind 'meanfield', got {spec.get('kind')!r}")
    n = check_min_int("n", spec["n"]) if "n" in spec else check_min_int("width", spec.get("width", default_n))
    activation = check_choice("activation", spec.get("activation", "tanh"), ACTIVATIONS)
    out = {"n": n, "activation": activation}
    out.update(check_net_options({k: spec[k] for k in MEANFIELD_OPTIONS if k in spec}, "net spec"))
    return out


def _check_bounds(input_bounds: Any, in_dim: int) -> None:
    msg = f"input_bounds must be None or a pair (lower, upper) of {in_dim} finite numbers each, upper > lower"
    try:
        lower, upper = input_bounds
        lo, hi = [float(v) for v in lower], [float(v) for v in upper]
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"{msg}, got {input_bounds!r}") from None
    if len(lo) != in_dim or len(hi) != in_dim:
        raise ValueError(f"{msg} (in_dim = {in_dim}), got lengths {len(lo)} and {len(hi)}")
    if not all(math.isfinite(v) for v in lo + hi) or not all(b > a for a, b in zip(lo, hi)):
        raise ValueError(f"{msg}, got {input_bounds!r}")


def check_meanfield_net(
    in_dim: Any,
    n: Any,
    out_dim: Any = 1,
    activation: Any = "tanh",
    weight_scale: Any = 1.0,
    bias_scale: Any = 1.0,
    output_scale: Any = 1.0,
    input_bounds: Any = None,
    generator: Any = None,
) -> Dict[str, Any]:
    """The arguments of :class:`MeanFieldTwoLayer`, checked before anything is drawn: ``in_dim``, ``n``,
    ``out_dim`` integers >= 1, ``activation`` one of :data:`~pinnkit.nets.activations.ACTIVATIONS`, the three
    scales finite numbers >= 0, ``input_bounds`` a pair of ``in_dim`` finite bounds with upper > lower,
    ``generator`` a ``torch.Generator``; and the particles (float64, three copies while drawn) must fit in
    memory. Returns ``in_dim``, ``n``, ``out_dim`` as ``int``."""
    in_dim = check_min_int("in_dim", in_dim)
    n = check_min_int("n", n)
    out_dim = check_min_int("out_dim", out_dim)
    check_choice("activation", activation, ACTIVATIONS)
    for name, value in (("weight_scale", weight_scale), ("bias_scale", bias_scale), ("output_scale", output_scale)):
        check_nonnegative(name, value)
    if input_bounds is not None:
        _check_bounds(input_bounds, in_dim)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ArgumentTypeError(f"generator must be None or a torch.Generator, got {type(generator).__name__}")
    check_memory(
        "n",
        n,
        8 * 3 * n * (in_dim + out_dim + 1),
        f"MeanFieldTwoLayer ({n} particles of {in_dim + out_dim + 1} numbers)",
    )
    return {"in_dim": in_dim, "n": n, "out_dim": out_dim}


class MeanFieldTwoLayer(nn.Module):
    """``f(x) = (1/n) Σ_{i=1}^n c_i σ(w_i·x + b_i)`` with particles ``θ_i = (c_i, w_i, b_i)``.

    Particles are drawn i.i.d. from a fixed initial measure independent of ``n``: ``w_i ~ N(0, I/in_dim)``
    scaled by ``weight_scale``, ``b_i ~ N(0, bias_scale²)``, ``c_i ~ N(0, output_scale²)`` — so that widths
    are comparable at equal training time.
    """

    def __init__(
        self,
        in_dim: int,
        n: int = 256,
        out_dim: int = 1,
        activation: str = "tanh",
        weight_scale: float = 1.0,
        bias_scale: float = 1.0,
        output_scale: float = 1.0,
        input_bounds: Optional[tuple] = None,
        generator: Optional[torch.Generator] = None,
    ) -> None:
        checked = check_meanfield_net(
            in_dim, n, out_dim, activation, weight_scale, bias_scale, output_scale, input_bounds, generator
        )
        in_dim, n, out_dim = checked["in_dim"], checked["n"], checked["out_dim"]
        super().__init__()
        self.in_dim, self.n, self.out_dim = in_dim, n, out_dim
        self.weight_scale, self.bias_scale, self.output_scale = (
            float(weight_scale),
            float(bias_scale),
            float(output_scale),
        )
        self.activation_name = activation
        self.act = make_activation(activation)
        self.scaling = InputScaling(*input_bounds) if input_bounds is not None else None
        self.w = nn.Parameter(torch.randn(n, in_dim, generator=generator) * weight_scale / in_dim**0.5)
        self.b = nn.Parameter(torch.randn(n, generator=generator) * bias_scale)
        self.c = nn.Parameter(torch.randn(n, out_dim, generator=generator) * output_scale)

    def features(self, x: Tensor) -> Tensor:
        """``σ(w_i·x + b_i)`` for every particle, shape ``(N, n)``."""
        if self.scaling is not None:
            x = self.scaling(x)
        return self.act(x @ self.w.T + self.b)

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x) @ self.c / self.n

    @property
    def lr_scale(self) -> float:
        """Mean-field time scaling: each neuron's gradient step is multiplied by ``n``."""
        return float(self.n)

    def param_groups(self, lr: float) -> List[dict]:
        """Optimiser parameter groups with the mean-field step ``lr · n`` (for GD/SGD)."""
        return [{"params": [self.c, self.w, self.b], "lr": lr * self.lr_scale}]

    def sample_initial(self, k: int, generator: Optional[torch.Generator] = None) -> Tensor:
        """``k`` fresh particles ``(c, w, b)`` from the initial measure (the law of ``__init__``), shape
        ``(k, out_dim + in_dim + 1)`` in the net's dtype and device (used for reinjection)."""
        k = check_min_int("k", k, 0)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise ArgumentTypeError(f"generator must be None or a torch.Generator, got {type(generator).__name__}")
        ref = self.w
        w = torch.randn(k, self.in_dim, generator=generator) * self.weight_scale / self.in_dim**0.5
        b = torch.randn(k, generator=generator) * self.bias_scale
        c = torch.randn(k, self.out_dim, generator=generator) * self.output_scale
        return torch.cat([c, w, b[:, None]], dim=1).to(dtype=ref.dtype, device=ref.device)

    @torch.no_grad()
    def set_particles(self, index: Tensor, theta: Tensor) -> None:
        """Overwrite the particles at ``index`` with rows ``θ = (c, w, b)`` of ``theta`` (in place)."""
        m, d = self.out_dim, self.in_dim
        theta = theta.to(dtype=self.w.dtype, device=self.w.device)
        self.c[index] = theta[:, :m]
        self.w[index] = theta[:, m : m + d]
        self.b[index] = theta[:, m + d]

    def particles(self) -> Tensor:
        """The particle array ``θ_i = (c_i, w_i, b_i)``, shape ``(n, out_dim + in_dim + 1)`` (detached)."""
        return torch.cat([self.c, self.w, self.b[:, None]], dim=1).detach()
