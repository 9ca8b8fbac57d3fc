"""On-disk cache of reference data as ``.npz`` files keyed by a configuration: canonical JSON, its sha256,
atomic writes and checked reads.  Shared by the operator-learning datasets and the cavity reference."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

__all__ = ["canonical_json", "config_hash", "save_npz", "load_npz"]


def canonical_json(config: Mapping[str, Any]) -> str:
    """The config as JSON with sorted keys and no whitespace (NaN refused), so equal configs hash equally."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=True)


def config_hash(config: Mapping[str, Any]) -> str:
    """sha256 hex digest of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(config).encode("ascii")).hexdigest()


def save_npz(
    path: Path, arrays: Mapping[str, np.ndarray], config: Mapping[str, Any], info: Optional[Mapping[str, Any]] = None
) -> None:
    """Write ``arrays`` with the config (and optional JSON ``info``) atomically: a temporary file in the same
    directory, then a rename, so a crash never leaves a half-written entry."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = {"config_json": np.array(canonical_json(config))}
    if info is not None:
        extra["info_json"] = np.array(json.dumps(info))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp.npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **extra, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_npz(
    path: Path, config: Mapping[str, Any], keys: Sequence[str], with_info: bool = False
) -> Optional[Tuple[Dict[str, np.ndarray], Optional[dict]]]:
    """``(arrays, info)`` from a cache file, or None (with a RuntimeWarning unless the file is simply missing)
    when it is missing, unreadable, lacks a key or was written for another config."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["config_json"]) != canonical_json(config):
                warnings.warn(f"cache file {path} holds a different config; recomputing", RuntimeWarning, stacklevel=2)
                return None
            arrays = {k: np.array(data[k]) for k in keys}
            info = json.loads(str(data["info_json"])) if with_info else None
    except (OSError, ValueError, KeyError) as exc:
        warnings.warn(f"cache file {path} is unreadable ({exc}); recomputing", RuntimeWarning, stacklevel=2)
        return None
    return arrays, info
