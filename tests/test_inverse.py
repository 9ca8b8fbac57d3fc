"""Inverse problems: unknown coefficients learned with the net from observations."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import pinnkit
from pinnkit.cli import main
from pinnkit.derivatives import Fields
from pinnkit.equations import Heat, Poisson, TaylorGreen, ViscousBurgers
from pinnkit.equations.inverse import (
    load_observations,
    observations_from,
    save_observations,
    with_unknowns,
)
from pinnkit.inverse import Coefficients
from pinnkit.nets import MLP


def test_observations_are_the_ground_truth_plus_the_stated_noise():
    p = Heat(dim=2, kappa=0.1)
    clean = observations_from(p, 20000, seed=3)
    truth = p.reference(torch.as_tensor(clean.points)).numpy()
    np.testing.assert_allclose(clean.values, truth, rtol=0, atol=1e-15)
    assert p.spatial_domain.inside(clean.points[:, :2]).all()
    noisy = observations_from(p, 20000, noise=0.01, seed=3)
    np.testing.assert_array_equal(noisy.points, clean.points)
    dev = (noisy.values - clean.values).std()
    assert dev == pytest.approx(0.01 * clean.values.std(), rel=0.03)
    again = observations_from(p, 20000, noise=0.01, seed=3)
    np.testing.assert_array_equal(again.values, noisy.values)


def test_observation_files_round_trip_and_bad_columns_are_named(tmp_path):
    p = TaylorGreen()
    obs = observations_from(p, 50, noise=0.02, seed=1, components=[0, 1])
    path = save_observations(str(tmp_path / "obs.csv"), obs, p)
    back = load_observations(path, p)
    np.testing.assert_array_equal(back.points, obs.points)
    np.testing.assert_array_equal(back.values, obs.values)
    assert back.components == [0, 1] and back.noise == 0.02
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,t,q\n0,0,0,1\n")
    with pytest.raises(ValueError, match=r"unknown \['q'\]"):
        load_observations(str(bad), p)
    with pytest.raises(ValueError, match="not a file"):
        load_observations(str(tmp_path / "missing.csv"), p)


def test_the_view_reads_the_unknowns_only_in_the_residual():
    p = ViscousBurgers()
    net = MLP(2, 1, width=8, depth=2).double()
    x = torch.rand(64, 2, dtype=torch.float64) * torch.tensor([2.0, 1.0]) - torch.tensor([1.0, 0.0])

    def res(problem):
        return problem.residual(Fields(net, x, spatial_dim=1)).detach()

    at_truth = Coefficients({"nu": {"positive": True, "initial": p.nu}}).double()
    np.testing.assert_allclose(res(with_unknowns(p, at_truth)), res(p), rtol=1e-6, atol=1e-9)  # θ = log ν in float32
    other = Coefficients({"nu": {"positive": True, "initial": 0.3}}).double()
    view = with_unknowns(p, other)
    assert (res(view) - res(p)).abs().max() > 1e-3
    assert isinstance(view.nu, float) and view.nu == p.nu  # conditions and the closed form keep the truth


def test_a_short_inverse_run_moves_nu_toward_the_truth(tmp_path):
    p = ViscousBurgers()
    obs = observations_from(p, 500, seed=1)
    r = pinnkit.solve(
        p,
        infer={"nu": 0.05},
        data=obs,
        net={"width": 16, "depth": 3},
        steps=300,
        lbfgs_steps=50,
        n_domain=500,
        seed=0,
        progress=False,
        checkpoint_dir=str(tmp_path / "ck"),
    )
    rec = r.inferred["nu"]
    assert rec["truth"] == pytest.approx(0.01 / np.pi)
    assert abs(rec["value"] - rec["truth"]) < 0.5 * abs(0.05 - rec["truth"])
    assert r.errors["nu_relative_error"] == pytest.approx(rec["relative_error"])
    hist = r.history["diagnostics"]["coefficient/nu"]
    steps = [h[0] for h in hist]
    assert steps[0] == 50 and steps == sorted(steps) and len(steps) >= 6  # every 50 steps
    assert all(h[1] > 0 for h in hist)  # exp-parametrised: positive all along
    assert r.config["inverse"]["observations"] == [{"name": "data", "n": 500, "noise": 0.0}]
    state = torch.load(os.path.join(tmp_path, "ck", "checkpoint.pt"), weights_only=True)
    flat = str(list(state.keys())) + str(state.get("model", {}).keys() if isinstance(state.get("model"), dict) else "")
    assert "coefficients" in flat
    summary = r.summary()
    assert summary["inferred"]["nu"]["value"] == rec["value"]
    paths = r.save(str(tmp_path / "run"))
    assert os.path.getsize(paths["coefficients_plot"]) > 0


def test_bad_inverse_settings_are_refused_before_training():
    p = ViscousBurgers()
    with pytest.raises(ValueError, match=r"allowed: \['nu'\]"):
        pinnkit.solve(p, infer="kappa", steps=1, progress=False)
    with pytest.raises(ValueError, match="declares no UNKNOWNS"):
        pinnkit.solve(Poisson("square"), infer="freq", steps=1, progress=False)
    with pytest.raises(ValueError, match="must be > 0"):
        pinnkit.solve(p, infer={"nu": -1.0}, steps=1, progress=False)
    with pytest.raises(ValueError, match="infer"):
        pinnkit.solve(p, infer=3, steps=1, progress=False)
    with pytest.raises(ValueError, match="data must be"):
        pinnkit.solve(p, infer="nu", data=5, steps=1, progress=False)
    with pytest.raises(ValueError, match="columns"):
        from pinnkit.equations import Observations

        pinnkit.solve(p, data=Observations("d", points=np.zeros((3, 3)), values=np.zeros(3)), steps=1, progress=False)


def test_observe_and_solve_from_the_command_line(tmp_path, capsys):
    csv = str(tmp_path / "obs.csv")
    assert main(["observe", "heat", "--dim", "1", "--n", "300", "--noise", "0.01", "--out", csv]) == 0
    assert os.path.getsize(csv) > 0
    out = str(tmp_path / "run")
    code = main(
        ["solve", "heat", "--dim", "1", "--infer", "kappa=0.3", "--data", csv, "--steps", "200", "--lbfgs-steps", "0"]
        + ["--width", "12", "--depth", "2", "--quiet", "--out", out, "--track-every", "0"]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "inferred kappa" in text and "truth 0.1" in text
    assert main(["solve", "heat", "--infer", "nu", "--steps", "1", "--quiet", "--out", str(tmp_path / "r2")]) == 2


def test_a_coefficient_field_is_learned_as_a_second_net():
    """The field is a trained net read by the residual (not by the closed form), seeded with the run, and
    its reported error is its relative L2 distance to the truth on the held-out points."""
    from pinnkit.equations import ReactionDiffusion
    from pinnkit.equations.inverse import unknowns_of

    p = ReactionDiffusion()
    spec = unknowns_of(p, ["c"])
    c0 = Coefficients(spec, bounds=(p.lower, p.upper), seed=3)
    c1 = Coefficients(spec, bounds=(p.lower, p.upper), seed=3)
    x = torch.rand(50, 2)
    assert torch.equal(c0.value("c")(x), c1.value("c")(x))  # seeded
    np.testing.assert_allclose(c0.value("c")(x).detach().numpy(), 1.0, atol=0.3)  # starts near the constant 1
    obs = observations_from(p, 300, seed=2)
    kw = dict(net={"width": 12, "depth": 2}, steps=60, lbfgs_steps=0, n_domain=200, seed=0, progress=False)
    r = pinnkit.solve(p, infer="c", data=obs, **kw)
    pts = torch.as_tensor(r.eval_points, dtype=torch.float32)
    with torch.no_grad():
        learned = r.model.coefficients.value("c")(pts).double()
    truth = p.true_c(pts.double())
    expected = float(torch.linalg.norm(learned - truth) / torch.linalg.norm(truth))
    assert r.inferred["c"]["relative_l2"] == pytest.approx(expected, rel=1e-9)
    assert r.errors["c_relative_l2"] == r.inferred["c"]["relative_l2"]
    start = Coefficients(spec, bounds=(p.lower, p.upper), seed=0).value("c")(pts)
    assert not torch.allclose(learned.float(), start, atol=1e-4)  # trained
    assert p.c.__func__ is ReactionDiffusion.true_c  # the problem itself is left as it was
