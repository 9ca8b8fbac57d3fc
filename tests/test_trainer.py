"""Trainer behaviour: reproducibility, resume, divergence guard, checkpoint format, input validation."""

import math
import os

import numpy as np
import pytest
import torch
from torch import nn

import pinnkit
from pinnkit import PINNTrainer, TrainConfig, TrainingDiverged
from pinnkit.equations import Heat
from pinnkit.sampling import Sampler


def _trainer(tmp=None, adam=60, lbfgs=40, every=20, model=None, seed=0, **cfg):
    p = Heat(dim=1)
    torch.manual_seed(seed)
    net = model or pinnkit.build_net({"width": 12, "depth": 2}, p, seed)
    config = TrainConfig(
        adam_steps=adam,
        lbfgs_steps=lbfgs,
        lbfgs_chunk=10,
        checkpoint_every=every,
        checkpoint_dir=tmp,
        progress=False,
        dtype="float64",
        **cfg,
    )
    return PINNTrainer(
        p, net, Sampler(p, n_domain=128, n_boundary=32, n_initial=32, resample_every=25, seed=seed), config
    )


def test_same_seed_same_history():
    a, b = _trainer().train(), _trainer().train()
    assert a["loss"] == b["loss"]
    c = _trainer(seed=1).train()
    assert c["loss"] != a["loss"]


@pytest.mark.parametrize("stop_at,qn", [(40, "lbfgs"), (80, "lbfgs"), (80, "ssbfgs")])  # inside Adam / 2nd stage
def test_resume_continues_the_same_run(tmp_path, stop_at, qn):
    full = _trainer(str(tmp_path / "full"), quasi_newton=qn).train()

    part = _trainer(str(tmp_path / "part"), quasi_newton=qn)
    # crash the run just after the checkpoint at `stop_at`, then throw the trainer away

    class Stop(Exception):
        pass

    class StopAt:
        every = 1

        def __call__(self, trainer):
            if trainer.step > stop_at:
                raise Stop
            return {}

    part.callbacks.append(StopAt())
    with pytest.raises(Stop):
        part.train()
    ckpt = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == stop_at

    resumed = _trainer(str(tmp_path / "part"), quasi_newton=qn).load_checkpoint()
    assert resumed.step == stop_at
    hist = resumed.train()
    assert hist["step"] == full["step"]
    np.testing.assert_allclose(hist["loss"], full["loss"], rtol=1e-10, atol=0)
    for k in full["terms"]:
        np.testing.assert_allclose(hist["terms"][k], full["terms"][k], rtol=1e-10, atol=0)


class NaNAfter(nn.Module):
    """Wraps a net; from the ``n``-th forward call on, its output is NaN (a forced divergence)."""

    def __init__(self, net, n):
        super().__init__()
        self.net, self.n, self.calls = net, n, 0

    def forward(self, x):
        self.calls += 1
        y = self.net(x)
        return y * float("nan") if self.calls > self.n else y


def test_divergence_stops_cleanly_and_keeps_last_good_checkpoint(tmp_path):
    p = Heat(dim=1)
    inner = pinnkit.build_net({"width": 8, "depth": 2}, p, 0)
    # each Adam step calls forward 1 + number of conditions times (domain + initial + boundary) = 3
    model = NaNAfter(inner, n=3 * 45)
    tr = _trainer(str(tmp_path), adam=100, lbfgs=0, every=20, model=model)
    with pytest.raises(TrainingDiverged, match=r"diverged at step 45.*last good checkpoint \(step 40\)") as info:
        tr.train()
    assert info.value.step == 45 and info.value.restored_step == 40
    assert tr.step == 40 and len(tr.history["loss"]) == 40
    ckpt = torch.load(os.path.join(tmp_path, "checkpoint.pt"), weights_only=True)
    assert ckpt["step"] == 40
    for k, v in ckpt["model"].items():
        torch.testing.assert_close(v, tr.model.state_dict()[k])
        assert torch.isfinite(v).all()


def test_config_validation_names_the_parameter():
    for kwargs, name in [
        ({"lr": 0.0}, "lr"),
        ({"adam_steps": -1}, "adam_steps"),
        ({"dtype": "float16"}, "dtype"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"method": "magic"}, "method"),
        ({"lr_decay": 1.5}, "lr_decay"),
        ({"weights": {"pde": -1.0}}, "weights"),
    ]:
        with pytest.raises(ValueError, match=name):
            TrainConfig(**kwargs).validate()
    with pytest.raises(ValueError, match="weights has unknown term"):
        _trainer(weights={"bogus": 1.0})


def test_solve_validates_before_training():
    with pytest.raises(ValueError, match="kappa"):
        pinnkit.solve("heat", kappa=-1.0, steps=1)
    with pytest.raises(ValueError, match="n_domain"):
        pinnkit.solve("heat", n_domain=0, steps=1)
    with pytest.raises(ValueError, match="net kind"):
        pinnkit.solve("heat", net={"kind": "transformer"}, steps=1)


def test_result_predict_validates_points_and_matches_truth_shape():
    r = pinnkit.solve("heat", dim=2, net={"width": 8, "depth": 1}, steps=5, lbfgs_steps=0, n_domain=64, progress=False)
    assert r.predict([[0.5, 0.5]], t=0.2).shape == (1, 1)
    assert r.predict(np.array([[0.5, 0.5, 0.2], [0.1, 0.2, 0.3]])).shape == (2, 1)
    with pytest.raises(ValueError, match="NaN"):
        r.predict([[float("nan"), 0.5]], t=0.1)
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        r.predict(np.zeros((4, 5)))
    assert set(r.config) >= {"problem", "net", "sampler", "train", "seed"}
    assert math.isfinite(r.errors["relative_l2"])


def test_save_writes_summary_and_plots(tmp_path):
    import json

    r = pinnkit.solve(
        "heat",
        dim=2,
        net={"width": 8, "depth": 1},
        steps=10,
        lbfgs_steps=10,
        n_domain=64,
        progress=False,
        track_every=5,
    )
    paths = r.save(str(tmp_path))
    summary = json.load(open(paths["summary"]))
    assert summary["config"]["seed"] == 0 and "torch" in summary["versions"]
    assert summary["errors"]["relative_l2"] == pytest.approx(r.errors["relative_l2"])
    for key in ("loss_plot", "solution_plot"):
        assert os.path.getsize(paths[key]) > 10_000
    assert r.history["diagnostics"]["relative_l2"][-1][0] == r.history["step"][-1] + 1
    state = torch.load(paths["model"], weights_only=True)
    assert set(state) == set(r.model.state_dict())
