"""A worker for tests/test_distributed.py: a short hybrid DeepONet training (data + physics terms), as a plain
process or under torchrun; writes ``OUT/rank<r>.json`` with the loss history and the flat parameters.

``python ddp_deeponet.py OUT CACHE SHARED`` (SHARED: 1 for shared collocation points, 0 for independent ones).
"""

import json
import os
import sys

import torch

from pinnkit import distributed
from pinnkit.equations.operator_data import make_dataset
from pinnkit.nets import DeepONet
from pinnkit.operator_trainer import DeepONetTrainer, OperatorTrainConfig

torch.set_num_threads(1)
out, cache, shared = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
grf = {"kernel": "se", "length_scale": 0.2, "sigma": 1.0}
data = make_dataset(
    "heat", 40, seed=1, m_sensors=16, nx=17, nt=11, grf=grf, kappa=0.01, cache_dir=cache, progress=False
)
net = DeepONet(16, 2, q=8, branch_width=16, branch_depth=1, trunk_width=16, trunk_depth=1, seed=0)
cfg = OperatorTrainConfig(
    mode="hybrid",
    steps=30,
    batch_functions=9,  # odd: the ranks hold 5 and 4 functions
    batch_points=32,
    n_collocation=16,
    n_boundary=4,
    shared_points=shared,
    dtype="float64",
    log_every=1,
    progress=False,
)
tr = DeepONetTrainer(net, data, config=cfg)
h = tr.train()
g = distributed.current()
flat = torch.cat([p.detach().reshape(-1) for p in tr.model.parameters()])
with open(os.path.join(out, f"rank{0 if g is None else g.rank}.json"), "w") as fh:
    json.dump({"loss": h["loss"], "params": flat.tolist()}, fh)
