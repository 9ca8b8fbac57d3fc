"""Checks made before any work starts: output locations are writable, a fresh run does not replace an earlier
run's checkpoint, and what a run will allocate fits in this machine's memory.

Standard library only (like :mod:`pinnkit.validation`), so the numpy-only parts can use it. Each check raises
``ValueError`` naming the parameter, what is wrong and what to do.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Optional

__all__ = [
    "check_output_dir",
    "check_fresh_start",
    "available_memory",
    "check_memory",
    "format_bytes",
    "MEMORY_FRACTION",
]

#: the share of the available memory one run may plan to use
MEMORY_FRACTION = 0.8


def check_output_dir(name: str, path: Any) -> str:
    """``path`` must name a directory that exists and can be written to, or that can be created: no existing
    file in its way, and its nearest existing ancestor a writable directory (probed by creating and removing a
    temporary file there, so that a read-only mount or folder is found whoever runs it). Nothing is left
    behind. Returns ``path`` as a string."""
    if not isinstance(path, (str, os.PathLike)) or not str(os.fspath(path)).strip():
        raise ValueError(f"{name} must be a directory path, got {path!r}")
    path = os.fspath(path)
    probe = os.path.abspath(path)
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.path.isdir(probe):
        where = "is" if probe == os.path.abspath(path) else f"lies under {probe!r}, which is"
        raise ValueError(f"{name} {path!r} {where} a file, not a directory; choose another {name}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".pinnkit-write-test-", dir=probe)
    except OSError as exc:
        raise ValueError(
            f"{name} {path!r} cannot be written ({probe!r}: {exc.strerror or exc}); choose a writable {name}"
        ) from None
    os.close(fd)
    os.remove(tmp)
    return path


def check_fresh_start(
    path: Optional[str],
    *,
    resume: bool,
    overwrite: bool,
    resume_hint: str = "--resume",
    overwrite_hint: str = "--overwrite",
) -> None:
    """A run that is not resumed must not replace the checkpoint an earlier run left at ``path``: refuse, saying
    how to continue it (``resume_hint``) or start over (``overwrite_hint``). ``overwrite=True`` allows it."""
    if resume or overwrite or not path or not os.path.exists(path):
        return
    raise ValueError(
        f"{path!r} holds the checkpoint of an earlier run; pass {resume_hint} to continue it, or {overwrite_hint} "
        "to start over and replace it"
    )


def available_memory() -> Optional[int]:
    """Bytes of memory available to a new allocation: ``MemAvailable`` of ``/proc/meminfo`` (Linux), else the
    physical memory (``os.sysconf``), else None when neither can be read."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(n: float) -> str:
    """``n`` bytes as ``"7.28 TiB"`` (an integer beyond float range as ``"> 1e300 B"``)."""
    try:
        n = float(n)
    except OverflowError:
        return "> 1e300 B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} PiB"  # pragma: no cover


def check_memory(name: str, value: Any, estimate: float, what: str = "this run") -> None:
    """Refuse when ``estimate`` bytes (what ``name = value`` makes ``what`` allocate, an estimate) exceed
    :data:`MEMORY_FRACTION` of the available memory, naming the parameter, the estimate and what is available."""
    avail = available_memory()
    if avail is None or estimate <= MEMORY_FRACTION * avail:
        return
    raise ValueError(
        f"{name}={value!r} would make {what} allocate about {format_bytes(estimate)} (estimate), more than "
        f"{MEMORY_FRACTION:.0%} of the {format_bytes(avail)} available on this machine; lower {name}"
    )
