"""Incompressible Navier–Stokes problems: the Kovasznay, Taylor–Green and Beltrami closed forms satisfy
momentum and continuity to round-off with both derivative engines; their conditions vanish on the closed
form; bad parameters are rejected by name; the pressure gauge helper removes the mean."""

import math

import numpy as np
import pytest
import torch

from pinnkit.derivatives import Fields
from pinnkit.equations import Beltrami, IncompressibleNS, Kovasznay, TaylorGreen, make_problem
from pinnkit.sampling import Sampler

F64 = torch.float64
METHODS = ["autograd", "forward"]


pytestmark = pytest.mark.usefixtures("one_thread")


def _points(problem, n=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    lo = torch.tensor(problem.input_lower, dtype=F64)
    hi = torch.tensor(problem.input_upper, dtype=F64)
    return lo + torch.rand(n, problem.input_dim, generator=g, dtype=F64) * (hi - lo)


CASES = [
    ("kovasznay", {}),
    ("kovasznay", {"re": 0.5}),
    ("kovasznay", {"re": 400.0}),
    ("taylor-green", {}),
    ("taylor-green", {"nu": 0.7, "T": 2.0}),
    ("beltrami", {}),
    ("beltrami", {"a": math.pi / 4, "d": math.pi / 2, "nu": 0.05, "T": 2.0}),
    ("beltrami", {"a": -0.6, "d": 1.3, "nu": 2.5}),
]


def _relative_residuals(p, f):
    """Per component, max over points of |residual| / (sum of |terms|), with the terms' scale ≥ 1e-3."""
    r = p.residual(f).detach()
    d = p.spatial_dim
    assert r.shape == (f.x.shape[0], d + 1)
    out = []
    for i in range(d):
        terms = p.momentum_terms(f, i)
        assert len(terms) == (4 if p.time_dependent else 3)
        scale = sum(t.detach().abs() for t in terms)
        out.append((r[:, i].abs() / scale.clamp(min=1e-3)).max().item())
    scale = sum(f.d(k, k).detach().abs() for k in range(d))
    out.append((r[:, d].abs() / scale.clamp(min=1e-3)).max().item())
    return out, r


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name, params", CASES)
def test_closed_form_satisfies_momentum_and_continuity(name, params, method):
    p = make_problem(name, **params)
    x = _points(p, 300, seed=1)
    f = Fields(p.exact, x, spatial_dim=p.spatial_dim, method=method)
    rel, r = _relative_residuals(p, f)
    assert max(rel) <= 1e-10, rel  # measured ≲ 1e-14
    # the terms are not trivially small: something is being balanced
    conv = torch.stack([p.momentum_terms(f, i)[0].detach() for i in range(p.spatial_dim)])
    assert conv.abs().max().item() > 1e-2


def test_engines_agree_on_a_wrong_field():
    """The residual is not identically zero: perturbing the pressure breaks momentum in x only."""
    p = TaylorGreen()
    x = _points(p, 200, seed=2)
    bump = lambda z: p.exact(z) + torch.stack([0 * z[:, 0], 0 * z[:, 0], z[:, 0] ** 2], dim=1)
    r = [p.residual(Fields(bump, x, spatial_dim=2, method=m)).detach() for m in METHODS]
    torch.testing.assert_close(r[0], r[1], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(r[0][:, 0], 2 * x[:, 0], rtol=1e-12, atol=1e-12)
    assert r[0][:, 1:].abs().max().item() < 1e-13


def test_beltrami_time_factor_needs_nu():
    """The design note's e^{−d²t} / e^{−2d²t} factors are the ν = 1 case; for ν ≠ 1 they leave the momentum
    residual −(1 − ν) d² u (and continuity still holds); e^{−νd²t} / e^{−2νd²t} is exact for every ν."""
    nu = 0.1
    p = Beltrami(a=1.0, d=1.2, nu=nu)
    ref = Beltrami(a=1.0, d=1.2, nu=1.0)  # its closed form has exactly the design note's factors

    x = _points(p, 200, seed=3)
    f = Fields(ref.exact, x, spatial_dim=3)
    r = p.residual(f).detach()
    u = ref.velocity(x)
    torch.testing.assert_close(r[:, :3], -(1.0 - nu) * p.d**2 * u, rtol=1e-10, atol=1e-12)
    assert r[:, 3].abs().max().item() < 1e-13
    assert r[:, :3].abs().max().item() > 0.1
    # and at ν = 1 both coincide with the formula of the design note, written out verbatim
    X, Y, Z, t = x.unbind(1)
    a, d = 1.0, 1.2
    e = torch.exp
    u_note = -a * (e(a * X) * torch.sin(a * Y + d * Z) + e(a * Z) * torch.cos(a * X + d * Y)) * e(-d * d * t)
    v_note = -a * (e(a * Y) * torch.sin(a * Z + d * X) + e(a * X) * torch.cos(a * Y + d * Z)) * e(-d * d * t)
    w_note = -a * (e(a * Z) * torch.sin(a * X + d * Y) + e(a * Y) * torch.cos(a * Z + d * X)) * e(-d * d * t)
    p_note = (
        -(a * a / 2)
        * (
            e(2 * a * X)
            + e(2 * a * Y)
            + e(2 * a * Z)
            + 2 * torch.sin(a * X + d * Y) * torch.cos(a * Z + d * X) * e(a * (Y + Z))
            + 2 * torch.sin(a * Y + d * Z) * torch.cos(a * X + d * Y) * e(a * (Z + X))
            + 2 * torch.sin(a * Z + d * X) * torch.cos(a * Y + d * Z) * e(a * (X + Y))
        )
        * e(-2 * d * d * t)
    )
    torch.testing.assert_close(
        ref.exact(x), torch.stack([u_note, v_note, w_note, p_note], dim=1), rtol=1e-14, atol=1e-14
    )


def test_beltrami_pressure_is_bernoulli():
    """A Beltrami field has (u·∇)u = ∇(|u|²/2); the closed-form pressure is p = −|u|²/2 exactly."""
    p = Beltrami(a=0.8, d=1.7, nu=0.4)
    x = _points(p, 200, seed=4)
    torch.testing.assert_close(p.pressure(x)[:, 0], -0.5 * (p.velocity(x) ** 2).sum(dim=1), rtol=1e-12, atol=1e-12)


def test_kovasznay_lambda_and_formula():
    p = Kovasznay()
    assert p.nu == pytest.approx(1 / 20) and p.lam == pytest.approx(10 - math.sqrt(100 + 4 * math.pi**2), rel=1e-15)
    assert p.lam**2 - 20 * p.lam - 4 * math.pi**2 == pytest.approx(0.0, abs=1e-12)
    x = torch.tensor([[0.0, 0.0], [0.5, 0.25], [-0.5, 1.5]], dtype=F64)
    lam = p.lam
    expected = [
        [0.0, 0.0, 0.0],
        [
            1.0 - math.exp(lam / 2) * math.cos(math.pi / 2),
            lam / (2 * math.pi) * math.exp(lam / 2),
            0.5 * (1 - math.exp(lam)),
        ],
        [1.0 - math.exp(-lam / 2) * math.cos(3 * math.pi), 0.0, 0.5 * (1 - math.exp(-lam))],
    ]
    torch.testing.assert_close(p.exact(x), torch.tensor(expected, dtype=F64), rtol=1e-14, atol=1e-14)


def test_geometry_and_outputs():
    k, tg, b = Kovasznay(), TaylorGreen(), Beltrami()
    assert isinstance(k, IncompressibleNS) and k.has_exact and not k.time_dependent
    assert k.input_lower == (-0.5, -0.5) and k.input_upper == (1.0, 1.5)
    assert k.output_names == ("u", "v", "p") and k.n_outputs == 3 and k.pressure_index == 2
    assert tg.input_lower == (0.0, 0.0, 0.0) and tg.input_upper == pytest.approx((2 * math.pi, 2 * math.pi, 1.0))
    assert tg.output_names == ("u", "v", "p") and tg.pressure_index == 2
    assert b.input_lower == (-1.0,) * 3 + (0.0,) and b.input_upper == (1.0,) * 4
    assert b.output_names == ("u", "v", "w", "p") and b.n_outputs == 4 and b.pressure_index == 3
    for p in (k, tg, b):
        assert p.pressure_gauge == "mean"
        assert p.exact(_points(p, 5)).shape == (5, p.n_outputs)
        assert p.exact(_points(p, 5).float()).dtype == torch.float32


@pytest.mark.parametrize("name", ["kovasznay", "taylor-green", "beltrami"])
def test_conditions_vanish_on_the_closed_form(name):
    p = make_problem(name)
    d = p.spatial_dim
    batch = Sampler(p, n_domain=8, n_boundary=200, n_initial=200, seed=5).draw(0, dtype=F64)
    fields = lambda z: Fields(p.exact, z, spatial_dim=d)
    conds = p.conditions()
    expected_names = {
        "kovasznay": ["boundary"],
        "taylor-green": ["initial", "periodic_x1", "periodic_x2"],
        "beltrami": ["initial", "boundary"],
    }[name]
    assert [c.name for c in conds] == expected_names
    for c in conds:
        pts = batch.conditions[c.name]
        r = c.residual(fields, pts)
        width = {"initial": d, "boundary": d}.get(c.name, 2 * (d + 1))  # periodic: values and ∂/∂x_k, all outputs
        assert r.shape == (pts.shape[0], width), c.name
        assert r.abs().max().item() < 1e-12, c.name
        if c.name == "initial":
            assert torch.all(pts[:, d] == 0.0)
        if c.name == "boundary":
            on_face = torch.zeros(pts.shape[0], dtype=torch.bool)
            for k in range(d):
                on_face |= (pts[:, k] == p.lower[k]) | (pts[:, k] == p.upper[k])
            assert bool(on_face.all())
    # the targets are not trivially zero, and a field with the wrong velocity violates them
    wrong = lambda z: Fields(lambda y: p.exact(y) + 0.5, z, spatial_dim=d)
    for c in conds:
        if not c.name.startswith("periodic"):
            assert c.target(batch.conditions[c.name]).abs().max().item() > 0.1
            assert c.residual(wrong, batch.conditions[c.name]).abs().min().item() > 0.49


def test_taylor_green_periodic_condition_catches_a_non_periodic_field():
    p = TaylorGreen()
    c = p.conditions()[1]
    pts = Sampler(p, n_domain=8, n_boundary=50, seed=6).draw(0, dtype=F64).conditions[c.name]
    bad = lambda z: Fields(lambda y: p.exact(y) + torch.sin(0.5 * y[:, :1]), z, spatial_dim=2)
    assert c.residual(bad, pts).abs().max().item() > 0.5


def test_remove_pressure_mean():
    p = TaylorGreen(nu=0.3)
    t = torch.tensor([0.0, 0.5, 1.0], dtype=F64)
    xy = _points(p, 64, seed=7)[:, :2]
    x = torch.cat([torch.cat([xy, ti.expand(64, 1)], dim=1) for ti in t])
    true = p.exact(x)
    shifted = true.clone()
    shifted[:, 2] += 3.0 + torch.repeat_interleave(t, 64) ** 2  # a gauge that depends on time
    g_true, g_pred = p.remove_pressure_mean(true, x[:, 2]), p.remove_pressure_mean(shifted, x[:, 2])
    torch.testing.assert_close(g_pred, g_true, rtol=0, atol=1e-13)
    torch.testing.assert_close(g_true[:, :2], true[:, :2], rtol=0, atol=0)  # velocity untouched
    assert shifted[:, 2].sub(true[:, 2]).min().item() >= 3.0  # the input is not modified
    # numpy, and one overall mean without times
    arr = p.remove_pressure_mean(true.numpy() + np.array([0.0, 0.0, 5.0]))
    assert isinstance(arr, np.ndarray) and abs(arr[:, 2].mean()) < 1e-13
    np.testing.assert_allclose(arr[:, 2], true[:, 2].numpy() - true[:, 2].numpy().mean(), atol=1e-13)
    with pytest.raises(ValueError, match="^values must have shape"):
        p.remove_pressure_mean(true[:, :2])
    with pytest.raises(ValueError, match="^times must have"):
        p.remove_pressure_mean(true, x[:5, 2])


@pytest.mark.parametrize(
    "cls, kwargs, name",
    [
        (Kovasznay, {"re": 0.0}, "re"),
        (Kovasznay, {"re": -20.0}, "re"),
        (Kovasznay, {"re": float("nan")}, "re"),
        (Kovasznay, {"re": "20"}, "re"),
        (TaylorGreen, {"nu": 0.0}, "nu"),
        (TaylorGreen, {"nu": float("inf")}, "nu"),
        (TaylorGreen, {"T": -1.0}, "T"),
        (TaylorGreen, {"T": True}, "T"),
        (Beltrami, {"a": 0.0}, "a"),
        (Beltrami, {"a": float("nan")}, "a"),
        (Beltrami, {"d": float("inf")}, "d"),
        (Beltrami, {"d": "1"}, "d"),
        (Beltrami, {"nu": -1.0}, "nu"),
        (Beltrami, {"T": 0.0}, "T"),
    ],
)
def test_bad_parameters_name_the_parameter(cls, kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        cls(**kwargs)


def test_make_problem():
    k = make_problem("kovasznay", re=40)
    assert isinstance(k, Kovasznay) and k.nu == pytest.approx(1 / 40) and k.params == {"re": 40.0}
    tg = make_problem("taylor-green", nu=0.05, T=2.0)
    assert isinstance(tg, TaylorGreen) and tg.time_interval == (0.0, 2.0) and tg.nu == 0.05
    b = make_problem("beltrami", a=0.5, d=2, nu=0.1, T=0.5)
    assert isinstance(b, Beltrami) and b.params == {"a": 0.5, "d": 2.0, "nu": 0.1, "T": 0.5}
    for name in ("kovasznay", "taylor-green", "beltrami"):
        cls = type(make_problem(name))
        assert set(cls.PARAMETERS) == set(make_problem(name).params)
        defaults = {k: v[0] for k, v in cls.PARAMETERS.items()}
        assert make_problem(name, **defaults).params == make_problem(name).params
    with pytest.raises(ValueError, match="unknown parameter"):
        make_problem("kovasznay", nu=0.1)


def test_reported_errors_ignore_the_free_pressure_constant():
    from pinnkit.equations import Kovasznay, TaylorGreen
    from pinnkit.metrics import problem_errors
    from pinnkit.sampling import evaluation_points

    for p in (Kovasznay(), TaylorGreen()):
        pts = evaluation_points(p, 4000)
        true = p.exact(torch.as_tensor(pts, dtype=torch.float64)).numpy()
        shifted = true.copy()
        # a pressure off by a constant (per time level for the unsteady problem) is the same solution
        shift = 3.0 + (pts[:, -1] ** 2 if p.time_dependent else 0.0)
        shifted[:, p.pressure_index] += shift
        errs = problem_errors(p, shifted, true, pts)
        assert errs["relative_l2"] < 1e-12 and errs["relative_l2_p"] < 1e-12
        wrong = true.copy()
        wrong[:, 0] *= 1.01
        assert problem_errors(p, wrong, true, pts)["relative_l2_u"] > 1e-3


def test_beltrami_heldout_pressure_error_ignores_a_time_dependent_constant():
    """D = 4: the held-out design repeats Sobol space points at 11 times, so the free pressure constant
    c(t) is removed per time level and a prediction off by c(t) has zero pressure error."""
    import numpy as np

    from pinnkit.equations import Beltrami
    from pinnkit.metrics import problem_errors
    from pinnkit.sampling import evaluation_points

    p = Beltrami()
    x = evaluation_points(p, 2200)
    assert np.unique(x[:, -1]).size == 11
    truth = p.exact(torch.as_tensor(x)).numpy()
    shifted = truth.copy()
    shifted[:, p.pressure_index] += 0.3 + np.sin(3 * x[:, -1])
    assert problem_errors(p, shifted, truth, x)["relative_l2_p"] < 1e-13
