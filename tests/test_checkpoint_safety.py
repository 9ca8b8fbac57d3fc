"""A resume never mixes runs and never loads a bad file: the checkpoint's configuration must match this run's
(only a longer budget may change), unreadable or non-finite checkpoints are refused naming the file."""

import os

import pytest
import torch

import pinnkit
from pinnkit import PINNTrainer, TrainConfig
from pinnkit.equations import Heat
from pinnkit.meanfield_trainer import MeanFieldConfig, MeanFieldTrainer, RegressionEnergy
from pinnkit.nets import MeanFieldTwoLayer
from pinnkit.sampling import Sampler


def _pinn(tmp, kappa=0.1, adam=20, **cfg):
    p = Heat(dim=1, kappa=kappa)
    net = pinnkit.build_net({"width": 8, "depth": 2}, p, 0)
    config = TrainConfig(
        adam_steps=adam, lbfgs_steps=0, checkpoint_every=10, checkpoint_dir=str(tmp), progress=False, **cfg
    )
    return PINNTrainer(p, net, Sampler(p, n_domain=32, n_boundary=8, n_initial=8, seed=0), config)


def test_resume_refuses_another_run_and_names_what_differs(tmp_path):
    _pinn(tmp_path).train()
    with pytest.raises(ValueError, match=r"another run: problem\.kappa: 0\.1 there, 0\.2 here"):
        _pinn(tmp_path, kappa=0.2).load_checkpoint()
    with pytest.raises(ValueError, match=r"lr: 0\.001 there, 0\.003 here"):
        _pinn(tmp_path, lr=3e-3).load_checkpoint()
    with pytest.raises(ValueError, match=r"dtype: 'float32' there, 'float64' here"):
        _pinn(tmp_path, dtype="float64").load_checkpoint()
    with pytest.raises(ValueError, match="past this run's budget of 10 steps"):
        _pinn(tmp_path, adam=10).load_checkpoint()
    resumed = _pinn(tmp_path, adam=40).load_checkpoint()  # a longer budget continues the run
    assert resumed.step == 20
    assert resumed.train()["step"][-1] == 39


def test_meanfield_resume_refuses_another_seed(tmp_path):
    x = torch.linspace(-1, 1, 16, dtype=torch.float64)[:, None]

    def trainer(seed):
        model = MeanFieldTwoLayer(1, n=8, generator=torch.Generator().manual_seed(0)).double()
        cfg = MeanFieldConfig(dt=0.1, steps=10, alpha=1.0, seed=seed, checkpoint_every=5, checkpoint_dir=str(tmp_path))
        return MeanFieldTrainer(model, RegressionEnergy(x, x**2), cfg)

    trainer(0).train()
    with pytest.raises(ValueError, match="seed: 0 there, 1 here"):
        trainer(1).load_checkpoint()


@pytest.mark.parametrize("damage", ["truncated", "random", "empty"])
def test_unreadable_checkpoint_is_named_and_no_unsafe_load_is_suggested(tmp_path, damage):
    _pinn(tmp_path).train()
    path = os.path.join(tmp_path, "checkpoint.pt")
    data = open(path, "rb").read()
    with open(path, "wb") as fh:
        fh.write({"truncated": data[: len(data) // 2], "random": os.urandom(4096), "empty": b""}[damage])
    with pytest.raises(ValueError) as info:
        _pinn(tmp_path).load_checkpoint()
    msg = str(info.value)
    assert path in msg and "cannot be read" in msg and "weights_only" not in msg


def test_non_finite_checkpoint_is_refused(tmp_path):
    _pinn(tmp_path).train()
    path = os.path.join(tmp_path, "checkpoint.pt")
    state = torch.load(path, weights_only=True)
    for v in state["model"].values():
        v.fill_(float("nan"))
    torch.save(state, path)
    with pytest.raises(ValueError, match="non-finite weights"):
        _pinn(tmp_path).load_checkpoint()


def test_cli_resume_of_another_problem_is_refused_before_training(tmp_path, capsys):
    from pinnkit.cli import main

    out = str(tmp_path / "run")
    small = ["--steps", "20", "--lbfgs-steps", "0", "--n-domain", "32", "--quiet", "--out", out]
    assert main(["solve", "heat", *small]) == 0
    assert main(["solve", "burgers", *small, "--resume"]) != 0
    err = capsys.readouterr().err
    assert "belongs to another run: " in err and "problem.name: 'heat' there, 'burgers' here" in err
