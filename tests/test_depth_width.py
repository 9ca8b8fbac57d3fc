"""Depth/width diagnostics (pinnkit.theory.depth_width) and ``pinnkit study depth-width``.

The exact ReLU factor is tested against its measurement: an MLP with 3 hidden layers of 16 ReLU units (He,
Gaussian), 4000 seeds, 4 inputs. Measured over 20 disjoint seed ranges (seed = 0, 10000, …, 190000): the
z-score (measured − Π(1 + 5/n))/se lay in [−1.9, 1.7], and the z-score against the wrong factor Π(1 + 3/n) in
[6.7, 15.4]; the assertions below keep a margin (|z| < 3.5 for the right factor, z > 5 for the wrong one). With
4 layers of 16 units the ratio's distribution is heavier-tailed (one z of −4.3 in 20 ranges of 8000 seeds), so
the test uses 3.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
import torch
from torch import nn

from pinnkit.cli import build_parser, main
from pinnkit.nets import MLP, ResidualMLP
from pinnkit.studies import depth_width as study
from pinnkit.studies.depth_width import DepthWidthStudyConfig, run_depth_width_study
from pinnkit.theory import depth_width_beta, depth_width_prediction, depth_width_spread
from pinnkit.theory.depth_width import fresh_init, hidden_layer_widths, init_points, init_samples

BOX = ((0.0, 0.0), (1.0, 1.0))


# ---------------------------------------------------------------- β and the predictions
def test_beta_of_known_nets():
    assert depth_width_beta(MLP(2, 1, 16, 4)) == pytest.approx(0.25)
    # a residual MLP's activation layers: the lift and the blocks
    res = ResidualMLP(2, 1, 8, 3)
    assert hidden_layer_widths(res) == [8, 8, 8, 8] and depth_width_beta(res) == pytest.approx(0.5)
    assert depth_width_beta([10, 20, 40]) == pytest.approx(0.1 + 0.05 + 0.025)
    assert depth_width_beta(np.array([4, 4])) == pytest.approx(0.5)


def test_predictions_and_their_kinds():
    p = depth_width_prediction(MLP(2, 1, 16, 4, activation="relu"))
    assert p.widths == (16,) * 4 and p.beta == pytest.approx(0.25) and p.init == "he"
    assert p.length.kind == "exact" and p.length.value == pytest.approx((1 + 5 / 16) ** 4)
    assert p.length.value < math.exp(5 * p.beta)  # Π(1 + 5/n) ≤ e^{5β}
    assert p.ntk.kind == "estimate" and p.ntk.value == pytest.approx(math.exp(1.25)) and p.ntk.rate == 5
    assert p.input_gradient.kind == "estimate" and p.input_gradient.value is None
    assert "Hanin & Rolnick" in p.length.source and "Hanin & Nica" in p.ntk.source
    # the same from widths; relu with Glorot init keeps the exact factor (it is scale-free)
    assert depth_width_prediction(widths=[16] * 4, activation="relu", init="glorot").length == p.length
    t = depth_width_prediction(MLP(2, 1, 8, 2, activation="tanh"))
    assert t.length.kind == "estimate" and t.length.value == pytest.approx(1.25**2) and t.ntk.kind == "not covered"
    g = depth_width_prediction(widths=[8, 8], activation="gelu")
    assert all(f.kind == "not covered" and f.value is None for f in (g.length, g.ntk, g.input_gradient))
    r = depth_width_prediction(ResidualMLP(2, 1, 8, 2, activation="relu"))
    assert r.architecture == "resmlp" and r.length.kind == "not covered" and r.length.value is None
    assert json.loads(json.dumps(p.as_dict()))["length"]["kind"] == "exact"


# ---------------------------------------------------------------- the measurement
def _per_net(net: nn.Module, x: torch.Tensor):
    """M_L, Θ(x,x) and ‖∇_x u‖² of one net at one point, by plain autograd on the module itself."""
    net = net.double()
    x = x.clone().requires_grad_(True)
    h = {}
    handle = net.head.register_forward_pre_hook(lambda m, args: h.setdefault("h", args[0]))
    u = net(x[None])[0, 0]
    handle.remove()
    gp = torch.autograd.grad(u, list(net.parameters()), retain_graph=True)
    gx = torch.autograd.grad(u, x)[0]
    m = (h["h"].detach() ** 2).mean()
    return float(m), float(sum((g**2).sum() for g in gp)), float((gx**2).sum())


@pytest.mark.parametrize("cls,act", [(MLP, "relu"), (ResidualMLP, "tanh")])
def test_each_seed_is_the_freshly_initialised_net(cls, act):
    net = cls(2, 1, 6, 3, activation=act, input_bounds=BOX)
    state = torch.random.get_rng_state()
    s = init_samples(net, n_seeds=5, seed=7, n_points=3)
    assert torch.equal(torch.random.get_rng_state(), state)  # no draw from torch's global generator
    x = init_points(net, 3)
    assert np.allclose(s["x"], x.numpy())
    for k in (0, 4):
        fresh = fresh_init(net, 7 + k)
        assert not torch.equal(fresh.head.weight, net.head.weight)
        for p in range(3):
            m, th, gx = _per_net(fresh, x[p])
            assert s["length"][k, p] == pytest.approx(m, rel=1e-10)
            assert s["ntk"][k, p] == pytest.approx(th, rel=1e-10)
            assert s["input_gradient"][k, p] == pytest.approx(gx, rel=1e-10)


def test_relu_length_spread_matches_the_exact_factor_and_not_a_wrong_one():
    net = MLP(2, 1, 16, 3, activation="relu", input_bounds=BOX)
    r = depth_width_spread(net, n_seeds=4000, seed=0)
    L = r.length
    assert L.kind == "exact" and L.predicted == pytest.approx((1 + 5 / 16) ** 3)
    assert abs(L.z) < 3.5, L
    wrong = (1 + 3 / 16) ** 3  # what a fourth moment E relu(z)⁴ = σ⁴ (not 3σ⁴/2) would give
    assert (L.ratio - wrong) / L.ratio_se > 5, L
    assert abs(L.mean_over_m0 - 1) < 4 * L.mean_over_m0_se  # He init: E[M_L] = M_0
    assert r.is_bound is False and r.estimated is True and r.n_seeds == 4000 and r.n_points == 4
    # the NTK spread grows with β but stays below the exp(5β) estimate's level here (its constants are unknown)
    assert 1 < r.ntk.ratio < r.ntk.predicted


def test_tanh_linearised_estimate_is_exact_only_in_the_small_input_limit():
    net = MLP(2, 1, 16, 3, activation="tanh")
    small = torch.tensor([[1e-3, 2e-3], [-1e-3, 5e-4]], dtype=torch.float64)
    lin = depth_width_spread(net, x=small, n_seeds=3000, seed=0).length
    assert lin.kind == "estimate" and lin.predicted == pytest.approx((1 + 2 / 16) ** 3)
    assert abs(lin.z) < 4, lin
    # at inputs in [-1, 1]^2 tanh's saturation damps the spread: the linearised estimate is above the measurement
    full = depth_width_spread(net, n_seeds=3000, seed=0).length
    assert full.ratio + 4 * full.ratio_se < full.predicted, full


def test_bad_inputs_name_the_parameter():
    net = MLP(2, 1, 4, 2, activation="relu")
    cases = [
        (lambda: depth_width_beta([]), "net_or_widths"),
        (lambda: depth_width_beta([4, 0]), "net_or_widths"),
        (lambda: depth_width_beta("16"), "net_or_widths"),
        (lambda: depth_width_beta(nn.Linear(2, 2)), "net_or_widths"),
        (lambda: depth_width_prediction(widths=[4, 2.5], activation="relu"), "widths"),
        (lambda: depth_width_prediction(widths=[4], activation="ReLU"), "activation"),
        (lambda: depth_width_prediction(widths=[4], activation="relu", architecture="cnn"), "architecture"),
        (lambda: depth_width_prediction(widths=[4], activation="relu", init="xavier"), "init"),
        (lambda: depth_width_prediction(net, widths=[4]), "net"),
        (lambda: depth_width_prediction(nn.Linear(2, 2)), "net"),
        (lambda: depth_width_spread(net, n_seeds=1), "n_seeds"),
        (lambda: depth_width_spread(net, n_seeds=2.5), "n_seeds"),
        (lambda: depth_width_spread(net, n_seeds=True), "n_seeds"),
        (lambda: depth_width_spread(net, seed=-1), "seed"),
        (lambda: depth_width_spread(net, n_points=0), "n_points"),
        (lambda: depth_width_spread(net, x=torch.zeros(3, 3)), "x"),
        (lambda: depth_width_spread(net, x=torch.tensor([[0.0, 0.0]])), "x"),  # M_0 = 0
        (lambda: depth_width_spread(net, x=torch.tensor([[math.nan, 0.0]])), "x"),
        (lambda: depth_width_spread(net, x=[[1.0, 2.0]]), "x"),
        (lambda: fresh_init(net, seed=-2), "seed"),
    ]
    for call, name in cases:
        with pytest.raises(ValueError, match=name):
            call()


# ---------------------------------------------------------------- the study
TINY = dict(
    depths=[1, 2],
    widths=[4, 8],
    spread_activations=["relu"],
    n_seeds=64,
    n_points=2,
    problems=["heat"],
    steps=10,
    lbfgs_steps=0,
    threads=1,
)


@pytest.fixture
def count_jobs(monkeypatch):
    calls = {"spread": 0, "train": 0}
    real_spread, real_train = study.measure_spread, study.train_error

    def spread(job):
        calls["spread"] += 1
        return real_spread(job)

    def train(job):
        calls["train"] += 1
        return real_train(job)

    monkeypatch.setattr(study, "measure_spread", spread)
    monkeypatch.setattr(study, "train_error", train)
    return calls


def test_study_writes_rows_plots_and_a_rerun_reuses_its_records(tmp_path, count_jobs):
    out = str(tmp_path / "dw")
    s = run_depth_width_study(DepthWidthStudyConfig(out=out, **TINY), progress=False, log=lambda line: None)
    assert count_jobs == {"spread": 4, "train": 4} and len(s["trained"]) == 8 and not s["reused"]
    for f in ("summary.json", "spreads.csv", "errors.csv", "spreads.png", "error_vs_beta.png", "config.json"):
        assert os.path.getsize(os.path.join(out, f)) > 0, f
    assert len(os.listdir(os.path.join(out, "jobs"))) == 8
    on_disk = json.load(open(os.path.join(out, "summary.json")))
    assert on_disk["is_bound"] is False and on_disk["estimated"] is True
    rows = on_disk["spread_rows"]
    assert sorted((r["depth"], r["width"]) for r in rows) == [(1, 4), (1, 8), (2, 4), (2, 8)]
    for r in rows:
        assert r["beta"] == pytest.approx(r["depth"] / r["width"])
        assert r["length_kind"] == "exact" and r["length_predicted"] == pytest.approx(
            (1 + 5 / r["width"]) ** r["depth"]
        )
        assert r["length_ratio"] > 1 and r["length_ratio_se"] > 0
    errs = on_disk["error_rows"]
    assert len(errs) == 4 and all(0 < e["relative_l2"] < 10 and e["steps"] == 10 for e in errs)
    c = on_disk["errors"]["heat"]["log10_error_vs_beta"]
    assert c["n"] == 4 and -1 <= c["pearson"] <= 1 and -1 <= c["spearman"] <= 1
    assert on_disk["spreads"]["relu"]["length"]["kind"] == "exact"
    assert len(open(os.path.join(out, "errors.csv")).read().splitlines()) == 5
    # a rerun with the same settings trains and measures nothing, and ends with the same rows
    again = run_depth_width_study(DepthWidthStudyConfig(out=out, **TINY), progress=False, log=lambda line: None)
    assert count_jobs == {"spread": 4, "train": 4} and len(again["reused"]) == 8 and not again["trained"]
    assert again["error_rows"] == on_disk["error_rows"] and again["spread_rows"] == on_disk["spread_rows"]
    # another budget: only the training jobs run again; a damaged record is moved aside and its job rerun
    bad = sorted(f for f in os.listdir(os.path.join(out, "jobs")) if f.startswith("spread_relu_d1_w4"))[0]
    rec = json.load(open(os.path.join(out, "jobs", bad)))
    rec["beta"] = 99.0
    json.dump(rec, open(os.path.join(out, "jobs", bad), "w"))
    with pytest.warns(UserWarning, match="digest"):
        third = run_depth_width_study(
            DepthWidthStudyConfig(out=out, **{**TINY, "steps": 12}), progress=False, log=lambda line: None
        )
    assert count_jobs == {"spread": 5, "train": 8}
    assert os.path.exists(os.path.join(out, "jobs", bad + ".bad"))

    # re-measured: the same seeds give the same numbers (only the timing differs)
    def timeless(rows):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]

    assert timeless(third["spread_rows"]) == timeless(on_disk["spread_rows"])


def test_bad_study_settings_fail_before_any_work(tmp_path, monkeypatch):
    def tripwire(job):
        raise AssertionError("work started")

    monkeypatch.setattr(study, "measure_spread", tripwire)
    monkeypatch.setattr(study, "train_error", tripwire)
    out = str(tmp_path / "bad")
    cases = [
        ({"depths": []}, "depths"),
        ({"depths": [0]}, "depths"),
        ({"depths": [2, 2]}, "depths"),
        ({"widths": [4, 2.5]}, "widths"),
        ({"widths": [10**6]}, "widths"),
        ({"spread_activations": ["RELU"]}, "spread_activations"),
        ({"n_seeds": 1}, "n_seeds"),
        ({"n_points": 0}, "n_points"),
        ({"seed": -1}, "seed"),
        ({"problems": ["poisson"]}, "problems"),
        ({"activation": "relu"}, "activation"),
        ({"steps": 0}, "steps"),
        ({"lbfgs_steps": -1}, "lbfgs_steps"),
        ({"train_seeds": [math.nan]}, "train_seeds"),
        ({"threads": -1}, "threads"),
        ({"resume": 1}, "resume"),
        ({"out": ""}, "out"),
    ]
    for kw, name in cases:
        cfg = DepthWidthStudyConfig(**{**TINY, "out": out, **kw})
        with pytest.raises(ValueError, match=name):
            run_depth_width_study(cfg, progress=False, log=lambda line: None)
    assert not os.path.exists(os.path.join(out, "jobs"))


def test_cli_parses_and_runs_the_study(tmp_path, capsys):
    args = build_parser().parse_args(
        ["study", "depth-width", "--depths", "1", "3", "--widths", "4", "--spread-activations", "relu", "sin"]
        + ["--n-seeds", "16", "--problems", "burgers", "--activation", "sin", "--steps", "5", "--no-resume"]
    )
    assert (args.kind, args.depths, args.widths, args.spread_activations) == (
        "depth-width",
        [1, 3],
        [4],
        ["relu", "sin"],
    )
    assert (args.n_seeds, args.problems, args.activation, args.steps, args.resume) == (16, ["burgers"], "sin", 5, False)
    d = build_parser().parse_args(["study", "depth-width"])
    assert (d.depths, d.widths, d.problems, d.activation, d.resume) == (
        [2, 4, 8],
        [16, 32, 64],
        ["heat", "burgers"],
        "tanh",
        True,
    )
    out = str(tmp_path / "cli")
    argv = ["study", "depth-width", "--depths", "1", "--widths", "4", "--spread-activations", "relu"]
    argv += ["--n-seeds", "16", "--problems", "heat", "--steps", "5", "--lbfgs-steps", "0", "--out", out, "--quiet"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "Pearson" in text and "exact" in text and "summary.json" in text
    assert main([*argv[:-3], "--n-seeds", "1", "--out", out]) == 2
    assert "n_seeds" in capsys.readouterr().err
