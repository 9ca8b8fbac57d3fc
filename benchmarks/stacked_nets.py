"""Many small nets in one process (issue 16, item 3): is training the K nets of the blow-up study together
faster than K separate runs?

The study's trainings are small (fast protocol: width 30, depth 4, 2000 collocation points): a step is bound
by per-operation overhead more than by arithmetic. This experiment stacks K nets into one batched MLP
(weights ``(K, out, in)``, one ``baddbmm`` per layer for all K nets; each net keeps its own input scaling),
evaluates the PDE residual of all K problems in one pass (the inviscid Burgers residual is the same formula
for every δ), the conditions of each problem on its own points, and takes Adam steps on the stacked
parameters. Adam is elementwise, so this is K independent Adam runs, started from the very nets the K
separate runs start from; the experiment checks that the stacked losses follow the separate ones.

It times the first-order (Adam) stage only, the one stacking could share; each net's quasi-Newton stage would
run on its own either way. ``--threads`` is the number of torch threads for both variants.

    python benchmarks/stacked_nets.py                 # K = 13 (the README's 1-D δ grid), 300 Adam steps
    python benchmarks/stacked_nets.py --steps 1500 --threads 2
"""

from __future__ import annotations

import argparse
import json
import time
from typing import List

import torch
from torch import Tensor, nn

import pinnkit
from pinnkit.derivatives import Fields
from pinnkit.equations import BurgersBlowup
from pinnkit.sampling import Sampler
from pinnkit.studies.blowup import PAPER_DELTAS, PROTOCOLS
from pinnkit.trainer import PINNTrainer, TrainConfig


class StackedMLP(nn.Module):
    """K tanh MLPs of one shape as one module: ``forward(x)`` takes ``(K·n, D)`` rows, the k-th block of n
    rows for net k, and returns ``(K·n, m)``."""

    def __init__(self, nets: List[pinnkit.nets.MLP]) -> None:
        super().__init__()
        self.k = len(nets)
        layers = [list(n.hidden) + [n.head] for n in nets]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([ls[i].weight.detach().clone() for ls in layers])) for i in range(len(layers[0]))
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([ls[i].bias.detach().clone() for ls in layers])) for i in range(len(layers[0]))
        )
        self.register_buffer("center", torch.stack([n.scaling.center for n in nets])[:, None, :])
        self.register_buffer("half_width", torch.stack([n.scaling.half_width for n in nets])[:, None, :])

    def forward(self, x: Tensor) -> Tensor:
        h = (x.reshape(self.k, -1, x.shape[-1]) - self.center) / self.half_width
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b[:, None, :], h, w.transpose(1, 2))
            if i < last:
                h = torch.tanh(h)
        return h.reshape(-1, h.shape[-1])


class _Values(nn.Module):
    """A 'model' that returns given values (the stacked net's output on a condition's points)."""

    def __init__(self, u: Tensor) -> None:
        super().__init__()
        self.u = u

    def forward(self, x: Tensor) -> Tensor:
        return self.u


def stacked_loss(model: StackedMLP, problems, batches) -> Tensor:
    """Σ_k L_k: the PDE terms of all K problems in one pass, each condition of each problem on its points."""
    x = torch.cat([b.domain for b in batches])
    f = Fields(model, x, spatial_dim=problems[0].spatial_dim)
    r = problems[0].residual(f).reshape(model.k, -1, 1 if f.u.shape[1] == 1 else f.u.shape[1])
    total = r.pow(2).sum(-1).mean(-1).sum()
    for c0 in problems[0].conditions():
        xc = torch.cat([b.conditions[c0.name] for b in batches])
        u = model(xc).reshape(model.k, -1, f.u.shape[1])
        for k, p in enumerate(problems):
            c = next(c for c in p.conditions() if c.name == c0.name)
            res = c.residual(
                lambda z, k=k, u=u, p=p: Fields(_Values(u[k]), z, spatial_dim=p.spatial_dim),
                batches[k].conditions[c.name],
            )
            total = total + res.pow(2).sum(-1).mean()
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    proto = dict(PROTOCOLS["fast"])
    depth = proto.pop("depth")
    deltas = PAPER_DELTAS[1]
    problems = [BurgersBlowup(dim=1, delta=d) for d in deltas]
    cfg = TrainConfig(
        adam_steps=args.steps,
        lbfgs_steps=0,
        lr=proto["lr"],
        lr_decay=proto["lr_decay"],
        decay_every=proto["decay_every"],
        progress=False,
        checkpoint_every=10**9,
    )

    def trainer(p):
        net = pinnkit.build_net({"width": 30, "depth": depth, "init": "glorot"}, p, 1234)
        s = Sampler(p, proto["n_domain"], proto["n_boundary"], proto["n_initial"], seed=1234)
        return PINNTrainer(p, net, s, cfg)

    # K separate runs, one after the other
    t0 = time.perf_counter()
    separate = []
    for p in problems:
        tr = trainer(p)
        separate.append(tr.train()["loss"])
    t_separate = time.perf_counter() - t0

    # the same K nets, stacked
    trainers = [trainer(p) for p in problems]
    model = StackedMLP([t.model for t in trainers])
    batches = [t.current_batch() for t in trainers]
    opt = torch.optim.Adam(model.parameters(), lr=proto["lr"], fused=True)
    first = []
    t0 = time.perf_counter()
    for s in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = proto["lr"] * proto["lr_decay"] ** (s / proto["decay_every"])
        opt.zero_grad(set_to_none=True)
        loss = stacked_loss(model, problems, batches)
        loss.backward()
        opt.step()
        if s == 0:
            first.append(float(loss.detach()))
    t_stacked = time.perf_counter() - t0
    sum_first = sum(h[0] for h in separate)
    out = {
        "K": len(problems),
        "adam_steps": args.steps,
        "threads": args.threads,
        "separate_s": t_separate,
        "stacked_s": t_stacked,
        "speedup": t_separate / t_stacked,
        "first_loss_separate_sum": sum_first,
        "first_loss_stacked": first[0],
        "final_loss_separate_sum": sum(h[-1] for h in separate),
        "final_loss_stacked": float(stacked_loss(model, problems, batches).detach()),
    }
    print(json.dumps(out, indent=1))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
