"""Exact blow-up solutions of the inviscid, pressure-less Burgers equation u_t + (u·∇)u = 0 in d dimensions.

Family (Kumar & Mukherjee 2024, Mach. Learn.: Sci. Technol. 5 025063; arXiv 2310.05169): u(x, t) = A(t) x with

    A(t) = A0 (I + t A0)^{-1},   A'(t) = -A(t)²,   A(0) = A0,

so u_t = A' x = -A² x = -(u·∇)u. The solution blows up where I + t A0 is singular, i.e. at t = -1/λ for every
real non-zero eigenvalue λ of A0 (det(I + t A0) = Π_i (1 + t λ_i) vanishes for real t only there).

Presets (the paper's two problems):
  (1+1)-D: A0 = [[-1]], u = x/(t-1), D = [-1, 1], window t ∈ [-1+δ, δ], blow-up at t = 1.
  (2+1)-D: A0 = [[1, 1], [1, -1]], u1 = (x1 + x2 - 2 x1 t)/(1-2t²), u2 = (x1 - x2 - 2 x2 t)/(1-2t²),
           D = [0, 1]², window t ∈ [δ - 1/√2, δ], blow-up at t = ±1/√2 (eigenvalues ±√2).

Analytic quantities: ∫_D |A x|² dx = tr(A M Aᵀ) with M = ∫_D x xᵀ dx (closed form for boxes); its time integral
in closed form for symmetric A0 (A0 = Q Λ Qᵀ gives tr(A M Aᵀ) = Σ_i N_ii a_i(t)², N = Qᵀ M Q,
a_i = λ_i/(1 + t λ_i), and ∫ a_i² dt = -a_i since a_i' = -a_i²), otherwise by adaptive Gauss–Legendre; sup
over the window of the spectral norm or the max-column-sum norm of the Jacobian ∇u = A(t).

Convention: the Jacobian is J_ij = ∂u_i/∂x_j = A_ij; the max-column-sum norm is ‖J‖_1 = max_j Σ_i |J_ij|.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "BlowupProblem",
    "A_of_t",
    "A_dot",
    "velocity",
    "velocity_t",
    "jacobian",
    "blowup_times",
    "next_blowup_time",
    "previous_blowup_time",
    "check_window",
    "burgers_1d_blowup",
    "burgers_2d_blowup",
    "box_second_moment",
    "energy",
    "energy_time_integral",
    "spectral_norm",
    "max_column_sum_norm",
    "grad_sup_norm",
]

_NORMS = ("spectral", "max_column_sum")


# --------------------------------------------------------------------------- validation helpers
def _as_A0(A0) -> np.ndarray:
    A0 = np.asarray(A0, dtype=np.float64)
    if A0.ndim == 0:
        A0 = A0.reshape(1, 1)
    if A0.ndim != 2 or A0.shape[0] != A0.shape[1] or A0.shape[0] < 1:
        raise ValueError(f"A0 must be a square (d, d) matrix with d >= 1, got shape {A0.shape}")
    if not np.all(np.isfinite(A0)):
        raise ValueError("A0 must be finite")
    return A0


def _as_times(t) -> np.ndarray:
    t = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(t)):
        raise ValueError("t must be finite")
    return t


def _as_box(lower, upper, d: int) -> tuple[np.ndarray, np.ndarray]:
    lo = np.broadcast_to(np.asarray(lower, dtype=np.float64), (d,)).copy()
    hi = np.broadcast_to(np.asarray(upper, dtype=np.float64), (d,)).copy()
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo < hi)):
        raise ValueError(f"box D = [lower, upper] needs finite lower < upper in every coordinate, got {lo}, {hi}")
    return lo, hi


def _as_window(t0: float, T: float) -> tuple[float, float]:
    t0, T = float(t0), float(T)
    if not (np.isfinite(t0) and np.isfinite(T) and t0 < T):
        raise ValueError(f"window [t0, T] needs finite t0 < T, got [{t0!r}, {T!r}]")
    return t0, T


# --------------------------------------------------------------------------- the solution
def A_of_t(A0: ArrayLike, t: ArrayLike) -> np.ndarray:
    """A(t) = A0 (I + t A0)^{-1} (= (I + t A0)^{-1} A0), for t of any shape; returns shape t.shape + (d, d).

    Raises ValueError if I + t A0 is exactly singular at some requested t (a blow-up time).
    """
    A0 = _as_A0(A0)
    t = _as_times(t)
    d = A0.shape[0]
    lhs = np.eye(d) + t[..., None, None] * A0
    try:
        return np.linalg.solve(lhs, np.broadcast_to(A0, lhs.shape))
    except np.linalg.LinAlgError as err:
        raise ValueError(f"I + t A0 is singular at a requested t (blow-up times: {blowup_times(A0)})") from err


def A_dot(A0: ArrayLike, t: ArrayLike) -> np.ndarray:
    """A'(t) = -A(t)² (Riccati equation of the family); shape t.shape + (d, d)."""
    A = A_of_t(A0, t)
    return -(A @ A)


def _points_and_times(A0: np.ndarray, x, t) -> tuple[np.ndarray, np.ndarray]:
    d = A0.shape[0]
    x = np.asarray(x, dtype=np.float64)
    t = _as_times(t)
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"x must have shape (N, {d}), got {x.shape}")
    if t.ndim == 0:
        t = np.full(x.shape[0], float(t))
    if t.shape != (x.shape[0],):
        raise ValueError(f"t must be a scalar or have shape ({x.shape[0]},), got {t.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite")
    return x, t


def velocity(A0: ArrayLike, x: ArrayLike, t: ArrayLike) -> np.ndarray:
    """u(x, t) = A(t) x for points x of shape (N, d) and times t of shape (N,) (or a scalar); shape (N, d)."""
    A0 = _as_A0(A0)
    x, t = _points_and_times(A0, x, t)
    return np.einsum("nij,nj->ni", A_of_t(A0, t), x)


def velocity_t(A0: ArrayLike, x: ArrayLike, t: ArrayLike) -> np.ndarray:
    """∂u/∂t = A'(t) x = -A(t)² x, same shapes as `velocity`."""
    A0 = _as_A0(A0)
    x, t = _points_and_times(A0, x, t)
    return np.einsum("nij,nj->ni", A_dot(A0, t), x)


def jacobian(A0: ArrayLike, x: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Spatial Jacobian ∇u (J_ij = ∂u_i/∂x_j) = A(t) at every point; shape (N, d, d)."""
    A0 = _as_A0(A0)
    x, t = _points_and_times(A0, x, t)
    return A_of_t(A0, t)


# --------------------------------------------------------------------------- blow-up times and windows
def blowup_times(A0: ArrayLike) -> np.ndarray:
    """Sorted times t = -1/λ, λ a real non-zero eigenvalue of A0, where I + t A0 is singular.

    An eigenvalue counts as real when |Im λ| <= 1e-7 max(1, ‖A0‖) (eigenvalues of defective matrices are only
    accurate to ~√eps). Repeated eigenvalues give one time.
    """
    A0 = _as_A0(A0)
    lam = np.linalg.eigvals(A0)
    scale = max(1.0, float(np.linalg.norm(A0, 2)))
    real = lam[np.abs(lam.imag) <= 1e-7 * scale].real
    real = real[np.abs(real) > 1e-14 * scale]
    times = np.sort(-1.0 / real)
    if times.size > 1:
        keep = np.concatenate([[True], np.diff(times) > 1e-12 * np.maximum(1.0, np.abs(times[1:]))])
        times = times[keep]
    return times


def next_blowup_time(A0: ArrayLike, t_start: float) -> float:
    """The first blow-up time strictly after t_start (+inf if the family is smooth for all t > t_start)."""
    times = blowup_times(A0)
    later = times[times > float(t_start)]
    return float(later[0]) if later.size else float("inf")


def previous_blowup_time(A0: ArrayLike, t_start: float) -> float:
    """The last blow-up time strictly before t_start (-inf if none)."""
    times = blowup_times(A0)
    earlier = times[times < float(t_start)]
    return float(earlier[-1]) if earlier.size else float("-inf")


def check_window(A0: ArrayLike, t0: float, T: float, label: str | None = None) -> tuple[float, float]:
    """Validate the time window [t0, T]: finite, t0 < T, and I + t A0 regular on the whole closed window
    (blow-up times within a relative 1e-12 of an end count as inside, so rounding cannot sneak one past).

    Raises ValueError naming the window (and `label`, e.g. "delta=1.0") and the blow-up time it reaches.
    Returns (t0, T) as floats.
    """
    t0, T = _as_window(t0, T)
    slack = lambda tb: 1e-12 * max(1.0, abs(tb))  # noqa: E731  (a blow-up an ulp outside still counts)
    inside = [tb for tb in blowup_times(A0) if t0 - slack(tb) <= tb <= T + slack(tb)]
    if inside:
        what = f"{label}: " if label else ""
        raise ValueError(
            f"{what}window [t0, T] = [{t0:.6g}, {T:.6g}] reaches the blow-up time t = {inside[0]:.6g} "
            f"(I + t A0 singular there); choose a window that ends before it"
        )
    return t0, T


# --------------------------------------------------------------------------- presets
@dataclass(frozen=True)
class BlowupProblem:
    """One member of the family on a box D = [lower, upper] and a window [t0, T] free of blow-up."""

    name: str
    A0: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    t0: float
    T: float
    delta: float
    blowup_time: float  # first blow-up after T (the one the sweep approaches)

    @property
    def d(self) -> int:
        return int(self.A0.shape[0])

    @property
    def distance_to_blowup(self) -> float:
        return self.blowup_time - self.T


def _check_delta(delta: float) -> float:
    delta = float(delta)
    if not np.isfinite(delta):
        raise ValueError(f"delta must be finite, got {delta!r}")
    return delta


def _make_problem(name: str, A0: np.ndarray, lower, upper, t0: float, T: float, delta: float) -> BlowupProblem:
    check_window(A0, t0, T, label=f"{name} with delta={delta!r}")
    lo, hi = _as_box(lower, upper, A0.shape[0])
    for arr in (A0, lo, hi):
        arr.setflags(write=False)
    return BlowupProblem(name, A0, lo, hi, float(t0), float(T), delta, next_blowup_time(A0, T))


def burgers_1d_blowup(delta: float) -> BlowupProblem:
    """(1+1)-D preset: u = x/(t-1) (A0 = [[-1]]), D = [-1, 1], t ∈ [-1+δ, δ]; blow-up at t = 1.

    The paper sweeps δ ∈ {0.950, 0.954, …, 0.998}; δ ∈ [1, 2] puts t = 1 inside the window (ValueError).
    """
    delta = _check_delta(delta)
    return _make_problem("burgers_1d_blowup", np.array([[-1.0]]), -1.0, 1.0, delta - 1.0, delta, delta)


def burgers_2d_blowup(delta: float) -> BlowupProblem:
    """(2+1)-D preset: A0 = [[1, 1], [1, -1]], D = [0, 1]², t ∈ [δ - 1/√2, δ]; blow-up at t = ±1/√2.

    u1 = (x1 + x2 - 2 x1 t)/(1 - 2t²), u2 = (x1 - x2 - 2 x2 t)/(1 - 2t²). The paper sweeps δ = t0 + 1/√2,
    t0 ∈ {-0.60, …, -0.02}; δ must lie in (0, 1/√2) for the window to avoid both blow-up times.
    """
    delta = _check_delta(delta)
    A0 = np.array([[1.0, 1.0], [1.0, -1.0]])
    return _make_problem("burgers_2d_blowup", A0, 0.0, 1.0, delta - 1.0 / np.sqrt(2.0), delta, delta)


# --------------------------------------------------------------------------- energies
def box_second_moment(lower: ArrayLike, upper: ArrayLike) -> np.ndarray:
    """M = ∫_D x xᵀ dx for the box D = Π_i [a_i, b_i]:
    M_ii = |D| (b_i³ - a_i³) / (3 (b_i - a_i)),  M_ij = |D| m_i m_j (i ≠ j), m_i = (a_i + b_i)/2."""
    lo = np.atleast_1d(np.asarray(lower, dtype=np.float64))
    hi = np.atleast_1d(np.asarray(upper, dtype=np.float64))
    lo, hi = _as_box(lo, hi, max(lo.size, hi.size))
    vol = float(np.prod(hi - lo))
    mid = 0.5 * (lo + hi)
    M = vol * np.outer(mid, mid)
    np.fill_diagonal(M, vol * (hi**3 - lo**3) / (3.0 * (hi - lo)))
    return M


def energy(A0: ArrayLike, t: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> np.ndarray:
    """∫_D |u(x, t)|² dx = tr(A(t) M A(t)ᵀ), M = box_second_moment(D); shape of t."""
    A0 = _as_A0(A0)
    M = box_second_moment(*_as_box(lower, upper, A0.shape[0]))
    A = A_of_t(A0, t)
    return np.einsum("...ij,jk,...ik->...", A, M, A)


@lru_cache(maxsize=4)
def _gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(n)


def _adaptive_gauss_legendre(func, a: float, b: float, rtol: float, n: int = 20, max_depth: int = 60) -> float:
    """∫_a^b func for a positive, smooth func (vectorised): accept an interval when n-point Gauss–Legendre on it
    and on its two halves agree to rtol (relative, so the sum is accurate to rtol), else bisect."""
    z, w = _gauss_legendre(n)

    def rule(lo: float, hi: float) -> float:
        half = 0.5 * (hi - lo)
        return half * float(np.dot(w, func(lo + half * (z + 1.0))))

    total = 0.0
    stack = [(a, b, rule(a, b), 0)]
    while stack:
        lo, hi, whole, depth = stack.pop()
        mid = 0.5 * (lo + hi)
        left, right = rule(lo, mid), rule(mid, hi)
        fine = left + right
        if abs(fine - whole) <= rtol * abs(fine) or depth >= max_depth:
            total += fine
        else:
            stack.append((lo, mid, left, depth + 1))
            stack.append((mid, hi, right, depth + 1))
    return total


def energy_time_integral(
    A0: ArrayLike, t0: float, T: float, lower: ArrayLike, upper: ArrayLike, method: str = "auto", rtol: float = 1e-13
) -> float:
    """∫_{t0}^{T} ∫_D |u|² dx dt over a blow-up-free window.

    method "closed" (symmetric A0 only): A0 = Q Λ Qᵀ, N = Qᵀ M Q, a_i(t) = λ_i/(1 + t λ_i);
    ∫∫|u|² = Σ_i N_ii (a_i(t0) - a_i(T)). method "quadrature": adaptive Gauss–Legendre (20 points, bisection
    until the rule and its halves agree to rtol). "auto": closed form when A0 is symmetric, else quadrature.
    """
    A0 = _as_A0(A0)
    t0, T = check_window(A0, t0, T)
    lo, hi = _as_box(lower, upper, A0.shape[0])
    if method not in ("auto", "closed", "quadrature"):
        raise ValueError(f"method must be 'auto', 'closed' or 'quadrature', got {method!r}")
    symmetric = np.array_equal(A0, A0.T)
    if method == "closed" and not symmetric:
        raise ValueError("method='closed' needs a symmetric A0; use 'quadrature'")
    if method == "quadrature" or not symmetric:
        return _adaptive_gauss_legendre(lambda s: energy(A0, s, lo, hi), t0, T, rtol)
    lam, Q = np.linalg.eigh(A0)
    N_diag = np.einsum("ji,jk,ki->i", Q, box_second_moment(lo, hi), Q)
    a = lambda s: lam / (1.0 + s * lam)  # noqa: E731
    return float(np.dot(N_diag, a(t0) - a(T)))


# --------------------------------------------------------------------------- gradient norms
def spectral_norm(J: np.ndarray) -> np.ndarray:
    """Largest singular value of each (d, d) matrix in J (shape (..., d, d) -> (...))."""
    return np.linalg.svd(np.asarray(J, dtype=np.float64), compute_uv=False)[..., 0]


def max_column_sum_norm(J: np.ndarray) -> np.ndarray:
    """‖J‖_1 = max_j Σ_i |J_ij| of each (d, d) matrix in J (shape (..., d, d) -> (...))."""
    return np.abs(np.asarray(J, dtype=np.float64)).sum(axis=-2).max(axis=-1)


def grad_sup_norm(A0: ArrayLike, t0: float, T: float, norm: str = "max_column_sum", samples: int = 2001) -> float:
    """‖∇u‖_∞ = sup_{t ∈ [t0, T]} ‖A(t)‖ (∇u does not depend on x), norm "spectral" or "max_column_sum".

    The norm of A(t) is sampled at `samples` Chebyshev–Lobatto times (dense near the ends, where the nearest
    blow-ups pull it up; both ends included), and the best sample is refined by golden-section search between
    its neighbours. For symmetric A0 and the spectral norm the sup is exact: max_i |λ_i/(1 + t λ_i)| is
    monotone on a blow-up-free window, so it is attained at t0 or T.
    """
    A0 = _as_A0(A0)
    t0, T = check_window(A0, t0, T)
    if norm not in _NORMS:
        raise ValueError(f"norm must be one of {_NORMS}, got {norm!r}")
    if not isinstance(samples, (int, np.integer)) or samples < 3:
        raise ValueError(f"samples must be an integer >= 3, got {samples!r}")
    norm_fn = spectral_norm if norm == "spectral" else max_column_sum_norm
    f = lambda s: norm_fn(A_of_t(A0, s))  # noqa: E731
    ts = t0 + 0.5 * (T - t0) * (1.0 - np.cos(np.pi * np.arange(samples) / (samples - 1)))
    vals = f(ts)
    k = int(np.argmax(vals))
    best = float(vals[k])
    if 0 < k < samples - 1:
        best = max(best, _golden_max(lambda s: float(f(np.array(s))), ts[k - 1], ts[k + 1]))
    return best


def _golden_max(f, a: float, b: float, iters: int = 80) -> float:
    """Maximum of a unimodal f on [a, b] by golden-section search (returns the best value seen)."""
    g = (np.sqrt(5.0) - 1.0) / 2.0
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    best = max(fc, fd)
    for _ in range(iters):
        if fc >= fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
        best = max(best, fc, fd)
    return best
