"""Mean-field trainer: potentials against finite differences and the hand-derived first variation, birth–death
bookkeeping, energy decrease, and width-independent particle motion."""

import math

import numpy as np
import pytest
import torch

from pinnkit.derivatives import Fields
from pinnkit.equations import Heat, ViscousBurgers
from pinnkit.meanfield_trainer import (
    MeanFieldConfig,
    MeanFieldTrainer,
    PINNEnergy,
    RegressionEnergy,
    particle_potentials,
    perturbed_energy,
    potential_at,
    train_meanfield_regression,
)
from pinnkit.nets import MeanFieldTwoLayer
from pinnkit.sampling import Sampler
from pinnkit.theory import energy_decay, meanfield_state, particle_moments

pytestmark = pytest.mark.usefixtures("one_thread")


def _net(problem, n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return MeanFieldTwoLayer(
        problem.input_dim, n=n, input_bounds=(problem.input_lower, problem.input_upper), generator=g
    ).double()


def _pinn(problem, n=12, seed=0, cw=3.0):
    energy = PINNEnergy(problem, Sampler(problem, 48, 16, 16, seed=seed), condition_weight=cw)
    return _net(problem, n, seed), energy


def _regression(n=16, seed=0):
    x = torch.linspace(-1, 1, 50, dtype=torch.float64)[:, None]
    return RegressionEnergy(x, torch.sin(3 * x)), MeanFieldTwoLayer(
        1, n=n, generator=torch.Generator().manual_seed(seed)
    ).double()


@pytest.mark.parametrize("kind", ["regression", "heat", "burgers"])
def test_potential_matches_finite_difference_of_the_risk(kind):
    if kind == "regression":
        energy, model = _regression()
    else:
        model, energy = _pinn(Heat() if kind == "heat" else ViscousBurgers(nu=0.05))
    theta = torch.cat([model.sample_initial(4, torch.Generator().manual_seed(7)), model.particles()[:2]])
    V = potential_at(model, energy, theta)
    h = 1e-5
    for j in range(theta.shape[0]):
        e = torch.zeros(theta.shape[0], dtype=torch.float64)
        e[j] = h
        with torch.no_grad():
            fd = (perturbed_energy(model, energy, theta, e) - perturbed_energy(model, energy, theta, -e)) / (2 * h)
        assert float(V[j]) == pytest.approx(float(fd), rel=1e-6, abs=1e-9)
    # the particle identity V(θ_i) = n <c_i, ∂E/∂c_i> from one backward pass
    _, Vp, _, _ = particle_potentials(model, energy)
    torch.testing.assert_close(Vp, potential_at(model, energy, model.particles()), rtol=1e-10, atol=1e-12)


def _phi(model, theta):
    m, d = model.out_dim, model.in_dim
    c, w, b = theta[:m], theta[m : m + d], theta[m + d]

    def phi(x):
        xs = model.scaling(x) if model.scaling is not None else x
        return model.act(xs @ w + b)[:, None] * c

    return phi


def test_pinn_potential_equals_the_derived_first_variation_for_burgers():
    # V(θ) = 2 mean R·(φ_t + f φ_x + φ f_x − ν φ_xx) + 2 w_ic mean (f − u0) φ + 2 w_bc mean f φ
    p = ViscousBurgers(nu=0.05)
    model, energy = _pinn(p, n=10)
    batch = energy.batch(0)
    theta = model.sample_initial(3, torch.Generator().manual_seed(3))
    V = potential_at(model, energy, theta)
    f = Fields(model, batch.domain, spatial_dim=1)
    R = p.residual(f)[:, 0]
    xi, xb = batch.conditions["initial"], batch.conditions["boundary"]
    for j in range(3):
        g = Fields(_phi(model, theta[j]), batch.domain, spatial_dim=1)
        lin = g.dt(0) + f.u[:, 0] * g.d(0, 0) + g.u[:, 0] * f.d(0, 0) - p.nu * g.d2(0, 0)
        ph = _phi(model, theta[j])
        v = (
            2 * (R * lin).mean()
            + 2 * energy.weights["initial"] * ((model(xi) - p.initial(xi)) * ph(xi)).mean()
            + 2 * energy.weights["boundary"] * (model(xb) * ph(xb)).mean()
        )
        assert float(V[j]) == pytest.approx(v.item(), rel=1e-10)


def test_birth_death_with_alpha_zero_is_the_gradient_flow_bit_for_bit():
    p = Heat()
    runs = []
    for alpha in (None, 0.0):
        model, energy = _pinn(p, n=16)
        tr = MeanFieldTrainer(model, energy, MeanFieldConfig(dt=0.02, steps=25, alpha=alpha, seed=3))
        tr.train()
        runs.append((model.particles(), tr.history["loss"], tr.births))
    assert torch.equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1] and runs[1][2] == 0


def test_birth_death_preserves_n_and_only_copies_particles():
    energy, model = _regression(n=32)
    tr = MeanFieldTrainer(model, energy, MeanFieldConfig(dt=0.1, steps=1, alpha=20.0, seed=1))
    with torch.enable_grad():
        _, V, grads, _ = particle_potentials(model, energy)
    moved = model.particles() - 0.1 * model.n * torch.cat([grads[0], grads[1], grads[2][:, None]], dim=1)
    tr.train(1)
    after = model.particles()
    assert after.shape == (32, 3) and model.n == 32 and tr.births > 0
    # every particle after the step is one of the transported particles (deaths replaced by clones)
    dist = torch.cdist(after, moved, compute_mode="donot_use_mm_for_euclid_dist").min(dim=1).values
    assert float(dist.max()) < 1e-12
    assert not torch.allclose(after, moved)
    # high-potential particles are the ones that die: the mean potential of the survivors' origins drops
    origin = torch.cdist(after, moved, compute_mode="donot_use_mm_for_euclid_dist").argmin(dim=1)
    assert float(V[origin].mean()) < float(V.mean())
    # reinjection alone keeps n and draws new particles
    tr2 = MeanFieldTrainer(model, energy, MeanFieldConfig(dt=0.1, steps=5, reinject=1.0, seed=2))
    tr2.train()
    assert model.particles().shape == (32, 3) and tr2.reinjected > 0 and tr2.births == 0


@pytest.mark.parametrize("kind", ["regression", "heat"])
def test_energy_is_non_increasing_for_small_dt(kind):
    if kind == "regression":
        energy, model = _regression(n=32)
        dt, steps = 0.05, 200
    else:
        model, energy = _pinn(Heat(), n=32, cw=1.0)
        dt, steps = 0.005, 80
    tr = MeanFieldTrainer(model, energy, MeanFieldConfig(dt=dt, steps=steps, record_every=1))
    h = tr.train()
    E = np.array(h["loss"])
    assert np.all(np.diff(E) <= 1e-13 * E[:-1]) and E[-1] < 0.9 * E[0]
    # dE/dt = −∫|∇V|² dμ to first order in dt
    rate = -(E[1] - E[0]) / dt
    assert rate == pytest.approx(h["extra"]["dissipation"][0], rel=0.05)


def test_mean_field_step_moves_particles_independently_of_width():
    # one Euler step of length dt moves particle i by dt·∇V(θ_i), an O(dt) amount whatever n is; the same
    # step without the ×n mean-field scaling shrinks like 1/n
    x = torch.linspace(-1, 1, 200, dtype=torch.float64)[:, None]
    energy = RegressionEnergy(x, torch.sin(3 * x))
    stats = {}
    for n in (64, 1024):
        model = MeanFieldTwoLayer(1, n=n, generator=torch.Generator().manual_seed(0)).double()
        before = model.particles()
        MeanFieldTrainer(model, energy, MeanFieldConfig(dt=0.1, steps=1)).train(1)
        move = (model.particles() - before).norm(dim=1)
        stats[n] = (float(move.mean()), float(move.std()))
    assert stats[64][0] == pytest.approx(stats[1024][0], rel=0.3)
    assert stats[64][1] == pytest.approx(stats[1024][1], rel=0.3)
    assert 1e-3 < stats[1024][0] < 1.0


def test_diagnostics_moments_state_and_decay():
    energy, model = _regression(n=40)
    th = model.particles().numpy()
    mom = particle_moments(model)
    np.testing.assert_allclose(mom.mean, th.mean(0))
    np.testing.assert_allclose(mom.covariance, np.cov(th.T, bias=True), atol=1e-14)
    assert mom.var_w == pytest.approx(th[:, 1].var()) and mom.second_moment == pytest.approx((th**2).sum(1).mean())
    tr = MeanFieldTrainer(model, energy, MeanFieldConfig(dt=0.05, steps=1))
    st = meanfield_state(model, energy)
    tr.train(1)
    assert st.energy == pytest.approx(tr.history["loss"][0]) and st.dissipation == pytest.approx(
        tr.history["extra"]["dissipation"][0]
    )
    t = np.linspace(0, 5, 30)
    dec = energy_decay(t, 2 * np.exp(-1.5 * t))
    assert dec.rate == pytest.approx(1.5) and dec.r2 == pytest.approx(1.0)
    assert energy_decay(t[1:], 4 / t[1:]).power == pytest.approx(1.0)


def test_regression_helper_trains_and_reports_errors():
    x = torch.linspace(-1, 1, 100, dtype=torch.float64)[:, None]
    y = torch.sin(2 * x)
    r = train_meanfield_regression(x, y, n=64, steps=300, dt=0.5, alpha=1.0, x_test=x, y_test=y, record_every=50)
    assert r.energy < 0.2 * r.history["loss"][0] and r.errors["relative_l2"] < 0.3
    assert r.model.n == 64 and math.isfinite(r.wall_s)
