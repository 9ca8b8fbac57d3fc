"""Steady 2-D lid-driven cavity: a Newton finite-difference reference solver.

Problem: incompressible Navier–Stokes with rho = 1, nu = 1/Re on [0, 1]^2; the lid y = 1 moves in +x
with speed u_lid(x), the other walls are at rest. Written in streamfunction–vorticity form
(u = psi_y, v = -psi_x, omega = v_x - u_y):

    Laplace(psi) = -omega,        Re (psi_y omega_x - psi_x omega_y) = Laplace(omega).

Discretisation: uniform n x n vertex grid (h = 1/(n-1)), second-order central differences for every
interior derivative; psi = 0 on the walls; wall vorticity from the second-order one-sided formula
(usually credited to Jensen, 1959) omega_w = -(8 psi_1 - psi_2)/(2 h^2) + 3 psi_s/h, where psi_1, psi_2
are the first two nodes inward and psi_s = d psi/d(inward normal) = -u_lid on the lid, 0 elsewhere; it
follows from Taylor-expanding psi off the wall with psi = 0 and omega_w = -psi_ss there (Thom's
first-order formula omega_w = -2 psi_1/h^2 + 2 psi_s/h is the usual alternative). The coupled nonlinear
system is solved with Newton's method (exact sparse Jacobian, scipy SuperLU direct solves) with
continuation in Re from 100 upward when Re > 100. Global order: 2 in h (measured in the tests: psi,
v and the centreline velocities); for the uniform lid the corner singularity spoils pointwise
convergence within a few cells of the two top corners (u jumps from 0 to 1 there, p and omega blow up).

Pressure (zero trapezoidal mean) is the least-squares fit of grad p = f, f = -(u . grad) u + nu (-omega_y,
omega_x), over the grid edges: a vertex-centred finite-volume Poisson problem with Neumann data f . n,
second order in h (measured ~1.9 at interior points).

Classic validation data: Ghia, Ghia & Shin (1982), J. Comput. Phys. 48, 387-411 (see ``ghia.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.interpolate import RectBivariateSpline

__all__ = ["CavitySolution", "solve_cavity", "lid_velocity", "N_MIN", "N_MAX", "LIDS"]

N_MIN = 9
N_MAX = 513
LIDS = ("uniform", "regularized")
_RE_MAX = 5000.0
_MAX_NEWTON = 30


# --------------------------------------------------------------------------------------------------
# Result container
# --------------------------------------------------------------------------------------------------
@dataclass(eq=False)
class CavitySolution:
    """Converged cavity solution on the grid ``x[i], y[j]``; every field has shape (n, n), index [i, j].

    ``psi`` streamfunction, ``omega`` vorticity v_x - u_y, ``p`` pressure with zero mean (trapezoidal
    rule), ``iterations`` total Newton iterations (all grid levels and continuation steps),
    ``residual`` final max-norm of the h^2-scaled discrete equations. Point evaluation uses bicubic
    not-a-knot splines through the grid values (O(h^4) interpolation error for smooth fields, so the
    O(h^2) discretisation error dominates); with the uniform lid the spline rings (< 1e-4) within ~6
    cells of the top corners, where u jumps, and the pressure/vorticity are singular there.
    """

    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    p: np.ndarray
    psi: np.ndarray
    omega: np.ndarray
    re: float
    n: int
    lid: str
    iterations: int
    residual: float
    _splines: dict = field(default_factory=dict, repr=False, compare=False)

    def _spline(self, name: str) -> RectBivariateSpline:
        """Bicubic interpolating spline (not-a-knot, s=0) of one grid field, built once."""
        if name not in self._splines:
            self._splines[name] = RectBivariateSpline(self.x, self.y, getattr(self, name), kx=3, ky=3, s=0)
        return self._splines[name]

    def _evaluate(self, name: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        xs, ys = _check_points(x, y)
        return self._spline(name).ev(xs.ravel(), ys.ravel()).reshape(xs.shape)

    def velocity(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(u, v) at points (x, y) in [0,1]^2 by bicubic spline interpolation (O(h^4) for smooth data)."""
        return self._evaluate("u", x, y), self._evaluate("v", x, y)

    def pressure(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Pressure at points (x, y) in [0,1]^2 by bicubic spline interpolation."""
        return self._evaluate("p", x, y)

    def streamfunction(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Streamfunction at points (x, y) in [0,1]^2 by bicubic spline interpolation."""
        return self._evaluate("psi", x, y)

    def vorticity(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Vorticity at points (x, y) in [0,1]^2 by bicubic spline interpolation."""
        return self._evaluate("omega", x, y)


def _check_points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    for name, arr in (("x", xs), ("y", ys)):
        if arr.size and (np.nanmin(arr) < -1e-12 or np.nanmax(arr) > 1 + 1e-12 or np.isnan(arr).any()):
            raise ValueError(f"{name} must lie in [0, 1] (the cavity); got values outside it")
    return np.clip(xs, 0.0, 1.0), np.clip(ys, 0.0, 1.0)


# --------------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------------
def lid_velocity(x: np.ndarray, lid: str = "uniform") -> np.ndarray:
    """Lid speed u(x, 1). "uniform": 1 on 0 < x < 1 and 0 at the corner points x = 0, 1 (the corners
    belong to the side walls); "regularized": 16 x^2 (1 - x)^2 (peak 1 at x = 1/2), which vanishes with its
    first derivative at the corners and so removes the corner singularity."""
    x = np.asarray(x, dtype=float)
    if lid == "uniform":
        return np.where((x > 0.0) & (x < 1.0), 1.0, 0.0)
    if lid == "regularized":
        return 16.0 * x**2 * (1.0 - x) ** 2
    raise ValueError(f"lid must be one of {LIDS}; got {lid!r}")


def solve_cavity(re: float = 100.0, n: int = 129, lid: str = "uniform", tol: float = 1e-10) -> CavitySolution:
    """Solve the steady lid-driven cavity at Reynolds number ``re`` on an n x n vertex grid.

    Parameters: ``re`` in (0, 5000]; ``n`` grid points per side, integer in [9, 513] (129 is Ghia's
    grid); ``lid`` "uniform" (u = 1) or "regularized" (u = 16 x^2 (1-x)^2); ``tol`` in (0, 1e-3]: Newton
    stops when the max-norm of the h^2-scaled residual is below it. Second order in h (module docstring).
    Cost on 2 CPU cores (measured): n = 129 about 1 s (Re 100), 2 s (400), 3-4 s (1000); n = 257 about
    9-15 s. Beyond Re ~ 1000 the central-difference solution needs n >= 257 to be accurate.
    Raises ValueError for bad arguments, RuntimeError if Newton continuation fails to converge.
    """
    re, n, tol = _validate(re, n, lid, tol)
    grid, z, total = _solve_on_grid(n, lid, re, tol)
    residual = float(np.max(np.abs(grid.residual(z, re))))
    return _assemble_solution(grid, z, re, lid, total, residual)


def _validate(re: float, n: int, lid: str, tol: float) -> tuple[float, int, float]:
    try:
        re_f = float(re)
    except (TypeError, ValueError):
        raise ValueError(f"re must be a number in (0, {_RE_MAX:g}]; got {re!r}") from None
    if not np.isfinite(re_f) or re_f <= 0.0 or re_f > _RE_MAX:
        raise ValueError(f"re must be in (0, {_RE_MAX:g}]; got {re!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not N_MIN <= n <= N_MAX:
        raise ValueError(f"n must be an integer in [{N_MIN}, {N_MAX}]; got {n!r}")
    if lid not in LIDS:
        raise ValueError(f"lid must be one of {LIDS}; got {lid!r}")
    try:
        tol_f = float(tol)
    except (TypeError, ValueError):
        raise ValueError(f"tol must be a number in (0, 1e-3]; got {tol!r}") from None
    if not np.isfinite(tol_f) or tol_f <= 0.0 or tol_f > 1e-3:
        raise ValueError(f"tol must be in (0, 1e-3]; got {tol!r}")
    return re_f, int(n), tol_f


def _solve_on_grid(n: int, lid: str, re: float, tol: float) -> tuple["_Grid", np.ndarray, int]:
    """Grid sequencing: for odd n > 65 solve on the (n+1)/2 grid first and start Newton at the target Re
    from its bicubic prolongation; otherwise (or if that Newton fails) continuation from rest."""
    grid = _Grid(n, lid)
    if n > 65 and n % 2 == 1:
        coarse, zc, total = _solve_on_grid((n + 1) // 2, lid, re, tol)
        z, its, ok = _newton(grid, re, _prolong(coarse, grid, zc), tol)
        if ok:
            return grid, z, total + its
        z, more = _continuation(grid, re, tol)
        return grid, z, total + its + more
    z, total = _continuation(grid, re, tol)
    return grid, z, total


def _prolong(coarse: "_Grid", fine: "_Grid", zc: np.ndarray) -> np.ndarray:
    """Bicubic-spline interpolation of (psi, omega) from a coarse grid onto a finer one."""
    nc = coarse.n
    parts = []
    for block in (zc[: nc * nc], zc[nc * nc :]):
        spline = RectBivariateSpline(coarse.x, coarse.x, block.reshape(nc, nc), kx=3, ky=3, s=0)
        parts.append(spline(fine.x, fine.x).ravel())
    return np.concatenate(parts)


def _continuation(grid: _Grid, re: float, tol: float) -> tuple[np.ndarray, int]:
    """Newton from rest at min(re, 100), then Re steps of factor <= 2.5, halved on failure."""
    z, current, total = np.zeros(2 * grid.n**2), 0.0, 0
    step = min(re, 100.0)
    while current < re:
        z_try, its, ok = _newton(grid, step, z, tol)
        total += its
        if ok:
            z, current = z_try, step
            step = min(re, 2.5 * current)
        elif current > 0.0 and step - current > 1.0:
            step = current + 0.5 * (step - current)
        else:
            raise RuntimeError(f"Newton failed to converge at Re = {step:g} (n = {grid.n})")
    return z, total


# --------------------------------------------------------------------------------------------------
# Discrete operators
# --------------------------------------------------------------------------------------------------
def _first_derivative(n: int, h: float, one_sided_ends: bool) -> sp.csr_matrix:
    """1-D first derivative: central (-1, 0, 1)/(2h) inside; second-order one-sided (-3, 4, -1)/(2h) at
    the two ends if ``one_sided_ends``, else zero rows there."""
    d = sp.diags([-np.ones(n - 1), np.ones(n - 1)], [-1, 1], shape=(n, n), format="lil") / (2 * h)
    d[0, :] = 0.0
    d[n - 1, :] = 0.0
    if one_sided_ends:
        d[0, :3] = np.array([-3.0, 4.0, -1.0]) / (2 * h)
        d[n - 1, n - 3 :] = np.array([1.0, -4.0, 3.0]) / (2 * h)
    return d.tocsr()


def _second_derivative(n: int, h: float) -> sp.csr_matrix:
    """1-D second derivative (1, -2, 1)/h^2 inside, zero rows at the ends."""
    d = sp.diags([np.ones(n - 1), -2 * np.ones(n), np.ones(n - 1)], [-1, 0, 1], shape=(n, n), format="lil")
    d[0, :] = 0.0
    d[n - 1, :] = 0.0
    return (d / h**2).tocsr()


class _Grid:
    """Operators and masks on the n x n vertex grid; unknowns z = [psi.ravel(), omega.ravel()] with
    flat index i * n + j (i along x, j along y)."""

    def __init__(self, n: int, lid: str) -> None:
        self.n, self.h = n, 1.0 / (n - 1)
        self.x = np.linspace(0.0, 1.0, n)
        eye = sp.identity(n, format="csr")
        d1, d2 = _first_derivative(n, self.h, False), _second_derivative(n, self.h)
        self.dx, self.dy = sp.kron(d1, eye, "csr"), sp.kron(eye, d1, "csr")
        self.lap = (sp.kron(d2, eye) + sp.kron(eye, d2)).tocsr()
        interior = np.zeros((n, n), bool)
        interior[1:-1, 1:-1] = True
        self.interior = interior.ravel()
        self.rows_in = sp.diags(self.interior.astype(float))
        self.rows_bd = sp.diags((~self.interior).astype(float))
        self.lid_u = lid_velocity(self.x, lid)
        self.wall_psi, self.wall_om, self.wall_rhs = self._wall_vorticity()

    def _wall_vorticity(self) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
        """Boundary rows ``W_om omega + W_psi psi = g``: Jensen's second-order formula
        omega_w + (8 psi_1 - psi_2)/(2h^2) = -3 u_lid/h (lid; 0 on the other walls); each corner takes the
        mean of its two wall neighbours (the corner value enters no interior stencil)."""
        n, h = self.n, self.h
        idx = lambda i, j: i * n + j  # noqa: E731
        psi_entries: list[tuple[int, int, float]] = []
        om_entries: list[tuple[int, int, float]] = []
        g = np.zeros(n * n)
        for k in range(1, n - 1):
            for b, i1, i2 in (
                (idx(0, k), idx(1, k), idx(2, k)),  # left wall
                (idx(n - 1, k), idx(n - 2, k), idx(n - 3, k)),  # right wall
                (idx(k, 0), idx(k, 1), idx(k, 2)),  # bottom wall
                (idx(k, n - 1), idx(k, n - 2), idx(k, n - 3)),  # lid
            ):
                om_entries.append((b, b, 1.0))
                psi_entries += [(b, i1, 4.0 / h**2), (b, i2, -0.5 / h**2)]
            g[idx(k, n - 1)] = -3.0 * self.lid_u[k] / h
        for c, a1, a2 in (
            (idx(0, 0), idx(1, 0), idx(0, 1)),
            (idx(n - 1, 0), idx(n - 2, 0), idx(n - 1, 1)),
            (idx(0, n - 1), idx(1, n - 1), idx(0, n - 2)),
            (idx(n - 1, n - 1), idx(n - 2, n - 1), idx(n - 1, n - 2)),
        ):
            om_entries += [(c, c, 1.0), (c, a1, -0.5), (c, a2, -0.5)]
        return _coo(psi_entries, n * n), _coo(om_entries, n * n), g

    def residual(self, z: np.ndarray, re: float) -> np.ndarray:
        """h^2-scaled residual of the discrete equations (interior PDEs, wall psi and wall vorticity)."""
        nn, h2 = self.n * self.n, self.h**2
        psi, om = z[:nn], z[nn:]
        r1 = np.where(self.interior, self.lap @ psi + om, psi)
        conv = (self.dy @ psi) * (self.dx @ om) - (self.dx @ psi) * (self.dy @ om)
        r2_in = re * conv - self.lap @ om
        r2_bd = self.wall_om @ om + self.wall_psi @ psi - self.wall_rhs
        r2 = np.where(self.interior, r2_in, r2_bd)
        return h2 * np.concatenate([r1, r2])

    def jacobian(self, z: np.ndarray, re: float) -> sp.csc_matrix:
        """Exact Jacobian of ``residual`` (same h^2 scaling)."""
        nn, h2 = self.n * self.n, self.h**2
        psi, om = z[:nn], z[nn:]
        j11 = self.rows_in @ self.lap + self.rows_bd
        j12 = self.rows_in
        conv_psi = sp.diags(self.dx @ om) @ self.dy - sp.diags(self.dy @ om) @ self.dx
        conv_om = sp.diags(self.dy @ psi) @ self.dx - sp.diags(self.dx @ psi) @ self.dy
        j21 = self.rows_in @ (re * conv_psi) + self.wall_psi
        j22 = self.rows_in @ (re * conv_om - self.lap) + self.wall_om
        return (h2 * sp.bmat([[j11, j12], [j21, j22]])).tocsc()


def _coo(entries: list[tuple[int, int, float]], size: int) -> sp.csr_matrix:
    rows, cols, vals = zip(*entries)
    return sp.csr_matrix((vals, (rows, cols)), shape=(size, size))


# --------------------------------------------------------------------------------------------------
# Newton iteration
# --------------------------------------------------------------------------------------------------
def _newton(grid: _Grid, re: float, z0: np.ndarray, tol: float) -> tuple[np.ndarray, int, bool]:
    """Undamped Newton from z0; returns (z, iterations, converged). Gives up when the residual grows
    10^4-fold or after _MAX_NEWTON steps (the caller then shortens the continuation step)."""
    z = z0.copy()
    r = grid.residual(z, re)
    r0 = max(float(np.max(np.abs(r))), tol)
    for it in range(1, _MAX_NEWTON + 1):
        z = z - spla.spsolve(grid.jacobian(z, re), r)
        r = grid.residual(z, re)
        res = float(np.max(np.abs(r)))
        if not np.isfinite(res) or res > 1e4 * r0:
            return z0, it, False
        if res < tol:
            return z, it, True
    return z0, _MAX_NEWTON, False


# --------------------------------------------------------------------------------------------------
# Post-processing: velocity and pressure
# --------------------------------------------------------------------------------------------------
def _velocity(grid: _Grid, psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """u = psi_y, v = -psi_x by central differences inside; wall values from the boundary conditions."""
    n = grid.n
    u = (grid.dy @ psi.ravel()).reshape(n, n)
    v = -(grid.dx @ psi.ravel()).reshape(n, n)
    for f in (u, v):
        f[0, :] = f[-1, :] = f[:, 0] = f[:, -1] = 0.0
    u[1:-1, -1] = grid.lid_u[1:-1]
    return u, v


def _pressure(grid: _Grid, u: np.ndarray, v: np.ndarray, om: np.ndarray, re: float) -> np.ndarray:
    """Zero-mean pressure fitted to grad p = f, f = -(u.grad)u + (1/Re)(-omega_y, omega_x).

    f is evaluated at the nodes (central differences inside, second-order one-sided on the walls).
    Each grid edge gives one equation p_b - p_a = h (f_a + f_b)/2 (edge-parallel component, trapezoidal
    rule); the weighted least-squares solution (wall edges weight 1/2) is the vertex-centred finite-
    volume Poisson problem with Neumann data f.n, second order in h and solvable for any f, so the
    corner singularity of the uniform lid stays local. The trapezoidal mean is fixed to zero.
    """
    n, h = grid.n, grid.h
    eye = sp.identity(n, format="csr")
    d1 = _first_derivative(n, h, True)
    gx, gy = sp.kron(d1, eye, "csr"), sp.kron(eye, d1, "csr")
    uf, vf, wf = u.ravel(), v.ravel(), om.ravel()
    fx = -(uf * (gx @ uf) + vf * (gy @ uf)) - (gy @ wf) / re
    fy = -(uf * (gx @ vf) + vf * (gy @ vf)) + (gx @ wf) / re
    diff = sp.diags([-np.ones(n - 1), np.ones(n - 1)], [0, 1], shape=(n - 1, n))
    avg = sp.diags([np.full(n - 1, 0.5), np.full(n - 1, 0.5)], [0, 1], shape=(n - 1, n))
    w1 = np.ones(n)
    w1[[0, -1]] = 0.5
    ex, ey = sp.kron(diff, eye, "csr"), sp.kron(eye, diff, "csr")
    wx, wy = sp.diags(np.tile(w1, n - 1)), sp.diags(np.repeat(w1, n - 1))
    bx, by = h * (sp.kron(avg, eye) @ fx), h * (sp.kron(eye, avg) @ fy)
    normal = (ex.T @ wx @ ex + ey.T @ wy @ ey).tocsr()
    rhs = ex.T @ (wx @ bx) + ey.T @ (wy @ by)
    # The normal equations are singular (constants) but consistent: their rows sum to zero. Replace the
    # first one by p_0 = 0, then shift to zero trapezoidal mean.
    normal = normal.tolil()
    normal[0, :] = 0.0
    normal[0, 0] = 1.0
    rhs[0] = 0.0
    p = spla.spsolve(normal.tocsc(), rhs)
    weights = np.outer(w1, w1).ravel()
    return (p - weights @ p / weights.sum()).reshape(n, n)


def _assemble_solution(grid: _Grid, z: np.ndarray, re: float, lid: str, its: int, res: float) -> CavitySolution:
    """Velocity and pressure from the converged (psi, omega); package everything."""
    n = grid.n
    psi, om = z[: n * n].reshape(n, n), z[n * n :].reshape(n, n)
    u, v = _velocity(grid, psi)
    p = _pressure(grid, u, v, om, re)
    x = grid.x.copy()
    return CavitySolution(
        x=x, y=x.copy(), u=u, v=v, p=p, psi=psi, omega=om, re=re, n=n, lid=lid, iterations=its, residual=res
    )
