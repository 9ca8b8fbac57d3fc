"""Linear parabolic problems (issue 14, part 4): the advection–diffusion–reaction family's closed form solves
its equation; the declaration linear_parabolic() is checked against the residual; the certified L² energy
bound (hard boundary constraints) and the maximum-principle sup bound hold above the true error on trained
nets of heat and advection–diffusion; a net without exact boundary data is refused unless the sup-norm
fallback is asked for."""

import math

import numpy as np
import pytest
import torch

import pinnkit
from pinnkit.derivatives import Fields
from pinnkit.equations import AdvectionDiffusion, make_problem
from pinnkit.nets import MLP
from pinnkit.theory import heat_sup_bound, linear_parabolic_coefficients, parabolic_l2_bound


@pytest.mark.parametrize("dim,velocity,reaction", [(1, 0.5, 0.5), (2, -1.0, 0.0), (3, 0.3, 2.0)])
def test_closed_form_solves_the_equation_and_vanishes_on_the_faces(dim, velocity, reaction):
    p = AdvectionDiffusion(dim=dim, velocity=velocity, reaction=reaction)
    x = torch.rand(500, dim + 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    r = p.residual(Fields(p.exact, x.requires_grad_(True), spatial_dim=dim))
    assert r.abs().max().item() < 1e-10
    face = x.detach().clone()
    face[:, 0] = 1.0
    assert p.exact(face).abs().max().item() < 1e-12
    assert linear_parabolic_coefficients(p) == (0.1, (velocity,) * dim, reaction)


def test_a_wrong_declaration_is_refused():
    class Wrong(AdvectionDiffusion):
        def linear_parabolic(self):
            return {"kappa": 0.2, "velocity": (0.5,), "reaction": 0.5}

    with pytest.raises(ValueError, match="does not match its residual"):
        linear_parabolic_coefficients(Wrong())
    with pytest.raises(ValueError, match="linear parabolic"):
        linear_parabolic_coefficients(make_problem("burgers-blowup"))


def _trained(name, **params):
    r = pinnkit.solve(
        name,
        net={"width": 12, "depth": 2},
        steps=600,
        lbfgs_steps=150,
        hard_constraints=("boundary",),
        n_domain=400,
        progress=False,
        dtype="float64",
        seed=0,
        **params,
    )
    return r.problem, r.model


@pytest.mark.parametrize("name", ["heat", "advection-diffusion"])
def test_energy_and_sup_bounds_hold_on_trained_nets(name):
    problem, model = _trained(name)
    b = parabolic_l2_bound(model, problem, max_boxes=6000, modes=0)
    assert b.is_bound and b.method == "energy"
    assert b.bound >= b.true > 0 and b.ratio < 30, (b.bound, b.true)
    assert b.initial >= 0 and b.final >= 0 and b.mu > 0
    s = heat_sup_bound(model, problem, max_boxes=4000, certify_true=False)
    x = torch.rand(100_000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        err = (model.double()(x) - problem.exact(x)).abs().max().item()
    assert s.bound >= err
    # L² over space-time is at most √(|Ω| T) times the sup norm: the bound's fallback is also valid
    assert b.true <= math.sqrt(problem.time_interval[1]) * s.bound


def test_plain_net_needs_hard_boundary_constraints_or_the_fallback():
    problem = make_problem("heat")
    torch.manual_seed(0)
    net = MLP(2, 1, 6, 1).double()
    with pytest.raises(ValueError, match="hard_constraints"):
        parabolic_l2_bound(net, problem, max_boxes=2000)
    b = parabolic_l2_bound(net, problem, max_boxes=2000, fallback=True)
    assert b.method == "sup-norm fallback" and b.bound >= b.true


def test_modal_bound_holds_and_beats_the_energy_bound_on_heat():
    """Heat (β = 0): the modal bound follows the lowest modes exactly and is tighter than the energy bound at
    the same budget; advection–diffusion (β ≠ 0, not self-adjoint) keeps the energy bound."""
    problem, model = _trained("heat")
    m = parabolic_l2_bound(model, problem, max_boxes=12000)
    e = parabolic_l2_bound(model, problem, max_boxes=12000, modes=0)
    assert m.method == "modal" and m.is_bound
    assert m.bound >= m.true > 0 and m.final >= 0 and m.mu > e.mu  # the modes left out decay faster
    assert m.bound < e.bound, (m.bound, e.bound)
    problem2, model2 = _trained("advection-diffusion")
    assert parabolic_l2_bound(model2, problem2, max_boxes=6000).method == "energy"


def test_signed_box_integrals_contain_the_quadrature_of_a_trained_residual():
    """The modal integrands' box integrals (mean-value form with the centre gradient) contain a 12-point
    Gauss–Legendre product rule (exact to far below the enclosure widths) on random small boxes."""
    from pinnkit.derivatives import Fields
    from pinnkit.enclosure.boxes import volumes
    from pinnkit.theory.parabolic_modal import centred_forms, signed_integrals

    problem, model = _trained("heat")
    net = model.double()
    g = torch.Generator().manual_seed(3)
    c = torch.rand(40, 2, generator=g, dtype=torch.float64) * 0.9 + 0.05
    r = torch.rand(40, 2, generator=g, dtype=torch.float64) * 0.02 + 1e-3
    lo, hi = c - r, c + r

    def expr(f):
        res = problem.residual(f)
        res = res[:, 0] if res.dim() == 2 else res
        return torch.stack([res * torch.sin(f.x[:, 0] * 3.0), res], 1)

    F = centred_forms(net, lo, hi, expr, 1)
    box_int = signed_integrals(F, volumes(lo, hi))
    z, w = np.polynomial.legendre.leggauss(12)
    for i in range(lo.shape[0]):
        X, Tt = np.meshgrid(lo[i, 0].item() + r[i, 0].item() * (z + 1), lo[i, 1].item() + r[i, 1].item() * (z + 1))
        pts = torch.tensor(np.stack([X.ravel(), Tt.ravel()], 1), requires_grad=True)
        R = problem.residual(Fields(net, pts, spatial_dim=1)).detach()[:, 0]
        W = torch.tensor(np.outer(w, w).ravel()) * r[i, 0] * r[i, 1]
        for col, vals in enumerate((R * torch.sin(pts.detach()[:, 0] * 3.0), R)):
            q = float((W * vals).sum())
            tol = 1e-12 * abs(q) + 1e-15
            assert box_int.lo[i, col] - tol <= q <= box_int.hi[i, col] + tol, (i, col, q)
