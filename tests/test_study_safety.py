"""Safety of the studies' bookkeeping (issue 13): a job's record is reused only by a job with exactly the same
settings, and only when it checks out (anything else is moved aside and the job reruns); workers die with the
study's main process and a running job is locked; a clean or interrupted run prints no multiprocessing noise;
the pool is capped (none at all when every job is reused); bad settings fail before any work.

Tiny jobs: one or two δ, width 8, 30 Adam steps, no L-BFGS, 1000 theory samples (the minimum)."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from pinnkit.studies import blowup, deeponet_size
from pinnkit.studies.blowup import StudyConfig, job_name, run_study, summarise
from pinnkit.studies.deeponet_size import SizeStudyConfig, run_size_study
from pinnkit.studies.jobs import (
    JobBusy,
    JobLock,
    StudyInterrupted,
    _start_time,
    load_record,
    pid_alive,
    write_record,
)

TINY = dict(dim=1, widths=[8], grad_penalties=[0.0], steps=30, lbfgs_steps=0, n_theory_samples=1000, workers=1)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cfg(out, **kw) -> StudyConfig:
    return StudyConfig(**{**TINY, "deltas": [0.9], "out": str(out), **kw})


def record_file(out, **kw) -> str:
    c = cfg(out, **kw).validate()
    return os.path.join(str(out), "jobs", job_name(c.jobs()[0]) + ".json")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished one-job study (copied by the tests that edit it)."""
    out = tmp_path_factory.mktemp("finished")
    res = run_study(cfg(out), progress=False, log=lambda s: None)
    return out, res


def copy_of(finished, tmp_path):
    out = tmp_path / "study"
    shutil.copytree(finished[0], out)
    return out


# ---------------------------------------------------------------- 1: stale results
def test_a_rerun_with_other_settings_trains_again_and_an_identical_one_reuses(finished, tmp_path):
    out = copy_of(finished, tmp_path)
    first = finished[1]
    assert first["trained"] and first["reused"] == []
    lines = []
    again = run_study(cfg(out), progress=False, log=lines.append)
    assert again["reused"] == first["trained"] and again["trained"] == []
    assert lines == [f"reused 1 of 1 jobs from earlier runs in {out} (same settings)"]
    assert again["records"] == first["records"]
    for kw in ({"steps": 31}, {"protocol": "paper"}, {"n_theory_samples": 1100}, {"lbfgs_steps": 2}):
        lines.clear()
        other = run_study(cfg(out, **kw), progress=False, log=lines.append)
        assert other["reused"] == [] and len(other["trained"]) == 1 and lines == [], kw
        rec = other["records"][0]
        assert rec["job"] != first["records"][0]["job"], kw
        for k, v in kw.items():
            assert rec[k] == v
    assert other["records"][0]["job"]["train"]["lbfgs_steps"] == 2
    names = sorted(os.listdir(out / "jobs"))
    assert len(names) == 5 and len(os.listdir(out / "checkpoints")) == 5
    assert len({n.rsplit("_", 1)[1] for n in names}) == 5  # a 12-hex fingerprint each
    assert all(len(n.rsplit("_", 1)[1]) == len("0123456789ab.json") for n in names)
    # the paper protocol's record holds its own resolved settings
    paper = run_study(cfg(out, protocol="paper"), progress=False, log=lines.append)
    assert paper["records"][0]["job"]["train"]["n_domain"] == 20_000 and paper["trained"] == []


# ---------------------------------------------------------------- 8: records are checked on load
def _edit(path, fn):
    with open(path) as fh:
        rec = json.load(fh)
    rec = fn(rec)
    with open(path, "w") as fh:
        json.dump(rec, fh)


def _other_job(rec):  # a sound record (its digest recomputed) made for another job
    from pinnkit.studies.jobs import _digest

    body = {k: v for k, v in rec.items() if k != "digest"}
    body["job"] = {**body["job"], "n_theory_samples": 2000}
    return {**body, "digest": _digest(body)}


@pytest.mark.parametrize(
    "damage,reason",
    [
        (lambda p: open(p, "w").write("{}"), "lacks the keys"),
        (lambda p: open(p, "w").write("[1, 2]"), "not a JSON object"),
        (lambda p: open(p, "r+").truncate(os.path.getsize(p) // 2), "cannot be read as JSON"),
        (lambda p: open(p, "wb").write(b"\xff\xfe\x00garbage"), "cannot be read as JSON"),
        (lambda p: _edit(p, lambda r: {**r, "delta": 0.95}), "digest"),
        (lambda p: _edit(p, lambda r: {**r, "relative_l2": 1e-9}), "digest"),
        (lambda p: _edit(p, lambda r: {**r, "analysis": {**r["analysis"], "tight/true": float("nan")}}), "digest"),
        (lambda p: _edit(p, _other_job), "made for another job"),
    ],
)
def test_a_bad_record_is_moved_aside_named_and_its_job_rerun(finished, tmp_path, damage, reason):
    out = copy_of(finished, tmp_path)
    path = record_file(out)
    damage(path)
    lines = []
    with pytest.warns(UserWarning, match=reason) as got:
        res = run_study(cfg(out), progress=False, log=lines.append)
    msg = str(got[0].message)
    assert path in msg and path + ".bad" in msg
    assert os.path.exists(path + ".bad") and os.path.exists(path)  # nothing deleted
    assert len(res["trained"]) == 1 and res["reused"] == [] and lines == []

    # the rerun reproduces the original numbers bit for bit (same seed), one row
    def numbers(r):  # everything but wall times
        out = {k: v for k, v in r.items() if k not in ("train_s", "analysis_s", "digest")}
        out["analysis"] = {k: v for k, v in r["analysis"].items() if not k.endswith("/seconds")}
        return out

    assert numbers(res["records"][0]) == numbers(finished[1]["records"][0])
    assert len(json.load(open(out / "table.json"))) == 1


def test_nan_values_are_kept_but_left_out_of_the_summary(tmp_path):
    nan = float("nan")

    def rec(delta, est, true, ratio, l2, log_lhs):
        a = {
            "theorem1/log_lhs": log_lhs,
            "theorem1/log_rhs": log_lhs + 1,
            "tight/estimate": est,
            "tight/true": true,
            "tight/ratio_l2": ratio,
        }
        return {"width": 8, "grad_penalty": 0.0, "delta": delta, "relative_l2": l2, "analysis": a}

    records = [
        rec(0.9, 2.0, 1.0, 1.4, 0.1, -3.0),
        rec(0.92, 3.0, 1.5, 1.5, 0.2, -2.0),
        rec(0.94, 5.0, 2.0, 1.6, 0.3, -1.0),
        rec(0.96, nan, 2.5, nan, nan, nan),  # diverged
    ]
    g = summarise(records)["width=8, grad_penalty=0"]
    assert g["tight_always_valid"] is True
    assert g["mean_relative_l2"] == pytest.approx(0.2)
    assert (g["tight_ratio_min"], g["tight_ratio_max"]) == (1.4, 1.6)
    assert g["theorem1"]["n"] == 3 and g["tight"]["n"] == 3 and g["n_deltas"] == 4
    # NaN survives a record's round trip and its digest
    path = str(tmp_path / "r.json")
    write_record(path, {"x": nan, "y": [float("inf"), 1.0]})
    back, problem = load_record(path, {})
    assert problem is None and math.isnan(back["x"]) and back["y"] == [math.inf, 1.0]


# ---------------------------------------------------------------- 13: the pool is capped
def test_a_finished_study_rerun_with_64_workers_starts_no_pool(finished, tmp_path, monkeypatch):
    out = copy_of(finished, tmp_path)

    def no_pool(n):
        raise AssertionError(f"a pool of {n} workers was started")

    monkeypatch.setattr(blowup, "_make_pool", no_pool)
    lines = []
    res = run_study(cfg(out, workers=64), progress=False, log=lines.append)
    assert res["records"] == finished[1]["records"] and res["trained"] == [] and len(lines) == 1
    # jobs left to run: the pool has at most one worker per job and per core
    started = []

    def count_pool(n):
        started.append(n)
        raise KeyboardInterrupt

    monkeypatch.setattr(blowup, "_make_pool", count_pool)
    with pytest.raises(StudyInterrupted):
        run_study(cfg(out, workers=64, deltas=[0.9, 0.91, 0.92]), progress=False, log=lines.append)
    assert started == [min(2, os.cpu_count() or 1)]


# ---------------------------------------------------------------- 11: locks
def test_a_job_locked_by_a_live_process_is_not_started_and_a_stale_lock_is_taken_over(finished, tmp_path):
    out = copy_of(finished, tmp_path)
    c = cfg(out, deltas=[0.95]).validate()
    lock = os.path.join(str(out), "jobs", job_name(c.jobs()[0]) + ".lock")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with open(lock, "w") as fh:
            fh.write(f"{sleeper.pid}\n")
        with pytest.raises(JobBusy, match=f"pid {sleeper.pid}") as exc:
            run_study(cfg(out, deltas=[0.95]), progress=False)
        assert isinstance(exc.value, ValueError) and lock in str(exc.value)
        assert not os.path.exists(lock[: -len(".lock")] + ".json")
        if sys.platform.startswith("linux"):  # the pid with another start time: a later process reusing it
            with open(lock, "w") as fh:
                fh.write(f"{sleeper.pid} 1\n")
            assert JobLock.holder(lock) is None
            with open(lock, "w") as fh:
                fh.write(f"{sleeper.pid} {_start_time(sleeper.pid)}\n")
            assert JobLock.holder(lock) == sleeper.pid
    finally:
        sleeper.kill()
        sleeper.wait()
    assert not pid_alive(sleeper.pid)
    res = run_study(cfg(out, deltas=[0.95]), progress=False, log=lambda s: None)  # stale: taken over
    assert len(res["trained"]) == 1 and not os.path.exists(lock)


# ---------------------------------------------------------------- 11 and 12: processes
SCRIPT = textwrap.dedent(
    """
    import sys
    from pinnkit.studies.blowup import StudyConfig, run_study
    from pinnkit.studies.jobs import StudyInterrupted

    if __name__ == "__main__":
        out, steps = sys.argv[1], int(sys.argv[2])
        cfg = StudyConfig(deltas=[0.9, 0.95], widths=[8], grad_penalties=[0.0], steps=steps, lbfgs_steps=0,
                          n_theory_samples=1000, workers=2, out=out)
        try:
            res = run_study(cfg, progress=False)
        except StudyInterrupted as exc:
            print(exc, file=sys.stderr)
            sys.exit(130)
        print("rows", len(res["records"]), "trained", len(res["trained"]), "reused", len(res["reused"]))
    """
)


def _children(pid):
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return kids


def _start(tmp_path, out, steps):
    script = tmp_path / "study.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, str(script), str(out), str(steps)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
        # a terminal's Ctrl-C disposition, whatever this test runner inherited (a shell starts a background
        # job with SIGINT ignored, and an ignored signal stays ignored across exec)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for_locks(proc, out, n, timeout=60):
    jobs = out / "jobs"
    t0 = time.time()
    while time.time() - t0 < timeout:
        locks = [jobs / f for f in os.listdir(jobs) if f.endswith(".lock")] if jobs.exists() else []
        try:
            pids = [int(p.read_text().split()[0]) for p in locks]
        except (OSError, ValueError, IndexError):  # being written: look again
            pids = []
        if len(pids) >= n:
            return pids
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("the workers never started their jobs")


def _all_dead(pids, within=5.0):
    t0 = time.time()
    while time.time() - t0 < within:
        if not any(pid_alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def _assert_quiet(err):
    for noise in ("Traceback", "KeyboardInterrupt", "leaked", "resource_tracker", "No such file", "Warning"):
        assert noise not in err, err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_the_main_process_kills_its_workers_and_a_quiet_rerun_gives_every_row_once(tmp_path):
    out = tmp_path / "killed"
    proc = _start(tmp_path, out, 800)
    try:
        workers = _wait_for_locks(proc, out, 2)
        time.sleep(0.3)
        kids = set(_children(proc.pid)) | set(workers)
        assert set(workers) <= kids
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert _all_dead(kids), [p for p in kids if pid_alive(p)]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    # the same command again (stale locks taken over) with 2 workers: every row once, nothing on stderr
    proc = _start(tmp_path, out, 800)
    text, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    _assert_quiet(err)
    rows = json.load(open(out / "table.json"))
    assert sorted(r["delta"] for r in rows) == [0.9, 0.95]
    assert text.split()[:2] == ["rows", "2"], text
    assert not [f for f in os.listdir(out / "jobs") if f.endswith(".lock")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_stops_the_workers_quietly_with_one_line_on_how_to_resume(tmp_path):
    out = tmp_path / "interrupted"
    proc = _start(tmp_path, out, 800)
    try:
        workers = _wait_for_locks(proc, out, 1)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert _all_dead(workers)
    assert err.strip().splitlines() == [blowup.interrupted_message(str(out))], err
    _assert_quiet(err)


def test_str_of_the_interruption_is_the_resume_line(finished, tmp_path, monkeypatch):
    out = copy_of(finished, tmp_path)

    def interrupted(job, ckpt):
        raise KeyboardInterrupt

    monkeypatch.setattr(blowup, "_train", interrupted)
    with pytest.raises(KeyboardInterrupt) as exc:
        run_study(cfg(out, deltas=[0.95]), progress=False, log=lambda s: None)
    assert isinstance(exc.value, StudyInterrupted)
    assert str(exc.value).startswith("study interrupted; rerun the same command to resume")
    assert not [f for f in os.listdir(out / "jobs") if f.endswith(".lock")]  # the lock went with it


# ---------------------------------------------------------------- 3/14, 10, 18: settings
@pytest.mark.parametrize(
    "field,value,message",
    [
        ("deltas", [0.9, 0.9], "deltas must not repeat a value; 0.9"),
        ("widths", [8, 8], "widths must not repeat a value; 8"),
        ("grad_penalties", [0.0, 0.0], "grad_penalties must not repeat a value; 0.0"),
        ("seeds", [1, 1], "seeds must not repeat a value; 1"),
        ("deltas", [True], "deltas must hold finite numbers"),
        ("deltas", [float("nan")], "deltas must hold finite numbers"),
        ("deltas", [float("inf")], "deltas must hold finite numbers"),
        ("deltas", "0.9", "deltas must be a non-empty list"),
        ("deltas", [], "deltas must be a non-empty list"),
        ("deltas", ["0.9"], "deltas must hold finite numbers"),
        ("widths", 8, "widths must be a non-empty list"),
        ("widths", [0], r"widths must be an integer in \[1"),
        ("widths", [8.5], r"widths must be an integer"),
        ("grad_penalties", [-1e-3], "grad_penalties must be a finite number >= 0"),
        ("grad_penalties", [float("nan")], "grad_penalties must be a finite number >= 0"),
        ("grad_penalties", [False], "grad_penalties must be a finite number >= 0"),
        ("seeds", [-1], r"seeds must be an integer in \[0, 9223372036854775807\]"),
        ("seeds", [2**63], r"seeds must be an integer in \[0, 9223372036854775807\]"),
        ("seeds", [True], "seeds must be an integer"),
        ("n_theory_samples", 999, r"n_theory_samples must be an integer in \[1000"),
        ("n_theory_samples", 10**9 * 100, "n_theory_samples=.*would make the study's theory analysis allocate"),
        ("widths", [10**7], "widths=10000000 would make the study's training allocate"),
        ("workers", 0, r"workers must be an integer in \[1"),
    ],
)
def test_bad_settings_fail_before_any_work(tmp_path, field, value, message):
    out = tmp_path / "study"
    with pytest.raises(ValueError, match=message):
        run_study(cfg(out, **{field: value}), progress=False)
    assert not out.exists()


def test_out_that_is_a_file_or_under_one_is_refused_before_any_work(tmp_path, monkeypatch):
    f = tmp_path / "a_file"
    f.write_text("x")
    for out in (f, f / "sub"):
        with pytest.raises(ValueError, match="out .* a file, not a directory"):
            run_study(cfg(out), progress=False)
        with pytest.raises(ValueError, match="out .* a file, not a directory"):
            SizeStudyConfig(out=str(out)).validate()
    monkeypatch.setattr(deeponet_size, "heat_data", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(ValueError, match="^out "):
        run_size_study(SizeStudyConfig(out=str(f / "x")), progress=False)
    assert f.read_text() == "x"


# ---------------------------------------------------------------- deeponet-size: cells are checked on load
def test_deeponet_size_reuses_only_sound_cells_with_the_same_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("PINNKIT_CACHE", str(tmp_path / "cache"))
    calls = []
    monkeypatch.setattr(deeponet_size, "train_risk", lambda sub, q, steps, seed: calls.append(q) or 0.01 * q)
    base = dict(qs=[1, 2], n_functions=[4], points=16, noise=0.1, steps=5, seed=0, threads=1, out=str(tmp_path / "o"))
    run_size_study(SizeStudyConfig(**base), progress=False)
    assert calls == [1, 2]
    for name in ("cells.json", "summary.json"):  # damage q=2 in both stores
        path = tmp_path / "o" / name
        stored = json.load(open(path))
        stored["cells"] = [c if c["q"] == 1 else {k: v for k, v in c.items() if k != "risk"} for c in stored["cells"]]
        json.dump(stored, open(path, "w"))
    calls.clear()
    with pytest.warns(UserWarning, match="cells.json|summary.json"):
        s = run_size_study(SizeStudyConfig(**base), progress=False)
    assert calls == [2] and s["trained_cells"] == [[4, 2]]
    calls.clear()
    s = run_size_study(SizeStudyConfig(**{**base, "noise": 0.2}), progress=False)
    assert calls == [1, 2]
