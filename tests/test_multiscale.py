"""Multi-scale problems and their pipeline: the anisotropic heat problem, per-axis Fourier scales, output
non-dimensionalisation, and the hard constraints a problem admits (``hard_constraints="auto"``)."""

import math

import pytest
import torch

import pinnkit
from pinnkit.api import build_net, fourier_scales
from pinnkit.constraints import HardConstraints, admissible, auto_kinds
from pinnkit.derivatives import Fields
from pinnkit.equations import AnisotropicHeat, Convection, Heat, Poisson
from pinnkit.nets import MLP, FourierFeatures
from pinnkit.nets.output_scale import OutputScale, detect_output_scale


@pytest.mark.parametrize("setting", ["modes", "units"])
def test_anisotropic_heat_exact_solution_solves_the_problem(setting):
    p = AnisotropicHeat(setting=setting)
    lo, hi = torch.tensor(p.input_lower, dtype=torch.float64), torch.tensor(p.input_upper, dtype=torch.float64)
    x = lo + (hi - lo) * torch.rand(256, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    f = Fields(lambda z: p.exact(z), x.requires_grad_(True), spatial_dim=2)
    res = p.residual(f)
    scale = p.params["amplitude"] * p.rate  # |u_t| is at most A λ
    assert res.abs().max().item() < 1e-10 * abs(scale)
    u_t = f.dt(0)
    assert u_t.abs().max().item() > 0.1 * abs(scale)  # the residual is not zero for want of a signal
    edge = x.detach().clone()
    edge[:, 1] = hi[1]
    assert p.exact(edge).abs().max().item() < 1e-12 * abs(p.params["amplitude"])
    assert p.rate == pytest.approx(
        math.pi**2
        * (
            p.params["kappa_x"] * p.params["mode_x"] ** 2 / p.params["length_x"] ** 2
            + p.params["kappa_y"] * p.params["mode_y"] ** 2 / p.params["length_y"] ** 2
        )
    )


def test_anisotropic_heat_refuses_bad_parameters_by_name():
    for kw, name in [
        ({"setting": "meters"}, "setting"),
        ({"kappa_y": 0.0}, "kappa_y"),
        ({"length_x": -1.0}, "length_x"),
        ({"mode_y": 2.5}, "mode_y"),
        ({"amplitude": 0.0}, "amplitude"),
        ({"T": float("nan")}, "T"),
    ]:
        with pytest.raises(ValueError, match=name):
            AnisotropicHeat(**kw)


def test_fourier_scales_follow_the_declared_wavenumbers():
    p = AnisotropicHeat(setting="modes")
    # in the net's [-1, 1] coordinates: k (b - a)/2, at least 1
    assert fourier_scales(p) == pytest.approx([math.pi / 2, 8 * math.pi / 2, 1.0])
    u = AnisotropicHeat(setting="units")
    assert fourier_scales(u) == pytest.approx([math.pi / 2, math.pi / 2, max(1.0, u.rate * 10 / 2)])
    with pytest.raises(ValueError, match="fourier_sigma"):
        fourier_scales(Heat(dim=2))  # declares no wave numbers


def test_per_axis_fourier_features_scale_their_columns():
    iso = FourierFeatures(3, 4000, 2.0, seed=1)
    same = FourierFeatures(3, 4000, [2.0, 2.0, 2.0], seed=1)
    assert torch.equal(iso.B, same.B)  # one scale for all axes is the isotropic draw, bit for bit
    per = FourierFeatures(3, 4000, [1.0, 10.0, 0.1], seed=1)
    std = per.B.std(dim=0)
    assert std.tolist() == pytest.approx([1.0, 10.0, 0.1], rel=0.05)
    with pytest.raises(ValueError, match="sigma"):
        FourierFeatures(3, 8, [1.0, 2.0])
    net = build_net({"width": 8, "depth": 1, "fourier_features": 16, "fourier_sigma": "auto"}, AnisotropicHeat(), 0)
    assert net.fourier.B.std(dim=0)[1] > 5 * net.fourier.B.std(dim=0)[0]  # the fast y axis gets the large scale
    with pytest.raises(ValueError, match="fourier_sigma"):
        build_net({"width": 8, "depth": 1, "fourier_features": 4, "fourier_sigma": [1.0]}, AnisotropicHeat(), 0)


def test_output_scale_is_detected_from_the_data_and_multiplies_the_net():
    assert detect_output_scale(AnisotropicHeat(setting="units")) == pytest.approx(1e-3, rel=0.01)
    assert detect_output_scale(Heat(dim=2)) == pytest.approx(1.0, rel=0.01)
    assert detect_output_scale(Heat(dim=1, solution="two-mode")) > 1.0
    net = build_net({"width": 8, "depth": 1, "output_scale": "auto"}, AnisotropicHeat(setting="units"), 0)
    assert isinstance(net, OutputScale)
    x = torch.rand(5, 3)
    assert torch.allclose(net(x), net.scale * net.net(x))
    assert float(net.scale) == pytest.approx(1e-3, rel=0.01)
    fixed = build_net({"width": 8, "depth": 1, "output_scale": 4.0}, Heat(), 0)
    assert float(fixed.scale) == 4.0
    for bad in (-1.0, 0.0, "big", float("inf")):
        with pytest.raises(ValueError, match="output_scale"):
            pinnkit.solve("heat", net={"width": 4, "depth": 1, "output_scale": bad}, steps=1, lbfgs_steps=0)


def test_admissible_hard_constraints_per_problem():
    assert admissible(Heat(dim=2)) == ("initial", "boundary")
    assert admissible(AnisotropicHeat()) == ("initial", "boundary")
    assert admissible(Heat(dim=1, solution="cosine")) == ("initial",)  # Neumann data: the initial data only
    assert admissible(Convection()) == ("initial",)  # periodic
    assert admissible(Poisson(boundary="robin")) == ()
    # what "auto" resolves to is what the run records, and the model meets the data exactly
    # "auto": the boundary data where admitted (the model stays certifiable), else the initial data
    assert auto_kinds(Heat(dim=2)) == ("boundary",)
    assert auto_kinds(Convection()) == ("initial",)
    assert auto_kinds(Poisson(boundary="robin")) == ()
    r = pinnkit.solve(
        "heat", dim=2, hard_constraints="auto", steps=3, lbfgs_steps=0, n_eval=64, net={"width": 4, "depth": 1}
    )
    assert r.config["hard_constraints"] == ["boundary"]
    m = r.model if isinstance(r.model, HardConstraints) else None
    assert m is not None
    xb = torch.tensor([[0.0, 0.3, 0.5], [0.7, 1.0, 0.2]])
    assert m(xb).abs().max().item() < 1e-7


def test_net_with_output_scale_trains_and_checkpoints(tmp_path):
    p = AnisotropicHeat(setting="units")
    r = pinnkit.solve(
        p,
        net={"width": 8, "depth": 1, "output_scale": "auto"},
        steps=20,
        lbfgs_steps=0,
        n_eval=64,
        checkpoint_dir=str(tmp_path),
        checkpoint_every=10,
        progress=False,
    )
    assert r.config["net"]["output_scale"] == "auto"
    again = pinnkit.solve(
        p,
        net={"width": 8, "depth": 1, "output_scale": "auto"},
        steps=20,
        lbfgs_steps=0,
        n_eval=64,
        checkpoint_dir=str(tmp_path),
        resume=True,
        progress=False,
    )
    assert again.errors["relative_l2"] == pytest.approx(r.errors["relative_l2"], rel=1e-12)


def test_mlp_unchanged_without_the_new_options():
    torch.manual_seed(0)
    a = build_net({"width": 8, "depth": 2}, Heat(), 3)
    assert isinstance(a, MLP)


def test_boundary_constraint_jet_matches_nested_autograd():
    torch.manual_seed(0)
    for problem in (Heat(dim=2), AnisotropicHeat(setting="units")):
        net = build_net({"width": 16, "depth": 2}, problem, 0).double()
        model = HardConstraints(net, problem, ("boundary",)).double()
        assert model.supports_jet
        lo = torch.tensor(problem.input_lower, dtype=torch.float64)
        hi = torch.tensor(problem.input_upper, dtype=torch.float64)
        x = lo + (hi - lo) * torch.rand(64, 3, dtype=torch.float64)
        second = [(0, 0), (0, 1), (1, 1), (0, 2)]
        u, d1, d2 = model.jet(x, [0, 1, 2], second)
        xr = x.clone().requires_grad_(True)
        ur = model(xr)
        (g,) = torch.autograd.grad(ur.sum(), xr, create_graph=True)
        torch.testing.assert_close(u, ur, rtol=1e-12, atol=1e-14)
        for k in range(3):
            torch.testing.assert_close(d1[k][:, 0], g[:, k], rtol=1e-10, atol=1e-12 * float(g.detach().abs().max()))
        for j, k in second:
            (h,) = torch.autograd.grad(g[:, j].sum(), xr, retain_graph=True)
            torch.testing.assert_close(d2[(j, k)][:, 0], h[:, k], rtol=1e-9, atol=1e-10 * float(h.abs().max()))
    assert not HardConstraints(net, Heat(dim=2), ("initial",)).supports_jet


def test_cli_takes_the_multiscale_options(tmp_path):
    import json

    from pinnkit.cli import main

    out = tmp_path / "run"
    argv = ["solve", "anisotropic-heat", "--setting", "units", "--steps", "3", "--lbfgs-steps", "0", "--width", "4"]
    argv += ["--depth", "1", "--hard-constraints", "none", "--output-scale", "auto", "--fourier-features", "4"]
    argv += ["--fourier-sigma", "auto", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    cfg = json.load(open(out / "summary.json"))["config"]
    assert cfg["hard_constraints"] == []
    assert (cfg["net"]["output_scale"], cfg["net"]["fourier_sigma"]) == ("auto", "auto")
    assert cfg["problem"]["length_x"] == 1000.0
    assert main(argv[:-3] + ["--output-scale", "-1", "--out", str(tmp_path / "bad"), "--quiet"]) == 2
