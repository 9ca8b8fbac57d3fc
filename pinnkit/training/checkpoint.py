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
    """A checkpoint written by :func:`save_atomic` (``torch.load(..., weights_only=True)``)."""
    if not path or not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    return torch.load(path, map_location=map_location, weights_only=True)
