"""Every option of a :func:`pinnkit.solve` run checked and normalised before any work: the parameter named with
its allowed values, numpy scalars accepted as numbers, bools never, and what the run will allocate estimated
against this machine's memory.

:func:`check_run` takes the resolved configuration (:func:`pinnkit.presets.resolve`) and the problem and returns
the configuration with canonical values (``int``/``float``/``str``; ``device`` as ``"cpu"`` or ``"cuda[:k]"``,
``dtype`` as ``"float32"``/``"float64"``; a net given as a kind name as its spec).
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any, Dict, Mapping

import torch
from torch import nn

from .preflight import check_memory, check_output_dir
from .presets import NET_KEYS
from .validation import (
    check_bool,
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
    check_range,
    check_real,
)

if TYPE_CHECKING:  # pragma: no cover
    from pinnkit.equations import Problem

__all__ = [
    "check_run",
    "check_device",
    "check_dtype",
    "check_net_spec",
    "estimate_bytes",
    "NET_KEYS",
    "MAX_POINTS",
    "MAX_WIDTH",
    "MAX_DEPTH",
    "MAX_STEPS",
    "MAX_SEED",
    "MAX_LR",
]

#: hard limits, whatever the memory: far beyond any run that fits, small enough that no size overflows
MAX_POINTS = 10**9
MAX_WIDTH = 10**5
MAX_DEPTH = 1000
MAX_STEPS = 10**9
MAX_SEED = 2**63 - 1
MAX_FOURIER_SIGMA = 1e4
MAX_OUTPUT_SCALE = 1e12  # net output_scale (pinnkit.nets.output_scale)
#: a first-order learning rate above this is never meant (Adam's step is about lr per parameter)
MAX_LR = 10.0
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def check_device(name: str, value: Any) -> str:
    """``"cpu"``, ``"cuda"`` or ``"cuda:k"`` (a string or a ``torch.device``; ``None`` is ``"cpu"``); CUDA only
    where a CUDA device (the k-th) exists. Returns the canonical string."""
    if value is None:
        return "cpu"
    allowed = "'cpu', 'cuda' or 'cuda:k'"
    if isinstance(value, torch.device):
        dev = value
    elif isinstance(value, str):
        try:
            dev = torch.device(value)
        except (RuntimeError, ValueError):
            raise ValueError(f"{name} must be {allowed}, got {value!r}") from None
    else:
        raise ValueError(f"{name} must be {allowed} (a string or torch.device), got {value!r}")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"{name} must be {allowed}, got {value!r} (device type {dev.type!r} is not supported)")
    if dev.type == "cpu":
        return "cpu"
    if not torch.cuda.is_available():
        raise ValueError(f"{name}={value!r} requested but no CUDA device is available; use {name}='cpu'")
    if dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"{name}={value!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return str(dev)


def check_dtype(name: str, value: Any) -> str:
    """``"float32"``/``"float64"`` or ``torch.float32``/``torch.float64``; returns the string."""
    for key, dt in DTYPES.items():
        if value is dt or (isinstance(value, str) and value == key):
            return key
    raise ValueError(f"{name} must be one of {tuple(DTYPES)} (or torch.float32/torch.float64), got {value!r}")


def check_fourier_sigma(sigma: Any) -> Any:
    """``fourier_sigma``: a scale in (0, MAX_FOURIER_SIGMA], one such scale per input axis (a list), or
    ``"auto"`` (per-axis scales from the problem's declared wave numbers, :func:`pinnkit.api.build_net`)."""
    if isinstance(sigma, str):
        check_choice("net fourier_sigma", sigma, ("auto",))
        return sigma
    if isinstance(sigma, (list, tuple)):
        if not sigma:
            raise ValueError("net fourier_sigma must be a scale, 'auto' or a non-empty list of scales, got []")
        return [check_real(f"net fourier_sigma[{i}]", s, 0.0, MAX_FOURIER_SIGMA) for i, s in enumerate(sigma)]
    return check_real("net fourier_sigma", sigma, 0.0, MAX_FOURIER_SIGMA)


def check_net_spec(net: Any) -> Any:
    """A net: a ``torch.nn.Module`` (kept), a kind name (``"mlp"``, ``"resmlp"``, ``"meanfield"``) or a spec
    mapping whose keys are those of its kind (:data:`NET_KEYS`) and whose sizes are integers in range."""
    if isinstance(net, nn.Module):
        return net
    if isinstance(net, str):
        net = {"kind": net}
    if not isinstance(net, Mapping):
        raise ValueError(
            f"net must be a torch.nn.Module, a kind name {tuple(NET_KEYS)} or a spec mapping such as "
            f"{{'kind': 'mlp', 'width': 64, 'depth': 3}}, got {net!r}"
        )
    spec = dict(net)
    kind = check_choice("net kind", spec.get("kind", "mlp"), tuple(NET_KEYS))
    spec["kind"] = kind
    unknown = sorted(str(k) for k in spec if k not in NET_KEYS[kind])
    if unknown:
        raise ValueError(f"unknown net option(s) {unknown} for kind {kind!r}; allowed: {list(NET_KEYS[kind])}")
    if kind == "meanfield":
        if "n" in spec and "width" in spec and spec["n"] != spec["width"]:
            raise ValueError(f"net n={spec['n']!r} and width={spec['width']!r} disagree (they are the same size)")
        for key in ("n", "width"):
            if key in spec:
                spec[key] = check_int(f"net {key}", spec[key], 1, 10**8)
    else:
        if "width" in spec:
            spec["width"] = check_int("net width", spec["width"], 1, MAX_WIDTH)
        if "depth" in spec:
            spec["depth"] = check_int("net depth", spec["depth"], 1, MAX_DEPTH)
        if "fourier_features" in spec:
            nf = spec["fourier_features"]  # None: none; a bool is no count
            spec["fourier_features"] = check_int("net fourier_features", 0 if nf is None else nf, 0, MAX_WIDTH)
        if "fourier_sigma" in spec:
            spec["fourier_sigma"] = check_fourier_sigma(spec["fourier_sigma"])
        if "init" in spec:
            check_choice("net init", spec["init"], ("glorot", "he"))
        if spec.get("output_scale") is not None:
            scale = spec["output_scale"]
            if isinstance(scale, str):
                check_choice("net output_scale", scale, ("auto",))
            else:
                spec["output_scale"] = check_real("net output_scale", scale, 0.0, MAX_OUTPUT_SCALE)
    if "activation" in spec:
        from .nets.activations import ACTIVATIONS

        check_choice("net activation", spec["activation"], tuple(ACTIVATIONS))
    return spec


def estimate_bytes(problem: "Problem", cfg: Mapping[str, Any]) -> Dict[str, float]:
    """Bytes a run will allocate, an estimate per cause: the training points with the derivative graph through
    the net (about 20 saved tensors of ``N × width`` per hidden layer for the second derivatives a residual
    asks for), the held-out evaluation (points, prediction and reference, in float64), the RAD candidate pool,
    and the L-BFGS history (``2 × history × parameters``)."""
    net = cfg["net"]
    item = 8 if cfg["dtype"] == "float64" else 4
    D, m = problem.input_dim, problem.n_outputs
    if isinstance(net, nn.Module):
        n_params = sum(p.numel() for p in net.parameters())
        width, depth = max(1, int(math.sqrt(n_params))), 1
    else:
        width = int(net.get("width", net.get("n", 64)) or 64)
        depth = int(net.get("depth", 1) or 1)
        nf = int(net.get("fourier_features", 0) or 0)
        n_params = (D + 2 * nf + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * m
    n_conditions = max(1, len(problem.conditions()))
    n_train = cfg["n_domain"] + n_conditions * max(cfg["n_boundary"], cfg["n_initial"])
    graph = 20.0 * n_train * width * depth * item * max(1, m)
    pool = (
        float(cfg["n_domain"]) * cfg["pool_factor"] * (D + width * depth * 10) * item
        if cfg["adaptive"] is not None
        else 0.0
    )
    evaluation = float(cfg["n_eval"]) * (D + 4 * m) * 8 * 4 + min(cfg["n_eval"], 65536) * width * depth * item * 4
    history = 2.0 * cfg.get("lbfgs_history", 0) * n_params * item if cfg.get("stages") is None else 0.0
    return {"n_domain": graph, "pool_factor": pool, "n_eval": evaluation, "lbfgs_history": history}


def _points_limits(problem: "Problem", cfg: Dict[str, Any]) -> None:
    est = estimate_bytes(problem, cfg)
    total = sum(est.values())
    cause = max(est, key=est.get)
    if cause == "n_domain":  # the graph grows with every point set; name the largest
        cause = max(("n_domain", "n_boundary", "n_initial"), key=lambda k: cfg[k])
    check_memory(cause, cfg.get(cause), total, "this solve")


def check_run(problem: "Problem", cfg: Dict[str, Any]) -> Dict[str, Any]:
    """``cfg`` (a resolved :func:`pinnkit.solve` configuration) with every value checked and made canonical;
    raises ValueError naming the first bad option, before anything is built or trained."""
    cfg = dict(cfg)
    cfg["net"] = check_net_spec(cfg["net"])
    if cfg.get("stages") is None:
        cfg["steps"] = check_int("steps", cfg["steps"], 0, MAX_STEPS)
        cfg["lbfgs_steps"] = check_int("lbfgs_steps", cfg["lbfgs_steps"], 0, MAX_STEPS)
        if cfg["steps"] == 0 and cfg["lbfgs_steps"] == 0:
            raise ValueError("steps and lbfgs_steps are both 0: nothing would be trained; give steps >= 1")
        cfg["lr"] = check_real("lr", cfg["lr"], 0.0, MAX_LR)
        cfg["lr_decay"] = check_range("lr_decay", cfg["lr_decay"], 0.0, 1.0, low_open=True)
        cfg["decay_every"] = check_int("decay_every", cfg["decay_every"], 1, MAX_STEPS)
        cfg["lbfgs_history"] = check_int("lbfgs_history", cfg["lbfgs_history"], 1, 10**4)
        cfg["lbfgs_chunk"] = check_int("lbfgs_chunk", cfg["lbfgs_chunk"], 1, MAX_STEPS)
    elif sum(s.steps for s in cfg["stages"]) == 0:
        raise ValueError("stages hold 0 steps in all: nothing would be trained")
    for key in ("n_domain", "n_boundary", "n_initial"):
        cfg[key] = check_int(key, cfg[key], 1, MAX_POINTS)
    cfg["n_eval"] = check_int("n_eval", cfg["n_eval"], 1, MAX_POINTS)
    cfg["pool_factor"] = check_int("pool_factor", cfg["pool_factor"], 1, 1000)
    cfg["resample_every"] = check_int("resample_every", cfg["resample_every"], 0, MAX_STEPS)
    from .sampling import METHODS

    check_choice("sampling", cfg["sampling"], tuple(METHODS))
    cfg["condition_weight"] = check_nonnegative("condition_weight", cfg["condition_weight"])
    for key in ("grad_penalty", "gpinn_penalty"):
        cfg[key] = check_nonnegative(key, cfg[key])
    weights = cfg["weights"]
    if weights is not None:
        if not isinstance(weights, Mapping):
            raise ValueError(f"weights must be a mapping of condition names to weights, got {weights!r}")
        names = [c.name for c in problem.conditions()]
        unknown = sorted(str(k) for k in weights if k not in names)
        if unknown:
            raise ValueError(f"weights names unknown condition(s) {unknown}; {problem.name} has {names}")
        cfg["weights"] = {k: check_nonnegative(f"weights[{k!r}]", w) for k, w in weights.items()}
    hard = cfg["hard_constraints"]
    if hard is None:
        hard = ()
    if isinstance(hard, str) and hard == "auto":  # the kind this problem admits (pinnkit.constraints.auto_kinds)
        from .constraints import auto_kinds

        hard = auto_kinds(problem)
    if isinstance(hard, str):
        hard = (hard,)
    if not isinstance(hard, (list, tuple)):
        raise ValueError(f"hard_constraints must be 'auto' or a sequence of 'initial'/'boundary', got {hard!r}")
    for h in hard:
        check_choice("hard_constraints", h, ("initial", "boundary"))
    cfg["hard_constraints"] = tuple(hard)
    cfg["balance_every"] = check_int("balance_every", cfg["balance_every"], 1, MAX_STEPS)
    cfg["balance_alpha"] = check_range("balance_alpha", cfg["balance_alpha"], 0.0, 1.0, low_open=True)
    if cfg["balance"] is not None and isinstance(cfg["balance"], str):
        from .training.balance import BALANCE_RULES

        check_choice("balance", cfg["balance"], BALANCE_RULES)
    from .training.causal import as_causal

    cfg["causal"] = as_causal(cfg["causal"])
    if cfg["causal"] is not None and not problem.time_dependent:
        raise ValueError(
            f"causal weighting orders the residual in time, but {problem.name} is steady; leave causal unset"
        )
    from .derivatives import METHODS as DERIVATIVE_METHODS

    check_choice("method", cfg["method"], tuple(DERIVATIVE_METHODS))
    cfg["compile"] = check_bool("compile", cfg["compile"])
    cfg["dtype"] = check_dtype("dtype", cfg["dtype"])
    cfg["device"] = check_device("device", cfg["device"])
    cfg["track_every"] = check_int("track_every", cfg["track_every"], 0, MAX_STEPS)
    cfg["ntk_every"] = check_int("ntk_every", cfg["ntk_every"], 0, MAX_STEPS)
    cfg["checkpoint_every"] = check_int("checkpoint_every", cfg["checkpoint_every"], 1, MAX_STEPS)
    cfg["resume"] = check_bool("resume", cfg["resume"])
    cfg["overwrite"] = check_bool("overwrite", cfg.get("overwrite", False))
    if cfg["time_limit"] is not None:
        cfg["time_limit"] = check_positive("time_limit", cfg["time_limit"])
    if cfg["checkpoint_dir"] is not None:
        cfg["checkpoint_dir"] = check_output_dir("checkpoint_dir", cfg["checkpoint_dir"])
        from .preflight import check_fresh_start
        from .trainer import CHECKPOINT_NAME

        path = os.path.join(cfg["checkpoint_dir"], CHECKPOINT_NAME)
        check_fresh_start(
            path,
            resume=cfg["resume"],
            overwrite=cfg["overwrite"],
            resume_hint="resume=True (CLI: --resume)",
            overwrite_hint="overwrite=True (CLI: --overwrite)",
        )
    elif cfg["resume"]:
        raise ValueError("resume=True needs checkpoint_dir (where the checkpoint to continue lies)")
    _points_limits(problem, cfg)
    return cfg
