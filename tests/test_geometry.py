"""Domains beyond the box: DeepXDE geometries sampled inside and on their boundary, outward normals, the
conditions that use them, and torch's global state left alone."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import pinnkit
from pinnkit.equations import Observations, Poisson, RobinBC
from pinnkit.equations import geometry as geo
from pinnkit.sampling import Sampler, evaluation_points


def _disk_dist(x, c, r):
    return np.linalg.norm(x - np.asarray(c), axis=1) - r


def _lshape_boundary_dist(x):
    """Distance to the boundary of [0,2]² ∖ (1,2]² (polygon edges)."""
    v = np.array([[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]], float)
    best = np.full(len(x), np.inf)
    for a, b in zip(v, np.roll(v, -1, axis=0)):
        t = np.clip(((x - a) @ (b - a)) / ((b - a) @ (b - a)), 0, 1)
        best = np.minimum(best, np.linalg.norm(x - (a + t[:, None] * (b - a)), axis=1))
    return best


SHAPES = {
    # name: (domain, boundary distance (signed where a normal is checked), analytic outward normal or None)
    "disk": (lambda: geo.make("Disk", [0.3, -0.2], 0.8), lambda x: _disk_dist(x, [0.3, -0.2], 0.8)),
    "annulus": (
        lambda: geo.make("Disk", [0, 0], 1.0) - geo.make("Disk", [0.1, 0], 0.4),
        lambda x: np.minimum(np.abs(_disk_dist(x, [0, 0], 1.0)), np.abs(_disk_dist(x, [0.1, 0], 0.4))),
    ),
    "l-shape": (
        lambda: geo.make("Polygon", [[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]]),
        _lshape_boundary_dist,
    ),
    "ball5": (lambda: geo.make("Hypersphere", [0.0] * 5, 1.0), lambda x: _disk_dist(x, [0.0] * 5, 1.0)),
    "ellipse": (
        lambda: geo.make("Ellipse", [0, 0], 2.0, 1.0, 0.5),
        lambda x: (
            np.sqrt(
                ((np.cos(0.5) * x[:, 0] - np.sin(0.5) * x[:, 1]) / 2) ** 2
                + (np.sin(0.5) * x[:, 0] + np.cos(0.5) * x[:, 1]) ** 2
            )
            - 1.0
        ),
    ),
}


@pytest.mark.parametrize("method", ["sobol", "lhs", "uniform"])
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_points_lie_inside_and_on_the_boundary(name, method):
    build, dist = SHAPES[name]
    dom = build()
    inner = dom.interior_points(2000, method, seed=7)
    assert inner.shape == (2000, dom.dim)
    assert dom.inside(inner).all()
    edge = dom.boundary_points(1000, method, seed=7)
    assert edge.shape == (1000, dom.dim)
    assert np.abs(dist(edge)).max() <= 1e-12
    # reproducible from the seed, different for another
    assert np.array_equal(dom.interior_points(500, method, 3), dom.interior_points(500, method, 3))
    assert np.array_equal(dom.boundary_points(500, method, 3), dom.boundary_points(500, method, 3))
    assert not np.array_equal(dom.interior_points(500, method, 3), dom.interior_points(500, method, 4))
    # a pure function of (n, method, seed): a fresh domain draws what a used one draws (a resumed run's points)
    assert np.array_equal(build().interior_points(700, method, 5), dom.interior_points(700, method, 5))


def test_interior_points_fill_the_domain_by_volume():
    """An annulus of area π(1 − 0.16): the share of interior points in the outer ring r > 0.7 (away from the
    hole) matches its share of the area."""
    dom = SHAPES["annulus"][0]()
    pts = dom.interior_points(20000, "sobol", 0)
    r = np.linalg.norm(pts, axis=1)
    share = (r > 0.7).mean()
    assert share == pytest.approx(np.pi * (1 - 0.49) / (np.pi * (1 - 0.16)), abs=0.01)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_normals_are_unit_and_outward(name):
    dom = SHAPES[name][0]()
    edge = dom.boundary_points(600, "uniform", seed=1)
    n = dom.normals(edge)
    assert np.abs(np.linalg.norm(n, axis=1) - 1).max() <= 1e-12
    assert not dom.inside(edge + 1e-6 * n).any()
    assert dom.inside(edge - 1e-6 * n).all()


def test_normals_match_the_closed_form_on_a_disk_with_a_hole():
    dom = SHAPES["annulus"][0]()
    edge = dom.boundary_points(400, "uniform", 2)
    outer = np.linalg.norm(edge, axis=1) > 0.95
    n = dom.normals(edge)
    np.testing.assert_allclose(n[outer], edge[outer] / np.linalg.norm(edge[outer], axis=1, keepdims=True), atol=1e-12)
    c = np.array([0.1, 0.0])
    inner = edge[~outer] - c
    np.testing.assert_allclose(n[~outer], -inner / np.linalg.norm(inner, axis=1, keepdims=True), atol=1e-12)


def test_box_domain_normals_and_points():
    box = geo.Box((0.0, -1.0), (2.0, 1.0))
    edge = box.boundary_points(400, "sobol", 0)
    assert box.on_boundary(edge).all()
    n = box.normals(edge)
    assert not box.inside(edge + 1e-6 * n).any() and box.inside(edge - 1e-6 * n).all()


def test_deepxde_leaves_torch_and_numpy_state_alone():
    """Even where DeepXDE would move torch's default device to CUDA (faked here: ``cuda.is_available`` made
    to say yes before the import), building and sampling a geometry leaves the default device, the default
    dtype, NumPy's global generator and DeepXDE's float setting as they were."""
    code = """
import numpy as np, torch
torch.cuda.is_available = lambda: True
torch.set_default_dtype(torch.float64)
np.random.seed(5); before = np.random.get_state()[1].copy()
from pinnkit.equations import geometry as geo
d = geo.make("Disk", [0, 0], 1.0)
d.interior_points(100, "uniform", 1); d.boundary_points(100, "uniform", 1); d.normals(d.boundary_points(5, "uniform", 2))
from deepxde import config
assert torch.get_default_device().type == "cpu", torch.get_default_device()
assert torch.zeros(2).device.type == "cpu"
assert torch.get_default_dtype() == torch.float64
assert np.array_equal(np.random.get_state()[1], before)
assert config.real.precision == 32, config.real.precision
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]


def test_sampler_on_a_domain_with_parts_of_the_boundary():
    p = Poisson("annulus", boundary="mixed")
    batch = Sampler(p, n_domain=500, n_boundary=300, seed=0).draw()
    x = batch.domain.double().numpy()
    assert p.spatial_domain.inside(x).all()
    rob, dir_ = batch.conditions["robin"].double().numpy(), batch.conditions["dirichlet"].double().numpy()
    assert (rob[:, 0] > p._centre).all() and (dir_[:, 0] <= p._centre).all()
    assert len(rob) == len(dir_) == 300
    assert set(batch.normals) == {"robin"}
    n = batch.normals["robin"].double().numpy()
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-6)
    ev = evaluation_points(p, 4000)
    assert p.spatial_domain.inside(ev).all() and len(ev) == 4000


def test_a_short_poisson_run_on_a_disk_with_a_hole_is_accurate(tmp_path):
    r = pinnkit.solve(
        Poisson("annulus"), net={"width": 24, "depth": 3}, steps=300, lbfgs_steps=200, seed=0, progress=False
    )
    assert r.errors["relative_l2"] <= 1e-2
    r.save(str(tmp_path / "run"))
    assert (tmp_path / "run" / "solution.png").exists()


def test_the_robin_residual_vanishes_for_the_exact_solution():
    p = Poisson("disk", boundary="robin", alpha=2.0, beta=0.5)
    batch = Sampler(p, n_domain=10, n_boundary=200, seed=1).draw(dtype=torch.float64)
    c = p.conditions()[0]

    class Exact(torch.nn.Module):
        def forward(self, x):
            return p.exact(x)

    from pinnkit.derivatives import Fields

    r = c.residual(lambda x: Fields(Exact(), x, spatial_dim=2), batch.conditions["robin"], batch.normals["robin"])
    assert r.abs().max() <= 1e-12
    wrong = c.residual(lambda x: Fields(Exact(), x, spatial_dim=2), batch.conditions["robin"], -batch.normals["robin"])
    assert wrong.abs().max() > 0.1


def test_bad_domains_and_conditions_are_refused():
    with pytest.raises(ValueError, match="domain"):
        Poisson("circle")
    with pytest.raises(ValueError, match="domain"):
        Poisson(3.0)
    with pytest.raises(ValueError, match="geometry kind"):
        geo.make("Blob", 1)
    with pytest.raises(ValueError, match="alpha and beta"):
        RobinBC("r", target=lambda x: x[:, :1], alpha=0.0, beta=0.0)
    with pytest.raises(ValueError, match="one row per point"):
        Observations("obs", points=np.zeros((4, 2)), values=np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        Observations("obs", points=np.full((4, 2), np.nan), values=np.zeros(4))
    from pinnkit.equations import DirichletBC, Face

    p = Poisson("disk")
    with pytest.raises(ValueError, match="faces are the sides of a box"):
        DirichletBC("d", target=p.exact, faces=(Face(0, 0),)).location(p)


def test_certificates_refuse_a_domain_they_do_not_cover():
    from pinnkit.nets import MLP
    from pinnkit.theory import certify_residual

    with pytest.raises(ValueError, match="partition a box"):
        certify_residual(MLP(2, 1, width=8, depth=2), Poisson("disk"))


@pytest.mark.parametrize(
    "problem",
    [
        Poisson("l-shape"),
        Poisson("ball", dim=4, freq=0.7),
        pinnkit.equations.HeatOnDomain(dim=5, kappa=0.3),
        pinnkit.equations.ReactionDiffusion("disk"),
    ],
    ids=["poisson-l", "poisson-ball4", "heat-ball5", "reaction-disk"],
)
def test_the_closed_forms_solve_their_equations(problem):
    from pinnkit.derivatives import Fields
    from pinnkit.sampling import domain_points

    class Exact(torch.nn.Module):
        def forward(self, x):
            return problem.exact(x)

    x = torch.as_tensor(domain_points(problem, 300, "sobol", 0))
    r = problem.residual(Fields(Exact(), x, spatial_dim=problem.spatial_dim))
    assert r.abs().max() <= 1e-11
    assert problem.spatial_domain.inside(x[:, : problem.spatial_dim].numpy()).all()


class _Bubble(pinnkit.equations.Problem):
    """``−Δu = 4`` on the unit disk, ``u = 0`` on its boundary: ``u = 1 − |x|²``."""

    def __init__(self):
        dom = geo.make("Disk", [0.0, 0.0], 1.0)
        super().__init__("bubble", 2, 1, (-1.0, -1.0), (1.0, 1.0), domain=dom)

    def residual(self, f):
        return (-f.laplacian(0) - 4.0).unsqueeze(-1)

    def conditions(self):
        zero = lambda x: torch.zeros(len(x), 1, dtype=x.dtype)  # noqa: E731
        return [pinnkit.equations.DirichletBC("boundary", target=zero, homogeneous=True)]

    def exact(self, x):
        return (1.0 - (x[:, :2] ** 2).sum(1)).unsqueeze(-1)


def test_hard_boundary_constraints_through_the_distance_function_of_a_disk():
    from pinnkit.constraints import HardConstraints
    from pinnkit.nets import MLP

    p = _Bubble()
    m = HardConstraints(MLP(2, 1, width=8, depth=2), p, ("boundary",))
    edge = torch.as_tensor(p.spatial_domain.boundary_points(200, "uniform", 0), dtype=torch.float32)
    assert m(edge).abs().max() <= 1e-6
    r = pinnkit.solve(p, hard_constraints=["boundary"], steps=300, lbfgs_steps=100, seed=0, progress=False)
    assert r.errors["relative_l2"] <= 1e-2
    with pytest.raises(ValueError, match="distance function"):
        HardConstraints(MLP(2, 1, width=8, depth=2), _annulus_bubble(), ("boundary",))


def _annulus_bubble():
    p = _Bubble()
    p.domain = geo.make("Disk", [0.0, 0.0], 1.0) - geo.make("Disk", [0.0, 0.0], 0.3)
    return p


@pytest.mark.parametrize(
    "args",
    [
        ("Disk", [0.2, 0.1], 0.7),
        ("Ellipse", [0.0, 0.0], 2.0, 1.0, 0.4),
        ("Rectangle", [0.0, -1.0], [2.0, 0.5]),
        ("Triangle", [0.0, 0.0], [1.0, 0.2], [0.3, 1.0]),
        ("Hypersphere", [0.0] * 5, 1.0),
        ("Interval", -1.0, 2.0),
    ],
    ids=lambda a: a[0],
)
def test_distance_factors_vanish_on_the_boundary_and_are_positive_inside(args):
    dom = geo.make(*args)
    phi = dom.distance_factor()
    edge = torch.as_tensor(dom.boundary_points(300, "uniform", 0))
    inner = dom.interior_points(300, "sobol", 0)
    inner = torch.as_tensor(inner[~dom.on_boundary(inner)])
    assert phi(edge).abs().max() <= 1e-12
    assert (phi(inner) > 0).all()
    assert geo.make("Polygon", [[0, 0], [1, 0], [1, 1], [0, 1.5]]).distance_factor() is None


def test_a_point_cloud_gives_its_own_points_and_normals():
    rng = np.random.default_rng(0)
    inner = rng.uniform(-0.9, 0.9, (400, 2))
    theta = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    edge = np.stack([np.cos(theta), np.sin(theta)], 1)
    dom = geo.make("PointCloud", inner, boundary_points=edge, boundary_normals=edge)
    pts = dom.interior_points(100, "sobol", 1)
    assert {tuple(p) for p in pts} <= {tuple(p) for p in inner}
    b = dom.boundary_points(50, "uniform", 1)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(dom.normals(b), b, atol=1e-12)
    assert np.array_equal(dom.interior_points(100, "sobol", 1), pts)
