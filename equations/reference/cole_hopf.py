"""Exact solution of the viscous Burgers benchmark by the Cole–Hopf transform.

Problem (Raissi et al. 2019 benchmark; exact solution from Basdevant et al. 1986, Computers & Fluids 14(1)):

    u_t + u u_x = ν u_xx,   x ∈ [-1, 1], t ∈ [0, 1],   u(x, 0) = -sin(πx),   u(±1, t) = 0.

The Cole–Hopf transform u = -2ν φ_x / φ turns it into the heat equation; with the 2-periodic odd initial
datum this gives, for t > 0,

    u(x, t) = - ∫ sin(π(x-η)) f(x-η) e^{-η²/(4νt)} dη / ∫ f(x-η) e^{-η²/(4νt)} dη,
    f(y) = exp(-cos(πy) / (2πν)).

With η = √(4νt) z both integrals become Gauss–Hermite integrals (weight e^{-z²}); the factor √(4νt) cancels.
Writing g_k = w_k f(x - η_k) for node k, u = -Σ g_k sin(π y_k) / Σ g_k, i.e. minus the g-weighted mean of
sin(π y). f spans e^{±1/(2πν)} (e^{±50} at ν = 0.01/π), so the exponents log w_k - cos(π y_k)/(2πν) are shifted
by their maximum over k before exponentiating (log-sum-exp); the Gauss–Hermite rule itself is built here with
log-weights so that no weight underflows to zero, whatever the node count.

Differentiating the quadrature formula in x (the nodes do not depend on x), with ⟨·⟩ the same weighted mean:

    u_x = -π ⟨cos(π y)⟩ - (⟨sin²(π y)⟩ - ⟨sin(π y)⟩²) / (2ν),

which is evaluated in the centred form ⟨(sin - ⟨sin⟩)²⟩ (a variance, never negative).

Convergence in the node count n (measured with this module; error = max |u_n - u_ref| and
max |∂_x u_n - ∂_x u_ref| over x = linspace(-1, 1, 2001) × t = linspace(0, 1, 101), which contains the steepest
front (max |u_x| = 152.00516 at x = 0, t = 0.51047); u_ref uses n = 1200 and agrees with an independent fine
trapezoid rule in η, at 100 random points and at points on the front, to 1e-15 (ν = 0.01/π) and 6e-15
(ν = 0.001/π); the Gauss–Hermite rule itself matches numpy's hermgauss to 1e-15 where that works, n <= 150):

    ν = 0.01/π                              ν = 0.001/π (|u_x| up to ≈ 1566)
    n     max|Δu|   max|Δu_x|               n     max|Δu|   max|Δu_x|
    20    2.5e-01   5.5e+01                 100   3.1e-01   7.1e+02
    30    1.7e-02   4.3e+00                 200   1.1e-01   2.5e+02
    40    3.3e-05   7.6e-03                 300   1.4e-12   4.1e-09
    50    2.2e-07   5.3e-05                 400   9.5e-15   2.3e-11
    60    1.2e-09   2.7e-07
    70    1.2e-11   3.0e-09
    80    9.7e-14   2.5e-11
    90    4.4e-15   4.5e-13   (round-off from here on: 100, 200, 400 nodes all give ≈ 3e-15 / 4e-13)

Fewer nodes are needed than the steepness suggests: the nodes reach |z| ≲ √(2n) and the integrand's mass
sits within |η| ≲ 1, i.e. |z| ≲ 1/√(4νt) ≈ 9 at t = 1 for ν = 0.01/π. The node count needed to reach
relative error 1e-10 in u_x over t ∈ [0, 1] was measured for ν = (10, 3, 1, 0.3, 0.1, 0.05) × 0.01/π as
(80, 60, 70, 120, 300, 600), i.e. roughly 0.1/ν for small ν. The default, `default_node_count(ν)` =
max(200, ⌈0.2/ν⌉), keeps a factor ≥ 2 above that (200 nodes, ~2× the 90 of round-off, at ν = 0.01/π).
With 200 nodes the 256 × 100 Raissi grid takes ≈ 0.28 s for u and ≈ 0.55 s for u_x (one core). Building the
rule costs O(n²) (Sturm bisection + Newton): 0.03 s at n = 200, 0.35 s at n = 1500.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "DEFAULT_NU",
    "MIN_DEFAULT_NODES",
    "MAX_AUTO_NODES",
    "default_node_count",
    "gauss_hermite_rule",
    "cole_hopf_u",
    "cole_hopf_u_x",
    "reference_grid",
]

DEFAULT_NU: float = 0.01 / np.pi
MIN_DEFAULT_NODES: int = 200
MAX_AUTO_NODES: int = 3000
#: the most nodes a rule may have (its bisection costs O(n²) time: seconds at this size)
MAX_NODES: int = 10_000
_CHUNK_ELEMENTS = 1 << 21  # points × nodes per chunk: bounds temporaries to ~16 MiB each


# --------------------------------------------------------------------------- Gauss–Hermite rule, log-weights
def _orthonormal_hermite_pair(z: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p_{n-1}(z), p_n(z)) of the orthonormal Hermite polynomials (weight e^{-z²}), as scaled values and a
    common log-scale: p = value · exp(log_scale). Three-term recurrence
    p_{j+1} = √(2/(j+1)) z p_j − √(j/(j+1)) p_{j−1}, p_0 = π^{-1/4}, rescaled whenever it grows large."""
    p_prev = np.zeros_like(z)
    p = np.full_like(z, np.pi**-0.25)
    log_scale = np.zeros_like(z)
    for j in range(n):
        p_prev, p = p, np.sqrt(2.0 / (j + 1)) * z * p - np.sqrt(j / (j + 1)) * p_prev
        big = np.abs(p) > 1e150
        if big.any():
            p[big] *= 1e-150
            p_prev[big] *= 1e-150
            log_scale[big] += 150.0 * np.log(10.0)
    return p_prev, p, log_scale


def _sturm_count(x: np.ndarray, n: int) -> np.ndarray:
    """Number of eigenvalues below x of the n × n Hermite Jacobi matrix (zero diagonal, off-diagonal √(j/2)),
    by the sign count of the LDLᵀ pivots of J − x I (Sturm sequence), vectorised over x."""
    count = np.zeros(x.shape, dtype=np.int64)
    d = -x.copy()
    for j in range(1, n + 1):
        if j > 1:
            d = -x - ((j - 1) / 2.0) / d
        d[np.abs(d) < 1e-290] = -1e-290
        count += d < 0.0
    return count


@lru_cache(maxsize=16)
def gauss_hermite_rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z_k and log-weights log w_k of the n-point Gauss–Hermite rule, ∫ g(z) e^{-z²} dz ≈ Σ w_k g(z_k).

    Nodes are the eigenvalues of the Jacobi matrix (off-diagonal √(j/2)), bracketed by Sturm-sequence bisection
    (O(n²), single-threaded, no dense eigensolver) and polished by Newton steps on p_n using p_n' = √(2n) p_{n−1};
    then symmetrised (z_k = −z_{n−1−k}). Weights w_k = 1 / (n p_{n−1}(z_k)²) (Christoffel–Darboux), kept as
    logarithms so that none underflows (numpy's hermgauss returns NaN weights beyond n ≈ 500).
    """
    n = _check_nodes(n)
    bound = np.sqrt(2.0 * n) + 1.0  # Gershgorin: |z| <= 2 max √(j/2) < √(2n)
    k = np.arange(n)
    lo, hi = np.full(n, -bound), np.full(n, bound)
    for _ in range(30):  # brackets of width < 2·bound·2^-30, far below the node spacing ~ π/√(2n)
        mid = 0.5 * (lo + hi)
        above = _sturm_count(mid, n) > k
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    z = 0.5 * (lo + hi)
    for _ in range(3):
        p_nm1, p_n, _ = _orthonormal_hermite_pair(z, n)
        z = z - p_n / (np.sqrt(2.0 * n) * p_nm1)
    z = 0.5 * (z - z[::-1])
    p_nm1, _, log_scale = _orthonormal_hermite_pair(z, n)
    log_w = -np.log(n) - 2.0 * (np.log(np.abs(p_nm1)) + log_scale)
    z.setflags(write=False)
    log_w.setflags(write=False)
    return z, log_w


def default_node_count(nu: float = DEFAULT_NU) -> int:
    """Node count used when n_nodes is None: max(200, ⌈0.2/ν⌉) (convergence study in the module docstring).

    Raises ValueError if ν is so small that this exceeds MAX_AUTO_NODES (pass n_nodes explicitly then).
    """
    nu = _check_nu(nu)
    ratio = 0.2 / nu  # inf for a subnormal nu
    n = max(MIN_DEFAULT_NODES, int(np.ceil(ratio))) if ratio <= MAX_AUTO_NODES else ratio
    if n > MAX_AUTO_NODES:
        raise ValueError(
            f"nu={nu!r} is below {0.2 / MAX_AUTO_NODES:.3g}: the automatic Gauss–Hermite node count {n} exceeds "
            f"{MAX_AUTO_NODES}; pass n_nodes explicitly (and check convergence)"
        )
    return n


# --------------------------------------------------------------------------- validation
def _check_nodes(n: int) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_NODES:
        raise ValueError(f"n_nodes must be an integer in [1, {MAX_NODES}] (the rule costs O(n²) time), got {n!r}")
    return int(n)


def _check_nu(nu: float) -> float:
    nu = float(nu)
    if not (np.isfinite(nu) and nu > 0.0):
        raise ValueError(f"nu must be finite and > 0, got {nu!r}")
    return nu


def _broadcast_xt(x, t) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite (real numbers; the problem's domain is [-1, 1])")
    if not np.all(np.isfinite(t)) or np.any(t < 0.0):
        raise ValueError("t must be finite and >= 0 (the problem's time interval is [0, 1])")
    try:
        return np.broadcast_arrays(x, t)
    except ValueError as err:
        raise ValueError(f"x of shape {x.shape} and t of shape {t.shape} do not broadcast") from err


# --------------------------------------------------------------------------- evaluation
def _evaluate(x, t, nu: float, n_nodes: int | None, derivative: bool) -> np.ndarray:
    nu = _check_nu(nu)
    n_nodes = default_node_count(nu) if n_nodes is None else _check_nodes(n_nodes)
    xb, tb = _broadcast_xt(x, t)
    xf, tf = xb.ravel(), tb.ravel()
    out = np.empty(xf.shape, dtype=np.float64)
    initial = tf == 0.0
    if derivative:
        out[initial] = -np.pi * np.cos(np.pi * xf[initial])
    else:
        out[initial] = -np.sin(np.pi * xf[initial])
    todo = np.flatnonzero(~initial)
    z, log_w = gauss_hermite_rule(n_nodes)
    rows = max(1, _CHUNK_ELEMENTS // n_nodes)
    for start in range(0, todo.size, rows):
        idx = todo[start : start + rows]
        out[idx] = _chunk(xf[idx], tf[idx], nu, z, log_w, derivative)
    return out.reshape(xb.shape)


def _chunk(x: np.ndarray, t: np.ndarray, nu: float, z: np.ndarray, log_w: np.ndarray, derivative: bool) -> np.ndarray:
    """Weighted means over the nodes for a block of points with t > 0 (log-sum-exp normalised)."""
    y = np.pi * (x[:, None] - np.sqrt(4.0 * nu * t)[:, None] * z[None, :])
    expo = log_w[None, :] - np.cos(y) / (2.0 * np.pi * nu)
    expo -= expo.max(axis=1, keepdims=True)
    g = np.exp(expo)
    g /= g.sum(axis=1, keepdims=True)
    s = np.sin(y)
    mean_s = np.einsum("ij,ij->i", g, s)
    if not derivative:
        return -mean_s
    mean_c = np.einsum("ij,ij->i", g, np.cos(y))
    dev = s - mean_s[:, None]
    var_s = np.einsum("ij,ij->i", g, dev * dev)
    return -np.pi * mean_c - var_s / (2.0 * nu)


def cole_hopf_u(x: ArrayLike, t: ArrayLike, nu: float = DEFAULT_NU, n_nodes: int | None = None) -> np.ndarray:
    """u(x, t) of viscous Burgers with u(x,0) = -sin(πx), by Cole–Hopf + Gauss–Hermite (Basdevant et al. 1986).

    u = -Σ_k w_k sin(π y_k) f(y_k) / Σ_k w_k f(y_k),  y_k = x - √(4νt) z_k,  f(y) = exp(-cos(πy)/(2πν)).
    x and t are broadcast against each other; t = 0 returns -sin(πx) exactly. n_nodes=None uses
    default_node_count(ν). Returns float64 of the broadcast shape. Raises ValueError for ν <= 0, t < 0,
    non-finite input or n_nodes < 1.
    """
    return _evaluate(x, t, nu, n_nodes, derivative=False)


def cole_hopf_u_x(x: ArrayLike, t: ArrayLike, nu: float = DEFAULT_NU, n_nodes: int | None = None) -> np.ndarray:
    """∂u/∂x of the Cole–Hopf solution, the exact x-derivative of the quadrature formula of `cole_hopf_u`.

    u_x = -π ⟨cos(π y)⟩ - Var⟨sin(π y)⟩ / (2ν), ⟨·⟩ the normalised weights w_k f(y_k) / Σ w_j f(y_j).
    At t = 0 returns -π cos(πx) exactly. Same broadcasting and validation as `cole_hopf_u`.
    """
    return _evaluate(x, t, nu, n_nodes, derivative=True)


def reference_grid(
    nx: int = 256, nt: int = 100, nu: float = DEFAULT_NU, n_nodes: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raissi et al.'s evaluation grid and the exact solution on it.

    x = linspace(-1, 1, nx), t = linspace(0, 0.99, nt) (0.01 spacing at the default nt = 100);
    returns (x, t, u) with u[i, j] = u(x[j], t[i]), shape (nt, nx) as in Raissi's burgers_shock data ("usol" is
    its transpose).
    """
    for name, value in (("nx", nx), ("nt", nt)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 2:
            raise ValueError(f"{name} must be an integer >= 2, got {value!r}")
    x = np.linspace(-1.0, 1.0, int(nx))
    t = np.linspace(0.0, 0.99, int(nt))
    u = cole_hopf_u(x[None, :], t[:, None], nu=nu, n_nodes=n_nodes)
    return x, t, u
