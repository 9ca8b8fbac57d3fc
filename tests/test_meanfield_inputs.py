"""Bad arguments of the mean-field trainer and net are refused before any work (issue 13, defect 17): a
``ValueError`` naming the parameter and its allowed range, raised before a particle is drawn, a point sampled
or a step trained; numpy scalars are accepted where valid, with the same numbers; a registered problem name and
a dtype by name are accepted; huge particle and point counts are refused by a memory estimate."""

import math

import numpy as np
import pytest
import torch

import pinnkit.meanfield_trainer as mft
import pinnkit.preflight
from pinnkit.equations import Heat
from pinnkit.meanfield_trainer import (
    MeanFieldConfig,
    MeanFieldTrainer,
    PINNEnergy,
    RegressionEnergy,
    train_meanfield_pinn,
    train_meanfield_regression,
)
from pinnkit.nets import MeanFieldTwoLayer
from pinnkit.sampling import Sampler

pytestmark = pytest.mark.usefixtures("one_thread")

GiB = 1024**3
TINY = dict(n=4, steps=2, n_domain=8, n_boundary=4, n_initial=4, n_eval=16, record_every=1)


@pytest.fixture
def no_work(monkeypatch):
    """Building the net or the sampler fails the test: a refusal must come first."""

    def fail(*a, **k):
        raise AssertionError("work started before the arguments were checked")

    monkeypatch.setattr(mft, "MeanFieldTwoLayer", fail)
    monkeypatch.setattr(mft, "Sampler", fail)


@pytest.fixture
def small_memory(monkeypatch):
    monkeypatch.setattr(pinnkit.preflight, "available_memory", lambda: 16 * GiB)


def _refused(fn, *names):
    with pytest.raises(ValueError) as info:
        fn()
    msg = str(info.value)
    for name in names:
        assert name in msg, msg
    return msg


# =========================================================================== train_meanfield_pinn
@pytest.mark.parametrize(
    "kw,name,rng",
    [
        (dict(condition_weight=-1), "condition_weight", ">= 0"),
        (dict(condition_weight=math.nan), "condition_weight", ">= 0"),
        (dict(condition_weight=math.inf), "condition_weight", ">= 0"),
        (dict(condition_weight=True), "condition_weight", ">= 0"),
        (dict(n_eval=0), "n_eval", "[1, "),
        (dict(n_eval=2.5), "n_eval", "[1, "),
        (dict(max_wall_s=-1), "max_wall_s", "> 0"),
        (dict(max_wall_s=0), "max_wall_s", "> 0"),
        (dict(max_wall_s=math.nan), "max_wall_s", "> 0"),
        (dict(n=True), "n", ">= 1"),
        (dict(n=0), "n", ">= 1"),
        (dict(n=2.5), "n", ">= 1"),
        (dict(n=math.inf), "n", ">= 1"),
        (dict(steps=-1), "steps", "[0, "),
        (dict(dt=0.0), "dt", "> 0"),
        (dict(dt=math.inf), "dt", "> 0"),
        (dict(alpha=-1.0), "alpha", "[0.0, "),
        (dict(alpha=math.inf), "alpha", "[0.0, "),
        (dict(reinject=math.nan), "reinject", "[0.0, "),
        (dict(birth_death_until=-1), "birth_death_until", "[0, "),
        (dict(seed=-1), "seed", "[0, 4294967295]"),
        (dict(seed=2**32), "seed", "[0, 4294967295]"),
        (dict(seed=0.5), "seed", "[0, 4294967295]"),
        (dict(n_domain=0), "n_domain", "[1, "),
        (dict(n_boundary=1.5), "n_boundary", "[1, "),
        (dict(n_initial=-2), "n_initial", "[1, "),
        (dict(resample_every=-1), "resample_every", "[0, "),
        (dict(record_every=0), "record_every", "[1, "),
        (dict(eval_every=-1), "eval_every", "[0, "),
        (dict(activation="swish"), "activation", "tanh"),
        (dict(dtype="float16"), "dtype", "float64"),
        (dict(dtype=torch.float16), "dtype", "float64"),
        (dict(dtype="cpu"), "dtype", "float64"),
        (dict(net_options={"weight_scal": 2.0}), "weight_scal", "allowed"),
        (dict(net_options={"n": 8}), "'n'", "weight_scale"),
        (dict(net_options={"weight_scale": -1.0}), "weight_scale", ">= 0"),
        (dict(net_options="wide"), "net_options", "weight_scale"),
    ],
)
def test_train_meanfield_pinn_refuses_bad_arguments_before_any_work(no_work, kw, name, rng):
    _refused(lambda: train_meanfield_pinn(Heat(), **{**TINY, **kw}), name, rng)


@pytest.mark.parametrize("problem", ["nope", 3, None])
def test_train_meanfield_pinn_refuses_an_unknown_problem(no_work, problem):
    msg = _refused(lambda: train_meanfield_pinn(problem, **TINY), "problem", "heat")
    assert "Problem" in msg


def test_train_meanfield_pinn_refuses_huge_counts_by_memory(no_work, small_memory):
    _refused(lambda: train_meanfield_pinn(Heat(), **{**TINY, "n": 10**12}), "n=", "estimate")
    _refused(lambda: train_meanfield_pinn(Heat(), **{**TINY, "n": 4096, "n_domain": 10**8}), "n=", "estimate")
    _refused(lambda: train_meanfield_pinn(Heat(), **{**TINY, "n": 4096, "n_eval": 10**9}), "n_eval", "estimate")


def test_problem_by_name_dtype_by_name_and_numpy_scalars_give_the_same_run():
    ref = train_meanfield_pinn(Heat(), **TINY)
    same = train_meanfield_pinn(
        "heat",
        **{
            **TINY,
            "n": np.int64(4),
            "steps": np.int32(2),
            "dt": np.float64(0.05),
            "n_domain": 8.0,
            "seed": np.int64(0),
            "condition_weight": np.float32(1.0),
            "n_eval": np.int64(16),
        },
        dtype="float64",
    )
    assert same.history["loss"] == ref.history["loss"] and same.errors == ref.errors
    assert same.config["dtype"] == ref.config["dtype"] == "torch.float64"
    f32 = train_meanfield_pinn("heat", **TINY, dtype="float32")
    assert f32.model.w.dtype == torch.float32 and math.isfinite(f32.energy)


# =========================================================================== config and trainer
@pytest.mark.parametrize(
    "kw,name",
    [
        (dict(dt=-0.1), "dt"),
        (dict(steps=2.5), "steps"),
        (dict(seed=True), "seed"),
        (dict(checkpoint_every=0), "checkpoint_every"),
        (dict(time_limit=-1.0), "time_limit"),
        (dict(time_limit=math.inf), "time_limit"),
        (dict(checkpoint_dir=5), "checkpoint_dir"),
        (dict(checkpoint_dir=""), "checkpoint_dir"),
        (dict(progress="yes"), "progress"),
    ],
)
def test_config_validate_refuses_bad_settings(kw, name):
    _refused(lambda: MeanFieldConfig(**kw).validate(), name)


def test_config_validate_stores_plain_numbers():
    cfg = MeanFieldConfig(dt=np.float32(0.5), steps=np.int64(10), seed=3.0, alpha=np.int64(1)).validate()
    assert (cfg.dt, cfg.steps, cfg.seed, cfg.alpha) == (0.5, 10, 3, 1.0)
    assert type(cfg.steps) is int and type(cfg.seed) is int and type(cfg.dt) is float


def _data():
    x = torch.linspace(-1, 1, 16, dtype=torch.float64)[:, None]
    return x, torch.sin(3 * x)


def test_trainer_refuses_bad_arguments():
    x, y = _data()
    net = MeanFieldTwoLayer(1, n=4, generator=torch.Generator().manual_seed(0)).double()
    energy = RegressionEnergy(x, y)
    with pytest.raises(TypeError):  # still a TypeError too, as before
        MeanFieldTrainer(torch.nn.Linear(1, 1), energy)
    _refused(lambda: MeanFieldTrainer(torch.nn.Linear(1, 1), energy), "model", "MeanFieldTwoLayer")
    _refused(lambda: MeanFieldTrainer(net, "energy"), "energy must be callable")
    _refused(lambda: MeanFieldTrainer(net, energy, config={"steps": 3}), "config")
    _refused(lambda: MeanFieldTrainer(net, energy, evaluate=3), "evaluate")
    _refused(lambda: MeanFieldTrainer(net, energy, callbacks=[object()]), "callbacks[0]")

    class Every0:
        every = 0

        def __call__(self, trainer):
            return {}

    _refused(lambda: MeanFieldTrainer(net, energy, callbacks=[Every0()]), "callbacks[0].every")
    _refused(lambda: MeanFieldTrainer(net, energy, callbacks=Every0()), "callbacks")
    _refused(lambda: MeanFieldTrainer(net, energy, MeanFieldConfig(steps=-1)), "steps")


# =========================================================================== the net
@pytest.mark.parametrize(
    "kw,name",
    [
        (dict(in_dim=0), "in_dim"),
        (dict(in_dim=True), "in_dim"),
        (dict(n=True), "n"),
        (dict(n=math.inf), "n"),
        (dict(n=-3), "n"),
        (dict(out_dim=1.5), "out_dim"),
        (dict(activation="swish"), "activation"),
        (dict(activation=["tanh"]), "activation"),
        (dict(weight_scale=math.nan), "weight_scale"),
        (dict(bias_scale=-1.0), "bias_scale"),
        (dict(output_scale=math.inf), "output_scale"),
        (dict(input_bounds=((0.0,), (1.0,))), "input_bounds"),
        (dict(input_bounds=((0.0, 1.0), (1.0, 1.0))), "input_bounds"),
        (dict(input_bounds=((0.0, -math.inf), (1.0, 1.0))), "input_bounds"),
        (dict(input_bounds=5), "input_bounds"),
        (dict(generator=0), "generator"),
    ],
)
def test_net_refuses_bad_arguments(kw, name):
    _refused(lambda: MeanFieldTwoLayer(**{"in_dim": 2, **kw}), name)


def test_net_refuses_a_huge_n_and_takes_numpy_scalars(small_memory):
    _refused(lambda: MeanFieldTwoLayer(2, n=1e12), "n=", "estimate")
    _refused(lambda: MeanFieldTwoLayer(2, n=1e300), "n=", "estimate")
    a = MeanFieldTwoLayer(2, n=8, weight_scale=0.5, generator=torch.Generator().manual_seed(1))
    b = MeanFieldTwoLayer(
        np.int64(2), n=np.int64(8), weight_scale=np.float64(0.5), generator=torch.Generator().manual_seed(1)
    )
    assert b.n == 8 and type(b.n) is int and torch.equal(a.particles(), b.particles())
    with pytest.raises(ValueError, match="k must be an integer >= 0"):
        a.sample_initial(-1)


# =========================================================================== energies and the regression helper
def test_energies_refuse_bad_arguments():
    x, y = _data()
    p = Heat()
    _refused(lambda: RegressionEnergy(x, y[:-1]), "same number of rows")
    _refused(lambda: RegressionEnergy(x, torch.full_like(y, math.nan)), "y contains NaN")
    _refused(lambda: RegressionEnergy(x[:0], y[:0]), "x must have shape")
    _refused(lambda: RegressionEnergy(x.numpy(), y), "x must be a floating-point torch.Tensor")
    _refused(lambda: RegressionEnergy(x, torch.ones(16, dtype=torch.int64)), "y must be a floating-point")
    sampler = Sampler(p, 8, 4, 4)
    _refused(lambda: PINNEnergy(p, sampler, condition_weight=-1), "condition_weight", ">= 0")
    _refused(lambda: PINNEnergy(p, sampler, weights={"pdee": 1.0}), "pdee", "pde")
    _refused(lambda: PINNEnergy(p, sampler, weights={"pde": -1.0}), "weights['pde']")
    _refused(lambda: PINNEnergy(p, sampler, method="finite"), "method")
    _refused(lambda: PINNEnergy(p, sampler, dtype="float16"), "dtype")
    _refused(lambda: PINNEnergy(p, "sampler"), "sampler")
    _refused(lambda: PINNEnergy("heat", sampler), "problem")
    assert PINNEnergy(p, sampler, dtype="float32").dtype == torch.float32


def test_regression_helper_refuses_bad_arguments_before_any_work(no_work):
    x, y = _data()
    _refused(lambda: train_meanfield_regression(x, y, n=0, steps=2), "n")
    _refused(lambda: train_meanfield_regression(x, y, n=4, steps=2, x_test=x), "x_test and y_test")
    _refused(lambda: train_meanfield_regression(x, y, n=4, steps=2, x_test=x, y_test=y[:, :0]), "y_test")
    _refused(lambda: train_meanfield_regression(x, y, n=4, steps=2, dt=-1.0), "dt")
    _refused(lambda: train_meanfield_regression(x, y, n=4, steps=2, net_options={"bias": 1.0}), "bias", "allowed")


def test_meanfield_spec_refuses_a_misspelt_key_and_lists_the_allowed_ones():
    from pinnkit.nets.meanfield import meanfield_spec

    msg = _refused(lambda: meanfield_spec({"kind": "meanfield", "nn": 64}), "'nn'", "allowed")
    assert "weight_scale" in msg and "activation" in msg
    _refused(lambda: meanfield_spec({"kind": "meanfield", "n": 2.5}), "n must be an integer")
    _refused(lambda: meanfield_spec({"kind": "meanfield", "width": math.inf}), "width")
    _refused(lambda: meanfield_spec({"kind": "meanfield", "activation": "swish"}), "activation")
    _refused(lambda: meanfield_spec({"kind": "meanfield", "output_scale": -1}), "output_scale")
    _refused(lambda: meanfield_spec({"kind": "mlp"}), "kind")
    assert meanfield_spec({"kind": "meanfield", "width": np.int64(32)}) == {"n": 32, "activation": "tanh"}
    merged = {"kind": "meanfield", "width": 64, "depth": 3, "activation": "tanh", "n": 16, "weight_scale": 0.5}
    assert meanfield_spec(merged, ignore=("depth",)) == {"n": 16, "activation": "tanh", "weight_scale": 0.5}
