"""``pinnkit deeponet`` / :func:`pinnkit.operator_run.run` refuse bad input before any work (issue 13, DeepONet
side): an output path that is a file, a rerun that would replace an earlier run's checkpoint (unless
``overwrite``), unreadable or non-finite checkpoints on resume (named by the core), sizes that would not fit in
memory (also in the data sets' own constructors), and bad numbers (bools, non-integers, inf/nan, seeds and thread
counts out of range), while numpy scalars and absurdly long time limits are accepted."""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest
import torch

from pinnkit import operator_run, preflight
from pinnkit.equations import operator_data as od
from pinnkit.operator_run import OperatorRunConfig, run

TINY = dict(pde="heat", n_train=12, n_test=4, m_sensors=16, nx=9, nt=5, threads=1, progress=False, width=16)
TINY.update(depth=2, q=8, n_collocation=16, decay_every=10, minutes=None)
GiB = 2**30


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("pinnkit-cache")


@pytest.fixture(autouse=True)
def _cache_env(cache_dir, monkeypatch):
    monkeypatch.setenv("PINNKIT_CACHE", str(cache_dir))  # never the user's ~/.cache


@pytest.fixture(autouse=True)
def _no_plots(monkeypatch):
    """The figures are not what these tests check; drawing them is most of a tiny run's time."""
    monkeypatch.setattr(operator_run, "plot_predictions", lambda *a: open(a[3], "wb").close())
    monkeypatch.setattr(operator_run, "plot_error_histogram", lambda e, path: open(path, "wb").close())


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, cache_dir):
    """An out directory holding a finished 4-step data run (copy it before changing anything)."""
    out = tmp_path_factory.mktemp("finished") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PINNKIT_CACHE", str(cache_dir))
        mp.setattr(operator_run, "plot_predictions", lambda *a: open(a[3], "wb").close())
        mp.setattr(operator_run, "plot_error_histogram", lambda e, path: open(path, "wb").close())
        run(**TINY, mode="data", steps=4, out=str(out))
    return out


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if data are generated or a net is trained."""

    def fail(*a, **k):
        raise AssertionError("work started before validation")

    monkeypatch.setattr(operator_run, "make_dataset", fail)
    monkeypatch.setattr(operator_run, "DeepONetTrainer", fail)


@pytest.fixture
def eight_gib(monkeypatch):
    monkeypatch.setattr(preflight, "available_memory", lambda: 8 * GiB)


def _checkpoint(out, mode="data"):
    return out / f"checkpoint_{mode}" / "deeponet_checkpoint.pt"


# ---------------------------------------------------------------- out (defect 3/14)
def test_out_that_is_a_file_is_refused_before_any_work(tmp_path, no_work) -> None:
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(ValueError, match=r"out .*afile.* is a file, not a directory"):
        run(**TINY, mode="data", steps=5, out=str(f))
    with pytest.raises(ValueError, match=r"out .*afile/run.* lies under .*afile.*, which is a file"):
        OperatorRunConfig(**TINY, out=str(f / "run")).validate()
    assert f.read_text() == "x"
    with pytest.raises(ValueError, match=r"cache_dir .*afile.* is a file"):
        OperatorRunConfig(**TINY, out=str(tmp_path / "o"), cache_dir=str(f)).validate()
    with pytest.raises(ValueError, match=r"out must be a directory path, got ''"):
        OperatorRunConfig(**TINY, out="").validate()
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- rerun and resume (defects 4 and 5)
def test_rerun_without_resume_keeps_the_earlier_checkpoint_unless_overwrite(tmp_path) -> None:
    out = tmp_path / "run"
    first = run(**TINY, mode="data", steps=6, out=str(out))
    ckpt = _checkpoint(out)
    before = ckpt.read_bytes()
    summary_before = (out / "summary.json").read_text()
    for mode in ("data", "both"):
        with pytest.raises(ValueError, match=r"checkpoint_data.*holds the checkpoint of an earlier run; pass --resume"):
            run(**TINY, mode=mode, steps=4, out=str(out))
    assert ckpt.read_bytes() == before and (out / "summary.json").read_text() == summary_before
    # only the physics checkpoint present: a 'both' run is refused naming it
    _checkpoint(out, "physics").parent.mkdir()
    _checkpoint(out, "physics").write_bytes(before)
    with pytest.raises(ValueError, match=r"checkpoint_physics.*--overwrite"):
        run(**TINY, mode="physics", steps=4, out=str(out))
    _checkpoint(out, "physics").unlink()
    # overwrite: the new run replaces the old checkpoint
    again = run(**TINY, mode="data", steps=4, out=str(out), overwrite=True)
    assert first["runs"]["data"]["steps"] == 6 and again["runs"]["data"]["steps"] == 4
    assert torch.load(ckpt, weights_only=True)["step"] == 4 and ckpt.read_bytes() != before
    assert json.load(open(out / "summary.json"))["config"]["overwrite"] is True
    # resume continues it
    resumed = run(**TINY, mode="data", steps=8, out=str(out), resume=True)["runs"]["data"]
    assert resumed["resumed_from_step"] == 4 and resumed["steps"] == 8
    for bad in ("yes", 1, None):
        with pytest.raises(ValueError, match=r"overwrite must be True or False"):
            OperatorRunConfig(**TINY, out=str(out), overwrite=bad).validate()


def _write_nan(path) -> None:
    state = torch.load(path, weights_only=True)
    name = next(k for k, v in state["model"].items() if v.is_floating_point())
    state["model"][name] = torch.full_like(state["model"][name], float("nan"))
    torch.save(state, path)


BROKEN = {
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "cannot be read"),
    "random bytes": (lambda p: p.write_bytes(np.random.default_rng(1).bytes(4000)), "cannot be read"),
    "empty": (lambda p: p.write_bytes(b""), "cannot be read"),
    "nan weights": (_write_nan, "non-finite weights"),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_resume_from_a_broken_checkpoint_names_the_file(tmp_path, finished_run, kind) -> None:
    out = tmp_path / "run"
    shutil.copytree(finished_run, out)
    ckpt = _checkpoint(out)
    damage, problem = BROKEN[kind]
    damage(ckpt)
    with pytest.raises(ValueError, match=rf"checkpoint '.*checkpoint_data/deeponet_checkpoint.pt' .*{problem}") as e:
        run(**TINY, mode="data", steps=8, out=str(out), resume=True)
    assert "does not fit" not in str(e.value) and "weights_only=False" not in str(e.value)


def test_resume_with_another_net_says_it_does_not_fit(tmp_path, finished_run) -> None:
    out = tmp_path / "run"
    shutil.copytree(finished_run, out)
    with pytest.raises(ValueError, match=r"checkpoint .*checkpoint_data.* does not fit this run's net"):
        run(**{**TINY, "width": 12}, mode="data", steps=8, out=str(out), resume=True)


# ---------------------------------------------------------------- memory (defect 10)
@pytest.mark.parametrize(
    "size,name",
    [
        ({"m_sensors": 10**8}, "m_sensors"),
        ({"n_train": 10**9}, "n_train"),
        ({"n_test": 10**9}, "n_test"),
        ({"nx": 10**6}, "nx"),
        ({"nt": 10**6}, "nt"),
        ({"nx": 10**5, "nt": 10**5}, "nx"),
        ({"width": 10**6}, "width"),
        ({"n_collocation": 10**11}, "n_collocation"),
        ({"m_sensors": 10**400}, "m_sensors"),
    ],
)
@pytest.mark.parametrize("pde", ["heat", "burgers"])
def test_sizes_that_do_not_fit_are_refused_up_front(tmp_path, no_work, eight_gib, size, name, pde) -> None:
    start = time.perf_counter()
    with pytest.raises(ValueError, match=rf"^{name}=\d+ would make this DeepONet run allocate about .* lower {name}$"):
        run(**{**TINY, **size, "pde": pde}, steps=5, out=str(tmp_path / "o"))
    assert time.perf_counter() - start < 2.0  # nothing allocated
    assert not (tmp_path / "o").exists()


def test_default_sizes_fit_and_the_estimate_grows_with_each_size(tmp_path, eight_gib) -> None:
    cfg = OperatorRunConfig(out=str(tmp_path / "o")).validate()  # the README run: ~0.4 GiB estimated
    base = cfg.memory_bytes()
    assert 50 * 2**20 < base < 2 * GiB
    for name in ("n_train", "n_test", "m_sensors", "nx", "nt", "width", "depth", "q", "n_collocation"):
        assert cfg.memory_bytes(**{name: 10 * getattr(cfg, name)}) > base, name
    # the float64 solutions alone: n_train × nx × nt × 8 bytes
    assert cfg.memory_bytes(n_train=10**6) > 10**6 * 101 * 101 * 8


@pytest.mark.parametrize(
    "kw,name",
    [
        ({"m_sensors": 10**8}, "m_sensors"),
        ({"n_functions": 10**9}, "n_functions"),
        ({"nx": 10**6, "nt": 10**6}, "nx"),
        ({"nt": 10**7}, "nt"),
        ({"n_solve": 2**40}, "n_solve"),
        ({"m_sensors": 10**400}, "m_sensors"),
    ],
)
def test_dataset_constructors_refuse_sizes_that_do_not_fit(monkeypatch, eight_gib, kw, name) -> None:
    monkeypatch.setattr(od, "_generate", lambda *a, **k: pytest.fail("generated"))
    pdes = ("burgers",) if "n_solve" in kw else ("burgers", "heat")
    for pde in pdes:
        pattern = rf"^{name}=\d+ would make the operator data set's generation allocate .* lower {name}$"
        with pytest.raises(ValueError, match=pattern):
            od.dataset_config(pde, **kw)
        with pytest.raises(ValueError, match=pattern):
            od.make_dataset(pde, **kw, use_cache=False, progress=False)


def test_dataset_tiny_viscosity_is_named(eight_gib) -> None:
    with pytest.raises(ValueError, match=r"^nu=1e-12 would make .* raise nu .* or give a smaller n_solve$"):
        od.dataset_config("burgers", nu=1e-12)
    od.dataset_config("burgers", nu=1e-4)  # n_solve 65536: fits
    assert od.generation_bytes("heat", 1000, 101, 101, 101) > 1000 * 101 * 101 * 8


# ---------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    "bad,message",
    [
        ({"steps": True}, r"steps must be an integer in \[1, ∞\], got True"),
        ({"n_train": True}, r"n_train must be an integer in \[1, ∞\], got True"),
        ({"n_train": 2.5}, r"n_train must be an integer in \[1, ∞\], got 2.5"),
        ({"n_test": float("nan")}, r"n_test must be an integer in \[1, ∞\], got nan"),
        ({"m_sensors": float("inf")}, r"m_sensors must be an integer in \[4, ∞\], got inf"),
        ({"m_sensors": 3}, r"m_sensors must be an integer in \[4, ∞\], got 3"),
        ({"nx": 1}, r"nx must be an integer in \[2, ∞\], got 1"),
        ({"nt": "21"}, r"nt must be an integer in \[2, ∞\], got '21'"),
        ({"minutes": True}, r"minutes must be a finite number > 0, got True"),
        ({"minutes": float("inf")}, r"minutes must be a finite number > 0, got inf"),
        ({"minutes": float("nan")}, r"minutes must be a finite number > 0, got nan"),
        ({"lr": float("nan")}, r"lr must be a finite number > 0, got nan"),
        ({"lr": np.float32("inf")}, r"lr must be a finite number > 0, got np.float32\(inf\)|got inf"),
        ({"lr_decay": 1.5}, r"lr_decay must be in \(0.0, 1.0\], got 1.5"),
        ({"lr_decay": True}, r"lr_decay must be in \(0.0, 1.0\], got True"),
        ({"initial_weight": -1.0}, r"initial_weight must be a finite number >= 0, got -1.0"),
        ({"initial_weight": float("inf")}, r"initial_weight must be a finite number >= 0, got inf"),
        ({"seed": -1}, r"seed must be an integer in \[0, 9223372036854775807\], got -1"),
        ({"seed": 2**63}, r"seed must be an integer in \[0, 9223372036854775807\], got 9223372036854775808"),
        ({"seed": 1.5}, r"seed must be an integer in \[0, 9223372036854775807\], got 1.5"),
        ({"seed": False}, r"seed must be an integer in \[0, 9223372036854775807\], got False"),
        ({"threads": -1}, r"threads must be an integer in \[0, 4096\], got -1"),
        ({"threads": 4097}, r"threads must be an integer in \[0, 4096\], got 4097"),
        ({"threads": 10**12}, r"threads must be an integer in \[0, 4096\], got 1000000000000"),
        ({"threads": True}, r"threads must be an integer in \[0, 4096\], got True"),
        ({"width": 0}, r"width must be an integer in \[1, ∞\], got 0"),
        ({"depth": 2.5}, r"depth must be an integer in \[1, ∞\], got 2.5"),
        ({"n_collocation": 0}, r"n_collocation must be an integer in \[1, ∞\], got 0"),
        ({"decay_every": 0}, r"decay_every must be an integer in \[1, ∞\], got 0"),
        ({"batch_points": 46}, r"batch_points must be an integer in \[1, 45\], got 46"),
        ({"hard_initial": "yes"}, r"hard_initial must be True or False, got 'yes'"),
        ({"resume": 1}, r"resume must be True or False, got 1"),
        ({"progress": None}, r"progress must be True or False, got None"),
    ],
)
def test_bad_numbers_are_refused_naming_the_parameter(tmp_path, no_work, bad, message) -> None:
    out = tmp_path / "o"
    with pytest.raises(ValueError, match=message):
        run(**{**TINY, "steps": 5, "out": str(out), **bad})
    assert not out.exists()


def test_numpy_scalars_are_accepted_and_stored_as_plain_numbers(tmp_path) -> None:
    kw = dict(
        TINY,
        n_train=np.int64(12),
        n_test=np.int32(4),
        m_sensors=np.int64(16),
        nx=np.int64(9),
        nt=np.int16(5),
        steps=np.int64(4),
        seed=np.uint8(3),
        threads=np.int64(1),
        lr=np.float32(0.01),
        lr_decay=np.float64(0.9),
        initial_weight=np.float32(5.0),
        minutes=np.float32(10.0),
        width=np.int64(16),
        batch_functions=np.int64(4),
        batch_points=np.int64(20),
        n_collocation=np.int64(16),
        hard_initial=np.bool_(True),
        out=tmp_path / "run",  # a Path
        mode="hybrid",
    )
    cfg = OperatorRunConfig(**kw).validate()
    for name in ("n_train", "n_test", "m_sensors", "nx", "nt", "steps", "seed", "threads", "width"):
        assert type(getattr(cfg, name)) is int, name
    for name in ("lr", "lr_decay", "initial_weight", "minutes"):
        assert type(getattr(cfg, name)) is float, name
    assert cfg.hard_initial is True and cfg.out == str(tmp_path / "run")
    summary = run(OperatorRunConfig(**kw))  # and the run writes its JSON summary
    assert summary["runs"]["hybrid"]["steps"] == 4 and summary["config"]["n_train"] == 12
    assert json.load(open(tmp_path / "run" / "summary.json"))["seed"] == 3
    OperatorRunConfig(**{**TINY, "out": str(tmp_path / "b"), "n_train": 12.0}).validate()  # integral float: fine


def test_large_limits_are_fine(tmp_path) -> None:
    cfg = OperatorRunConfig(**{**TINY, "out": str(tmp_path / "o"), "steps": 5, "minutes": 1e300}).validate()
    assert cfg.train_config("data").time_limit == pytest.approx(6e301)
    cfg = OperatorRunConfig(**{**TINY, "out": str(tmp_path / "o"), "steps": 5, "minutes": 1.7e308}).validate()
    assert cfg.train_config("physics").time_limit is None  # 60 × minutes overflows: no limit
    cfg = OperatorRunConfig(**{**TINY, "out": str(tmp_path / "o"), "seed": 2**63 - 1, "threads": 4096}).validate()
    assert cfg.seed == 2**63 - 1 and cfg.train_config("data").seed == 2**63 - 1
    assert cfg.net("data").n_parameters() > 0


def test_trainer_config_takes_numpy_weights_and_bounds_the_seed() -> None:
    from pinnkit.operator_trainer import OperatorTrainConfig

    cfg = OperatorTrainConfig(mode="physics", weights={"initial": np.float32(20.0)}).validate()
    assert cfg.weights == {"initial": 20.0} and type(cfg.weights["initial"]) is float
    for bad in (True, float("nan"), -1.0, "1"):
        with pytest.raises(ValueError, match=r"weights\['initial'\] must be a finite number >= 0"):
            OperatorTrainConfig(mode="physics", weights={"initial": bad}).validate()
    with pytest.raises(
        ValueError, match=r"seed must be an integer in \[0, 9223372036854775807\], got 18446744073709551616"
    ):
        OperatorTrainConfig(seed=2**64).validate()
