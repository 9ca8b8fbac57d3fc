"""Burgers problems: the Cole–Hopf solution and the blow-up family satisfy their PDEs and conditions; bad
parameters and windows that reach blow-up are rejected; the analytic quantities match the paper's formulas."""

import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad

from pinnkit.derivatives import Fields
from pinnkit.equations import BurgersBlowup, InviscidBurgersBlowup, ViscousBurgers, make_problem
from pinnkit.equations.reference import blowup_exact as be
from pinnkit.equations.reference import cole_hopf as ch
from pinnkit.sampling import Sampler

F64 = torch.float64
METHODS = ["autograd", "forward"]
SQRT_HALF = 1.0 / math.sqrt(2.0)


pytestmark = pytest.mark.usefixtures("one_thread")


def _points(problem, n=256, seed=0, t_min=None):
    g = torch.Generator().manual_seed(seed)
    lo = torch.tensor(problem.input_lower, dtype=F64)
    hi = torch.tensor(problem.input_upper, dtype=F64)
    if t_min is not None:
        lo[-1] = t_min
    return lo + torch.rand(n, problem.input_dim, generator=g, dtype=F64) * (hi - lo)


# =========================================================================== viscous
@pytest.fixture(scope="module")
def viscous():
    return ViscousBurgers()


def _front_points():
    """Points on and around the steep front at x = 0 (max |u_x| ≈ 152 at t ≈ 0.51) plus random ones."""
    x = torch.linspace(-0.02, 0.02, 21, dtype=F64)
    t = torch.tensor([0.3, 0.51047, 0.8, 1.0], dtype=F64)
    X, T = torch.meshgrid(x, t, indexing="ij")
    return torch.stack([X.reshape(-1), T.reshape(-1)], dim=1)


def test_viscous_torch_formula_matches_cole_hopf_module(viscous):
    x = torch.cat([_points(viscous, 400, seed=1), _front_points(), torch.tensor([[0.3, 0.0], [-0.7, 0.0]], dtype=F64)])
    u = viscous.exact(x)
    assert u.shape == (x.shape[0], 1) and u.dtype == F64
    torch.testing.assert_close(viscous.exact_differentiable(x), u, rtol=0, atol=1e-13)
    # the float32 path returns float32
    assert viscous.exact(x.float()).dtype == torch.float32
    # ∂u/∂x of the torch formula is the module's exact u_x
    pos = x[x[:, 1] > 0]
    f = Fields(viscous.exact_differentiable, pos, spatial_dim=1)
    u_x = ch.cole_hopf_u_x(pos[:, 0].numpy(), pos[:, 1].numpy(), nu=viscous.nu)
    assert np.abs(f.d(0, 0).detach().numpy() - u_x).max() <= 1e-11 * max(1.0, np.abs(u_x).max())


@pytest.mark.parametrize("method", METHODS)
def test_viscous_cole_hopf_satisfies_pde(viscous, method):
    x = torch.cat([_points(viscous, 300, seed=2, t_min=0.02), _front_points()])
    f = Fields(viscous.exact_differentiable, x, spatial_dim=1, method=method)
    terms = [f.dt(0), f.u[:, 0] * f.d(0, 0), viscous.nu * f.d2(0, 0)]
    scale = sum(t.abs() for t in terms).detach()
    assert scale.max().item() > 50.0  # the front is in the sample
    r = viscous.residual(f)[:, 0].detach()
    assert r.shape == (x.shape[0],)
    assert (r.abs() / scale.clamp(min=1.0)).max().item() <= 1e-12  # measured ≈ 4e-14


def test_viscous_pde_by_finite_differences_of_the_module(viscous):
    """Independent of the torch formula: the module's u and exact u_x, with central differences for u_t and
    u_xx = ∂_x(u_x), at smooth points (away from the front)."""
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.uniform(-0.9, -0.3, 40), rng.uniform(0.3, 0.9, 40)])
    t = rng.uniform(0.1, 0.9, 80)
    h = 1e-5  # truncation O(h²) ≈ 1e-9 here, round-off ≈ 1e-16/h
    u = ch.cole_hopf_u(x, t)
    u_x = ch.cole_hopf_u_x(x, t)
    u_t = (ch.cole_hopf_u(x, t + h) - ch.cole_hopf_u(x, t - h)) / (2 * h)
    u_xx = (ch.cole_hopf_u_x(x + h, t) - ch.cole_hopf_u_x(x - h, t)) / (2 * h)
    r = u_t + u * u_x - viscous.nu * u_xx
    assert np.abs(u_t).max() > 0.1
    assert np.abs(r).max() <= 1e-7


def test_viscous_conditions_vanish(viscous):
    batch = Sampler(viscous, n_domain=8, n_boundary=200, n_initial=200, seed=3).draw(0, dtype=F64)
    fields = lambda z: Fields(viscous.exact, z, spatial_dim=1)
    names = [c.name for c in viscous.conditions()]
    assert names == ["initial", "boundary"]
    for c in viscous.conditions():
        pts = batch.conditions[c.name]
        if c.name == "boundary":
            assert set(pts[:, 0].abs().tolist()) == {1.0}
        r = c.residual(fields, pts)
        assert r.abs().max().item() < 1e-13, c.name


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"nu": 0.0}, "nu"),
        ({"nu": -0.01}, "nu"),
        ({"nu": float("nan")}, "nu"),
        ({"nu": float("inf")}, "nu"),
        ({"nu": "0.01"}, "nu"),
        ({"n_nodes": 0}, "n_nodes"),
        ({"n_nodes": 2.5}, "n_nodes"),
    ],
)
def test_viscous_bad_parameters_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        ViscousBurgers(**kwargs)


def test_viscous_too_small_nu_for_automatic_nodes_names_nu():
    with pytest.raises(ValueError, match=r"^nu="):
        ViscousBurgers(nu=1e-6)
    assert ViscousBurgers(nu=1e-6, n_nodes=50).node_count == 50  # explicit nodes: the user's responsibility


def test_viscous_make_problem():
    p = make_problem("burgers", nu=0.02)
    assert isinstance(p, ViscousBurgers) and p.nu == 0.02 and p.params["nu"] == 0.02
    assert p.input_lower == (-1.0, 0.0) and p.input_upper == (1.0, 1.0) and p.has_exact
    q = make_problem("burgers")
    assert q.nu == pytest.approx(0.01 / math.pi, rel=1e-15)
    with pytest.raises(ValueError, match="unknown parameter"):
        make_problem("burgers", kappa=1.0)


# =========================================================================== inviscid blow-up family
def _random_family(d=3, seed=0):
    rng = np.random.default_rng(seed)
    A0 = rng.normal(size=(d, d))
    times = be.blowup_times(A0)
    tau = 0.5 * np.abs(times).min() if times.size else 1.0
    lower = rng.uniform(-1.0, 0.0, d)
    upper = lower + rng.uniform(0.5, 1.5, d)
    return InviscidBurgersBlowup(A0, lower, upper, (-tau, tau))


BLOWUP_CASES = [
    ("1d", 0.5),
    ("1d", 0.95),
    ("1d", 0.998),
    ("2d", 0.107),
    ("2d", 0.5),
    ("2d", 0.687),
    ("3d", 0),
    ("3d", 1),
]


def _blowup(kind, arg):
    if kind == "1d":
        return InviscidBurgersBlowup.one_d(arg)
    if kind == "2d":
        return InviscidBurgersBlowup.two_d(arg)
    return _random_family(3, seed=arg)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind, arg", BLOWUP_CASES)
def test_blowup_closed_form_residual_is_round_off(kind, arg, method):
    p = _blowup(kind, arg)
    d = p.spatial_dim
    x = _points(p, 256, seed=4)
    f = Fields(p.exact, x, spatial_dim=d, method=method)
    r = p.residual(f).detach()
    assert r.shape == (256, d)
    u_t = torch.stack([f.dt(i) for i in range(d)], dim=1).detach()
    scale = u_t.abs().max().item()
    assert scale > 1e-3
    assert r.abs().max().item() <= 1e-13 * max(scale, 1.0)
    # the spatial Jacobian of the closed form is A(t), the same at every x
    J = f.jacobian().detach()[:, :, :d]
    torch.testing.assert_close(J, p.A(x[:, d]), rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(J, torch.as_tensor(be.A_of_t(p.A0, x[:, d].numpy())), rtol=1e-12, atol=1e-12)


def test_blowup_presets_match_the_papers_formulas():
    p1 = InviscidBurgersBlowup.one_d(0.96)
    assert p1.input_lower == pytest.approx((-1.0, -0.04)) and p1.input_upper == pytest.approx((1.0, 0.96))
    x = _points(p1, 200, seed=6)
    torch.testing.assert_close(p1.exact(x)[:, 0], x[:, 0] / (x[:, 1] - 1.0), rtol=1e-14, atol=0)

    p2 = InviscidBurgersBlowup.two_d(0.4)
    assert p2.input_lower == pytest.approx((0.0, 0.0, 0.4 - SQRT_HALF)) and p2.input_upper == (1.0, 1.0, 0.4)
    assert p2.n_outputs == 2 and p2.output_names == ("u1", "u2") and p2.input_names == ("x1", "x2", "t")
    x = _points(p2, 200, seed=7)
    x1, x2, t = x.unbind(1)
    den = 1.0 - 2.0 * t**2
    expected = torch.stack([(x1 + x2 - 2 * x1 * t) / den, (x1 - x2 - 2 * x2 * t) / den], dim=1)
    torch.testing.assert_close(p2.exact(x), expected, rtol=1e-13, atol=1e-14)
    # and the reference module's numpy velocity
    torch.testing.assert_close(p2.exact(x), torch.as_tensor(be.velocity(p2.A0, x[:, :2].numpy(), t.numpy())))


@pytest.mark.parametrize("kind, arg", [("1d", 0.95), ("2d", 0.3), ("3d", 2)])
def test_blowup_conditions_vanish_on_every_face_and_component(kind, arg):
    p = _blowup(kind, arg)
    d = p.spatial_dim
    conds = p.conditions()
    assert [c.name for c in conds] == ["initial"] + [f"boundary_x{k + 1}_{s}" for k in range(d) for s in (0, 1)]
    batch = Sampler(p, n_domain=8, n_boundary=100, n_initial=100, seed=3).draw(0, dtype=F64)
    fields = lambda z: Fields(p.exact, z, spatial_dim=d)
    for c in conds:
        pts = batch.conditions[c.name]
        r = c.residual(fields, pts)
        assert r.shape == (pts.shape[0], d), c.name  # every component is constrained
        assert r.abs().max().item() < 1e-13, c.name
    # the targets are the closed form, not something that vanishes trivially
    assert conds[0].target(batch.conditions["initial"]).abs().max().item() > 0.1
    # a wrong field violates every face condition in every component
    wrong = lambda z: Fields(lambda y: p.exact(y) + torch.arange(1, d + 1, dtype=F64), z, spatial_dim=d)
    for c in conds:
        r = c.residual(wrong, batch.conditions[c.name])
        assert torch.all(r.abs().min(dim=0).values > 0.5), c.name


@pytest.mark.parametrize("delta", [1.0, 1.0 - 1e-14, 1.5, 2.0, 1.0 + 1e-9])
def test_1d_window_reaching_blowup_is_rejected(delta):
    with pytest.raises(ValueError, match=r"^delta must.*window.*blow-up time t = 1\b"):
        InviscidBurgersBlowup.one_d(delta)
    with pytest.raises(ValueError, match=r"^delta must"):
        make_problem("burgers-blowup", dim=1, delta=delta)


@pytest.mark.parametrize("delta", [SQRT_HALF, 0.8, 0.0, -0.1, 1e-15, SQRT_HALF - 1e-15])
def test_2d_window_reaching_blowup_is_rejected(delta):
    with pytest.raises(ValueError, match=r"^delta must.*window.*blow-up time t = [-]?0.707107"):
        InviscidBurgersBlowup.two_d(delta)


def test_general_window_reaching_blowup_is_rejected_first():
    A0 = [[1.0, 1.0], [1.0, -1.0]]
    with pytest.raises(ValueError, match=r"window \[t0, T\] = \[0, 1\] reaches the blow-up time t = 0.707107"):
        InviscidBurgersBlowup(A0, 0.0, 1.0, (0.0, 1.0))
    # the window is checked before the (here invalid) box
    with pytest.raises(ValueError, match="blow-up"):
        InviscidBurgersBlowup(A0, 1.0, 0.0, (-1.0, 1.0))
    with pytest.raises(ValueError, match="window"):
        InviscidBurgersBlowup(A0, 0.0, 1.0, (0.5, 0.2))
    with pytest.raises(ValueError, match="^window must be a pair"):
        InviscidBurgersBlowup(A0, 0.0, 1.0, 0.5)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"dim": 3}, "dim"),
        ({"dim": 0}, "dim"),
        ({"dim": 1.5}, "dim"),
        ({"delta": float("nan")}, "delta"),
        ({"delta": float("inf")}, "delta"),
        ({"delta": "0.5"}, "delta"),
        ({"delta": True}, "delta"),
    ],
)
def test_blowup_bad_parameters_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        BurgersBlowup(**kwargs)


def test_blowup_bad_box_and_matrix():
    with pytest.raises(ValueError, match="^lower must be < upper"):
        InviscidBurgersBlowup([[0.5]], 1.0, 0.0, (0.0, 1.0))
    with pytest.raises(ValueError, match="^upper must be a number or a sequence of 2"):
        InviscidBurgersBlowup(np.eye(2), 0.0, [1.0, 1.0, 1.0], (0.0, 1.0))
    with pytest.raises(ValueError, match="^A0 must be a square"):
        InviscidBurgersBlowup(np.ones((2, 3)), 0.0, 1.0, (0.0, 1.0))
    with pytest.raises(ValueError, match="^lower must be finite"):
        InviscidBurgersBlowup(np.eye(2), [0.0, float("nan")], 1.0, (0.0, 1.0))


@pytest.mark.parametrize("delta", [0.95, 0.974, 0.998, 0.5, -0.5])
def test_1d_analytic_quantities(delta):
    p = InviscidBurgersBlowup.one_d(delta)
    assert p.blowup_time == 1.0
    assert p.distance_to_blowup == pytest.approx(1.0 - delta, rel=1e-14)
    for kind in ("max_column_sum", "spectral"):
        assert p.grad_sup_norm(kind) == pytest.approx(1.0 / (1.0 - delta), rel=1e-12)
    assert p.energy() == pytest.approx(2.0 / (3.0 * (delta - 1.0) * (delta - 2.0)), rel=1e-12)


@pytest.mark.parametrize("delta", [0.107, 0.4, 0.687])
def test_2d_analytic_quantities(delta):
    p = InviscidBurgersBlowup.two_d(delta)
    t0, T = p.time_interval
    assert p.blowup_time == pytest.approx(SQRT_HALF, rel=1e-14)
    assert p.distance_to_blowup == pytest.approx(SQRT_HALF - delta, rel=1e-12)
    # ∫_D ‖u‖² dx = (8t² − 6t + 4) / (3(1 − 2t²)²), integrated over the window
    ref, _ = quad(lambda t: (8 * t**2 - 6 * t + 4) / (3 * (1 - 2 * t**2) ** 2), t0, T, epsabs=0, epsrel=1e-13)
    assert p.energy() == pytest.approx(ref, rel=1e-11)
    # ∇u = (1/(1−2t²)) [[1−2t, 1], [1, −1−2t]], sup over a fine grid of the window
    ts = np.linspace(t0, T, 20001)
    J = np.stack([[1 - 2 * ts, np.ones_like(ts)], [np.ones_like(ts), -1 - 2 * ts]]).transpose(2, 0, 1)
    J /= (1 - 2 * ts**2)[:, None, None]
    col = np.abs(J).sum(axis=1).max(axis=1).max()
    spec = np.linalg.norm(J, 2, axis=(1, 2)).max()
    assert p.grad_sup_norm() == pytest.approx(col, rel=1e-9)
    assert p.grad_sup_norm("spectral") == pytest.approx(spec, rel=1e-9)
    with pytest.raises(ValueError, match="^kind must"):
        p.grad_sup_norm("frobenius")


def test_random_family_quantities_delegate_to_reference():
    p = _random_family(3, seed=1)
    t0, T = p.time_interval
    assert p.energy() == pytest.approx(be.energy_time_integral(p.A0, t0, T, p.lower, p.upper), rel=1e-14)
    assert p.grad_sup_norm("spectral") == pytest.approx(be.grad_sup_norm(p.A0, t0, T, "spectral"), rel=1e-14)
    assert p.blowup_time == be.next_blowup_time(p.A0, T)
    # energy from u = A(t) x itself: Gauss–Legendre in space (3 nodes per axis: exact for the quadratic
    # |A x|²) and adaptive quadrature in time
    z, w = np.polynomial.legendre.leggauss(3)
    lo, hi = np.array(p.lower), np.array(p.upper)
    nodes = [0.5 * (a + b) + 0.5 * (b - a) * z for a, b in zip(lo, hi)]
    weights = [0.5 * (b - a) * w for a, b in zip(lo, hi)]
    grid = torch.as_tensor(np.stack([g.ravel() for g in np.meshgrid(*nodes, indexing="ij")], axis=1))
    wt = np.prod(np.stack([g.ravel() for g in np.meshgrid(*weights, indexing="ij")], axis=1), axis=1)

    def spatial_energy(t):
        pts = torch.cat([grid, torch.full((grid.shape[0], 1), t, dtype=F64)], dim=1)
        return float(np.dot(wt, (p.exact(pts).numpy() ** 2).sum(axis=1)))

    ref, _ = quad(spatial_energy, t0, T, epsabs=0, epsrel=1e-12, limit=200)
    assert p.energy() == pytest.approx(ref, rel=1e-10)


def test_blowup_make_problem_and_presets_agree():
    p = make_problem("burgers-blowup", dim=2, delta=0.5)
    q = InviscidBurgersBlowup.two_d(0.5)
    assert isinstance(p, InviscidBurgersBlowup) and p.params == {"dim": 2, "delta": 0.5}
    assert p.time_interval == q.time_interval and np.array_equal(p.A0, q.A0)
    assert p.spatial_dim == 2 and p.n_outputs == 2 and p.has_exact
    r = make_problem("burgers-blowup")
    assert r.spatial_dim == 1 and r.time_interval == pytest.approx((-0.5, 0.5))
    assert make_problem("burgers-blowup", dim=1, delta=0.95).distance_to_blowup == pytest.approx(0.05)
    with pytest.raises(ValueError, match="unknown parameter"):
        make_problem("burgers-blowup", A0=[[1.0]])
