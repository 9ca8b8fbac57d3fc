"""Issue 13 regressions on the solve path (API and CLI): bad inputs refused before any work with the parameter
named; nothing lost (a fresh run does not replace a checkpoint, a non-finite result does not replace good
files, an unwritable output is found before training); divergence and Ctrl-C end cleanly."""

import json
import os

import numpy as np
import pytest
import torch

import pinnkit
from pinnkit.cli import EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED, main
from pinnkit.training.divergence import InitialLossNotFinite

TINY = dict(steps=5, lbfgs_steps=0, n_domain=32, n_boundary=16, n_initial=16, n_eval=64, progress=False)
TINY_NET = {"width": 8, "depth": 1}
CLI_TINY = ["--steps", "5", "--lbfgs-steps", "0", "--width", "8", "--depth", "1", "--n-domain", "32", "--quiet"]


def _no_training(monkeypatch):
    """Make any training step fail the test: a refusal must come before it."""

    def boom(self, *a, **k):
        raise AssertionError("training started")

    monkeypatch.setattr("pinnkit.training.loop.TrainingLoop.train", boom)


# ---------------------------------------------------------------------------- API types (defect 15)
@pytest.mark.parametrize("device", [torch.device("cpu"), None, "cpu"])
def test_device_as_torch_device_or_none_is_cpu(device):
    r = pinnkit.solve("heat", net=TINY_NET, device=device, **TINY)
    assert r.config["train"]["device"] == "cpu" and np.isfinite(r.relative_l2)


def test_numpy_scalars_are_numbers_and_give_the_same_run():
    a = pinnkit.solve("heat", net=TINY_NET, seed=1, **{**TINY, "steps": 5}, lr=0.01)
    b = pinnkit.solve("heat", net=TINY_NET, seed=np.int64(1), **{**TINY, "steps": np.int64(5)}, lr=np.float64(0.01))
    assert a.history["loss"] == b.history["loss"]
    pinnkit.solve("heat", net=TINY_NET, **TINY, lr=np.float32(0.01))  # float32 scalars pass too


def test_net_given_as_a_kind_name():
    r = pinnkit.solve("heat", net="resmlp", **{**TINY, "steps": 2})
    assert r.config["net"]["kind"] == "resmlp"


@pytest.mark.parametrize(
    "kw, name",
    [
        (dict(grad_penalty=True), "grad_penalty"),
        (dict(condition_weight=True), "condition_weight"),
        (dict(n_domain=True), "n_domain"),
        (dict(net={"fourier_features": 2.7}), "fourier_features"),
        (dict(net={"width": float("inf")}), "width"),
        (dict(net={"depth": 0}), "depth"),
        (dict(net={"kind": "meanfield", "widht": 3}), "widht"),
        (dict(net={"activation": "relu6x"}), "activation"),
        (dict(net={"fourier_features": 4, "fourier_sigma": float("inf")}), "fourier_sigma"),
        (dict(net=3), "net"),
        (dict(sampling="grid"), "sampling"),
        (dict(dtype="float16"), "dtype"),
        (dict(device="foo"), "device"),
        (dict(device="mps"), "device"),
        (dict(device="CUDA"), "device"),
        (dict(device="meta"), "device"),
        (dict(steps=0, lbfgs_steps=0), "steps"),
        (dict(lr=1e30), "lr"),
        (dict(lr=float("nan")), "lr"),
        (dict(weights={"nope": 1.0}), "weights"),
        (dict(hard_constraints=("foo",)), "hard_constraints"),
        (dict(compile=1), "compile"),
        (dict(resume=1), "resume"),
        (dict(kappa=1e300), "kappa"),
        (dict(kappa=float("inf")), "kappa"),
        (dict(callbacks=[object()]), "callbacks[0]"),
        (dict(progress="yes"), "progress"),
        (dict(resume=True), "checkpoint_dir"),
    ],
)
def test_bad_option_is_refused_before_training_naming_it(monkeypatch, kw, name):
    _no_training(monkeypatch)
    args = {**TINY, "net": TINY_NET, **kw}
    with pytest.raises(ValueError, match=name.replace("[", r"\[").replace("]", r"\]")):
        pinnkit.solve("heat", **args)


def test_seed_past_the_generators_range_is_named(monkeypatch):
    _no_training(monkeypatch)
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 9223372036854775807\]"):
        pinnkit.solve("heat", seed=2**70, **TINY)


# ---------------------------------------------------------------------------- sizes (defect 10)
@pytest.mark.parametrize("key", ["n_domain", "n_boundary", "n_eval"])
def test_sizes_that_cannot_fit_are_refused_with_an_estimate(monkeypatch, key):
    _no_training(monkeypatch)
    with pytest.raises(ValueError, match=rf"{key}=\d+ would make this solve allocate about .* \(estimate\)"):
        pinnkit.solve("heat", **{**TINY, key: 10**9 - 1})


def test_burgers_quadrature_nodes_are_capped_before_training(monkeypatch):
    _no_training(monkeypatch)
    with pytest.raises(ValueError, match=r"n_nodes must be an integer in \[1, 10000\]"):
        pinnkit.solve("burgers", n_nodes=10**12, **TINY)


# ---------------------------------------------------------------------------- extreme values (defect 18)
def test_initial_loss_that_overflows_is_a_bad_input_not_a_divergence():
    """κ within its range but a net whose outputs overflow float32 at the start: refused at step 0, naming
    the terms, before any optimiser step (a ValueError, so the CLI exits 2)."""

    class Huge(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.tensor([1e30]))

        def forward(self, x):
            return (x.sum(-1, keepdim=True) * self.w) ** 2

    with pytest.raises(InitialLossNotFinite, match="at the initial parameters, before any training step"):
        pinnkit.solve("heat", net=Huge(), **TINY)


def test_rising_loss_warns():
    with pytest.warns(RuntimeWarning, match="the loss rose from"):
        pinnkit.solve("heat", net=TINY_NET, optimizer="sgd", lr=1.5, **{**TINY, "steps": 3}, dtype="float64")


# ---------------------------------------------------------------------------- outputs (defects 3, 4, 6)
def test_cli_out_under_a_file_is_refused_before_training(tmp_path, monkeypatch, capsys):
    _no_training(monkeypatch)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["solve", "heat", *CLI_TINY, "--out", str(blocker / "run")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "--out" in err and "is a file" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only permissions")
def test_cli_read_only_out_is_refused_before_training(tmp_path, monkeypatch, capsys):  # pragma: no cover
    _no_training(monkeypatch)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["solve", "heat", *CLI_TINY, "--out", str(ro / "run")]) == EXIT_BAD_INPUT
        assert "cannot be written" in capsys.readouterr().err
    finally:
        ro.chmod(0o700)


def test_rerun_without_resume_does_not_replace_a_checkpoint(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["solve", "heat", *CLI_TINY, "--out", out]) == 0
    ckpt = os.path.join(out, "checkpoints", "checkpoint.pt")
    before = open(ckpt, "rb").read()
    capsys.readouterr()
    assert main(["solve", "heat", *CLI_TINY, "--out", out]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "--resume" in err and "--overwrite" in err
    assert open(ckpt, "rb").read() == before
    assert main(["solve", "heat", *CLI_TINY, "--out", out, "--overwrite"]) == 0
    assert main(["solve", "heat", *CLI_TINY[:1], "10", *CLI_TINY[2:], "--out", out, "--resume"]) == 0
    steps = torch.load(ckpt, weights_only=True)["step"]
    assert steps == 10


def test_non_finite_result_never_replaces_good_results(tmp_path):
    r = pinnkit.solve("heat", net=TINY_NET, **TINY)
    out = str(tmp_path / "run")
    r.save(out, plots=False)
    good = open(os.path.join(out, "summary.json")).read()
    with torch.no_grad():
        next(r.model.parameters()).fill_(float("nan"))
    assert not r.is_finite()
    with pytest.raises(ValueError, match="not finite.*kept, not overwritten"):
        r.save(out, plots=False)
    assert open(os.path.join(out, "summary.json")).read() == good
    assert np.isfinite(json.loads(good)["errors"]["relative_l2"])


# ---------------------------------------------------------------------------- CLI exits (defects 9, 12, 14)
def test_cli_divergence_exits_3_naming_only_files_that_exist(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["solve", "heat", "--optimizer", "sgd", "--lr", "10", "--steps", "50", "--lbfgs-steps", "0", "--quiet"]
    assert main([*args, "--out", str(out)]) == EXIT_DIVERGED
    err = capsys.readouterr().err
    assert "training diverged at step" in err and "Traceback" not in err
    assert "no checkpoint file was written" in err and not (out / "checkpoints" / "checkpoint.pt").exists()


@pytest.mark.parametrize(
    "extra, name",
    [
        (["--threads", "-1"], "--threads"),
        (["--device", "foo"], "device"),
        (["--device", "mps"], "device"),
        (["--device", "CUDA"], "device"),
        (["--device", "meta"], "device"),
        (["--seed", str(2**70)], "--seed"),
        (["--steps", "0", "--lbfgs-steps", "0"], "steps"),
        (["--kappa", "1e300"], "kappa"),
        (["--fourier-features", "4", "--fourier-sigma", "inf"], "fourier_sigma"),
        (["--n-domain", "100000000"], "n_domain"),
        (["--minutes", "-1"], "--minutes"),
    ],
)
def test_cli_bad_input_exits_2_naming_it(tmp_path, monkeypatch, capsys, extra, name):
    _no_training(monkeypatch)
    assert main(["solve", "heat", *CLI_TINY, *extra, "--out", str(tmp_path / "r")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("pinnkit: error: ") and name in err and "Traceback" not in err


def test_cli_ctrl_c_is_one_line_on_how_to_resume(tmp_path, monkeypatch, capsys):
    def interrupt(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("pinnkit.training.loop.TrainingLoop.train", interrupt)
    assert main(["solve", "heat", *CLI_TINY, "--out", str(tmp_path / "r")]) == EXIT_INTERRUPTED
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--resume" in err[0]


def test_resume_with_other_sampler_settings_is_refused_naming_them(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["solve", "heat", *CLI_TINY, "--out", out]) == 0
    capsys.readouterr()
    assert main(["solve", "heat", *CLI_TINY, "--n-domain", "48", "--sampling", "lhs", "--out", out, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "belongs to another run" in err and "sampler.n_domain: 32 there, 48 here" in err and "sampler.method" in err
