"""The certified tight bound on the blow-up family (issue 14, part 3): its closed-form slab recurrence is above
an accurate solution of the comparison ODE; the bound holds above the true error on trained nets (1-D and
2-D) within a small factor of it; and on an adversarial surrogate (a trained net plus a narrow ridge placed
between the sample points of the estimate) the sampled estimate falls below the true error while the
certified bound stays above it."""

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

import pinnkit
from pinnkit.equations import BurgersBlowup
from pinnkit.nets import MLP
from pinnkit.theory import certified_tight_bound, tight_estimate
from pinnkit.theory.blowup_certified import propagate, slab_eigenvalue_bound
from pinnkit.theory.burgers_blowup import graded_time_grid


def _ode_reference(z0, a, r, b, h, n=20000):
    """RK4 with many steps on z' = 2az + 2r√z + 2b (constant coefficients), and its integral (trapezoid)."""

    def F(z):
        return 2 * a * z + 2 * r * math.sqrt(max(z, 0.0)) + 2 * b

    dt, z, total = h / n, z0, 0.0
    for _ in range(n):
        k1 = F(z)
        k2 = F(z + 0.5 * dt * k1)
        k3 = F(z + 0.5 * dt * k2)
        k4 = F(z + dt * k3)
        zn = max(z + dt * (k1 + 2 * k2 + 2 * k3 + k4) / 6, 0.0)
        total += 0.5 * (z + zn) * dt
        z = zn
    return z, total


@pytest.mark.parametrize("seed", range(6))
def test_slab_recurrence_is_an_upper_solution(seed):
    rng = np.random.default_rng(seed)
    z0 = 10 ** rng.uniform(-8, 0)
    a, r, b, h = rng.uniform(-1, 20), 10 ** rng.uniform(-4, 1), rng.uniform(-1e-3, 1e-2), 10 ** rng.uniform(-3, -1)
    total, z = propagate(z0, np.array([a]), np.array([h * r * r]), np.array([b]), np.array([0.0, h]))
    z_ref, int_ref = _ode_reference(z0, a, r, b, h)
    assert z[1] >= z_ref * (1 - 1e-9) and total >= int_ref * (1 - 1e-9)
    assert z[1] <= 3 * z_ref + 1e-12  # and close to it


def test_eigenvalue_bound_is_above_sampled_eigenvalues():
    for p in (BurgersBlowup(dim=1, delta=0.99), BurgersBlowup(dim=2, delta=0.6)):
        tau = np.linspace(*p.time_interval, 9)
        lam = slab_eigenvalue_bound(p, tau)
        for k in range(8):
            t = torch.linspace(tau[k], tau[k + 1], 50, dtype=torch.float64)
            A = p.A(t)
            ev = torch.linalg.eigvalsh(-0.5 * (A + A.transpose(1, 2)))[:, -1].max().item()
            assert ev <= lam[k] <= ev + 0.05 * abs(ev) + 1e-9


def _trained(dim, delta, width=16, depth=2, steps=600):
    r = pinnkit.solve(
        BurgersBlowup(dim=dim, delta=delta),
        net={"width": width, "depth": depth},
        steps=steps,
        lbfgs_steps=200,
        n_domain=1000,
        n_boundary=100,
        n_initial=100,
        n_eval=256,
        seed=0,
        progress=False,
    )
    return r.problem, r.model


@pytest.mark.parametrize(
    "dim,delta,max_boxes,factor", [(1, 0.95, 6000, 1.3), (1, 0.99, 6000, 1.3), (2, 0.5, 16000, 1.5)]
)
def test_certified_bound_holds_and_is_tight_on_trained_nets(dim, delta, max_boxes, factor):
    problem, model = _trained(dim, delta)
    c = certified_tight_bound(model, problem, n_slices=32, max_boxes=max_boxes, rtol=0.1)
    assert c.is_bound and not c.estimated
    assert c.bound >= c.true > 0
    # certifying costs little over the sampled estimate (whose slack is the derivation's, not the boxes')
    est = tight_estimate(model, problem, n_slices=32)
    assert c.ratio_l2 <= factor * est.ratio_l2, (c.summary(), est.ratio_l2)
    assert np.all(c.z_bar[1:] >= 0) and c.initial_sq >= 0


def _ridge_surrogate(base: MLP, axis: int, x1: float, x2: float, amp: float, k: float) -> MLP:
    """``base + amp (tanh(k(x_a − x1)) − tanh(k(x_a − x2)))`` along input ``axis``: the one hidden layer of
    ``base`` widened by two ridge units (a narrow strip between x1 and x2), an exact MLP (input scaling kept)."""
    out = copy.deepcopy(base)
    W, b = base.hidden[0].weight.detach(), base.hidden[0].bias.detach()
    n, D = W.shape
    if base.scaling is None:
        c, hw = 0.0, 1.0
    else:
        c, hw = base.scaling.center[axis].item(), base.scaling.half_width[axis].item()
    out.hidden[0] = nn.Linear(D, n + 2).double()
    out.head = nn.Linear(n + 2, 1).double()
    with torch.no_grad():
        out.hidden[0].weight.zero_()
        out.hidden[0].weight[:n] = W
        out.hidden[0].bias[:n] = b
        out.hidden[0].weight[n:, axis] = k * hw  # the net sees (x − c)/hw
        out.hidden[0].bias[n] = k * (c - x1)
        out.hidden[0].bias[n + 1] = k * (c - x2)
        out.head.weight.zero_()
        out.head.weight[:, :n] = base.head.weight.detach()
        out.head.weight[0, n] = amp
        out.head.weight[0, n + 1] = -amp
        out.head.bias.copy_(base.head.bias.detach())
    return out


def test_adversarial_ridge_fools_the_estimate_but_not_the_certificate():
    """A ridge in time, ``0.2`` high and ``2e-3`` wide, placed between the times the estimate samples: the
    estimate misses it, the certificate (integrals over whole slabs) does not."""
    problem, base = _trained(1, 0.5, width=24, depth=1, steps=800)
    base = base.double()
    tau = graded_time_grid(problem, 64)
    zg = np.polynomial.legendre.leggauss(2)[0]
    h = np.diff(tau)
    times = np.sort(np.concatenate([tau, (tau[:-1, None] + 0.5 * h[:, None] * (zg[None, :] + 1)).ravel()]))
    i = len(times) // 2
    centre = 0.5 * (times[i] + times[i + 1])
    t1, t2 = centre - 1e-3, centre + 1e-3
    adv = _ridge_surrogate(base, 1, t1, t2, amp=0.1, k=2e4)
    x = torch.tensor([[0.3, centre], [0.3, t1 - 0.01]], dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(adv(x) - base(x), torch.tensor([[0.2], [0.0]], dtype=torch.float64), atol=1e-9)
    est = tight_estimate(adv, problem)
    # the true error, with a time rule that resolves the ridge: composite Gauss around [t1, t2]
    t0, T = problem.time_interval
    zs, ws = np.polynomial.legendre.leggauss(16)
    cuts = np.unique(np.concatenate([np.linspace(t0, T, 65), np.linspace(t1 - 1e-2, t2 + 1e-2, 801)]))
    ts = np.concatenate([0.5 * (a + b) + 0.5 * (b - a) * zs for a, b in zip(cuts[:-1], cuts[1:])])
    WT = np.concatenate([0.5 * (b - a) * ws for a, b in zip(cuts[:-1], cuts[1:])])
    zx, wx = np.polynomial.legendre.leggauss(64)
    pts = torch.tensor(np.stack(np.meshgrid(zx, ts, indexing="ij"), -1).reshape(-1, 2))
    with torch.no_grad():
        e = (adv(pts) - problem.exact(pts)).reshape(len(zx), len(ts)).numpy()
    true = float(wx @ (e**2) @ WT)
    assert est.estimate < true  # the sampled estimate misses the ridge
    c = certified_tight_bound(adv, problem, n_slices=32, max_boxes=8000, rtol=0.2)
    assert math.isfinite(c.bound) and c.bound >= true, (c.summary(), true, est.estimate)


def test_budgets_that_would_not_fit_in_memory_are_refused_before_work(monkeypatch):
    import pinnkit.preflight

    monkeypatch.setattr(pinnkit.preflight, "available_memory", lambda: 2**30)
    net, p = MLP(2, 1, 30, 4), BurgersBlowup(dim=1, delta=0.9)
    with pytest.raises(ValueError, match="max_boxes=10000000"):
        certified_tight_bound(net, p, max_boxes=10**7)
    with pytest.raises(ValueError, match="batch=1000000"):
        certified_tight_bound(net, p, batch=10**6)
