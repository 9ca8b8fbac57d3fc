"""Collocation points in a space–time domain and on its boundary, and held-out evaluation points.

On a box the points come from the design (Sobol, Latin hypercube, uniform) scaled to the box and its faces;
on any other domain (:mod:`pinnkit.equations.geometry`) from the domain's interior and boundary samplers,
times from the same design.

Every draw is a pure function of ``(seed, round, stream)``: resampling every ``k`` steps draws round
``step // k``, so a resumed run sees exactly the points an uninterrupted run would have seen.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from scipy.stats import qmc
from torch import Tensor

from . import distributed
from .validation import check_choice, check_int, check_range

__all__ = [
    "METHODS",
    "ADAPTIVE",
    "RAD",
    "Points",
    "adaptive_strategy",
    "unit_cube",
    "Sampler",
    "Batch",
    "evaluation_points",
    "face_points",
    "domain_points",
    "boundary_points",
    "split_counts",
]

METHODS = ("sobol", "lhs", "uniform")


def unit_cube(n: int, dim: int, method: str, seed: int) -> np.ndarray:
    """``n`` points in ``[0,1]^dim`` by scrambled Sobol, Latin hypercube or i.i.d. uniform draws."""
    check_choice("sampling method", method, METHODS)
    if n == 0:
        return np.zeros((0, dim))
    rng = np.random.default_rng(seed)
    if method == "uniform":
        return rng.random((n, dim))
    if method == "lhs":
        return qmc.LatinHypercube(d=dim, seed=rng).random(n)
    with warnings.catch_warnings():  # Sobol balance properties need n = 2^m; other n are still fine
        warnings.simplefilter("ignore", UserWarning)
        return qmc.Sobol(d=dim, scramble=True, seed=rng).random(n)


def split_counts(n: int, weights: Sequence[float]) -> List[int]:
    """Split ``n`` into integer parts proportional to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    raw = n * w / w.sum()
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts))[: n - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def _scale(u: np.ndarray, lower: Sequence[float], upper: Sequence[float]) -> np.ndarray:
    lo, hi = np.asarray(lower, float), np.asarray(upper, float)
    return lo + u * (hi - lo)


def face_points(problem, faces, n: int, method: str, seed: int) -> np.ndarray:
    """``n`` points on the given spatial faces of the box × the time interval, shared among the faces in
    proportion to their measure."""
    lo, hi = np.asarray(problem.input_lower, float), np.asarray(problem.input_upper, float)
    D = problem.input_dim
    measures = [np.prod(np.delete(hi - lo, f.dim)) for f in faces]
    parts = []
    for j, (face, m) in enumerate(zip(faces, split_counts(n, measures))):
        u = unit_cube(m, D, method, seed * 7919 + j)
        pts = _scale(u, lo, hi)
        pts[:, face.dim] = lo[face.dim] if face.side == 0 else hi[face.dim]
        parts.append(pts)
    return np.concatenate(parts, axis=0)


def initial_points(problem, n: int, method: str, seed: int) -> np.ndarray:
    """``n`` points of the spatial domain at ``t = t0``."""
    pts = domain_points(problem, n, method, seed)
    pts[:, -1] = problem.time_interval[0]
    return pts


def _with_times(problem, space: np.ndarray, method: str, seed: int) -> np.ndarray:
    if not problem.time_dependent:
        return space
    t0, T = problem.time_interval
    t = t0 + unit_cube(len(space), 1, method, seed * 31 + 7) * (T - t0)
    return np.concatenate([space, t], axis=1)


def domain_points(problem, n: int, method: str, seed: int) -> np.ndarray:
    """``n`` points of ``Ω × [t0, T]`` (``Ω`` alone when steady), ``(n, D)``."""
    if problem.on_box:
        return _scale(unit_cube(n, problem.input_dim, method, seed), problem.input_lower, problem.input_upper)
    return _with_times(problem, problem.domain.interior_points(n, method, seed), method, seed)


def boundary_points(problem, where: Optional[Callable], n: int, method: str, seed: int) -> np.ndarray:
    """``n`` points of ``∂Ω × [t0, T]``, or of the part of ``∂Ω`` where ``where(x)`` holds (``x`` the spatial
    coordinates), ``(n, D)``; a part is drawn by rejection from the whole boundary."""
    dom = problem.spatial_domain
    parts, got = [], 0
    for round_ in range(64):
        m = n if where is None or not got else int(min(4 * (n - got) * (round_ + 1), 4_000_000))
        pts = dom.boundary_points(max(m, n - got), method, seed + 1_000_003 * round_)
        if where is not None:
            keep = np.asarray(where(pts), dtype=bool).reshape(-1)
            if keep.shape != (len(pts),):
                raise ValueError(f"a boundary predicate must return one boolean per point, got shape {keep.shape}")
            pts = pts[keep]
        parts.append(pts)
        got += len(pts)
        if got >= n:
            return _with_times(problem, np.concatenate(parts)[:n], method, seed)
    raise ValueError(
        f"the boundary predicate selects (almost) no points of {dom.describe()}: {got} of {n} after 64 rounds"
    )


def condition_points(problem, condition, n_boundary: int, n_initial: int, method: str, seed: int) -> np.ndarray:
    """The points of one condition at its location (:meth:`~pinnkit.equations.Condition.location`)."""
    from pinnkit.equations.base import Boundary

    loc = condition.location(problem)
    if isinstance(loc, str) and loc == "initial":
        return initial_points(problem, n_initial, method, seed)
    if isinstance(loc, str) and loc == "data":
        return np.asarray(condition.points, dtype=np.float64)
    if isinstance(loc, Boundary):
        return boundary_points(problem, loc.where, n_boundary, method, seed)
    return face_points(problem, loc, n_boundary, method, seed)


@dataclass(frozen=True)
class RAD:
    """Residual-based adaptive distribution (Wu, Zhu, Tan, Kartha & Lu 2023, CMAME 403, eq. 2).

    Every ``every`` steps (from round 1 on) the interior points are ``n_domain`` points drawn without
    replacement from a pool of ``pool_factor · n_domain`` candidates with probability
    ``p(x) ∝ |R(x)|^k / mean|R|^k + c`` (``|R|`` the Euclidean norm of the residual vector).
    ``adaptive="rad", resample_every=every`` is the string shortcut.
    """

    every: int
    pool_factor: int = 10
    k: float = 1.0
    c: float = 1.0

    name = "rad"

    def validate(self) -> "RAD":
        if not (isinstance(self.every, int) and not isinstance(self.every, bool) and self.every >= 1):
            raise ValueError(
                f"adaptive='rad' needs resample_every >= 1 (points are redrawn every round), got every={self.every!r}"
            )
        check_int("pool_factor", self.pool_factor, 1)
        check_range("rad_k", self.k, 0.0, math.inf)
        check_range("rad_c", self.c, 0.0, math.inf)
        return self

    def probabilities(self, r: np.ndarray) -> np.ndarray:
        """``p_i ∝ |r_i|^k / mean|r|^k + c`` normalised to sum 1 (uniform when the residual vanishes)."""
        a = np.abs(np.asarray(r, dtype=np.float64)) ** self.k
        m = a.mean()
        w = (a / m if m > 0 and np.isfinite(m) else np.zeros_like(a)) + self.c
        if not w.sum() > 0:
            w = np.ones_like(a)
        return w / w.sum()

    def as_dict(self) -> Dict[str, Any]:
        return {"strategy": self.name, **asdict(self)}


ADAPTIVE = {"rad": RAD}


def adaptive_strategy(
    adaptive: Union[None, str, RAD], resample_every: int = 0, pool_factor: int = 10, k: float = 1.0, c: float = 1.0
) -> Optional[RAD]:
    """The adaptive-sampling strategy: ``None``, a :class:`RAD`, or the string shortcut ``"rad"`` with
    ``resample_every``, ``pool_factor``, ``k``, ``c``. A strategy given with a nonzero ``resample_every``
    that differs from its ``every`` is an error."""
    if adaptive is None:
        return None
    if isinstance(adaptive, str):
        check_choice("adaptive", adaptive, tuple(ADAPTIVE))
        if resample_every == 0:
            raise ValueError("adaptive='rad' needs resample_every >= 1 (points are redrawn every round)")
        return ADAPTIVE[adaptive](every=resample_every, pool_factor=pool_factor, k=k, c=c).validate()
    if not isinstance(adaptive, RAD):
        raise ValueError(f"adaptive must be None, one of {tuple(ADAPTIVE)} or a RAD(...) strategy, got {adaptive!r}")
    if resample_every not in (0, adaptive.every):
        raise ValueError(f"resample_every={resample_every} contradicts adaptive={adaptive!r}: give one of them")
    return adaptive.validate()


@dataclass(frozen=True)
class Points:
    """Training points of :func:`pinnkit.solve`: ``n_domain`` interior collocation points, ``n_boundary`` per
    boundary condition, ``n_initial`` for the initial condition, drawn by ``sampling`` (``"sobol"``, ``"lhs"``,
    ``"uniform"``), redrawn every ``resample_every`` steps (0: never), ``adaptive`` ``None``, ``"rad"`` or a
    :class:`RAD` strategy. A field left as ``None`` takes the problem's preset (:mod:`pinnkit.presets`)."""

    n_domain: Optional[int] = None
    n_boundary: Optional[int] = None
    n_initial: Optional[int] = None
    sampling: Optional[str] = None
    resample_every: Optional[int] = None
    adaptive: Union[None, str, RAD] = None

    def overrides(self) -> Dict[str, Any]:
        """The fields that are set, as :func:`pinnkit.solve` keywords."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def sampler(self, problem, seed: int = 0) -> "Sampler":
        """A :class:`Sampler` for ``problem`` (fields left as ``None`` take the Sampler's defaults)."""
        return Sampler(
            problem, seed=seed, **{("method" if k == "sampling" else k): v for k, v in self.overrides().items()}
        )


@dataclass
class Batch:
    """One round of training points: interior collocation points and one array per condition."""

    domain: Tensor
    conditions: Dict[str, Tensor]
    #: unit outward normals at the points of the conditions that need them
    normals: Dict[str, Tensor] = field(default_factory=dict)
    #: this process's fraction of each term's points ("pde" and each condition; 1 in a one-process run)
    shares: Dict[str, float] = field(default_factory=dict)


class Sampler:
    """Draws training points for a problem.

    Args:
        problem: a :class:`pinnkit.equations.Problem`.
        n_domain: interior collocation points.
        n_boundary: points per boundary condition; ``n_initial``: points for the initial condition.
        method: ``"sobol"``, ``"lhs"`` or ``"uniform"``.
        resample_every: draw new points every ``k`` steps (0: never).
        seed: base seed; round ``r`` uses streams derived from ``(seed, r)``.
        adaptive: ``None``, a :class:`RAD` strategy, or the shortcut ``"rad"`` (``RAD(every=resample_every,
            pool_factor=pool_factor, k=rad_k, c=rad_c)``) — residual-based adaptive distribution (Wu, Zhu,
            Tan, Kartha & Lu 2023, CMAME 403, eq. 2): from round 1 on, the interior points are ``n_domain``
            points drawn without replacement from a pool of ``pool_factor · n_domain`` candidates with
            probability ``p(x) ∝ |R(x)|^k / mean|R|^k + c`` (``|R|`` the Euclidean norm of the residual
            vector); the caller passes the residual function to :meth:`draw`. A :class:`RAD` sets
            ``resample_every`` to its ``every``.
    """

    def __init__(
        self,
        problem,
        n_domain: int = 2000,
        n_boundary: int = 200,
        n_initial: int = 200,
        method: str = "sobol",
        resample_every: int = 0,
        seed: int = 0,
        adaptive: Union[None, str, RAD] = None,
        pool_factor: int = 10,
        rad_k: float = 1.0,
        rad_c: float = 1.0,
    ) -> None:
        self.problem = problem
        self.n_domain = check_int("n_domain", n_domain, 1)
        self.n_boundary = check_int("n_boundary", n_boundary, 1)
        self.n_initial = check_int("n_initial", n_initial, 1)
        self.method = check_choice("method", method, METHODS)
        resample_every = check_int("resample_every", resample_every, 0)
        self.seed = check_int("seed", seed, 0)
        #: the adaptive strategy (None: the plain design every round)
        self.strategy = adaptive_strategy(adaptive, resample_every, pool_factor, rad_k, rad_c)
        self.resample_every = self.strategy.every if self.strategy is not None else resample_every
        self.adaptive = self.strategy.name if self.strategy is not None else None
        self._rad = self.strategy or RAD(max(resample_every, 1), pool_factor, rad_k, rad_c).validate()
        self.pool_factor, self.rad_k, self.rad_c = self._rad.pool_factor, self._rad.k, self._rad.c

    def round_of(self, step: int) -> int:
        return step // self.resample_every if self.resample_every else 0

    def _seed(self, round_: int, stream: int) -> int:
        return int(np.random.SeedSequence([self.seed, round_, stream]).generate_state(1)[0])

    def draw(
        self,
        round_: int = 0,
        dtype: torch.dtype = torch.float32,
        device: Union[str, torch.device] = "cpu",
        residual: Optional[Callable[[Tensor], Tensor]] = None,
        group: Optional[distributed.Group] = None,
    ) -> Batch:
        """The points of resampling round ``round_``; with ``adaptive="rad"`` and a ``residual`` function
        (points ``(N, D)`` → residual ``(N,)`` or ``(N, k)``) the interior points follow the RAD density.

        With a process ``group`` (:mod:`pinnkit.distributed`) every rank draws the round's design from the
        shared seed and keeps its contiguous block of each point set (:func:`~pinnkit.distributed.shard_range`),
        so the shards together are exactly the one-process points; ``Batch.shares`` holds this rank's fraction
        of each term's points. RAD evaluates the residual of its pool block by block, one block per rank."""
        p = self.problem
        if self.strategy is not None and residual is not None and round_ > 0:
            dom = self._rad_points(round_, residual, dtype, device, group)
        else:
            dom = domain_points(p, self.n_domain, self.method, self._seed(round_, 0))
        keep = (
            (lambda a: a)
            if group is None
            else (lambda a: a[slice(*distributed.shard_range(len(a), group.rank, group.world_size))])
        )
        shares = {"pde": len(keep(dom)) / len(dom)}
        conds, normals = {}, {}
        for j, c in enumerate(p.conditions(), start=1):
            pts = condition_points(p, c, self.n_boundary, self.n_initial, self.method, self._seed(round_, j))
            mine = keep(pts)
            shares[c.name] = len(mine) / len(pts)
            conds[c.name] = torch.as_tensor(mine, dtype=dtype, device=device)
            if getattr(c, "needs_normals", False):
                nrm = p.spatial_domain.normals(mine[:, : p.spatial_dim])
                normals[c.name] = torch.as_tensor(nrm, dtype=dtype, device=device)
        return Batch(torch.as_tensor(keep(dom), dtype=dtype, device=device), conds, normals, shares)

    def rad_probabilities(self, r: np.ndarray) -> np.ndarray:
        """``p_i ∝ |r_i|^k / mean|r|^k + c`` normalised to sum 1 (uniform when the residual vanishes)."""
        return self._rad.probabilities(r)

    def _rad_points(
        self,
        round_: int,
        residual: Callable[[Tensor], Tensor],
        dtype,
        device,
        group: Optional[distributed.Group] = None,
    ) -> np.ndarray:
        p = self.problem
        pool = domain_points(p, self.n_domain * self.pool_factor, self.method, self._seed(round_, 100))
        lo, hi = (0, len(pool)) if group is None else distributed.shard_range(len(pool), group.rank, group.world_size)
        chunks = []
        for start in range(lo, hi, 8192):
            x = torch.as_tensor(pool[start : min(start + 8192, hi)], dtype=dtype, device=device)
            r = residual(x).detach()
            chunks.append(r.reshape(len(x), -1).norm(dim=1).double())
        r_all = distributed.all_gather_rows(torch.cat(chunks), group)
        prob = self.rad_probabilities(r_all.cpu().numpy())
        rng = np.random.default_rng(self._seed(round_, 101))
        idx = rng.choice(len(pool), size=self.n_domain, replace=False, p=prob)
        return pool[np.sort(idx)]


def evaluation_points(problem, n: int = 20000, seed: int = 12345) -> np.ndarray:
    """Held-out points for error measurement. On a domain other than a box, Sobol points of the domain (at 11
    times when unsteady). On a box: a tensor-product grid when ``D ≤ 3`` (about ``n`` points,
    endpoints included), else ``n`` Sobol points from a stream no training round uses — for unsteady
    problems whose pressure is fixed up to a function of time, Sobol points in space repeated at 11 times,
    so the pressure mean can be removed per time level."""
    D = problem.input_dim
    lo, hi = problem.input_lower, problem.input_upper
    if not problem.on_box:  # Sobol points of the domain (a stream no training round uses), × 11 times
        held_out = seed + 10_000_019
        if not problem.time_dependent:
            return problem.domain.interior_points(n, "sobol", held_out)
        n_t = 11
        space = problem.domain.interior_points(max(n // n_t, 8), "sobol", held_out)
        times = np.linspace(lo[-1], hi[-1], n_t)
        return np.concatenate([np.column_stack([space, np.full(len(space), t)]) for t in times], axis=0)
    if D > 3 and problem.time_dependent and getattr(problem, "pressure_gauge", None) == "mean":
        # a pressure fixed up to a function of t is compared per time level: Sobol in space × 11 times
        n_t = 11
        space = _scale(unit_cube(max(n // n_t, 8), D - 1, "sobol", seed + 10_000_019), lo[:-1], hi[:-1])
        times = np.linspace(lo[-1], hi[-1], n_t)
        return np.concatenate([np.column_stack([space, np.full(len(space), t)]) for t in times], axis=0)
    if D <= 3:
        k = max(2, int(round(n ** (1.0 / D))))
        axes = [np.linspace(a, b, k) for a, b in zip(lo, hi)]
        return np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
    return _scale(unit_cube(n, D, "sobol", seed + 10_000_019), lo, hi)
