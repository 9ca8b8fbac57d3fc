"""Lid-driven cavity problem: the interpolated reference nearly satisfies momentum and continuity in the
interior (and better on a finer reference, at second order), its boundary data match the conditions and the
solver's lid profiles, the differentiable spline equals scipy's, the disk cache round-trips, and bad
parameters are rejected by name."""

import warnings

import numpy as np
import pytest
import torch
from scipy.interpolate import RectBivariateSpline

from pinnkit.derivatives import Fields
from pinnkit.equations import LidDrivenCavity, make_problem
from pinnkit.equations.cavity import cache_path, cavity_reference, clear_reference_cache
from pinnkit.equations.reference.cavity import lid_velocity
from pinnkit.sampling import Sampler

F64 = torch.float64
pytestmark = pytest.mark.usefixtures("one_thread")


def _interior(n=1500, margin=0.05, seed=0):
    g = torch.Generator().manual_seed(seed)
    return margin + (1 - 2 * margin) * torch.rand(n, 2, generator=g, dtype=F64)


def _relative_residual(p, x, method="autograd"):
    """Per momentum component max |r|/Σ|terms| (terms' scale ≥ 1e-3), and max |∇·u|."""
    f = Fields(p.exact, x, spatial_dim=2, method=method)
    r = p.residual(f).detach()
    rel = []
    for i in range(2):
        scale = sum(t.detach().abs() for t in p.momentum_terms(f, i))
        rel.append((r[:, i].abs() / scale.clamp(min=1e-3)).max().item())
    return rel, r[:, 2].abs().max().item()


def test_registered_with_defaults():
    p = make_problem("cavity")
    assert isinstance(p, LidDrivenCavity)
    assert p.params == {"re": 100.0, "lid": "regularised", "n_reference": 129}
    assert p.output_names == ("u", "v", "p") and p.pressure_gauge == "mean" and p.has_exact
    assert (p.lower, p.upper, p.time_dependent) == ((0.0, 0.0), (1.0, 1.0), False)


@pytest.mark.parametrize("method", ["autograd", "forward"])
def test_interpolated_reference_residual_is_small_and_second_order(method):
    x = _interior()
    coarse, c_div = _relative_residual(LidDrivenCavity(100, n_reference=65), x, method)
    fine, f_div = _relative_residual(LidDrivenCavity(100, n_reference=129), x, method)
    # measured at n = 129: 6.4e-3, 7.6e-3 (momentum), 4.4e-3 (|div u|); n = 65 about 4x larger
    assert max(fine) < 2e-2 and f_div < 1e-2, (fine, f_div)
    assert min(c / f for c, f in zip(coarse + [c_div], fine + [f_div])) > 3.0


def test_spline_matches_scipy_and_is_zero_mean_pressure():
    p = LidDrivenCavity(100)
    a = p.solution
    x = torch.rand(500, 2, dtype=F64, generator=torch.Generator().manual_seed(3))
    ex = p.exact(x).numpy()
    for k, name in enumerate("uvp"):
        s = RectBivariateSpline(a["x"], a["y"], a[name], kx=3, ky=3, s=0)
        np.testing.assert_allclose(ex[:, k], s.ev(x[:, 0].numpy(), x[:, 1].numpy()), atol=1e-12)
    assert p.exact(x.float()).dtype == torch.float32
    # grid nodes are reproduced; the pressure has zero (trapezoidal) mean
    xs = torch.tensor([[a["x"][10], a["y"][90]]], dtype=F64)
    np.testing.assert_allclose(p.exact(xs)[0].numpy(), [a["u"][10, 90], a["v"][10, 90], a["p"][10, 90]], atol=1e-12)
    w = np.ones(len(a["x"]))
    w[[0, -1]] = 0.5
    assert abs(np.einsum("i,j,ij->", w, w, a["p"]) / w.sum() ** 2) < 1e-12


@pytest.mark.parametrize("lid", ["regularised", "uniform"])
def test_boundary_data(lid):
    p = LidDrivenCavity(100, lid=lid)
    names = [c.name for c in p.conditions()]
    assert names == ["lid", "walls"]
    batch = Sampler(p, 64, 200, 1, "sobol", 0, 0).draw(0, dtype=F64)
    for c in p.conditions():
        xb = batch.conditions[c.name]
        # the reference satisfies its own boundary data (lid: to spline accuracy on the smooth profile)
        r = c.residual(lambda z: Fields(p.exact, z, spatial_dim=2), xb).detach()
        tol = 1e-6
        if c.name == "lid" and lid == "uniform":  # the spline rings near the jumps at the corners
            r = r[(xb[:, 0] > 0.1) & (xb[:, 0] < 0.9)]
        assert r.abs().max().item() < tol, (c.name, r.abs().max().item())
    # the lid profile equals the reference solver's
    x = torch.linspace(0, 1, 101, dtype=F64)
    pts = torch.stack([x, torch.ones_like(x)], dim=1)
    solver_lid = "regularized" if lid == "regularised" else "uniform"
    np.testing.assert_allclose(p.lid_velocity(pts)[:, 0].numpy(), lid_velocity(x.numpy(), solver_lid), atol=1e-15)
    assert p.lid_velocity(pts)[:, 1].abs().max().item() == 0.0


def test_spelling_alias_and_centreline_against_ghia_for_uniform_lid():
    assert LidDrivenCavity(lid="regularized").lid == "regularised"
    from pinnkit.equations.reference.ghia import ghia_centerlines

    g = ghia_centerlines(100)
    p = LidDrivenCavity(100, lid="uniform")
    pts = torch.tensor(np.stack([np.full(g["y"].size, 0.5), g["y"]], axis=1), dtype=F64)
    u = p.exact(pts)[:, 0].numpy()
    assert np.max(np.abs(u - g["u"])) < 1e-2


def test_parameter_validation():
    for bad in (0, -1.0, float("nan"), 6000.0, "100", True):
        with pytest.raises(ValueError, match="re must be a number in"):
            LidDrivenCavity(re=bad)
    with pytest.raises(ValueError, match="lid must be one of"):
        LidDrivenCavity(lid="parabolic")
    for bad in (8, 600, 64.0):
        with pytest.raises(ValueError, match="n_reference must be an integer in"):
            LidDrivenCavity(n_reference=bad)
    with pytest.warns(UserWarning, match="beyond the tested range"):
        LidDrivenCavity(re=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for re in (100, 400, 1000, 10.0):
            LidDrivenCavity(re=re)
    with pytest.raises(ValueError, match="unknown parameter"):
        make_problem("cavity", nu=0.01)


def test_disk_cache_round_trip(tmp_path):
    clear_reference_cache()
    a = cavity_reference(100, "regularised", 33, cache_dir=tmp_path)
    path = cache_path(tmp_path, 100, "regularised", 33)
    assert path.is_file() and path.name.startswith("cavity-")
    clear_reference_cache()
    b = cavity_reference(100, "regularized", 33, cache_dir=tmp_path)
    for k in ("u", "v", "p", "psi", "omega"):
        np.testing.assert_array_equal(a[k], b[k])
    assert cache_path(tmp_path, 400, "regularised", 33) != path
    clear_reference_cache()
