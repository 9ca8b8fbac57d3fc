"""Physics-informed DeepONet (no solution data) on periodic Burgers in DeepXDE (PyTorch backend) and in pinnkit.

Problem: u_t + u u_x = ν u_xx, ν = 0.01, x ∈ [0, 1] periodic, t ∈ [0, 1], u(x, 0) = u0(x); the operator
u0 ↦ u is learned from the PDE and the initial condition alone (Wang, Wang & Perdikaris 2021).  Both sides run in
one process, float32, on ``--threads`` torch threads (default 1), with the same

* input functions: pinnkit's training set ``operator_data("burgers")`` (1000 ``wang2021`` GRF initial conditions
  at the m = 101 sensors x_j = j/101).  DeepXDE gets them through ``TrainingFunctions``, a
  ``dde.data.function_spaces.FunctionSpace`` whose features are training-function indices (``random(n)`` returns
  the first n indices, so DeepXDE's ``num_function=1000`` is exactly pinnkit's training set) and whose ``eval_batch``
  evaluates pinnkit's trigonometric interpolant of the sensor values (``DeepONet.initial_interpolant``, in float64,
  returned as float32).  At the sensors it reproduces the sensor values, so both branch nets read the same
  inputs (the largest difference is printed as ``branch_input_max_abs_diff`` in the JSON).
* net: pinnkit's ``make_net`` — tanh branch [101, 100, 100, 100, 100], tanh trunk [periodic embedding
  (cos, sin 2πkx for k ≤ 5; t) → 100, 100, 100, 100], q = 100, one output bias, Glorot-normal weights and zero
  biases.  DeepXDE: ``DeepONetCartesianProd([101] + [100]*4, [11] + [100]*4, "tanh", "Glorot normal")`` with
  the same ``PeriodicEmbedding`` module as ``apply_feature_transform`` on the trunk.  DeepXDE applies the
  activation to the trunk's output, so pinnkit runs with ``trunk_output_activation=True`` (``make_net``'s default
  is False; the data-driven benchmark makes the same choice).  Same parameter count; the initial weights are
  drawn by each library from the same seed but differ.  Both nets are exactly 1-periodic in x, so neither side
  has a periodic-boundary loss.
* losses: L = L_pde + 20·L_initial (``make_config``'s physics weights; DeepXDE ``loss_weights=[1, 20]``), each a
  mean square.  L_pde: the residual u_t + u u_x − 0.01 u_xx at 128 uniform random (x, t) ∈ [0, 1]² points per
  step, shared by the 32 functions of the batch and redrawn every step.  L_initial: G(u0)(x_j, 0) − u0(x_j) at the
  101 sensors (all of them, every step).  pinnkit: ``hard_initial=False`` (soft initial term, as in DeepXDE),
  residual by ``residual_shared`` (trunk derivatives by one forward Taylor pass, contracted with the 32 branch
  outputs).  DeepXDE: its own losses — ``dde.data.PDEOperatorCartesianProd`` over a ``dde.data.TimePDE``
  (``num_domain=128``, ``train_distribution="pseudo"``) with an ``IC`` whose target is the function-space value
  (``aux_var``, i.e. the interpolant), the residual by ``dde.grad.jacobian``/``dde.grad.hessian`` on the
  Cartesian-product output (DeepXDE's default reverse mode, which loops over the functions of the batch: one
  reverse pass per function and derivative order).  With ``--deepxde-ad zcs`` or ``both`` also DeepXDE's
  zero-coordinate-shift variant (``dde.zcs.PDEOperatorCartesianProd``, ``dde.zcs.Model``, ``dde.zcs.LazyGrad``;
  Leng et al., arXiv:2311.00860), its fast path for aligned points.
* batches: 32 functions per step (DeepXDE ``batch_size=32``), 128 residual points, 101 initial points.
* optimiser: Adam, lr 1e-3 decayed by 0.8 every steps/20 (pinnkit's ``lr·0.8^(step/(steps/20))``, DeepXDE's
  per-step ``ExponentialLR`` with γ = 0.8^(1/(steps/20)): the same rates), the same number of steps.
* check: before training, DeepXDE's two loss terms on its first batch are compared with pinnkit's
  (``physics_losses``' formulas, ``residual_shared``) on the same functions and points with DeepXDE's initial
  weights copied into the pinnkit net; they agree to float32 rounding (``same_objective_check`` in the JSON).
* accuracy: relative L2 over pinnkit's 100 test functions (seed 2) on the 101 × 101 (x, t) grid of the reference
  solutions, mean and worst, after the same number of steps.

Choices and remaining differences (none of them tunes one side only):

* DeepXDE's IC collocation points are the points of the TimePDE's training set that lie on t = 0 (its random
  ``num_initial`` points, on which it would also evaluate the PDE residual).  To use pinnkit's points — the 101
  sensors at t = 0, with no residual there — ``SensorIC`` (a two-line ``dde.icbc.IC`` subclass) returns them
  as its collocation points; ``num_initial=0``.  The IC loss itself is DeepXDE's (``IC.error``, per function,
  averaged).
* DeepXDE keeps its collocation points fixed unless resampled, and its ``PDEPointResampler`` callback calls
  ``data.resample_train_points``, which ``PDEOperatorCartesianProd`` lacks.  ``ResampleEveryStep`` (a
  callback) calls ``pde.resample_train_points(pde_points=True, bc_points=False)`` and clears ``data.train_x``
  before each step, so DeepXDE's own ``train_next_batch`` rebuilds the branch inputs and the ``aux_var`` values
  — for all 1000 functions, as that class stores them, although the step uses 32 (the branch inputs, the same
  every step, come from a one-entry cache in ``TrainingFunctions``; the interpolant at the 229 trunk points,
  101 initial and 128 new residual points, is recomputed).  This data-pipeline time is included in DeepXDE's
  it/s and reported separately (``pipeline_seconds``; it/s without it as ``it_per_s_excl_pipeline``); pinnkit's
  per-step sampling is included in its it/s too.
* Sampling sequences differ (their sizes and distributions do not): pinnkit draws 32 functions with a fresh
  ``randperm`` per step from its seeded generator; DeepXDE's ``BatchSampler`` walks shuffled epochs of the 1000
  functions.  Points: pinnkit's torch generator vs DeepXDE's ``np.random`` (``dde.config.set_random_seed``).
* DeepXDE also computes its loss on its test set at the start and the end of ``model.train`` (``num_test=32``
  functions, 121 = 11 × 11 grid points; kept small); pinnkit's trainer keeps one in-memory checkpoint at the end and
  evaluates nothing during training (``eval_every=0``).  Both are inside the timed calls.

    python benchmarks/pi_deeponet_vs_deepxde.py [--steps 2000] [--threads 1] [--deepxde-ad reverse|zcs|both]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time

os.environ.setdefault("DDE_BACKEND", "pytorch")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from pinnkit.nets import DeepONet, PeriodicEmbedding  # noqa: E402
from pinnkit.operator_run import NU, make_config, make_net, operator_data  # noqa: E402
from pinnkit.operator_trainer import DeepONetTrainer  # noqa: E402
from pinnkit.presets import DEEPONET  # noqa: E402
from pinnkit.versions import versions  # noqa: E402

# the physics-informed run's settings of pinnkit.presets.DEEPONET (the table pinnkit deeponet reads)
WIDTH, DEPTH, Q, MODES = (DEEPONET["net"][k] for k in ("width", "depth", "q", "periodic_modes"))
BATCH_FUNCTIONS = DEEPONET["batch_functions"]["physics"]
N_COLLOCATION = DEEPONET["n_collocation"]
INITIAL_WEIGHT = DEEPONET["initial_weight"]
LR, LR_DECAY, DECAYS = DEEPONET["lr"], DEEPONET["lr_decay"], DEEPONET["decays"]


def rel_l2(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    return np.linalg.norm(pred - true, axis=1) / np.linalg.norm(true, axis=1)


def _load() -> float:
    return float(os.getloadavg()[0])


# ---------------------------------------------------------------- pinnkit
def run_pinnkit(train, test, args) -> dict:
    m = train.inputs.shape[1]
    net = make_net(
        m,
        hard_initial=False,
        q=Q,
        width=WIDTH,
        depth=DEPTH,
        periodic_modes=MODES,
        trunk_output_activation=True,
        seed=args.seed,
    )
    cfg = make_config(
        "physics",
        args.steps,
        None,
        "",
        lr=LR,
        lr_decay=LR_DECAY,
        batch_functions=BATCH_FUNCTIONS,
        n_collocation=N_COLLOCATION,
        initial_weight=INITIAL_WEIGHT,
        seed=args.seed,
        progress=False,
    )
    # no evaluations or checkpoint files during training (make_config's defaults write them under out/)
    cfg = dataclasses.replace(
        cfg, eval_every=0, checkpoint_dir=None, checkpoint_every=args.steps, log_every=max(args.steps // 10, 1)
    ).validate()
    trainer = DeepONetTrainer(net, train, test, cfg)
    load0 = _load()
    t0 = time.perf_counter()
    history = trainer.train()
    seconds = time.perf_counter() - t0
    r = trainer.evaluate(test)
    return {
        "seconds": seconds,
        "it_per_s": args.steps / seconds,
        "mean_rel_l2": r["mean_rel_l2"],
        "median_rel_l2": r["median_rel_l2"],
        "max_rel_l2": r["max_rel_l2"],
        "parameters": net.n_parameters(),
        "final_loss": history["loss"][-1],
        "final_terms": {k: v[-1] for k, v in history["terms"].items()},
        "loadavg_1min_before": load0,
        "loadavg_1min_after": _load(),
    }


# ---------------------------------------------------------------- DeepXDE
def _deepxde_helpers(dde, sensors: np.ndarray, inputs: np.ndarray):
    """The function space, IC and resampling callback (classes need ``dde`` imported, hence built here)."""

    class TrainingFunctions(dde.data.function_spaces.FunctionSpace):
        """pinnkit's training functions; feature = index; values = pinnkit's trigonometric interpolant."""

        def __init__(self):
            self.u = torch.as_tensor(inputs, dtype=torch.float64)
            self.seconds = 0.0
            self.cache = {}

        def random(self, size):
            if size > self.u.shape[0]:
                raise ValueError(f"only {self.u.shape[0]} training functions, asked for {size}")
            return np.arange(size, dtype=np.float64)[:, None]

        def eval_one(self, feature, x):
            return float(self.eval_batch(np.asarray(feature).reshape(1, -1), np.asarray([[x]]).reshape(1, 1))[0, 0])

        def eval_batch(self, features, xs):
            t0 = time.perf_counter()
            features, xs = np.asarray(features), np.asarray(xs, dtype=np.float64)
            key = (features.tobytes(), xs.tobytes())
            g = self.cache.get(key)
            if g is None:
                idx = torch.as_tensor(features[:, 0].astype(np.int64))
                g = DeepONet.initial_interpolant(self.u[idx], torch.as_tensor(xs[:, 0]))[0].numpy().astype(np.float32)
                if xs.shape[0] == sensors.shape[0]:  # the branch inputs: the same call before every step
                    self.cache = {key: g}
            self.seconds += time.perf_counter() - t0
            return g

    class SensorIC(dde.icbc.IC):
        """DeepXDE's IC (target: the function-space value ``aux_var``) at the sensors x_j at t = 0."""

        def __init__(self, geomtime):
            super().__init__(geomtime, lambda x, v: v, lambda _, on_initial: on_initial)
            self.points = np.stack([sensors, np.zeros_like(sensors)], axis=1).astype(np.float32)

        def collocation_points(self, X):
            return self.points

    class ResampleEveryStep(dde.callbacks.Callback):
        """Fresh PDE points before every step; the data object then rebuilds branch inputs and aux values."""

        def __init__(self):
            super().__init__()
            self.seconds = 0.0

        def on_batch_begin(self):
            t0 = time.perf_counter()
            data = self.model.data
            data.pde.resample_train_points(pde_points=True, bc_points=False)
            data.train_x = data.train_aux_vars = None  # rebuilt by data.train_next_batch for the new points
            self.seconds += time.perf_counter() - t0

    return TrainingFunctions, SensorIC, ResampleEveryStep


def same_objective_check(train, data, net, model) -> dict:
    """DeepXDE's two loss terms on its current batch (functions, residual points) and pinnkit's on the same batch
    with DeepXDE's weights copied into a ``make_net`` net: the two setups compute the same objective."""
    x_batch, y_batch, aux = data.train_next_batch(BATCH_FUNCTIONS)
    ours = model.outputs_losses_train(x_batch, y_batch, aux)[1].detach().double().numpy()
    ours = [float(ours[0]), float(ours[1] / INITIAL_WEIGHT)]
    m = train.inputs.shape[1]
    pk = make_net(m, q=Q, width=WIDTH, depth=DEPTH, periodic_modes=MODES, trunk_output_activation=True)
    state = {"bias": net.b[0].reshape(1), "periodic.k": pk.periodic.k}
    for part in ("branch", "trunk"):
        layers = getattr(net, part).linears
        for i, layer in enumerate(layers):
            name = f"{part}.head" if i == len(layers) - 1 else f"{part}.hidden.{i}"
            state[f"{name}.weight"], state[f"{name}.bias"] = layer.weight, layer.bias
    pk.load_state_dict({k: v.detach().clone() for k, v in state.items()})
    cfg = make_config(
        "physics",
        1,
        None,
        "",
        batch_functions=BATCH_FUNCTIONS,
        n_collocation=N_COLLOCATION,
        initial_weight=INITIAL_WEIGHT,
        progress=False,
    )
    trainer = DeepONetTrainer(pk, train, None, dataclasses.replace(cfg, checkpoint_dir=None))
    f32 = np.asarray(train.inputs, dtype=np.float32)
    idx = [int(np.flatnonzero((f32 == row).all(axis=1))[0]) for row in x_batch[0]]  # the batch's functions
    u = trainer.u_train[idx]
    with torch.no_grad():
        y0 = torch.stack([trainer.sensors, torch.zeros_like(trainer.sensors)], dim=1)
        initial = float(torch.mean((pk(u, y0) - u) ** 2))
    pde_loss = float(torch.mean(trainer.residual_shared(u, torch.as_tensor(x_batch[1][m:])) ** 2))
    theirs = [pde_loss, initial]
    return {
        "deepxde_pde_initial": ours,
        "pinnkit_pde_initial": theirs,
        "max_rel_diff": max(abs(a - b) / abs(b) for a, b in zip(ours, theirs)),
    }


def run_deepxde(train, test, args, ad: str) -> dict:
    import deepxde as dde

    dde.config.set_random_seed(args.seed)
    dde.config.set_default_float("float32")
    torch.set_num_threads(args.threads)  # set_random_seed / backend import may touch torch settings
    f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    sensors = np.asarray(train.sensors, dtype=np.float64)
    TrainingFunctions, SensorIC, ResampleEveryStep = _deepxde_helpers(dde, sensors, train.inputs)

    if ad == "zcs":

        def burgers(zcs_parameters, u, v):
            g = dde.zcs.LazyGrad(zcs_parameters, u)
            return g.compute((0, 1)) + u * g.compute((1, 0)) - NU * g.compute((2, 0))

        operator_data_cls, model_cls = dde.zcs.PDEOperatorCartesianProd, dde.zcs.Model
    else:

        def burgers(x, u, v):
            u_x = dde.grad.jacobian(u, x, i=0, j=0)
            u_t = dde.grad.jacobian(u, x, i=0, j=1)
            u_xx = dde.grad.hessian(u, x, i=0, j=0)
            return u_t + u * u_x - NU * u_xx

        operator_data_cls, model_cls = dde.data.PDEOperatorCartesianProd, dde.Model

    geomtime = dde.geometry.GeometryXTime(dde.geometry.Interval(0.0, 1.0), dde.geometry.TimeDomain(0.0, 1.0))
    pde = dde.data.TimePDE(
        geomtime,
        burgers,
        [SensorIC(geomtime)],
        num_domain=N_COLLOCATION,
        num_boundary=0,
        num_initial=0,
        train_distribution="pseudo",
        num_test=121,
    )
    space = TrainingFunctions()
    data = operator_data_cls(
        pde,
        space,
        sensors[:, None],
        train.inputs.shape[0],
        function_variables=[0],
        num_test=BATCH_FUNCTIONS,
        batch_size=BATCH_FUNCTIONS,
    )
    branch_diff = float(np.abs(data.train_x[0] - f32(train.inputs)).max())
    m = train.inputs.shape[1]
    # trunk points: the m IC points (the sensors at t = 0) first, then the 128 residual points
    assert pde.num_bcs == [m] and data.train_x[1].shape == (m + N_COLLOCATION, 2)
    assert np.array_equal(data.train_x[1][:m, 0], f32(sensors)) and not data.train_x[1][:m, 1].any()
    embed = PeriodicEmbedding(1.0, MODES)
    net = dde.nn.DeepONetCartesianProd(
        [m] + [WIDTH] * DEPTH + [Q], [embed.out_dim(2)] + [WIDTH] * DEPTH + [Q], "tanh", "Glorot normal"
    )
    net.apply_feature_transform(embed)
    model = model_cls(data, net)
    gamma = LR_DECAY ** (1.0 / max(args.steps // DECAYS, 1))
    model.compile("adam", lr=LR, decay=("exponential", gamma), loss_weights=[1.0, INITIAL_WEIGHT])
    check = same_objective_check(train, data, net, model)
    resampler = ResampleEveryStep()
    space.seconds = 0.0
    load0 = _load()
    t0 = time.perf_counter()
    losshistory, _ = model.train(iterations=args.steps, display_every=args.steps, callbacks=[resampler], verbose=0)
    seconds = time.perf_counter() - t0
    pipeline = resampler.seconds + space.seconds
    pred = model.predict((f32(test.inputs), f32(test.coords)))
    err = rel_l2(pred, test.solutions)
    final = np.asarray(losshistory.loss_train[-1], dtype=float)  # weighted terms [pde, 20·initial]
    return {
        "ad": ad,
        "deepxde_version": dde.__version__,
        "seconds": seconds,
        "it_per_s": args.steps / seconds,
        "pipeline_seconds": pipeline,
        "it_per_s_excl_pipeline": args.steps / (seconds - pipeline),
        "mean_rel_l2": float(err.mean()),
        "median_rel_l2": float(np.median(err)),
        "max_rel_l2": float(err.max()),
        "parameters": sum(p.numel() for p in net.parameters()),
        "final_loss": float(final.sum()),
        "final_terms": {"pde": float(final[0]), "initial": float(final[1] / INITIAL_WEIGHT)},
        "branch_input_max_abs_diff": branch_diff,
        "same_objective_check": check,
        "loadavg_1min_before": load0,
        "loadavg_1min_after": _load(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--deepxde-ad",
        choices=("reverse", "zcs", "both"),
        default="both",
        help="DeepXDE's residual: dde.grad (reverse mode, per function), ZCS, or both runs",
    )
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    train, test = operator_data("burgers")
    out = {
        "problem": "periodic Burgers nu=0.01, PI-DeepONet (no solution data)",
        "steps": args.steps,
        "threads": args.threads,
        "seed": args.seed,
        "batch_functions": BATCH_FUNCTIONS,
        "n_collocation": N_COLLOCATION,
        "n_initial": int(train.inputs.shape[1]),
        "initial_weight": INITIAL_WEIGHT,
        "lr": LR,
        "lr_decay": LR_DECAY,
        "decay_every": max(args.steps // DECAYS, 1),
        "cpu_count": os.cpu_count(),
        "loadavg_start": list(os.getloadavg()),
        "versions": versions(),
    }
    rows = [("pinnkit", run_pinnkit(train, test, args))]
    out["pinnkit"] = rows[0][1]
    for ad in ("reverse", "zcs") if args.deepxde_ad == "both" else (args.deepxde_ad,):
        name = "deepxde" if ad == "reverse" else "deepxde_zcs"
        out[name] = run_deepxde(train, test, args, ad)
        out[f"speed_ratio_pinnkit_over_{name}"] = out["pinnkit"]["it_per_s"] / out[name]["it_per_s"]
        rows.append((name, out[name]))
    out["loadavg_end"] = list(os.getloadavg())
    out["total_seconds"] = time.perf_counter() - t_start
    print(
        f"PI-DeepONet, periodic Burgers ν={NU}: {args.steps} Adam steps, {BATCH_FUNCTIONS} functions × "
        f"{N_COLLOCATION} residual points per step, {args.threads} thread(s)"
    )
    print(f"{'':12s} {'it/s':>7s} {'wall s':>7s} {'mean rel L2':>12s} {'worst':>8s}  parameters")
    for name, r in rows:
        print(
            f"{name:12s} {r['it_per_s']:7.1f} {r['seconds']:7.0f} {r['mean_rel_l2']:12.2%} {r['max_rel_l2']:8.2%}"
            f"  {r['parameters']}"
        )
    for name, _ in rows[1:]:
        print(
            f"speed ratio pinnkit/{name}: {out[f'speed_ratio_pinnkit_over_{name}']:.1f}"
            f"  ({name} without its resampling pipeline: {out[name]['it_per_s_excl_pipeline']:.1f} it/s; "
            f"same weights and batch: loss terms agree to {out[name]['same_objective_check']['max_rel_diff']:.1e})"
        )
    print(
        f"load average (1, 5, 15 min) at start {out['loadavg_start']}, at end {out['loadavg_end']} "
        f"on {os.cpu_count()} cores"
    )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
