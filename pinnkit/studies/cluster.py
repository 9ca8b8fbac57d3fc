"""Study jobs as Dask tasks: on a local Dask cluster started here, or on an existing scheduler (a cluster of
many machines, e.g. started by ``dask-jobqueue`` on SLURM or PBS).

A study hands :func:`run_tasks` a function and one argument per job; each job runs as one task, and the
results come back as they finish. What makes this safe is the study's own bookkeeping, not Dask's:
every job writes its record (named by its fingerprint) and its checkpoints itself, holds a lock file while
it runs, and a rerun reuses exactly the records whose settings match. So when a worker dies mid-task, Dask
runs the task again on another worker (``distributed.scheduler.allowed-failures`` times at most), the lock of
the dead process is taken over as stale, the training resumes from its last checkpoint, and the record is
written once: nothing is lost and nothing counted twice.

With an existing scheduler the workers must have pinnkit installed and see the study's output folder (a
shared file system): records and checkpoints are written by the workers.

Memory allocation: Dask's nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``
(``distributed.nanny.pre-spawn-environ``). Setting that variable switches off glibc's dynamic mmap threshold,
so every tensor over 128 KiB is mapped and unmapped afresh on each step; a training runs about twice as slowly
as in a plain process (measured: a 300-step second-order PINN loop 5.8 s plain, 13.0 s in a Dask worker,
6.3 s without the variable). The local cluster is started without it, and every task on any cluster sets
glibc's thresholds to the values its dynamic rule reaches (mmap 32 MiB, trim 64 MiB) before it trains.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import re
import sys
import uuid
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional, Sequence, Tuple

__all__ = ["LOCAL", "check_cluster", "dask_client", "run_tasks", "steady_malloc"]

#: the ``cluster`` value that starts a local Dask cluster (a LocalCluster of worker processes) for the study
LOCAL = "local"

_ADDRESS = re.compile(r"^((tcp|tls|ucx|ws|wss)://)?[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")


def check_cluster(value: Any) -> Optional[str]:
    """``None`` (the study's own process pool), ``"local"`` (a local Dask cluster) or a scheduler address
    such as ``"tcp://10.0.0.5:8786"`` or ``"node17:8786"``."""
    if value is None:
        return None
    if isinstance(value, str) and (value == LOCAL or _ADDRESS.match(value)):
        return value
    raise ValueError(
        f"cluster must be None (the local process pool), {LOCAL!r} (a local Dask cluster) or a Dask scheduler "
        f"address such as 'tcp://host:8786', got {value!r}"
    )


@contextmanager
def dask_client(cluster: str, workers: int) -> Iterator[Any]:
    """A ``dask.distributed.Client``: on a new local cluster of ``workers`` single-threaded worker processes
    (``cluster="local"``; no dashboard) or connected to the scheduler at the address ``cluster``. The local
    cluster and the connection are closed on exit, also on Ctrl-C."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - a dependency of pinnkit
        raise ValueError(
            f"cluster={cluster!r} needs dask.distributed (pip install 'dask[distributed]'): {exc}"
        ) from None
    local = None
    saved = dict(os.environ)  # Dask's nanny writes its pre-spawn variables into this process's environment
    if cluster == LOCAL:
        import dask

        environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
        environ.pop(_TRIM, None)  # see the module's docstring
        os.environ.pop(_TRIM, None)  # left by an earlier cluster of this process, the workers would inherit it
        try:
            with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
                local = _local_cluster(LocalCluster, workers)
        finally:
            _restore(saved)
        client = Client(local)
    else:
        try:
            client = Client(cluster, timeout=30)
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"cluster={cluster!r}: no Dask scheduler could be reached there ({exc})") from None
    try:
        yield client
    finally:
        client.close()
        if local is not None:
            local.close()
            _restore(saved)


def _restore(environ: dict) -> None:
    """Put this process's environment back as it was (``OMP_NUM_THREADS=1`` and the rest are for the
    workers, not for the processes this one starts later)."""
    if dict(os.environ) != environ:
        os.environ.clear()
        os.environ.update(environ)


def _local_cluster(LocalCluster: Any, workers: int) -> Any:
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )


_TRIM = "MALLOC_TRIM_THRESHOLD_"

#: glibc's ``mallopt`` parameters and the values its dynamic rule reaches on 64-bit machines
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_MAX = 32 << 20


def steady_malloc() -> bool:
    """In a process started with ``MALLOC_TRIM_THRESHOLD_`` set (a Dask worker), set glibc's mmap threshold to
    32 MiB and its trim threshold to 64 MiB, the values of its own dynamic rule once warm, so a training's
    tensors are reused from the heap rather than mapped afresh every step. True when it set them; a no-op
    elsewhere (no variable, no glibc)."""
    if _TRIM not in os.environ or not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)) and bool(
        mallopt(_M_TRIM_THRESHOLD, 2 * _MMAP_THRESHOLD_MAX)
    )


def _task(fn: Callable[[Any], Any], item: Any) -> Any:
    steady_malloc()
    return fn(item)


def run_tasks(
    client: Any, fn: Callable[[Any], Any], items: Sequence[Any], names: Sequence[str]
) -> Iterator[Tuple[str, Any]]:
    """Submit ``fn(item)`` for every item (the task named after its job) and yield ``(name, result)`` as the
    tasks finish. A task whose worker died is run again by the scheduler; one that raised re-raises here."""
    from dask.distributed import as_completed

    run = uuid.uuid4().hex[:8]  # task keys unique to this run, so no result of an earlier run is reused
    futures = {
        client.submit(functools.partial(_task, fn), item, key=f"pinnkit-{name}-{run}", pure=False): name
        for item, name in zip(items, names)
    }
    try:
        for fut in as_completed(futures):
            yield futures[fut], fut.result()
    finally:
        for fut in futures:
            fut.cancel()
