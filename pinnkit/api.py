"""``pinnkit.solve``: the common path from a problem to a trained, evaluated, reproducible result."""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from . import distributed, presets
from .callbacks import ErrorTracker, NTKTracker
from .constraints import HardConstraints
from .inverse import Coefficients, CoefficientTracker, InverseModel
from .metrics import problem_errors
from .nets import MLP, FourierFeatures, MeanFieldTwoLayer, ResidualMLP
from .result import Result, predict
from .run_options import MAX_SEED, check_net_spec, check_run
from .sampling import Points, Sampler, evaluation_points
from .trainer import PINNTrainer, TrainConfig
from .training.stages import FirstOrder, QuasiNewton, Stage
from .validation import check_bool, check_choice, check_int, check_real
from .versions import versions

if TYPE_CHECKING:  # pragma: no cover
    from pinnkit.equations import Problem

__all__ = ["solve", "build_net", "NET_KINDS", "DEFAULT_NET", "Loss", "Engine", "Checkpoint", "Points", "SHORTCUTS"]

NET_KINDS = ("mlp", "resmlp", "meanfield")
DEFAULT_NET = dict(presets.DEFAULT["net"])


def build_net(spec: Mapping[str, Any], problem: "Problem", seed: int) -> nn.Module:
    """A net from a spec such as ``{"kind": "mlp", "width": 32, "depth": 3, "activation": "tanh",
    "fourier_features": 0, "fourier_sigma": 1.0}``, sized for the problem's inputs and outputs and with
    its input box mapped onto ``[-1, 1]^D``."""
    spec = dict(spec)
    kind = check_choice("net kind", spec.pop("kind", DEFAULT_NET["kind"]), NET_KINDS)
    if kind != "meanfield":
        spec = {**{k: v for k, v in DEFAULT_NET.items() if k != "kind"}, **spec}
    bounds = (problem.input_lower, problem.input_upper)
    D, m = problem.input_dim, problem.n_outputs
    torch.manual_seed(seed)
    spec = check_net_spec({"kind": kind, **spec})
    spec.pop("kind")
    if kind == "meanfield":
        return MeanFieldTwoLayer(
            D,
            n=int(spec.get("n", spec.get("width", 256))),
            out_dim=m,
            activation=spec.get("activation", "tanh"),
            input_bounds=bounds,
        )
    nf = int(spec.pop("fourier_features", 0) or 0)
    sigma = spec.pop("fourier_sigma", 1.0)
    if nf and sigma == "auto":
        sigma = fourier_scales(problem)
    if isinstance(sigma, list) and len(sigma) != D:
        raise ValueError(f"net fourier_sigma must be one scale or {D} (one per input of {problem.name}), got {sigma}")
    fourier = FourierFeatures(D, nf, sigma if isinstance(sigma, list) else float(sigma), seed=seed) if nf else None
    scale = spec.pop("output_scale", None)
    cls = MLP if kind == "mlp" else ResidualMLP
    net = cls(D, m, input_bounds=bounds, fourier=fourier, **spec)
    if scale is None:
        return net
    from .nets.output_scale import OutputScale, detect_output_scale

    return OutputScale(net, detect_output_scale(problem) if scale == "auto" else float(scale))


def fourier_scales(problem: "Problem") -> List[float]:
    """Per-axis Fourier scales ``σ_k = max(1, κ_k (upper_k − lower_k)/2)`` from the angular wave numbers ``κ_k``
    the problem declares (:meth:`~pinnkit.equations.Problem.wavenumbers`), in the ``[−1, 1]`` coordinates the
    net sees: a mode ``sin(κ x)`` on ``[a, b]`` is ``sin(κ (b − a)/2 · x')`` there. An axis slower than one
    oscillation over the box keeps scale 1 (the isotropic default)."""
    k = problem.wavenumbers()
    if k is None:
        raise ValueError(
            f"fourier_sigma='auto' needs the problem's wave numbers; {problem.name} declares none "
            "(give a number or one per input axis)"
        )
    if len(k) != problem.input_dim:
        raise ValueError(f"{problem.name}.wavenumbers() gave {len(k)} values for {problem.input_dim} inputs")
    return [max(1.0, abs(float(w)) * (hi - lo) / 2) for w, lo, hi in zip(k, problem.input_lower, problem.input_upper)]


class _Group:
    """A small typed group of :func:`solve` options; a field left as ``None`` takes the problem's preset."""

    _keys: Dict[str, str] = {}  # field -> solve keyword, where they differ

    def overrides(self) -> Dict[str, Any]:
        """The fields that are set, as :func:`solve` keywords."""
        return {
            self._keys.get(f.name, f.name): getattr(self, f.name)
            for f in fields(self)  # type: ignore[arg-type]
            if getattr(self, f.name) is not None
        }


@dataclass(frozen=True)
class Loss(_Group):
    """The loss: every initial/boundary term weighted by ``condition_weight`` (the PDE term by 1) unless
    ``weights`` names it; ``grad_penalty`` adds ``λ_g mean ‖∇_x u_θ‖²``, ``gpinn_penalty`` ``λ mean ‖∇R‖²``
    (gPINN); ``hard_constraints`` ⊂ ``("initial", "boundary")`` imposes those conditions exactly
    (:class:`pinnkit.constraints.HardConstraints`); ``balance`` ``"max-mean"`` or ``"norm"`` (with the
    ``balance_every``/``balance_alpha`` keywords of :func:`solve`) or a strategy
    (:class:`pinnkit.training.balance.GradientBalance`: ``rule``, ``every``, ``alpha``) sets the condition
    weights from gradient statistics (Wang, Teng & Perdikaris 2021); ``"ntk"``
    (:class:`~pinnkit.training.balance.NTKBalance`) from the trace ratios of the empirical NTK (Wang, Yu &
    Perdikaris 2022); ``causal`` (``True``, ε, an ε schedule, a dict or a
    :class:`~pinnkit.training.causal.CausalWeighting`) weights the PDE residual causally in time (Wang, Sankaran &
    Perdikaris 2022)."""

    condition_weight: Optional[float] = None
    weights: Optional[Mapping[str, float]] = None
    grad_penalty: Optional[float] = None
    gpinn_penalty: Optional[float] = None
    hard_constraints: Optional[Sequence[str]] = None
    balance: Any = None
    causal: Any = None


@dataclass(frozen=True)
class Engine(_Group):
    """Derivatives and numbers: ``method`` ``"autograd"``, ``"forward"`` (torch.func) or ``"taylor"`` (one
    forward pass, with ``compile=True`` compiled by ``torch.compile``); ``dtype`` ``"float32"`` or
    ``"float64"``; ``device`` ``"cpu"`` or ``"cuda"``."""

    method: Optional[str] = None
    compile: Optional[bool] = None
    dtype: Optional[str] = None
    device: Optional[str] = None


@dataclass(frozen=True)
class Checkpoint(_Group):
    """Checkpoints in ``dir`` every ``every`` steps; ``resume=True`` continues from the one there (refused
    when it belongs to another run); a fresh run in a ``dir`` holding a checkpoint is refused unless
    ``overwrite=True``."""

    dir: Optional[str] = None
    every: Optional[int] = None
    resume: Optional[bool] = None
    overwrite: Optional[bool] = None

    _keys = {"dir": "checkpoint_dir", "every": "checkpoint_every"}


#: the flat keywords :func:`solve` accepts besides its own arguments (each a shortcut for a field of
#: ``stages``, ``points``, ``loss``, ``engine`` or ``checkpoint``, or an evaluation option); their defaults
#: are :data:`pinnkit.presets.DEFAULT`
SHORTCUTS: Tuple[str, ...] = tuple(k for k in presets.DEFAULT if k != "net")
_GROUPS = {"points": Points, "loss": Loss, "engine": Engine, "checkpoint": Checkpoint}


def _balance_fields(balance: Any, every: int, alpha: float) -> Dict[str, Any]:
    """The trainer's flat balancing fields for a string rule or a strategy with ``rule``/``every``/``alpha``."""
    if balance is None or isinstance(balance, str):
        return {"balance": balance, "balance_every": every, "balance_alpha": alpha}
    if getattr(balance, "rule", None) == "ntk":
        return {"balance": balance, "balance_every": balance.every, "balance_alpha": balance.alpha}
    try:
        return {"balance": balance.rule, "balance_every": balance.every, "balance_alpha": balance.alpha}
    except AttributeError:
        raise ValueError(
            f"balance must be None, 'max-mean', 'norm', 'ntk' or a balancing strategy, got {balance!r}"
        ) from None


def _flat_stages(stages: Sequence[Stage]) -> Optional[Dict[str, Any]]:
    """The trainer's flat optimiser fields for ``stages`` when they are at most one first-order stage
    followed by at most one quasi-Newton stage, else None."""
    first = [s for s in stages if isinstance(s, FirstOrder)]
    second = [s for s in stages if isinstance(s, QuasiNewton)]
    if (
        len(first) > 1
        or len(second) > 1
        or len(first) + len(second) != len(stages)
        or (first and second and stages.index(first[0]) > stages.index(second[0]))
    ):
        return None
    out: Dict[str, Any] = {"adam_steps": 0, "lbfgs_steps": 0}
    if first:
        f = first[0]
        out.update(optimizer=f.name, adam_steps=f.steps, lr=f.lr, lr_decay=f.decay, decay_every=f.every)
    if second:
        q = second[0]
        out.update(quasi_newton=q.name, lbfgs_steps=q.steps, lbfgs_chunk=q.chunk)
        if hasattr(q, "history"):
            out["lbfgs_history"] = q.history
    return out


def _train_config(problem: "Problem", cfg: Mapping[str, Any], progress: bool) -> TrainConfig:
    """The trainer's configuration of a resolved run configuration (:func:`pinnkit.presets.resolve`)."""
    kw: Dict[str, Any] = dict(
        weights={**{c.name: cfg["condition_weight"] for c in problem.conditions()}, **dict(cfg["weights"] or {})},
        grad_penalty=cfg["grad_penalty"],
        gpinn_penalty=cfg["gpinn_penalty"],
        causal=cfg["causal"],
        **_balance_fields(cfg["balance"], cfg["balance_every"], cfg["balance_alpha"]),
        method=cfg["method"],
        compile=cfg["compile"],
        dtype=cfg["dtype"],
        device=cfg["device"],
        checkpoint_dir=cfg["checkpoint_dir"],
        checkpoint_every=cfg["checkpoint_every"],
        time_limit=cfg["time_limit"],
        progress=progress,
    )
    stages = cfg.get("stages")
    if stages is None:
        kw.update(
            adam_steps=cfg["steps"],
            lbfgs_steps=cfg["lbfgs_steps"],
            lr=cfg["lr"],
            lr_decay=cfg["lr_decay"],
            decay_every=cfg["decay_every"],
            optimizer=cfg["optimizer"],
            quasi_newton=cfg["quasi_newton"],
            lbfgs_history=cfg["lbfgs_history"],
            lbfgs_chunk=cfg["lbfgs_chunk"],
        )
    else:
        kw.update(_flat_stages(stages) or {})  # the flat fields agree with the stages where they can
        kw["stages"] = tuple(stages)
    return TrainConfig(**kw).validate()


def _check_callbacks(callbacks: Any) -> List[Any]:
    """Callbacks must be a sequence of callables, each with ``every`` (an integer >= 0; 0 or None: only at the
    end of the run)."""
    if callable(callbacks) or not isinstance(callbacks, (list, tuple)):
        raise ValueError(f"callbacks must be a list or tuple of callbacks, got {callbacks!r}")
    for i, cb in enumerate(callbacks):
        if not callable(cb):
            raise ValueError(f"callbacks[{i}] must be callable as cb(trainer) -> {{name: value}}, got {cb!r}")
        every = getattr(cb, "every", None)
        if every is not None:
            check_int(f"callbacks[{i}].every", every, 0)
    return list(callbacks)


def _split_options(problem: Union[str, "Problem"], options: Dict[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """``solve``'s flat keywords and the problem parameters among ``options``; anything else is an error that
    names it and lists what is allowed."""
    from pinnkit.equations import PROBLEMS

    own = sorted(["net", "stages", *_GROUPS, "callbacks", "seed", "preset", "progress", "infer", "data", *SHORTCUTS])
    flat = {k: v for k, v in options.items() if k in SHORTCUTS}
    rest = {k: v for k, v in options.items() if k not in SHORTCUTS}
    if isinstance(problem, str):
        cls = PROBLEMS.get(problem)
        allowed = sorted(getattr(cls, "PARAMETERS", {})) if cls is not None else None
        bad = sorted(set(rest) - set(allowed)) if allowed is not None else []
        if bad:
            raise ValueError(
                f"solve() got unknown keyword(s) {bad}: neither an option of solve (options: {own}) "
                f"nor a parameter of {problem!r} (parameters: {allowed})"
            )
    elif rest:
        raise ValueError(
            f"solve() got unknown keyword(s) {sorted(rest)} with a Problem instance (options: {own}; "
            "problem parameters go to the Problem's constructor)"
        )
    return flat, rest


def solve(
    problem: Union[str, "Problem"],
    net: Union[nn.Module, Mapping[str, Any], None] = None,
    stages: Optional[Sequence[Stage]] = None,
    points: Optional[Points] = None,
    *,
    loss: Optional[Loss] = None,
    engine: Optional[Engine] = None,
    checkpoint: Optional[Checkpoint] = None,
    callbacks: Sequence[Any] = (),
    seed: int = 0,
    preset: Optional[str] = None,
    progress: bool = True,
    infer: Union[None, str, Sequence[str], Mapping[str, float]] = None,
    data: Any = None,
    **options: Any,
) -> Result:
    """Train a PINN for ``problem`` and evaluate it on held-out points.

    Every setting left out takes the problem's tuned preset (:mod:`pinnkit.presets`: the Navier–Stokes
    problems have their own, every other problem :data:`pinnkit.presets.DEFAULT`); the full configuration is
    written to ``result.config`` and summary.json. All inputs are validated before any training starts.

    **Main arguments:**

    - ``problem``: a :class:`~pinnkit.equations.Problem`, or a registered name (``pinnkit list``) with its
      parameters as keywords (``solve("heat", dim=2, kappa=0.1)``).
    - ``net``: a ``torch.nn.Module``, or a spec merged onto the preset's net (:func:`build_net`:
      ``{"kind": "mlp", "width": 64, "depth": 3, "activation": "tanh"}`` by default).
    - ``stages``: the optimiser stages run in order (:mod:`pinnkit.training.stages`), e.g.
      ``(Adam(steps=2000, lr=3e-3, decay=0.9, every=200), SSBFGS(steps=3000))``. They replace every optimiser
      setting of the preset. Default: the preset's Adam stage (2000 steps from lr 3e-3 decaying ×0.9 every
      200 steps), then its quasi-Newton stage (up to 3000 L-BFGS iterations).
    - ``points``: the training points, :class:`pinnkit.sampling.Points` (``n_domain=1000, n_boundary=400,
      n_initial=400, sampling="sobol"`` by default; ``adaptive=RAD(every=k)`` or ``"rad"`` for residual-based
      adaptive resampling).

    **Other arguments:**

    - ``loss``: :class:`Loss` (condition weights, gradient and gPINN penalties, hard constraints, loss
      balancing).
    - ``engine``: :class:`Engine` (derivative method, ``torch.compile``, dtype, device).
    - ``checkpoint``: :class:`Checkpoint` (directory, interval, resume, overwrite).
    - ``callbacks``: objects with ``every`` and ``__call__(trainer) -> {name: value}``, run during training
      into ``history["diagnostics"]`` (e.g. :class:`pinnkit.theory.TheoryTracker`).
    - ``seed``: seeds the net and the points.
    - ``preset``: the table entry to start from (default: the problem's; ``"default"`` for the plain one).
    - ``progress``: show a progress bar.
    - ``infer``: the problem's unknown coefficients to learn with the net (declared in its ``UNKNOWNS``: ν of
      viscous Burgers, κ of heat, λ₁ and ν of Navier–Stokes), a name, a list of names, or ``{name: initial
      guess}``; their values, truths and relative errors land in ``result.inferred`` and summary.json, their
      history in ``history["diagnostics"]`` (``coefficient/<name>``).
    - ``data``: observations fitted as one more condition: :class:`pinnkit.equations.Observations`, a CSV
      path (:func:`pinnkit.equations.inverse.save_observations`), or a list of them.
    - ``**options``: the problem's parameters (with a name), and flat shortcuts for every field of the groups
      above (:data:`SHORTCUTS`): ``steps``, ``lr``, ``lr_decay``, ``decay_every``, ``optimizer``
      (``"adam"``/``"sgd"``), ``lbfgs_steps``, ``quasi_newton`` (``"lbfgs"``, ``"bfgs"``, ``"ssbfgs"``: dense,
      nets up to 20k parameters, best in float64), ``lbfgs_history``, ``lbfgs_chunk`` (instead of ``stages``);
      ``n_domain``, ``n_boundary``, ``n_initial``, ``sampling``, ``resample_every``, ``adaptive``,
      ``pool_factor``; ``condition_weight``, ``weights``, ``grad_penalty``, ``gpinn_penalty``,
      ``hard_constraints``, ``balance``, ``balance_every``, ``balance_alpha``, ``causal``; ``method``,
      ``compile``, ``dtype``, ``device``; ``checkpoint_dir``, ``checkpoint_every``, ``resume``, ``overwrite``;
      ``n_eval`` (held-out points), ``track_every`` (record the held-out relative L2 every k steps, 0: never)
      and ``ntk_every`` (record the empirical NTK's traces and spectra every k steps). A shortcut and
      the same field of a group together are an error; so is an unknown keyword.

    Heat's preset took the 2-D heat problem to relative L2 7.5e-6 on the held-out grid in 22 s on 2 cores (the plain
    defaults, ``preset="default"``: 4.4e-4 in 71 s).
    """
    from pinnkit.equations import make_problem

    flat, problem_params = _split_options(problem, options)
    overrides: Dict[str, Any] = {}
    for name, group in (("points", points), ("loss", loss), ("engine", engine), ("checkpoint", checkpoint)):
        cls = _GROUPS[name]
        if group is None:
            continue
        if not isinstance(group, cls):
            raise ValueError(f"{name} must be a {cls.__module__}.{cls.__name__}, got {group!r}")
        for k, v in group.overrides().items():
            if k in flat:
                raise ValueError(f"{k} given both in {name}= and as a keyword; give it once")
            overrides[k] = v
    overrides.update(flat)
    if net is not None:
        overrides["net"] = net
    if stages is not None:
        overrides["stages"] = stages
    if isinstance(problem, str):
        problem = make_problem(problem, **problem_params)
    seed = check_int("seed", seed, 0, MAX_SEED)
    progress = check_bool("progress", progress)
    callbacks = _check_callbacks(callbacks)
    truth_problem = problem
    unknowns, coefficients, observations = _inverse_setup(problem, infer, data, seed)
    if unknowns or observations:
        from pinnkit.equations.inverse import with_unknowns

        problem = with_unknowns(problem, coefficients, observations)
    cfg = check_run(problem, presets.resolve(truth_problem, overrides, preset=preset))
    group = distributed.init_from_env(cfg["device"])  # under torchrun: join the launch's process group
    run_stages = presets.stages_of(cfg)
    config = _train_config(problem, cfg, progress)
    sampler = Sampler(
        problem,
        cfg["n_domain"],
        cfg["n_boundary"],
        cfg["n_initial"],
        cfg["sampling"],
        cfg["resample_every"],
        seed,
        adaptive=cfg["adaptive"],
        pool_factor=cfg["pool_factor"],
    )
    net = cfg["net"]
    net_spec: Dict[str, Any] = {"kind": "custom", "repr": repr(net)} if isinstance(net, nn.Module) else dict(net)
    model = net if isinstance(net, nn.Module) else build_net(net_spec, problem, seed)
    hard_constraints: List[str] = list(cfg["hard_constraints"] or ())
    if hard_constraints:
        model = HardConstraints(model, problem, hard_constraints)
    if unknowns:
        model = InverseModel(model, coefficients)

    eval_pts = evaluation_points(problem, cfg["n_eval"])
    cbs = list(callbacks)
    if unknowns:
        cbs.append(CoefficientTracker(every=max(1, cfg["track_every"] or 50)))
    if cfg["track_every"]:
        cbs.append(ErrorTracker(problem, eval_pts, every=cfg["track_every"]))
    if cfg["ntk_every"]:
        cbs.append(NTKTracker(every=cfg["ntk_every"]))
    torch.manual_seed(seed)
    trainer = PINNTrainer(problem, model, sampler, config, cbs)
    if cfg["resume"]:
        trainer.load_checkpoint()
    t0 = time.perf_counter()
    history = trainer.train()
    wall = time.perf_counter() - t0

    errors: Dict[str, float] = {}
    t1 = time.perf_counter()
    if problem.has_exact:
        truth = problem.reference(torch.as_tensor(eval_pts, dtype=torch.float64)).numpy()
        errors = problem_errors(problem, predict(trainer.model, eval_pts), truth, eval_pts)
    eval_time = time.perf_counter() - t1
    inferred = _inferred(unknowns, trainer.model, eval_pts)
    for name, rec in inferred.items():
        key = "relative_l2" if rec.get("field") else "relative_error"
        errors[f"{name}_{key}"] = rec[key]
    full_config = {
        "problem": {"name": problem.name, **problem.params},
        "preset": presets.preset_name(problem, preset),
        "net": net_spec,
        "hard_constraints": hard_constraints,
        "n_parameters": sum(p.numel() for p in trainer.model.parameters()),
        "sampler": {
            "n_domain": sampler.n_domain,
            "n_boundary": sampler.n_boundary,
            "n_initial": sampler.n_initial,
            "method": sampler.method,
            "resample_every": sampler.resample_every,
            "adaptive": sampler.strategy.as_dict() if sampler.strategy is not None else None,
            "pool_factor": sampler.pool_factor,
        },
        "stages": [s.as_dict() for s in run_stages],
        "train": config.as_dict(),
        "seed": seed,
        "n_eval": len(eval_pts),
        "track_every": cfg["track_every"],
        "ntk_every": cfg["ntk_every"],
        "inverse": {
            "unknowns": {n: {k: u[k] for k in ("initial", "positive", "field")} for n, u in unknowns.items()},
            "observations": [{"name": o.name, "n": len(o.points), "noise": o.noise} for o in observations],
        }
        if unknowns or observations
        else None,
    }
    if group is not None:
        full_config["distributed"] = {**group.as_dict(), "sharded": "points (each rank its contiguous block)"}
    timings = {"train_s": history["time"][-1] if history["time"] else 0.0, "wall_s": wall, "eval_s": eval_time}
    return Result(truth_problem, trainer.model, history, full_config, errors, timings, versions(), eval_pts, inferred)


def _inverse_setup(problem: "Problem", infer: Any, data: Any, seed: int = 0):
    """``(unknowns, coefficients, observations)`` of an inverse run, checked before any work: the declared
    unknowns with their initial guesses and truths, the trainable :class:`Coefficients`, the observations."""
    from pinnkit.equations.inverse import as_observations, unknowns_of

    observations = as_observations(data, problem)
    if infer is None:
        return {}, Coefficients({}), observations
    if isinstance(infer, Mapping):
        unknowns = unknowns_of(problem, list(infer))
        for n, v in infer.items():
            unknowns[n]["initial"] = check_real(f"infer[{n!r}] (initial guess)", v, -1e6, 1e6, low_open=False)
    elif isinstance(infer, str) or (isinstance(infer, (list, tuple)) and all(isinstance(n, str) for n in infer)):
        unknowns = unknowns_of(problem, [infer] if isinstance(infer, str) else list(infer))
    else:
        raise ValueError(f"infer must be a coefficient name, a list of names or {{name: initial}}, got {infer!r}")
    return unknowns, Coefficients(unknowns, bounds=(problem.lower, problem.upper), seed=seed), observations


def _inferred(unknowns: Dict[str, dict], model: nn.Module, points) -> Dict[str, Dict[str, float]]:
    """``{name: {value, truth, initial, relative_error}}`` of the learned scalars, and ``{relative_l2,
    field: True}`` of a learned coefficient function against its truth on the held-out ``points``."""
    if not unknowns:
        return {}
    values = model.coefficients.values()
    out: Dict[str, Dict[str, float]] = {}
    for n, u in unknowns.items():
        if u.get("field"):
            x = torch.as_tensor(points, dtype=next(model.parameters()).dtype)
            with torch.no_grad():
                learned = model.coefficients.value(n)(x).double()
                truth = u["truth"](x.double()).double()
            err = float(torch.linalg.norm(learned - truth) / torch.linalg.norm(truth))
            out[n] = {"field": True, "relative_l2": err, "initial": float(u["initial"])}
            continue
        truth, v = u["truth"], values[n]
        err = abs(v - truth) / abs(truth) if truth != 0 else abs(v - truth)
        out[n] = {"value": v, "truth": truth, "initial": float(u["initial"]), "relative_error": err}
    return out
