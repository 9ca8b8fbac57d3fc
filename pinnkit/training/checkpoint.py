"""Checkpoint files shared by the trainers: written atomically, read back with ``weights_only=True``."""

from __future__ import annotations

import os
from typing import Optional, Union

import torch

__all__ = ["save_atomic", "load_state"]


def save_atomic(state: dict, path: str) -> None:
    """Write ``state`` to ``path`` through a temporary file and a rename, so a crash never leaves half a file."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_state(path: Optional[str], map_location: Union[str, torch.device, None] = None) -> dict:
    """A checkpoint written by :func:`save_atomic` (``torch.load(..., weights_only=True)``, so a hostile pickle
    runs no code). A file that cannot be read (truncated, random bytes, not a checkpoint) raises ValueError
    naming the file; the message never suggests unsafe loading."""
    if not path or not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError, EOFError, ...: all mean "not a good checkpoint"
        raise ValueError(
            f"checkpoint {path!r} cannot be read ({type(exc).__name__}): it is truncated, corrupt or not a "
            "pinnkit checkpoint; delete it to start the run again"
        ) from None
    if not isinstance(state, dict) or "step" not in state or "model" not in state:
        raise ValueError(f"checkpoint {path!r} is not a pinnkit checkpoint (no step or model state)")
    bad = [
        k for k, v in state["model"].items() if torch.is_tensor(v) and v.is_floating_point() and not v.isfinite().all()
    ]
    if bad:
        raise ValueError(f"checkpoint {path!r} holds non-finite weights ({', '.join(bad[:3])}); it is not resumed")
    return state
