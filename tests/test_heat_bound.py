"""The certified maximum-principle bound on the heat equation's sup error (issue 14, part 3) holds on trained
nets: above every sampled error, above the certified lower value of the true sup error, and its terms are
certified suprema (initial slice, faces, residual)."""

import pytest
import torch

import pinnkit
from pinnkit.equations import make_problem
from pinnkit.nets import MLP
from pinnkit.theory import heat_sup_bound


@pytest.fixture(scope="module")
def heat1d():
    r = pinnkit.solve(
        "heat", net={"width": 12, "depth": 2}, steps=300, lbfgs_steps=100, n_domain=256, n_eval=64, progress=False
    )
    return r.problem, r.model


def test_bound_holds_above_every_sampled_error_and_the_certified_true_error(heat1d):
    problem, model = heat1d
    b = heat_sup_bound(model, problem, max_boxes=6000)
    assert b.is_bound and not b.estimated
    g = torch.Generator().manual_seed(0)
    x = torch.rand(200_000, 2, generator=g, dtype=torch.float64)
    with torch.no_grad():
        err = (model.double()(x) - problem.exact(x)).abs().max().item()
    true_lo, true_hi = b.true
    assert err <= true_hi and true_lo <= true_hi
    assert b.bound >= max(err, true_lo)
    # the bound is its terms: between M and M + T sup|R| (T = 1; the slabs' sums of sup R± are below T sup|R|)
    assert max(b.initial, b.boundary) <= b.bound <= max(b.initial, b.boundary) + b.T * b.residual * (1 + 1e-12)
    # and time slabs pay: the same net with one slab (M + T sup|R|) is looser
    one = heat_sup_bound(model, problem, slabs=1, max_boxes=6000, certify_true=False)
    assert one.bound >= b.bound
    lo_ratio, hi_ratio = b.ratio  # bound / [true_lo, true_hi]: the ratio is >= 1 at the true value
    assert lo_ratio <= hi_ratio and hi_ratio >= 1.0
    print("ratio", b.ratio, "bound", b.bound, "sampled", err)


def test_only_dirichlet_heat_is_accepted():
    net = MLP(2, 1, 4, 1)
    with pytest.raises(ValueError, match="Dirichlet data on the whole boundary"):
        heat_sup_bound(net, make_problem("heat", solution="cosine"))
    with pytest.raises(ValueError, match="linear parabolic"):
        heat_sup_bound(net, make_problem("burgers-blowup"))
    with pytest.raises(ValueError, match="slabs"):
        heat_sup_bound(net, make_problem("heat"), slabs=0)
