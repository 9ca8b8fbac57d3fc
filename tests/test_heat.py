"""Heat equation: closed forms satisfy the PDE and their conditions at round-off; bad parameters are
rejected; short trainings reach the accuracy the issue asks for."""

import math

import pytest
import torch

import pinnkit
from pinnkit.derivatives import Fields
from pinnkit.equations import HEAT_SOLUTIONS, Heat, make_problem
from pinnkit.sampling import Sampler

F64 = torch.float64


def _points(problem, n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    lo = torch.tensor(problem.input_lower, dtype=F64)
    hi = torch.tensor(problem.input_upper, dtype=F64)
    return lo + torch.rand(n, problem.input_dim, generator=g, dtype=F64) * (hi - lo)


@pytest.mark.parametrize("solution", list(HEAT_SOLUTIONS))
@pytest.mark.parametrize("dim", [1, 2, 3, 5, 10])
def test_closed_form_residual_is_round_off(solution, dim):
    p = Heat(dim=dim, kappa=0.3, T=0.5, solution=solution)
    x = _points(p)
    f = Fields(p.exact, x, spatial_dim=dim)
    scale = (f.dt(0).abs().max() + p.kappa * f.laplacian(0).abs().max()).item()
    assert scale > 1e-6  # a non-trivial solution on this window
    assert p.residual(f).abs().max().item() <= 1e-12 * max(scale, 1.0)


@pytest.mark.parametrize("solution", list(HEAT_SOLUTIONS))
def test_closed_form_satisfies_its_conditions(solution):
    p = Heat(dim=3, kappa=0.2, solution=solution)
    batch = Sampler(p, n_domain=8, n_boundary=300, n_initial=100, seed=3).draw(0, dtype=F64)
    fields = lambda z: Fields(p.exact, z, spatial_dim=3)
    for c in p.conditions():
        r = c.residual(fields, batch.conditions[c.name])
        assert r.abs().max().item() < 1e-12, c.name


def test_single_mode_values():
    p = Heat(dim=2, kappa=0.1)
    x = torch.tensor([[0.5, 0.5, 1.0], [0.25, 0.5, 0.0]], dtype=F64)
    expected = [math.exp(-2 * math.pi**2 * 0.1), math.sin(math.pi / 4)]
    torch.testing.assert_close(p.exact(x)[:, 0], torch.tensor(expected, dtype=F64))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"kappa": 0.0}, "kappa"),
        ({"kappa": -1.0}, "kappa"),
        ({"kappa": float("nan")}, "kappa"),
        ({"dim": 0}, "dim"),
        ({"dim": 11}, "dim"),
        ({"dim": 1.5}, "dim"),
        ({"T": 0.0}, "T"),
        ({"T": -2.0}, "T"),
        ({"solution": "gauss"}, "solution"),
    ],
)
def test_bad_parameters_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        Heat(**kwargs)


def test_registry_rejects_unknown_problem_and_parameter():
    with pytest.raises(ValueError, match="unknown problem"):
        make_problem("wave")
    with pytest.raises(ValueError, match="unknown parameter"):
        make_problem("heat", nu=1.0)


def test_heat_1d_reaches_1e_3():
    torch.set_num_threads(2)
    r = pinnkit.solve(
        "heat", dim=1, net={"width": 32, "depth": 3}, steps=1000, lbfgs_steps=1000, progress=False, seed=0
    )
    assert r.errors["relative_l2"] <= 1e-3, r.errors


@pytest.mark.slow  # 70 s on 2 cores: the default suite keeps the 1-D accuracy run; the 2-D figure is in the README
def test_heat_2d_reaches_1e_3_with_defaults():
    torch.set_num_threads(2)
    r = pinnkit.solve("heat", dim=2, progress=False, seed=0)
    assert r.errors["relative_l2"] <= 1e-3, r.errors


@pytest.mark.slow
def test_heat_5d_reaches_1e_2():
    # soft constraints plateau near 4e-2 here (7000 steps); imposing the initial and wall data exactly
    # leaves only the residual to learn: 1.8e-3 in 3000 steps (~6 min on one core)
    torch.set_num_threads(2)
    r = pinnkit.solve(
        "heat",
        dim=5,
        hard_constraints=("initial", "boundary"),
        steps=2000,
        lbfgs_steps=1000,
        resample_every=50,
        n_domain=2000,
        progress=False,
        seed=0,
    )
    assert r.errors["relative_l2"] <= 1e-2, r.errors
