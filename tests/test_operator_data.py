"""Operator-learning data: GRF covariance, Burgers/heat solvers against closed forms, the on-disk cache."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ive

from pinnkit.equations import operator_data as od
from pinnkit.equations.reference import burgers_periodic as bp
from pinnkit.equations.reference import grf


# ---------------------------------------------------------------- closed forms used as ground truth
def cole_hopf_sine(x: np.ndarray, t: float, nu: float) -> np.ndarray:
    """Exact viscous Burgers on [0,1] periodic for u0 = sin(2πx): u = -2ν φ_x/φ, φ_t = ν φ_xx,
    φ0 ∝ exp(cos(2πx)/(4πν)) = Σ_k I_k(a) e^{2πikx}, a = 1/(4πν) (scaled by e^{-a}: ive)."""
    a = 1.0 / (4.0 * np.pi * nu)
    k = np.arange(1, 400)
    c = ive(k, a)
    keep = c > 1e-30 * ive(0, a)
    k, c = k[keep], c[keep]
    decay = c * np.exp(-nu * (2.0 * np.pi * k) ** 2 * t)
    arg = 2.0 * np.pi * np.outer(x, k)
    phi = ive(0, a) + 2.0 * (decay * np.cos(arg)).sum(axis=1)
    phi_x = -2.0 * (decay * 2.0 * np.pi * k * np.sin(arg)).sum(axis=1)
    return -2.0 * nu * phi_x / phi


def max_rel_error(u: np.ndarray, exact: np.ndarray) -> float:
    """max over times of max_x |u - exact| / max_x |exact|; u and exact are (nt, nx)."""
    return float(np.max(np.abs(u - exact).max(axis=1) / np.abs(exact).max(axis=1)))


def burgers_sine_error(nu: float, n: int, dt: float, t_out: np.ndarray, x_out: np.ndarray) -> float:
    u0 = np.sin(2.0 * np.pi * np.arange(n) / n)
    u = bp.solve_burgers(u0, t_out, nu, x_out=x_out, n_solve=n, dt=dt)[0]
    exact = np.array([cole_hopf_sine(x_out, t, nu) for t in t_out])
    return max_rel_error(u, exact)


# ---------------------------------------------------------------- (1) Gaussian random fields
GRF_CASES = [
    grf.GRFParams(kernel="se", length_scale=0.15, sigma=1.0),
    grf.GRFParams(kernel="matern", length_scale=0.2, sigma=2.0, nu=1.5),
    grf.GRFParams(kernel="matern", length_scale=0.1, sigma=0.5, nu=0.5),
]


@pytest.mark.parametrize("params", GRF_CASES, ids=lambda p: f"{p.kernel}-nu{p.nu}")
def test_grf_empirical_covariance_matches_exact(params: grf.GRFParams) -> None:
    m, n = 24, 40_000
    field = grf.PeriodicGRF(m, params)
    u = field.sample(n, np.random.default_rng(123))
    exact = field.covariance()
    emp = u.T @ u / n  # known zero mean
    # Var of (1/n) Σ u_i u_j for a Gaussian is (C_ii C_jj + C_ij²)/n: standardise every entry
    se = np.sqrt((np.outer(np.diag(exact), np.diag(exact)) + exact**2) / n)
    z = (emp - exact) / se
    assert np.abs(z).max() < 5.0  # 300 distinct entries: a 5-sigma excursion has probability ~1e-4
    assert np.allclose(np.diag(exact), params.sigma**2, rtol=1e-14)
    assert np.abs(u.mean(axis=0)).max() < 5.0 * params.sigma / np.sqrt(n)


@pytest.mark.parametrize("params", GRF_CASES, ids=lambda p: f"{p.kernel}-nu{p.nu}")
def test_grf_empirical_spectrum_matches_eigenvalues(params: grf.GRFParams) -> None:
    """Fourier modes of a stationary periodic field are uncorrelated: E|û_j|² = m λ_j, and the sample mean of
    |û_j|²/(m λ_j) over n draws has standard error √(1/n) (√(2/n) for j = 0 and the Nyquist mode)."""
    m, n = 64, 20_000
    field = grf.PeriodicGRF(m, params)
    power = np.mean(np.abs(np.fft.rfft(field.sample(n, np.random.default_rng(5)), axis=1)) ** 2, axis=0) / m
    lam = field.eigenvalues
    keep = lam > 1e-10 * lam.max()  # below that the samples carry FFT round-off, not signal
    dof = np.where((np.arange(lam.size) == 0) | (np.arange(lam.size) == m // 2), 1.0, 2.0)
    z = (power[keep] / lam[keep] - 1.0) / np.sqrt(2.0 / (dof[keep] * n))
    assert keep.sum() >= 8
    assert np.abs(z).max() < 4.5  # ≤ 33 independent modes
    assert abs(np.mean(z**2) - 1.0) < 4.0 * np.sqrt(2.0 / keep.sum())  # the spread is the predicted one


def test_grf_covariance_is_circulant_psd_and_matches_spectrum() -> None:
    for params in GRF_CASES:
        field = grf.PeriodicGRF(32, params)
        c = field.covariance()
        assert np.array_equal(c, c.T)
        assert np.array_equal(c[1:, 1:], c[:-1, :-1])  # stationary
        eig = np.sort(np.linalg.eigvalsh(c))
        full = np.concatenate([field.eigenvalues, field.eigenvalues[1 : (32 + 1) // 2]])  # λ_j = λ_{m-j}
        assert np.allclose(eig, np.sort(full), atol=1e-12 * eig.max())
        assert eig.min() > -1e-12 * eig.max()


def test_grf_kernels_match_independent_closed_forms() -> None:
    m, ell = 40, 0.3
    x = grf.grid(m)
    # SE: Poisson summation, Σ_n e^{-(d+n)²/(2ℓ²)} = √(2π) ℓ Σ_k e^{-2π²k²ℓ²} cos(2πkd)
    k = np.arange(-60, 61)[:, None]
    w = (np.sqrt(2 * np.pi) * ell * np.exp(-2 * np.pi**2 * k**2 * ell**2) * np.cos(2 * np.pi * k * x)).sum(axis=0)
    assert np.allclose(grf.covariance_row(m, grf.GRFParams("se", ell, 1.0)), w / w[0], rtol=0, atol=1e-14)
    # Matérn ν = 1/2 (exponential): Σ_n e^{-|d+n|/ℓ} ∝ cosh((1/2 - d)/ℓ)
    d = np.minimum(x, 1 - x)
    row = grf.covariance_row(m, grf.GRFParams("matern", ell, 3.0, nu=0.5))
    assert np.allclose(row, 9.0 * np.cosh((0.5 - d) / ell) / np.cosh(0.5 / ell), rtol=1e-14, atol=0)


def test_grf_reproducible_from_seed() -> None:
    params = grf.GRFParams("matern", 0.1, 1.0, nu=2.5)
    a = grf.sample(5, 64, params, np.random.default_rng(7))
    b = grf.sample(5, 64, params, np.random.default_rng(7))
    c = grf.sample(5, 64, params, np.random.default_rng(8))
    assert a.tobytes() == b.tobytes()
    assert not np.allclose(a, c)


# ---------------------------------------------------------------- (2) Burgers
def test_burgers_etdrk4_fourth_order_in_time() -> None:
    nu, n = 0.05, 96  # spatial error ~1e-12 here, far below the time errors measured
    t_out, x_out = np.array([0.25, 0.5, 1.0]), np.linspace(0, 1, 33)
    dts = [0.01, 0.005, 0.0025]
    errors = [burgers_sine_error(nu, n, dt, t_out, x_out) for dt in dts]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 1e-8
    assert np.all((orders > 3.7) & (orders < 4.3)), (errors, orders)


def test_burgers_spectral_convergence_in_grid() -> None:
    nu, dt, ns = 0.05, 5e-4, np.array([16, 32, 48, 64])  # time error at this dt: ~5e-12
    t_out, x_out = np.array([0.1, 0.3, 1.0]), np.linspace(0, 1, 41)
    errors = np.array([burgers_sine_error(nu, n, dt, t_out, x_out) for n in ns])
    algebraic_orders = np.log(errors[:-1] / errors[1:]) / np.log(ns[1:] / ns[:-1])
    # spectral accuracy: the apparent algebraic order keeps growing with n (measured ≈ 8, 14, 24)
    assert np.all(np.diff(algebraic_orders) > 3) and algebraic_orders[0] > 6, (errors, algebraic_orders)
    assert errors[-1] < 1e-9


@pytest.mark.parametrize("nu,n,dt", [(0.05, 128, 1e-3), (0.01, 512, None)])
def test_burgers_matches_cole_hopf(nu: float, n: int | None, dt: float | None) -> None:
    t_out, x_out = np.linspace(0, 1, 11), np.linspace(0, 1, 101)
    u0 = np.sin(2.0 * np.pi * np.arange(n) / n)
    diag: dict = {}
    u = bp.solve_burgers(u0, t_out, nu, x_out=x_out, n_solve=None if dt is None else n, dt=dt, diagnostics=diag)[0]
    exact = np.array([cole_hopf_sine(x_out, t, nu) for t in t_out])
    assert max_rel_error(u, exact) < 1e-8
    assert diag["spectral_tail"] < 1e-10


def test_burgers_batch_equals_single_and_conserves_mean() -> None:
    rng = np.random.default_rng(3)
    u0 = grf.sample(4, 48, grf.GRFParams("se", 0.15, 0.7), rng) + 0.2
    t_out = np.array([0.0, 0.3, 0.6])
    batch = bp.solve_burgers(u0, t_out, 0.02, n_solve=128, dt=2e-3)
    single = np.stack([bp.solve_burgers(u, t_out, 0.02, n_solve=128, dt=2e-3)[0] for u in u0])
    assert np.allclose(batch, single, rtol=0, atol=1e-13)
    assert np.allclose(batch[:, 0], u0, rtol=0, atol=1e-13)  # t = 0 on the input grid returns the input
    assert np.allclose(batch.mean(axis=2), u0.mean(axis=1)[:, None], rtol=0, atol=1e-12)


def test_etdrk4_coefficients_match_phi_functions_where_direct_formula_is_safe() -> None:
    h = 0.1
    lin = -np.array([1.0, 10.0, 100.0, 1000.0])  # hL ≤ -0.1: no cancellation in the direct formulas
    c = bp.etdrk4_coefficients(lin, h)
    z = h * lin
    assert np.allclose(c.Q, h * (np.exp(z / 2) - 1) / z, rtol=1e-12)
    assert np.allclose(c.f1, h * (-4 - z + np.exp(z) * (4 - 3 * z + z**2)) / z**3, rtol=1e-10)
    assert np.allclose(c.f2, h * (2 + z + np.exp(z) * (z - 2)) / z**3, rtol=1e-10)
    assert np.allclose(c.f3, h * (-4 - 3 * z - z**2 + np.exp(z) * (4 - z)) / z**3, rtol=1e-10)
    zero = bp.etdrk4_coefficients(np.array([0.0]), h)  # limits at L = 0: h/2, h/6, h/6, h/6
    assert np.allclose([zero.Q[0], zero.f1[0], zero.f2[0], zero.f3[0]], [h / 2, h / 6, h / 6, h / 6], rtol=1e-13)


# ---------------------------------------------------------------- (3) heat, exact per mode
@pytest.mark.parametrize("m", [33, 64])
def test_heat_single_mode_exact(m: int) -> None:
    kappa, k = 0.02, 3
    x = np.arange(m) / m
    t_out, x_out = np.array([0.0, 0.1, 0.7]), np.linspace(0, 1, 57)
    u = bp.solve_heat(np.sin(2 * np.pi * k * x), t_out, kappa, x_out=x_out)[0]
    exact = np.exp(-kappa * (2 * np.pi * k) ** 2 * t_out)[:, None] * np.sin(2 * np.pi * k * x_out)[None, :]
    assert np.abs(u - exact).max() < 1e-13


def test_heat_nyquist_mode_is_the_cosine_interpolant() -> None:
    m, kappa = 16, 1e-3
    u0 = np.cos(np.pi * np.arange(m))  # ±1: the grid values of cos(2π (m/2) x)
    t_out, x_out = np.array([0.0, 0.2]), np.linspace(0, 1, 23)
    u = bp.solve_heat(u0, t_out, kappa, x_out=x_out)[0]
    exact = np.exp(-kappa * (np.pi * m) ** 2 * t_out)[:, None] * np.cos(np.pi * m * x_out)[None, :]
    assert np.abs(u - exact).max() < 1e-13


# ---------------------------------------------------------------- (4) datasets and the cache
SMALL = dict(pde="burgers", n_functions=6, m_sensors=32, nx=17, nt=5, nu=0.05, seed=11, progress=False)


def test_dataset_shapes_and_layout(tmp_path) -> None:
    ds = od.make_dataset(**SMALL, cache_dir=tmp_path)
    nt, nx = ds.grid_shape
    assert ds.inputs.shape == (6, 32) and ds.sensors.shape == (32,)
    assert ds.coords.shape == (nt * nx, 2) and ds.solutions.shape == (6, nt * nx)
    grid = ds.coords.reshape(nt, nx, 2)
    assert np.allclose(grid[0, :, 0], np.linspace(0, 1, nx)) and np.allclose(grid[:, 0, 1], np.linspace(0, 1, nt))
    u = ds.solutions_grid()
    assert np.allclose(u[:, 0, 0], ds.inputs[:, 0], atol=1e-13)  # t = 0, x = 0 is sensor 0
    assert np.allclose(u[:, :, 0], u[:, :, -1], atol=1e-12)  # periodic: x = 1 repeats x = 0
    heat = od.make_dataset("heat", 4, 32, 9, 3, kappa=0.03, seed=2, cache_dir=tmp_path, progress=False)
    direct = bp.solve_heat(heat.inputs, np.linspace(0, 1, 3), 0.03, x_out=np.linspace(0, 1, 9))
    assert np.allclose(heat.solutions_grid(), direct, rtol=0, atol=1e-15)


def test_cache_hit_returns_identical_arrays_without_regenerating(tmp_path, monkeypatch) -> None:
    first = od.make_dataset(**SMALL, cache_dir=tmp_path)
    assert not first.from_cache and first.cache_path.is_file()

    def fail(*args, **kwargs):
        raise AssertionError("regenerated although the cache holds this dataset")

    monkeypatch.setattr(od, "_generate", fail)
    second = od.make_dataset(**SMALL, cache_dir=tmp_path)
    assert second.from_cache and second.config == first.config
    for name in ("inputs", "sensors", "coords", "solutions"):
        a, b = getattr(first, name), getattr(second, name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_deleted_cache_regenerates_bit_for_bit(tmp_path) -> None:
    first = od.make_dataset(**SMALL, cache_dir=tmp_path)
    first.cache_path.unlink()
    again = od.make_dataset(**SMALL, cache_dir=tmp_path)
    assert not again.from_cache and again.cache_path.is_file()
    assert first.inputs.tobytes() == again.inputs.tobytes()
    assert first.solutions.tobytes() == again.solutions.tobytes()


def test_corrupt_cache_file_is_regenerated(tmp_path) -> None:
    first = od.make_dataset(**SMALL, cache_dir=tmp_path)
    first.cache_path.write_bytes(b"not an npz file")
    with pytest.warns(RuntimeWarning, match="unreadable"):
        again = od.make_dataset(**SMALL, cache_dir=tmp_path)
    assert first.solutions.tobytes() == again.solutions.tobytes()


def test_every_parameter_changes_the_hash() -> None:
    base = dict(pde="burgers", n_functions=10, m_sensors=32, nx=17, nt=5, nu=0.05, seed=0)
    variants = [
        {},
        {"n_functions": 11},
        {"m_sensors": 33},
        {"nx": 18},
        {"nt": 6},
        {"nu": 0.04},
        {"seed": 1},
        {"t_final": 0.5},
        {"n_solve": 256},
        {"dt": 1e-3},
        {"grf": {"length_scale": 0.2}},
        {"grf": {"sigma": 0.5}},
        {"grf": {"kernel": "matern"}},
        {"grf": {"kernel": "matern", "nu": 1.5}},
        {"pde": "heat", "nu": None},
        {"pde": "heat", "nu": None, "kappa": 0.02},
    ]
    hashes = [od.config_hash(od.dataset_config(**{**base, **v})) for v in variants]
    assert len(set(hashes)) == len(hashes)
    # same data, same hash: explicit defaults, int vs float, GRFParams vs dict, Matérn ν ignored for SE
    same = [
        {"t_final": 1},
        {"grf": grf.GRFParams()},
        {"grf": {"kernel": "se", "nu": 0.7}},
        {"nu": 0.05, "n_solve": 128},
        {"grf": {"length_scale": 0.1, "sigma": 1}},
    ]
    for v in same:
        assert od.config_hash(od.dataset_config(**{**base, **v})) == hashes[0], v


def test_default_cache_dir_follows_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PINNKIT_CACHE", str(tmp_path))
    assert od.default_cache_dir() == tmp_path / "operator_data"
    ds = od.make_dataset("heat", 2, 8, 5, 2, seed=0, progress=False)
    assert ds.cache_path.parent == tmp_path / "operator_data" and ds.cache_path.is_file()
    monkeypatch.delenv("PINNKIT_CACHE")
    assert str(od.default_cache_dir()).endswith(".cache/pinnkit/operator_data")


# ---------------------------------------------------------------- (5) bad inputs
BAD = [
    (lambda: grf.GRFParams(kernel="rbf"), "kernel"),
    (lambda: grf.GRFParams(length_scale=0.0), "length_scale"),
    (lambda: grf.GRFParams(length_scale=11.0), "length_scale"),
    (lambda: grf.GRFParams(sigma=-1.0), "sigma"),
    (lambda: grf.GRFParams(nu=0.0), "nu"),
    (lambda: grf.GRFParams(nu=float("inf")), "nu"),
    (lambda: grf.GRFParams(period=0.0), "period"),
    (lambda: grf.PeriodicGRF(1), "m"),
    (lambda: grf.PeriodicGRF(8).sample(0, np.random.default_rng(0)), "n"),
    (lambda: grf.PeriodicGRF(8).sample(2, 0), "rng"),
    (lambda: od.dataset_config("wave"), "pde"),
    (lambda: od.dataset_config(n_functions=0), "n_functions"),
    (lambda: od.dataset_config(n_functions=2.5), "n_functions"),
    (lambda: od.dataset_config(m_sensors=3), "m_sensors"),
    (lambda: od.dataset_config(nx=1), "nx"),
    (lambda: od.dataset_config(nt=True), "nt"),
    (lambda: od.dataset_config(seed=-1), "seed"),
    (lambda: od.dataset_config(nu=-0.01), "nu"),
    (lambda: od.dataset_config(kappa=0.1), "kappa"),
    (lambda: od.dataset_config("heat", kappa=float("nan")), "kappa"),
    (lambda: od.dataset_config("heat", nu=0.01), "nu"),
    (lambda: od.dataset_config(t_final=0.0), "t_final"),
    (lambda: od.dataset_config(n_solve=64), "n_solve"),
    (lambda: od.dataset_config(dt=0.0), "dt"),
    (lambda: od.dataset_config(grf={"period": 2.0}), "grf.period"),
    (lambda: od.dataset_config(grf={"ell": 0.1}), "grf"),
    (lambda: bp.solve_burgers(np.zeros(8), [0.5, 0.1]), "t_out"),
    (lambda: bp.solve_burgers(np.zeros(8), [0.5], nu=0.0), "nu"),
    (lambda: bp.solve_burgers(np.zeros(8), [0.5], n_solve=4), "n_solve"),
    (lambda: bp.solve_burgers(np.full(8, np.nan), [0.5]), "u0"),
    (lambda: bp.solve_heat(np.zeros(8), [0.5], kappa=-1.0), "kappa"),
]


@pytest.mark.parametrize("call,name", BAD, ids=[f"{i}-{name}" for i, (_, name) in enumerate(BAD)])
def test_bad_inputs_raise_value_error_naming_the_parameter(call, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        call()


def test_under_resolved_burgers_data_warns(tmp_path) -> None:
    with pytest.warns(RuntimeWarning, match="under-resolved"):
        ds = od.make_dataset("burgers", 4, 32, 9, 3, nu=0.002, n_solve=64, seed=0, cache_dir=tmp_path, progress=False)
    assert ds.info["spectral_tail"] > 1e-5
