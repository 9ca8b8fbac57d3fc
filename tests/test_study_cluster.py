"""Study sweeps as Dask tasks (pinnkit.studies.cluster): the same rows, bit for bit, as the local run, also when
a worker is killed in the middle of a job (the task reruns and resumes from its checkpoint, nothing is lost
or counted twice); a rerun reuses every finished job without starting a cluster."""

import json
import os
import signal
import threading
import time

import pytest

from pinnkit.studies import blowup
from pinnkit.studies.blowup import StudyConfig, job_name, run_study
from pinnkit.studies.cluster import check_cluster, dask_client, run_tasks, steady_malloc
from pinnkit.studies.jobs import pid_alive

STUDY = dict(
    dim=1,
    deltas=[0.9, 0.95],
    widths=[8],
    grad_penalties=[0.0],
    steps=1100,  # a checkpoint at step 1000 (the study's interval), so a killed job has one to resume from
    lbfgs_steps=0,
    n_theory_samples=1000,
)


def _rows(res):
    """The records without their timings (and the digest that covers them)."""

    def strip(d):
        return {
            k: (strip(v) if isinstance(v, dict) else v)
            for k, v in d.items()
            if not (k.endswith("_s") or k.endswith("seconds") or k == "digest")
        }

    return [strip(r) for r in res["records"]]


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    return run_study(StudyConfig(**STUDY, workers=1, out=str(out)), progress=False, log=lambda s: None)


@pytest.fixture(scope="module")
def scheduler():
    """A LocalCluster of two worker processes started by the test, used through its address (as an existing
    cluster would be)."""
    from dask.distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    yield cluster
    cluster.close()


def test_cluster_setting_is_checked_before_any_work(tmp_path):
    assert check_cluster(None) is None and check_cluster("local") == "local"
    assert check_cluster("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786" and check_cluster("node17:8786")
    for bad in ("", "tcp://", "somewhere", 5):
        with pytest.raises(ValueError, match="cluster must be None"):
            StudyConfig(**STUDY, cluster=bad, out=str(tmp_path)).validate()


def test_a_killed_worker_loses_nothing_and_the_rows_are_the_local_ones(local_run, scheduler, tmp_path):
    out = tmp_path / "dask"
    cfg = StudyConfig(**STUDY, workers=2, out=str(out), cluster=scheduler.scheduler_address)
    victim = job_name(cfg.validate().jobs()[1])
    killed = {}

    def kill_mid_job():
        ckpt = out / "checkpoints" / victim / "checkpoint.pt"
        lock = out / "jobs" / (victim + ".lock")
        deadline = time.time() + 240
        while time.time() < deadline and not ckpt.exists():
            time.sleep(0.02)
        try:
            pid = int(lock.read_text().split()[0])  # the worker process running the job holds its lock
        except (OSError, ValueError, IndexError):
            return
        os.kill(pid, signal.SIGKILL)
        killed["pid"] = pid

    killer = threading.Thread(target=kill_mid_job, daemon=True)
    killer.start()
    res = run_study(cfg, progress=False, log=lambda s: None)
    killer.join(timeout=10)
    assert "pid" in killed and not pid_alive(killed["pid"])  # a worker died in the middle of the job
    assert _rows(res) == _rows(local_run)  # same rows, bit for bit
    assert sorted(res["trained"]) == sorted(local_run["trained"]) and len(res["trained"]) == 2  # once each
    jobs = os.listdir(out / "jobs")
    assert sorted(jobs) == sorted(n + ".json" for n in local_run["trained"])  # no stray locks or copies
    with open(out / "jobs" / (victim + ".json")) as fh:
        assert json.load(fh)["relative_l2"] == [r for r in local_run["records"] if r["delta"] == 0.95][0]["relative_l2"]

    def no_cluster(*a, **k):
        raise AssertionError("a cluster was contacted although every job is finished")

    again = blowup.dask_client
    try:
        blowup.dask_client = no_cluster
        rerun = run_study(cfg, progress=False, log=lambda s: None)
    finally:
        blowup.dask_client = again
    assert rerun["trained"] == [] and _rows(rerun) == _rows(local_run)


def test_deeponet_size_cells_on_a_local_dask_cluster_match_the_local_ones(tmp_path, monkeypatch):
    from pinnkit.studies.deeponet_size import SizeStudyConfig, run_size_study

    monkeypatch.setenv("PINNKIT_CACHE", str(tmp_path / "cache"))
    tiny = dict(qs=[1, 2, 4], n_functions=[4], points=16, noise=0.1, steps=100, seed=0, threads=1)
    here = run_size_study(SizeStudyConfig(out=str(tmp_path / "here"), **tiny), progress=False)
    there = run_size_study(
        SizeStudyConfig(out=str(tmp_path / "dask"), cluster="local", workers=2, **tiny), progress=False
    )
    assert there["risks"] == here["risks"]  # bit for bit
    assert there["trained_cells"] == here["trained_cells"] == [[4, 1], [4, 2], [4, 4]]


def _worker_environment(_):
    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OMP_NUM_THREADS")


def test_local_workers_start_without_the_malloc_trim_variable():
    # Dask's default MALLOC_TRIM_THRESHOLD_ switches off glibc's dynamic mmap threshold: trainings ran 2x slower
    # (also where an earlier cluster of this process left it in os.environ, as Dask's nanny does)
    before = dict(os.environ)
    with dask_client("local", 1) as client:
        ((name, (trim, omp)),) = list(run_tasks(client, _worker_environment, [None], ["env"]))
    assert name == "env" and trim is None and omp == "1"
    assert dict(os.environ) == before  # the workers' variables are not left in this process


@pytest.mark.skipif(
    not os.path.exists("/lib/x86_64-linux-gnu/libc.so.6") and not os.path.exists("/lib64/libc.so.6"),
    reason="glibc only",
)
def test_steady_malloc_only_acts_where_the_trim_variable_is_set(monkeypatch):
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    assert steady_malloc() is False
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    assert steady_malloc() is True
