"""One table of tuned presets: ``pinnkit.solve("kovasznay", ...)`` and ``pinnkit solve kovasznay`` resolve to
the same full configuration (the ``config`` of summary.json), and the benchmarks read the same table."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

import pinnkit
from pinnkit import presets
from pinnkit.cli import main
from pinnkit.sampling import RAD, Points
from pinnkit.training.stages import SSBFGS, Adam

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root holds benchmarks/

from benchmarks import ns_accuracy  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

# tiny budgets so both run in seconds; compile off (the preset's torch.compile alone takes ~15 s per run)
TINY = {"steps": 2, "lbfgs_steps": 2, "n_domain": 64, "n_boundary": 16, "track_every": 0, "compile": False}
TINY_CLI = [
    "--steps",
    "2",
    "--lbfgs-steps",
    "2",
    "--n-domain",
    "64",
    "--n-boundary",
    "16",
    "--track-every",
    "0",
    "--no-compile",
    "--quiet",
]


def _without_checkpoint_dir(config: dict) -> dict:
    config = copy.deepcopy(config)
    config["train"].pop("checkpoint_dir")
    return config


def test_python_and_cli_resolve_to_the_same_full_configuration(tmp_path) -> None:
    r = pinnkit.solve("kovasznay", progress=False, **TINY)
    out = tmp_path / "cli"
    assert main(["solve", "kovasznay", *TINY_CLI, "--out", str(out)]) == 0
    from_cli = json.loads((out / "summary.json").read_text())["config"]
    from_python = json.loads(json.dumps(r.config))  # as summary.json writes it
    assert _without_checkpoint_dir(from_python) == _without_checkpoint_dir(from_cli)
    # and that configuration is the Kovasznay preset with the overrides on top
    want = presets.resolve("kovasznay", TINY)
    assert from_cli["preset"] == "kovasznay"
    assert from_cli["net"] == want["net"] == {"kind": "mlp", "width": 30, "depth": 3, "activation": "tanh"}
    train = from_cli["train"]
    for key in ("method", "compile", "dtype", "quasi_newton", "lr", "lr_decay", "decay_every", "lbfgs_chunk"):
        assert train[key] == want[key], key
    assert (train["adam_steps"], train["lbfgs_steps"], train["compile"]) == (2, 2, False)
    assert (train["dtype"], train["method"], train["quasi_newton"]) == ("float64", "taylor", "ssbfgs")
    assert from_cli["stages"] == [s.as_dict() for s in presets.stages_of(want)]
    assert from_cli["sampler"]["n_domain"] == 64 and from_cli["sampler"]["n_boundary"] == 16


def test_a_problem_instance_takes_the_preset_of_its_name() -> None:
    from pinnkit.equations import Kovasznay

    assert presets.resolve(Kovasznay()) == presets.resolve("kovasznay")
    assert presets.resolve("burgers") == presets.entry("default")
    assert presets.resolve("heat") == presets.entry("heat") != presets.entry("default")
    assert presets.resolve("kovasznay", preset="default")["dtype"] == "float32"
    with pytest.raises(ValueError, match="unknown preset"):
        presets.resolve("heat", preset="kovasnay")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['widht'\]"):
        presets.resolve("heat", widht=3)


def test_benchmarks_read_the_same_table() -> None:
    args = ns_accuracy.parse_args([])
    for name in ns_accuracy.CASES:
        cfg = presets.resolve(name, ns_accuracy.solve_overrides(args))
        entry = presets.resolve(name)
        for key in (
            "net",
            "steps",
            "lbfgs_steps",
            "quasi_newton",
            "n_domain",
            "n_boundary",
            "n_initial",
            "dtype",
            "method",
            "compile",
            "lr",
            "lr_decay",
            "decay_every",
            "condition_weight",
        ):
            assert cfg[key] == entry[key], (name, key)
        assert cfg["net"]["width"] == 30  # the width the README's Navier–Stokes numbers were measured with
    wide = presets.resolve("cavity", ns_accuracy.solve_overrides(ns_accuracy.parse_args(["--width", "50"])))
    assert wide["net"] == {**presets.resolve("cavity")["net"], "width": 50}


def test_deeponet_run_reads_the_table() -> None:
    from pinnkit.operator_run import DEFAULT_STEPS, OperatorRunConfig, make_config

    d = presets.DEEPONET
    assert DEFAULT_STEPS == d["steps"]
    cfg = OperatorRunConfig()
    assert (cfg.lr, cfg.lr_decay, cfg.width, cfg.depth, cfg.q) == (d["lr"], 0.8, 100, 3, 100)
    assert make_config("data", 100_000, None, "o").lr_decay == d["lr_decay"] == 0.8


def test_typed_pieces_and_their_shortcuts_resolve_alike(tmp_path) -> None:
    """stages=/points= and the flat names give the same run; a clash or an unknown keyword is a clear error."""
    common = {"net": {"width": 8, "depth": 1}, "n_eval": 400, "progress": False, "dim": 1}
    typed = pinnkit.solve(
        "heat",
        stages=(Adam(steps=4, lr=3e-3, decay=0.9, every=200), SSBFGS(steps=2)),
        points=Points(n_domain=32, n_boundary=8, n_initial=8, resample_every=2, adaptive=RAD(every=2)),
        **common,
    )
    flat = pinnkit.solve(
        "heat",
        steps=4,
        lbfgs_steps=2,
        quasi_newton="ssbfgs",
        n_domain=32,
        n_boundary=8,
        n_initial=8,
        resample_every=2,
        adaptive="rad",
        **common,
    )
    assert (
        typed.config["stages"]
        == flat.config["stages"]
        == [
            {"stage": "adam", "steps": 4, "lr": 3e-3, "decay": 0.9, "every": 200},
            {"stage": "ssbfgs", "steps": 2, "chunk": 20},
        ]
    )
    assert typed.config["sampler"] == flat.config["sampler"]
    assert typed.history["loss"] == flat.history["loss"]
    json.dumps(typed.config)
    with pytest.raises(ValueError, match=r"unknown keyword\(s\) \['step'\].*options: .*'steps'.*parameters: "):
        pinnkit.solve("heat", step=3)
    with pytest.raises(ValueError, match="n_domain given both"):
        pinnkit.solve("heat", points=Points(n_domain=8), n_domain=16)
    with pytest.raises(ValueError, match=r"do not also give \['lr'\]"):
        pinnkit.solve("heat", stages=(Adam(steps=1),), lr=1e-3)
    with pytest.raises(ValueError, match="resample_every"):
        pinnkit.solve("heat", points=Points(adaptive=RAD(every=0)))
