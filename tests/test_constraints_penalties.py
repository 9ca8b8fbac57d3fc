"""Hard constraints (output transform) and gradient penalties (surrogate gradient, gPINN)."""

import pytest
import torch
from torch import nn

import pinnkit
from pinnkit.constraints import HardConstraints
from pinnkit.equations import BurgersBlowup, Heat
from pinnkit.losses import loss_terms
from pinnkit.sampling import Sampler

F64 = torch.float64


@pytest.mark.parametrize("dim", [1, 3])
def test_hard_constraints_hold_exactly(dim):
    p = Heat(dim=dim, solution="two-mode")
    net = pinnkit.build_net({"width": 16, "depth": 2}, p, 0).double()
    model = HardConstraints(net, p, ("initial", "boundary")).double()
    assert set(model.enforced_conditions) == {"initial", "boundary"}
    batch = Sampler(p, n_domain=8, n_boundary=200, n_initial=200).draw(0, dtype=F64)
    with torch.no_grad():
        x0 = batch.conditions["initial"]
        torch.testing.assert_close(model(x0), p.exact(x0), atol=1e-14, rtol=0)
        assert model(batch.conditions["boundary"]).abs().max().item() < 1e-14
        assert model(batch.domain).abs().max().item() > 1e-3  # the free part still acts inside


def test_enforced_conditions_leave_the_loss():
    p = Heat(dim=2)
    model = HardConstraints(pinnkit.build_net({"width": 8, "depth": 1}, p, 0), p, ("initial",))
    terms = loss_terms(p, model, Sampler(p, n_domain=16, n_boundary=16, n_initial=16).draw(0))
    assert set(terms) == {"pde", "boundary"}


def test_hard_constraint_errors_name_the_reason():
    blow = BurgersBlowup(dim=1, delta=0.5)
    net = pinnkit.build_net({"width": 8, "depth": 1}, blow, 0)
    with pytest.raises(ValueError, match="homogeneous Dirichlet"):
        HardConstraints(net, blow, ("boundary",))
    with pytest.raises(ValueError, match="hard_constraints must be a subset"):
        HardConstraints(net, blow, ("everything",))
    neumann = Heat(dim=1, solution="cosine")
    with pytest.raises(ValueError, match="homogeneous Dirichlet"):
        HardConstraints(pinnkit.build_net({}, neumann, 0), neumann, ("boundary",))

    class Incompatible(Heat):
        def initial(self, x):  # 1 on the faces, but the walls are held at 0
            return torch.ones(x.shape[0], 1, dtype=x.dtype)

    bad = Incompatible(dim=1)
    with pytest.raises(ValueError, match="vanish on the faces"):
        HardConstraints(pinnkit.build_net({}, bad, 0), bad, ("initial", "boundary"))


class Fixed(nn.Module):
    """u = x² t on (x, t), no parameters that matter."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros((), dtype=F64))

    def forward(self, x):
        return (x[:, 0] ** 2 * x[:, 1] + 0 * self.dummy).unsqueeze(-1)


def test_penalty_terms_match_closed_forms():
    p = Heat(dim=1, kappa=0.25)
    batch = Sampler(p, n_domain=64, n_boundary=8, n_initial=8).draw(0, dtype=F64)
    x, t = batch.domain[:, 0], batch.domain[:, 1]
    for method in ("autograd", "forward"):
        terms = loss_terms(p, Fixed(), batch, method=method, penalties=("grad_u", "gpinn"))
        # ∇_x u = 2 x t ; R = u_t − κ u_xx = x² − 2κ t ; ∇R = (2x, −2κ)
        torch.testing.assert_close(terms["grad_u"], (4 * x**2 * t**2).mean())
        torch.testing.assert_close(terms["gpinn"], (4 * x**2 + 4 * 0.25**2).mean())
        torch.testing.assert_close(terms["pde"], ((x**2 - 0.5 * t) ** 2).mean())


def test_gradient_penalty_lowers_the_surrogate_gradient():
    p = BurgersBlowup(dim=1, delta=0.9)
    common = dict(
        net={"width": 16, "depth": 2},
        steps=200,
        lbfgs_steps=0,
        n_domain=256,
        n_boundary=64,
        n_initial=64,
        progress=False,
        seed=0,
    )
    plain = pinnkit.solve(p, **common)
    penal = pinnkit.solve(p, grad_penalty=10.0, **common)
    batch = Sampler(p, n_domain=512).draw(0)
    g_plain = loss_terms(p, plain.model, batch, penalties=("grad_u",))["grad_u"].item()
    g_penal = loss_terms(p, penal.model, batch, penalties=("grad_u",))["grad_u"].item()
    assert g_penal < 0.8 * g_plain
    assert "grad_u" in penal.history["terms"] and "grad_u" not in plain.history["terms"]


def test_penalty_validation():
    with pytest.raises(ValueError, match="grad_penalty"):
        pinnkit.solve("heat", grad_penalty=-1.0, steps=1)
    with pytest.raises(ValueError, match="gpinn_penalty"):
        pinnkit.solve("heat", gpinn_penalty=float("inf"), steps=1)
