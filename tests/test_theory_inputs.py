"""Bad arguments of ``pinnkit.theory`` are refused before any work (issue 13, defect 16): a ``ValueError`` that
names the parameter and its allowed range, raised before a point is drawn or the net evaluated; numpy scalars
are accepted where a Python number is; sample counts have an upper limit from a memory estimate."""

import math

import numpy as np
import pytest
import torch
from torch import nn

import pinnkit.preflight
from pinnkit.equations import BurgersBlowup
from pinnkit.nets import MeanFieldTwoLayer
from pinnkit.theory import (
    TheoryTracker,
    calibrate_constant,
    data_needed_for_q,
    deeponet_parameter_count,
    deeponet_size_estimate,
    energy_decay,
    gradient_diagnostics,
    meanfield_state,
    particle_moments,
    theorem1,
    theorem2,
    theorem2_consistent,
    tight_estimate,
)
from pinnkit.theory.burgers_blowup import box_rule, graded_time_grid
from pinnkit.theory.gradients import residual_gradient

pytestmark = pytest.mark.usefixtures("one_thread")

GiB = 1024**3
BAD_COUNTS = [0, -1, 2.5, True, math.inf, math.nan, "8", None]


class Spy(nn.Module):
    """The exact solution, counting its evaluations (a refusal must come before any)."""

    def __init__(self, problem, eps: float = 0.0):
        super().__init__()
        self.problem, self.eps, self.calls = problem, eps, 0

    def forward(self, x):
        self.calls += 1
        return self.problem.exact(x) + self.eps * torch.sin(math.pi * x[:, :1])


@pytest.fixture
def p1():
    return BurgersBlowup(dim=1, delta=0.5)


@pytest.fixture
def small_memory(monkeypatch):
    """16 GiB available, whatever this machine has (the memory refusals are then deterministic)."""
    monkeypatch.setattr(pinnkit.preflight, "available_memory", lambda: 16 * GiB)


def _refused(fn, *names):
    with pytest.raises(ValueError) as info:
        fn()
    msg = str(info.value)
    for name in names:
        assert name in msg, msg
    return msg


# =========================================================================== theorem 1, theorem 2, gradients
@pytest.mark.parametrize("bad", BAD_COUNTS)
def test_theorem1_refuses_a_bad_n_samples_before_evaluating(p1, bad):
    spy = Spy(p1)
    msg = _refused(lambda: theorem1(spy, p1, n_samples=bad), "n_samples", ">= 1")
    assert "integer" in msg and spy.calls == 0


@pytest.mark.parametrize(
    "kw,name",
    [
        (dict(seed=-1), "seed"),
        (dict(seed=2**32), "seed"),
        (dict(seed=1.5), "seed"),
        (dict(seed=True), "seed"),
        (dict(norm="frobenius"), "norm"),
        (dict(method="halton"), "method"),
        (dict(n_initial=0), "n_initial"),
        (dict(n_initial=3.5), "n_initial"),
        (dict(window_length=-1.0), "window_length"),
        (dict(window_length=math.inf), "window_length"),
        (dict(window_length=math.nan), "window_length"),
    ],
)
def test_theorem1_refuses_bad_arguments(p1, kw, name):
    spy = Spy(p1)
    _refused(lambda: theorem1(spy, p1, n_samples=64, **kw), name)
    assert spy.calls == 0


def test_seed_message_says_the_range(p1):
    msg = _refused(lambda: theorem1(Spy(p1), p1, n_samples=64, seed=-3), "seed")
    assert "[0, 4294967295]" in msg


def test_theorem1_refuses_a_huge_n_samples_before_allocating(p1, small_memory):
    spy = Spy(p1)
    msg = _refused(lambda: theorem1(spy, p1, n_samples=1e9), "n_samples", "estimate")
    assert "GiB" in msg and spy.calls == 0
    _refused(lambda: theorem1(spy, p1, n_samples=64, n_initial=10**10), "n_initial", "estimate")
    # the Gauss rule is capped at 512 nodes per axis: a large request is not a large allocation
    assert theorem1(spy, p1, n_samples=10**12, method="gauss").n_samples == 512**2


def test_theorem1_takes_numpy_scalars_with_the_same_numbers(p1):
    a = theorem1(Spy(p1, 1e-2), p1, n_samples=64, seed=3, n_initial=32, window_length=0.5)
    b = theorem1(
        Spy(p1, 1e-2), p1, n_samples=np.int64(64), seed=np.int32(3), n_initial=64.0 / 2, window_length=np.float32(0.5)
    )
    assert a.as_dict() == b.as_dict()


def test_model_and_problem_kinds_are_refused(p1):
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        theorem1(lambda x: x, p1, n_samples=64)
    with pytest.raises(ValueError, match="problem must be a pinnkit.equations.InviscidBurgersBlowup"):
        theorem1(Spy(p1), "burgers-blowup", n_samples=64)
    with pytest.raises(TypeError):  # still a TypeError too, as before
        tight_estimate(Spy(p1), object())


@pytest.mark.parametrize("fn", [theorem2, theorem2_consistent])
@pytest.mark.parametrize(
    "kw,name",
    [
        (dict(n_samples=0), "n_samples"),
        (dict(n_samples=2.5), "n_samples"),
        (dict(n_time=0), "n_time"),
        (dict(n_time=np.nan), "n_time"),
        (dict(n_space=-3), "n_space"),
        (dict(n_space=True), "n_space"),
        (dict(method="mc"), "method"),
        (dict(seed=-1), "seed"),
    ],
)
def test_theorem2_refuses_bad_arguments(p1, fn, kw, name):
    spy = Spy(p1)
    _refused(lambda: fn(spy, p1, **{"n_samples": 64, "n_time": 8, "n_space": 8, **kw}), name)
    assert spy.calls == 0


def test_theorem2_refuses_huge_gauss_rules(p1, small_memory):
    spy = Spy(p1)
    _refused(lambda: theorem2(spy, p1, n_samples=64, n_time=10**6, n_space=8), "n_time", "estimate")
    _refused(lambda: theorem2(spy, p1, n_samples=10**10, method="uniform"), "n_samples", "estimate")
    assert spy.calls == 0


@pytest.mark.parametrize(
    "kw,name",
    [
        (dict(n_samples=0), "n_samples"),
        (dict(n_samples=2.5), "n_samples"),
        (dict(chunk=0), "chunk"),
        (dict(seed=-1), "seed"),
        (dict(norm="l1"), "norm"),
        (dict(method="grid"), "method"),
        (dict(theorem1_terms={"C1": 1.0}), "theorem1_terms"),
    ],
)
def test_gradient_diagnostics_refuses_bad_arguments(p1, kw, name):
    spy = Spy(p1)
    _refused(lambda: gradient_diagnostics(spy, p1, **{"n_samples": 64, **kw}), name)
    assert spy.calls == 0


def test_gradient_diagnostics_refuses_a_huge_n_samples(p1, small_memory):
    spy = Spy(p1)
    _refused(lambda: gradient_diagnostics(spy, p1, n_samples=1e9), "n_samples", "estimate")
    assert spy.calls == 0


def test_gradient_diagnostics_takes_numpy_scalars(p1):
    a = gradient_diagnostics(Spy(p1, 1e-2), p1, n_samples=32, seed=1, chunk=16)
    b = gradient_diagnostics(Spy(p1, 1e-2), p1, n_samples=np.int64(32), seed=np.int64(1), chunk=np.int16(16))
    assert a.as_dict() == b.as_dict()


def test_residual_gradient_refuses_bad_points(p1):
    spy = Spy(p1)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 2\)"):
        residual_gradient(spy, p1, torch.zeros(4, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="x contains NaN"):
        residual_gradient(spy, p1, torch.full((4, 2), math.nan, dtype=torch.float64))
    with pytest.raises(ValueError, match="x must be a torch.Tensor"):
        residual_gradient(spy, p1, np.zeros((4, 2)))
    assert spy.calls == 0


def test_box_rule_no_longer_truncates_a_fractional_count():
    with pytest.raises(ValueError, match="n must be an integer"):
        box_rule([0.0], [1.0], 2.5, "uniform", 0)
    with pytest.raises(ValueError, match="method"):
        box_rule([0.0], [1.0], 4, "halton", 0)


# =========================================================================== tight estimate
@pytest.mark.parametrize("bad", BAD_COUNTS)
def test_tight_estimate_refuses_a_bad_n_slices(p1, bad):
    spy = Spy(p1)
    _refused(lambda: tight_estimate(spy, p1, n_slices=bad), "n_slices", ">= 1")
    assert spy.calls == 0


@pytest.mark.parametrize(
    "kw,name,rng",
    [
        (dict(n_sup=1), "n_sup", ">= 2"),
        (dict(n_sup=np.inf), "n_sup", ">= 2"),
        (dict(n_quad=0), "n_quad", ">= 1"),
        (dict(n_time_nodes=0), "n_time_nodes", ">= 1"),
        (dict(n_sub=0), "n_sub", ">= 1"),
        (dict(n_sub=1.5), "n_sub", ">= 1"),
        (dict(grading="no"), "grading", "True or False"),
        (dict(use_signed_flux=1), "use_signed_flux", "True or False"),
    ],
)
def test_tight_estimate_refuses_bad_settings(p1, kw, name, rng):
    spy = Spy(p1)
    _refused(lambda: tight_estimate(spy, p1, n_slices=4, **kw), name, rng)
    assert spy.calls == 0


def test_tight_estimate_refuses_huge_grids(p1, small_memory):
    spy = Spy(p1)
    _refused(lambda: tight_estimate(spy, p1, n_slices=10**9), "n_slices", "estimate")
    _refused(lambda: tight_estimate(spy, p1, n_slices=4, n_sup=10**10), "n_sup", "estimate")
    _refused(lambda: tight_estimate(spy, p1, n_slices=4, n_quad=10**6), "n_quad", "estimate")
    assert spy.calls == 0


def test_tight_estimate_takes_numpy_scalars_with_the_same_numbers(p1):
    kw = dict(n_sup=9, n_quad=8, n_sub=4)
    a = tight_estimate(Spy(p1, 1e-2), p1, n_slices=4, n_time_nodes=2, grading=True, **kw)
    b = tight_estimate(Spy(p1, 1e-2), p1, n_slices=np.int64(4), n_time_nodes=2.0, grading=np.bool_(True), **kw)
    assert a.ratio > 1 and a.summary() == b.summary() and np.array_equal(a.times, b.times)


def test_graded_time_grid_checks_its_counts(p1):
    with pytest.raises(ValueError, match="n_slices"):
        graded_time_grid(p1, 0)
    with pytest.raises(ValueError, match="n_fine"):
        graded_time_grid(p1, 4, n_fine=1)


# =========================================================================== tracker
@pytest.mark.parametrize(
    "kw,name",
    [
        (dict(n_samples=0), "n_samples"),
        (dict(n_samples=2.5), "n_samples"),
        (dict(every=0), "every"),
        (dict(every=True), "every"),
        (dict(seed=-1), "seed"),
        (dict(norm="l2"), "norm"),
        (dict(tight_slices=0), "tight_slices"),
        (dict(tight_options={"n_slice": 4}), "n_slice"),
        (dict(tight_options={"n_sup": 1}), "n_sup"),
        (dict(tight_options=[("n_sup", 9)]), "tight_options"),
        (dict(what=()), "what"),
        (dict(what=5), "what"),
        (dict(theorem_options={"theorem3": {}}), "theorem3"),
        (dict(theorem_options=[("theorem1", {})]), "theorem_options"),
        (dict(theorem_options={"theorem1": {"max_box": 9}}), "max_box"),
        (dict(theorem_options={"theorem1": {"max_boxes": 0}}), "max_boxes"),
        (dict(theorem_options={"theorem2": {"rtol": -1.0}}), "rtol"),
    ],
)
def test_tracker_refuses_bad_arguments_in_the_constructor(p1, kw, name):
    _refused(lambda: TheoryTracker(p1, **kw), name)


def test_tracker_refuses_a_huge_n_samples_in_the_constructor(p1, small_memory):
    _refused(lambda: TheoryTracker(p1, n_samples=1e9), "n_samples", "estimate")
    _refused(lambda: TheoryTracker(p1, what=("tight",), tight_slices=10**9), "n_slices", "estimate")


def test_tracker_takes_numpy_scalars_and_a_single_name(p1):
    tr = TheoryTracker(p1, every=np.int64(5), what="tight", n_samples=np.int64(64), tight_slices=np.int32(4), seed=2.0)
    assert (tr.every, tr.what, tr.n_samples, tr.seed) == (5, ("tight",), 64, 2)
    assert tr.tight_options["n_slices"] == 4
    with pytest.raises(ValueError, match="unknown tight_options key"):
        TheoryTracker(p1, tight_options={"n_slices": 4, "n_sbu": 2})
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        tr.compute("not a model")


# =========================================================================== mean-field diagnostics
def test_energy_decay_refuses_empty_and_bad_sequences():
    _refused(lambda: energy_decay([], []), "at least one")
    _refused(lambda: energy_decay([0.0, 1.0], [1.0]), "equal length")
    _refused(lambda: energy_decay([0.0, math.nan], [1.0, 0.5]), "t must be finite")
    _refused(lambda: energy_decay("abc", "def"), "t must be")
    _refused(lambda: energy_decay([0.0, "x"], [1.0, 0.5]), "t must be")
    for bad in (0, 1.5, math.nan, True):
        _refused(lambda bad=bad: energy_decay([0.0, 1.0], [1.0, 0.5], last_fraction=bad), "last_fraction", "(0.0, 1.0]")
    for bad in ((1.0, 0.0), (0.0, math.inf), (0.0,), "ab", 3):
        _refused(lambda bad=bad: energy_decay([0.0, 1.0], [1.0, 0.5], window=bad), "window")


def test_energy_decay_takes_numpy_scalars_with_the_same_numbers():
    t = np.linspace(0.0, 2.0, 21)
    e = np.exp(-1.5 * t)
    a = energy_decay(t, e, last_fraction=0.5)
    b = energy_decay(t, e, last_fraction=np.float32(0.5))
    assert a.rate == pytest.approx(1.5) and a.as_dict() == b.as_dict()
    c = energy_decay(t, e, window=(np.float64(1.0), np.int64(2)))
    assert c.window == (1.0, 2.0) and c.n_points == 11


def test_particle_moments_refuses_bad_particles():
    _refused(lambda: particle_moments(np.zeros((0, 3))), "at least one particle")
    _refused(lambda: particle_moments(np.full((4, 3), math.nan)), "NaN or inf")
    _refused(lambda: particle_moments(np.zeros((4, 3)), out_dim=2), "out_dim", "[1, 1]")
    _refused(lambda: particle_moments(np.zeros((4, 3)), out_dim=0), "out_dim")
    _refused(lambda: particle_moments(np.zeros((4, 3)), out_dim=True), "out_dim")
    _refused(lambda: particle_moments([["a", "b", "c"]]), "model_or_particles")
    _refused(lambda: particle_moments(nn.Linear(2, 2)), "model_or_particles")
    net = MeanFieldTwoLayer(1, n=4, generator=torch.Generator().manual_seed(0))
    _refused(lambda: particle_moments(net, out_dim=2), "out_dim")
    assert particle_moments(np.ones((4, 4)), out_dim=np.int64(2)).mean_c == [1.0, 1.0]


def test_meanfield_state_refuses_bad_arguments():
    from pinnkit.meanfield_energy import RegressionEnergy

    net = MeanFieldTwoLayer(1, n=4, generator=torch.Generator().manual_seed(0)).double()
    x = torch.linspace(-1, 1, 8, dtype=torch.float64)[:, None]
    energy = RegressionEnergy(x, x**2)
    _refused(lambda: meanfield_state(nn.Linear(1, 1), energy), "model")
    _refused(lambda: meanfield_state(net, "energy"), "energy must be callable")
    _refused(lambda: meanfield_state(net, energy, step=-1), "step")
    _refused(lambda: meanfield_state(net, energy, step=0.5), "step")
    assert meanfield_state(net, energy, step=np.int64(0)).energy > 0


# =========================================================================== DeepONet size estimate
def test_deeponet_widths_and_overflow_are_named():
    _refused(lambda: deeponet_parameter_count(4, 10, branch_hidden=(64, math.inf)), "branch_hidden[1]")
    _refused(lambda: deeponet_parameter_count(4, 10, trunk_hidden=(2.5,)), "trunk_hidden[0]")
    _refused(lambda: deeponet_parameter_count(4, 10, trunk_hidden=64), "trunk_hidden")
    _refused(lambda: deeponet_size_estimate(100, coord_dim=0), "coord_dim")
    _refused(lambda: deeponet_size_estimate(100, branch_hidden="64"), "branch_hidden")
    _refused(lambda: deeponet_size_estimate(10**400), "n_train")
    _refused(lambda: deeponet_size_estimate(100, constant=1e308), "constant", "n_train")
    _refused(lambda: calibrate_constant(2.0, 10**400), "n_observed")
    _refused(lambda: data_needed_for_q(10**200), "q")
    _refused(lambda: data_needed_for_q(3, constant=math.inf), "constant")
    assert deeponet_parameter_count(np.int64(4), 10, branch_hidden=(np.int64(8),), trunk_hidden=[8.0]) == (
        deeponet_parameter_count(4, 10, branch_hidden=(8,), trunk_hidden=(8,))
    )
    assert data_needed_for_q(np.int64(5), np.float32(0.5)) == data_needed_for_q(5, 0.5)
