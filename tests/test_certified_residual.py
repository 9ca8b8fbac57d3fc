"""Certified residual bounds (issue 14, part 2): the residual code of any problem runs on enclosures; the
certified sup |R| is above every sampled value and the certified ∫|R|² brackets a fine Gauss quadrature, on
trained nets of heat, the blow-up family and Kovasznay, and on a user's problem with a source term."""

import numpy as np
import pytest
import torch

import pinnkit
from pinnkit.derivatives import Fields
from pinnkit.enclosure.fields import IntervalFields
from pinnkit.equations import make_problem
from pinnkit.nets import MLP
from pinnkit.theory import certify_residual


def _trained(name, **params):
    r = pinnkit.solve(
        name,
        net={"width": 12, "depth": 2},
        steps=200,
        lbfgs_steps=30,
        n_domain=200,
        n_boundary=64,
        n_initial=64,
        n_eval=64,
        progress=False,
        dtype="float64",
        **params,
    )
    return r.problem, r.model


def _gauss_integral(problem, model, n=160):
    """∫_Ω Σ_c R_c² by an n-point Gauss–Legendre rule per axis (2-D domains): error far below the brackets."""
    z, w = np.polynomial.legendre.leggauss(n)
    lo, hi = np.array(problem.input_lower), np.array(problem.input_upper)
    xs = [(lo[k] + hi[k]) / 2 + (hi[k] - lo[k]) / 2 * z for k in range(2)]
    ws = [(hi[k] - lo[k]) / 2 * w for k in range(2)]
    X = np.stack(np.meshgrid(*xs, indexing="ij"), -1).reshape(-1, 2)
    W = np.outer(*ws).reshape(-1)
    R = problem.residual(Fields(model, torch.tensor(X), problem.spatial_dim)).detach().numpy()
    return float((W * (R**2).sum(1)).sum()), np.abs(R).max(0)


@pytest.mark.parametrize(
    "name, params", [("heat", {}), ("burgers-blowup", {"delta": 0.9}), ("kovasznay", {})], ids=lambda v: str(v)
)
def test_certified_bounds_hold_on_trained_nets(name, params):
    problem, model = _trained(name, **params)
    cert = certify_residual(model, problem, rtol=0.2, max_boxes=6000)
    assert cert.is_bound and not cert.estimated and cert.what == "residual"
    integral, quad_max = _gauss_integral(problem, model)
    lo, hi = cert.integral
    assert lo <= integral <= hi, (lo, integral, hi)
    g = torch.Generator().manual_seed(0)
    lower = torch.tensor(problem.input_lower, dtype=torch.float64)
    upper = torch.tensor(problem.input_upper, dtype=torch.float64)
    x = lower + (upper - lower) * torch.rand(100_000, 2, generator=g, dtype=torch.float64)
    sampled = problem.residual(Fields(model, x, problem.spatial_dim)).detach().abs().max(0).values.numpy()
    for c, (s_lo, s_hi) in enumerate(cert.sup_abs):
        assert s_lo <= s_hi
        assert max(sampled[c], quad_max[c]) <= s_hi  # proved above every value anyone can sample
        assert s_lo <= s_hi and s_lo > 0.0


def test_a_users_residual_with_a_source_term_runs_on_intervals():
    """Δu + 2π² sin(πx) sin(πy) written with Fields and torch.sin encloses its values on every box."""
    torch.manual_seed(0)
    model = MLP(2, 1, 8, 2, input_bounds=([0.0, 0.0], [1.0, 1.0])).double()
    lo = torch.rand(64, 2, dtype=torch.float64) * 0.9
    hi = lo + 0.05
    f = IntervalFields(model, lo, hi, spatial_dim=2)
    x, y = f.x[:, 0], f.x[:, 1]
    R = (f.laplacian(0) + 2 * np.pi**2 * torch.sin(np.pi * x) * torch.sin(np.pi * y)).unsqueeze(-1)
    pts = lo + (hi - lo) * torch.rand(64, 2, dtype=torch.float64)
    ff = Fields(model, pts, spatial_dim=2)
    xs, ys = pts[:, 0], pts[:, 1]
    exact = (ff.laplacian(0) + 2 * np.pi**2 * torch.sin(np.pi * xs) * torch.sin(np.pi * ys)).unsqueeze(-1).detach()
    assert bool(R.contains(exact).all())


def test_bad_arguments_are_named_before_any_work():
    problem = make_problem("heat")
    net = MLP(2, 1, 4, 1, input_bounds=(problem.input_lower, problem.input_upper))
    with pytest.raises(ValueError, match="rtol"):
        certify_residual(net, problem, rtol=-1)
    with pytest.raises(ValueError, match="max_boxes"):
        certify_residual(net, problem, max_boxes=2, initial_boxes=16)
    with pytest.raises(ValueError, match="model must be"):
        certify_residual(MLP(2, 1, 4, 1, activation="relu"), problem)
    dtype = next(net.parameters()).dtype
    certify_residual(net, problem, max_boxes=64, initial_boxes=16)
    assert next(net.parameters()).dtype == dtype  # the user's model is not converted
