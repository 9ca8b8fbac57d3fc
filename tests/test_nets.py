"""Nets: shapes, initialisation variances, residual scaling, Fourier features, mean-field formula and scaling."""

import math

import pytest
import torch

from pinnkit.nets import MLP, FourierFeatures, InputScaling, MeanFieldTwoLayer, ResidualMLP


@pytest.mark.parametrize("act, scheme", [("tanh", "glorot"), ("sin", "glorot"), ("relu", "he"), ("gelu", "he")])
def test_initialisation_follows_activation(act, scheme):
    torch.manual_seed(0)
    net = MLP(3, 1, width=400, depth=3, activation=act)
    assert net.init_scheme == scheme
    w = net.hidden[1].weight  # 400 x 400
    expected = math.sqrt(2 / 800) if scheme == "glorot" else math.sqrt(2 / 400)
    assert w.std().item() == pytest.approx(expected, rel=0.02)
    assert float(net.hidden[1].bias.detach().abs().max()) == 0.0


def test_he_init_keeps_relu_activation_length_in_depth():
    # Hanin 2018: with He init, E[|h_l|^2]/n is constant in depth for ReLU
    torch.manual_seed(1)
    net = MLP(64, 1, width=512, depth=8, activation="relu")
    x = torch.randn(256, 64)
    h = x
    norms = []
    for layer in net.hidden:
        h = torch.relu(layer(h))
        norms.append((h.pow(2).sum(1) / 512).mean().item())
    ratio = norms[-1] / norms[0]
    assert 0.8 < ratio < 1.25


def test_mlp_shapes_and_input_scaling():
    net = MLP(3, 2, width=10, depth=2, input_bounds=((0, -1, 0), (2, 1, 5)))
    assert net(torch.rand(7, 3)).shape == (7, 2)
    s = InputScaling((0, -1), (2, 1))
    torch.testing.assert_close(
        s(torch.tensor([[0.0, -1.0], [2.0, 1.0], [1.0, 0.0]])), torch.tensor([[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0]])
    )
    with pytest.raises(ValueError, match="upper must exceed lower"):
        InputScaling((0, 1), (1, 1))


def test_bad_net_arguments():
    with pytest.raises(ValueError, match="width"):
        MLP(2, 1, width=0)
    with pytest.raises(ValueError, match="depth"):
        ResidualMLP(2, 1, depth=-1)
    with pytest.raises(ValueError, match="activation"):
        MLP(2, 1, activation="swishy")
    with pytest.raises(ValueError, match="n must"):
        MeanFieldTwoLayer(2, n=0)


def test_residual_branch_scaling_bounds_forward_variance_in_depth():
    torch.manual_seed(0)
    x = torch.randn(512, 4)
    outs = []
    for depth in (4, 64):
        net = ResidualMLP(4, 1, width=128, depth=depth, activation="tanh")
        assert net.branch_scale == pytest.approx(1 / math.sqrt(depth))
        h = torch.tanh(net.lift(x))
        h0 = h.pow(2).mean().item()
        for b in net.blocks:
            h = h + net.branch_scale * torch.tanh(b(h))
        outs.append(h.pow(2).mean().item() / h0)
    # without the 1/sqrt(L) factor the 64-block net would grow its second moment ~ 16x faster
    assert outs[1] < 4 * outs[0]


def test_fourier_features():
    ff = FourierFeatures(2, n_features=16, sigma=3.0, seed=0)
    x = torch.rand(5, 2)
    z = ff(x)
    assert z.shape == (5, 32)
    torch.testing.assert_close(z[:, :16] ** 2 + z[:, 16:] ** 2, torch.ones(5, 16))
    net = MLP(2, 1, width=8, depth=2, fourier=FourierFeatures(2, 16, seed=1))
    assert net(x).shape == (5, 1)


def test_mean_field_matches_formula_and_scales_learning_rate():
    g = torch.Generator().manual_seed(0)
    net = MeanFieldTwoLayer(3, n=50, out_dim=2, generator=g).double()
    x = torch.rand(9, 3, dtype=torch.float64)
    manual = sum(net.c[i] * torch.tanh(x @ net.w[i] + net.b[i])[:, None] for i in range(50)) / 50
    torch.testing.assert_close(net(x), manual)
    assert net.lr_scale == 50.0
    assert net.param_groups(0.01)[0]["lr"] == pytest.approx(0.5)
    assert net.particles().shape == (50, 2 + 3 + 1)


def test_mean_field_step_is_width_independent():
    # one SGD step with lr·n moves each particle by an O(1) amount whatever n is (mean-field time scaling)
    moves = []
    for n in (64, 4096):
        g = torch.Generator().manual_seed(0)
        net = MeanFieldTwoLayer(1, n=n, generator=g).double()
        x = torch.linspace(-1, 1, 200, dtype=torch.float64)[:, None]
        loss = 0.5 * (net(x) - torch.sin(3 * x)).pow(2).mean()
        loss.backward()
        step = net.lr_scale * net.c.grad  # displacement per unit lr
        moves.append(step.abs().mean().item())
    assert moves[0] == pytest.approx(moves[1], rel=0.3)
