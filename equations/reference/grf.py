"""Periodic Gaussian random fields on [0, L), sampled on a uniform grid of m points (numpy/scipy only).

Covariance (stationary, zero mean).  A kernel k(r) on the real line is made periodic by wrapping
(method of images),

    K(d) = σ² W(d) / W(0),    W(d) = Σ_{n ∈ Z} k(|d + nL|),

so that the marginal variance is exactly σ² and ℓ keeps its meaning on the line.  By the Poisson summation
formula the Fourier coefficients of W are the (positive) spectral density of k at ω_j = 2πj/L, so K is a valid
covariance on the circle.  Line kernels (Rasmussen & Williams 2006, *Gaussian Processes for ML*, §4.2):

    squared exponential   k(r) = exp(-r² / (2ℓ²))
    Matérn(ν)             k(r) = 2^{1-ν}/Γ(ν) · z^ν K_ν(z),   z = √(2ν) r / ℓ

Sampling (spectral / discrete Karhunen–Loève).  On the grid x_i = iL/m the covariance matrix C_ij = K(x_i - x_j)
is circulant, so its eigenvectors are the discrete Fourier modes and its eigenvalues are λ = DFT(c), c the first
row.  A sample is u = C^{1/2} ξ = IDFT(√λ · DFT(ξ)) with ξ ~ N(0, I_m), which has covariance exactly C (up to
round-off; negative round-off eigenvalues are clipped to 0) — Dietrich & Newsam 1997, SIAM J. Sci. Comput. 18(4).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Mapping

import numpy as np
from scipy import special

from pinnkit.validation import check_choice, check_int, check_real

__all__ = [
    "KERNELS",
    "GRFParams",
    "PeriodicGRF",
    "grid",
    "line_kernel",
    "periodic_kernel",
    "covariance_row",
    "covariance_matrix",
    "spectrum",
    "sample",
]

KERNELS = ("se", "matern")
MAX_LENGTH_SCALE_PERIODS = 10.0  # ℓ ≤ 10 L: beyond that the field is numerically a constant
MAX_MATERN_NU = 50.0  # Matérn → squared exponential as ν → ∞; use kernel="se" for larger ν
_IMAGE_TOL = 1e-20  # stop wrapping when the next image adds less than this (unit-variance kernel)
_MAX_IMAGES = 100_000


# ---------------------------------------------------------------- parameters
@dataclass(frozen=True)
class GRFParams:
    """Parameters of a zero-mean periodic GRF: kernel ("se" | "matern"), length scale ℓ, amplitude σ (pointwise
    standard deviation), Matérn smoothness ν (ignored for "se"), period L.  ``zero_mean=True`` removes the
    constant Fourier mode (λ_0 = 0: every sample has spatial mean exactly 0, as in the GRFs of Li et al. 2021's
    FNO code used by Wang, Wang & Perdikaris 2021); the covariance is then C − (λ_0/m) 11ᵀ."""

    kernel: str = "se"
    length_scale: float = 0.1
    sigma: float = 1.0
    nu: float = 2.5
    period: float = 1.0
    zero_mean: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.zero_mean, (bool, np.bool_)):
            raise ValueError(f"grf.zero_mean must be True or False, got {self.zero_mean!r}")
        object.__setattr__(self, "zero_mean", bool(self.zero_mean))
        check_choice("grf.kernel", self.kernel, KERNELS)
        period = check_real("grf.period", self.period, 0.0)
        object.__setattr__(self, "period", period)
        object.__setattr__(
            self,
            "length_scale",
            check_real("grf.length_scale", self.length_scale, 0.0, MAX_LENGTH_SCALE_PERIODS * period),
        )
        object.__setattr__(self, "sigma", check_real("grf.sigma", self.sigma, 0.0))
        object.__setattr__(self, "nu", check_real("grf.nu", self.nu, 0.0, MAX_MATERN_NU))

    @classmethod
    def from_any(cls, value: "GRFParams | Mapping[str, Any] | None") -> "GRFParams":
        """Accept a GRFParams, a mapping of its fields, or None (defaults)."""
        if value is None:
            return cls()
        if isinstance(value, GRFParams):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - {"kernel", "length_scale", "sigma", "nu", "period", "zero_mean"}
            if unknown:
                raise ValueError(
                    f"grf has unknown keys {sorted(unknown)}; allowed: kernel, length_scale, sigma, nu, "
                    "period, zero_mean"
                )
            return cls(**value)
        raise ValueError(f"grf must be a GRFParams, a mapping or None, got {type(value).__name__}")

    def canonical(self) -> dict:
        """Canonical dict for hashing: ν is dropped for the squared-exponential kernel (it has no effect), and
        zero_mean when False (so configs from before the option hash as they did)."""
        d = asdict(self)
        if self.kernel == "se":
            d.pop("nu")
        if not self.zero_mean:
            d.pop("zero_mean")
        return d


# ---------------------------------------------------------------- kernels
def grid(m: int, period: float = 1.0) -> np.ndarray:
    """Uniform periodic grid x_i = i L / m, i = 0..m-1 (the right end L is the image of 0)."""
    m = check_int("m", m, 2)
    return np.arange(m) * (check_real("period", period, 0.0) / m)


def line_kernel(r: np.ndarray, params: GRFParams) -> np.ndarray:
    """Unit-variance kernel on the line, k(0) = 1 (Rasmussen & Williams 2006, §4.2)."""
    r = np.abs(np.asarray(r, dtype=np.float64))
    ell = params.length_scale
    if params.kernel == "se":
        return np.exp(-0.5 * (r / ell) ** 2)
    return _matern(r, params.nu, ell)


def _matern(r: np.ndarray, nu: float, ell: float) -> np.ndarray:
    """Matérn kernel in log form, 2^{1-ν}/Γ(ν) z^ν K_ν(z), with K_ν(z) = kve(ν, z) e^{-z} to avoid overflow."""
    z = math.sqrt(2.0 * nu) * r / ell
    out = np.ones_like(z)
    pos = z > 0
    zp = z[pos]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        log_k = (1.0 - nu) * math.log(2.0) - special.gammaln(nu) + nu * np.log(zp) + np.log(special.kve(nu, zp)) - zp
        val = np.exp(log_k)
    bad = ~np.isfinite(val)
    if np.any(bad):  # K_ν overflowed at tiny z (large ν): k ≈ 1 - z²/(4(ν-1)) there
        val[bad] = 1.0 - zp[bad] ** 2 / (4.0 * (nu - 1.0))
    out[pos] = np.minimum(val, 1.0)
    return out


def periodic_kernel(d: np.ndarray, params: GRFParams) -> np.ndarray:
    """K(d) = σ² W(d)/W(0), W(d) = Σ_n k(|d + nL|) (wrapped kernel; images added until they are < 1e-20)."""
    period = params.period
    d = np.mod(np.asarray(d, dtype=np.float64), period)
    d = np.minimum(d, period - d)  # periodic distance in [0, L/2]
    w = line_kernel(d, params)
    w0 = 1.0
    for n in range(1, _MAX_IMAGES + 1):
        add = line_kernel(d + n * period, params) + line_kernel(n * period - d, params)
        add0 = 2.0 * float(line_kernel(np.array(n * period), params))
        w = w + add
        w0 += add0
        if max(float(add.max()), add0) < _IMAGE_TOL:  # k decreases: later shells are smaller still
            return params.sigma**2 * w / w0
    raise RuntimeError(f"periodic kernel did not converge in {_MAX_IMAGES} images; reduce grf.length_scale")


def covariance_row(m: int, params: GRFParams) -> np.ndarray:
    """First row c_i = K(x_i) of the circulant covariance of the grid values."""
    return periodic_kernel(grid(m, params.period), params)


def covariance_matrix(m: int, params: GRFParams) -> np.ndarray:
    """Exact covariance of the grid values, C_ij = K(x_i - x_j), shape (m, m) (for tests and small m)."""
    c = covariance_row(m, params)
    idx = np.arange(m)
    return c[(idx[None, :] - idx[:, None]) % m]


def spectrum(m: int, params: GRFParams) -> np.ndarray:
    """Eigenvalues of the circulant covariance, λ_j = Σ_i c_i e^{-2πi ij/m} for j = 0..m//2 (real, clipped ≥ 0)."""
    lam = np.fft.rfft(covariance_row(m, params)).real
    return np.maximum(lam, 0.0)


def sample(n: int, m: int, params: GRFParams, rng: np.random.Generator) -> np.ndarray:
    """n independent samples on the m-point grid, shape (n, m): u = IDFT(√λ · DFT(ξ)), ξ ~ N(0, I_m)."""
    return PeriodicGRF(m, params).sample(n, rng)


class PeriodicGRF:
    """A periodic GRF on an m-point grid; the spectrum is computed once, then ``sample`` is two FFTs per draw."""

    def __init__(self, m: int, params: GRFParams | Mapping[str, Any] | None = None) -> None:
        self.params = GRFParams.from_any(params)
        self.m = check_int("m", m, 2)
        self.x = grid(self.m, self.params.period)
        self.eigenvalues = spectrum(self.m, self.params)
        self._lambda0 = float(self.eigenvalues[0])
        if self.params.zero_mean:
            self.eigenvalues[0] = 0.0
        self._sqrt_eig = np.sqrt(self.eigenvalues)

    def covariance(self) -> np.ndarray:
        """Exact covariance matrix of the grid values, shape (m, m) (less λ_0/m in every entry if zero_mean)."""
        c = covariance_matrix(self.m, self.params)
        return c - self._lambda0 / self.m if self.params.zero_mean else c

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n samples, shape (n, m); bit-for-bit reproducible from the generator's state."""
        n = check_int("n", n, 1)
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        xi = rng.standard_normal((n, self.m))
        return np.fft.irfft(np.fft.rfft(xi, axis=-1) * self._sqrt_eig, n=self.m, axis=-1)
