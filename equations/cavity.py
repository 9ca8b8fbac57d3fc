"""Steady 2-D lid-driven cavity as a :class:`Problem`, with our finite-difference reference as ground truth.

Incompressible Navier–Stokes (``ρ = 1``, ``ν = 1/Re``) on ``[0, 1]²``, outputs ``(u, v, p)``:

    ``(u·∇)u + ∇p − ν Δu = 0``,   ``∇·u = 0``,

with no-slip walls at ``x = 0``, ``x = 1``, ``y = 0`` and the lid ``y = 1`` sliding in ``+x`` at speed
``u_lid(x)`` (``v = 0`` there). Two lid profiles, the same two that the reference solver
(:func:`pinnkit.equations.reference.cavity.solve_cavity`) supports:

* ``lid="regularised"`` (default; ``"regularized"`` is accepted too): ``u_lid = 16 x² (1 − x)²``, peak 1 at
  ``x = ½``. It vanishes together with its slope at both top corners, so the velocity is continuous on the
  boundary and the pressure and vorticity stay bounded. This is the usual way to remove the corner
  singularity of the classic cavity, and the one a PINN can fit (a smooth net cannot jump from 0 to 1).
* ``lid="uniform"``: ``u_lid = 1`` (Ghia, Ghia & Shin 1982, J. Comput. Phys. 48). The velocity jumps at
  the two top corners, and ``p`` and ``ω`` are unbounded there (``p ~ 1/r``).

There is no closed form: :meth:`LidDrivenCavity.exact` interpolates the converged second-order solution of
our stream-function–vorticity Newton solver (``n × n`` grid, default ``n = 129``, Ghia's grid; ~1 s at
``Re = 100``) with bicubic not-a-knot splines, evaluated by differentiable torch code (so the residual of
the interpolated reference can be formed by the same derivative engines as a network's). Each reference
is computed once per ``(Re, lid, n)`` and kept in memory; with ``cache_dir`` it is also stored as ``.npz``
under the sha256 of its configuration (which includes a hash of the solver source) and read back later.

The pressure is fixed only up to a constant (``pressure_gauge = "mean"``); the reference has zero mean.
"""

from __future__ import annotations

import hashlib
import numbers
import os
import warnings
from pathlib import Path
from typing import Dict, List, Tuple, Union

import numpy as np
import torch
from scipy.interpolate import RectBivariateSpline
from torch import Tensor

from .base import Condition, DirichletBC, Face
from .navier_stokes import IncompressibleNS
from .reference import cavity as _ref
from .reference.npz_cache import config_hash, load_npz, save_npz

__all__ = ["LidDrivenCavity", "cavity_reference", "CAVITY_LIDS", "TESTED_REYNOLDS", "clear_reference_cache"]

#: lid profiles (canonical names); "regularized" is an accepted spelling of "regularised"
CAVITY_LIDS = ("regularised", "uniform")
#: Reynolds numbers at which the reference solver is validated against Ghia et al. (1982)
TESTED_REYNOLDS = (100.0, 400.0, 1000.0)
RE_MAX = 5000.0  # the reference solver's limit
_ALIASES = {"regularised": "regularised", "regularized": "regularised", "uniform": "uniform"}
_SOLVER_LID = {"regularised": "regularized", "uniform": "uniform"}
_FIELDS = ("u", "v", "p")
_CACHED = ("x", "y", "u", "v", "p", "psi", "omega", "meta")  # the arrays of a cache entry

_MEMORY: Dict[Tuple[float, str, int], "_Reference"] = {}


def canonical_lid(lid: object) -> str:
    """``"regularised"`` or ``"uniform"``; ``"regularized"`` maps to ``"regularised"``."""
    if not isinstance(lid, str) or lid.lower() not in _ALIASES:
        raise ValueError(f"lid must be one of {CAVITY_LIDS} ('regularized' also accepted); got {lid!r}")
    return _ALIASES[lid.lower()]


def lid_speed(x: Tensor, lid: str) -> Tensor:
    """``u(x, 1)`` as torch: ``16 x²(1 − x)²`` (regularised) or 1 on ``0 < x < 1`` and 0 at the corner points
    (uniform) — the same profiles as :func:`reference.cavity.lid_velocity`."""
    lid = canonical_lid(lid)
    if lid == "regularised":
        return 16.0 * x**2 * (1.0 - x) ** 2
    return torch.where((x > 0.0) & (x < 1.0), torch.ones_like(x), torch.zeros_like(x))


# =========================================================================== differentiable bicubic spline
class _TorchSpline2D:
    """Tensor-product cubic B-spline ``s(x, y) = Σ_ab c_ab B_a(x) B_b(y)`` for several fields at once,
    built from scipy's interpolating :class:`RectBivariateSpline` knots and coefficients, evaluated with
    torch ops (the de Boor–Cox recursion, Piegl & Tiller, *The NURBS Book*, alg. A2.2) so that autograd and
    ``torch.func`` differentiate it in ``x`` and ``y``. Outside ``[0, 1]²`` the end pieces extrapolate."""

    def __init__(self, x: np.ndarray, y: np.ndarray, fields: List[np.ndarray]) -> None:
        tx = ty = None
        coefs = []
        for f in fields:
            spl = RectBivariateSpline(x, y, f, kx=3, ky=3, s=0)
            tx, ty, c = spl.get_knots()[0], spl.get_knots()[1], spl.get_coeffs()
            coefs.append(c.reshape(len(tx) - 4, len(ty) - 4))
        self.tx = torch.as_tensor(tx, dtype=torch.float64)
        self.ty = torch.as_tensor(ty, dtype=torch.float64)
        self.coef = torch.as_tensor(np.stack(coefs, axis=-1), dtype=torch.float64)  # (nx, ny, m)
        self._cast: Dict[Tuple[torch.dtype, torch.device], Tuple[Tensor, Tensor, Tensor]] = {}

    def _tensors(self, like: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        key = (like.dtype, like.device)
        if key not in self._cast:
            self._cast[key] = tuple(t.to(dtype=like.dtype, device=like.device) for t in (self.tx, self.ty, self.coef))
        return self._cast[key]

    @staticmethod
    def _basis(t: Tensor, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Span index ``k`` (``t_k ≤ x < t_{k+1}``, clamped to the valid range) and the four nonzero cubic
        basis values ``B_{k−3+r}(x)``, ``r = 0…3``, shape ``(N, 4)``."""
        nt = t.shape[0]
        with torch.no_grad():
            k = torch.searchsorted(t, x.detach().contiguous(), right=True) - 1
            k = k.clamp(3, nt - 5)
        left = [None] + [x - t[k + 1 - j] for j in (1, 2, 3)]
        right = [None] + [t[k + j] - x for j in (1, 2, 3)]
        N = [torch.ones_like(x)]
        for j in (1, 2, 3):
            saved = torch.zeros_like(x)
            new = []
            for r in range(j):
                temp = N[r] / (right[r + 1] + left[j - r])
                new.append(saved + right[r + 1] * temp)
                saved = left[j - r] * temp
            N = new + [saved]
        return k, torch.stack(N, dim=1)

    def __call__(self, pts: Tensor) -> Tensor:
        """Field values at ``pts`` (``(N, 2)``), shape ``(N, m)``, in the dtype of ``pts``."""
        tx, ty, coef = self._tensors(pts)
        kx, bx = self._basis(tx, pts[:, 0])
        ky, by = self._basis(ty, pts[:, 1])
        offs = torch.arange(4, device=pts.device)
        ix = (kx - 3).unsqueeze(1) + offs  # (N, 4)
        iy = (ky - 3).unsqueeze(1) + offs
        c = coef[ix.unsqueeze(2), iy.unsqueeze(1)]  # (N, 4, 4, m)
        return torch.einsum("na,nb,nabm->nm", bx, by, c)


class _Reference:
    """A converged cavity solution (grid arrays) and its differentiable interpolant."""

    def __init__(self, arrays: Dict[str, np.ndarray], info: dict) -> None:
        self.arrays = arrays
        self.info = info
        self.spline = _TorchSpline2D(arrays["x"], arrays["y"], [arrays[k] for k in _FIELDS])


# =========================================================================== reference and cache
def _solver_fingerprint() -> str:
    """sha256 (first 16 hex digits) of the reference solver's source: a changed solver invalidates the cache."""
    return hashlib.sha256(Path(_ref.__file__).read_bytes()).hexdigest()[:16]


def _config(re: float, lid: str, n: int, tol: float) -> dict:
    return {
        "kind": "lid-driven-cavity",
        "re": float(re),
        "lid": lid,
        "n": int(n),
        "tol": float(tol),
        "solver": _solver_fingerprint(),
    }


def cache_path(
    cache_dir: Union[str, os.PathLike], re: float, lid: str = "regularised", n: int = 129, tol: float = 1e-10
) -> Path:
    """Where :func:`cavity_reference` stores ``(re, lid, n)``: ``cache_dir/cavity-<sha256 of the config>.npz``."""
    cfg = _config(re, canonical_lid(lid), n, tol)
    return Path(cache_dir) / f"cavity-{config_hash(cfg)}.npz"


def cavity_reference(
    re: float = 100.0,
    lid: str = "regularised",
    n: int = 129,
    tol: float = 1e-10,
    cache_dir: Union[str, os.PathLike, None] = None,
) -> Dict[str, np.ndarray]:
    """The converged reference solution as grid arrays ``x, y`` (``(n,)``) and ``u, v, p, psi, omega``
    (``(n, n)``, index ``[i, j]`` = point ``(x_i, y_j)``), plus ``meta = [iterations, residual]``.

    Memoised per ``(re, lid, n, tol)`` in this process; with ``cache_dir`` also read from / written to
    :func:`cache_path`. Arguments are validated by :func:`reference.cavity.solve_cavity`.
    """
    return _get_reference(re, lid, n, tol, cache_dir).arrays


def _get_reference(
    re: float, lid: str, n: int, tol: float = 1e-10, cache_dir: Union[str, os.PathLike, None] = None
) -> _Reference:
    lid = canonical_lid(lid)
    key = (float(re), lid, int(n), float(tol))
    ref = _MEMORY.get(key)
    if ref is not None:
        return ref
    cfg = _config(re, lid, n, tol)
    path = cache_path(cache_dir, re, lid, n, tol) if cache_dir is not None else None
    loaded = load_npz(path, cfg, _CACHED) if path is not None else None
    arrays = loaded[0] if loaded is not None else None
    if arrays is None:
        sol = _ref.solve_cavity(re=float(re), n=int(n), lid=_SOLVER_LID[lid], tol=tol)
        arrays = {k: getattr(sol, k) for k in ("x", "y", "u", "v", "p", "psi", "omega")}
        arrays["meta"] = np.array([float(sol.iterations), sol.residual])
        if path is not None:
            save_npz(path, arrays, cfg)
    ref = _Reference(arrays, {"config": cfg, "cache_path": str(path) if path is not None else None})
    _MEMORY[key] = ref
    return ref


def clear_reference_cache() -> None:
    """Forget the in-memory references (the disk cache is left alone)."""
    _MEMORY.clear()


# =========================================================================== the problem
class LidDrivenCavity(IncompressibleNS):
    """Lid-driven cavity: steady 2-D Navier–Stokes on ``[0, 1]²``, lid ``y = 1`` moving in ``+x``.

    Outputs ``(u, v, p)``; ``ν = 1/Re``. Conditions: ``"lid"`` — ``u = u_lid(x)``, ``v = 0`` on ``y = 1``
    (``u_lid = 16x²(1−x)²`` for ``lid="regularised"``, the default, which removes the corner singularity;
    ``1`` for ``lid="uniform"``); ``"walls"`` — ``u = v = 0`` on ``x = 0``, ``x = 1``, ``y = 0``. No closed form:
    :meth:`exact` interpolates our finite-difference reference (module docstring), computed on first use.

    Args:
        re: Reynolds number in ``(0, 5000]`` (default 100). The reference is validated against Ghia et al.
            at 100, 400 and 1000; above 1000 a warning says the default grid may be too coarse.
        lid: ``"regularised"`` (default) or ``"uniform"``.
        n_reference: reference grid points per side, integer in ``[9, 513]`` (default 129; error ``O(h²)``).
        cache_dir: optional directory for the on-disk reference cache (default: memory only).
    """

    PARAMETERS = {
        "re": (100.0, "Reynolds number in (0, 5000]; reference validated at 100, 400, 1000"),
        "lid": ("regularised", "lid profile: regularised (16x²(1−x)²) or uniform (1)"),
        "n_reference": (129, "reference solver grid points per side, 9…513"),
    }

    def __init__(
        self,
        re: float = 100.0,
        lid: str = "regularised",
        n_reference: int = 129,
        cache_dir: Union[str, os.PathLike, None] = None,
    ) -> None:
        ok = (
            isinstance(re, numbers.Real)
            and not isinstance(re, (bool, np.bool_))
            and 0 < re <= RE_MAX  # compared as a number first: an int such as 10**400 is no float
            and np.isfinite(float(re))
        )
        if not ok:
            raise ValueError(f"re must be a number in (0, {RE_MAX:g}] (validated at 100, 400, 1000); got {re!r}")
        re = float(re)
        if re > max(TESTED_REYNOLDS):
            warnings.warn(
                f"re = {re:g} is beyond the tested range (100, 400, 1000): the reference on "
                f"n_reference = {n_reference} points may be under-resolved (use ≥ 257)",
                UserWarning,
                stacklevel=2,
            )
        lid = canonical_lid(lid)
        if (
            isinstance(n_reference, bool)
            or not isinstance(n_reference, (int, np.integer))
            or not _ref.N_MIN <= n_reference <= _ref.N_MAX
        ):
            raise ValueError(f"n_reference must be an integer in [{_ref.N_MIN}, {_ref.N_MAX}]; got {n_reference!r}")
        super().__init__(
            "cavity", 2, 1.0 / re, (0.0, 0.0), (1.0, 1.0), None, {"re": re, "lid": lid, "n_reference": int(n_reference)}
        )
        self.re, self.lid, self.n_reference = re, lid, int(n_reference)
        self.cache_dir = cache_dir

    # ------------------------------------------------------------------ boundary data
    def lid_velocity(self, x: Tensor) -> Tensor:
        """``(u_lid(x₁), 0)`` at points ``x`` on the lid, shape ``(N, 2)``."""
        u = lid_speed(x[:, 0], self.lid)
        return torch.stack([u, torch.zeros_like(u)], dim=1)

    @staticmethod
    def wall_velocity(x: Tensor) -> Tensor:
        """``(0, 0)``: no slip, shape ``(N, 2)``."""
        return torch.zeros(x.shape[0], 2, dtype=x.dtype, device=x.device)

    def conditions(self) -> List[Condition]:
        comps = list(self.velocity_components)
        walls = (Face(0, 0), Face(0, 1), Face(1, 0))
        return [
            DirichletBC("lid", target=self.lid_velocity, faces=(Face(1, 1),), components=comps),
            DirichletBC("walls", target=self.wall_velocity, faces=walls, components=comps),
        ]

    # ------------------------------------------------------------------ reference
    @property
    def solution(self) -> Dict[str, np.ndarray]:
        """The reference's grid arrays (:func:`cavity_reference`), computed on first use."""
        return self._reference().arrays

    def _reference(self) -> _Reference:
        return _get_reference(self.re, self.lid, self.n_reference, cache_dir=self.cache_dir)

    def exact(self, x: Tensor) -> Tensor:
        """``(u, v, p)`` of the reference at ``x`` (``(N, 2)``) by bicubic spline interpolation, shape
        ``(N, 3)``, in ``x``'s dtype; differentiable in ``x`` (piecewise cubic, ``C²``)."""
        return self._reference().spline(x)

    def velocity(self, x: Tensor) -> Tensor:
        return self.exact(x)[:, :2]

    def pressure(self, x: Tensor) -> Tensor:
        return self.exact(x)[:, 2:]
