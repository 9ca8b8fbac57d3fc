"""Bookkeeping shared by the studies: job fingerprints, checked JSON records, per-job lock files and the
worker-process pool.

* :func:`fingerprint` — a short hash (sha256 of the canonical JSON, 12 hex characters) of a job's FULL
  configuration; file names carry it, so a record or checkpoint is only ever found by the job it belongs to.
* :func:`write_record` / :func:`load_record` — a record holds a ``digest`` (sha256 of the canonical JSON of
  the rest of it); a record that cannot be read, is not a JSON object, lacks keys, fails its digest or was
  made for another configuration is refused with the reason, and :func:`quarantine` moves it aside
  (``<name>.bad``; nothing is deleted).
* :class:`JobLock` — a lock file per running job (``O_CREAT | O_EXCL``, holding the pid): a lock held by a
  live process means the job is being run elsewhere (:class:`JobBusy`); a stale lock (dead pid) is taken over.
* :func:`init_worker` — pool workers die with the study's main process (``PR_SET_PDEATHSIG`` on Linux and a
  watchdog thread everywhere) and ignore SIGINT (the main process stops them).

Records are written with ``allow_nan=True``: a NaN or infinite value (a diverged estimate, say) is stored as
``NaN`` / ``Infinity`` and read back as the same float, and the digest is computed the same way on both sides.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, Optional, Tuple

__all__ = [
    "canonical_json",
    "fingerprint",
    "normalise",
    "write_record",
    "load_record",
    "quarantine",
    "reject_record",
    "pid_alive",
    "JobLock",
    "JobBusy",
    "StudyInterrupted",
    "init_worker",
]


class JobBusy(ValueError):
    """A job's lock file is held by a live process: that job is being run elsewhere (another run of the same
    study in the same folder). A ValueError, so the command line prints it as one line."""


class StudyInterrupted(KeyboardInterrupt):
    """Raised by a study stopped with Ctrl-C after its workers were shut down; ``str()`` is the one line that
    says how to resume."""


def canonical_json(obj: Any) -> str:
    """``obj`` as canonical JSON: sorted keys, no spaces, NaN/inf allowed (as ``NaN``/``Infinity``)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True, ensure_ascii=True, default=float)


def normalise(obj: Any) -> Any:
    """``obj`` as it reads back from JSON (numpy scalars become floats, tuples lists)."""
    return json.loads(canonical_json(obj))


def fingerprint(config: Any, n: int = 12) -> str:
    """The first ``n`` hex characters of the sha256 of ``config``'s canonical JSON."""
    return hashlib.sha256(canonical_json(normalise(config)).encode()).hexdigest()[:n]


def _digest(body: dict) -> str:
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def write_record(path: str, body: dict) -> dict:
    """Write ``body`` plus its ``digest`` to ``path`` atomically (a ``.tmp`` file, then a rename); returns the
    record as it reads back."""
    body = normalise({k: v for k, v in body.items() if k != "digest"})
    record = {**body, "digest": _digest(body)}
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as fh:
        json.dump(record, fh, indent=1, allow_nan=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return record


def load_record(path: str, expected: dict, required: Tuple[str, ...] = ()) -> Tuple[Optional[dict], Optional[str]]:
    """``(record, None)`` when ``path`` holds a sound record whose ``expected`` keys equal ``expected``'s values
    (compared as they read back from JSON); ``(None, None)`` when there is no file; ``(None, reason)`` when the
    file is there but must not be used."""
    if not os.path.exists(path):
        return None, None
    try:
        with open(path, encoding="utf-8") as fh:
            record = json.load(fh)
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None, f"cannot be read as JSON ({type(exc).__name__}: {exc})"
    if not isinstance(record, dict):
        return None, f"is not a JSON object (a {type(record).__name__})"
    missing = [k for k in ("digest", *expected, *required) if k not in record]
    if missing:
        return None, f"lacks the keys {missing}"
    body = {k: v for k, v in record.items() if k != "digest"}
    if record["digest"] != _digest(body):
        return None, "fails its digest check (edited or corrupted)"
    want = normalise(expected)
    differ = [k for k in want if record[k] != want[k]]
    if differ:
        return None, f"was made for another job (differs in {differ})"
    return record, None


def quarantine(path: str) -> str:
    """Move ``path`` aside to ``path + '.bad'`` (``.bad1``, ``.bad2``, … when taken); returns the new path."""
    target, i = path + ".bad", 0
    while os.path.exists(target):
        i += 1
        target = f"{path}.bad{i}"
    os.replace(path, target)
    return target


def reject_record(path: str, problem: str, log: Optional[Callable[[str], Any]] = None) -> None:
    """Move the unusable record ``path`` aside (:func:`quarantine`) with a warning that names it and ``problem``
    (also given to ``log``); the job then runs again. Returns None, the "no record" of a record loader."""
    import warnings

    moved = quarantine(path)
    message = f"job record {path} {problem}; moved it to {moved} and running the job again"
    warnings.warn(message, stacklevel=3)
    if log is not None:
        log(message)
    return None


def _start_time(pid: int) -> Optional[str]:
    """The start time of process ``pid`` (Linux: field 22 of ``/proc/<pid>/stat``), None where unknown; with the
    pid it tells a lock's holder from a later process that reuses its pid."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (a zombie counts as dead on Linux)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    try:  # a zombie (killed, not yet reaped) has finished its work
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class JobLock:
    """``with JobLock(path, what):`` — hold the lock file ``path`` (created with ``O_CREAT | O_EXCL``, holding
    this pid and, on Linux, its start time) while a job runs. A lock held by a live process raises :class:`JobBusy`; a stale one (its pid
    is dead, or the file is empty or unreadable and older than a few seconds) is taken over."""

    def __init__(self, path: str, what: str = "this job") -> None:
        self.path, self.what, self.held = path, what, False

    @staticmethod
    def holder(path: str) -> Optional[int]:
        """The live pid holding ``path``, or None (no lock, or a stale one)."""
        try:
            with open(path) as fh:
                fields = fh.read().split()
            pid = int(fields[0])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, IndexError):
            try:  # being written this instant: count it as held for a moment
                return -1 if time.time() - os.path.getmtime(path) < 5 else None
            except OSError:
                return None
        if pid == os.getpid() or not pid_alive(pid):
            return None
        started = _start_time(pid)
        if len(fields) > 1 and started is not None and fields[1] != started:
            return None  # the pid now belongs to another process
        return pid

    def acquire(self) -> "JobLock":
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        for _ in range(20):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid = self.holder(self.path)
                if pid is not None:
                    raise JobBusy(
                        f"{self.what} is being run by another process (pid {pid if pid > 0 else '?'}, lock file "
                        f"{self.path}); wait for it to finish or stop it, then rerun"
                    ) from None
                try:  # stale: its process is gone; take it over
                    os.remove(self.path)
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()} {_start_time(os.getpid()) or ''}\n")
            self.held = True
            return self
        raise JobBusy(f"could not take the lock file {self.path} of {self.what}")  # pragma: no cover

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        try:
            with open(self.path) as fh:
                mine = fh.read().split()[:1] == [str(os.getpid())]
            if mine:
                os.remove(self.path)
        except OSError:
            pass

    def __enter__(self) -> "JobLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _die_with_parent_linux() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # pragma: no cover - the watchdog thread still covers it
        pass


def _watchdog(parent_pid: int, every: float) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)
        time.sleep(every)


def init_worker(parent_pid: int, every: float = 0.5) -> None:
    """Pool initializer: die with the parent (``PR_SET_PDEATHSIG`` → SIGKILL on Linux; a daemon thread that
    exits the process when ``os.getppid()`` changes, everywhere) and ignore SIGINT (Ctrl-C reaches the whole
    process group; the main process shuts its workers down, so they print nothing)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        _die_with_parent_linux()
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        os._exit(1)
    threading.Thread(target=_watchdog, args=(parent_pid, every), daemon=True, name="pinnkit-watchdog").start()
