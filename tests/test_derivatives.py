"""Derivative engines against closed-form derivatives (float64 round-off) and against each other."""

import pytest
import torch

from pinnkit.derivatives import Fields, divergence, gradient, hessian_diagonal, jacobian, laplacian, time_derivative
from pinnkit.nets import MLP

F64 = torch.float64
METHODS = ["autograd", "forward"]


def field(x):
    """Two outputs of three inputs (x, y, t)."""
    a, b, t = x[:, 0], x[:, 1], x[:, 2]
    u = torch.sin(a) * torch.exp(b) * t**2
    v = a**3 * torch.cos(2 * b) + t * a * b
    return torch.stack([u, v], dim=1)


def analytic(x):
    a, b, t = x[:, 0], x[:, 1], x[:, 2]
    jac = torch.stack(
        [
            torch.stack(
                [
                    torch.cos(a) * torch.exp(b) * t**2,
                    torch.sin(a) * torch.exp(b) * t**2,
                    2 * t * torch.sin(a) * torch.exp(b),
                ],
                1,
            ),
            torch.stack([3 * a**2 * torch.cos(2 * b) + t * b, -2 * a**3 * torch.sin(2 * b) + t * a, a * b], 1),
        ],
        1,
    )
    hess_diag = torch.stack(
        [
            torch.stack(
                [
                    -torch.sin(a) * torch.exp(b) * t**2,
                    torch.sin(a) * torch.exp(b) * t**2,
                    2 * torch.sin(a) * torch.exp(b),
                ],
                1,
            ),
            torch.stack([6 * a * torch.cos(2 * b), -4 * a**3 * torch.cos(2 * b), torch.zeros_like(a)], 1),
        ],
        1,
    )
    mixed_u_ab = torch.cos(a) * torch.exp(b) * t**2
    return jac, hess_diag, mixed_u_ab


@pytest.fixture
def points():
    return torch.rand(64, 3, generator=torch.Generator().manual_seed(0), dtype=F64) * 2 - 0.5


@pytest.mark.parametrize("method", METHODS)
def test_first_and_second_derivatives_match_closed_forms(points, method):
    jac, hd, mixed = analytic(points)
    f = Fields(field, points, spatial_dim=2, method=method)
    torch.testing.assert_close(f.jacobian(), jac, atol=1e-13, rtol=1e-12)
    for i in range(2):
        for k in range(3):
            torch.testing.assert_close(f.d2(i, k), hd[:, i, k], atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(f.d2_mixed(0, 0, 1), mixed, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(f.dt(0), jac[:, 0, 2], atol=1e-13, rtol=1e-12)
    torch.testing.assert_close(f.grad(1), jac[:, 1, :2], atol=1e-13, rtol=1e-12)
    torch.testing.assert_close(f.laplacian(0), hd[:, 0, 0] + hd[:, 0, 1], atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(f.divergence(), jac[:, 0, 0] + jac[:, 1, 1], atol=1e-13, rtol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_functional_operators(points, method):
    jac, hd, _ = analytic(points)
    torch.testing.assert_close(gradient(field, points, 1, method=method), jac[:, 1])
    torch.testing.assert_close(time_derivative(field, points, 0, method=method), jac[:, 0, 2])
    torch.testing.assert_close(laplacian(field, points, 1, spatial_dim=2, method=method), hd[:, 1, 0] + hd[:, 1, 1])
    torch.testing.assert_close(hessian_diagonal(field, points, 0, method=method), hd[:, 0])
    torch.testing.assert_close(divergence(field, points, spatial_dim=2, method=method), jac[:, 0, 0] + jac[:, 1, 1])
    torch.testing.assert_close(jacobian(field, points, method=method), jac)


def test_laplacian_of_radial_function_in_ten_dimensions():
    # u = |x|^2 sin(t): Δu = 2 d sin(t), u_t = |x|^2 cos(t)
    x = torch.rand(32, 11, generator=torch.Generator().manual_seed(1), dtype=F64)
    fn = lambda z: (z[:, :10] ** 2).sum(1) * torch.sin(z[:, 10])
    for method in METHODS:
        f = Fields(fn, x, spatial_dim=10, method=method)
        torch.testing.assert_close(f.laplacian(0), 20 * torch.sin(x[:, 10]), atol=1e-12, rtol=1e-12)
        torch.testing.assert_close(f.dt(0), (x[:, :10] ** 2).sum(1) * torch.cos(x[:, 10]), atol=1e-12, rtol=1e-12)


def test_engines_agree_on_a_network_including_parameter_gradients():
    torch.manual_seed(0)
    net = MLP(3, 2, width=16, depth=3).double()
    x = torch.rand(50, 3, dtype=F64)
    grads = []
    for method in METHODS:
        f = Fields(net, x, spatial_dim=2, method=method)
        loss = (f.dt(0) - f.laplacian(0) + f.divergence() * f.u[:, 1]).pow(2).mean()
        grads.append(torch.autograd.grad(loss, list(net.parameters()), allow_unused=True))
    for a, b in zip(*grads):
        if a is None or b is None:
            assert a is None and b is None or float((a if a is not None else b).abs().max()) == 0
            continue
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-10)


def test_bad_arguments_raise():
    x = torch.rand(4, 2)
    with pytest.raises(ValueError, match="method"):
        Fields(field, x, method="symbolic")
    with pytest.raises(ValueError, match="shape"):
        Fields(field, torch.rand(4))
    with pytest.raises(ValueError, match="steady"):
        Fields(lambda z: z[:, :1], x, spatial_dim=2).dt(0)
    with pytest.raises(IndexError):
        Fields(lambda z: z[:, :1], x).d(0, 5)
