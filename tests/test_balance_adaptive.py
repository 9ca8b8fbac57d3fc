"""Gradient-norm loss balancing and residual-based adaptive sampling (RAD)."""

import numpy as np
import pytest
import torch

import pinnkit
from pinnkit import PINNTrainer, TrainConfig
from pinnkit.equations import Heat, ViscousBurgers
from pinnkit.sampling import Sampler


def test_rad_probabilities_follow_the_formula():
    s = Sampler(Heat(dim=1), n_domain=10, resample_every=5, adaptive="rad", rad_k=2.0, rad_c=0.5)
    r = np.array([0.0, 1.0, 2.0, -3.0])
    a = np.abs(r) ** 2
    w = a / a.mean() + 0.5
    np.testing.assert_allclose(s.rad_probabilities(r), w / w.sum())
    np.testing.assert_allclose(s.rad_probabilities(np.zeros(4)), np.full(4, 0.25))


def test_rad_concentrates_points_where_the_residual_is_large():
    p = Heat(dim=1)
    s = Sampler(p, n_domain=500, resample_every=10, adaptive="rad", rad_k=2.0, rad_c=0.0, seed=3)
    residual = lambda x: torch.exp(-200 * (x[:, 0] - 0.3) ** 2)  # a bump at x = 0.3
    b = s.draw(1, dtype=torch.float64, residual=residual)
    x = b.domain[:, 0].numpy()
    assert np.mean(np.abs(x - 0.3) < 0.1) > 0.9  # uniform would give 0.2
    again = s.draw(1, dtype=torch.float64, residual=residual)
    torch.testing.assert_close(again.domain, b.domain)  # reproducible per (seed, round)
    plain = s.draw(0, dtype=torch.float64, residual=residual)  # round 0 is the plain design
    assert np.mean(np.abs(plain.domain[:, 0].numpy() - 0.3) < 0.1) < 0.3


def test_adaptive_sampler_validation():
    with pytest.raises(ValueError, match="resample_every"):
        Sampler(Heat(dim=1), adaptive="rad")
    with pytest.raises(ValueError, match="adaptive"):
        Sampler(Heat(dim=1), resample_every=5, adaptive="rar-g")
    with pytest.raises(ValueError, match="balance"):
        TrainConfig(balance="softadapt").validate()


def test_resume_with_adaptive_points_is_identical(tmp_path):
    p = ViscousBurgers()

    def trainer(d):
        torch.manual_seed(0)
        net = pinnkit.build_net({"width": 8, "depth": 2}, p, 0)
        cfg = TrainConfig(
            adam_steps=30, lbfgs_steps=0, checkpoint_every=15, checkpoint_dir=str(d), progress=False, dtype="float64"
        )
        s = Sampler(p, n_domain=64, n_boundary=16, n_initial=16, resample_every=10, adaptive="rad", seed=0)
        return PINNTrainer(p, net, s, cfg)

    full = trainer(tmp_path / "a").train()
    part = trainer(tmp_path / "b")
    part.config.adam_steps = 15  # stop after the checkpoint at step 15 (mid round 1)
    part.train()
    resumed = trainer(tmp_path / "b").load_checkpoint()
    assert resumed.step == 15
    hist = resumed.train()
    np.testing.assert_allclose(hist["loss"], full["loss"], rtol=1e-12)


@pytest.mark.parametrize("rule", ["max-mean", "norm"])
def test_balancing_follows_the_gradient_statistics(rule):
    p = Heat(dim=1)
    torch.manual_seed(0)
    net = pinnkit.build_net({"width": 8, "depth": 2}, p, 0)
    cfg = TrainConfig(
        adam_steps=1, lbfgs_steps=0, balance=rule, balance_every=1, balance_alpha=1.0, progress=False, dtype="float64"
    )
    tr = PINNTrainer(p, net, Sampler(p, n_domain=64, n_boundary=16, n_initial=16, seed=0), cfg)
    terms = tr.loss_terms()
    params = list(net.parameters())

    def flat(v):
        gs = torch.autograd.grad(v, params, retain_graph=True, allow_unused=True)
        return torch.cat([(g if g is not None else torch.zeros_like(q)).reshape(-1) for g, q in zip(gs, params)])

    grads = {k: flat(v) for k, v in terms.items()}
    tr.train()
    for c in p.conditions():
        g_pde, g_c = grads["pde"], grads[c.name]
        want = float(g_pde.abs().max() / g_c.abs().mean()) if rule == "max-mean" else float(g_pde.norm() / g_c.norm())
        assert tr.balance_weights[c.name] == pytest.approx(want, rel=1e-10)
    assert "weight/" + p.conditions()[0].name in tr.history["diagnostics"]
