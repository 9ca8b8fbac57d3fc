"""Sampling: points lie where they should, draws are deterministic per round, methods differ."""

import numpy as np
import pytest
import torch

from pinnkit.equations import Heat
from pinnkit.sampling import METHODS, Sampler, evaluation_points, split_counts, unit_cube


@pytest.mark.parametrize("method", METHODS)
def test_points_inside_box_and_on_faces(method):
    p = Heat(dim=3, T=2.0)
    b = Sampler(p, n_domain=500, n_boundary=600, n_initial=100, method=method, seed=1).draw(0)
    d = b.domain.numpy()
    assert d.shape == (500, 4) and (d[:, :3] >= 0).all() and (d[:, :3] <= 1).all() and (d[:, 3] <= 2).all()
    ini = b.conditions["initial"].numpy()
    assert ini.shape == (100, 4) and (ini[:, 3] == 0).all()
    bnd = b.conditions["boundary"].numpy()
    on_face = np.isclose(bnd[:, :3], 0) | np.isclose(bnd[:, :3], 1)
    assert bnd.shape == (600, 4) and on_face.any(axis=1).all()
    # six faces of equal measure share the points equally
    counts = [(np.isclose(bnd[:, k], s)).sum() for k in range(3) for s in (0, 1)]
    assert counts == [100] * 6


def test_draws_are_deterministic_per_round_and_differ_between_rounds():
    p = Heat(dim=2)
    s = Sampler(p, n_domain=64, resample_every=10, seed=3)
    a, b, c = s.draw(0), s.draw(0), s.draw(1)
    torch.testing.assert_close(a.domain, b.domain)
    assert not torch.allclose(a.domain, c.domain)
    assert s.round_of(9) == 0 and s.round_of(10) == 1


def test_sobol_is_more_uniform_than_uniform():
    # star-discrepancy proxy: error of the mean of a smooth function
    f = lambda u: np.prod(np.sin(np.pi * u), axis=1)
    exact = (2 / np.pi) ** 3
    errs = {
        m: np.mean([abs(f(unit_cube(1024, 3, m, s)).mean() - exact) for s in range(8)]) for m in ("sobol", "uniform")
    }
    assert errs["sobol"] < errs["uniform"] / 5


def test_split_counts_and_eval_points():
    assert split_counts(10, [1, 1, 1]) == [4, 3, 3] or sorted(split_counts(10, [1, 1, 1])) == [3, 3, 4]
    assert sum(split_counts(7, [0.2, 0.5, 0.3])) == 7
    g = evaluation_points(Heat(dim=2), 8000)
    assert g.shape == (20**3, 3)
    h = evaluation_points(Heat(dim=5), 1000)
    assert h.shape == (1000, 6) and (h >= 0).all() and (h <= 1).all()


def test_bad_sampler_arguments():
    with pytest.raises(ValueError, match="n_domain"):
        Sampler(Heat(), n_domain=0)
    with pytest.raises(ValueError, match="method"):
        Sampler(Heat(), method="grid")
