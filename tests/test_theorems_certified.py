"""Kumar & Mukherjee's Theorems 1 and 2 with every term certified (issue 14, part 3): each certified term is
above its sampled/quadrature estimate (a supremum above every sampled value), the certified right-hand sides
are above the true error and close to the estimated ones, the exact solution's gradient bound is above the
closed form at every time, and a hypothesis that fails (a window shorter than the problem's) withdraws the
claim."""

import copy
import math

import pytest
import torch

import pinnkit
from pinnkit.equations import BurgersBlowup
from pinnkit.theory import certified_theorem1, certified_theorem2, theorem1, theorem2, theorem2_consistent
from pinnkit.theory.theorems_certified import exact_gradient_sup


def _trained(dim, delta, steps=500):
    r = pinnkit.solve(
        BurgersBlowup(dim=dim, delta=delta),
        net={"width": 16, "depth": 2},
        steps=steps,
        lbfgs_steps=150,
        n_domain=1000,
        n_boundary=100,
        n_initial=100,
        n_eval=256,
        seed=1,
        progress=False,
    )
    return r.problem, r.model


@pytest.fixture(scope="module")
def nets():
    return {(1, 0.9): _trained(1, 0.9), (2, 0.5): _trained(2, 0.5)}


@pytest.mark.parametrize("key", [(1, 0.9), (2, 0.5)])
@pytest.mark.parametrize("norm", ["max_column_sum", "spectral"])
def test_theorem1_certified_terms_are_above_the_estimates_and_bound_the_error(nets, key, norm):
    problem, model = nets[key]
    c = certified_theorem1(model, problem, norm=norm, max_boxes=4000 if key[0] == 1 else 16000)
    e = theorem1(model, problem, n_samples=40000, method="gauss", norm=norm)
    assert c.is_bound and not c.estimated and all(c.hypotheses.values())
    assert c.grad_surrogate_sup >= e.grad_surrogate_sup  # a sup is above every sampled value
    assert c.grad_exact_sup >= e.grad_exact_sup * (1 - 1e-12)
    for name in ("pde_residual_sq", "surrogate_sq", "initial_residual_sq"):
        assert getattr(c, name) >= getattr(e, name) * (1 - 1e-3), name  # above the (converged) quadrature
    assert c.exact_sq >= e.exact_sq * (1 - 1e-12)
    assert c.log_lhs <= c.log_rhs and c.holds
    # the certificate costs little: the right-hand side is the estimated one within a small margin
    assert e.log_rhs <= c.log_rhs <= e.log_rhs + 0.5


def test_theorem1_shorter_window_than_the_problem_is_not_claimed(nets):
    problem, model = nets[(1, 0.9)]
    t0, T = problem.time_interval
    c = certified_theorem1(model, problem, window_length=0.2 * (T - t0))
    assert not c.is_bound and not any(c.hypotheses.values())


def test_exact_gradient_bound_is_above_the_closed_form():
    for p in (BurgersBlowup(dim=1, delta=0.99), BurgersBlowup(dim=2, delta=0.6)):
        t = torch.linspace(*p.time_interval, 2001, dtype=torch.float64)
        A = p.A(t)
        col = A.abs().sum(1).max(1).values.max().item()
        spec = torch.linalg.matrix_norm(A, ord=2).max().item()
        gc, gs = exact_gradient_sup(p, "max_column_sum"), exact_gradient_sup(p, "spectral")
        assert col <= gc <= col * 1.02 and spec <= gs <= spec * 1.5


def test_theorem2_certified_both_variants_bound_the_error(nets):
    problem, model = nets[(1, 0.9)]
    c = certified_theorem2(model, problem)
    ec, ew = theorem2_consistent(model, problem), theorem2(model, problem)
    assert c.is_bound_consistent and c.is_bound and not c.estimated
    assert c.surrogate_right_sup >= ec.surrogate_right_sup
    lo, hi = c.initial_residual_integral
    assert lo <= ew.initial_residual_integral <= hi
    for name in ("initial_residual_sq", "interior_residual_sq", "boundary_left_sq", "boundary_right_sq"):
        assert getattr(c, name) >= getattr(ec, name) * (1 - 1e-3), name
    assert math.log(c.true) <= c.log_rhs_consistent <= ec.log_rhs + 0.5
    if c.is_bound_as_written:
        assert 0.5 * math.log(c.true) <= c.log_rhs_as_written
        assert c.bracket_as_written[0] > 0
    assert c.C == pytest.approx(1 + 2 / (1 - 0.9), rel=1e-12) and c.C >= 1 + 2 / (1 - 0.9)


def test_theorem2_on_a_grossly_wrong_surrogate_claims_only_what_holds(nets):
    """The trained net shifted by −5: ``∫R_tb`` is certified negative, and whatever is claimed holds."""
    problem, model = nets[(1, 0.9)]
    shifted = copy.deepcopy(model)
    last = [m for m in shifted.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.bias -= 5.0  # u_θ − u ≈ −5 everywhere
    c = certified_theorem2(shifted, problem, max_boxes=2000)
    lo, hi = c.initial_residual_integral
    assert -10.1 < lo <= hi < -9.9  # ∫_{-1}^{1} (−5) dx, enclosed
    assert c.is_bound_consistent and math.log(c.true) <= c.log_rhs_consistent
    assert c.is_bound_as_written == (
        c.bracket_as_written[0] > 0 and c.hypotheses[next(k for k in c.hypotheses if "H4" in k)]
    )
    if c.is_bound_as_written:
        assert 0.5 * math.log(c.true) <= c.log_rhs_as_written


def test_bad_settings_are_refused_by_name(nets):
    problem, model = nets[(1, 0.9)]
    with pytest.raises(ValueError, match="max_boxes"):
        certified_theorem1(model, problem, max_boxes=10)
    with pytest.raises(ValueError, match="norm"):
        certified_theorem1(model, problem, norm="frobenius")
    with pytest.raises(ValueError, match="Theorem 2"):
        certified_theorem2(model, BurgersBlowup(dim=2, delta=0.5))
