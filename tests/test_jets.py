"""Taylor-mode (forward-propagated) derivatives agree with nested autograd to round-off."""

import pytest
import torch

import pinnkit
from pinnkit import PINNTrainer, TrainConfig
from pinnkit.derivatives import Fields, plan_lists
from pinnkit.equations import Heat, ViscousBurgers
from pinnkit.jets import JET_ACTIVATIONS, mlp_jet
from pinnkit.losses import loss_terms
from pinnkit.nets import MLP, FourierFeatures, ResidualMLP
from pinnkit.sampling import Sampler

PLAN = frozenset({("d", 0), ("d", 2), ("d2", 0, 0), ("d2", 1, 1), ("d2", 0, 2)})


@pytest.mark.parametrize("act", sorted(JET_ACTIVATIONS))
@pytest.mark.parametrize("fourier", [False, True])
def test_taylor_matches_autograd(act, fourier):
    torch.manual_seed(0)
    ff = FourierFeatures(3, 6, 1.0, seed=0) if fourier else None
    net = MLP(3, 2, 12, 3, activation=act, fourier=ff, input_bounds=([0, 0, 0], [1, 2, 3])).double()
    x = torch.rand(40, 3, dtype=torch.float64) * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    a = Fields(net, x, 2, "autograd")
    t = Fields(net, x, 2, "taylor", plan=PLAN)
    scale = float(a.u.detach().abs().max())
    torch.testing.assert_close(t.u, a.u, rtol=0, atol=1e-13 * scale)
    for i in range(2):
        for k in range(3):  # inside the plan and outside it (answered by autograd)
            torch.testing.assert_close(t.d(i, k), a.d(i, k), rtol=1e-11, atol=1e-11)
            torch.testing.assert_close(t.d2(i, k), a.d2(i, k), rtol=1e-11, atol=1e-10)
        torch.testing.assert_close(t.d2_mixed(i, 2, 0), a.d2_mixed(i, 0, 2), rtol=1e-11, atol=1e-10)
        torch.testing.assert_close(t.d2_mixed(i, 0, 1), a.d2_mixed(i, 0, 1), rtol=1e-11, atol=1e-10)
    assert t.requests == a.requests
    # parameter gradients of a loss made of derivatives
    params = list(net.parameters())
    la = a.u.pow(2).sum() + sum(a.d2(0, k).pow(2).sum() + a.d(1, k).pow(2).sum() for k in range(3))
    lt = t.u.pow(2).sum() + sum(t.d2(0, k).pow(2).sum() + t.d(1, k).pow(2).sum() for k in range(3))
    for ga, gt in zip(torch.autograd.grad(la, params), torch.autograd.grad(lt, params)):
        torch.testing.assert_close(gt, ga, rtol=1e-10, atol=1e-10)


def test_jet_rejects_pairs_without_first_derivatives():
    net = MLP(2, 1, 8, 2).double()
    with pytest.raises(ValueError, match="not in `first`"):
        mlp_jet(net, torch.rand(5, 2, dtype=torch.float64), [0], [(1, 1)])
    assert plan_lists(frozenset({("d", 1), ("d2", 0, 0)})) == ([0, 1], [(0, 0)])


def test_loss_terms_learn_the_plan_then_use_it():
    p = ViscousBurgers()
    torch.manual_seed(0)
    net = pinnkit.build_net({"width": 10, "depth": 2}, p, 0).double()
    batch = Sampler(p, n_domain=64, n_boundary=16, n_initial=16, seed=0).draw(0, dtype=torch.float64)
    ref = loss_terms(p, net, batch, "autograd")
    plans = {}
    first = loss_terms(p, net, batch, "taylor", plans=plans)
    assert plans["pde"] == {("d", 0), ("d", 1), ("d2", 0, 0)}  # u_x, u_t, u_xx
    second = loss_terms(p, net, batch, "taylor", plans=plans)
    for k in ref:
        torch.testing.assert_close(first[k], ref[k], rtol=1e-14, atol=0)
        torch.testing.assert_close(second[k], ref[k], rtol=1e-12, atol=1e-15)


def test_models_without_jet_use_autograd():
    net = ResidualMLP(3, 1, 8, 2).double()
    x = torch.rand(20, 3, dtype=torch.float64)
    t = Fields(net, x, 2, "taylor", plan=frozenset({("d", 2), ("d2", 0, 0)}))
    a = Fields(net, x, 2, "autograd")
    torch.testing.assert_close(t.d2(0, 0), a.d2(0, 0))
    gelu = MLP(3, 1, 8, 2, activation="gelu")
    assert not gelu.supports_jet


def test_trainer_taylor_reproduces_the_autograd_run(one_thread):
    p = Heat(dim=1)

    def run(method):
        torch.manual_seed(0)
        net = pinnkit.build_net({"width": 12, "depth": 2}, p, 0)
        cfg = TrainConfig(adam_steps=60, lbfgs_steps=20, method=method, progress=False, dtype="float64")
        return PINNTrainer(p, net, Sampler(p, n_domain=128, n_boundary=32, n_initial=32, seed=0), cfg).train()

    a, t = run("autograd"), run("taylor")
    torch.testing.assert_close(torch.tensor(t["loss"]), torch.tensor(a["loss"]), rtol=1e-8, atol=0)


def test_compiled_objective_matches_eager(one_thread):
    """``compile=True`` (taylor engine under torch.compile, or eager when compilation is unavailable)
    follows the same optimisation path as the eager engine up to round-off."""
    p = ViscousBurgers()

    def run(compile):
        torch.manual_seed(0)
        net = pinnkit.build_net({"width": 8, "depth": 2}, p, 0)
        cfg = TrainConfig(
            adam_steps=15, lbfgs_steps=5, method="taylor", compile=compile, progress=False, dtype="float64"
        )
        return PINNTrainer(p, net, Sampler(p, n_domain=64, n_boundary=16, n_initial=16, seed=0), cfg).train()

    eager, compiled = run(False), run(True)
    torch.testing.assert_close(torch.tensor(compiled["loss"]), torch.tensor(eager["loss"]), rtol=1e-9, atol=0)
    with pytest.raises(ValueError, match="compile"):
        TrainConfig(compile="yes").validate()


def test_compile_without_a_jet_warns_and_runs_eagerly():
    p = Heat(dim=1)
    net = pinnkit.build_net({"width": 8, "depth": 2}, p, 0)
    cfg = TrainConfig(adam_steps=2, lbfgs_steps=0, method="autograd", compile=True, progress=False)
    with pytest.warns(UserWarning, match="compile=True needs method='taylor'"):
        tr = PINNTrainer(p, net, Sampler(p, n_domain=32, n_boundary=8, n_initial=8, seed=0), cfg)
    tr.train()
    assert tr._compiled is False
