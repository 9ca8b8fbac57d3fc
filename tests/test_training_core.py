"""The training core under every trainer: bit-identical resume, callbacks every k steps, a time limit, typed
stages equal to their string shortcuts, one history schema."""

import numpy as np
import pytest
import torch

import pinnkit
from pinnkit import PINNTrainer, TrainConfig
from pinnkit.equations import Heat
from pinnkit.meanfield_trainer import MeanFieldConfig, MeanFieldTrainer, RegressionEnergy
from pinnkit.nets import MeanFieldTwoLayer
from pinnkit.sampling import Sampler
from pinnkit.training import LBFGS, SSBFGS, Adam, new_history

SCHEMA = set(new_history())


class Stop(Exception):
    pass


class StopAfter:
    """A callback that crashes the run once it has passed ``step`` (after the checkpoint there)."""

    every = 1

    def __init__(self, step):
        self.step = step

    def __call__(self, trainer):
        if trainer.step > self.step:
            raise Stop
        return {}


class Count:
    """A callback that records the step it ran at."""

    def __init__(self, every):
        self.every = every

    def __call__(self, trainer):
        return {"count": trainer.step}


# ------------------------------------------------------------------ mean-field
def _meanfield(tmp=None, steps=30, **kw):
    x = torch.linspace(-1, 1, 64, dtype=torch.float64)[:, None]
    model = MeanFieldTwoLayer(1, n=24, generator=torch.Generator().manual_seed(0)).double()
    cfg = MeanFieldConfig(
        dt=0.2,
        steps=steps,
        alpha=5.0,
        reinject=0.5,
        seed=4,
        record_every=1,
        checkpoint_every=10,
        checkpoint_dir=tmp,
        **kw,
    )
    return MeanFieldTrainer(model, RegressionEnergy(x, torch.sin(3 * x)), cfg)


def test_meanfield_resumes_bit_identically_with_birth_death(tmp_path):
    full = _meanfield()
    full.train()
    part = _meanfield(str(tmp_path))
    part.callbacks.append(StopAfter(10))
    with pytest.raises(Stop):
        part.train()
    resumed = _meanfield(str(tmp_path)).load_checkpoint()
    assert resumed.step == 10
    resumed.train()
    assert full.births > 0 and full.reinjected > 0
    assert resumed.history["loss"] == full.history["loss"] and resumed.history["step"] == full.history["step"]
    assert (resumed.births, resumed.reinjected) == (full.births, full.reinjected)
    assert torch.equal(resumed.model.particles(), full.model.particles())
    assert set(full.history) == SCHEMA and full.history["stage"][0] == "flow"


def test_meanfield_callbacks_and_time_limit():
    tr = _meanfield(steps=20)
    tr.callbacks.append(Count(5))
    tr.train()
    assert tr.history["diagnostics"]["count"] == [[5, 5], [10, 10], [15, 15], [20, 20]]
    assert tr.history["step"][-1] == 20  # the final state is recorded
    limited = _meanfield(steps=1000, time_limit=1e-9)
    limited.train()
    assert limited.step == 1 and limited.history["step"] == [0, 1]


# ------------------------------------------------------------------ PINN
def _pinn(tmp=None, **cfg):
    p = Heat(dim=1)
    torch.manual_seed(0)
    net = pinnkit.build_net({"width": 8, "depth": 2}, p, 0)
    config = TrainConfig(checkpoint_dir=tmp, progress=False, dtype="float64", lbfgs_chunk=5, **cfg)
    return PINNTrainer(p, net, Sampler(p, n_domain=64, n_boundary=16, n_initial=16, resample_every=10, seed=0), config)


def test_pinn_time_limit_and_callbacks():
    tr = _pinn(adam_steps=500, lbfgs_steps=0, time_limit=1e-9)
    tr.callbacks.append(Count(100))
    tr.train()
    assert tr.step == 1 and len(tr.history["loss"]) == 1
    assert tr.history["diagnostics"]["count"] == [[1, 1]]  # the run's end runs every callback


def test_typed_stages_equal_their_string_shortcuts():
    flat = _pinn(adam_steps=20, lbfgs_steps=15, lr=3e-3, lr_decay=0.5, decay_every=7, quasi_newton="ssbfgs").train()
    typed = _pinn(stages=(Adam(steps=20, lr=3e-3, decay=0.5, every=7), SSBFGS(steps=15, chunk=5))).train()
    assert typed["loss"] == flat["loss"] and typed["stage"] == flat["stage"]


def test_three_stages_run_in_order_and_resume(tmp_path):
    stages = (Adam(steps=20, lr=3e-3), LBFGS(steps=10, chunk=5), SSBFGS(steps=10, chunk=5))
    full = _pinn(stages=stages, checkpoint_every=5).train()
    assert [s for s in dict.fromkeys(full["stage"])] == ["adam", "lbfgs", "ssbfgs"]
    part = _pinn(str(tmp_path), stages=stages, checkpoint_every=5)
    part.callbacks.append(StopAfter(25))
    with pytest.raises(Stop):
        part.train()
    resumed = _pinn(str(tmp_path), stages=stages, checkpoint_every=5).load_checkpoint()
    assert resumed.step == 25
    hist = resumed.train()
    assert hist["step"] == full["step"]
    np.testing.assert_array_equal(hist["loss"], full["loss"])


def test_stages_are_validated_by_name():
    with pytest.raises(ValueError, match="lr must be"):
        TrainConfig(stages=(Adam(steps=10, lr=-1.0),)).validate()
    with pytest.raises(ValueError, match="stages must be"):
        TrainConfig(stages=("adam",)).validate()
    with pytest.raises(ValueError, match="lbfgs_chunk"):
        TrainConfig(stages=(LBFGS(steps=10, chunk=0),)).validate()


# ------------------------------------------------------------------ DeepONet
def _deeponet(data, tmp=None, steps=30, **kw):
    from pinnkit.nets import DeepONet
    from pinnkit.operator_trainer import DeepONetTrainer, OperatorTrainConfig

    net = DeepONet(9, 2, q=6, branch_width=12, branch_depth=1, trunk_width=12, trunk_depth=1, seed=0)
    cfg = OperatorTrainConfig(
        mode="hybrid",
        steps=steps,
        batch_functions=4,
        batch_points=16,
        n_collocation=8,
        n_boundary=4,
        log_every=1,
        checkpoint_every=10,
        checkpoint_dir=tmp,
        progress=False,
        **kw,
    )
    return DeepONetTrainer(net, data, config=cfg)


@pytest.fixture(scope="module")
def tiny_heat(tmp_path_factory):
    from pinnkit.equations.operator_data import make_dataset

    return make_dataset("heat", 8, m_sensors=9, nx=9, nt=5, cache_dir=tmp_path_factory.mktemp("cache"), progress=False)


def test_deeponet_resumes_bit_identically_and_runs_callbacks(tiny_heat, tmp_path):
    full = _deeponet(tiny_heat)
    full.callbacks.append(Count(7))
    full.train()
    part = _deeponet(tiny_heat, str(tmp_path))
    part.callbacks.append(StopAfter(20))
    with pytest.raises(Stop):
        part.train()
    resumed = _deeponet(tiny_heat, str(tmp_path)).load_checkpoint()
    assert resumed.step == 20
    resumed.train()
    assert resumed.history["loss"] == full.history["loss"] and resumed.history["terms"] == full.history["terms"]
    for a, b in zip(resumed.model.parameters(), full.model.parameters()):
        assert torch.equal(a, b)
    assert full.history["diagnostics"]["count"] == [[7, 7], [14, 14], [21, 21], [28, 28], [30, 30]]
    assert set(full.history) == SCHEMA


def test_deeponet_time_limit(tiny_heat):
    tr = _deeponet(tiny_heat, steps=10_000, time_limit=1e-9)
    tr.train()
    assert tr.step == 1 and tr.history["step"] == [0]


def test_solve_and_cli_obey_a_time_limit(tmp_path, capsys):
    from pinnkit.cli import main

    r = pinnkit.solve("heat", steps=100_000, lbfgs_steps=100, time_limit=0.2, n_domain=64, n_eval=100, progress=False)
    assert r.history["step"][-1] < 100_000 and r.config["train"]["time_limit"] == 0.2
    assert main(["solve", "heat", "--minutes", "0.002", "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert main(["solve", "heat", "--minutes", "-1", "--out", str(tmp_path / "bad"), "--quiet"]) != 0
    assert "--minutes must be a finite number > 0" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
