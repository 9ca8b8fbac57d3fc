"""Command line: list, solve (writes its outputs), clear errors with exit code 2."""

import json
import os
import subprocess
import sys

from pinnkit.cli import main


def test_list_shows_heat_and_parameters(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "heat:" in out and "--kappa" in out and "--dim" in out


def test_solve_writes_outputs(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(
        [
            "solve",
            "heat",
            "--dim",
            "2",
            "--steps",
            "20",
            "--lbfgs-steps",
            "10",
            "--width",
            "8",
            "--depth",
            "1",
            "--n-domain",
            "64",
            "--out",
            str(out),
            "--quiet",
            "--track-every",
            "10",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "relative_l2" in text
    summary = json.load(open(out / "summary.json"))
    assert summary["config"]["problem"]["dim"] == 2
    for f in ("solution.png", "loss_history.png", "history.json", "checkpoints/checkpoint.pt"):
        assert os.path.exists(out / f), f
    # resume: nothing left to do, same history length
    rc = main(
        [
            "solve",
            "heat",
            "--dim",
            "2",
            "--steps",
            "20",
            "--lbfgs-steps",
            "10",
            "--width",
            "8",
            "--depth",
            "1",
            "--n-domain",
            "64",
            "--out",
            str(out),
            "--quiet",
            "--resume",
        ]
    )
    assert rc == 0
    assert len(json.load(open(out / "history.json"))["step"]) == summary["steps"]


def test_bad_parameter_is_a_clear_error(capsys):
    assert main(["solve", "heat", "--kappa", "-1", "--quiet"]) == 2
    assert "kappa must be a finite number in (0.0, 10000.0]" in capsys.readouterr().err
    assert main(["solve", "heat", "--viscosity", "1", "--quiet"]) == 2
    assert "unknown option --viscosity" in capsys.readouterr().err


def test_console_script_entry_point():
    r = subprocess.run([sys.executable, "-m", "pinnkit.cli", "list"], capture_output=True, text=True)
    assert r.returncode == 0 and "heat" in r.stdout


def test_solve_options_left_out_take_the_preset_and_given_ones_reach_solve(tmp_path, capsys):
    from pinnkit import presets

    out = tmp_path / "run"
    rc = main(
        [
            "solve",
            "heat",
            "--dim",
            "1",
            "--steps",
            "6",
            "--lbfgs-steps",
            "0",
            "--width",
            "8",
            "--n-domain",
            "32",
            "--lr-decay",
            "0.5",
            "--adaptive",
            "rad",
            "--resample-every",
            "3",
            "--grad-penalty",
            "0.01",
            "--out",
            str(out),
            "--quiet",
            "--track-every",
            "0",
        ]
    )
    assert rc == 0
    cfg = json.load(open(out / "summary.json"))["config"]
    d = presets.entry("heat")  # heat has its own preset (pinnkit.presets.PRESETS["heat"])
    assert cfg["preset"] == "heat"
    assert cfg["net"] == {**d["net"], "width": 8}
    assert (cfg["train"]["lr_decay"], cfg["train"]["grad_penalty"], cfg["train"]["lr"]) == (0.5, 0.01, d["lr"])
    assert cfg["sampler"]["adaptive"] == {"strategy": "rad", "every": 3, "pool_factor": 10, "k": 1.0, "c": 1.0}
    assert cfg["stages"][0] == {"stage": "adam", "steps": 6, "lr": d["lr"], "decay": 0.5, "every": d["decay_every"]}
    assert (cfg["sampler"]["n_boundary"], cfg["train"]["dtype"]) == (d["n_boundary"], d["dtype"])


def test_solve_help_lists_the_presets(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "kovasznay: width=30, depth=3" in text and "quasi_newton=ssbfgs" in text


def test_solve_certify_prints_certified_numbers_that_hold(tmp_path, capsys):
    out = tmp_path / "cert"
    argv = ["solve", "heat", "--steps", "150", "--lbfgs-steps", "20", "--width", "8", "--depth", "1"]
    rc = main(argv + ["--n-domain", "128", "--out", str(out), "--quiet", "--certify"])
    assert rc == 0
    text = capsys.readouterr().out
    assert text.count("certified (") >= 3 and "sup error (maximum principle)" in text
    numbers = {c["name"]: c for c in json.load(open(out / "certified.json"))}
    summary = json.load(open(out / "summary.json"))
    assert all(c["is_bound"] for c in numbers.values())
    # the proved sup-error bound is above the measured max error on the held-out grid
    assert numbers["‖u_θ − u‖_∞"]["upper"] >= summary["errors"]["max_abs_error"]
