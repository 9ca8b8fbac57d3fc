"""DeepONet: shapes, the exact heat operator as a DeepONet (physics residual ≈ 0), learning the heat operator,
checkpoints and the divergence guard, and the Mukherjee–Roy size estimate on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pinnkit.equations.operator_data import make_dataset
from pinnkit.equations.operator_problems import OperatorHeat
from pinnkit.equations.reference import grf
from pinnkit.nets import DeepONet
from pinnkit.operator_trainer import DeepONetTrainer, OperatorTrainConfig
from pinnkit.theory import calibrate_constant, data_needed_for_q, deeponet_parameter_count, deeponet_size_estimate
from pinnkit.trainer import TrainingDiverged

KAPPA = 0.01
GRF = {"kernel": "se", "length_scale": 0.2, "sigma": 1.0}


@pytest.fixture(scope="module")
def heat_data(tmp_path_factory):
    cache = tmp_path_factory.mktemp("opdata")
    kw = dict(m_sensors=32, nx=33, nt=21, grf=GRF, kappa=KAPPA, cache_dir=cache, progress=False)
    return make_dataset("heat", 200, seed=1, **kw), make_dataset("heat", 50, seed=2, **kw)


# ---------------------------------------------------------------- net
def test_shapes_and_multi_output() -> None:
    net = DeepONet(10, 2, q=8, n_out=3, branch_width=16, branch_depth=2, trunk_width=16, trunk_depth=2, seed=0)
    u, y = torch.randn(5, 10), torch.rand(7, 2)
    out = net(u, y)
    assert out.shape == (5, 7, 3)
    # pointwise (function i at point i) is the diagonal of the Cartesian product
    pw = net.pointwise(u, y[:5])
    assert pw.shape == (5, 3)
    assert torch.allclose(pw, out[torch.arange(5), torch.arange(5)], atol=1e-6)
    single = DeepONet(10, 2, q=8, seed=0)
    assert single(u, y).shape == (5, 7)
    assert single.pointwise(u, y, index=torch.tensor([0, 0, 1, 2, 3, 4, 4])).shape == (7,)
    with pytest.raises(ValueError, match="m_sensors=10"):
        single(torch.randn(5, 9), y)
    with pytest.raises(ValueError, match="q must be an integer"):
        DeepONet(10, q=0)


def test_seed_reproducible_and_periodic_embedding_is_exact() -> None:
    a, b = DeepONet(6, q=4, periodic=(1.0, 3), seed=3), DeepONet(6, q=4, periodic=(1.0, 3), seed=3)
    u, t = torch.randn(2, 6), torch.rand(5, 1)
    y0, y1 = torch.cat([torch.zeros_like(t), t], 1), torch.cat([torch.ones_like(t), t], 1)
    assert torch.equal(a(u, y0), b(u, y0))
    assert torch.allclose(a(u, y0), a(u, y1), atol=1e-5)


# ---------------------------------------------------------------- the exact heat operator is a DeepONet
class ExactHeatDeepONet(DeepONet):
    """u(x,t) = Σ_{|k|≤K} c_k e^{−κ(2πk)²t} e^{2πikx}: branch = real DFT of the m = 2K+1 sensor values
    (a linear map), trunk = [e^{−κ(2πk)²t} cos 2πkx, e^{−κ(2πk)²t} sin 2πkx]."""

    def __init__(self, n_modes: int, kappa: float):
        super().__init__(
            2 * n_modes + 1, 2, q=2 * n_modes + 1, branch_width=2, branch_depth=1, trunk_width=2, trunk_depth=1
        )
        self.k = 2 * math.pi * torch.arange(n_modes + 1, dtype=torch.float64)
        self.kappa, self.K = kappa, n_modes

    def branch_features(self, u):
        c = torch.fft.rfft(u.double(), dim=1) / u.shape[1]
        a = torch.cat([c.real[:, :1], 2 * c.real[:, 1:], -2 * c.imag[:, 1:]], dim=1)
        return a[:, None, :]

    def trunk_features(self, y):
        x, t = y[:, :1], y[:, 1:]
        damp = torch.exp(-self.kappa * self.k**2 * t)
        kx = self.k * x
        return torch.cat([damp[:, :1], (damp * torch.cos(kx))[:, 1:], (damp * torch.sin(kx))[:, 1:]], dim=1)[:, None, :]


@pytest.mark.parametrize("shared", [True, False], ids=["shared-points", "per-function-points"])
def test_physics_losses_vanish_on_exact_heat_operator(tmp_path, shared, one_thread) -> None:
    K = 7
    data = make_dataset(
        "heat",
        8,
        m_sensors=2 * K + 1,
        nx=17,
        nt=5,
        grf={"length_scale": 0.3},
        kappa=KAPPA,
        cache_dir=tmp_path,
        progress=False,
    )
    net = ExactHeatDeepONet(K, KAPPA)
    cfg = OperatorTrainConfig(
        mode="physics", dtype="float64", batch_functions=8, n_collocation=64, shared_points=shared, progress=False
    )
    trainer = DeepONetTrainer(net, data, config=cfg)
    terms = trainer.physics_losses(torch.arange(8))
    scale = float((trainer.u_train**2).mean())
    assert set(terms) == {"pde", "initial", "boundary"}
    for name, value in terms.items():
        v = float(value.detach())
        assert v < 1e-20 * max(scale, 1.0) + 1e-24, (name, v)
    # ... and the exact operator reproduces the solver's data
    assert trainer.evaluate(data)["max_rel_l2"] < 1e-12
    # a wrong PDE coefficient gives a clearly nonzero residual
    trainer.problem = OperatorHeat(kappa=2 * KAPPA, t_final=trainer.problem.t_final)
    assert float(trainer.physics_losses(torch.arange(8))["pde"].detach()) > 1e-8


def test_grf_zero_mean_option() -> None:
    p = grf.GRFParams("matern", 0.35, 1.0, nu=1.5, zero_mean=True)
    field = grf.PeriodicGRF(16, p)
    u = field.sample(20_000, np.random.default_rng(0))
    assert np.abs(u.mean(axis=1)).max() < 1e-12
    exact = field.covariance()
    assert np.allclose(exact.sum(axis=1), 0.0, atol=1e-12)
    se = np.sqrt((np.outer(np.diag(exact), np.diag(exact)) + exact**2) / u.shape[0])
    assert np.abs((u.T @ u / u.shape[0] - exact) / se).max() < 5.0
    assert "zero_mean" not in grf.GRFParams().canonical()  # old configs hash as before


# ---------------------------------------------------------------- learning
def test_small_deeponet_learns_heat_operator(heat_data, one_thread) -> None:
    train, test = heat_data
    net = DeepONet(
        32, 2, q=20, branch_width=40, branch_depth=2, trunk_width=40, trunk_depth=2, periodic=(1.0, 4), seed=0
    )
    cfg = OperatorTrainConfig(
        mode="data",
        steps=4000,
        lr=2e-3,
        decay_every=500,
        batch_functions=50,
        batch_points=200,
        eval_every=2000,
        progress=False,
    )
    trainer = DeepONetTrainer(net, train, test, cfg)
    history = trainer.train()
    result = trainer.evaluate(test)
    assert result["mean_rel_l2"] <= 0.05, result["mean_rel_l2"]
    assert result["max_rel_l2"] >= result["mean_rel_l2"]
    assert [s for s, _ in history["diagnostics"]["mean_rel_l2"]] == [2000, 4000]
    assert history["diagnostics"]["mean_rel_l2"][-1][1] == pytest.approx(result["mean_rel_l2"])


def _small_trainer(data, mode: str, steps: int, checkpoint_dir=None) -> DeepONetTrainer:
    net = DeepONet(32, 2, q=8, branch_width=16, branch_depth=1, trunk_width=16, trunk_depth=1, seed=0)
    cfg = OperatorTrainConfig(
        mode=mode,
        steps=steps,
        batch_functions=8,
        batch_points=32,
        n_collocation=16,
        n_boundary=4,
        log_every=1,
        checkpoint_every=5,
        checkpoint_dir=checkpoint_dir,
        progress=False,
    )
    return DeepONetTrainer(net, data, config=cfg)


@pytest.mark.parametrize("mode", ["data", "hybrid"])
def test_checkpoint_resume_continues_same_run(heat_data, tmp_path, mode, one_thread) -> None:
    train, _ = heat_data
    full = _small_trainer(train, mode, 10)
    full.train()
    first = _small_trainer(train, mode, 5, checkpoint_dir=str(tmp_path))
    first.train()
    state = torch.load(first.checkpoint_path, weights_only=True)
    assert state["step"] == 5
    resumed = _small_trainer(train, mode, 10, checkpoint_dir=str(tmp_path)).load_checkpoint()
    resumed.train()
    assert resumed.history["loss"] == pytest.approx(full.history["loss"], rel=1e-6)
    expected = {"data": {"data"}, "hybrid": {"data", "pde", "initial", "boundary"}}[mode]
    assert set(resumed.history["terms"]) == expected


def test_nan_loss_stops_with_last_good_state(heat_data, one_thread) -> None:
    train, _ = heat_data
    trainer = _small_trainer(train, "data", 20)
    original = trainer.data_loss

    def poisoned(idx):
        loss = original(idx)
        return loss * float("nan") if trainer.step == 7 else loss

    trainer.data_loss = poisoned
    with pytest.raises(TrainingDiverged, match="step 7.*step 5"):
        trainer.train()
    assert trainer.step == 5
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())


def test_validation_names_parameter(heat_data) -> None:
    train, _ = heat_data
    net = DeepONet(32, q=4, seed=0)
    with pytest.raises(ValueError, match=r"batch_functions must be an integer in \[1, 200\]"):
        DeepONetTrainer(net, train, config=OperatorTrainConfig(batch_functions=500))
    with pytest.raises(ValueError, match="mode must be one of"):
        OperatorTrainConfig(mode="pinn").validate()
    with pytest.raises(ValueError, match="weights has unknown term 'pde'"):
        OperatorTrainConfig(mode="data", weights={"pde": 1.0}).validate()
    with pytest.raises(ValueError, match="m_sensors must equal"):
        DeepONetTrainer(DeepONet(31, q=4), train)


# ---------------------------------------------------------------- size estimate (Mukherjee & Roy 2024)
def test_size_estimate_hand_values() -> None:
    assert deeponet_size_estimate(16).q_min == 2  # 16^{1/4} = 2
    assert deeponet_size_estimate(10_000).q_min == 10  # 10^4^{1/4} = 10
    assert deeponet_size_estimate(81, constant=2.0).q_min == 6
    assert deeponet_size_estimate(17).q_min == 3  # ceil(2.0305)
    e = deeponet_size_estimate(256, level=0.01, noise_variance=0.04, constant=0.5)
    assert e.applies and e.q_min == 2 and e.q_min_real == pytest.approx(2.0)
    assert not e.is_bound and e.estimated
    off = deeponet_size_estimate(256, level=0.05, noise_variance=0.04)
    assert not off.applies and off.q_min == 1
    assert calibrate_constant(10, 10_000) == pytest.approx(1.0)
    assert data_needed_for_q(10) == 100 and data_needed_for_q(3, constant=0.5) == 5


def test_size_estimate_monotone_and_size_matches_net() -> None:
    qs = [deeponet_size_estimate(n).q_min for n in (1, 10, 100, 1_000, 10_000, 100_000)]
    assert qs == sorted(qs) and qs[0] == 1
    est = deeponet_size_estimate(10_000, m_sensors=10, branch_hidden=(5, 5), trunk_hidden=(6,))
    net = DeepONet(10, 2, q=est.q_min, branch_width=5, branch_depth=2, trunk_width=6, trunk_depth=1)
    assert est.size_min == net.n_parameters() == deeponet_parameter_count(10, 10, 2, (5, 5), (6,))
    with pytest.raises(ValueError, match="n_train must be an integer >= 1"):
        deeponet_size_estimate(0)
    with pytest.raises(ValueError, match="constant must be a finite number > 0"):
        deeponet_size_estimate(10, constant=-1.0)


def test_hard_initial_condition_exact_and_residual_paths_agree(heat_data, one_thread) -> None:
    train, _ = heat_data
    torch.set_default_dtype(torch.float64)
    try:
        net = DeepONet(
            32,
            2,
            q=6,
            branch_width=8,
            branch_depth=1,
            trunk_width=8,
            trunk_depth=2,
            periodic=(1.0, 2),
            hard_initial=True,
            seed=0,
        )
        cfg = OperatorTrainConfig(mode="physics", dtype="float64", batch_functions=4, progress=False)
        trainer = DeepONetTrainer(net, train, config=cfg)
    finally:
        torch.set_default_dtype(torch.float32)
    u = trainer.u_train[:4]
    y0 = torch.stack([trainer.sensors, torch.zeros_like(trainer.sensors)], 1)
    assert torch.allclose(net(u, y0), u, atol=1e-12)  # u(x_i, 0) = u0(x_i) exactly
    y = torch.rand(5, 2, dtype=torch.float64)
    shared = trainer.residual_shared(u, y)  # forward-mode trunk + analytic interpolant
    index = torch.arange(4).repeat_interleave(5)
    paired = trainer.residual(u, y.repeat(4, 1), index).reshape(4, 5)  # reverse-mode autograd of the full net
    assert torch.allclose(shared, paired, atol=1e-10)


@pytest.mark.parametrize(
    "periodic,fourier,out_act,act",
    [((1.0, 5), 0, False, "tanh"), (None, 0, True, "tanh"), ((1.0, 3), 8, True, "sin"), (None, 6, False, "silu")],
)
def test_taylor_trunk_jet_matches_forward_mode_autodiff(periodic, fourier, out_act, act) -> None:
    """The one-pass Taylor trunk jet (analytic periodic embedding, per-point tangents through the MLP) equals
    nested torch.func.jvp in value, ∂_x, ∂_t, ∂_xx, ∂_tt and in the parameter gradient of a loss built on them."""
    net = DeepONet(
        7,
        2,
        q=5,
        n_out=2,
        branch_width=8,
        branch_depth=2,
        trunk_width=9,
        trunk_depth=3,
        periodic=periodic,
        fourier_features=fourier,
        trunk_output_activation=out_act,
        activation=act,
        seed=0,
    ).double()
    assert net.trunk.supports_jet
    y = torch.rand(11, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    fast = net.trunk_jet(y, first=(0, 1), second=(0, 1))
    slow = net._trunk_jvp(y, (0, 1), (0, 1))
    scale = 1 + max(float(t.detach().abs().max()) for t in slow[2].values())
    assert torch.allclose(fast[0], slow[0], atol=1e-14, rtol=0)
    for i in (0, 1):
        assert torch.allclose(fast[1][i], slow[1][i], atol=1e-12, rtol=0)
        assert torch.allclose(fast[2][i], slow[2][i], atol=1e-13 * scale, rtol=0)

    def grads(jet):
        loss = sum((t**2).sum() for t in [jet[0], *jet[1].values(), *jet[2].values()])
        return torch.autograd.grad(loss, [p for p in net.trunk.parameters()])

    for gf, gs in zip(grads(net.trunk_jet(y, (0, 1), (0, 1))), grads(net._trunk_jvp(y, (0, 1), (0, 1)))):
        assert torch.allclose(gf, gs, atol=1e-12 * (1 + float(gs.abs().max())), rtol=0)
    # second derivative of a direction that is not asked for as a first derivative
    v, d1, d2 = net.trunk_jet(y, first=(1,), second=(0,))
    assert set(d1) == {1} and set(d2) == {0} and torch.allclose(d2[0], slow[2][0], atol=1e-13 * scale, rtol=0)
