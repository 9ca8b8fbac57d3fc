"""The suite's problems written for DeepXDE (PyTorch backend), trained on the points and from the initial
weights that pinnkit uses, with training time measured the way pinnkit's trainer measures it.

* Residuals use DeepXDE's own derivative machinery (``dde.grad.jacobian`` / ``dde.grad.hessian``), as a
  DeepXDE user would write them.
* Points: the pinnkit sampler's interior points are the PDE anchors (``dde.data.PDE`` with
  ``num_domain=0``); every initial/boundary condition becomes a ``dde.icbc.PointSetBC`` on pinnkit's
  condition points with the condition's target values. DeepXDE's loss is then ``Σ_terms MSE``; a
  condition on ``k`` output components gets loss weight ``k``, so both losses are the same function
  ``mean_i Σ_k r_ik²`` summed over terms (checked by the initial losses in the suite's JSON).
* Net: ``dde.nn.FNN`` (tanh, Glorot normal) with the same ``[-1, 1]`` input map as pinnkit's MLP (a
  feature transform) and the weights of pinnkit's initial net copied in, so both start from one function.
* Time: wall time of ``model.train`` minus the time spent in DeepXDE's loss reports (``Model._test``)
  and in our held-out error evaluations.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

os.environ.setdefault("DDE_BACKEND", "pytorch")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

__all__ = ["import_deepxde", "deepxde_pde", "run_deepxde", "Clock"]


def import_deepxde():
    """``deepxde`` on the PyTorch backend in float32, leaving torch's default device on the CPU (DeepXDE
    moves it to CUDA at import when a GPU is present; the suite chooses the device per run)."""
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    import deepxde as dde

    if dde.backend.backend_name != "pytorch":
        raise RuntimeError(f"DeepXDE backend is {dde.backend.backend_name!r}; set DDE_BACKEND=pytorch")
    with quiet():
        dde.config.set_default_float("float32")
    torch.set_default_device(None)  # None, not "cpu": a default-device mode adds Python work to every op
    return dde


def quiet():
    """Swallow DeepXDE's progress prints ("Compiling model...")."""
    return contextlib.redirect_stdout(io.StringIO())


class Clock:
    """A stopwatch that can be paused: ``elapsed`` counts only the running time."""

    def __init__(self, sync: Callable[[], None] = lambda: None):
        self.sync = sync
        self._total = 0.0
        self._since: Optional[float] = None

    def start(self) -> None:
        self.sync()
        self._since = time.perf_counter()

    def stop(self) -> None:
        if self._since is not None:
            self.sync()
            self._total += time.perf_counter() - self._since
            self._since = None

    @property
    def elapsed(self) -> float:
        return self._total + (time.perf_counter() - self._since if self._since is not None else 0.0)


def deepxde_pde(problem) -> Callable:
    """The residual of a suite problem in DeepXDE's form ``pde(x, y)``."""
    import deepxde as dde

    name = problem.name
    if name == "heat":
        d, kappa = problem.spatial_dim, problem.kappa

        def heat(x, y):
            lap = sum(dde.grad.hessian(y, x, i=k, j=k) for k in range(d))
            return dde.grad.jacobian(y, x, i=0, j=d) - kappa * lap

        return heat
    if name == "burgers":
        nu = problem.nu

        def burgers(x, y):
            y_x = dde.grad.jacobian(y, x, i=0, j=0)
            y_t = dde.grad.jacobian(y, x, i=0, j=1)
            y_xx = dde.grad.hessian(y, x, i=0, j=0)
            return y_t + y * y_x - nu * y_xx

        return burgers
    if name == "kovasznay":
        nu = problem.nu

        def kovasznay(x, y):
            u, v = y[:, 0:1], y[:, 1:2]
            u_x = dde.grad.jacobian(y, x, i=0, j=0)
            u_y = dde.grad.jacobian(y, x, i=0, j=1)
            v_x = dde.grad.jacobian(y, x, i=1, j=0)
            v_y = dde.grad.jacobian(y, x, i=1, j=1)
            p_x = dde.grad.jacobian(y, x, i=2, j=0)
            p_y = dde.grad.jacobian(y, x, i=2, j=1)
            u_xx = dde.grad.hessian(y, x, component=0, i=0, j=0)
            u_yy = dde.grad.hessian(y, x, component=0, i=1, j=1)
            v_xx = dde.grad.hessian(y, x, component=1, i=0, j=0)
            v_yy = dde.grad.hessian(y, x, component=1, i=1, j=1)
            mom_x = u * u_x + v * u_y + p_x - nu * (u_xx + u_yy)
            mom_y = u * v_x + v * v_y + p_y - nu * (v_xx + v_yy)
            return [mom_x, mom_y, u_x + v_y]

        return kovasznay
    raise ValueError(f"no DeepXDE form for problem {name!r}")


def n_pde_outputs(problem) -> int:
    """How many residual columns DeepXDE returns (one loss term each)."""
    return problem.spatial_dim + 1 if problem.name == "kovasznay" else 1


def condition_targets(problem, condition, points: np.ndarray) -> tuple:
    """``(values (N, k), components)`` of an initial or Dirichlet condition at ``points``."""
    kind = type(condition).__name__
    if kind not in ("InitialCondition", "DirichletBC"):
        raise ValueError(f"condition {condition.name!r} ({kind}) has no PointSetBC form")
    x = torch.as_tensor(points, dtype=torch.float64)
    target = condition.target
    vals = target(x) if callable(target) else torch.full((len(x), 1), float(target or 0.0), dtype=torch.float64)
    vals = vals.reshape(len(x), -1).numpy()
    comps = list(condition.components) if condition.components is not None else list(range(problem.n_outputs))
    if vals.shape[1] != len(comps):
        raise ValueError(f"condition {condition.name!r}: target has {vals.shape[1]} columns for components {comps}")
    return vals, comps


def copy_pinnkit_weights(fnn: nn.Module, mlp: nn.Module) -> None:
    """Load the weights of a pinnkit :class:`~pinnkit.nets.MLP` (``hidden`` layers + ``head``) into a
    DeepXDE ``FNN`` of the same shape."""
    src = list(mlp.hidden) + [mlp.head]
    if len(src) != len(fnn.linears):
        raise ValueError(f"layer counts differ: pinnkit {len(src)}, DeepXDE {len(fnn.linears)}")
    with torch.no_grad():
        for a, b in zip(fnn.linears, src):
            a.weight.copy_(b.weight)
            a.bias.copy_(b.bias)


def run_deepxde(
    problem,
    net: nn.Module,
    batch,
    *,
    adam: int,
    lbfgs: int,
    lr: float,
    lbfgs_history: int,
    lbfgs_chunk: int,
    warmup: int,
    seed: int,
    device: str,
    eval_points: np.ndarray,
    error_fn: Callable[[np.ndarray], Dict[str, float]],
    track_every: int = 0,
    output_transform: Optional[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = None,
    enforced: Sequence[str] = (),
    lr_decay: Optional[tuple] = None,
) -> Dict[str, Any]:
    """Train DeepXDE on ``problem`` from the pinnkit ``net``'s initial weights on the pinnkit ``batch``
    (:class:`pinnkit.sampling.Batch`): ``adam`` Adam steps at ``lr`` (the first ``warmup`` timed
    apart), then ``lbfgs`` L-BFGS iterations in steps of ``lbfgs_chunk`` (as pinnkit's trainer does).
    ``error_fn(pred)`` gives the held-out errors at ``eval_points``; with ``track_every > 0`` the
    relative L2 is recorded every ``track_every`` iterations as ``[step, training seconds, error]``.
    ``output_transform(x, y)`` (DeepXDE's ``apply_output_transform``) imposes the conditions named in
    ``enforced`` exactly, which are then left out of the loss (pinnkit's hard constraints, the same map);
    ``lr_decay`` is DeepXDE's ``decay`` of the Adam stage (``("step", every, factor)``: pinnkit's schedule)."""
    dde = import_deepxde()
    on_cuda = device.startswith("cuda")
    sync = torch.cuda.synchronize if on_cuda else (lambda: None)
    if on_cuda:
        torch.set_default_device(device)  # DeepXDE's own way of running on a GPU
    try:
        dde.config.set_random_seed(seed)
        geom = dde.geometry.Hypercube(list(problem.input_lower), list(problem.input_upper))
        bcs, weights = [], [1.0] * n_pde_outputs(problem)
        for c in problem.conditions():
            if c.name in enforced:
                continue
            pts = batch.conditions[c.name].detach().cpu().numpy()
            vals, comps = condition_targets(problem, c, pts)
            bcs.append(
                dde.icbc.PointSetBC(
                    pts, vals if len(comps) > 1 else vals[:, :1], component=comps if len(comps) > 1 else comps[0]
                )
            )
            weights.append(float(len(comps)))
        anchors = batch.domain.detach().cpu().numpy()
        data = dde.data.PDE(geom, deepxde_pde(problem), bcs, num_domain=0, num_boundary=0, anchors=anchors)
        D, m = problem.input_dim, problem.n_outputs
        fnn = dde.nn.FNN([D] + [net.width] * net.depth + [m], "tanh", "Glorot normal")
        center = net.scaling.center.detach().to(device=device, dtype=torch.float32)
        half = net.scaling.half_width.detach().to(device=device, dtype=torch.float32)
        fnn.apply_feature_transform(lambda x: (x - center) / half)
        if output_transform is not None:
            fnn.apply_output_transform(output_transform)
        copy_pinnkit_weights(fnn, net)
        model = dde.Model(data, fnn)

        clock = Clock(sync)
        trace: List[List[float]] = []
        original_test = model._test

        def timed_test(*args, **kwargs):  # DeepXDE's loss report: not training work
            clock.stop()
            try:
                return original_test(*args, **kwargs)
            finally:
                clock.start()

        model._test = timed_test
        last = {"step": 0}

        def evaluate() -> Dict[str, float]:
            return error_fn(model.predict(eval_points.astype(np.float32)))

        class Tracker(dde.callbacks.Callback):
            def on_batch_end(self):
                s = model.train_state.step
                if track_every and s // track_every != last["step"] // track_every:
                    clock.stop()
                    trace.append([s, clock.elapsed, evaluate()["relative_l2"]])
                    clock.start()
                last["step"] = s

        cb = [Tracker()]
        loss_weights = weights if any(wt != 1.0 for wt in weights) else None  # None: no per-step weighting
        with quiet():
            model.compile("adam", lr=lr, loss_weights=loss_weights, decay=lr_decay)
        out: Dict[str, Any] = {}
        w = min(warmup, adam)
        clock.start()
        if w:
            model.train(iterations=w, display_every=adam + 1, verbose=0, callbacks=cb)
        clock.stop()
        out["adam_warmup_iters"], out["adam_warmup_s"] = w, clock.elapsed
        clock.start()
        if adam - w:
            model.train(iterations=adam - w, display_every=adam + 1, verbose=0, callbacks=cb)
        clock.stop()
        out["adam_iters"] = adam
        out["adam_steady_s"] = clock.elapsed - out["adam_warmup_s"]
        out["adam_it_s"] = (adam - w) / out["adam_steady_s"] if adam - w and out["adam_steady_s"] > 0 else None
        adam_end = clock.elapsed

        n_lbfgs = 0
        if lbfgs:
            dde.optimizers.config.set_LBFGS_options(
                maxcor=lbfgs_history, ftol=0, gtol=0, maxiter=lbfgs, maxfun=4 * lbfgs, maxls=50
            )
            dde.optimizers.config.LBFGS_options["iter_per_step"] = lbfgs_chunk
            dde.optimizers.config.LBFGS_options["fun_per_step"] = 4 * lbfgs_chunk
            with quiet():
                model.compile("L-BFGS", loss_weights=loss_weights)
            before = model.train_state.step
            clock.start()
            model.train(display_every=1, verbose=0, callbacks=cb)
            clock.stop()
            n_lbfgs = model.train_state.step - before
        lbfgs_s = clock.elapsed - adam_end
        out.update(
            {
                "lbfgs_iters": n_lbfgs,
                "lbfgs_s": lbfgs_s,
                "lbfgs_it_s": n_lbfgs / lbfgs_s if n_lbfgs and lbfgs_s > 0 else None,
                "train_s": clock.elapsed,
            }
        )
        errors = evaluate()
        if track_every and (not trace or trace[-1][0] != model.train_state.step):
            trace.append([model.train_state.step, clock.elapsed, errors["relative_l2"]])
        out["errors"] = errors
        out["relative_l2"] = errors["relative_l2"]
        out["trace"] = trace
        hist = model.losshistory.loss_train
        out["initial_loss"] = float(np.sum(hist[0])) if hist else None
        out["final_loss"] = float(np.sum(hist[-1])) if hist else None
        return out
    finally:
        torch.set_default_device(None)
