"""One PINN over many processes (pinnkit.distributed, torchrun with gloo): two processes, each on half the
points, take the same iterates as one process on all of them; a killed rank resumes to the same result; a
resume with another number of processes is refused; a divergence stops every rank."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from pinnkit import distributed
from pinnkit.equations import make_problem
from pinnkit.sampling import Sampler

WORKERS = os.path.join(os.path.dirname(__file__), "workers")
WORKER = os.path.join(WORKERS, "ddp_solve.py")
BASE = dict(
    net={"width": 16, "depth": 2},
    steps=60,
    lbfgs_steps=40,
    n_domain=501,  # odd counts: the ranks' shards differ in size
    n_boundary=61,
    n_initial=37,
    dtype="float64",
    track_every=0,
    checkpoint_every=20,
)


def _run(out, settings, nproc=1, worker=WORKER, args=None):
    os.makedirs(out, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    env.pop("WORLD_SIZE", None)
    cmd = [sys.executable, worker, str(out), *(args if args is not None else [json.dumps(settings)])]
    if nproc > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *cmd[1:]]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def _read(out, rank=0):
    with open(os.path.join(out, f"rank{rank}.json")) as fh:
        return json.load(fh)


def test_shards_partition_the_one_process_points():
    p = make_problem("heat")
    s = Sampler(p, n_domain=101, n_boundary=13, n_initial=7, seed=3)
    whole = s.draw(0, dtype=torch.float64)
    parts = [s.draw(0, dtype=torch.float64, group=distributed.Group(r, 3, r, "gloo")) for r in range(3)]
    assert torch.equal(torch.cat([b.domain for b in parts]), whole.domain)
    for name, pts in whole.conditions.items():
        assert torch.equal(torch.cat([b.conditions[name] for b in parts]), pts)
        assert sum(b.shares[name] for b in parts) == pytest.approx(1.0, abs=1e-15)
    assert [b.domain.shape[0] for b in parts] == [34, 34, 33]
    assert distributed.shard_range(10, 3, 4) == (8, 10) and distributed.shard_range(10, 0, 4) == (0, 3)


def test_one_process_functions_are_identities():
    t = {"pde": torch.tensor(2.0)}
    assert distributed.current() is None and distributed.is_main()
    assert distributed.share_sum(t, {"pde": 0.5}, None)["pde"] == 2.0
    x = torch.arange(3.0)
    assert distributed.all_gather_rows(x, None) is x and distributed.any_true(True, None)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The one-process and the two-process run of the same settings, and a two-process run whose rank 1 is
    killed at step 50 (its last checkpoint: step 40) and then resumed."""
    root = tmp_path_factory.mktemp("ddp")
    one, two, killed = root / "one", root / "two", root / "killed"
    r1 = _run(one, {**BASE, "checkpoint_dir": str(one / "ck")})
    r2 = _run(two, {**BASE, "checkpoint_dir": str(two / "ck")}, nproc=2)
    assert r1.returncode == 0, r1.stderr[-3000:]
    assert r2.returncode == 0, r2.stderr[-3000:]
    rk = _run(killed, {**BASE, "checkpoint_dir": str(killed / "ck"), "kill_rank": 1, "kill_at": 50}, nproc=2)
    return {"one": one, "two": two, "killed": killed, "kill_run": rk}


def test_two_processes_take_the_one_process_iterates(runs):
    a, b, c = _read(runs["one"]), _read(runs["two"], 0), _read(runs["two"], 1)
    la, lb = np.array(a["loss"]), np.array(b["loss"])
    assert a["step"] == b["step"] and len(la) == 62  # 60 Adam steps and two L-BFGS chunks
    assert np.max(np.abs(la - lb) / la) < 1e-8  # round-off: the sums over ranks are ordered differently
    assert b["params"] == c["params"]  # every rank holds the very same parameters
    assert np.allclose(a["params"], b["params"], rtol=0, atol=1e-7)
    assert b["errors"]["relative_l2"] == pytest.approx(a["errors"]["relative_l2"], rel=1e-6)
    assert b["config"]["distributed"]["world_size"] == 2 and "distributed" not in a["config"]
    assert os.path.exists(runs["two"] / "result" / "summary.json")


def test_killed_rank_resumes_to_the_same_result(runs):
    rk = runs["kill_run"]
    assert rk.returncode != 0  # the launcher reports the killed rank and stops the other
    assert not os.path.exists(runs["killed"] / "rank0.json")
    ck = runs["killed"] / "ck" / "checkpoint.pt"
    assert torch.load(ck, weights_only=True)["step"] == 40
    again = _run(runs["killed"], {**BASE, "checkpoint_dir": str(runs["killed"] / "ck"), "resume": True}, nproc=2)
    assert again.returncode == 0, again.stderr[-3000:]
    a, b = _read(runs["two"]), _read(runs["killed"])
    assert a["loss"] == b["loss"] and a["params"] == b["params"]  # bit for bit


def test_resume_with_another_number_of_processes_is_refused(runs):
    ck = str(runs["two"] / "ck")
    r = _run(runs["two"] / "again", {**BASE, "checkpoint_dir": ck, "resume": True})
    assert r.returncode != 0
    assert "belongs to another run" in r.stderr and "distributed.world_size: 2 there" in r.stderr


def test_divergence_stops_every_rank(tmp_path):
    """Rank 1 alone turns NaN at step 23: the summed loss is NaN on both ranks, so both stop at once and
    restore the good state of step 20."""
    settings = {**BASE, "steps": 30, "lbfgs_steps": 0, "checkpoint_every": 5, "nan_rank": 1, "nan_at": 23}
    r = _run(tmp_path, {**settings, "checkpoint_dir": str(tmp_path / "ck")}, nproc=2)
    assert r.returncode == 0, r.stderr[-3000:]
    msgs = [_read(tmp_path, rank).get("diverged", "") for rank in (0, 1)]
    assert msgs[0] == msgs[1] and "diverged at step 23" in msgs[0] and "(step 20)" in msgs[0], msgs
    assert torch.load(tmp_path / "ck" / "checkpoint.pt", weights_only=True)["step"] == 20


def test_too_few_points_for_the_ranks_is_named():
    from pinnkit.trainer import _check_shardable

    p = make_problem("heat")
    with pytest.raises(ValueError, match="n_initial=1 cannot be split over 2 processes: give n_initial >= 2"):
        _check_shardable(Sampler(p, n_initial=1), p, distributed.Group(0, 2, 0, "gloo"))
    _check_shardable(Sampler(p, n_initial=2), p, distributed.Group(1, 2, 1, "gloo"))


@pytest.mark.parametrize("shared", ["1", "0"])
def test_deeponet_shards_functions_with_the_one_process_iterates(tmp_path, shared):
    worker, cache = os.path.join(WORKERS, "ddp_deeponet.py"), str(tmp_path / "cache")
    r1 = _run(tmp_path / "one", None, worker=worker, args=[cache, shared])
    assert r1.returncode == 0, r1.stderr[-3000:]  # the first run fills the data cache the second reads
    r2 = _run(tmp_path / "two", None, nproc=2, worker=worker, args=[cache, shared])
    assert r2.returncode == 0, r2.stderr[-3000:]
    a, b, c = _read(tmp_path / "one"), _read(tmp_path / "two", 0), _read(tmp_path / "two", 1)
    la, lb = np.array(a["loss"]), np.array(b["loss"])
    assert len(la) == 30 and np.max(np.abs(la - lb) / la) < 1e-9
    assert b["params"] == c["params"]


def test_the_command_line_runs_unchanged_under_torchrun(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "pinnkit"]
    args = ["solve", "heat", "--steps", "40", "--lbfgs-steps", "0", "--out", str(tmp_path / "run"), "--quiet"]
    r = subprocess.run(cmd + args, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("relative_l2") == 1  # rank 0 alone prints
    with open(tmp_path / "run" / "summary.json") as fh:
        summary = json.load(fh)
    assert summary["config"]["distributed"]["world_size"] == 2
