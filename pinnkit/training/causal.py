"""Causal weighting of the PDE residual in time as a strategy object (Wang, Sankaran & Perdikaris 2022,
"Respecting causality is all you need for training physics-informed neural networks", arXiv:2203.07404).

The time interval ``[t0, T]`` is cut into ``M`` equal chunks; with ``L_k`` the mean squared residual of the
collocation points in chunk ``k``,

    L_causal = (1/M) Σ_k w_k L_k,     w_k = exp(−ε Σ_{j<k} L_j)     (their eq. 12; w_1 = 1),

the weights computed from the values of ``L_j`` with no gradient (stop-gradient), so that a chunk is trained
only once the chunks before it have small residuals. ``eps`` is one value or an increasing schedule: the
run moves to the next ε once every weight exceeds ``tol`` (their Algorithm 1, δ = 0.99), i.e. once the
residual is small over the whole interval for the current ε. Under ``torchrun`` the chunk means are
global (sums and counts over the ranks) and every rank takes the same weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import torch
from torch import Tensor

from ..validation import check_int, check_positive, check_range

__all__ = ["CausalWeighting", "as_causal"]


@dataclass(frozen=True)
class CausalWeighting:
    """Causal weights over ``chunks`` time chunks with the ε schedule ``eps`` (module docstring)."""

    eps: Union[float, Tuple[float, ...]] = (1e-2, 1e-1, 1.0, 10.0, 100.0)
    chunks: int = 32
    tol: float = 0.99

    @property
    def schedule(self) -> Tuple[float, ...]:
        return tuple(self.eps) if isinstance(self.eps, (tuple, list)) else (self.eps,)

    def validate(self) -> "CausalWeighting":
        eps = self.eps
        try:
            values = tuple(float(e) for e in (eps if isinstance(eps, (tuple, list)) else (eps,)))
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"causal_eps must be a positive number or a sequence of them, got {eps!r}") from None
        if not values:
            raise ValueError("causal_eps must hold at least one value")
        for e in values:
            check_positive("causal_eps", e)
            if e > 1e12:
                raise ValueError(f"causal_eps must lie in (0, 1e12], got {e!r}")
        if any(b < a for a, b in zip(values, values[1:])):
            raise ValueError(f"causal_eps must be a non-decreasing schedule, got {values}")
        object.__setattr__(self, "eps", values if len(values) > 1 else values[0])
        check_int("causal_chunks", self.chunks, 1, 100_000)
        check_range("causal_tol", self.tol, 0.0, 1.0, low_open=True, high_open=True)
        return self

    def as_dict(self) -> Dict[str, Any]:
        return {"eps": list(self.schedule), "chunks": self.chunks, "tol": self.tol}

    def chunk_index(self, t: Tensor, t0: float, t1: float) -> Tensor:
        """Chunk of every time ``t`` (``0 … M−1``; ``t = T`` in the last chunk)."""
        k = torch.floor((t - t0) / (t1 - t0) * self.chunks).long()
        return k.clamp_(0, self.chunks - 1)

    def chunk_sums(self, residual: Tensor, t: Tensor, t0: float, t1: float) -> Tuple[Tensor, Tensor]:
        """``(S_k, n_k)``: the sum of ``Σ_r R_r(x_i)²`` over the points of each chunk and their number."""
        sq = residual.pow(2).sum(dim=1) if residual.dim() == 2 else residual.pow(2)
        k = self.chunk_index(t.detach(), t0, t1)
        sums = torch.zeros(self.chunks, dtype=sq.dtype, device=sq.device).index_add(0, k, sq)
        counts = torch.zeros(self.chunks, dtype=sq.dtype, device=sq.device).index_add(0, k, torch.ones_like(sq))
        return sums, counts

    @staticmethod
    def weights(chunk_means: Tensor, eps: float) -> Tensor:
        """``w_k = exp(−ε Σ_{j<k} L_j)`` (no gradient)."""
        L = chunk_means.detach()
        before = torch.cumsum(L, 0) - L
        return torch.exp(-eps * before)

    def loss(
        self,
        residual: Tensor,
        t: Tensor,
        t0: float,
        t1: float,
        eps: float,
        reduce: Optional[Any] = None,
        share: float = 1.0,
    ) -> Tuple[Tensor, Tensor]:
        """``(L_causal, w)`` for the pointwise residual ``(N, r)`` at times ``t``. Chunks without points carry
        no loss. With ``reduce`` (a sum over the ranks) the chunk means are global; the returned loss is then
        this rank's part divided by its ``share`` of the points, so that ``Σ_r share_r · L_r`` (the loop's
        reduction of a mean term) is the global causal loss."""
        sums, counts = self.chunk_sums(residual, t, t0, t1)
        if reduce is not None:
            both = reduce(torch.cat([sums.detach(), counts]))
            global_sums, global_counts = both[: self.chunks], both[self.chunks :]
        else:
            global_sums, global_counts = sums.detach(), counts
        has = global_counts > 0
        n = torch.where(has, global_counts, torch.ones_like(global_counts))
        means = torch.where(has, global_sums / n, torch.zeros_like(global_sums))
        w = self.weights(means, eps)
        loss = (w * sums / n)[has].sum() / int(has.sum())
        return loss / share, w[has]


def as_causal(causal: Union[None, bool, float, tuple, Mapping, CausalWeighting]) -> Optional[CausalWeighting]:
    """A :class:`CausalWeighting` from itself, ``True`` (the defaults), ε (one number or a schedule), a dict
    of its fields, or None/False (off)."""
    if causal is None or causal is False:
        return None
    if isinstance(causal, CausalWeighting):
        return causal.validate()
    if causal is True:
        return CausalWeighting().validate()
    if isinstance(causal, Mapping):
        unknown = set(causal) - {"eps", "chunks", "tol"}
        if unknown:
            raise ValueError(f"causal has unknown field(s) {sorted(unknown)}; fields are eps, chunks, tol")
        return CausalWeighting(**causal).validate()
    if isinstance(causal, (int, float, tuple, list)) and not isinstance(causal, bool):
        return CausalWeighting(eps=tuple(causal) if isinstance(causal, list) else causal).validate()
    raise ValueError(
        f"causal must be None, True, ε (a number or a schedule), a dict or a CausalWeighting, got {causal!r}"
    )
