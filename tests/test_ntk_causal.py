"""The PINN's empirical NTK (blocks against a hand-computed kernel, the tracker, trace-ratio balancing) and
causal weighting in time (formula, schedule, resume)."""

import math

import numpy as np
import pytest
import torch

import pinnkit
from pinnkit import PINNTrainer, TrainConfig
from pinnkit.callbacks import NTKTracker
from pinnkit.derivatives import Fields
from pinnkit.equations import Heat, Poisson, ViscousBurgers
from pinnkit.nets import MLP
from pinnkit.ntk import jacobian_rows, ntk_blocks
from pinnkit.sampling import Sampler
from pinnkit.training.causal import CausalWeighting, as_causal


def _one_neuron(w=0.7, b=-0.3, a=1.3, c=0.2):
    """``u(x) = a tanh(w x + b) + c`` as a pinnkit MLP with one hidden unit."""
    net = MLP(1, 1, width=1, depth=1).double()
    with torch.no_grad():
        net.hidden[0].weight.fill_(w)
        net.hidden[0].bias.fill_(b)
        net.head.weight.fill_(a)
        net.head.bias.fill_(c)
    return net


def test_ntk_blocks_match_a_hand_computed_kernel():
    w, b, a, c = 0.7, -0.3, 1.3, 0.2
    net = _one_neuron(w, b, a, c)
    x = torch.tensor([[-1.0], [0.25], [0.9]], dtype=torch.float64)
    xb = torch.tensor([[0.0], [1.5]], dtype=torch.float64)
    f = Fields(net, x, spatial_dim=1)
    residuals = {"pde": f.d(0, 0).unsqueeze(1) - torch.cos(x), "bc": net(xb)}
    K = ntk_blocks(residuals, list(net.parameters()), points=None)

    def grad_u(x):  # ∂u/∂(w, b, a, c)
        z = w * x + b
        s2 = 1 - math.tanh(z) ** 2
        return np.array([a * x * s2, a * s2, math.tanh(z), 1.0])

    def grad_ux(x):  # u_x = a w sech²(z): ∂/∂(w, b, a, c)
        z = w * x + b
        t = math.tanh(z)
        s2 = 1 - t**2
        return np.array([a * s2 - 2 * a * w * x * s2 * t, -2 * a * w * s2 * t, w * s2, 0.0])

    Jr = np.stack([grad_ux(float(v)) for v in x[:, 0]])
    Ju = np.stack([grad_u(float(v)) for v in xb[:, 0]])
    np.testing.assert_allclose(K["pde"]["pde"].numpy(), Jr @ Jr.T, rtol=1e-12)
    np.testing.assert_allclose(K["bc"]["bc"].numpy(), Ju @ Ju.T, rtol=1e-12)
    np.testing.assert_allclose(K["pde"]["bc"].numpy(), Jr @ Ju.T, rtol=1e-12)
    # the parameter order of the Jacobian is the module's (w, b, a, c)
    np.testing.assert_allclose(jacobian_rows(net(xb).reshape(-1), list(net.parameters())).numpy(), Ju, rtol=1e-12)


def _heat_trainer(**cfg):
    p = Heat(dim=1)
    torch.manual_seed(0)
    net = pinnkit.build_net({"width": 8, "depth": 2}, p, 0)
    config = TrainConfig(**{"adam_steps": 1, "lbfgs_steps": 0, "progress": False, "dtype": "float64", **cfg})
    return PINNTrainer(p, net, Sampler(p, n_domain=40, n_boundary=12, n_initial=12, seed=0), config)


def _per_point_traces(tr):
    """Mean of ‖∂θ r_i‖² per term, one reverse pass per residual entry (independent of pinnkit.ntk)."""
    from pinnkit.losses import point_residuals

    params = list(tr.model.parameters())
    out = {}
    for name, r in point_residuals(tr.problem, tr.model, tr.current_batch()).items():
        sq = []
        for v in r.reshape(-1):
            gs = torch.autograd.grad(v, params, retain_graph=True, allow_unused=True)
            sq.append(sum(float(g.pow(2).sum()) for g in gs if g is not None))
        out[name] = float(np.mean(sq))
    return out


def test_ntk_tracker_reports_traces_spectra_and_ratios():
    tr = _heat_trainer()
    numbers = NTKTracker(every=1, points=1000, top=4)(tr)
    traces = _per_point_traces(tr)
    for name, t in traces.items():
        assert numbers[f"ntk/trace/{name}"] == pytest.approx(t, rel=1e-10)
        assert numbers[f"ntk/ratio/{name}"] == pytest.approx(traces["pde"] / t, rel=1e-10)
        eig = [numbers[f"ntk/eig/{name}/{i}"] for i in range(4)]
        assert eig == sorted(eig, reverse=True) and numbers[f"ntk/eig_min/{name}"] >= -1e-8 * eig[0]
    assert 0 < numbers["ntk/cross/initial"] <= 1 + 1e-12  # Cauchy–Schwarz for the Frobenius norms
    # the eigenvalues of a PSD block sum to its trace: 40 rows, so 40 · mean diagonal
    K = NTKTracker(every=1, points=1000).__call__(tr)
    assert K["ntk/trace/pde"] == pytest.approx(numbers["ntk/trace/pde"], rel=1e-12)


def test_ntk_balance_weights_are_the_trace_ratios():
    tr = _heat_trainer(balance="ntk", balance_every=1, balance_alpha=1.0)
    traces = _per_point_traces(tr)
    loss, terms = tr.objective()
    tr.before_backward(loss, terms)
    for name in ("initial", "boundary"):
        assert tr.balance_weights[name] == pytest.approx(traces["pde"] / traces[name], rel=1e-10)
    assert tr.config.as_dict()["balance"] == "ntk"


def test_ntk_balance_on_a_steady_problem_trains():
    p = Poisson()
    torch.manual_seed(0)
    net = pinnkit.build_net({"width": 16, "depth": 2}, p, 0)
    cfg = TrainConfig(adam_steps=60, lbfgs_steps=0, balance="ntk", balance_every=20, progress=False)
    tr = PINNTrainer(p, net, Sampler(p, n_domain=128, n_boundary=64, seed=0), cfg)
    h = tr.train()
    assert h["loss"][-1] < h["loss"][0]
    assert [s for s, _ in h["diagnostics"]["weight/boundary"]] == [0, 20, 40]


def test_causal_weights_follow_the_formula():
    cw = CausalWeighting(eps=2.0, chunks=3).validate()
    t = torch.tensor([0.1, 0.2, 0.5, 0.6, 0.9, 1.0], dtype=torch.float64)  # two points per chunk of [0, 1]
    r = torch.tensor([[1.0], [3.0], [2.0], [0.0], [1.0], [1.0]], dtype=torch.float64, requires_grad=True)
    loss, w = cw.loss(r, t, 0.0, 1.0, eps=2.0)
    L = np.array([(1 + 9) / 2, (4 + 0) / 2, (1 + 1) / 2])
    expect_w = np.exp(-2.0 * np.array([0, L[0], L[0] + L[1]]))
    np.testing.assert_allclose(w.numpy(), expect_w, rtol=1e-14)
    assert float(loss.detach()) == pytest.approx(float(np.mean(expect_w * L)), rel=1e-14)
    (g,) = torch.autograd.grad(loss, r)  # stop-gradient on w: d/dr_i = w_k 2 r_i / (M n_k)
    chunk = [0, 0, 1, 1, 2, 2]
    np.testing.assert_allclose(
        g[:, 0].numpy(), [expect_w[k] * 2 * float(r[i].detach()) / 6 for i, k in enumerate(chunk)]
    )
    # a vanishing ε gives the plain mean over equally filled chunks
    loss0, w0 = cw.loss(r, t, 0.0, 1.0, eps=1e-300)
    assert float(loss0.detach()) == pytest.approx(float(r.detach().pow(2).mean()), rel=1e-14) and bool((w0 == 1).all())


def test_causal_validation_and_steady_problems():
    with pytest.raises(ValueError, match="causal_eps"):
        as_causal(-1.0)
    with pytest.raises(ValueError, match="non-decreasing"):
        as_causal((1.0, 0.1))
    with pytest.raises(ValueError, match="causal_chunks"):
        as_causal({"chunks": 0})
    with pytest.raises(ValueError, match="causal_tol"):
        as_causal({"tol": 1.0})
    with pytest.raises(ValueError, match="unknown field"):
        as_causal({"epsilon": 1.0})
    with pytest.raises(ValueError, match="causal"):
        as_causal("yes")
    p = Poisson()
    net = pinnkit.build_net({"width": 8, "depth": 2}, p, 0)
    with pytest.raises(ValueError, match="steady"):
        PINNTrainer(p, net, Sampler(p, n_domain=16, n_boundary=8, seed=0), TrainConfig(causal=True, progress=False))


def test_causal_training_moves_along_its_schedule_and_resumes_bit_for_bit(tmp_path):
    p = ViscousBurgers()

    def trainer(d, steps=40):
        torch.manual_seed(0)
        net = pinnkit.build_net({"width": 8, "depth": 2}, p, 0)
        cfg = TrainConfig(
            adam_steps=steps,
            lbfgs_steps=5,
            causal={"eps": (1e-3, 1e-2, 1.0), "chunks": 8, "tol": 0.5},
            checkpoint_every=20,
            checkpoint_dir=str(d),
            progress=False,
            dtype="float64",
        )
        return PINNTrainer(p, net, Sampler(p, n_domain=128, n_boundary=16, n_initial=32, seed=0), cfg)

    full = trainer(tmp_path / "a")
    h = full.train()
    assert full.causal_stage >= 1  # ε = 1e-3 gives weights above 0.5 at once: the schedule moves on
    assert h["extra"]["causal_eps"][0] == 1e-3 and h["extra"]["causal_eps"][-1] > 1e-3
    assert "pde_weighted" in h["terms"] and h["loss"][-1] < h["loss"][0]
    part = trainer(tmp_path / "b")
    part.train(steps=20)
    resumed = trainer(tmp_path / "b").load_checkpoint()
    assert resumed.step == 20
    np.testing.assert_array_equal(resumed.train()["loss"], h["loss"])
    # the quasi-Newton stage minimises the plain loss
    q = [i for i, s in enumerate(h["stage"]) if s == "lbfgs"]
    terms = {k: v[q[-1]] for k, v in h["terms"].items() if k != "pde_weighted"}
    assert h["loss"][q[-1]] == pytest.approx(sum(full.config.weights.get(k, 1.0) * v for k, v in terms.items()))


def test_convection_residual_vanishes_on_its_exact_solution():
    from pinnkit.equations import Convection

    p = Convection(beta=30.0)
    x = torch.rand(200, 2, dtype=torch.float64) * torch.tensor([2 * math.pi, 1.0], dtype=torch.float64)
    f = Fields(lambda z: p.exact(z), x.requires_grad_(True), spatial_dim=1)
    assert float(p.residual(f).abs().max()) < 1e-12
    u0 = p.exact(torch.stack([x[:, 0], torch.zeros(200, dtype=torch.float64)], 1))
    torch.testing.assert_close(u0[:, 0], torch.sin(x[:, 0]))
    with pytest.raises(ValueError, match="k must"):
        Convection(k=0)
