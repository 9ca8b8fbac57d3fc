r"""Mean-field diagnostics of a two-layer net ``f = (1/n) Σ c_i σ(w_i·x + b_i)`` seen as the particle measure
``μ_n = (1/n) Σ δ_{θ_i}``, ``θ = (c, w, b)`` (Mei, Montanari & Nguyen 2018; Rotskoff & Vanden-Eijnden 2018;
Chizat & Bach 2018):

* :func:`particle_moments` — mean ``m = ∫ θ dμ`` and covariance ``Σ = ∫ (θ − m)(θ − m)ᵀ dμ`` of the measure, by
  block (``c``, ``w``, ``b``), and the second moment ``∫ |θ|² dμ``;
* :func:`meanfield_state` — the energy ``E(μ)``, the dissipation ``∫ |∇_θ V|² dμ`` (``= −dE/dt`` along the
  gradient flow) and the potential spread ``∫ (V − V̄)² dμ`` (``= −dE/dt / α`` of pure birth–death, Rotskoff,
  Jelassi, Bruna & Vanden-Eijnden 2019), with ``V = δE/δμ`` from :mod:`pinnkit.meanfield_trainer`;
* :func:`energy_decay` — the decay of a recorded ``E(t)``: least-squares slope of ``log E`` against ``t`` over a
  window (exponential rate ``λ``, ``E ≈ A e^{−λt}``) and of ``log E`` against ``log t`` (power ``p``,
  ``E ≈ A t^{−p}``; birth–death's proved asymptotic rate is ``p ≥ 1``).

All are plain numbers of the current particles — exact, not estimates (``estimated = False``) — except that the
energy is the empirical risk on the energy's sample points.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from pinnkit.validation import check_range, check_real

from .checks import ArgumentTypeError, check_count

if TYPE_CHECKING:
    from pinnkit.meanfield_energy import Energy
    from pinnkit.nets.meanfield import MeanFieldTwoLayer

__all__ = ["ParticleMoments", "particle_moments", "MeanFieldState", "meanfield_state", "EnergyDecay", "energy_decay"]


@dataclass
class ParticleMoments:
    """Moments of ``μ_n``: ``mean`` (length ``p = out_dim + in_dim + 1``, ordered ``(c, w, b)``), ``covariance``
    (``p × p``, population normalisation ``1/n``), block means ``mean_c``/``mean_w``/``mean_b``, block variances
    (trace of the block covariance) ``var_c``/``var_w``/``var_b``, ``second_moment = ∫ |θ|² dμ`` and
    ``mean_abs_c = ∫ |c| dμ`` (the path-norm-like size of the output weights)."""

    n: int
    mean: List[float]
    covariance: List[List[float]]
    mean_c: List[float]
    mean_w: List[float]
    mean_b: float
    var_c: float
    var_w: float
    var_b: float
    second_moment: float
    mean_abs_c: float
    estimated: bool = False

    def as_dict(self) -> Dict[str, float]:
        """Scalar entries only (for histories): block means, variances, moments."""
        d = {k: v for k, v in asdict(self).items() if k not in ("mean", "covariance", "mean_c", "mean_w")}
        d.update({f"mean_c{i}": v for i, v in enumerate(self.mean_c)})
        d.update({f"mean_w{i}": v for i, v in enumerate(self.mean_w)})
        return d


def _particles(model_or_particles, out_dim: Optional[int]) -> Tuple[np.ndarray, int]:
    """The particle array (float64, checked: 2-D, at least one particle, finite) and ``out_dim``."""
    name = "model_or_particles"
    if out_dim is not None:
        out_dim = check_count("out_dim", out_dim)
    if isinstance(model_or_particles, torch.nn.Module):
        if not (hasattr(model_or_particles, "particles") and hasattr(model_or_particles, "out_dim")):
            raise ArgumentTypeError(
                f"{name} must be a MeanFieldTwoLayer or a particle array, got {type(model_or_particles).__name__}"
            )
        m = int(model_or_particles.out_dim)
        if out_dim is not None and out_dim != m:
            raise ValueError(f"out_dim must be None or the model's out_dim {m}, got {out_dim}")
        th, out_dim = model_or_particles.particles().double().cpu().numpy(), m
    else:
        try:
            th = (
                model_or_particles.detach().double().cpu().numpy()
                if isinstance(model_or_particles, Tensor)
                else np.asarray(model_or_particles, dtype=np.float64)
            )
        except (TypeError, ValueError, RuntimeError, OverflowError):
            raise ValueError(
                f"{name} must be a MeanFieldTwoLayer or a real array of shape (n, out_dim + in_dim + 1), "
                f"got {type(model_or_particles).__name__}"
            ) from None
        if th.ndim != 2 or th.shape[1] < 3:
            raise ValueError(f"particles must have shape (n, out_dim + in_dim + 1), got {th.shape}")
        out_dim = 1 if out_dim is None else out_dim
        if out_dim > th.shape[1] - 2:
            raise ValueError(
                f"out_dim must be an integer in [1, {th.shape[1] - 2}] for particles of {th.shape[1]} columns "
                f"(out_dim + in_dim + 1 with in_dim >= 1), got {out_dim}"
            )
    if th.shape[0] < 1:
        raise ValueError(f"{name} must hold at least one particle, got shape {th.shape}")
    if not np.isfinite(th).all():
        raise ValueError(f"{name} holds NaN or inf particle values")
    return th, out_dim


def particle_moments(
    model_or_particles: Union[torch.nn.Module, Tensor, np.ndarray], out_dim: Optional[int] = None
) -> ParticleMoments:
    """Moments of the particle measure of a :class:`~pinnkit.nets.MeanFieldTwoLayer` (or of a particle array
    ``(n, out_dim + in_dim + 1)`` in ``(c, w, b)`` order; ``out_dim`` defaults to 1)."""
    th, m = _particles(model_or_particles, out_dim)
    n = th.shape[0]
    mean = th.mean(axis=0)
    cen = th - mean
    cov = cen.T @ cen / n
    diag = np.diag(cov)
    return ParticleMoments(
        n=n,
        mean=mean.tolist(),
        covariance=cov.tolist(),
        mean_c=mean[:m].tolist(),
        mean_w=mean[m:-1].tolist(),
        mean_b=float(mean[-1]),
        var_c=float(diag[:m].sum()),
        var_w=float(diag[m:-1].sum()),
        var_b=float(diag[-1]),
        second_moment=float((th**2).sum(axis=1).mean()),
        mean_abs_c=float(np.abs(th[:, :m]).sum(axis=1).mean()),
    )


@dataclass
class MeanFieldState:
    """``energy = E(μ_n)``, ``dissipation = ∫ |∇_θ V|² dμ_n = n Σ_i |∂E/∂θ_i|²`` (``−dE/dt`` of the gradient
    flow), ``potential_mean = V̄ = ∫ V dμ_n``, ``potential_var = ∫ (V − V̄)² dμ_n`` (``−dE/dt`` per unit ``α`` of
    birth–death alone), ``terms`` (the energy's unweighted parts) and the :class:`ParticleMoments`."""

    energy: float
    dissipation: float
    potential_mean: float
    potential_var: float
    terms: Dict[str, float]
    moments: ParticleMoments
    estimated: bool = False

    def as_dict(self) -> Dict[str, float]:
        d = {
            "energy": self.energy,
            "dissipation": self.dissipation,
            "potential_mean": self.potential_mean,
            "potential_var": self.potential_var,
        }
        d.update({f"terms/{k}": v for k, v in self.terms.items()})
        d.update({f"moments/{k}": v for k, v in self.moments.as_dict().items() if k != "estimated"})
        return d


def meanfield_state(model: MeanFieldTwoLayer, energy: Energy, step: int = 0) -> MeanFieldState:
    """The energy, dissipation, potential spread and moments of ``model`` under ``energy`` (a
    :class:`pinnkit.meanfield_energy.PINNEnergy`, ``RegressionEnergy`` or any ``energy(model, step) -> (E,
    terms)``)."""
    from pinnkit.meanfield_energy import particle_potentials
    from pinnkit.nets.meanfield import MeanFieldTwoLayer

    if not isinstance(model, MeanFieldTwoLayer):
        raise ArgumentTypeError(f"model must be a pinnkit.nets.MeanFieldTwoLayer, got {type(model).__name__}")
    if not callable(energy):
        raise ArgumentTypeError(
            f"energy must be callable as energy(model, step) -> (E, terms) (a PINNEnergy, RegressionEnergy, ...), "
            f"got {type(energy).__name__}"
        )
    step = check_count("step", step, 0)
    with torch.enable_grad():
        e, V, grads, terms = particle_potentials(model, energy, step)
    V = V.double()
    return MeanFieldState(
        energy=float(e),
        dissipation=float(model.n * sum(g.double().pow(2).sum() for g in grads)),
        potential_mean=float(V.mean()),
        potential_var=float((V - V.mean()).pow(2).mean()),
        terms={k: float(v) for k, v in terms.items()},
        moments=particle_moments(model),
    )


@dataclass
class EnergyDecay:
    """Fits of ``E(t)`` over ``window = (t_start, t_end)`` (``n_points`` records with ``E > 0``):
    ``rate = −d log E/dt`` (``E ≈ A e^{−rate·t}``; least squares), ``r2`` its coefficient of determination,
    ``power = −d log E/d log t`` (``E ≈ A t^{−power}``, records with ``t > 0``) and ``r2_power``;
    ``half_life = log 2 / rate`` (``inf`` when ``rate ≤ 0``)."""

    window: Tuple[float, float]
    n_points: int
    rate: float
    r2: float
    power: float
    r2_power: float
    half_life: float
    estimated: bool = False

    def as_dict(self) -> Dict[str, float]:
        return asdict(self)


def _fit(x: np.ndarray, y: np.ndarray) -> Tuple[float, float]:
    if x.size < 2 or np.ptp(x) == 0:
        return math.nan, math.nan
    slope, icpt = np.polyfit(x, y, 1)
    ss = ((y - y.mean()) ** 2).sum()
    r2 = 1.0 - ((y - (slope * x + icpt)) ** 2).sum() / ss if ss > 0 else 1.0
    return float(slope), float(r2)


def _real_array(name: str, value) -> np.ndarray:
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be a 1-D sequence of real numbers, got {value!r}")
    try:
        if isinstance(value, Tensor):
            value = value.detach().cpu()
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be a 1-D sequence of real numbers, got {type(value).__name__}") from None


def _check_window(window) -> Tuple[float, float]:
    msg = "window must be None or a pair (t_start, t_end) of finite numbers with t_start < t_end"
    try:
        lo, hi = window
    except (TypeError, ValueError):
        raise ValueError(f"{msg}, got {window!r}") from None
    lo = check_real("window[0]", lo, -math.inf, math.inf, low_open=True, high_open=True)
    hi = check_real("window[1]", hi, -math.inf, math.inf, low_open=True, high_open=True)
    if not lo < hi:
        raise ValueError(f"{msg}, got {window!r}")
    return lo, hi


def energy_decay(
    t: Sequence[float],
    energy: Sequence[float],
    window: Optional[Tuple[float, float]] = None,
    last_fraction: float = 0.5,
) -> EnergyDecay:
    """Decay rate of ``E(t)`` (e.g. ``history["extra"]["t"]``, ``history["loss"]`` of a
    :class:`~pinnkit.meanfield_trainer.MeanFieldTrainer`) over ``window`` (default: the last ``last_fraction``
    of the time span)."""
    t, e = _real_array("t", t), _real_array("energy", energy)
    if t.shape != e.shape or t.ndim != 1:
        raise ValueError(f"t and energy must be 1-D sequences of equal length, got {t.shape} and {e.shape}")
    if t.size < 1:
        raise ValueError("t and energy must hold at least one record each, got empty sequences")
    if not np.isfinite(t).all():
        raise ValueError("t must be finite (no NaN or inf times)")
    last_fraction = check_range("last_fraction", last_fraction, 0.0, 1.0, low_open=True)
    if window is not None:
        window = _check_window(window)
    if window is None:
        window = (float(t[-1] - last_fraction * (t[-1] - t[0])), float(t[-1]))
    keep = (t >= window[0]) & (t <= window[1]) & (e > 0) & np.isfinite(e)
    tk, ek = t[keep], np.log(e[keep])
    slope, r2 = _fit(tk, ek)
    pos = tk > 0
    pslope, pr2 = _fit(np.log(tk[pos]), ek[pos])
    rate = -slope
    return EnergyDecay(
        window=(float(window[0]), float(window[1])),
        n_points=int(keep.sum()),
        rate=rate,
        r2=r2,
        power=-pslope,
        r2_power=pr2,
        half_life=math.log(2) / rate if rate > 0 else math.inf,
    )
