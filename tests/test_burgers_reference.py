"""Ground truths for Burgers: Cole–Hopf (viscous, Raissi benchmark) and the inviscid blow-up family."""

from __future__ import annotations

import time

import numpy as np
import pytest
from numpy.polynomial.hermite import hermgauss
from scipy.integrate import quad
from scipy.optimize import minimize_scalar

from pinnkit.equations.reference import blowup_exact as be
from pinnkit.equations.reference import cole_hopf as ch

NU = 0.01 / np.pi


# =========================================================================== Cole–Hopf
def _trapezoid_cole_hopf(x: float, t: float, nu: float = NU, m: int = 40001) -> float:
    """Independent evaluation: trapezoid rule in η on [-L, L] (exponentially convergent). f varies by a factor
    e^{1/(πν)}, so the Gaussian must have decayed by more than that at L: L = √(4νt) √(1/(πν) + 60)."""
    s = np.sqrt(4.0 * nu * t)
    half = s * np.sqrt(1.0 / (np.pi * nu) + 60.0)
    eta = np.linspace(-half, half, m)
    y = np.pi * (x - eta)
    e = -np.cos(y) / (2.0 * np.pi * nu) - eta**2 / (4.0 * nu * t)
    g = np.exp(e - e.max())
    return float(-(g * np.sin(y)).sum() / g.sum())


@pytest.mark.parametrize("n", [1, 2, 7, 40, 150])
def test_gauss_hermite_rule_matches_numpy(n):
    z, log_w = ch.gauss_hermite_rule(n)
    z_ref, w_ref = hermgauss(n)
    assert np.allclose(z, z_ref, rtol=0, atol=1e-13)
    assert np.allclose(np.exp(log_w), w_ref, rtol=1e-12, atol=0)


@pytest.mark.parametrize("n", [600, 1500])
def test_gauss_hermite_rule_moments_for_large_n(n):
    # numpy's hermgauss breaks down here (weights underflow / NaN); ours keeps log-weights
    z, log_w = ch.gauss_hermite_rule(n)
    assert np.all(np.isfinite(log_w)) and np.all(np.diff(z) > 0)
    w = np.exp(log_w)
    for k, exact in [(0, np.sqrt(np.pi)), (2, np.sqrt(np.pi) / 2), (4, 3 * np.sqrt(np.pi) / 4)]:
        assert abs(np.dot(w, z**k) - exact) < 1e-12


def test_node_count_convergence():
    x = np.concatenate([np.linspace(-1, 1, 101), np.linspace(-0.01, 0.01, 21)])
    t = np.linspace(0.05, 1.0, 20)
    X, T = np.meshgrid(x, t)
    counts = [20, 30, 40, 50, 60, 70, 80]
    us = [ch.cole_hopf_u(X, T, n_nodes=n) for n in counts]
    uxs = [ch.cole_hopf_u_x(X, T, n_nodes=n) for n in counts]
    du = [np.abs(a - b).max() for a, b in zip(us[:-1], us[1:])]
    dux = [np.abs(a - b).max() for a, b in zip(uxs[:-1], uxs[1:])]
    assert all(b < a for a, b in zip(du, du[1:])), du
    assert all(b < a for a, b in zip(dux, dux[1:])), dux
    assert du[-1] < 1e-10 and dux[-1] < 1e-7
    # the default (200 nodes at this ν) is at round-off: same as 300 nodes
    assert ch.default_node_count(NU) == 200
    assert np.abs(ch.cole_hopf_u(X, T) - ch.cole_hopf_u(X, T, n_nodes=300)).max() < 1e-13
    assert np.abs(ch.cole_hopf_u_x(X, T) - ch.cole_hopf_u_x(X, T, n_nodes=300)).max() < 1e-10


def test_agrees_with_independent_trapezoid_rule():
    rng = np.random.default_rng(0)
    pts = [(x, t) for x, t in zip(rng.uniform(-1, 1, 30), rng.uniform(0.01, 1, 30))]
    pts += [(1e-3, 0.51), (-2e-3, 1.0), (5e-3, 0.3), (0.0, 0.7)]
    for x, t in pts:
        assert abs(ch.cole_hopf_u(x, t) - _trapezoid_cole_hopf(x, t)) < 1e-12, (x, t)


def test_default_node_count_at_smaller_viscosity():
    nu = 0.001 / np.pi  # front ten times steeper; default_node_count gives 629 nodes
    assert ch.default_node_count(nu) == 629
    for x, t in [(0.3, 0.2), (-0.6, 0.9), (1e-4, 0.4), (-5e-4, 1.0), (0.05, 0.7)]:
        assert abs(ch.cole_hopf_u(x, t, nu=nu) - _trapezoid_cole_hopf(x, t, nu=nu, m=200001)) < 1e-12, (x, t)


def test_initial_condition_symmetry_and_boundary():
    x = np.linspace(-1, 1, 257)
    assert np.array_equal(ch.cole_hopf_u(x, 0.0), -np.sin(np.pi * x))
    assert np.array_equal(ch.cole_hopf_u_x(x, 0.0), -np.pi * np.cos(np.pi * x))
    t = np.linspace(0.0, 1.0, 41)[:, None]
    u, u_neg = ch.cole_hopf_u(x[None, :], t), ch.cole_hopf_u(-x[None, :], t)
    assert np.abs(u + u_neg).max() < 1e-13  # odd in x
    assert np.abs(ch.cole_hopf_u(np.array([-1.0, 0.0, 1.0]), t)).max() < 1e-13  # u(±1,t) = u(0,t) = 0
    assert np.abs(u).max() <= 1.0 + 1e-12  # maximum principle


def test_basdevant_maximum_slope():
    """Basdevant et al. (1986), Table 3, as quoted by several independent course codes found with the search
    tool: max |∂u/∂x| = 152.00516, attained at x = 0, t = 1.6037/π (≈ 0.5105) for ν = 0.01/π."""
    res = minimize_scalar(
        lambda t: float(ch.cole_hopf_u_x(0.0, t)), bounds=(0.45, 0.55), method="bounded", options={"xatol": 1e-9}
    )
    assert abs(-res.fun - 152.00516) < 5e-6
    assert abs(res.x * np.pi - 1.6037) < 5e-4
    # x = 0 is where the slope is steepest at that time
    x = np.linspace(-0.02, 0.02, 401)
    assert np.abs(ch.cole_hopf_u_x(x, res.x)).max() <= -res.fun + 1e-9


def test_derivative_matches_finite_differences():
    x = np.array([-0.8, -0.3, 0.0, 0.002, 0.01, 0.4, 0.9])
    for t in (0.1, 0.3, 0.5105, 0.9):
        h = 1e-6
        fd = (ch.cole_hopf_u(x + h, t) - ch.cole_hopf_u(x - h, t)) / (2 * h)
        ux = ch.cole_hopf_u_x(x, t)
        assert np.allclose(fd, ux, rtol=1e-6, atol=1e-6), (t, fd, ux)


@pytest.mark.parametrize("x,t", [(0.5, 0.3), (-0.5, 0.3), (0.2, 0.1), (-0.7, 0.8), (0.35, 0.6), (0.9, 0.95)])
def test_pde_residual_by_finite_differences(x, t):
    h = 1e-3  # 4th-order central differences
    u = lambda xx, tt: float(ch.cole_hopf_u(xx, tt))  # noqa: E731
    d1 = lambda f, a: (-f(a + 2 * h) + 8 * f(a + h) - 8 * f(a - h) + f(a - 2 * h)) / (12 * h)  # noqa: E731
    u_t = d1(lambda s: u(x, s), t)
    u_x = d1(lambda s: u(s, t), x)
    u_xx = (-u(x + 2 * h, t) + 16 * u(x + h, t) - 30 * u(x, t) + 16 * u(x - h, t) - u(x - 2 * h, t)) / (12 * h**2)
    residual = u_t + u(x, t) * u_x - NU * u_xx
    assert abs(residual) < 5e-9, residual  # measured <= 5e-10
    assert abs(u_x - float(ch.cole_hopf_u_x(x, t))) < 1e-8


def test_broadcasting_and_chunking(monkeypatch):
    x = np.linspace(-1, 1, 33)
    t = np.linspace(0, 1, 9)[:, None]
    full = ch.cole_hopf_u(x, t)
    assert full.shape == (9, 33)
    monkeypatch.setattr(ch, "_CHUNK_ELEMENTS", 1000)  # forces many small chunks
    assert np.array_equal(ch.cole_hopf_u(x, t), full)
    assert np.array_equal(ch.cole_hopf_u_x(x, t).shape, (9, 33))
    assert np.ndim(ch.cole_hopf_u(0.3, 0.4)) == 0


def test_reference_grid_raissi():
    start = time.perf_counter()
    x, t, u = ch.reference_grid()
    elapsed = time.perf_counter() - start
    assert x.shape == (256,) and t.shape == (100,) and u.shape == (100, 256)
    assert x[0] == -1 and x[-1] == 1 and t[0] == 0 and abs(t[-1] - 0.99) < 1e-15
    assert np.allclose(np.diff(t), 0.01)
    assert np.array_equal(u[0], -np.sin(np.pi * x))
    assert np.allclose(u[37], ch.cole_hopf_u(x, t[37]), rtol=0, atol=0)
    assert elapsed < 10.0


def test_cole_hopf_validation():
    with pytest.raises(ValueError, match="nu"):
        ch.cole_hopf_u(0.1, 0.1, nu=0.0)
    with pytest.raises(ValueError, match="nu"):
        ch.cole_hopf_u_x(0.1, 0.1, nu=-1.0)
    with pytest.raises(ValueError, match="t must"):
        ch.cole_hopf_u(0.1, -0.1)
    with pytest.raises(ValueError, match="x must"):
        ch.cole_hopf_u(np.nan, 0.1)
    with pytest.raises(ValueError, match="n_nodes"):
        ch.cole_hopf_u(0.1, 0.1, n_nodes=0)
    with pytest.raises(ValueError, match="n_nodes"):
        ch.cole_hopf_u(0.1, 0.1, n_nodes=2.5)
    with pytest.raises(ValueError, match="broadcast"):
        ch.cole_hopf_u(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="nx"):
        ch.reference_grid(nx=1)
    assert ch.default_node_count(0.001 / np.pi) > ch.default_node_count(NU)
    with pytest.raises(ValueError, match="n_nodes explicitly"):
        ch.default_node_count(1e-6)


# =========================================================================== inviscid blow-up family
def _random_A0(rng, d):
    return rng.normal(size=(d, d))


def _valid_times(A0, rng, n, t_lo=-1.0, t_hi=1.0):
    """Random times at least 5% of the range away from every blow-up time."""
    taus = be.blowup_times(A0)
    t = rng.uniform(t_lo, t_hi, 20 * n)
    if taus.size:
        t = t[np.min(np.abs(t[:, None] - taus[None, :]), axis=1) > 0.05 * (t_hi - t_lo)]
    return t[:n]


def test_presets_match_the_paper_formulas():
    rng = np.random.default_rng(1)
    p1 = be.burgers_1d_blowup(0.95)
    x = rng.uniform(-1, 1, (50, 1))
    t = rng.uniform(p1.t0, p1.T, 50)
    assert np.allclose(be.velocity(p1.A0, x, t)[:, 0], x[:, 0] / (t - 1), rtol=1e-14, atol=0)
    assert (p1.t0, p1.T, p1.blowup_time) == pytest.approx((-0.05, 0.95, 1.0), abs=1e-15)

    p2 = be.burgers_2d_blowup(0.5)
    x = rng.uniform(0, 1, (50, 2))
    t = rng.uniform(p2.t0, p2.T, 50)
    den = 1 - 2 * t**2
    u1 = (x[:, 0] + x[:, 1] - 2 * x[:, 0] * t) / den
    u2 = (x[:, 0] - x[:, 1] - 2 * x[:, 1] * t) / den
    assert np.allclose(be.velocity(p2.A0, x, t), np.stack([u1, u2], 1), rtol=1e-13, atol=1e-15)
    J = be.jacobian(p2.A0, x, t)
    J_ref = (
        np.stack([[1 - 2 * t, np.ones_like(t)], [np.ones_like(t), -1 - 2 * t]]).transpose(2, 0, 1) / den[:, None, None]
    )
    assert np.allclose(J, J_ref, rtol=1e-13, atol=1e-15)
    assert np.array_equal(be.A_of_t(p2.A0, 0.0), [[1, 1], [1, -1]])
    assert p2.blowup_time == pytest.approx(1 / np.sqrt(2), abs=1e-15)


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_residual_is_at_round_off(d):
    rng = np.random.default_rng(10 + d)
    A0 = _random_A0(rng, d)
    t = _valid_times(A0, rng, 200)
    x = rng.uniform(-1, 1, (t.size, d))
    u = be.velocity(A0, x, t)
    J = be.jacobian(A0, x, t)
    u_t = be.velocity_t(A0, x, t)
    advect = np.einsum("nij,nj->ni", J, u)  # (u·∇)u_i = Σ_j u_j ∂_j u_i
    scale = np.linalg.norm(J, axis=(1, 2)) ** 2 * np.linalg.norm(x, axis=1)
    assert np.max(np.linalg.norm(u_t + advect, axis=1) / scale) < 1e-14
    # u_t by a central finite difference as a sanity check of A' = -A²
    h = 1e-5
    fd = (be.velocity(A0, x, t + h) - be.velocity(A0, x, t - h)) / (2 * h)
    assert np.max(np.linalg.norm(fd - u_t, axis=1) / scale) < 1e-6


def test_A_dot_is_minus_A_squared_and_A0_at_zero():
    rng = np.random.default_rng(3)
    A0 = _random_A0(rng, 3)
    assert np.allclose(be.A_of_t(A0, 0.0), A0, rtol=0, atol=1e-15)
    t = _valid_times(A0, rng, 20)
    h = 1e-6
    fd = (be.A_of_t(A0, t + h) - be.A_of_t(A0, t - h)) / (2 * h)
    A = be.A_of_t(A0, t)
    assert np.allclose(fd, be.A_dot(A0, t), rtol=1e-6, atol=1e-6 * np.abs(A).max() ** 2)


DELTAS_1D = np.round(np.arange(0.950, 0.9981, 0.004), 3)
DELTAS_2D = np.arange(-0.60, -0.019, 0.02) + 1 / np.sqrt(2)


def test_paper_sweeps_are_valid_windows():
    assert DELTAS_1D.size == 13 and DELTAS_2D.size == 30
    for delta in DELTAS_1D:
        be.burgers_1d_blowup(delta)
    for delta in DELTAS_2D:
        be.burgers_2d_blowup(delta)


@pytest.mark.parametrize("delta", DELTAS_1D[[0, 6, 12]])
def test_closed_forms_1d(delta):
    p = be.burgers_1d_blowup(delta)
    exact = 2 / (3 * (delta - 1) * (delta - 2))
    for method in ("closed", "quadrature"):
        assert be.energy_time_integral(p.A0, p.t0, p.T, p.lower, p.upper, method=method) == pytest.approx(
            exact, rel=1e-12
        )
    for norm in ("spectral", "max_column_sum"):
        assert be.grad_sup_norm(p.A0, p.t0, p.T, norm=norm) == pytest.approx(1 / (1 - delta), rel=1e-13)
    t = np.linspace(p.t0, p.T, 7)
    assert np.allclose(be.energy(p.A0, t, p.lower, p.upper), (2 / 3) / (t - 1) ** 2, rtol=1e-14)


def _energy_2d_design(t):
    return (8 * t**2 - 6 * t + 4) / (3 * (1 - 2 * t**2) ** 2)


@pytest.mark.parametrize("delta", DELTAS_2D[[0, 10, 29]])
def test_closed_forms_2d(delta):
    p = be.burgers_2d_blowup(delta)
    t = np.linspace(p.t0, p.T, 11)
    assert np.allclose(be.energy(p.A0, t, p.lower, p.upper), _energy_2d_design(t), rtol=1e-13)
    ref, _ = quad(_energy_2d_design, p.t0, p.T, epsabs=0, epsrel=1e-13, limit=200)
    closed = be.energy_time_integral(p.A0, p.t0, p.T, p.lower, p.upper, method="closed")
    quadr = be.energy_time_integral(p.A0, p.t0, p.T, p.lower, p.upper, method="quadrature")
    assert closed == pytest.approx(ref, rel=1e-11)
    assert quadr == pytest.approx(closed, rel=1e-12)
    # ‖A(t)‖_1 = (2 + 2|t|)/(1 - 2t²), ‖A(t)‖_2 = √2/(1 - √2|t|): both increase with |t|
    s = max(abs(p.t0), abs(p.T))
    assert be.grad_sup_norm(p.A0, p.t0, p.T, "max_column_sum") == pytest.approx((2 + 2 * s) / (1 - 2 * s**2), rel=1e-13)
    assert be.grad_sup_norm(p.A0, p.t0, p.T, "spectral") == pytest.approx(np.sqrt(2) / (1 - np.sqrt(2) * s), rel=1e-13)


def test_box_second_moment_and_energy_against_tensor_quadrature():
    rng = np.random.default_rng(5)
    lo = rng.uniform(-2, 0, 3)
    hi = lo + rng.uniform(0.5, 2, 3)
    z, w = np.polynomial.legendre.leggauss(3)  # exact for quadratics
    pts = [0.5 * (hi[i] - lo[i]) * (z + 1) + lo[i] for i in range(3)]
    wts = [0.5 * (hi[i] - lo[i]) * w for i in range(3)]
    X = np.stack(np.meshgrid(*pts, indexing="ij"), -1).reshape(-1, 3)
    W = np.einsum("i,j,k->ijk", *wts).ravel()
    M_ref = np.einsum("n,ni,nj->ij", W, X, X)
    assert np.allclose(be.box_second_moment(lo, hi), M_ref, rtol=1e-13)
    A0 = _random_A0(rng, 3)
    for t in _valid_times(A0, rng, 5):
        u = be.velocity(A0, X, np.full(len(X), t))
        assert be.energy(A0, t, lo, hi) == pytest.approx(np.dot(W, (u**2).sum(1)), rel=1e-12)


def test_energy_time_integral_nonsymmetric_against_scipy_quad():
    rng = np.random.default_rng(6)
    A0 = _random_A0(rng, 3)
    t_start = 0.0
    t_end = 0.9 * next_or(A0, t_start, 1.0)
    lo, hi = np.zeros(3), np.ones(3)
    ref, _ = quad(lambda s: float(be.energy(A0, s, lo, hi)), t_start, t_end, epsabs=0, epsrel=1e-13, limit=500)
    assert be.energy_time_integral(A0, t_start, t_end, lo, hi) == pytest.approx(ref, rel=1e-11)
    with pytest.raises(ValueError, match="symmetric"):
        be.energy_time_integral(A0, t_start, t_end, lo, hi, method="closed")


def next_or(A0, t, default):
    nb = be.next_blowup_time(A0, t)
    return min(nb - t, default) if np.isfinite(nb) else default


def test_grad_sup_norm_nonsymmetric_against_dense_sampling():
    rng = np.random.default_rng(7)
    A0 = _random_A0(rng, 3)
    t0, T = -0.5, 0.5
    taus = be.blowup_times(A0)
    if np.any((taus >= t0) & (taus <= T)):
        T = 0.8 * taus[taus > t0].min() if taus[taus > t0].size else T
    ts = np.linspace(t0, T, 200001)
    A = be.A_of_t(A0, ts)
    for norm, fn in (("spectral", be.spectral_norm), ("max_column_sum", be.max_column_sum_norm)):
        dense = fn(A).max()
        got = be.grad_sup_norm(A0, t0, T, norm=norm)
        assert got >= dense * (1 - 1e-12)
        assert got == pytest.approx(dense, rel=1e-8)
    assert be.max_column_sum_norm(np.array([[1.0, -5.0], [2.0, 1.0]])) == 6.0  # column 2: |-5| + |1|


@pytest.mark.parametrize("delta", [1.0, 1.5, 2.0])
def test_1d_windows_reaching_blowup_are_rejected(delta):
    with pytest.raises(ValueError, match=r"delta=.*t = 1\b"):
        be.burgers_1d_blowup(delta)


@pytest.mark.parametrize("delta", [0.0, -0.3, 1 / np.sqrt(2), 0.8, np.sqrt(2)])
def test_2d_windows_reaching_blowup_are_rejected(delta):
    with pytest.raises(ValueError, match=r"delta=.*blow-up time t = -?0\.707107"):
        be.burgers_2d_blowup(delta)


def test_window_validation():
    A0 = np.array([[-1.0]])
    with pytest.raises(ValueError, match="t0 < T"):
        be.check_window(A0, 0.5, 0.5)
    with pytest.raises(ValueError, match="t0 < T"):
        be.check_window(A0, 0.0, np.inf)
    with pytest.raises(ValueError, match="blow-up time t = 1"):
        be.energy_time_integral(A0, 0.0, 1.0, -1, 1)
    with pytest.raises(ValueError, match="blow-up time t = 1"):
        be.grad_sup_norm(A0, 0.5, 1.2)
    with pytest.raises(ValueError):
        be.burgers_1d_blowup(np.nan)
    with pytest.raises(ValueError, match="square"):
        be.A_of_t(np.ones((2, 3)), 0.0)
    with pytest.raises(ValueError, match="shape"):
        be.velocity(np.eye(2), np.ones((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="lower < upper"):
        be.energy(np.eye(2), 0.0, [0, 1], [1, 1])
    with pytest.raises(ValueError, match="singular"):
        be.A_of_t(A0, 1.0)
    assert be.check_window(A0, 1.0 + 1e-9, 3.0) == (1.0 + 1e-9, 3.0)  # after the blow-up is a window too


def test_blowup_times_presets():
    assert np.allclose(be.blowup_times([[-1.0]]), [1.0], rtol=1e-15)
    assert np.allclose(be.blowup_times([[1.0, 1.0], [1.0, -1.0]]), [-1 / np.sqrt(2), 1 / np.sqrt(2)], rtol=1e-14)
    A0 = np.array([[1.0, 1.0], [1.0, -1.0]])
    assert be.next_blowup_time(A0, 0.0) == pytest.approx(1 / np.sqrt(2), rel=1e-14)
    assert be.previous_blowup_time(A0, 0.0) == pytest.approx(-1 / np.sqrt(2), rel=1e-14)
    assert be.next_blowup_time(A0, 1.0) == np.inf
    assert be.previous_blowup_time(A0, -1.0) == -np.inf
    assert be.blowup_times(np.zeros((2, 2))).size == 0  # u = 0
    assert be.blowup_times([[0.0, -1.0], [1.0, 0.0]]).size == 0  # rotation: eigenvalues ±i, never singular


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blowup_times_random_A0_against_determinant_roots(seed):
    rng = np.random.default_rng(100 + seed)
    A0 = _random_A0(rng, 4)
    taus = be.blowup_times(A0)
    # det(I + t A0) = Π (1 + t λ_i): its real roots, located by sign changes and bisection
    det = lambda s: np.linalg.det(np.eye(4) + np.asarray(s)[..., None, None] * A0)  # noqa: E731
    lim = 2.0 / np.min(np.abs(np.linalg.eigvals(A0))) + 1.0
    grid = np.linspace(-lim, lim, 400001)
    vals = det(grid)
    roots = []
    for k in np.flatnonzero(np.sign(vals[:-1]) != np.sign(vals[1:])):
        a, b = grid[k], grid[k + 1]
        for _ in range(80):
            m = 0.5 * (a + b)
            a, b = (a, m) if np.sign(det(m)) != np.sign(det(a)) else (m, b)
        roots.append(0.5 * (a + b))
    assert len(roots) == taus.size
    assert np.allclose(taus, roots, rtol=1e-10, atol=1e-12)
    for tau in taus:
        assert np.linalg.svd(np.eye(4) + tau * A0, compute_uv=False)[-1] < 1e-12 * max(1, abs(tau)) * np.abs(A0).max()
    # next / previous around a point between blow-ups
    if taus.size:
        t_mid = taus[0] - 1.0
        assert be.next_blowup_time(A0, t_mid) == taus[0]
        assert be.previous_blowup_time(A0, t_mid) == -np.inf
        assert be.previous_blowup_time(A0, taus[-1] + 1.0) == taus[-1]
