"""One run over many processes: the process group of a ``torchrun`` launch and the few collectives training
needs (torch.distributed; gloo on CPU, NCCL on GPU).

Under ``torchrun --nproc_per_node P …`` every process runs the same program. :func:`init_from_env` joins the
group the launcher describes (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``);
without them (a plain ``python``) nothing happens and every function here is the one-process identity.

How a run is split (data parallelism, as in DDP): every rank holds the same parameters; each draws the round's
point design from the shared seed and keeps its own contiguous block (:func:`shard_range`), so the union of the
shards is exactly the one-process point set. A loss term is a mean over points, so the global term is the sum
over ranks of ``(n_r / N) · mean_r`` (:func:`share_sum`), and the gradient of the global loss the sum over ranks
of the local gradients (:func:`all_reduce_gradients`). Loss values and gradients are then the same numbers on
every rank, so every optimiser — Adam, L-BFGS with its line search, dense BFGS — takes the same iterates.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = [
    "Group",
    "current",
    "init_from_env",
    "launched",
    "is_main",
    "shard_range",
    "share_sum",
    "all_reduce_gradients",
    "all_reduce_flat",
    "broadcast_module",
    "all_gather_rows",
    "any_true",
    "barrier",
]


@dataclass(frozen=True)
class Group:
    """The process group a run trains on: this process's ``rank`` of ``world_size``, its ``local_rank`` on
    its machine (the GPU it uses) and the ``backend`` (``"gloo"`` or ``"nccl"``)."""

    rank: int
    world_size: int
    local_rank: int
    backend: str

    def as_dict(self) -> dict:
        return {"world_size": self.world_size, "backend": self.backend}


def launched() -> bool:
    """Whether this process was started by a launcher for more than one process (``WORLD_SIZE > 1``)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1
    except ValueError:
        return False


def current() -> Optional[Group]:
    """The initialised process group of more than one process, or None (one process)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    return Group(
        dist.get_rank(),
        dist.get_world_size(),
        int(os.environ.get("LOCAL_RANK", dist.get_rank())),
        str(dist.get_backend()),
    )


def init_from_env(device: str = "cpu") -> Optional[Group]:
    """Join the process group a ``torchrun`` launch describes (gloo for ``device="cpu"``, NCCL for CUDA) when
    there is one and it is not joined yet; returns :func:`current` (None for a one-process run)."""
    if not launched():
        return current()
    if not dist.is_available():  # pragma: no cover - torch built without distributed
        raise RuntimeError("torch was built without torch.distributed: a torchrun launch cannot be joined")
    if not dist.is_initialized():
        cuda = str(device).startswith("cuda")
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return current()


def is_main(group: Optional[Group] = None) -> bool:
    """True on rank 0 and in a one-process run: the process that writes files and prints."""
    group = group if group is not None else current()
    return group is None or group.rank == 0


def shard_range(n: int, rank: int, world_size: int) -> Tuple[int, int]:
    """``[start, stop)`` of rank ``rank``'s contiguous block of ``n`` items split over ``world_size`` ranks
    (the first ``n mod world_size`` ranks hold one item more)."""
    base, extra = divmod(n, world_size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def share_sum(terms: Mapping[str, Tensor], shares: Mapping[str, float], group: Optional[Group]) -> Dict[str, Tensor]:
    """Global loss terms from this rank's local means: ``T_k = Σ_r s_rk m_rk`` with ``s_rk = n_rk / N_k`` its
    share of term k's points. The returned tensors carry the global VALUE and the gradient of this rank's
    part ``s_rk m_rk`` only (``x + (T − x).detach()``); :func:`all_reduce_gradients` after the backward pass
    sums the parts into the gradient of ``T_k``."""
    if group is None:
        return dict(terms)
    names = list(terms)
    local = torch.stack([terms[k] * shares[k] for k in names])
    total = local.detach().clone()
    dist.all_reduce(total)
    return {k: local[i] + (total[i] - local[i]).detach() for i, k in enumerate(names)}


def all_reduce_gradients(params: Iterable[Tensor], group: Optional[Group]) -> None:
    """Sum ``p.grad`` over the ranks, in place, in one flat all-reduce (parameters without a gradient are
    left without one: the same on every rank, since every rank runs the same graph)."""
    if group is None:
        return
    with_grad = [p for p in params if p.grad is not None]
    if not with_grad:
        return
    flat = torch.cat([p.grad.reshape(-1) for p in with_grad])
    dist.all_reduce(flat)
    i = 0
    for p in with_grad:
        n = p.grad.numel()
        p.grad.copy_(flat[i : i + n].view_as(p.grad))
        i += n


def all_reduce_flat(x: Tensor, group: Optional[Group]) -> Tensor:
    """``Σ_r x_r`` (a copy) over the ranks; ``x`` itself in a one-process run."""
    if group is None:
        return x
    y = x.detach().clone()
    dist.all_reduce(y)
    return y


def all_gather_rows(x: Tensor, group: Optional[Group]) -> Tensor:
    """The rows of every rank's ``x`` (shapes ``(n_r, …)``, ``n_r`` may differ) concatenated in rank order."""
    if group is None:
        return x
    sizes = torch.tensor([x.shape[0]], dtype=torch.int64, device=x.device)
    all_sizes: List[Tensor] = [torch.zeros_like(sizes) for _ in range(group.world_size)]
    dist.all_gather(all_sizes, sizes)
    counts = [int(s) for s in all_sizes]
    width = max(counts)
    padded = torch.zeros((width, *x.shape[1:]), dtype=x.dtype, device=x.device)
    padded[: x.shape[0]] = x
    parts = [torch.empty_like(padded) for _ in range(group.world_size)]
    dist.all_gather(parts, padded.contiguous())
    return torch.cat([p[:c] for p, c in zip(parts, counts)])


def any_true(flag: bool, group: Optional[Group], device: Optional[torch.device] = None) -> bool:
    """Whether ``flag`` holds on any rank (every rank gets the same answer)."""
    if group is None:
        return bool(flag)
    t = torch.tensor([1.0 if flag else 0.0], device=device or "cpu")
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def broadcast_module(module: torch.nn.Module, group: Optional[Group]) -> None:
    """Give every rank rank 0's parameters and buffers (a net initialised without a seed would otherwise
    start from different weights on each rank)."""
    if group is None:
        return
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src=0)


def barrier(group: Optional[Group]) -> None:
    """Wait for every rank (a no-op in a one-process run)."""
    if group is not None:
        dist.barrier()
