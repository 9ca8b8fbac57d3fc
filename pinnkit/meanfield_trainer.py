r"""Mean-field training of :class:`~pinnkit.nets.MeanFieldTwoLayer`: gradient flow of the particle measure,
optionally with birth–death, on the training core (:mod:`pinnkit.training`). The energies ``E(μ)`` and the
particle potentials ``V(θ; μ) = δE/δμ(θ)`` they define are in :mod:`pinnkit.meanfield_energy`.

**Gradient flow, mean-field time.** ``dθ_i/dt = −∇_θ V(θ_i; μ_t)``, discretised by explicit Euler with step
``dt``: ``θ_i ← θ_i − dt ∇_θ V(θ_i) = θ_i − (dt·n) ∂E/∂θ_i``, i.e. plain gradient descent with learning
rate ``dt · n`` (``MeanFieldTwoLayer.lr_scale``), so each neuron moves ``O(dt)`` per step whatever ``n`` is.
Energy dissipation ``dE/dt = −∫ |∇_θ V|² dμ = −n Σ_i |∂E/∂θ_i|²`` is recorded as ``dissipation``.

**Birth–death** (Rotskoff, Jelassi, Bruna & Vanden-Eijnden 2019, arXiv 1902.01843):
``∂_t μ = ∇·(μ∇V) − α (V − V̄) μ``, ``V̄ = ∫ V dμ``. Particle scheme (their Algorithm, as summarised in the
project's theory notes), applied after the transport step by operator splitting with the potentials
``V_i = V(θ_i)`` of the step's start: ``β_i = α (V_i − V̄_n)``; independently for each ``i`` an event fires with
probability ``min(1, |β_i| dt)``; events are processed in random order; if ``β_i > 0`` particle ``i`` is
killed and replaced by a copy of a uniformly chosen other particle, if ``β_i < 0`` it is cloned onto a
uniformly chosen other particle (which is overwritten). Every event is one death and one birth, so ``n`` is
exactly preserved ("kill one, clone another in pairs"); in expectation the two random partners cancel and the
measure follows ``−α (V − V̄) μ``. With ``α = 0`` no event can fire and the scheme is the gradient flow
bit for bit. Optional reinjection at rate ``γ``: each particle is independently replaced with probability
``γ dt`` by a fresh draw from the initial measure, i.e. the extra term ``γ (μ_0 − μ)`` (our choice of
reinjection; it keeps full support). The authors' notebooks switch birth–death off for a final stretch of
plain gradient descent: ``birth_death_until``.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from .meanfield_energy import (
    ArgumentTypeError,
    Energy,
    PINNEnergy,
    RegressionEnergy,
    Terms,
    check_data,
    check_dtype,
    particle_potentials,
    perturbed_energy,
    potential_at,
)
from .metrics import problem_errors
from .nets import MeanFieldTwoLayer
from .nets.activations import ACTIVATIONS
from .nets.meanfield import check_meanfield_net, check_net_options
from .preflight import check_memory
from .sampling import Sampler, evaluation_points
from .training.loop import Callback, TrainingLoop
from .training.stages import FirstOrder, Params
from .validation import check_bool, check_choice, check_int, check_nonnegative, check_positive, check_range

#: the largest seed accepted (it seeds ``torch.Generator`` and the samplers' ``numpy`` streams)
SEED_MAX = 2**32 - 1

if TYPE_CHECKING:
    from pinnkit.equations import Problem

__all__ = [
    "RegressionEnergy",
    "PINNEnergy",
    "MeanFieldConfig",
    "MeanFieldTrainer",
    "MeanFieldResult",
    "particle_potentials",
    "potential_at",
    "perturbed_energy",
    "train_meanfield_pinn",
    "train_meanfield_regression",
]


# =========================================================================== trainer
@dataclass(frozen=True)
class ParticleFlow(FirstOrder):
    """Explicit Euler on the mean-field gradient flow for ``steps`` steps of length ``dt = lr``: with the net's
    ``param_groups`` (learning rate ``dt · n``) plain gradient descent, ``θ_i ← θ_i − dt·n ∂E/∂θ_i``."""

    decay: float = 1.0
    name = "flow"

    def build(self, params: Params) -> torch.optim.Optimizer:
        return torch.optim.SGD(list(params), lr=self.lr)


@dataclass
class MeanFieldConfig:
    """Mean-field flow settings.

    ``dt``: Euler step of the flow in mean-field time (parameter learning rate ``dt · n``); ``steps``;
    ``alpha``: birth–death rate (``None`` or 0: plain gradient flow; 0 still runs the birth–death code path);
    ``reinject``: reinjection rate ``γ`` from the initial measure; ``birth_death_until``: last step at which
    birth–death/reinjection act (``None``: all steps); ``seed``: the birth–death random stream;
    ``record_every``: steps between history records; ``eval_every``: steps between ``evaluate`` calls (0: end
    only); ``time_limit``: stop once training has taken this many seconds (equal-time comparisons);
    ``checkpoint_every`` / ``checkpoint_dir``: the good state the divergence guard restores, and where it is
    written for a resume."""

    dt: float = 0.05
    steps: int = 1000
    alpha: Optional[float] = None
    reinject: float = 0.0
    birth_death_until: Optional[int] = None
    seed: int = 0
    record_every: int = 10
    eval_every: int = 0
    time_limit: Optional[float] = None
    checkpoint_every: int = 100
    checkpoint_dir: Optional[str] = None
    progress: bool = False

    def validate(self) -> "MeanFieldConfig":
        """Check every setting (a ValueError naming it and its range) and store it as a plain Python number
        (numpy scalars and integral floats are accepted; ``bool`` is never a number)."""
        self.dt = check_positive("dt", self.dt)
        self.steps = check_int("steps", self.steps, 0)
        self.record_every = check_int("record_every", self.record_every, 1)
        self.eval_every = check_int("eval_every", self.eval_every, 0)
        self.seed = check_int("seed", self.seed, 0, SEED_MAX)
        self.checkpoint_every = check_int("checkpoint_every", self.checkpoint_every, 1)
        if self.alpha is not None:
            self.alpha = check_range("alpha", self.alpha, 0.0, math.inf, high_open=True)
        self.reinject = check_range("reinject", self.reinject, 0.0, math.inf, high_open=True)
        if self.birth_death_until is not None:
            self.birth_death_until = check_int("birth_death_until", self.birth_death_until, 0)
        if self.time_limit is not None:
            self.time_limit = check_positive("time_limit", self.time_limit)
        if self.checkpoint_dir is not None and (
            not isinstance(self.checkpoint_dir, (str, os.PathLike)) or not str(os.fspath(self.checkpoint_dir)).strip()
        ):
            raise ValueError(f"checkpoint_dir must be None or a directory path, got {self.checkpoint_dir!r}")
        self.progress = check_bool("progress", self.progress)
        return self

    @property
    def birth_death(self) -> bool:
        return self.alpha is not None or self.reinject > 0


def _check_callbacks(callbacks: Any) -> List[Callback]:
    """A sequence of callbacks, each callable as ``cb(trainer)`` with an integer ``every >= 1``."""
    if isinstance(callbacks, (str, bytes)) or callable(callbacks) or not isinstance(callbacks, Iterable):
        raise ValueError(
            f"callbacks must be a sequence of callbacks (objects with every and __call__), got {callbacks!r}"
        )
    out = list(callbacks)
    for i, cb in enumerate(out):
        if not callable(cb) or not hasattr(cb, "every"):
            raise ValueError(f"callbacks[{i}] must have every and __call__(trainer), got {type(cb).__name__}")
        check_int(f"callbacks[{i}].every", cb.every, 1)
    return out


class _Evaluate:
    """The trainer's ``evaluate(model)`` as a callback; keeps its last result."""

    def __init__(self, fn: Callable[[nn.Module], Mapping[str, float]], every: int):
        self.fn, self.every, self.last = fn, every, {}

    def __call__(self, trainer: "MeanFieldTrainer") -> Mapping[str, float]:
        self.last = {k: float(v) for k, v in self.fn(trainer.model).items()}
        return self.last


class MeanFieldTrainer(TrainingLoop):
    """Explicit-Euler mean-field gradient flow of a :class:`MeanFieldTwoLayer`, with optional birth–death, on
    the training core (:class:`~pinnkit.training.TrainingLoop`; stage :class:`ParticleFlow`).

    ``energy(model, step) -> (E, terms)`` (a :class:`PINNEnergy`, :class:`RegressionEnergy` or any callable
    of that form); ``evaluate(model) -> {name: float}`` runs as a callback every ``config.eval_every`` steps
    and at the end (``history["diagnostics"]``). History (:mod:`pinnkit.training.history`, every
    ``record_every`` steps and at the end): ``loss`` is the energy ``E(θ^k)`` at the step's start, ``terms``
    its unweighted terms, and ``extra`` holds flow time ``t = step·dt``, ``dissipation``
    ``n Σ_i |∂E/∂θ_i|² = ∫|∇V|²dμ``, ``potential_var`` ``∫ (V − V̄)² dμ``, cumulative birth–death ``births``
    (events, each one death + one birth) and ``reinjected``. A non-finite energy restores the last checkpoint
    and raises :class:`~pinnkit.training.TrainingDiverged`; checkpoints carry the particles, the random
    stream and the counters, so a resumed run continues bit for bit.
    """

    checkpoint_name = "meanfield_checkpoint.pt"

    def __init__(
        self,
        model: MeanFieldTwoLayer,
        energy: Energy,
        config: Optional[MeanFieldConfig] = None,
        evaluate: Optional[Callable[[nn.Module], Mapping[str, float]]] = None,
        callbacks: Sequence[Callback] = (),
    ):
        if not isinstance(model, MeanFieldTwoLayer):
            raise ArgumentTypeError(f"model: MeanFieldTrainer trains a MeanFieldTwoLayer, got {type(model).__name__}")
        if not callable(energy):
            raise ArgumentTypeError(
                "energy must be callable as energy(model, step) -> (E, terms) (a PINNEnergy, RegressionEnergy, "
                f"...), got {type(energy).__name__}"
            )
        if config is not None and not isinstance(config, MeanFieldConfig):
            raise ArgumentTypeError(f"config must be None or a MeanFieldConfig, got {type(config).__name__}")
        if evaluate is not None and not callable(evaluate):
            raise ArgumentTypeError(
                f"evaluate must be None or callable as evaluate(model) -> {{name: number}}, got {evaluate!r}"
            )
        callbacks = _check_callbacks(callbacks)
        self.energy = energy
        self.config = cfg = (config or MeanFieldConfig()).validate()
        self.births = 0
        self.reinjected = 0
        self._V: Optional[Tensor] = None
        self._extra: Dict[str, float] = {}
        self.evaluator = _Evaluate(evaluate, cfg.eval_every) if evaluate is not None else None
        cbs = list(callbacks) + ([self.evaluator] if self.evaluator is not None else [])
        super().__init__(
            model,
            callbacks=cbs,
            record_every=cfg.record_every,
            log_every=cfg.record_every,
            checkpoint_every=cfg.checkpoint_every,
            checkpoint_dir=cfg.checkpoint_dir,
            time_limit=cfg.time_limit,
            progress=cfg.progress,
            desc="mean-field",
            seed=cfg.seed,
        )

    # ------------------------------------------------------------------ what the core asks for
    def stages(self) -> Tuple[ParticleFlow, ...]:
        return (ParticleFlow(steps=self.config.steps, lr=self.config.dt),)

    def objective(self) -> Tuple[Tensor, Terms]:
        return self.energy(self.model, self.step)

    def _flow_numbers(self, grads: Sequence[Tensor], V: Tensor) -> Dict[str, float]:
        n = self.model.n
        return {
            "t": self.step * self.config.dt,
            "dissipation": float(n * sum(g.pow(2).sum() for g in grads)),
            "potential_var": float((V - V.mean()).pow(2).mean()),
            "births": self.births,
            "reinjected": self.reinjected,
        }

    def after_backward(self) -> None:
        """The potentials ``V_i = n ⟨c_i, ∂E/∂c_i⟩`` and the record's numbers, from the step's gradients."""
        m = self.model
        grads = [m.c.grad, m.w.grad, m.b.grad]
        self._V = m.n * (m.c.detach() * grads[0]).sum(dim=1)
        self._extra = self._flow_numbers(grads, self._V)

    def record_extra(self) -> Dict[str, float]:
        return self._extra

    def after_update(self) -> None:
        cfg = self.config
        if cfg.birth_death and (cfg.birth_death_until is None or self.step <= cfg.birth_death_until):
            self._birth_death(self._V.detach())

    def _birth_death(self, V: Tensor) -> None:
        """The particle scheme of the module docstring on the current (post-transport) particles."""
        cfg, model, g = self.config, self.model, self.generator
        n = model.n
        theta = model.particles().clone()
        changed = False
        alpha = cfg.alpha or 0.0
        if cfg.alpha is not None:
            beta = (alpha * (V - V.mean())).to(torch.float64).cpu()
            u = torch.rand(n, generator=g, dtype=torch.float64)
            fire = torch.nonzero(u < (beta.abs() * cfg.dt).clamp(max=1.0)).flatten()
            if fire.numel():
                order = fire[torch.randperm(fire.numel(), generator=g)]
                others = torch.randint(0, n - 1, (order.numel(),), generator=g)
                th = theta.cpu().numpy().copy()
                for i, j in zip(order.tolist(), others.tolist()):
                    j = j + (j >= i)  # uniform over the other n − 1 particles
                    if beta[i] > 0:
                        th[i] = th[j]  # death of i, birth of a copy of j
                    else:
                        th[j] = th[i]  # birth of a copy of i, death of j
                theta = torch.as_tensor(th, dtype=theta.dtype, device=theta.device)
                self.births += int(order.numel())
                changed = True
        if cfg.reinject > 0:
            u = torch.rand(n, generator=g, dtype=torch.float64)
            idx = torch.nonzero(u < min(1.0, cfg.reinject * cfg.dt)).flatten()
            if idx.numel():
                theta[idx.to(theta.device)] = model.sample_initial(idx.numel(), generator=g)
                self.reinjected += int(idx.numel())
                changed = True
        if changed:
            model.set_particles(torch.arange(n), theta)

    def on_train_end(self) -> None:
        """Record the energy of the final particles (the state after the last step)."""
        if self.history["step"] and self.history["step"][-1] == self.step:
            return
        with torch.enable_grad():
            e, V, grads, terms = particle_potentials(self.model, self.energy, self.step)
        if torch.isfinite(e):
            self.record(self.step, "flow", self.config.dt, e, terms, self._flow_numbers(grads, V))

    def extra_state(self) -> dict:
        return {"births": self.births, "reinjected": self.reinjected}

    def load_extra_state(self, state: Mapping[str, Any]) -> None:
        self.births, self.reinjected = int(state.get("births", 0)), int(state.get("reinjected", 0))

    def config_dict(self) -> dict:
        return asdict(self.config)


# =========================================================================== one-call helpers
@dataclass
class MeanFieldResult:
    """A trained mean-field net: ``model``, ``history`` (see :class:`MeanFieldTrainer`), final ``energy``,
    ``errors`` on held-out points (``relative_l2``, ``max_abs_error``), ``wall_s`` and the ``config``."""

    model: MeanFieldTwoLayer
    history: dict
    energy: float
    errors: Dict[str, float]
    wall_s: float
    config: dict = field(default_factory=dict)


def _held_out_error(problem, n_eval: int, dtype: torch.dtype) -> Callable[[nn.Module], Dict[str, float]]:
    pts = evaluation_points(problem, n_eval)
    x = torch.as_tensor(pts, dtype=dtype)
    truth = problem.reference(torch.as_tensor(pts, dtype=torch.float64)).numpy()

    def evaluate(model: nn.Module) -> Dict[str, float]:
        with torch.no_grad():
            pred = model(x).to(torch.float64).numpy()
        return problem_errors(problem, pred, truth, pts)

    return evaluate


def _train_and_collect(trainer: MeanFieldTrainer) -> Tuple[dict, float, Dict[str, float]]:
    """Train; ``(history, wall seconds, the evaluator's last numbers)``."""
    t0 = time.perf_counter()
    hist = trainer.train()
    wall = time.perf_counter() - t0
    return hist, wall, dict(trainer.evaluator.last) if trainer.evaluator is not None else {}


def _resolve_problem(problem: Any) -> "Problem":
    """A :class:`~pinnkit.equations.Problem`, or a registered name (:func:`pinnkit.equations.make_problem`, the
    problem's default parameters)."""
    from pinnkit.equations import PROBLEMS, Problem, make_problem

    if isinstance(problem, str):
        if problem not in PROBLEMS:
            raise ValueError(
                f"problem must be a pinnkit.equations.Problem or a registered name from {sorted(PROBLEMS)}, "
                f"got {problem!r}"
            )
        return make_problem(problem)
    if not isinstance(problem, Problem):
        raise ArgumentTypeError(
            f"problem must be a pinnkit.equations.Problem or a registered name from {sorted(PROBLEMS)}, "
            f"got {type(problem).__name__}"
        )
    return problem


def _check_pinn_memory(problem: "Problem", n: int, points: Mapping[str, int], n_eval: int) -> None:
    """What one energy evaluation (every unit's activation at every training point, with its first and second
    input derivatives kept for the backward pass) and the held-out evaluation hold must fit in memory. A refusal
    names ``n`` or the largest point count (``points``: ``{"n_domain": …, "n_boundary": …, "n_initial": …}``),
    whichever is larger."""
    D = problem.input_dim
    per = 8 * n * (D + 1) ** 2 * 4
    n_points = sum(points.values())
    cause = max(points, key=lambda k: points[k])
    name, value = ("n", n) if n >= points[cause] else (cause, points[cause])
    check_memory(
        name, value, n_points * per, f"the mean-field PINN energy ({n} particles x {n_points} training points)"
    )
    if n_eval:
        check_memory(
            "n_eval", n_eval, 8 * 3 * n_eval * (D + problem.n_outputs + n), f"the held-out error ({n} particles)"
        )


def train_meanfield_pinn(
    problem: Union["Problem", str],
    n: int = 256,
    steps: int = 2000,
    dt: float = 0.05,
    alpha: Optional[float] = None,
    reinject: float = 0.0,
    birth_death_until: Optional[int] = None,
    seed: int = 0,
    n_domain: int = 256,
    n_boundary: int = 64,
    n_initial: int = 64,
    resample_every: int = 0,
    condition_weight: float = 1.0,
    activation: str = "tanh",
    dtype: Union[torch.dtype, str] = torch.float64,
    n_eval: int = 4096,
    eval_every: int = 0,
    record_every: int = 10,
    net_options: Optional[dict] = None,
    max_wall_s: Optional[float] = None,
) -> MeanFieldResult:
    """Mean-field PINN: a :class:`MeanFieldTwoLayer` of ``n`` particles (drawn from the seed, input box mapped to
    ``[-1, 1]^D``) trained by :class:`MeanFieldTrainer` on :class:`PINNEnergy` with Sobol points; the held-out
    relative L2 error on :func:`pinnkit.sampling.evaluation_points` (``n_eval``) when the problem has an exact
    solution.

    ``problem``: a :class:`~pinnkit.equations.Problem` or a registered name (``"heat"``, ...; built by
    :func:`pinnkit.equations.make_problem` with its default parameters). ``dtype``: ``"float32"``,
    ``"float64"`` or the torch dtype. ``net_options``: the initial measure's ``weight_scale``, ``bias_scale``,
    ``output_scale``. Every argument is checked before anything is drawn or trained (a ``ValueError`` naming
    it and its range), and what the particles, the energy and the held-out evaluation hold must fit in
    memory."""
    cfg = MeanFieldConfig(
        dt=dt,
        steps=steps,
        alpha=alpha,
        reinject=reinject,
        birth_death_until=birth_death_until,
        seed=seed,
        record_every=record_every,
        eval_every=eval_every,
        time_limit=None if max_wall_s is None else check_positive("max_wall_s", max_wall_s),
    ).validate()
    seed = cfg.seed
    n_domain = check_int("n_domain", n_domain, 1)
    n_boundary = check_int("n_boundary", n_boundary, 1)
    n_initial = check_int("n_initial", n_initial, 1)
    resample_every = check_int("resample_every", resample_every, 0)
    condition_weight = check_nonnegative("condition_weight", condition_weight)
    check_choice("activation", activation, ACTIVATIONS)
    dtype = check_dtype("dtype", dtype)
    n_eval = check_int("n_eval", n_eval, 1)
    options = check_net_options(net_options)
    problem = _resolve_problem(problem)
    n = check_meanfield_net(problem.input_dim, n, problem.n_outputs, activation, **options)["n"]
    points = {"n_domain": n_domain, "n_boundary": n_boundary, "n_initial": n_initial}
    _check_pinn_memory(problem, n, points, n_eval if problem.has_exact else 0)

    g = torch.Generator().manual_seed(seed)
    model = MeanFieldTwoLayer(
        problem.input_dim,
        n=n,
        out_dim=problem.n_outputs,
        activation=activation,
        input_bounds=(problem.input_lower, problem.input_upper),
        generator=g,
        **options,
    ).to(dtype)
    sampler = Sampler(problem, n_domain, n_boundary, n_initial, resample_every=resample_every, seed=seed)
    energy = PINNEnergy(problem, sampler, condition_weight=condition_weight, dtype=dtype)
    evaluate = _held_out_error(problem, n_eval, dtype) if problem.has_exact else None
    hist, wall, errors = _train_and_collect(MeanFieldTrainer(model, energy, cfg, evaluate))
    config = {
        "problem": {"name": problem.name, **problem.params},
        "n": n,
        "activation": activation,
        "sampler": {
            "n_domain": n_domain,
            "n_boundary": n_boundary,
            "n_initial": n_initial,
            "resample_every": resample_every,
        },
        "condition_weight": condition_weight,
        "dtype": str(dtype),
        "train": asdict(cfg),
    }
    return MeanFieldResult(model, hist, hist["loss"][-1], errors, wall, config)


def train_meanfield_regression(
    x: Tensor,
    y: Tensor,
    n: int = 256,
    steps: int = 2000,
    dt: float = 0.1,
    alpha: Optional[float] = None,
    reinject: float = 0.0,
    birth_death_until: Optional[int] = None,
    seed: int = 0,
    activation: str = "tanh",
    x_test: Optional[Tensor] = None,
    y_test: Optional[Tensor] = None,
    record_every: int = 10,
    net_options: Optional[dict] = None,
) -> MeanFieldResult:
    """Mean-field regression ``E = ½ mean |f − y|²`` on ``(x, y)`` (their dtype); ``errors`` holds the relative
    L2 error on ``(x_test, y_test)`` when given."""
    x, y = check_data(x, y)
    if (x_test is None) != (y_test is None):
        raise ValueError("x_test and y_test must be given together (or neither)")
    if x_test is not None:
        x_test, yt = check_data(x_test, y_test, ("x_test", "y_test"))
        if x_test.shape[1] != x.shape[1] or yt.shape[1] != y.shape[1]:
            raise ValueError(
                f"x_test, y_test must have {x.shape[1]} and {y.shape[1]} columns like x, y, "
                f"got {x_test.shape[1]} and {yt.shape[1]}"
            )
    cfg = MeanFieldConfig(
        dt=dt,
        steps=steps,
        alpha=alpha,
        reinject=reinject,
        birth_death_until=birth_death_until,
        seed=seed,
        record_every=record_every,
    ).validate()
    seed = cfg.seed
    options = check_net_options(net_options)
    n = check_meanfield_net(x.shape[1], n, y.shape[1], activation, **options)["n"]
    n_rows = x.shape[0] + (x_test.shape[0] if x_test is not None else 0)
    check_memory("n", n, 8 * n * n_rows * 4, f"the mean-field regression ({n} particles x {n_rows} points)")
    g = torch.Generator().manual_seed(seed)
    model = MeanFieldTwoLayer(x.shape[1], n=n, out_dim=y.shape[1], activation=activation, generator=g, **options).to(
        x.dtype
    )
    evaluate = None
    if x_test is not None:

        def evaluate(m: nn.Module) -> Dict[str, float]:
            with torch.no_grad():
                r = m(x_test) - yt
            return {"relative_l2": float(r.norm() / yt.norm()), "mse": float(r.pow(2).mean())}

    hist, wall, errors = _train_and_collect(MeanFieldTrainer(model, RegressionEnergy(x, y), cfg, evaluate))
    return MeanFieldResult(model, hist, hist["loss"][-1], errors, wall, {"n": n, "train": asdict(cfg)})
