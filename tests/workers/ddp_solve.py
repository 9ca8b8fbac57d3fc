"""A worker for tests/test_distributed.py: one ``pinnkit.solve`` run, as a plain process or under torchrun.

``python ddp_solve.py OUT SETTINGS_JSON``: solves with the settings, writes ``OUT/rank<r>.json`` (loss history,
flat parameters, errors, or the divergence it stopped on). ``kill_rank``/``kill_at`` in the settings make that
rank kill itself (SIGKILL) once training reaches that step; ``nan_rank``/``nan_at`` make that rank's weights NaN
at that step (a divergence on one rank only).
"""

import json
import os
import signal
import sys

import torch

import pinnkit
from pinnkit import distributed
from pinnkit.training import TrainingDiverged

torch.set_num_threads(1)
out, settings = sys.argv[1], json.loads(sys.argv[2])
kill_rank, kill_at = settings.pop("kill_rank", None), settings.pop("kill_at", None)
nan_rank, nan_at = settings.pop("nan_rank", None), settings.pop("nan_at", None)
problem = settings.pop("problem", "heat")


class KillAt:
    every = 1

    def __call__(self, trainer):
        g = distributed.current()
        if kill_at is not None and trainer.step >= kill_at and (0 if g is None else g.rank) == kill_rank:
            os.kill(os.getpid(), signal.SIGKILL)
        if nan_at is not None and trainer.step == nan_at and (0 if g is None else g.rank) == nan_rank:
            with torch.no_grad():  # this rank's weights only: its local loss turns NaN
                next(trainer.model.parameters()).fill_(float("nan"))
        return {}


record = {}
try:
    r = pinnkit.solve(problem, progress=False, callbacks=[KillAt()], **settings)
    flat = torch.cat([p.detach().reshape(-1) for p in r.model.parameters()])
    record = {"loss": r.history["loss"], "step": r.history["step"], "params": flat.tolist(), "errors": r.errors}
    record["config"] = r.config
    if settings.get("checkpoint_dir"):
        r.save(os.path.join(out, "result"), plots=False)
except TrainingDiverged as exc:
    record = {"diverged": str(exc)}
g = distributed.current()
with open(os.path.join(out, f"rank{0 if g is None else g.rank}.json"), "w") as fh:
    json.dump(record, fh)
