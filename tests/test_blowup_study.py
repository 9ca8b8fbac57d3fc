"""Blow-up study: a tiny sweep runs end to end, writes its table, plots and correlations, resumes without
retraining, and keeps the tight estimate above the true error."""

import json
import os

import pytest

from pinnkit.studies.blowup import PAPER_DELTAS, StudyConfig, run_study


def test_paper_grids():
    assert PAPER_DELTAS[1][0] == 0.95 and PAPER_DELTAS[1][-1] == 0.998 and len(PAPER_DELTAS[1]) == 13
    assert len(PAPER_DELTAS[2]) == 30
    assert PAPER_DELTAS[2][0] == pytest.approx(0.107, abs=1e-3) and PAPER_DELTAS[2][-1] == pytest.approx(
        0.687, abs=1e-3
    )


def test_tiny_sweep_end_to_end_and_resume(tmp_path):
    cfg = StudyConfig(
        dim=1,
        deltas=[0.9, 0.95, 0.98],
        widths=[8],
        grad_penalties=[0.0],
        steps=150,
        lbfgs_steps=20,
        n_theory_samples=2048,
        workers=1,
        out=str(tmp_path),
    )
    out = run_study(cfg, progress=False)
    assert len(out["records"]) == 3
    for r in out["records"]:
        a = r["analysis"]
        assert a["tight/estimate"] >= a["tight/true"] > 0
        assert a["certified/bound"] >= a["tight/true"] and a["certified/boxes"] > 0  # proved, and it holds
        assert a["theorem1/log_rhs"] >= a["theorem1/log_lhs"]
        assert a["theorem2/log_rhs"] >= a["theorem2/log_lhs"]
        # the theorems with every term certified: above the error, near the (Monte Carlo) estimated right-hand
        # side, proved here
        assert a["certified_theorem1/log_rhs"] >= max(a["theorem1/log_lhs"], a["theorem1/log_rhs"] - 0.05)
        assert a["certified_theorem1/is_bound"] == 1.0
        assert a["certified_theorem2/log_rhs_consistent"] >= a["theorem2_consistent/log_lhs"]
        assert a["certified_theorem2/is_bound_consistent"] == 1.0
    g = out["summary"]["width=8, grad_penalty=0"]
    assert g["certified_always_valid"] and g["certified_ratio_min"] >= 1.0 and g["certified_seconds_total"] > 0
    assert g["certified_theorem1_proved"] == 3 and g["certified_theorem1_excess_min"] >= -0.05
    assert g["tight_always_valid"] and g["theorem1"]["n"] == 3 and -1 <= g["theorem1"]["spearman"] <= 1
    for f in (
        "table.csv",
        "table.json",
        "summary.json",
        "log_rhs_vs_log_lhs.png",
        "error_and_estimate_vs_distance.png",
    ):
        assert os.path.getsize(tmp_path / f) > 0, f
    rows = json.load(open(tmp_path / "table.json"))
    assert {"delta", "relative_l2", "tight/estimate", "theorem1/log_rhs"} <= set(rows[0])
    # resume: records exist, nothing is retrained
    job_files = sorted((tmp_path / "jobs").iterdir())
    stamps = [f.stat().st_mtime_ns for f in job_files]
    again = run_study(cfg, progress=False)
    assert [f.stat().st_mtime_ns for f in job_files] == stamps
    assert [r["relative_l2"] for r in again["records"]] == [r["relative_l2"] for r in out["records"]]


def test_study_rejects_a_window_at_blowup_before_training(tmp_path):
    with pytest.raises(ValueError, match="delta"):
        run_study(StudyConfig(dim=1, deltas=[0.95, 1.0], out=str(tmp_path)), progress=False)
    assert not (tmp_path / "jobs").exists()
    with pytest.raises(ValueError, match="protocol"):
        StudyConfig(protocol="slow").validate()
