"""Tuned settings per problem: the one table read by :func:`pinnkit.solve`, ``pinnkit solve NAME``,
``pinnkit deeponet`` (:mod:`pinnkit.operator_run`) and ``benchmarks/``.

:data:`DEFAULT` holds every option of :func:`pinnkit.solve` with the value every problem starts from;
:data:`PRESETS` holds the per-problem overrides, each with the result it was measured to reach;
and :func:`entry` the full entry of a problem; :func:`resolve` turns a problem (a registered name or a :class:`~pinnkit.equations.Problem`, looked up by
its ``.name``) and the user's overrides into the full configuration of a run. :data:`DEEPONET` holds the
settings of the DeepONet experiment of :mod:`pinnkit.operator_run`.

The optimiser settings are stored in the flat form of the command line (``steps``, ``lr``, ``lr_decay``,
``decay_every``, ``optimizer``, then ``lbfgs_steps``, ``quasi_newton``, ``lbfgs_history``, ``lbfgs_chunk``):
two stages, :func:`pinnkit.training.stages.first_order` then :func:`~pinnkit.training.stages.quasi_newton`
(:func:`stages_of`). A user's ``stages=(Adam(...), SSBFGS(...))`` replaces all of them.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, Mapping, Optional, Tuple, Union

__all__ = [
    "DEFAULT",
    "PRESETS",
    "DEEPONET",
    "OPTIMISER_KEYS",
    "OPTIONS",
    "NET_KEYS",
    "preset_name",
    "entry",
    "resolve",
    "stages_of",
    "describe",
]

#: every option of :func:`pinnkit.solve` and the value every problem starts from.
#: Measured with these settings: 2-D heat (``pinnkit solve heat --dim 2``) relative L2 4.4e-4 on the held-out
#: grid in 71 s of training on 2 cores (2026-12-01, before and after the training-core redesign, bit-identical;
#: earlier README figures: 4.7e-4 in 43 s, 4.3e-4 in commit 414a549). The learning-rate schedule (3e-3, ×0.9 every 200 steps) is ``solve``'s since 414a549.
DEFAULT: Dict[str, Any] = {
    # the net (pinnkit.api.build_net); a user's net dict is merged onto it key by key
    "net": {"kind": "mlp", "width": 64, "depth": 3, "activation": "tanh"},
    # optimiser stages, flat: first-order stage, then quasi-Newton stage (replaced by a user's ``stages``)
    "steps": 2000,
    "lr": 3e-3,
    "lr_decay": 0.9,
    "decay_every": 200,
    "optimizer": "adam",
    "lbfgs_steps": 3000,
    "quasi_newton": "lbfgs",
    "lbfgs_history": 50,
    "lbfgs_chunk": 20,
    # points (pinnkit.sampling.Points)
    "n_domain": 1000,
    "n_boundary": 400,
    "n_initial": 400,
    "sampling": "sobol",
    "resample_every": 0,
    "adaptive": None,
    "pool_factor": 10,
    # loss (pinnkit.api.Loss)
    "condition_weight": 10.0,
    "weights": None,
    "grad_penalty": 0.0,
    "gpinn_penalty": 0.0,
    "hard_constraints": (),
    "balance": None,
    "balance_every": 100,
    "balance_alpha": 0.1,
    "causal": None,  # causal weighting in time (pinnkit.training.causal): True, ε, an ε schedule or a dict
    # engine (pinnkit.api.Engine)
    "method": "autograd",
    "compile": False,
    "dtype": "float32",
    "device": "cpu",
    # evaluation and checkpoints (pinnkit.api.Checkpoint)
    "n_eval": 20000,
    "track_every": 0,
    "ntk_every": 0,  # record the empirical NTK every k steps (pinnkit.callbacks.NTKTracker; 0: never)
    "checkpoint_dir": None,
    "checkpoint_every": 500,
    "resume": False,
    "overwrite": False,  # a fresh run may replace the checkpoint an earlier run left in checkpoint_dir
    "time_limit": None,  # seconds of training time after which the run ends (its last step recorded)
}

#: the flat optimiser options; a user's ``stages`` replaces them all
OPTIMISER_KEYS = (
    "steps",
    "lr",
    "lr_decay",
    "decay_every",
    "optimizer",
    "lbfgs_steps",
    "quasi_newton",
    "lbfgs_history",
    "lbfgs_chunk",
)
#: every key :func:`resolve` accepts as an override
OPTIONS = tuple(DEFAULT) + ("stages",)

#: the keys a net spec may hold, per kind (:func:`pinnkit.api.build_net`)
NET_KEYS: Dict[str, Tuple[str, ...]] = {
    "mlp": ("kind", "width", "depth", "activation", "init", "fourier_features", "fourier_sigma", "output_scale"),
    "resmlp": ("kind", "width", "depth", "activation", "init", "fourier_features", "fourier_sigma", "output_scale"),
    "meanfield": ("kind", "n", "width", "activation"),
}

# The Navier–Stokes problems: float64, Adam then the dense self-scaled BFGS stage on nets of a few thousand
# parameters (3-4 × 30 tanh), compiled taylor engine. ``benchmarks/ns_accuracy.py --width 30 --quasi-newton
# ssbfgs`` with these settings measured velocity rel L2 1.1e-6 (Kovasznay, 324 s), 2.6e-4 (Taylor–Green at
# t = 1, 344 s), 1.6e-4 (Beltrami, 270 s), 1.7e-3 (cavity Re 100 vs our reference, 256 s), one thread each
# on a shared 2-core CPU (commit 521d279, which moved these into the CLI; README "Navier–Stokes":
# "1.1e-6, 2.6e-4 (t = 1), 1.6e-4 and 1.7e-3 in 4–6 minutes each on one core (float64, Adam then
# self-scaled BFGS, 3–4 × 30 tanh)"). Width 30, not the 50 that benchmarks/ns_accuracy.py's own table held:
# the self-scaled BFGS stage costs ~0.15 s CPU per iteration at 3×30 and ~1.4 s at 3×50 (commit b32bed1).
_NS: Dict[str, Any] = {"steps": 1000, "method": "taylor", "compile": True, "dtype": "float64", "quasi_newton": "ssbfgs"}

#: per-problem overrides of :data:`DEFAULT` (the measured result of each in the comment above it)
PRESETS: Dict[str, Dict[str, Any]] = {
    # Heat: the boundary data imposed exactly where the problem admits it (``"auto"``, pinnkit.constraints.auto_kinds:
    # the zero Dirichlet data of the sine solutions, keeping the model certifiable; the initial data for the
    # Neumann/periodic ones), a 3×32 tanh net, 1000 Adam steps then the dense self-scaled BFGS stage, float32.
    # Measured on 2 cores (2026-12-03): 2-D relative L2 7.5e-6 in 22 s (the plain default: 4.4e-4 in 71 s; initial
    # and boundary data both imposed: 1.1e-5 in 19 s); 5-D 3.8e-4 in 73 s; 10-D 0.27 (2.7e-3 with 4000 points
    # in 245 s: README).
    "heat": {
        "net": {"width": 32, "depth": 3},
        "hard_constraints": "auto",
        "steps": 1000,
        "quasi_newton": "ssbfgs",
        "lbfgs_steps": 2000,
        "method": "taylor",
    },
    # the multi-scale problem: the heat preset with the initial data imposed too (its amplitude, 1e-3 in physical
    # units, is then exact; with the boundary data alone the soft initial term is ~1e-6 of the loss and "units"
    # stalls at 3.0e-2). Measured (2 cores, benchmarks/multiscale.py, 2026-12-03): "modes" relative L2 1.0e-4 in
    # 47 s (the plain default 7.3e-3 in 55 s), "units" 7.5e-4 in 24 s (the plain default 1.8: it fails)
    "anisotropic-heat": {
        "net": {"width": 32, "depth": 3},
        "hard_constraints": ("initial", "boundary"),
        "steps": 1000,
        "quasi_newton": "ssbfgs",
        "lbfgs_steps": 2000,
        "method": "taylor",
    },
    # velocity rel L2 1.1e-6 in 324 s (Re 20)
    "kovasznay": {**_NS, "net": {"width": 30, "depth": 3}, "lbfgs_steps": 6000, "n_domain": 2000, "n_boundary": 400},
    # velocity rel L2 2.6e-4 at t = 1 in 344 s (ν = 0.01, T = 1)
    "taylor-green": {
        **_NS,
        "net": {"width": 30, "depth": 4},
        "lbfgs_steps": 5000,
        "n_domain": 2000,
        "n_boundary": 400,
        "n_initial": 1000,
    },
    # velocity rel L2 1.6e-4 in 270 s (a = d = ν = 1, T = 1)
    "beltrami": {
        **_NS,
        "net": {"width": 30, "depth": 4},
        "lbfgs_steps": 4000,
        "n_domain": 2000,
        "n_boundary": 1200,
        "n_initial": 1000,
    },
    # velocity rel L2 1.7e-3 against our finite-difference reference in 256 s (Re 100, regularised lid)
    "cavity": {**_NS, "net": {"width": 30, "depth": 4}, "lbfgs_steps": 4000, "n_domain": 3000, "n_boundary": 500},
}

#: The DeepONet experiment of :mod:`pinnkit.operator_run` (``pinnkit deeponet``, ``examples/deeponet_burgers.py``,
#: ``benchmarks/deeponet_vs_deepxde.py``, ``benchmarks/pi_deeponet_vs_deepxde.py``): Adam at ``lr`` decayed by
#: ``lr_decay`` every ``steps / decays`` steps. Measured on Burgers (ν = 0.01, wang2021 inputs, 1000 training /
#: 100 test functions, 3×100 tanh branch and trunk, q = 100, 2 threads; commit fb05186, README "Operator
#: learning"): data-driven 100000 steps, mean / median / worst test rel L2 1.65% / 1.24% / 5.23% in 276 s;
#: PI-DeepONet (exact initial condition) 100000 steps, 3.13% / 2.28% / 9.66% in 352 s. Those runs used
#: lr_decay 0.8 (pinnkit.operator_run since commit 801a3e8, the example's value since 7cd224f), the value here;
#: 0.9 is only OperatorTrainConfig's own default.
DEEPONET: Dict[str, Any] = {
    "steps": {"data": 100_000, "physics": 100_000, "hybrid": 40_000},  # Adam steps per mode
    "minutes": 20.0,  # wall-clock limit per mode
    "lr": 1e-3,
    "lr_decay": 0.8,
    "decays": 20,  # decay_every = steps // decays
    "batch_functions": {"data": 64, "physics": 32, "hybrid": 32},  # capped at n_train
    "batch_points": 500,  # grid points per function per step (data, hybrid), capped at nx·nt
    "n_collocation": 128,
    "initial_weight": 20.0,  # physics, hybrid
    "hard_initial": True,  # physics, hybrid
    "net": {"q": 100, "width": 100, "depth": 3, "periodic_modes": 5},
}


def preset_name(problem: Any, preset: Optional[str] = None) -> str:
    """The table entry a run of ``problem`` (a name or a Problem) uses: ``preset`` when given (``"default"``
    for :data:`DEFAULT` alone), else the problem's name when :data:`PRESETS` has it, else ``"default"``."""
    if preset is not None:
        if not isinstance(preset, str) or (preset != "default" and preset not in PRESETS):
            raise ValueError(f"unknown preset {preset!r}; presets: {['default', *PRESETS]}")
        return preset
    name = problem if isinstance(problem, str) else getattr(problem, "name", None)
    return name if name in PRESETS else "default"


def entry(problem: Any, preset: Optional[str] = None) -> Dict[str, Any]:
    """The full table entry for ``problem``: :data:`DEFAULT` with the problem's overrides (a copy)."""
    cfg = copy.deepcopy(DEFAULT)
    over = copy.deepcopy(PRESETS.get(preset_name(problem, preset), {}))
    cfg["net"].update(over.pop("net", {}))
    cfg.update(over)
    cfg["stages"] = None
    return cfg


def resolve(
    problem: Any, overrides: Optional[Mapping[str, Any]] = None, *, preset: Optional[str] = None, **more: Any
) -> Dict[str, Any]:
    """The full configuration of a run of ``problem`` (a registered name or a Problem, by its ``.name``):
    the table entry (:func:`entry`; ``preset`` names another one) with ``overrides`` (a mapping and/or keywords) on top.

    A net given as a mapping is merged onto the preset's net key by key; a ``torch.nn.Module`` replaces it.
    ``stages`` (a sequence of :class:`pinnkit.training.stages.Stage`) replaces every flat optimiser option
    (:data:`OPTIMISER_KEYS`), which are then dropped from the result; giving both is an error. An unknown
    key is an error that names it and lists :data:`OPTIONS`.
    """
    given = {**dict(overrides or {}), **more}
    unknown = sorted(set(given) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown}; options: {sorted(OPTIONS)}")
    cfg = entry(problem, preset)
    net = given.pop("net", None)
    if isinstance(net, str):  # a kind name
        net = {"kind": net}
    if isinstance(net, Mapping):
        base = cfg["net"]
        kind = net.get("kind", base.get("kind"))
        if (
            isinstance(kind, str) and kind != base.get("kind") and kind in NET_KEYS
        ):  # another kind keeps only the preset keys it has
            base = {k: v for k, v in base.items() if k in NET_KEYS[kind]}
        if kind == "meanfield" and "n" in net:  # the user's n is the size; the preset's width does not clash with it
            base = {k: v for k, v in base.items() if k != "width"}
        cfg["net"] = {**base, **dict(net)}
    elif net is not None:
        cfg["net"] = net
    stages = given.pop("stages", None)
    if stages is not None:
        clash = sorted(set(given) & set(OPTIMISER_KEYS))
        if clash:
            raise ValueError(f"stages= replaces the optimiser options; do not also give {clash}")
        from .training.stages import Stage

        try:  # a 0-d array or tensor has __iter__ but cannot be iterated
            if isinstance(stages, (Stage, str, bytes, Mapping)):
                raise TypeError
            stages = tuple(stages)
        except TypeError:
            raise ValueError(
                f"stages must be a non-empty sequence of optimiser stages (pinnkit.training.stages: "
                f"Adam, SGD, LBFGS, BFGS, SSBFGS), got {stages!r}"
            ) from None
        bad = [s for s in stages if not isinstance(s, Stage)]
        if bad or not stages:
            raise ValueError(
                f"stages must be a non-empty sequence of optimiser stages (pinnkit.training.stages: "
                f"Adam, SGD, LBFGS, BFGS, SSBFGS), got {stages!r}"
            )
        for k in OPTIMISER_KEYS:
            cfg.pop(k)
        cfg["stages"] = tuple(s.validate() for s in stages)
    cfg.update(given)
    return cfg


def stages_of(cfg: Mapping[str, Any]) -> Tuple[Any, ...]:
    """The optimiser stages a resolved configuration runs: its ``stages``, or the two stages of its flat
    options (the first-order stage, then the quasi-Newton stage), validated."""
    if cfg.get("stages") is not None:
        return tuple(cfg["stages"])
    from .training.stages import first_order, quasi_newton

    return (
        first_order(cfg["optimizer"], cfg["steps"], cfg["lr"], cfg["lr_decay"], cfg["decay_every"]),
        quasi_newton(cfg["quasi_newton"], cfg["lbfgs_steps"], cfg["lbfgs_chunk"], cfg["lbfgs_history"]),
    )


def describe(name: Union[str, None] = None) -> str:
    """One line per preset (``pinnkit solve --help``): the options each problem changes."""
    rows = []
    for key, over in PRESETS.items():
        if name is not None and key != name:
            continue
        parts = [f"{k}={v}" for k, v in over.items() if k != "net"]
        parts = [f"{k}={v}" for k, v in over.get("net", {}).items()] + parts
        rows.append(f"{key}: " + ", ".join(parts))
    return "; ".join(rows)
