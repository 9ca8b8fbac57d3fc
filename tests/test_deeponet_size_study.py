"""DeepONet size study (pinnkit.studies.deeponet_size, ``pinnkit study deeponet-size``): a tiny grid writes its
outputs and shows the measured risk falling with q and rising with n; an interrupted study resumes without
retraining finished cells and ends with the same summary; bad settings fail before any work; the CLI prints
its table.

Tiny setting: q ∈ {1, 2, 4}, n_f ∈ {4, 16} functions × 16 points (n = 64, 256), σ = 0.1, 300 full-batch Adam
steps, one thread.  Measured (seeds 0–4, 300 and 500 steps; 10 runs): risk(q=1)/risk(q=4) ≥ 12 for both n,
risk strictly decreasing in q, and at q = 2 and q = 4 the risk on n = 256 is ≥ 1.6× the risk on n = 64
(seed 0, 300 steps: n=64: 1.57e-1, 3.33e-2, 4.15e-3; n=256: 1.70e-1, 6.94e-2, 9.42e-3).  The assertions
below keep a margin below those factors."""

from __future__ import annotations

import json
import math
import os

import pytest

from pinnkit.cli import build_parser, main
from pinnkit.studies import deeponet_size
from pinnkit.studies.deeponet_size import SizeStudyConfig, run_size_study

TINY = dict(qs=[1, 2, 4], n_functions=[4, 16], points=16, noise=0.1, steps=300, seed=0, threads=1)


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("PINNKIT_CACHE", str(tmp_path_factory.getbasetemp() / "pinnkit-cache"))


@pytest.fixture
def count_trainings(monkeypatch):
    """Counts calls of the study's one-cell training, optionally failing at call number ``fail_at``."""
    calls = []
    real = deeponet_size.train_risk
    state = {"fail_at": None}

    def counted(sub, q, steps, seed):
        calls.append((sub.inputs.shape[0], q))
        if state["fail_at"] is not None and len(calls) == state["fail_at"]:
            raise KeyboardInterrupt("simulated interruption")
        return real(sub, q, steps, seed)

    monkeypatch.setattr(deeponet_size, "train_risk", counted)
    return calls, state


def test_study_writes_outputs_risk_falls_with_q_and_grows_with_n(tmp_path, count_trainings):
    calls, _ = count_trainings
    s = run_size_study(SizeStudyConfig(out=str(tmp_path), **TINY), progress=False)
    assert len(calls) == 6 and s["trained_cells"] == [[4, 1], [4, 2], [4, 4], [16, 1], [16, 2], [16, 4]]
    for f in ("summary.json", "cells.json", "risk_vs_q.png", "qmin_vs_n.png"):
        assert os.path.getsize(tmp_path / f) > 0, f
    on_disk = json.load(open(tmp_path / "summary.json"))
    assert on_disk == json.loads(json.dumps({k: v for k, v in s.items() if k != "trained_cells"}))
    assert on_disk["config"]["qs"] == [1, 2, 4] and on_disk["seed"] == 0 and "torch" in on_disk["versions"]
    # the Mukherjee-Roy number is an ESTIMATE, never a bound
    assert on_disk["is_bound"] is False and on_disk["estimated"] is True and on_disk["estimate"]["is_bound"] is False
    assert not any("bound" in k and k != "is_bound" for k in on_disk)
    r = {int(k): v for k, v in s["risks"].items()}
    assert all(len(v) == 3 and all(math.isfinite(x) and x > 0 for x in v) for v in r.values())
    for n_f in (4, 16):  # measured factors >= 12 (q=1 vs 4), >= 1.6 per doubling of q: risk falls with q
        assert r[n_f][0] > 5 * r[n_f][2], r
        assert r[n_f][0] > r[n_f][1] > r[n_f][2], r
    for i in (1, 2):  # q = 2, 4: the same q fits 4x more noisy samples worse (measured >= 1.6x)
        assert r[16][i] > 1.25 * r[4][i], r
    # q_min: smallest q below σ²/2 (None: none did), non-decreasing in n; estimate C n^{1/4} calibrated on it
    level = 0.1**2 / 2
    assert s["level"] == pytest.approx(level)
    for n_f in (4, 16):
        below = [q for q, x in zip([1, 2, 4], r[n_f]) if x < level]
        assert s["measured_q_min"][str(n_f)] == (below[0] if below else None)
    q64, q256 = (s["measured_q_min"][k] for k in ("4", "16"))
    assert q256 is None or (q64 is not None and q256 >= q64)
    est = s["estimated_q_min_real"]
    if q64 is not None:
        assert s["constant_calibrated_on_n"] == 64 and est["4"] == pytest.approx(q64)
    assert est["16"] == pytest.approx(est["4"] * 4**0.25)  # n^{1/4}: 4x the samples, √2 the q


def test_interrupted_study_resumes_without_retraining(tmp_path, count_trainings):
    calls, state = count_trainings
    cfg = dict(out=str(tmp_path), **TINY)
    state["fail_at"] = 4  # dies while training the 4th cell (n_f = 16, q = 1)
    with pytest.raises(KeyboardInterrupt):
        run_size_study(SizeStudyConfig(**cfg), progress=False)
    stored = json.load(open(tmp_path / "cells.json"))["cells"]
    assert [(c["n_functions"], c["q"]) for c in stored] == [(4, 1), (4, 2), (4, 4)]
    assert not (tmp_path / "summary.json").exists()
    state["fail_at"] = None
    calls.clear()
    first = run_size_study(SizeStudyConfig(**cfg), progress=False)
    assert calls == [(16, 1), (16, 2), (16, 4)] and first["trained_cells"] == [[16, 1], [16, 2], [16, 4]]
    calls.clear()
    again = run_size_study(SizeStudyConfig(**cfg), progress=False)
    assert calls == [] and again["trained_cells"] == []
    drop = ("seconds", "trained_cells")
    assert {k: v for k, v in again.items() if k not in drop} == {k: v for k, v in first.items() if k not in drop}
    # a grid that adds q = 8 trains only the new cells; other settings (steps) retrain everything
    calls.clear()
    run_size_study(SizeStudyConfig(**{**cfg, "qs": [1, 2, 4, 8]}), progress=False)
    assert calls == [(4, 8), (16, 8)]
    calls.clear()
    run_size_study(SizeStudyConfig(**{**cfg, "steps": 5, "qs": [1], "n_functions": [4]}), progress=False)
    assert calls == [(4, 1)]
    calls.clear()
    run_size_study(SizeStudyConfig(**{**cfg, "resume": False, "qs": [1], "n_functions": [4]}), progress=False)
    assert calls == [(4, 1)]


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("qs", [0, 2], r"qs must be an integer in \[1, 4096\], got 0"),
        ("qs", [], "qs must be a non-empty list"),
        ("qs", [2, 2], "qs must not repeat"),
        ("n_functions", [4, 0], r"n_functions must be an integer in \[1, 100000\], got 0"),
        ("points", 0, r"points must be an integer in \[1, 693\]"),
        ("points", 694, r"points must be an integer in \[1, 693\]"),
        ("noise", 0.0, "noise must be a finite number > 0"),
        ("noise", float("nan"), "noise must be a finite number > 0"),
        ("steps", 0, r"steps must be an integer in \[1, ∞\]"),
        ("seed", -1, r"seed must be an integer in \[0, 4294967295\]"),
        ("threads", -1, r"threads must be an integer in \[0, 1024\]"),
        ("resume", "yes", "resume must be True or False"),
    ],
)
def test_bad_settings_fail_before_any_work(tmp_path, monkeypatch, field, value, message):
    def no_work(*args, **kwargs):
        raise AssertionError("data generation or training started")

    monkeypatch.setattr(deeponet_size, "heat_data", no_work)
    monkeypatch.setattr(deeponet_size, "train_risk", no_work)
    out = tmp_path / "study"
    with pytest.raises(ValueError, match=message):
        run_size_study(SizeStudyConfig(**{**TINY, "out": str(out), field: value}), progress=False)
    assert not out.exists()


def test_cli_deeponet_size_prints_table(tmp_path, capsys):
    out = tmp_path / "cli"
    rc = main(
        [
            "study",
            "deeponet-size",
            "--qs",
            "4",
            "2",
            "1",
            "--n-functions",
            "4",
            "16",
            "--steps",
            "300",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:3] == ["n_f", "n", "q_min"])
    assert "q_min EST" in lines[head] and "risk q=1" in lines[head] and "risk q=4" in lines[head]
    summary = json.load(open(out / "summary.json"))
    for row, n_f in zip(lines[head + 1 : head + 3], ("4", "16")):
        cols = row.split()
        assert cols[:2] == [n_f, str(summary["n"][n_f])]
        meas = summary["measured_q_min"][n_f]
        assert cols[2] == ("none" if meas is None else str(meas))
        assert cols[3] == str(summary["estimated_q_min"][n_f])
        assert [float(x) for x in cols[5:]] == pytest.approx(summary["risks"][n_f], rel=1e-3)
    assert "ESTIMATE (not a bound)" in text and "trained 6 of 6 cells" in text
    # a re-run reuses every cell
    assert (
        main(
            [
                "study",
                "deeponet-size",
                "--qs",
                "1",
                "2",
                "4",
                "--n-functions",
                "4",
                "16",
                "--steps",
                "300",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    assert "trained 0 of 6 cells (6 reused)" in capsys.readouterr().out


def test_cli_options_of_one_kind_are_rejected_for_the_other(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["study", "deeponet-size", "--dim", "2", "--out", str(tmp_path / "a")])
    assert (
        exc.value.code == 2 and "unrecognized arguments for 'study deeponet-size': --dim 2" in capsys.readouterr().err
    )
    with pytest.raises(SystemExit) as exc:
        main(["study", "blowup", "--qs", "1", "2", "--out", str(tmp_path / "b")])
    assert exc.value.code == 2 and "unrecognized arguments for 'study blowup': --qs 1 2" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    assert main(["study", "deeponet-size", "--noise", "-0.1", "--out", str(tmp_path / "c")]) == 2
    assert "noise must be a finite number > 0" in capsys.readouterr().err and not (tmp_path / "c").exists()
    # blowup's options parse as before the second kind existed
    args = build_parser().parse_args(
        [
            "study",
            "blowup",
            "--dim",
            "2",
            "--widths",
            "8",
            "--steps",
            "10",
            "--lbfgs-steps",
            "5",
            "--workers",
            "1",
            "--quiet",
        ]
    )
    assert (
        args.kind,
        args.dim,
        args.widths,
        args.steps,
        args.lbfgs_steps,
        args.workers,
        args.quiet,
        args.protocol,
        args.deltas,
        args.grad_penalties,
    ) == ("blowup", 2, [8], 10, 5, 1, True, "fast", None, [0.0, 1e-3])
