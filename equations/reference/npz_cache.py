"""On-disk cache of reference data as ``.npz`` files keyed by a configuration: canonical JSON, its sha256,
atomic writes and checked reads.  Shared by the operator-learning datasets and the cavity reference.

Every file carries a sha256 digest of its content (:func:`content_digest`: each entry's name, dtype, shape and
bytes in sorted-name order, the config JSON among them), checked on every load.  A file that cannot be read
(truncated, empty, random bytes, a flipped byte), whose arrays were edited, that lacks the digest (written by an
older version) or that holds another config is never used: :func:`load_npz` warns (RuntimeWarning naming the
file and what is wrong) and returns None, so the caller recomputes and :func:`save_npz` replaces the file."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

__all__ = ["canonical_json", "config_hash", "content_digest", "save_npz", "load_npz", "DIGEST_KEY"]

#: the entry of a cache file that holds the sha256 of all its other entries
DIGEST_KEY = "content_sha256"
_DIGEST_VERSION = b"pinnkit-npz-cache:v1"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip file: its first entry, or an empty archive


def canonical_json(config: Mapping[str, Any]) -> str:
    """The config as JSON with sorted keys and no whitespace (NaN refused), so equal configs hash equally."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=True)


def config_hash(config: Mapping[str, Any]) -> str:
    """sha256 hex digest of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(config).encode("ascii")).hexdigest()


def content_digest(entries: Mapping[str, np.ndarray]) -> str:
    """sha256 hex digest of ``entries`` (the config JSON among them): for each name in sorted order, the name,
    the dtype, the shape and the C-order bytes, each length-prefixed so that no two contents collide."""
    h = hashlib.sha256(_DIGEST_VERSION)

    def field(b: bytes) -> None:
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)

    for name in sorted(entries):
        a = np.asarray(entries[name])
        if a.dtype.hasobject:
            raise ValueError(f"cache entry {name!r} has dtype object, which cannot be stored or digested")
        field(name.encode("utf-8"))
        field(a.dtype.str.encode("ascii"))
        field(json.dumps([int(s) for s in a.shape]).encode("ascii"))
        field(memoryview(np.ascontiguousarray(a)).cast("B"))
    return h.hexdigest()


def save_npz(
    path: Path, arrays: Mapping[str, np.ndarray], config: Mapping[str, Any], info: Optional[Mapping[str, Any]] = None
) -> None:
    """Write ``arrays`` with the config (and optional JSON ``info``) and the digest of it all atomically: a
    temporary file in the same directory, then a rename, so a crash never leaves a half-written entry (and an
    earlier, bad file at ``path`` is replaced)."""
    path = Path(path)
    entries: Dict[str, np.ndarray] = {"config_json": np.array(canonical_json(config))}
    if info is not None:
        entries["info_json"] = np.array(json.dumps(info))
    for name, a in arrays.items():
        if name in entries or name == DIGEST_KEY:
            raise ValueError(f"array name {name!r} is reserved in a cache file")
        entries[name] = np.asarray(a)
    digest = np.array(content_digest(entries))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp.npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **entries, **{DIGEST_KEY: digest})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_all(path: Path) -> Dict[str, np.ndarray]:
    """Every entry of the file (raises whatever numpy and zipfile raise on a bad file).  Only a zip archive is
    handed to numpy, so nothing is ever read as a pickle (and no message suggests loading one)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
        if not head:
            raise EOFError("the file is empty")
        if head not in _ZIP_MAGIC:
            raise ValueError("not an .npz archive (no zip signature at the start)")
        fh.seek(0)
        data = np.load(fh, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):  # pragma: no cover (a zip always gives an NpzFile)
            raise ValueError(f"not an .npz archive (np.load gave {type(data).__name__})")
        with data:
            return {name: np.array(data[name]) for name in data.files}


def load_npz(
    path: Path, config: Mapping[str, Any], keys: Sequence[str], with_info: bool = False
) -> Optional[Tuple[Dict[str, np.ndarray], Optional[dict]]]:
    """``(arrays, info)`` from a cache file, or None when it is missing (silently) or cannot be trusted: it is
    unreadable (truncated, empty, corrupt: any error while reading), has no content digest (an older format),
    its content does not match the digest (edited or damaged), lacks a key or was written for another config.
    Each of these warns (RuntimeWarning naming the file and the problem) so the caller recomputes."""
    path = Path(path)
    if not path.is_file():
        return None

    def refuse(problem: str) -> None:
        warnings.warn(f"cache file {path} {problem}; recomputing", RuntimeWarning, stacklevel=3)

    try:
        entries = _read_all(path)
    except Exception as exc:  # BadZipFile, EOFError, zlib.error, ValueError, OSError, KeyError, MemoryError, ...
        refuse(f"is unreadable ({type(exc).__name__}: {exc})")
        return None
    stored = entries.pop(DIGEST_KEY, None)
    if stored is None:
        refuse(f"has no content digest ({DIGEST_KEY}: written by an older version of pinnkit)")
        return None
    try:
        ok = stored.shape == () and stored.dtype.kind == "U" and str(stored) == content_digest(entries)
    except Exception as exc:  # e.g. an entry of dtype object
        refuse(f"cannot be verified ({type(exc).__name__}: {exc})")
        return None
    if not ok:
        refuse("does not match its content digest (damaged or edited)")
        return None
    try:
        if str(entries["config_json"]) != canonical_json(config):
            refuse("holds a different config")
            return None
        arrays = {k: entries[k] for k in keys}
        info = json.loads(str(entries["info_json"])) if with_info else None
    except (KeyError, ValueError) as exc:
        refuse(f"is incomplete ({type(exc).__name__}: {exc})")
        return None
    return arrays, info
