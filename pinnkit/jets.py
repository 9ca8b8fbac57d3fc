"""Forward propagation of input derivatives through an MLP (a second-order Taylor-mode pass).

For a layer ``z = W h + b`` followed by ``a = σ(z)``, the derivatives of the hidden state with respect to
inputs ``x_j``, ``x_k`` obey (chain rule; Griewank & Walther, *Evaluating Derivatives*, ch. 13)

    z_k = W h_k,                 z_jk = W h_jk              (no bias: the bias is constant),
    a_k = σ'(z) z_k,             a_jk = σ''(z) z_j z_k + σ'(z) z_jk.

The value and every requested first and second derivative are concatenated along the point axis for the
matrix product, so each layer is one product for all of them and the whole pass is a single graph: the parameter gradient of a
PINN loss needs one backward pass instead of the nested reverse passes of ``autograd``. The input map
``x' = (x − c)/h`` contributes ``∂x'/∂x_k = e_k/h_k``; Fourier features ``[cos(Bx'), sin(Bx')]``
contribute ``(−sin ζ, cos ζ) ζ_k`` and ``(−cos ζ, −sin ζ) ζ_j ζ_k`` with ``ζ = Bx'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Sequence, Tuple

import torch
from torch import Tensor

if TYPE_CHECKING:
    from .nets.mlp import MLP

__all__ = ["JET_ACTIVATIONS", "activation_derivatives", "mlp_jet", "mlp_jet_tangents", "activate_jet"]


def _tanh(z: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    a = torch.tanh(z)
    s1 = 1 - a * a
    return a, s1, -2 * a * s1


def _sin(z: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    a = torch.sin(z)
    return a, torch.cos(z), -a


def _sigmoid(z: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    a = torch.sigmoid(z)
    s1 = a * (1 - a)
    return a, s1, s1 * (1 - 2 * a)


def _softplus(z: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    s = torch.sigmoid(z)
    return torch.nn.functional.softplus(z), s, s * (1 - s)


def _silu(z: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    s = torch.sigmoid(z)
    ds = s * (1 - s)
    return z * s, s + z * ds, ds * (2 + z * (1 - 2 * s))


# activation name -> z ↦ (σ(z), σ'(z), σ''(z)); nn.Softplus and nn.SiLU at their default settings
JET_ACTIVATIONS = {"tanh": _tanh, "sin": _sin, "sigmoid": _sigmoid, "softplus": _softplus, "silu": _silu}


def activation_derivatives(name: str, z: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """``(σ(z), σ'(z), σ''(z))`` for an activation in :data:`JET_ACTIVATIONS`."""
    try:
        return JET_ACTIVATIONS[name](z)
    except KeyError:
        raise ValueError(f"no Taylor-mode rule for activation {name!r}; supported: {sorted(JET_ACTIVATIONS)}") from None


def _activate(name: str, Z: List[Tensor], n_first: int, pairs: List[Tuple[int, int]]) -> List[Tensor]:
    """Apply σ to a jet ``[z, z_k…, z_jk…]`` (each ``(N, W)``), returning ``[a, a_k…, a_jk…]``."""
    a, s1, s2 = activation_derivatives(name, Z[0])
    first = Z[1 : 1 + n_first]
    out = [a] + [s1 * f for f in first]
    out += [s2 * first[j] * first[k] + s1 * z2 for (j, k), z2 in zip(pairs, Z[1 + n_first :])]
    return out


def _linear(T: List[Tensor], weight: Tensor, bias: Tensor) -> List[Tensor]:
    """``z = W h + b`` on the value, ``W h_•`` on every derivative: one matrix product for all."""
    if len(T) == 1:
        return [torch.nn.functional.linear(T[0], weight, bias)]
    N = T[0].shape[0]
    Z = list(torch.cat(T, dim=0).matmul(weight.T).split(N, dim=0))
    Z[0] = Z[0] + bias
    return Z


def mlp_jet(
    model: MLP,
    x: Tensor,
    first: Sequence[int],
    second: Sequence[Tuple[int, int]] = (),
) -> Tuple[Tensor, Dict[int, Tensor], Dict[Tuple[int, int], Tensor]]:
    """Value and input derivatives of a :class:`pinnkit.nets.MLP` in one forward pass.

    Args:
        model: an ``MLP`` (optional input scaling and Fourier features).
        x: points, shape ``(N, D)``.
        first: input indices ``k`` for ``∂u/∂x_k``; must include every index used in ``second``.
        second: pairs ``(j, k)`` for ``∂²u/∂x_j∂x_k``.

    Returns ``(u, {k: ∂u/∂x_k}, {(j, k): ∂²u/∂x_j∂x_k})``, every tensor of shape ``(N, m)``.
    """
    first = list(first)
    second = [tuple(p) for p in second]
    pos = {k: i for i, k in enumerate(first)}
    missing = {k for p in second for k in p} - set(pos)
    if missing:
        raise ValueError(f"second-derivative pairs use inputs {sorted(missing)} that are not in `first`")
    pairs = [(pos[j], pos[k]) for j, k in second]
    N, D = x.shape
    F = len(first)
    name = model.activation_name

    # input map x' = (x − c)/h: first derivative along x_k is the constant vector e_k / h_k
    scale = model.scaling
    xs = scale(x) if scale is not None else x
    inv_h = (1.0 / scale.half_width).to(x) if scale is not None else torch.ones(D, dtype=x.dtype, device=x.device)
    if model.fourier is not None:
        B = model.fourier.B.to(x)
        zeta = xs @ B.T
        c, s = torch.cos(zeta), torch.sin(zeta)
        dz = (B[:, first] * inv_h[first]).T  # row i: ζ along x_{first[i]}, constant in x
        T = [torch.cat([c, s], dim=-1)]
        T += [torch.cat([-s * dz[i], c * dz[i]], dim=-1) for i in range(F)]
        T += [torch.cat([-c * (dz[j] * dz[k]), -s * (dz[j] * dz[k])], dim=-1) for j, k in pairs]
        layers = list(model.hidden)
    else:
        # first hidden layer by hand: its input derivatives are constant rows of W, broadcast over points
        layer0 = model.hidden[0]
        z0 = torch.nn.functional.linear(xs, layer0.weight, layer0.bias)
        dz = (layer0.weight[:, first] * inv_h[first]).T  # (F, W)
        a, s1, s2 = activation_derivatives(name, z0)
        T = [a] + [s1 * dz[i] for i in range(F)] + [s2 * (dz[j] * dz[k]) for j, k in pairs]
        layers = list(model.hidden)[1:]
    for layer in layers:
        T = _activate(name, _linear(T, layer.weight, layer.bias), F, pairs)
    out = _linear(T, model.head.weight, model.head.bias)
    d1 = {k: out[1 + i] for i, k in enumerate(first)}
    d2 = {p: out[1 + F + i] for i, p in enumerate(second)}
    return out[0], d1, d2


def activate_jet(name: str, jet: List[Tensor], n_first: int, pairs: Sequence[Tuple[int, int]]) -> List[Tensor]:
    """σ applied to a jet ``[z, z_k…, z_jk…]``: ``[σ(z), σ'(z) z_k…, σ''(z) z_j z_k + σ'(z) z_jk…]``."""
    return _activate(name, jet, n_first, list(pairs))


def mlp_jet_tangents(
    model: MLP,
    jet: Sequence[Tensor],
    n_first: int,
    pairs: Sequence[Tuple[int, int]] = (),
) -> List[Tensor]:
    """Push an input jet with per-point tangents through a :class:`pinnkit.nets.MLP`.

    ``jet = [x, x_1, …, x_F, x_{p_1}, …]`` (each ``(N, D)``): the input x(s) as a function of some parameters
    s (for example an embedding of the coordinates), its first derivatives ``∂x/∂s_k`` (k < F = ``n_first``)
    and the second derivatives ``∂²x/∂s_j∂s_k`` for each pair ``(j, k)`` in ``pairs`` (indices into the first
    derivatives).  Returns the same list for the net's output (each ``(N, out_dim)``).  The same chain rule as
    :func:`mlp_jet`, which is the special case of constant tangents ``x_k = e_k`` and ``x_jk = 0``; input
    scaling contributes ``1/h`` to every derivative, Fourier features ``ζ = Bx`` give
    ``∂cos ζ = −sin ζ ζ_k``, ``∂²cos ζ = −cos ζ ζ_j ζ_k − sin ζ ζ_jk`` (and likewise for sin).
    """
    pairs = [tuple(p) for p in pairs]
    if len(jet) != 1 + n_first + len(pairs):
        raise ValueError(f"jet must hold 1 + n_first + len(pairs) = {1 + n_first + len(pairs)} tensors, got {len(jet)}")
    if any(not (0 <= j < n_first and 0 <= k < n_first) for j, k in pairs):
        raise ValueError(f"pairs must index the {n_first} first derivatives, got {pairs}")
    T = list(jet)
    scale = model.scaling
    if scale is not None:
        inv_h = 1.0 / scale.half_width.to(T[0])
        T = [scale(T[0])] + [t * inv_h for t in T[1:]]
    if model.fourier is not None:
        Z = [t @ model.fourier.B.to(T[0]).T for t in T]
        c, s = torch.cos(Z[0]), torch.sin(Z[0])
        first = Z[1 : 1 + n_first]
        T = [torch.cat([c, s], dim=-1)] + [torch.cat([-s * f, c * f], dim=-1) for f in first]
        T += [
            torch.cat([-c * first[j] * first[k] - s * z2, -s * first[j] * first[k] + c * z2], dim=-1)
            for (j, k), z2 in zip(pairs, Z[1 + n_first :])
        ]
    name = model.activation_name
    for layer in model.hidden:
        T = _activate(name, _linear(T, layer.weight, layer.bias), n_first, pairs)
    return _linear(T, model.head.weight, model.head.bias)
