r"""A modal L² error bound for self-adjoint linear parabolic problems (``u_t − κΔu + cu = f`` on a box ``D``,
zero boundary error): the lowest Dirichlet modes of the error are followed exactly, signed residual
integrals included, and the rest decays at the first excluded eigenvalue.

Derivation. ``e = u_θ − u`` solves ``e_t − κΔe + ce = R`` (``R`` the net's residual), ``e = 0`` on ``∂D``
(hard boundary constraints). With the Dirichlet eigenfunctions of ``−Δ`` on ``D = Π[a_i, b_i]``,
``φ_k = Π_i (2/L_i)^{1/2} sin(k_i π (x_i − a_i)/L_i)``, ``−Δφ_k = λ_k φ_k``, ``λ_k = π² Σ k_i²/L_i²``,
``μ_k = κλ_k + c``, the coefficients ``e_k(t) = ∫_D e φ_k`` satisfy (two integrations by parts, ``e = φ_k = 0``
on ``∂D``) ``e_k' = −μ_k e_k + R_k``, ``R_k = ∫_D R φ_k``, so over a time slab ``[τ_j, τ_{j+1}]``

    e_k(τ_{j+1}) = e^{−μ_k h_j} e_k(τ_j) + Q_kj,   Q_kj = ∫_{slab} ∫_D R(x, s) φ_k(x) e^{μ_k (s − τ_{j+1})} dx ds,

exactly; ``Q_kj`` and ``e_k(t0)`` are signed integrals over boxes, enclosed box by box by the mean-value
theorem (``∫_B g ∈ |B| (g(c) + [−m, m])``, ``m = Σ_i mag([∂_i g](B)) ρ_i/2``), so the cancellations of an
oscillating residual are kept. Inside a slab ``e_k(t) = e^{−μ_k (t−τ_j)} e_k(τ_j) + b_k(t)``,
``|b_k(t)|² ≤ (t − τ_j) ∫_{τ_j}^{t} R_k²`` (Cauchy–Schwarz), and ``Σ_k ∫_slab R_k² ≤ S_j = ∫∫_slab R²`` (Bessel),
so by Minkowski's inequality in ``L²(slab; ℓ²)``

    (Σ_{k∈𝒦} ∫_slab e_k²)^{1/2} ≤ (Σ_k |e_k(τ_j)|² (1 − e^{−2μ_k h})/(2μ_k))^{1/2} + h (S_j / 2)^{1/2}.

The rest ``e_⊥ = e − Σ_{k∈𝒦} e_k φ_k`` solves the same equation with the projected residual (``‖R_⊥‖ ≤ ‖R‖``),
vanishes on ``∂D`` and is orthogonal to the modes of 𝒦, so ``‖∇e_⊥‖² ≥ λ_⊥ ‖e_⊥‖²`` with ``λ_⊥`` the smallest
eigenvalue outside 𝒦, and the energy recurrence of :func:`.parabolic.parabolic_l2_bound` holds with decay
``μ_⊥ = κλ_⊥ + c`` from ``‖e_⊥(t0)‖² = ‖e(t0)‖² − Σ_k e_k(t0)²``. Parseval: ``∫‖e‖² = Σ_{k∈𝒦} ∫ e_k² + ∫‖e_⊥‖²``.

Every constant is enclosed (π as an interval, the modes and weights evaluated on intervals, outward-rounded
sums), so the bound is proved for this model on this machine. 𝒦 is ``{k : 1 ≤ k_i ≤ modes}``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from pinnkit.enclosure.boxes import bisect_along, volumes
from pinnkit.enclosure.interval import Interval
from pinnkit.enclosure.scalar import dn, sqrt_up, up

from .box_families import slab_grid, slab_sum, split_axes
from .certified import NEGLIGIBLE, ResidualForms, signed_integrals, square_integrals

__all__ = ["modal_l2_bound", "mode_indices"]

PI = Interval(
    torch.tensor(math.pi, dtype=torch.float64), torch.tensor(math.nextafter(math.pi, 4.0), dtype=torch.float64)
)


def mode_indices(d: int, modes: int) -> List[Tuple[int, ...]]:
    """The multi-indices ``k`` with ``1 ≤ k_i ≤ modes`` (𝒦)."""
    return list(itertools.product(range(1, modes + 1), repeat=d))


def centred_forms(model, lo: Tensor, hi: Tensor, expr: Callable, d: int, batch: int = 4096) -> ResidualForms:
    """The forms of ``expr`` over each box that :func:`signed_integrals` needs: value, slope over the box, and
    value and gradient at the centre (the net enclosed on the degenerate box ``[c, c]``, third derivatives
    included, so residuals with second derivatives get their gradient at ``c`` exactly enclosed)."""
    from pinnkit.enclosure.fields import SlopeFields
    from pinnkit.enclosure.net import enclose
    from pinnkit.enclosure.slope import centred_form

    parts = []
    for s in range(0, lo.shape[0], batch):
        a, b = lo[s : s + batch], hi[s : s + batch]
        enc = enclose(model, a, b)
        Rs = expr(SlopeFields(enc, a, b, d))
        c = enc.centre
        Rc = expr(SlopeFields(enclose(model, c, c.clone()), c, c.clone(), d))
        value = centred_form(Rc.v, Rs.g, enc.rho).intersect(Rs.v)
        parts.append(ResidualForms(value, Rc.v, Rs.g, enc.rho, Rc.g, None, a, b, c))
    return ResidualForms.cat(parts)


class _ModalBoxes:
    """Boxes over slabs carrying the enclosures of ``[g_k (modal integrands)…, f (squared)]`` and their
    per-box contributions: signed integrals of the modal columns and ``∫_B f²`` of the last column."""

    def __init__(self, expr, lo, hi, slab, K, measure_dims, split_axes, ev) -> None:
        self.expr, self.K, self.measure_dims, self.split_axes, self._ev = expr, K, measure_dims, split_axes, ev
        self.lo, self.hi, self.slab = lo, hi, slab
        self.F = ev(expr, lo, hi)
        self._contrib()

    def _contrib(self) -> None:
        w = volumes(self.lo, self.hi, self.measure_dims)
        n = self.F.value.shape[1]
        self.I = signed_integrals(self.F.columns(slice(0, n - 1)), w)  # (N, M)
        sq = square_integrals(self.F.columns(slice(n - 1, n)), w)
        self.sq_hi, self.sq_lo = sq.hi, torch.clamp(sq.lo, min=0.0)

    def n(self) -> int:
        return self.lo.shape[0]

    def sums(self) -> Tuple[Interval, Tensor, Tensor]:
        """Per slab: the enclosure of ``Σ_B ∫_B g_k`` ``(K, M)`` (outward) and ``Σ_B ∫_B f²`` (upper, lower)."""
        K, M = self.K, self.I.shape[1]
        idx = (self.slab[:, None] * M + torch.arange(M)[None, :]).reshape(-1)
        lo = slab_sum(self.I.lo.reshape(-1), idx, K * M, False).reshape(K, M)
        hi = slab_sum(self.I.hi.reshape(-1), idx, K * M, True).reshape(K, M)
        return Interval(lo, hi), slab_sum(self.sq_hi, self.slab, K, True), slab_sum(self.sq_lo, self.slab, K, False)

    def split(self, idx: Tensor) -> int:
        if idx.numel() == 0:
            return 0
        axis = split_axes(self.F[idx], self.lo[idx], self.hi[idx], self.split_axes)
        nlo, nhi = bisect_along(self.lo[idx], self.hi[idx], axis)
        keep = torch.ones(self.n(), dtype=torch.bool)
        keep[idx] = False
        new_slab = self.slab[idx].repeat(2)
        Fn = self._ev(self.expr, nlo, nhi)
        self.lo, self.hi = torch.cat([self.lo[keep], nlo]), torch.cat([self.hi[keep], nhi])
        self.slab = torch.cat([self.slab[keep], new_slab])
        self.F = ResidualForms.cat([self.F[keep], Fn])
        self._contrib()
        return nlo.shape[0]


def _mode_rates(kappa: float, c: float, lengths: Sequence[float], ks: List[Tuple[int, ...]]) -> Interval:
    """``μ_k = κ π² Σ k_i²/L_i² + c`` enclosed, ``(M,)``."""
    s = torch.tensor([sum(k * k / (L * L) for k, L in zip(kk, lengths)) for kk in ks], dtype=torch.float64)
    s = Interval(
        torch.nextafter(s * (1 - 2.0**-50), torch.tensor(-math.inf)),
        torch.nextafter(s * (1 + 2.0**-50), torch.tensor(math.inf)),
    )
    return PI.square() * s * kappa + c


def modal_l2_bound(
    model,
    problem: Any,
    kappa: float,
    c: float,
    modes: int,
    n_slices: int,
    cells: int,
    max_boxes: int,
    rtol: float,
    batch: int = 4096,
) -> Dict[str, Any]:
    """The modal bound of the module docstring for ``model`` (float64, boundary hard constraints): ``{"bound",
    "final", "limit", "initial", "boxes", "mu_perp"}`` (``final ≥ ‖e(·, T)‖``). ``modes`` per axis, ``n_slices`` equal time slabs, ``cells`` per
    spatial axis to start, refinement by sensitivity × width until ``√(bound/limit) ≤ 1 + rtol`` or
    ``max_boxes``."""
    from .parabolic import energy_recurrence, energy_recurrence_torch

    d = problem.spatial_dim
    lower = [float(v) for v in problem.lower]
    upper = [float(v) for v in problem.upper]
    L = [b - a for a, b in zip(lower, upper)]
    t0, T = (float(v) for v in problem.time_interval)
    tau = np.linspace(t0, T, n_slices + 1)
    tau[0], tau[-1] = t0, T
    tau_t = torch.as_tensor(tau)
    ks = mode_indices(d, modes)
    M = len(ks)
    mu = _mode_rates(kappa, c, L, ks)  # (M,)
    # the first eigenvalue outside 𝒦: one axis at modes + 1, the others at 1 (rounded down)
    lam_perp = min(sum(((modes + 1) if i == j else 1) ** 2 / (L[i] * L[i]) for i in range(d)) for j in range(d))
    mu_perp = dn(dn(dn(math.pi * math.pi) * lam_perp * (1 - 2.0**-50)) * kappa * (1 - 2.0**-50) + c)

    wave = [[PI * (k / Li) for k in range(1, modes + 1)] for Li in L]
    norm = Interval.from_value(1.0)
    for Li in L:  # Π (2/L_i)^{1/2}
        norm = norm * (Interval.from_value(2.0) / Interval.from_value(Li)).sqrt()

    def modes_of(f) -> List[Any]:
        x = f.x
        sines = [[torch.sin((x[:, i] - lower[i]) * wave[i][k]) for k in range(modes)] for i in range(d)]
        out = []
        for kk in ks:
            phi = sines[0][kk[0] - 1]
            for i in range(1, d):
                phi = phi * sines[i][kk[i] - 1]
            out.append(phi * norm)
        return out

    def start_time(f) -> Tensor:
        x = f.x.v if hasattr(f.x, "v") else f.x
        return x.lo[:, d].contiguous()

    def interior(f):
        r = problem.residual(f)
        r = r[:, 0] if r.dim() == 2 else r
        ends = tau_t[torch.searchsorted(tau_t, start_time(f), right=True).clamp(max=n_slices)]
        t = f.x[:, d]
        cols = []
        for m_, phi in enumerate(modes_of(f)):
            w = torch.exp((t - ends) * mu[m_])
            cols.append(r * phi * w)
        cols.append(r)
        return torch.stack(cols, 1)

    def initial(f):
        e = f.u[:, 0] - problem.exact(f.x)[:, 0]
        return torch.stack([e * phi for phi in modes_of(f)] + [e], 1)

    def ev(expr, a: Tensor, b: Tensor) -> ResidualForms:
        return centred_forms(model, a, b, expr, d, batch)

    spatial = list(range(d))
    lo, hi, slab = slab_grid(lower, upper, tau, [cells] * d)
    zlo, zhi, _ = slab_grid(lower, upper, np.array([t0, t0]), [cells] * d)
    fams = [
        _ModalBoxes(interior, lo, hi, slab, n_slices, spatial + [d], spatial + [d], ev),
        _ModalBoxes(initial, zlo, zhi, torch.zeros(zlo.shape[0], dtype=torch.long), 1, spatial, spatial, ev),
    ]
    h = [up(float(tau[j + 1]) - float(tau[j])) for j in range(n_slices)]
    h_t = torch.tensor(h, dtype=torch.float64)
    damp = (mu * Interval.point(-h_t[:, None].expand(n_slices, M).clone())).exp()  # (K, M) e^{−μ_k h_j}
    g = (1.0 - (mu * Interval.point(-2.0 * h_t[:, None].expand(n_slices, M).clone())).exp()) / (mu * 2.0)
    g_hi = torch.minimum(g.hi, h_t[:, None])  # (1 − e^{−2μh})/(2μ) ≤ h

    final: Dict[str, float] = {}

    def certified(Q: Interval, S: Tensor, E0: Interval, z0: float) -> float:
        """The bound from the enclosed constants, every operation outward."""
        E = E0
        total = Interval.point(torch.tensor(0.0, dtype=torch.float64))
        for j in range(n_slices):
            modal = (Interval.point(E.mag()).square() * Interval.point(g_hi[j])).sum(0).hi
            A = up(sqrt_up(float(modal)) + up(h[j] * sqrt_up(up(max(float(S[j]), 0.0) * 0.5))))
            total = total + Interval.from_value(up(A * A))
            E = E * damp[j] + Q[j]
        w_perp_sq = max(up(z0 - float(dn(float((Interval.point(E0.mig()).square()).sum(0).lo)))), 0.0)
        tail, w_T = energy_recurrence(sqrt_up(w_perp_sq), [max(float(s), 0.0) for s in S], tau, mu_perp)
        final["value"] = sqrt_up(
            float((Interval.point(E.mag()).square().sum(0) + Interval.from_value(up(w_T * w_T))).hi)
        )
        return float((total + Interval.from_value(tail)).hi)

    def smooth(Qm: Tensor, Qr: Tensor, S: Tensor, E0m: Tensor, E0r: Tensor, z0: Tensor) -> Tensor:
        Em, Er = E0m, E0r
        dm, gm = damp.mid(), g_hi
        total = torch.zeros((), dtype=torch.float64)
        for j in range(n_slices):
            mag = torch.sqrt(Em * Em + 1e-300) + Er
            A = torch.sqrt((mag * mag * gm[j]).sum() + 1e-300) + h_t[j] * torch.sqrt(
                torch.clamp(S[j], min=0.0) * 0.5 + 1e-300
            )
            total = total + A * A
            Em, Er = dm[j] * Em + Qm[j], dm[j] * Er + Qr[j]
        mig = torch.clamp(E0m.abs() - E0r, min=0.0)
        wp = torch.sqrt(torch.clamp(z0 - (mig * mig).sum(), min=0.0) + 1e-300)
        return total + energy_recurrence_torch(wp, S, h_t, mu_perp)

    def state(which: str):
        Q, S_hi, S_lo = fams[0].sums()
        E0, z_hi, z_lo = fams[1].sums()
        if which == "up":
            return Q, S_hi, E0[0], float(z_hi[0])
        return Q, S_lo, E0[0], float(z_lo[0])

    while True:
        Q, S, E0, z0 = state("up")
        value = certified(Q, S, E0, z0)
        Ql, Sl, E0l, z0l = state("low")
        with torch.no_grad():
            limit = float(
                smooth(
                    Ql.mid(), torch.zeros_like(Ql.mid()), Sl, E0l.mid(), torch.zeros_like(E0l.mid()), torch.tensor(z0l)
                )
            )
        total_boxes = sum(f.n() for f in fams)
        if value <= NEGLIGIBLE or math.sqrt(value / max(limit, 1e-300)) <= 1.0 + rtol or total_boxes >= max_boxes:
            break
        # sensitivities of the bound to each slab's, mode's radius and S, then box scores
        Qm, Qr = Q.mid(), Q.rad(Q.mid()).clone().requires_grad_(True)
        Sv = S.clone().requires_grad_(True)
        E0m, E0r = E0.mid(), E0.rad(E0.mid()).clone().requires_grad_(True)
        zt = torch.tensor(z0, requires_grad=True)
        gQ, gS, gE, gz = torch.autograd.grad(smooth(Qm, Qr, Sv, E0m, E0r, zt), [Qr, Sv, E0r, zt])
        s0 = (fams[0].I.rad(fams[0].I.mid()) * gQ[fams[0].slab]).sum(1) + gS[fams[0].slab].abs() * (
            fams[0].sq_hi - fams[0].sq_lo
        )
        s1 = (fams[1].I.rad(fams[1].I.mid()) * gE[None, :]).sum(1) + gz.abs() * (fams[1].sq_hi - fams[1].sq_lo)
        sc = torch.nan_to_num(torch.cat([s0, s1]), nan=0.0, posinf=0.0)
        n_split = max(1, min(int(0.25 * sc.numel()) + 1, max_boxes - sc.numel()))
        top = torch.argsort(sc, descending=True)[:n_split]
        top = top[sc[top] > 0]
        if top.numel() == 0:
            break
        n0 = fams[0].n()
        fams[0].split(top[top < n0])
        fams[1].split(top[top >= n0] - n0)
    value = certified(Q, S, E0, z0)  # (again: ``final`` of these constants)
    return {
        "bound": sqrt_up(value),
        "final": final["value"],
        "limit": math.sqrt(max(limit, 0.0)),
        "initial": sqrt_up(z0),
        "boxes": sum(f.n() for f in fams),
        "mu_perp": mu_perp,
    }
