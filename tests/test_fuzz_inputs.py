"""Property-based fuzzing of every public input (issue 13): ``pinnkit.solve`` (its options, the net spec keys, the
problem parameters, the option groups), the problem constructors, ``pinnkit.theory``, the trainers' configs,
the operator run, the three studies and the command line.

Each case draws one parameter and a bad or edge value for it (ints negative, 0 and huge, nan/±inf, 1e300, -0.0,
tiny floats, 2.5 for counts, bools, None, strings, numpy scalars, containers; for choices wrong-case and near-miss
strings), keeps every other size valid but tiny, and asserts: the call succeeds, or raises a ``ValueError`` whose
message names the parameter (the CLI: exit status 2, no traceback, an ``error:`` line naming the option), and that
before any training. Training (and the studies' data generation and jobs) is replaced by a tripwire that raises
:class:`Reached`: an accepted value reaches it, which counts as success, and any other exception fails the test.
Values that must never be accepted are asserted to be refused: a bool for a number, a non-integral float for a
count, nan/inf anywhere, a non-bool for a flag, a string or a container for a number, a near-miss for a choice.

Reproducible (``derandomize=True``, no example database) and sized to run in well under a minute on 2 cores.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import numbers
import os
import re
import tempfile
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import pinnkit
import pinnkit.operator_run as operator_run
import pinnkit.preflight
import pinnkit.studies.blowup as blowup
import pinnkit.studies.deeponet_size as deeponet_size
import pinnkit.studies.depth_width as depth_width_study
from pinnkit import theory
from pinnkit.api import SHORTCUTS, Checkpoint, Engine, Loss
from pinnkit.cli import build_parser, main
from pinnkit.constraints import HardConstraints
from pinnkit.equations import PROBLEMS, BurgersBlowup, Heat, make_problem
from pinnkit.equations import cavity as cavity_module
from pinnkit.meanfield_trainer import MeanFieldConfig, train_meanfield_pinn
from pinnkit.nets import MLP, MeanFieldTwoLayer
from pinnkit.nets.activations import ACTIVATIONS
from pinnkit.operator_run import GRFS, PDES, RUN_MODES, OperatorRunConfig
from pinnkit.presets import DEFAULT, NET_KEYS, PRESETS
from pinnkit.sampling import Points
from pinnkit.studies.blowup import StudyConfig
from pinnkit.studies.deeponet_size import SizeStudyConfig
from pinnkit.studies.depth_width import PINN_ACTIVATIONS, PROBLEM_SETTINGS, DepthWidthStudyConfig
from pinnkit.theory import blowup_certified, parabolic, theorems_certified
from pinnkit.theory import depth_width as depth_width_theory
from pinnkit.trainer import TrainConfig

GiB = 1024**3
#: accepted values may warn (compile without taylor, a cavity Re beyond the tested range): not what is tested here
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


class Reached(Exception):
    """Raised by the tripwires that replace training: the inputs were accepted."""


def _reached(*a: Any, **k: Any) -> None:
    raise Reached


FUZZ = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# ================================================================================================ values
NAN, INF = math.nan, math.inf
NONFINITE = [NAN, INF, -INF, np.float64(NAN), np.float32(INF), np.float64(-INF), np.float32(NAN)]
BOOLS = [True, False, np.bool_(True), np.bool_(False)]
INTS = [-1, -2, 0, 1, 2, 3, 10**12, 2**63, 2**70, -(2**70), 10**400, np.int64(-1), np.int64(0), np.int64(2)]
INTS += [np.int32(3), np.int64(2**62), np.uint8(4)]
FLOATS = [-0.0, 0.0, 5e-324, 1e-300, 1e-12, 0.5, 1.0, 2.0, 2.5, 2.7, -2.5, 1e300, -1e300, 1e12]
FLOATS += [np.float32(2.5), np.float32(0.5), np.float32(1.0), np.float64(1e300), np.float64(-0.0), np.float16(3.0)]
STRINGS = ["", " ", "garbage", "1", "2", "2.5", "nan", "inf", "True", "None", "-1", "0x10"]
CONTAINERS: list = [[], [1], [1.0, 2.0], (1,), (), {}, {"a": 1}, {1}, np.array([1.0]), np.array(2.0), np.zeros((2, 2))]
OTHERS: list = [None, object(), b"1", 1j, torch.tensor(1.0), torch.tensor([1, 2])]
ALL_VALUES = NONFINITE + BOOLS + INTS + FLOATS + STRINGS + CONTAINERS + OTHERS


def near_misses(choices: Sequence[Any]) -> list:
    out = []
    for c in choices:
        if isinstance(c, str) and c:
            out += [c.upper(), c.capitalize(), c + " ", " " + c, c[:-1], c + "x", c.replace("-", "_"), c + "\n"]
    return [v for v in dict.fromkeys(out) if v not in choices]


def values_for(choices: Sequence[Any] = ()) -> st.SearchStrategy:
    """Bad and edge values, the near misses of ``choices`` and the valid choices themselves."""
    pool = list(ALL_VALUES) + near_misses(choices) + list(choices)
    return st.one_of(
        st.sampled_from(pool),
        st.integers(-3, 40),
        st.floats(allow_nan=True, allow_infinity=True),
    )


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _finite_real(v: Any) -> bool:
    if not _is_real(v):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:  # an int beyond float range is finite, just huge
        return True


def _nonfinite(v: Any) -> bool:
    return _is_real(v) and not _finite_real(v)


@dataclasses.dataclass(frozen=True)
class P:
    """One parameter: its name, kind ("count", "real", "bool", "choice", "path", "other"), whether None is
    valid, its choices, and the words a refusal may name it by (default: the name)."""

    name: str
    kind: str
    optional: bool = False
    choices: Tuple[Any, ...] = ()
    names: Tuple[str, ...] = ()
    fold_case: bool = False  # a choice accepted in any case (the cavity's lid)

    def aliases(self) -> Tuple[str, ...]:
        base = self.name.rstrip("[]")
        return self.names or (base,)

    def must_refuse(self, v: Any) -> bool:
        """Values that must never be accepted for this kind of parameter."""
        if v is None:
            return not self.optional and self.kind != "other"
        if _nonfinite(v):
            return True
        if self.kind == "count":
            if not _finite_real(v):
                return True
            return not (isinstance(v, numbers.Integral) or float(v).is_integer())
        if self.kind == "real":
            return not _finite_real(v)
        if self.kind == "bool":
            return not isinstance(v, (bool, np.bool_))
        if self.kind == "choice":
            try:
                return not (isinstance(v, str) and (v.lower() if self.fold_case else v) in self.choices)
            except TypeError:
                return True
        if self.kind == "path":
            return not (isinstance(v, (str, os.PathLike)) and str(v).strip())
        return False


def outcome(fn: Callable[[], Any]) -> Optional[str]:
    """None when ``fn`` is accepted (returns, or reaches a tripwire), the message of its ValueError otherwise;
    any other exception propagates and fails the test."""
    try:
        fn()
    except Reached:
        return None
    except ValueError as exc:
        return str(exc)
    return None


def judge(p: P, value: Any, fn: Callable[[], Any]) -> None:
    msg = outcome(fn)
    if msg is None:
        assert not p.must_refuse(value), f"{p.name}={value!r} was accepted silently"
    else:
        assert any(a in msg for a in p.aliases()), f"{p.name}={value!r}: the refusal does not name it: {msg}"


# ================================================================================================ fixtures
@pytest.fixture(scope="module")
def sandbox():
    """A temporary working directory (any relative path a value names lands there), the cache under it, 8 GiB
    of memory whatever this machine has, one torch thread, and every training entry point a tripwire."""
    mp = pytest.MonkeyPatch()
    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as tmp:
        mp.chdir(tmp)
        mp.setenv("PINNKIT_CACHE", os.path.join(tmp, "cache"))
        mp.setattr(pinnkit.preflight, "available_memory", lambda: 8 * GiB)
        mp.setattr("pinnkit.training.loop.TrainingLoop.train", _reached)
        mp.setattr(blowup, "_worker", _reached)
        mp.setattr(blowup, "_make_pool", _reached)
        mp.setattr(blowup, "dask_client", _reached)
        mp.setattr("pinnkit.studies.cluster.dask_client", _reached)
        mp.setattr(blowup, "run_job", _reached)
        mp.setattr(deeponet_size, "heat_data", _reached)
        mp.setattr(deeponet_size, "train_risk", _reached)
        mp.setattr(depth_width_study, "measure_spread", _reached)
        mp.setattr(depth_width_study, "train_error", _reached)
        mp.setattr(operator_run, "operator_data", _reached)
        mp.setattr(operator_run, "make_dataset", _reached)
        mp.setattr(operator_run, "DeepONetTrainer", _reached)
        mp.setattr(cavity_module._ref, "solve_cavity", _reached)  # the cavity's reference solve is work too
        torch.set_num_threads(1)
        try:
            yield tmp
        finally:
            mp.undo()
            torch.set_num_threads(threads)


@contextlib.contextmanager
def same_threads():
    n = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_num_threads(n)


# ================================================================================================ solve
TINY_NET = {"width": 2, "depth": 1}
TINY = dict(steps=1, lbfgs_steps=0, n_domain=4, n_boundary=4, n_initial=4, n_eval=8, progress=False)

SOLVE_OPTIONS = [
    *(P(k, "count") for k in ("steps", "lbfgs_steps", "decay_every", "lbfgs_history", "lbfgs_chunk")),
    *(P(k, "count") for k in ("n_domain", "n_boundary", "n_initial", "resample_every", "pool_factor")),
    *(P(k, "count") for k in ("balance_every", "n_eval", "track_every", "ntk_every", "checkpoint_every", "seed")),
    *(P(k, "real") for k in ("lr", "lr_decay", "condition_weight", "grad_penalty", "gpinn_penalty")),
    P("balance_alpha", "real"),
    P("time_limit", "real", optional=True),
    *(P(k, "bool") for k in ("compile", "resume", "overwrite", "progress")),
    P("optimizer", "choice", choices=("adam", "sgd")),
    P("quasi_newton", "choice", choices=("lbfgs", "bfgs", "ssbfgs")),
    P("sampling", "choice", choices=("sobol", "lhs", "uniform")),
    P("adaptive", "choice", optional=True, choices=("rad",), names=("adaptive", "resample_every")),
    P("balance", "choice", optional=True, choices=("max-mean", "norm", "ntk")),
    P("causal", "other", optional=True),
    P("method", "choice", choices=("autograd", "forward", "taylor")),
    P("dtype", "choice", choices=("float32", "float64")),
    P("device", "choice", optional=True, choices=("cpu",)),
    P("preset", "choice", optional=True, choices=("default", *PRESETS)),
    P("checkpoint_dir", "path", optional=True),
    *(P(k, "other") for k in ("weights", "hard_constraints", "callbacks", "net", "stages")),
    *(P(k, "other", optional=True) for k in ("points", "loss", "engine", "checkpoint", "infer", "data")),
]


def test_solve_option_table_covers_every_option():
    covered = {p.name for p in SOLVE_OPTIONS}
    assert set(SHORTCUTS) <= covered, set(SHORTCUTS) - covered
    assert set(DEFAULT) - {"net"} <= covered


def _solve(problem: Any, **kw: Any) -> Callable[[], Any]:
    args = {**TINY, "net": TINY_NET, **kw}
    if "stages" in kw:
        for k in ("steps", "lbfgs_steps"):
            args.pop(k)
    return lambda: pinnkit.solve(problem, **args)


def _call_solve_option(ctx: Any, p: P, value: Any) -> Callable[[], Any]:
    return _solve("heat", **{p.name: value})


_NET_KIND = {
    "kind": P("kind", "choice", choices=tuple(NET_KEYS), names=("kind", "net")),
    "width": P("width", "count"),
    "depth": P("depth", "count"),
    "n": P("n", "count"),
    "activation": P("activation", "choice", choices=tuple(ACTIVATIONS)),
    "init": P("init", "choice", choices=("glorot", "he")),
    "fourier_features": P("fourier_features", "count", optional=True),  # None: no features
    "fourier_sigma": P("fourier_sigma", "other"),  # a scale, one per input axis, or "auto"
    "output_scale": P("output_scale", "other"),  # None, a scale or "auto"
}


NET_CASES = [(kind, _NET_KIND[key]) for kind, keys in NET_KEYS.items() for key in keys]


def _call_net_spec(kind: str, p: P, value: Any) -> Callable[[], Any]:
    base = {"kind": kind, "n": 2} if kind == "meanfield" else {"kind": kind, **TINY_NET}
    if p.name in ("n", "width"):
        base.pop("n", None)
    return _solve("heat", net={**base, p.name: value})


PROBLEM_KINDS: Dict[str, Dict[str, P]] = {
    "heat": {
        "dim": P("dim", "count"),
        "kappa": P("kappa", "real"),
        "T": P("T", "real"),
        "solution": P("solution", "choice", choices=("sine", "two-mode", "cosine", "periodic")),
    },
    "advection-diffusion": {
        k: P(k, "count" if k == "dim" else "real") for k in ("dim", "kappa", "velocity", "reaction", "T")
    },
    "burgers": {"nu": P("nu", "real"), "n_nodes": P("n_nodes", "count", optional=True)},
    "convection": {"beta": P("beta", "real"), "k": P("k", "count"), "T": P("T", "real")},
    "anisotropic-heat": {
        "setting": P("setting", "choice", choices=("modes", "units")),
        **{k: P(k, "real", optional=True) for k in ("kappa_x", "kappa_y", "length_x", "length_y", "amplitude", "T")},
        **{k: P(k, "count", optional=True) for k in ("mode_x", "mode_y")},
    },
    "burgers-blowup": {"dim": P("dim", "count"), "delta": P("delta", "real")},
    "kovasznay": {"re": P("re", "real")},
    "taylor-green": {"nu": P("nu", "real"), "T": P("T", "real")},
    "beltrami": {k: P(k, "real") for k in ("a", "d", "nu", "T")},
    "cavity": {
        "re": P("re", "real"),
        "lid": P("lid", "choice", choices=("regularised", "uniform", "regularized"), fold_case=True),
        "n_reference": P("n_reference", "count"),
    },
    "heat-domain": {
        "domain": P("domain", "other"),
        "dim": P("dim", "count"),
        "kappa": P("kappa", "real"),
        "T": P("T", "real"),
        "freq": P("freq", "real"),
    },
    "reaction-diffusion": {"domain": P("domain", "other"), "dim": P("dim", "count"), "freq": P("freq", "real")},
    "poisson": {
        "domain": P("domain", "other"),
        "dim": P("dim", "count"),
        "freq": P("freq", "real"),
        "boundary": P("boundary", "choice", choices=("dirichlet", "robin", "mixed")),
        "alpha": P("alpha", "real"),
        "beta": P("beta", "real"),
    },
}
PROBLEM_PARAMS = [(name, p) for name, table in PROBLEM_KINDS.items() for p in table.values()]


def test_problem_table_covers_every_parameter():
    assert set(PROBLEM_KINDS) == set(PROBLEMS)
    for name, cls in PROBLEMS.items():
        assert set(PROBLEM_KINDS[name]) == set(cls.PARAMETERS), name


def _call_constructor(name: str, p: P, value: Any) -> Callable[[], Any]:
    return lambda: PROBLEMS[name](**{p.name: value})


def _call_make_problem(name: str, p: P, value: Any) -> Callable[[], Any]:
    return lambda: make_problem(name, **{p.name: value})


def _call_solve_problem(name: str, p: P, value: Any) -> Callable[[], Any]:
    return _solve(name, **{p.name: value})


GROUPS = [
    (Points, P("n_domain", "count", optional=True)),
    (Points, P("n_boundary", "count", optional=True)),
    (Points, P("sampling", "choice", optional=True, choices=("sobol", "lhs", "uniform"))),
    (Points, P("resample_every", "count", optional=True)),
    (Points, P("adaptive", "choice", optional=True, choices=("rad",), names=("adaptive", "resample_every"))),
    (Loss, P("condition_weight", "real", optional=True)),
    (Loss, P("grad_penalty", "real", optional=True)),
    (Loss, P("gpinn_penalty", "real", optional=True)),
    (Loss, P("hard_constraints", "other")),
    (Loss, P("weights", "other")),
    (Loss, P("balance", "other")),
    (Loss, P("causal", "other", optional=True)),
    (Engine, P("method", "choice", optional=True, choices=("autograd", "forward", "taylor"))),
    (Engine, P("compile", "bool", optional=True)),
    (Engine, P("dtype", "choice", optional=True, choices=("float32", "float64"))),
    (Engine, P("device", "choice", optional=True, choices=("cpu",))),
    (Checkpoint, P("every", "count", optional=True, names=("every", "checkpoint_every"))),
    (Checkpoint, P("resume", "bool", optional=True)),
    (Checkpoint, P("overwrite", "bool", optional=True)),
    (Checkpoint, P("dir", "path", optional=True, names=("dir", "checkpoint_dir"))),
]
_GROUP_ARG = {Points: "points", Loss: "loss", Engine: "engine", Checkpoint: "checkpoint"}
_POINT_COUNTS = {"n_domain": 4, "n_boundary": 4, "n_initial": 4}


def _call_group(cls: type, p: P, value: Any) -> Callable[[], Any]:
    def call() -> Any:
        extra = {k: v for k, v in _POINT_COUNTS.items() if k != p.name} if cls is Points else {}
        group = cls(**{p.name: value, **extra})
        args = {k: v for k, v in TINY.items() if not (cls is Points and k in _POINT_COUNTS)}
        return pinnkit.solve("heat", net=TINY_NET, **args, **{_GROUP_ARG[cls]: group})

    return call


# ================================================================================================ theory
class Tripwire(nn.Module):
    """A model whose evaluation is the tripwire (the theory functions check their inputs before evaluating)."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 1)

    def forward(self, x):
        raise Reached


_B1 = BurgersBlowup(dim=1, delta=0.5)


def _constant_net() -> nn.Module:
    """A net whose residual is exactly 0 on _B1 (zero weights: u ≡ 0), so any accepted budget ends at once."""
    net = MLP(2, 1, 2, 1)
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
    return net


_ZERO_NET = _constant_net()
_HEAT = Heat()
_HEAT_ZERO_NET = _constant_net()
_HARD_HEAT_NET = HardConstraints(_constant_net(), _HEAT, kinds=("boundary",))


def _tripwired(module, name, fn, *args, **kwargs):
    """Call ``fn`` with ``module.name`` replaced by the tripwire: the work it would start is not done."""

    def wire(*a, **k):
        raise Reached

    saved = getattr(module, name)
    setattr(module, name, wire)
    try:
        return fn(*args, **kwargs)
    finally:
        setattr(module, name, saved)


_MF = MeanFieldTwoLayer(2, n=3)
_DW_NET = MLP(2, 1, 3, 2, activation="relu", input_bounds=((0.0, 0.0), (1.0, 1.0)))
_T = np.linspace(0.0, 1.0, 12)
QUAD = ("uniform", "sobol", "gauss")
NORMS = ("max_column_sum", "spectral")
THEORY: Dict[str, Tuple[Callable[..., Any], Sequence[P]]] = {
    "theorem1": (
        lambda **k: theory.theorem1(Tripwire(), _B1, **k),
        [
            P("n_samples", "count"),
            P("seed", "count"),
            P("norm", "choice", choices=NORMS),
            P("method", "choice", choices=QUAD),
            P("n_initial", "count", optional=True),
            P("window_length", "real", optional=True),
        ],
    ),
    "theorem2": (
        lambda **k: theory.theorem2(Tripwire(), _B1, **k),
        [*(P(k, "count") for k in ("n_samples", "n_time", "n_space", "seed")), P("method", "choice", choices=QUAD)],
    ),
    "theorem2_consistent": (
        lambda **k: theory.theorem2_consistent(Tripwire(), _B1, **k),
        [*(P(k, "count") for k in ("n_samples", "n_time", "n_space", "seed")), P("method", "choice", choices=QUAD)],
    ),
    "tight_estimate": (
        lambda **k: theory.tight_estimate(Tripwire(), _B1, **k),
        [
            P("n_slices", "count"),
            P("n_sup", "count", optional=True),
            P("n_quad", "count", optional=True),
            P("n_time_nodes", "count"),
            P("n_sub", "count"),
            P("grading", "bool"),
            P("use_signed_flux", "bool"),
        ],
    ),
    "gradient_diagnostics": (
        lambda **k: theory.gradient_diagnostics(Tripwire(), _B1, **k),
        [
            P("n_samples", "count"),
            P("seed", "count"),
            P("norm", "choice", choices=NORMS),
            P("method", "choice", choices=QUAD),
            P("chunk", "count"),
            P("theorem1_terms", "other", optional=True),
        ],
    ),
    "TheoryTracker": (
        lambda **k: theory.TheoryTracker(_B1, **k),
        [
            P("every", "count"),
            P("n_samples", "count"),
            P("tight_slices", "count"),
            P("seed", "count"),
            P("norm", "choice", choices=NORMS),
            P("what", "other", optional=True),
            P("tight_options", "other", optional=True),
            P("certified_options", "other", optional=True),
            P("final_certified_options", "other", optional=True),
            P("theorem_options", "other", optional=True),
        ],
    ),
    "depth_width_beta": (
        lambda **k: theory.depth_width_beta(**{"net_or_widths": [4, 4], **k}),
        [P("net_or_widths", "other")],
    ),
    "depth_width_prediction": (
        lambda **k: theory.depth_width_prediction(**{"widths": [4, 4], "activation": "relu", **k}),
        [
            P("widths", "other"),
            P("activation", "choice", choices=tuple(ACTIVATIONS)),
            P("architecture", "choice", choices=("mlp", "resmlp")),
            P("init", "choice", optional=True, choices=("glorot", "he")),
            P("net", "other", optional=True),
        ],
    ),
    "depth_width_spread": (
        lambda **k: _tripwired(depth_width_theory, "init_samples", theory.depth_width_spread, _DW_NET, **k),
        [P("n_seeds", "count"), P("seed", "count"), P("n_points", "count"), P("x", "other", optional=True)],
    ),
    "energy_decay": (
        lambda **k: theory.energy_decay(**{"t": _T, "energy": np.exp(-_T), **k}),
        [P("t", "other"), P("energy", "other"), P("window", "other", optional=True), P("last_fraction", "real")],
    ),
    "deeponet_size_estimate": (
        lambda **k: theory.deeponet_size_estimate(**{"n_train": 100, **k}),
        [
            P("n_train", "count"),
            P("level", "real"),
            P("noise_variance", "real", optional=True),
            P("constant", "real"),
            P("m_sensors", "count", optional=True),
            P("coord_dim", "count"),
            P("n_out", "count"),
            P("branch_hidden", "other"),
            P("trunk_hidden", "other"),
        ],
    ),
    "deeponet_parameter_count": (
        lambda **k: theory.deeponet_parameter_count(**{"q": 4, "m_sensors": 8, **k}),
        [
            P("q", "count"),
            P("m_sensors", "count"),
            P("coord_dim", "count"),
            P("n_out", "count"),
            P("branch_hidden", "other"),
            P("trunk_hidden", "other"),
        ],
    ),
    "calibrate_constant": (
        lambda **k: theory.calibrate_constant(**{"q_observed": 4.0, "n_observed": 100, **k}),
        [P("q_observed", "real"), P("n_observed", "count")],
    ),
    "data_needed_for_q": (
        lambda **k: theory.data_needed_for_q(**{"q": 4, **k}),
        [P("q", "count"), P("constant", "real")],
    ),
    "certify_residual": (
        lambda **k: theory.certify_residual(_ZERO_NET, _B1, **{"initial_boxes": 4, **k}),
        [P("rtol", "real"), P("max_boxes", "count"), P("initial_boxes", "count"), P("batch", "count")],
    ),
    "heat_sup_bound": (
        lambda **k: _tripwired(parabolic, "field_forms", theory.heat_sup_bound, _HEAT_ZERO_NET, _HEAT, **k),
        [
            P("slabs", "count", optional=True),
            P("rtol", "real"),
            P("max_boxes", "count"),
            P("initial_boxes", "count"),
            P("certify_true", "bool"),
            P("batch", "count"),
        ],
    ),
    "certified_tight_bound": (
        lambda **k: _tripwired(
            blowup_certified, "field_forms", theory.certified_tight_bound, _ZERO_NET, _B1, **{"n_slices": 4, **k}
        ),
        [
            P("n_slices", "count"),
            P("cells", "count", optional=True),
            P("max_boxes", "count"),
            P("rtol", "real"),
            P("batch", "count"),
            P("n_true", "count", optional=True),
        ],
    ),
    "certified_theorem1": (
        lambda **k: _tripwired(theorems_certified, "field_forms", theory.certified_theorem1, _ZERO_NET, _B1, **k),
        [
            P("norm", "choice", choices=NORMS),
            P("window_length", "real", optional=True),
            P("n_slices", "count"),
            P("cells", "count", optional=True),
            P("max_boxes", "count"),
            P("rtol", "real"),
            P("batch", "count"),
            P("n_true", "count", optional=True),
        ],
    ),
    "certified_theorem2": (
        lambda **k: _tripwired(theorems_certified, "field_forms", theory.certified_theorem2, _ZERO_NET, _B1, **k),
        [
            P("n_slices", "count"),
            P("cells", "count", optional=True),
            P("max_boxes", "count"),
            P("rtol", "real"),
            P("batch", "count"),
            P("n_true", "count", optional=True),
        ],
    ),
    "parabolic_l2_bound": (
        lambda **k: _tripwired(parabolic, "field_forms", theory.parabolic_l2_bound, _HARD_HEAT_NET, _HEAT, **k),
        [
            P("n_slices", "count", optional=True),
            P("cells", "count", optional=True),
            P("max_boxes", "count"),
            P("rtol", "real"),
            P("fallback", "bool"),
            P("n_true", "count", optional=True),
            P("sup", "other", optional=True),
            P("modes", "count", optional=True),
        ],
    ),
    "linear_parabolic_coefficients": (
        lambda **k: theory.linear_parabolic_coefficients(**{"problem": _HEAT, **k}),
        [P("problem", "other"), P("check", "bool")],
    ),
    "particle_moments": (
        lambda **k: theory.particle_moments(**{"model_or_particles": _MF, **k}),
        [
            P("model_or_particles", "other", names=("model_or_particles", "particles")),
            P("out_dim", "count", optional=True),
        ],
    ),
}
THEORY_CASES = [(fn, p) for fn, (_, ps) in THEORY.items() for p in ps]


def test_theory_table_covers_the_public_functions():
    public = {n for n in theory.__all__ if n[0].islower() or n == "TheoryTracker"}
    assert public - set(THEORY) <= {"meanfield_state"}, public - set(THEORY)


def _call_theory(fn: str, p: P, value: Any) -> Callable[[], Any]:
    return lambda: THEORY[fn][0](**{p.name: value})


# ================================================================================================ configs
CHOICE_T = {
    "optimizer": ("adam", "sgd"),
    "quasi_newton": ("lbfgs", "bfgs", "ssbfgs"),
    "method": ("autograd", "forward", "taylor"),
    "dtype": ("float32", "float64"),
}
TRAIN_CONFIG = [
    *(P(k, "count") for k in ("adam_steps", "lbfgs_steps", "decay_every", "lbfgs_history", "lbfgs_chunk")),
    *(P(k, "count") for k in ("balance_every", "log_every", "checkpoint_every")),
    *(P(k, "real") for k in ("lr", "lr_decay", "grad_penalty", "gpinn_penalty", "balance_alpha")),
    P("time_limit", "real", optional=True),
    *(P(k, "choice", choices=c) for k, c in CHOICE_T.items()),
    P("device", "choice", optional=True, choices=("cpu",)),  # None: the CPU
    P("balance", "choice", optional=True, choices=("max-mean", "norm", "ntk")),
    P("causal", "other", optional=True),
    P("compile", "bool"),
    P("progress", "bool"),
    P("checkpoint_dir", "path", optional=True),
    P("weights", "other"),
    P("stages", "other", optional=True),
]
MEANFIELD_CONFIG = [
    P("dt", "real"),
    *(P(k, "count") for k in ("steps", "seed", "record_every", "eval_every", "checkpoint_every")),
    P("alpha", "real", optional=True),
    P("reinject", "real"),
    P("birth_death_until", "count", optional=True),
    P("time_limit", "real", optional=True),
    P("checkpoint_dir", "path", optional=True),
    P("progress", "bool"),
]
MEANFIELD_TINY = dict(n=4, steps=2, n_domain=8, n_boundary=4, n_initial=4, n_eval=16, record_every=1)
MEANFIELD_PINN = [
    *(P(k, "count") for k in ("n", "steps", "seed", "n_domain", "n_boundary", "n_initial", "resample_every")),
    *(P(k, "count") for k in ("n_eval", "eval_every", "record_every")),
    P("dt", "real"),
    P("alpha", "real", optional=True),
    P("reinject", "real"),
    P("birth_death_until", "count", optional=True),
    P("condition_weight", "real"),
    P("activation", "choice", choices=tuple(ACTIVATIONS)),
    P("dtype", "other"),
    P("net_options", "other", optional=True),
    P("max_wall_s", "real", optional=True),
    P("problem", "other"),
]


def test_config_tables_cover_every_field():
    for cls, table in ((TrainConfig, TRAIN_CONFIG), (MeanFieldConfig, MEANFIELD_CONFIG)):
        assert {f.name for f in dataclasses.fields(cls)} == {p.name for p in table}, cls
    import inspect

    assert set(inspect.signature(train_meanfield_pinn).parameters) == {p.name for p in MEANFIELD_PINN}


def _call_config(cls: type, p: P, value: Any) -> Callable[[], Any]:
    return lambda: cls(**{p.name: value}).validate()


def _call_meanfield_pinn(ctx: Any, p: P, value: Any) -> Callable[[], Any]:
    kw = {"problem": "heat", **MEANFIELD_TINY, p.name: value}
    return lambda: train_meanfield_pinn(**kw)


OPERATOR_RUN = [
    P("pde", "choice", choices=PDES),
    P("mode", "choice", choices=RUN_MODES),
    P("grf", "choice", choices=tuple(GRFS)),
    P("steps", "count", optional=True),
    P("minutes", "real", optional=True),
    *(P(k, "count") for k in ("n_train", "n_test", "m_sensors", "nx", "nt", "seed", "threads", "n_collocation")),
    *(P(k, "count") for k in ("width", "depth", "q")),
    *(P(k, "count", optional=True) for k in ("decay_every", "batch_functions", "batch_points")),
    *(P(k, "bool") for k in ("hard_initial", "resume", "overwrite", "progress")),
    P("out", "path", optional=True),
    P("cache_dir", "path", optional=True),
    P("lr", "real"),
    P("lr_decay", "real"),
    P("initial_weight", "real"),
]
OPERATOR_TINY = dict(mode="data", steps=1, n_train=2, n_test=1, m_sensors=8, nx=4, nt=4, width=2, depth=1, q=2)
OPERATOR_TINY.update(n_collocation=4, progress=False)

STUDY = [
    P("dim", "count"),
    P("protocol", "choice", choices=("fast", "paper")),
    P("steps", "count", optional=True),
    P("lbfgs_steps", "count", optional=True),
    P("n_theory_samples", "count"),
    P("workers", "count"),
    P("out", "path"),
    P("cluster", "other", optional=True, choices=("local", "tcp://127.0.0.1:8786")),
    P("deltas", "other", optional=True, names=("deltas", "delta")),
    *(P(k, "other") for k in ("widths", "grad_penalties", "seeds")),
    P("deltas[]", "real", names=("deltas", "delta")),
    P("widths[]", "count"),
    P("grad_penalties[]", "real"),
    P("seeds[]", "count"),
]
STUDY_TINY = dict(deltas=[0.5], widths=[2], grad_penalties=[0.0], seeds=[0], steps=1, lbfgs_steps=0, workers=1)
STUDY_TINY.update(n_theory_samples=1000)

SIZE_STUDY = [
    *(P(k, "count") for k in ("points", "steps", "seed", "threads")),
    P("noise", "real"),
    P("out", "path"),
    P("resume", "bool"),
    P("cluster", "other", optional=True, choices=("local", "tcp://127.0.0.1:8786")),
    P("workers", "count"),
    P("qs", "other"),
    P("n_functions", "other"),
    P("qs[]", "count"),
    P("n_functions[]", "count"),
]
SIZE_TINY = dict(qs=[1], n_functions=[2], points=2, steps=1)

DEPTH_WIDTH_STUDY = [
    *(P(k, "count") for k in ("n_seeds", "n_points", "seed", "steps", "lbfgs_steps", "threads")),
    P("activation", "choice", choices=PINN_ACTIVATIONS),
    P("out", "path"),
    P("resume", "bool"),
    *(P(k, "other") for k in ("depths", "widths", "spread_activations", "problems", "train_seeds")),
    *(P(k, "count") for k in ("depths[]", "widths[]", "train_seeds[]")),
    P("spread_activations[]", "choice", choices=tuple(ACTIVATIONS)),
    P("problems[]", "choice", choices=tuple(PROBLEM_SETTINGS)),
]
DEPTH_WIDTH_TINY = dict(depths=[1], widths=[2], spread_activations=["relu"], n_seeds=2, n_points=1, problems=["heat"])
DEPTH_WIDTH_TINY.update(steps=1, lbfgs_steps=0)


def test_run_tables_cover_every_field():
    for cls, table in (
        (OperatorRunConfig, OPERATOR_RUN),
        (StudyConfig, STUDY),
        (SizeStudyConfig, SIZE_STUDY),
        (DepthWidthStudyConfig, DEPTH_WIDTH_STUDY),
    ):
        assert {f.name for f in dataclasses.fields(cls)} == {p.name for p in table if not p.name.endswith("[]")}


def _field(p: P, value: Any) -> Dict[str, Any]:
    return {p.name[:-2]: [value]} if p.name.endswith("[]") else {p.name: value}


def _call_operator_run(ctx: Any, p: P, value: Any) -> Callable[[], Any]:
    kw = {**OPERATOR_TINY, "out": "op", **_field(p, value)}  # relative paths: under the sandbox
    return lambda: operator_run.run(OperatorRunConfig(**kw), log=lambda line: None)


def _call_blowup_study(ctx: Any, p: P, value: Any) -> Callable[[], Any]:
    kw = {**STUDY_TINY, "out": "blowup", **_field(p, value)}
    return lambda: blowup.run_study(StudyConfig(**kw), progress=False, log=lambda line: None)


def _call_size_study(ctx: Any, p: P, value: Any) -> Callable[[], Any]:
    kw = {**SIZE_TINY, "out": "size", **_field(p, value)}
    return lambda: deeponet_size.run_size_study(SizeStudyConfig(**kw), progress=False)


def _call_depth_width_study(ctx: Any, p: P, value: Any) -> Callable[[], Any]:
    kw = {**DEPTH_WIDTH_TINY, "out": "depth-width", **_field(p, value)}
    return lambda: depth_width_study.run_depth_width_study(
        DepthWidthStudyConfig(**kw), progress=False, log=lambda line: None
    )


# ================================================================================================ the fuzzing
#: every surface: its cases (a context and a parameter) and how to call it with a value for that parameter
SURFACES: Dict[str, Tuple[list, Callable[[Any, P, Any], Callable[[], Any]]]] = {
    "solve options": ([(None, p) for p in SOLVE_OPTIONS], _call_solve_option),
    "solve net spec": (NET_CASES, _call_net_spec),
    "solve problem parameters": (PROBLEM_PARAMS, _call_solve_problem),
    "solve option groups": (GROUPS, _call_group),
    "problem constructors": (PROBLEM_PARAMS, _call_constructor),
    "make_problem": (PROBLEM_PARAMS, _call_make_problem),
    "theory": (THEORY_CASES, _call_theory),
    "TrainConfig": ([(TrainConfig, p) for p in TRAIN_CONFIG], _call_config),
    "MeanFieldConfig": ([(MeanFieldConfig, p) for p in MEANFIELD_CONFIG], _call_config),
    "train_meanfield_pinn": ([(None, p) for p in MEANFIELD_PINN], _call_meanfield_pinn),
    "OperatorRunConfig": ([(None, p) for p in OPERATOR_RUN], _call_operator_run),
    "StudyConfig": ([(None, p) for p in STUDY], _call_blowup_study),
    "SizeStudyConfig": ([(None, p) for p in SIZE_STUDY], _call_size_study),
    "DepthWidthStudyConfig": ([(None, p) for p in DEPTH_WIDTH_STUDY], _call_depth_width_study),
}


@pytest.mark.parametrize("surface", list(SURFACES))
@FUZZ
@given(data=st.data())
def test_fuzz(sandbox, surface, data):
    """A drawn parameter of ``surface`` with a drawn bad or edge value: accepted, or refused naming it."""
    cases, call = SURFACES[surface]
    ctx, p = data.draw(st.sampled_from(cases), label="parameter")
    value = data.draw(values_for(p.choices), label="value")
    with same_threads():
        judge(p, value, call(ctx, p, value))


def always_bad(p: P) -> list:
    """Values no parameter of ``p``'s kind may accept (and a few it may, for the naming check)."""
    out = [True, np.bool_(False), NAN, INF, -INF, np.float32(NAN), 10**400, "garbage", "1", [1], {"a": 1}]
    if not p.optional:
        out.append(None)
    if p.kind == "count":
        out += [2.5, np.float32(2.5), -0.5, 1e-300, -1, 2**70, 10**12]
    if p.kind == "real":
        out += [-0.0, 1e300, -1e300, 5e-324]
    if p.kind == "bool":
        out += [0, 1, 1.0, "True", np.int64(1)]
    if p.kind == "choice":
        out += near_misses(p.choices)
    return out


@pytest.mark.parametrize("surface", list(SURFACES))
def test_every_parameter_refuses_the_always_bad_values(sandbox, surface):
    """Every parameter of ``surface`` against every value of its kind that must be refused."""
    cases, call = SURFACES[surface]
    failures = []
    for ctx, p in cases:
        for value in always_bad(p):
            try:
                with same_threads():
                    judge(p, value, call(ctx, p, value))
            except Exception as exc:  # every failure of the sweep at once, not only the first
                failures.append(f"{ctx!r:.40} {p.name}={value!r:.40}: {type(exc).__name__}: {exc!s:.300}")
    assert not failures, "\n".join(failures)


# ================================================================================================ CLI
STRING_VALUES = ["", " ", "nan", "NaN", "inf", "-inf", "1e300", "-1e300", "-1", "0", "1", "2", "2.5", "2.7", "-0.0"]
STRING_VALUES += ["1e-320", "1e12", str(10**12), str(2**70), str(-(2**70)), "True", "False", "None", "abc", "0x10"]
STRING_VALUES += ["1_000", "[1]", "--", "-", "3.0"]

CLI_BASE = {
    "solve": ["solve", "heat", "--steps", "1", "--lbfgs-steps", "0", "--width", "2", "--depth", "1"]
    + ["--n-domain", "4", "--n-boundary", "4", "--n-initial", "4", "--track-every", "0", "--quiet"],
    "blowup": ["study", "blowup", "--deltas", "0.5", "--widths", "2", "--grad-penalties", "0", "--seeds", "0"]
    + ["--steps", "1", "--lbfgs-steps", "0", "--theory-samples", "1000", "--workers", "1", "--quiet"],
    "deeponet-size": ["study", "deeponet-size", "--qs", "1", "--n-functions", "2", "--points", "2", "--steps", "1"]
    + ["--quiet"],
    "depth-width": ["study", "depth-width", "--depths", "1", "--widths", "2", "--spread-activations", "relu"]
    + ["--n-seeds", "2", "--n-points", "1", "--problems", "heat", "--steps", "1", "--lbfgs-steps", "0", "--quiet"],
    "deeponet": ["deeponet", "burgers", "--mode", "data", "--steps", "1", "--n-train", "2", "--n-test", "1"]
    + ["--m-sensors", "8", "--nx", "4", "--nt", "4", "--quiet"],
}


def _subparser(parser, *path):
    for name in path:
        action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
        parser = action.choices[name]
    return parser


def _cli_options() -> list:
    """(command, P, flag) for every option of every command that takes a value, read off the parser."""
    parser = build_parser()
    out = []
    for cmd, path in (
        ("solve", ["solve"]),
        ("blowup", ["study", "blowup"]),
        ("deeponet-size", ["study", "deeponet-size"]),
        ("depth-width", ["study", "depth-width"]),
        ("deeponet", ["deeponet"]),
    ):
        for a in _subparser(parser, *path)._actions:
            if not a.option_strings or a.nargs == 0 or a.dest in ("help", "out"):
                continue
            flag = a.option_strings[0]
            kind = {int: "count", float: "real"}.get(a.type, "choice" if a.choices else "other")
            names = (flag, a.dest, a.dest.replace("_", "-"))
            if a.nargs == "+":  # a list: its elements are named in the singular (--deltas: "delta must ...")
                names += (a.dest[:-1],)
            out.append((cmd, P(a.dest, kind, choices=tuple(str(c) for c in a.choices or ()), names=names), flag))
    # the problem parameters of ``pinnkit solve NAME --param value``
    for name in ("heat", "cavity"):
        for p in PROBLEM_KINDS[name].values():
            out.append(
                (
                    (name,),
                    P(p.name, p.kind, choices=p.choices, names=(p.name, "--" + p.name), fold_case=p.fold_case),
                    "--" + p.name,
                )
            )
    return out


CLI_OPTIONS = _cli_options()


def cli_values(p: P) -> list:
    return STRING_VALUES + near_misses(p.choices) + list(p.choices)


ERROR_LINE = re.compile(r"^pinnkit( [\w-]+)*: error: ", re.M)


def _cli_must_refuse(p: P, text: str) -> bool:
    low = text.strip().lower()
    if low in ("nan", "inf", "-inf", "+inf"):
        return p.kind in ("count", "real")
    if p.kind == "count":
        try:
            return not float(text).is_integer()
        except ValueError:
            return True
    if p.kind == "real":
        try:
            float(text)
        except ValueError:
            return True
    if p.kind == "choice":
        return (text.lower() if p.fold_case else text) not in p.choices
    return False


@FUZZ
@given(
    st.sampled_from(CLI_OPTIONS).flatmap(
        lambda c: st.tuples(st.just(c), st.one_of(st.sampled_from(cli_values(c[1])), st.text(max_size=6)))
    )
)
def test_cli(sandbox, case):
    (cmd, p, flag), text = case
    cli_case(cmd, p, flag, text)


def cli_case(cmd: Any, p: P, flag: str, text: str) -> None:
    """``pinnkit ... FLAG=TEXT`` (every other option tiny): the tripwire is reached, or exit status 2 with an
    ``error:`` line naming the option and no traceback."""
    if isinstance(cmd, tuple):  # a problem parameter of pinnkit solve
        argv = [CLI_BASE["solve"][0], cmd[0], *CLI_BASE["solve"][2:]]
    else:
        argv = list(CLI_BASE[cmd])
    argv += ["--out", "cli-" + "".join(cmd), f"{flag}={text}"]
    err, out = io.StringIO(), io.StringIO()
    rc: Any = None
    with same_threads(), contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            rc = main(argv)
        except Reached:
            rc = "reached"
        except SystemExit as exc:  # argparse
            rc = exc.code
    stderr = err.getvalue()
    assert "Traceback" not in stderr, stderr
    if rc == "reached":
        assert not _cli_must_refuse(p, text), f"{flag}={text!r} was accepted silently"
        return
    assert rc == 2, (rc, stderr)
    match = next((m for m in (ERROR_LINE.search(line) for line in stderr.splitlines()) if m), None)
    assert match is not None, stderr
    error = stderr[stderr.index(match.group(0)) :]
    assert any(a in error for a in p.aliases()), f"{flag}={text!r}: the error does not name it: {stderr}"


CLI_ALWAYS_BAD = ["nan", "inf", "-inf", "", "abc", "True", "[1]"]


def test_cli_every_option_refuses_the_always_bad_values(sandbox):
    failures = []
    for cmd, p, flag in CLI_OPTIONS:
        bad = CLI_ALWAYS_BAD + (["2.5", "-0.5"] if p.kind == "count" else []) + near_misses(p.choices)
        for text in bad:
            try:
                cli_case(cmd, p, flag, text)
            except Exception as exc:
                failures.append(f"{cmd} {flag}={text!r}: {type(exc).__name__}: {exc!s:.300}")
    assert not failures, "\n".join(failures)
