"""Spatial domains: the native box and any DeepXDE geometry.

A :class:`Domain` answers what the sampler, the conditions and the evaluation need of a spatial domain ``Ω``:
its bounding box, membership, points inside it and on its boundary (reproducible from a seed), and the unit
outward normal on the boundary. :class:`Box` is pinnkit's fast path; :class:`Geometry` wraps any
``deepxde.geometry`` object (Interval, Rectangle, Polygon, Triangle, Disk, Ellipse, StarShaped, Cuboid, Sphere,
Hypercube, Hypersphere, CSG union/difference/intersection, PointCloud).

DeepXDE is imported only when a DeepXDE geometry is built (:func:`deepxde_geometry`), and torch's global
state is left as it was: with the PyTorch backend, ``import deepxde`` moves torch's default device to CUDA
where a GPU exists (``deepxde/backend/pytorch/tensor.py``); the default device and dtype are restored.
DeepXDE's samplers draw from NumPy's global generator in its default float type; pinnkit draws them in
float64 with the global generator seeded from the call's seed and restored afterwards, so nothing outside
sees a difference and every draw is a pure function of the seed.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from typing import Any, Callable, Dict, Iterator, Optional, Sequence, Tuple

import numpy as np

__all__ = ["Domain", "Box", "Geometry", "make", "deepxde_geometry", "as_domain", "problem_geometry"]

#: where a boundary point may lie off the boundary and still count as on it (relative to the domain's size)
BOUNDARY_TOL = 1e-9


def _unit_cube(n: int, dim: int, method: str, seed: int) -> np.ndarray:
    from pinnkit.sampling import unit_cube  # the engine's one source of design points

    return unit_cube(n, dim, method, seed)


class Domain:
    """A closed spatial domain ``Ω ⊂ R^d`` (subclasses: :class:`Box`, :class:`Geometry`)."""

    dim: int

    def bounds(self) -> Tuple[Tuple[float, ...], Tuple[float, ...]]:
        """The bounding box ``(lower, upper)``."""
        raise NotImplementedError

    def inside(self, x: np.ndarray) -> np.ndarray:
        """``x ∈ Ω`` (boundary included), ``(N,)`` booleans for ``x`` of shape ``(N, d)``."""
        raise NotImplementedError

    def on_boundary(self, x: np.ndarray) -> np.ndarray:
        """``x ∈ ∂Ω`` (to :data:`BOUNDARY_TOL` of the domain's size), ``(N,)`` booleans."""
        raise NotImplementedError

    def interior_points(self, n: int, method: str, seed: int) -> np.ndarray:
        """``n`` points of ``Ω``, ``(n, d)``; ``method`` one of ``"sobol"``, ``"lhs"``, ``"uniform"``."""
        raise NotImplementedError

    def boundary_points(self, n: int, method: str, seed: int) -> np.ndarray:
        """``n`` points of ``∂Ω``, ``(n, d)``, spread by boundary measure."""
        raise NotImplementedError

    def normals(self, x: np.ndarray) -> np.ndarray:
        """Unit outward normals at boundary points ``x``, ``(N, d)``."""
        raise NotImplementedError

    @property
    def is_box(self) -> bool:
        return False

    def describe(self) -> str:
        return type(self).__name__


class Box(Domain):
    """The axis-aligned box ``[lower, upper]`` (pinnkit's native domain)."""

    def __init__(self, lower: Sequence[float], upper: Sequence[float]) -> None:
        lo, hi = tuple(float(v) for v in lower), tuple(float(v) for v in upper)
        if len(lo) != len(hi) or not lo:
            raise ValueError(f"lower and upper must have the same positive length, got {len(lo)} and {len(hi)}")
        if not all(a < b for a, b in zip(lo, hi)):
            raise ValueError(f"lower must be below upper in every coordinate, got {lo} and {hi}")
        self.lower, self.upper, self.dim = lo, hi, len(lo)

    @property
    def is_box(self) -> bool:
        return True

    def bounds(self):
        return self.lower, self.upper

    def _scale(self) -> float:
        return max(b - a for a, b in zip(self.lower, self.upper))

    def inside(self, x):
        x = np.asarray(x, float)
        tol = BOUNDARY_TOL * self._scale()
        return np.all((x >= np.array(self.lower) - tol) & (x <= np.array(self.upper) + tol), axis=1)

    def on_boundary(self, x):
        x = np.asarray(x, float)
        tol = BOUNDARY_TOL * self._scale()
        near = np.isclose(x, self.lower, rtol=0, atol=tol) | np.isclose(x, self.upper, rtol=0, atol=tol)
        return self.inside(x) & near.any(axis=1)

    def interior_points(self, n, method, seed):
        lo, hi = np.array(self.lower), np.array(self.upper)
        return lo + _unit_cube(n, self.dim, method, seed) * (hi - lo)

    def boundary_points(self, n, method, seed):
        from pinnkit.sampling import split_counts

        lo, hi = np.array(self.lower), np.array(self.upper)
        if self.dim == 1:
            counts = split_counts(n, [1.0, 1.0])
            return np.concatenate([np.full((counts[0], 1), lo[0]), np.full((counts[1], 1), hi[0])])
        measures = [np.prod(np.delete(hi - lo, k)) for k in range(self.dim) for _ in (0, 1)]
        parts = []
        for j, m in enumerate(split_counts(n, measures)):
            k, side = divmod(j, 2)
            pts = lo + _unit_cube(m, self.dim, method, seed * 7919 + j) * (hi - lo)
            pts[:, k] = hi[k] if side else lo[k]
            parts.append(pts)
        return np.concatenate(parts)

    def normals(self, x):
        x = np.asarray(x, float)
        lo, hi = np.array(self.lower), np.array(self.upper)
        dist = np.concatenate([x - lo, hi - x], axis=1)  # (N, 2d): distance to each face
        face = dist.argmin(axis=1)
        out = np.zeros_like(x)
        k = face % self.dim
        out[np.arange(len(x)), k] = np.where(face >= self.dim, 1.0, -1.0)
        return out

    def describe(self):
        return " × ".join(f"[{a:g}, {b:g}]" for a, b in zip(self.lower, self.upper))


# =========================================================================== DeepXDE
def deepxde_geometry():
    """``deepxde.geometry``, imported on first use with the PyTorch backend (unless ``DDE_BACKEND`` says
    otherwise), leaving torch's default device and dtype as they were."""
    import torch

    def device_context():  # the global default-device setting itself (asking for the device would allocate)
        return getattr(getattr(torch, "_GLOBAL_DEVICE_CONTEXT", None), "device_context", None)

    context, dtype = device_context(), torch.get_default_dtype()
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
        import deepxde.geometry as geometry
    if device_context() is not context:  # DeepXDE chose CUDA (or MPS) for everyone
        torch.set_default_device(None if context is None else context.device)
    if torch.get_default_dtype() != dtype:
        torch.set_default_dtype(dtype)
    return geometry


@contextlib.contextmanager
def _float64() -> Iterator[None]:
    """DeepXDE's arrays (and its ``isclose`` tolerance, 1e-8 in float64) in float64; the setting restored."""
    from deepxde import config

    precision = config.real.precision
    config.real.set_float64()
    try:
        with warnings.catch_warnings():  # NumPy 2 deprecations inside DeepXDE's 2-D geometry code
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        {16: config.real.set_float16, 32: config.real.set_float32, 64: config.real.set_float64}[precision]()


@contextlib.contextmanager
def _deepxde_draw(seed: int) -> Iterator[None]:
    """DeepXDE's samplers in float64 and from NumPy's global generator seeded with ``seed``; both restored."""
    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        with _float64():
            yield
    finally:
        np.random.set_state(state)


def make(kind: str, *args: Any, **kwargs: Any) -> "Geometry":
    """``deepxde.geometry.<kind>(*args, **kwargs)`` built in float64 (so vertices, centres and radii are the
    numbers given, not their float32 roundings) and wrapped as a :class:`Geometry`. ``kind``: Interval,
    Rectangle, Polygon, Triangle, Disk, Ellipse, StarShaped, Cuboid, Sphere, Hypercube, Hypersphere,
    PointCloud. Combine with ``|`` (union), ``-`` (difference) and ``&`` (intersection)."""
    g = deepxde_geometry()
    kinds = [
        k
        for k in getattr(g, "__all__", dir(g))
        if k[:1].isupper()
        and k not in ("CSGUnion", "CSGDifference", "CSGIntersection", "GeometryXTime", "TimeDomain", "Geometry")
    ]
    if kind not in kinds:
        raise ValueError(f"geometry kind must be one of {sorted(kinds)}, got {kind!r}")
    with _float64():
        return Geometry(getattr(g, kind)(*args, **kwargs))


_DDE_METHOD = {"uniform": "pseudo", "lhs": "LHS", "sobol": "pseudo"}


class Geometry(Domain):
    """A DeepXDE geometry as a pinnkit domain.

    Interior points: rejection from the bounding box with pinnkit's seeded design (scrambled Sobol, Latin
    hypercube or uniform), so they are quasi-random where asked; a PointCloud gives its own points.
    Boundary points: the geometry's own boundary sampler (uniform by boundary measure; Latin hypercube for
    ``"lhs"``), seeded. Normals: ``boundary_normal`` of the geometry, normalised.
    """

    def __init__(self, geom: Any) -> None:
        need = ("dim", "bbox", "inside", "on_boundary", "boundary_normal", "random_boundary_points")
        missing = [a for a in need if not hasattr(geom, a)]
        if missing:
            raise ValueError(
                f"geometry must be a deepxde.geometry object (with {', '.join(need)}); "
                f"{type(geom).__name__} lacks {missing}"
            )
        self.geom = geom
        self.dim = int(geom.dim)
        lo, hi = (np.asarray(b, float).reshape(-1) for b in geom.bbox)
        self._lo, self._hi = tuple(lo.tolist()), tuple(hi.tolist())
        self._cloud = hasattr(geom, "num_points") and hasattr(geom, "points")

    def __or__(self, other: "Geometry") -> "Geometry":
        with _float64():
            return Geometry(self.geom | as_domain(other).geom)

    def __sub__(self, other: "Geometry") -> "Geometry":
        with _float64():
            return Geometry(self.geom - as_domain(other).geom)

    def __and__(self, other: "Geometry") -> "Geometry":
        with _float64():
            return Geometry(self.geom & as_domain(other).geom)

    def bounds(self):
        return self._lo, self._hi

    def inside(self, x):
        with _float64():
            return np.asarray(self.geom.inside(np.asarray(x, float)), bool).reshape(-1)

    def on_boundary(self, x):
        with _float64():
            return np.asarray(self.geom.on_boundary(np.asarray(x, float)), bool).reshape(-1)

    def interior_points(self, n, method, seed):
        if self._cloud:
            pts = np.asarray(self.geom.points, float)
            rng = np.random.default_rng(seed)
            idx = rng.choice(len(pts), size=n, replace=n > len(pts))
            return pts[np.sort(idx)]
        lo, hi = np.array(self._lo), np.array(self._hi)
        out, got, round_ = [], 0, 0
        frac = 0.5  # the volume share of the bounding box, guessed, then taken from this call's first round
        while got < n:
            m = int(min(max(1.3 * (n - got) / frac, 64), 4_000_000))
            cand = lo + _unit_cube(m, self.dim, method, seed + 104729 * round_) * (hi - lo)
            keep = self.inside(cand)
            if round_ == 0:
                frac = max(float(keep.mean()), 1e-6)
            out.append(cand[keep])
            got += int(keep.sum())
            round_ += 1
            if round_ > 50:
                raise ValueError(
                    f"the geometry {type(self.geom).__name__} has (nearly) no volume inside its bounding box: "
                    f"{got} of {n} interior points after {round_} rounds"
                )
        return np.concatenate(out)[:n]

    def boundary_points(self, n, method, seed):
        from pinnkit.validation import check_choice

        check_choice("sampling method", method, tuple(_DDE_METHOD))
        if self._cloud:
            if getattr(self.geom, "boundary_points", None) is None:
                raise ValueError("this PointCloud has no boundary_points, so boundary conditions cannot be sampled")
            pts = np.asarray(self.geom.boundary_points, float)
            idx = np.random.default_rng(seed).choice(len(pts), size=n, replace=n > len(pts))
            return pts[np.sort(idx)]
        with _deepxde_draw(seed):
            pts = np.asarray(self.geom.random_boundary_points(n, random=_DDE_METHOD[method]), float)
        return pts.reshape(n, self.dim)

    def normals(self, x):
        x = np.asarray(x, float)
        if type(self.geom).__name__ == "Ellipse":  # DeepXDE has no normal for it: ∇ of the quadratic form
            g = self.geom
            c, s = np.cos(g.angle), -np.sin(g.angle)  # DeepXDE turns the ellipse clockwise by angle
            rot = np.array([[c, -s], [s, c]])
            local = (x - np.asarray(g.center, float)) @ rot
            nrm = (local / np.array([g.semimajor**2, g.semiminor**2])) @ rot.T
        else:
            try:
                with _deepxde_draw(0):
                    nrm = np.asarray(self.geom.boundary_normal(x), float).reshape(len(x), self.dim)
            except NotImplementedError:
                raise ValueError(
                    f"the geometry {type(self.geom).__name__} gives no boundary normals, so a condition with "
                    "∂u/∂n (Neumann, Robin, an operator condition using normals) cannot be posed on it; "
                    "Dirichlet conditions and observations can"
                ) from None
        size = np.linalg.norm(nrm, axis=1, keepdims=True)
        return nrm / np.where(size > 0, size, 1.0)

    def distance_factor(self) -> Optional[Callable]:
        """``x ↦ φ(x)`` ``(N, 1)`` (torch, smooth), zero on ``∂Ω`` and positive inside, for the shapes with a
        closed form: balls ``(r² − |x − c|²)/(2r)``, ellipses ``(1 − q(x))·b/2`` with ``q`` the quadratic form,
        boxes ``Π_k (x_k − a_k)(b_k − x_k)/(b_k − a_k)``, triangles the product of the signed edge distances;
        None for the others (CSG, polygons, point clouds). Smooth, unlike a true distance, so that second
        derivatives of ``φ N`` exist everywhere (Sukumar & Srivastava 2022 use R-functions for the general
        case)."""
        import torch

        g, kind = self.geom, type(self.geom).__name__

        def tensor(v, like):
            return torch.as_tensor(np.asarray(v, float), dtype=like.dtype, device=like.device)

        if hasattr(g, "radius") and hasattr(g, "center"):  # Disk, Sphere, Hypersphere
            r = float(g.radius)
            return lambda x: (r * r - ((x - tensor(g.center, x)) ** 2).sum(1, keepdim=True)) / (2 * r)
        if kind == "Ellipse":
            c, s_ = math.cos(g.angle), -math.sin(g.angle)  # clockwise by angle, as DeepXDE turns it
            a, b = float(g.semimajor), float(g.semiminor)

            def ellipse(x):
                y = x - tensor(g.center, x)
                u, v = c * y[:, :1] + s_ * y[:, 1:2], -s_ * y[:, :1] + c * y[:, 1:2]
                return (1.0 - (u / a) ** 2 - (v / b) ** 2) * (b / 2)

            return ellipse
        if hasattr(g, "xmin") and hasattr(g, "xmax"):  # Rectangle, Cuboid, Hypercube
            lo, hi = np.asarray(g.xmin, float).reshape(-1), np.asarray(g.xmax, float).reshape(-1)
            return lambda x: ((x - tensor(lo, x)) * (tensor(hi, x) - x) / tensor(hi - lo, x)).prod(1, keepdim=True)
        if kind == "Interval":
            lo, hi = float(g.l), float(g.r)
            return lambda x: (x[:, :1] - lo) * (hi - x[:, :1]) / (hi - lo)
        if kind == "Triangle":
            pts = [np.asarray(p, float) for p in (g.x1, g.x2, g.x3)]
            edges = []
            for a, b, opp in ((pts[0], pts[1], pts[2]), (pts[1], pts[2], pts[0]), (pts[2], pts[0], pts[1])):
                nrm = np.array([b[1] - a[1], a[0] - b[0]]) / np.linalg.norm(b - a)
                if (opp - a) @ nrm < 0:
                    nrm = -nrm  # pointing inside
                edges.append((a, nrm))
            return lambda x: math.prod((x - tensor(a, x)) @ tensor(n, x)[:, None] for a, n in edges)
        return None

    def describe(self):
        return f"{type(self.geom).__name__} in {Box(self._lo, self._hi).describe()}"


def problem_geometry(domain: Domain) -> Dict[str, Any]:
    """The :class:`~pinnkit.equations.Problem` fields of a spatial domain: ``spatial_dim``, its bounding box as
    ``lower``/``upper``, and ``domain`` (None for a box, pinnkit's fast path)."""
    lower, upper = domain.bounds()
    return dict(
        spatial_dim=domain.dim,
        lower=tuple(lower),
        upper=tuple(upper),
        domain=None if domain.is_box else domain,
    )


def as_domain(domain: Any) -> Domain:
    """A :class:`Domain` as it is, or a DeepXDE geometry wrapped in :class:`Geometry`."""
    if isinstance(domain, Domain):
        return domain
    return Geometry(domain)
