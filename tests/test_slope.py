"""Interval slopes (pinnkit.enclosure.slope): a residual evaluated on SlopeFields encloses the residual and its
gradient at every sampled point of each box; the centred form contains every sampled value and is much
narrower than the direct interval evaluation on small boxes; the mean-value bounds of ∫_B R² bracket a fine
Gauss quadrature; the width of the centred form falls at least linearly with the box."""

import numpy as np
import pytest
import torch

from pinnkit.derivatives import Fields
from pinnkit.enclosure.fields import SlopeFields
from pinnkit.enclosure.interval import Interval
from pinnkit.enclosure.net import enclose
from pinnkit.equations import make_problem
from pinnkit.nets import MLP
from pinnkit.theory.certified import residual_forms


def _net(seed, act="tanh"):
    torch.manual_seed(seed)
    return MLP(2, 1, 10, 3, activation=act).double()


def _boxes(n, size, seed, lower=(-1.0, 0.0), upper=(1.0, 0.5)):
    g = torch.Generator().manual_seed(seed)
    lower, upper = torch.tensor(lower, dtype=torch.float64), torch.tensor(upper, dtype=torch.float64)
    lo = lower + (upper - lower - size) * torch.rand(n, 2, generator=g, dtype=torch.float64)
    hi = lo + size * torch.rand(n, 2, generator=g, dtype=torch.float64)
    return lo, hi


def _pointwise(model, problem, x):
    x = x.clone().requires_grad_(True)
    r = problem.residual(Fields(model, x, spatial_dim=problem.spatial_dim))
    (g,) = torch.autograd.grad(r[:, 0].sum(), x)
    return r.detach(), g


@pytest.mark.parametrize("name,act", [("burgers-blowup", "tanh"), ("heat", "sin"), ("heat", "tanh")])
def test_slope_encloses_residual_and_its_gradient_at_sampled_points(name, act):
    problem = make_problem(name)
    model = _net(3, act)
    lo, hi = _boxes(64, 0.2, 1, problem.input_lower, problem.input_upper)
    enc = enclose(model, lo, hi)
    S = problem.residual(SlopeFields(enc, lo, hi, problem.spatial_dim))
    F = residual_forms(model, problem, lo, hi)
    g = torch.Generator().manual_seed(2)
    for _ in range(20):
        x = lo + (hi - lo) * torch.rand(lo.shape, generator=g, dtype=torch.float64)
        r, grad = _pointwise(model, problem, x)
        assert bool(S.v[:, 0].contains(r[:, 0]).all())
        assert bool(S.g[:, 0].contains(grad).all())
        assert bool(F.value[:, 0].contains(r[:, 0]).all())


def test_centred_form_is_narrower_than_direct_evaluation_and_shrinks_with_the_box():
    problem = make_problem("burgers-blowup")
    model = _net(5)
    widths, direct = [], []
    c = torch.tensor([[0.3, 0.2]], dtype=torch.float64)
    for r in (1e-2, 5e-3, 2.5e-3, 1.25e-3):
        lo, hi = c - r, c + r
        enc = enclose(model, lo, hi)
        S = problem.residual(SlopeFields(enc, lo, hi, 1))
        F = residual_forms(model, problem, lo, hi)
        widths.append(float(F.value.width()[0, 0]))
        direct.append(float(S.v.width()[0, 0]))
    assert all(w <= d for w, d in zip(widths, direct))
    rates = np.log2(np.array(widths[:-1]) / np.array(widths[1:]))
    assert rates.min() >= 0.9, rates  # first order at least


def test_square_integral_brackets_a_gauss_quadrature():
    problem = make_problem("burgers-blowup")
    model = _net(7)
    lo, hi = _boxes(16, 0.1, 4, problem.input_lower, problem.input_upper)
    F = residual_forms(model, problem, lo, hi)
    vol = Interval.point((hi - lo).prod(1))
    sq = F.square_integral(vol)
    z, w = np.polynomial.legendre.leggauss(24)
    for b in range(lo.shape[0]):
        xs = [(lo[b, k] + hi[b, k]).item() / 2 + (hi[b, k] - lo[b, k]).item() / 2 * z for k in range(2)]
        ws = [(hi[b, k] - lo[b, k]).item() / 2 * w for k in range(2)]
        X = torch.tensor(np.stack(np.meshgrid(*xs, indexing="ij"), -1).reshape(-1, 2))
        W = np.outer(*ws).ravel()
        r, _ = _pointwise(model, problem, X)
        q = float(W @ (r[:, 0].numpy() ** 2))
        assert float(sq.lo[b]) <= q * (1 + 1e-10) and q <= float(sq.hi[b]) * (1 + 1e-10)
        assert float(sq.hi[b]) <= 10 * q + 1e-12  # and not vacuous on boxes of this size


def test_hard_constraint_wrapper_is_enclosed_with_its_derivatives():
    """u = φ(x) N(x, t) (homogeneous Dirichlet data imposed exactly): the enclosure contains the value, the
    gradient and the Hessian at sampled points, and the value is exactly 0 on the faces."""
    from pinnkit.constraints import HardConstraints

    problem = make_problem("heat", dim=2)
    torch.manual_seed(0)
    net = HardConstraints(MLP(3, 1, 8, 2, activation="tanh").double(), problem, kinds=("boundary",)).double()
    g = torch.Generator().manual_seed(5)
    lo = torch.rand(32, 3, generator=g, dtype=torch.float64) * 0.8
    hi = lo + 0.1 * torch.rand(32, 3, generator=g, dtype=torch.float64)
    enc = enclose(net, lo, hi)
    for _ in range(10):
        x = (lo + (hi - lo) * torch.rand(lo.shape, generator=g, dtype=torch.float64)).requires_grad_(True)
        u = net(x)
        (gr,) = torch.autograd.grad(u.sum(), x, create_graph=True)
        H = torch.stack([torch.autograd.grad(gr[:, k].sum(), x, retain_graph=True)[0] for k in range(3)], 1)
        assert bool(enc.value[:, 0].contains(u.detach()[:, 0]).all())
        assert bool(enc.grad[:, 0].contains(gr.detach()).all())
        assert bool(enc.hess[:, 0].contains(H.detach()).all())
    face_lo = lo.clone()
    face_lo[:, 0] = 0.0
    face_hi = hi.clone()
    face_hi[:, 0] = 0.0
    v = enclose(net, face_lo, face_hi).value
    assert float(v.mag().max()) <= 1e-300
