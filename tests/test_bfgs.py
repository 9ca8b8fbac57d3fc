"""Dense BFGS / self-scaled BFGS: line search conditions, convergence on classic problems, resume, trainer use."""

import math

import numpy as np
import pytest
import torch

import pinnkit
from pinnkit import PINNTrainer, TrainConfig
from pinnkit.bfgs import BFGS, strong_wolfe
from pinnkit.equations import Heat
from pinnkit.sampling import Sampler


def _rosenbrock(x):
    return (100 * (x[1::2] - x[::2] ** 2) ** 2 + (1 - x[::2]) ** 2).sum()


def _run(fun, x0, scaling, iters):
    x = torch.nn.Parameter(x0.clone())
    opt = BFGS([x], max_iter=iters, scaling=scaling)

    def closure():
        opt.zero_grad()
        f = fun(x)
        f.backward()
        return f

    opt.step(closure)
    return x.detach(), opt


def test_strong_wolfe_conditions_hold():
    # phi(a) = f(x + a p) for f = cosh-like 1-D function along p = 1 from x = -3
    f = lambda z: math.log(math.cosh(z)) + 0.1 * z * z
    df = lambda z: math.tanh(z) + 0.2 * z
    x0 = -3.0
    f0, d0 = f(x0), df(x0)
    for a0 in (1e-3, 1.0, 50.0):
        a, fa, _ = strong_wolfe(lambda a: (f(x0 + a), df(x0 + a)), f0, d0, alpha=a0)
        assert a > 0 and fa == pytest.approx(f(x0 + a))
        assert fa <= f0 + 1e-4 * a * d0
        assert abs(df(x0 + a)) <= 0.9 * abs(d0)


@pytest.mark.parametrize("scaling", ["none", "self"])
def test_rosenbrock_to_round_off(scaling):
    x0 = torch.tensor([-1.2, 1.0] * 5, dtype=torch.float64)
    x, opt = _run(_rosenbrock, x0, scaling, 300)
    assert float((x - 1).abs().max()) < 1e-8
    assert opt.state[opt._params[0]]["n_iter"] < 200


def test_quadratic_solved_in_about_n_iterations():
    g = torch.Generator().manual_seed(0)
    n = 20
    A = torch.randn(n, n, generator=g, dtype=torch.float64)
    A = A @ A.T + n * torch.eye(n, dtype=torch.float64)
    b = torch.randn(n, generator=g, dtype=torch.float64)
    x, opt = _run(lambda x: 0.5 * x @ A @ x - b @ x, torch.zeros(n, dtype=torch.float64), "none", 3 * n)
    np.testing.assert_allclose(x.numpy(), torch.linalg.solve(A, b).numpy(), atol=1e-9)
    assert opt.state[opt._params[0]]["n_iter"] <= 2 * n


def test_state_dict_resume_is_identical():
    x0 = torch.tensor([-1.2, 1.0] * 3, dtype=torch.float64)
    full, _ = _run(_rosenbrock, x0, "self", 30)
    x_half, opt = _run(_rosenbrock, x0, "self", 15)
    x = torch.nn.Parameter(x_half.clone())
    opt2 = BFGS([x], max_iter=15, scaling="self")
    opt2.load_state_dict(opt.state_dict())

    def closure():
        opt2.zero_grad()
        f = _rosenbrock(x)
        f.backward()
        return f

    opt2.step(closure)
    np.testing.assert_array_equal(x.detach().numpy(), full.numpy())


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="scaling"):
        BFGS([torch.nn.Parameter(torch.zeros(2))], scaling="oren")
    with pytest.raises(ValueError, match="number of parameters"):
        BFGS([torch.nn.Parameter(torch.zeros(30000))])
    with pytest.raises(ValueError, match="quasi_newton"):
        TrainConfig(quasi_newton="newton").validate()


@pytest.mark.parametrize("qn", ["bfgs", "ssbfgs"])
def test_trainer_dense_quasi_newton_beats_lbfgs_on_heat(qn, one_thread):
    """Same net, points and iteration budget: dense BFGS reaches a lower loss than L-BFGS (float64)."""
    p = Heat(dim=1)

    def run(name):
        torch.manual_seed(0)
        net = pinnkit.build_net({"width": 16, "depth": 2}, p, 0)
        cfg = TrainConfig(
            adam_steps=200,
            lbfgs_steps=400,
            lr=3e-3,
            quasi_newton=name,
            progress=False,
            dtype="float64",
            weights={c.name: 10.0 for c in p.conditions()},
        )
        tr = PINNTrainer(p, net, Sampler(p, n_domain=400, n_boundary=64, n_initial=64, seed=0), cfg)
        h = tr.train()
        return h, tr

    h_qn, tr = run(qn)
    h_lb, _ = run("lbfgs")
    assert h_qn["stage"][-1] == qn
    assert h_qn["loss"][-1] < h_lb["loss"][-1]
    x = torch.rand(500, 2, dtype=torch.float64)
    err = pinnkit.metrics.relative_l2(tr.model(x).detach().numpy()[:, 0], p.exact(x).numpy()[:, 0])
    assert err < 1e-3
