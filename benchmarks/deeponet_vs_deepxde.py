"""Data-driven DeepONet on periodic Burgers (ν = 0.01) in DeepXDE (PyTorch backend) and in pinnkit, side by side.

Same data (``pinnkit.operator_run.operator_data``: 1000 training / 100 test GRF initial conditions, 101 sensors,
101 × 101 (x, t) output grid, cached by content hash), same architecture (``pinnkit.operator_run.make_net``:
tanh branch [101, 100, 100, 100, 100], tanh trunk [2 → periodic embedding (cos, sin 2πkx, k ≤ 5; t) → 100, 100,
100, 100] with the activation on the trunk output as in DeepXDE, q = 100, output bias), same optimiser (Adam,
lr 1e-3 decayed by 0.8 every steps/20 — DeepXDE's per-step ExponentialLR with the same rate), same mini-batches
in size (32 functions at all 101 × 101 grid points per step: DeepXDE 1.15's TripleCartesianProd fails on a
(functions, points) batch tuple, indexing ``train_y[branch_idx, trunk_idx]`` without ``np.ix_``), same
iterations, float32, one thread.  Reports iterations per second and the mean and worst relative L2 over the 100
test functions for each.

    python benchmarks/deeponet_vs_deepxde.py [--steps 5000] [--threads 1] [--json out.json]

DeepXDE's ``TripleCartesianProd`` draws its branch and trunk batches from its own samplers, pinnkit from its
seeded generator: the sequences differ, their sizes do not.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("DDE_BACKEND", "pytorch")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from pinnkit.nets import PeriodicEmbedding  # noqa: E402
from pinnkit.operator_run import make_net, operator_data  # noqa: E402
from pinnkit.operator_trainer import DeepONetTrainer, OperatorTrainConfig  # noqa: E402
from pinnkit.presets import DEEPONET  # noqa: E402
from pinnkit.versions import versions  # noqa: E402

WIDTH, DEPTH, Q, MODES = (DEEPONET["net"][k] for k in ("width", "depth", "q", "periodic_modes"))
LR, LR_DECAY, DECAYS = DEEPONET["lr"], DEEPONET["lr_decay"], DEEPONET["decays"]
BATCH_FUNCTIONS = 32


def rel_l2(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    return np.linalg.norm(pred - true, axis=1) / np.linalg.norm(true, axis=1)


def run_deepxde(train, test, args) -> dict:
    import deepxde as dde

    dde.config.set_random_seed(args.seed)
    dde.config.set_default_float("float32")
    f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    data = dde.data.TripleCartesianProd(
        X_train=(f32(train.inputs), f32(train.coords)),
        y_train=f32(train.solutions),
        X_test=(f32(test.inputs), f32(test.coords)),
        y_test=f32(test.solutions),
    )
    m = train.inputs.shape[1]
    embed = PeriodicEmbedding(1.0, MODES)
    net = dde.nn.DeepONetCartesianProd(
        [m] + [WIDTH] * DEPTH + [Q], [embed.out_dim(2)] + [WIDTH] * DEPTH + [Q], "tanh", "Glorot normal"
    )
    net.apply_feature_transform(embed)
    model = dde.Model(data, net)
    gamma = LR_DECAY ** (1.0 / max(args.steps // DECAYS, 1))
    model.compile("adam", lr=LR, decay=("exponential", gamma))
    t0 = time.perf_counter()
    model.train(iterations=args.steps, batch_size=BATCH_FUNCTIONS, display_every=args.steps, verbose=0)
    seconds = time.perf_counter() - t0
    pred = model.predict((f32(test.inputs), f32(test.coords)))
    err = rel_l2(pred, test.solutions)
    return {
        "seconds": seconds,
        "it_per_s": args.steps / seconds,
        "mean_rel_l2": float(err.mean()),
        "max_rel_l2": float(err.max()),
        "parameters": sum(p.numel() for p in net.parameters()),
    }


def run_pinnkit(train, test, args) -> dict:
    m = train.inputs.shape[1]
    net = make_net(m, q=Q, width=WIDTH, depth=DEPTH, periodic_modes=MODES, trunk_output_activation=True, seed=args.seed)
    cfg = OperatorTrainConfig(
        mode="data",
        steps=args.steps,
        lr=LR,
        lr_decay=LR_DECAY,
        decay_every=max(args.steps // DECAYS, 1),
        batch_functions=BATCH_FUNCTIONS,
        batch_points=train.coords.shape[0],
        log_every=max(args.steps // 10, 1),
        checkpoint_every=args.steps,
        seed=args.seed,
        progress=False,
    )
    trainer = DeepONetTrainer(net, train, test, cfg)
    t0 = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - t0
    r = trainer.evaluate(test)
    return {
        "seconds": seconds,
        "it_per_s": args.steps / seconds,
        "mean_rel_l2": r["mean_rel_l2"],
        "max_rel_l2": r["max_rel_l2"],
        "parameters": net.n_parameters(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    train, test = operator_data("burgers")
    out = {"steps": args.steps, "threads": args.threads, "batch_functions": BATCH_FUNCTIONS, "versions": versions()}
    out["pinnkit"] = run_pinnkit(train, test, args)
    out["deepxde"] = run_deepxde(train, test, args)
    out["speed_ratio_pinnkit_over_deepxde"] = out["pinnkit"]["it_per_s"] / out["deepxde"]["it_per_s"]
    for name in ("pinnkit", "deepxde"):
        r = out[name]
        print(
            f"{name:8s} {r['it_per_s']:7.1f} it/s  mean rel L2 {r['mean_rel_l2']:.3%}  worst {r['max_rel_l2']:.3%}  "
            f"({r['parameters']} parameters, {r['seconds']:.0f} s)"
        )
    print(f"speed ratio pinnkit/deepxde: {out['speed_ratio_pinnkit_over_deepxde']:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
