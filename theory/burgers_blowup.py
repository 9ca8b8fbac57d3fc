r"""Error bounds and a tight a-posteriori error estimate for PINNs on inviscid Burgers near blow-up.

Source: D. Kumar & A. Mukherjee, "Investigating the ability of PINNs to solve Burgers' PDE near finite-time
blowup", Mach. Learn.: Sci. Technol. 5 (2024) 025063; arXiv 2310.05169 (journal Theorems 4.1 and 4.2; the
first author's slides call them Theorems 1 and 2). The problems are the exact family
``u = A(t) x``, ``A(t) = A0 (I + t A0)^{-1}`` of :class:`pinnkit.equations.InviscidBurgersBlowup`.

Three things are computed from a surrogate ``u_θ`` (any ``nn.Module`` mapping ``(N, d+1)`` points, time
last, to ``(N, d)`` velocities):

* :func:`theorem1` — every term of the (d+1)-D bound ``log ∫_Ω‖u−u_θ‖² ≤ log(C1 C2/4) + C1·L``;
* :func:`theorem2` / :func:`theorem2_consistent` — the (1+1)-D bound as stated, and a dimensionally
  consistent variant (squared error on the left, ``∫R_tb²`` on the right);
* :func:`tight_estimate` — a time-resolved energy estimate (derived in its docstring) that stays above
  the true error while being within a small factor of it.

Honesty about what the numbers are: every integral is a quadrature (Monte Carlo, quasi-Monte Carlo or
Gauss–Legendre) and every ``sup`` over a continuous set is a maximum over finitely many points, so what is
returned is an *estimate* of each theorem's right-hand side, not a certified bound. Each dataclass carries
``is_bound = False`` and ``estimated = True`` to say so. The true error (``log_lhs``, ``true``) is computed
from the problem's exact solution with the same rule.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor, nn

from pinnkit.derivatives import Fields
from pinnkit.equations.reference import blowup_exact as be
from pinnkit.metrics import weighted_sum
from pinnkit.sampling import unit_cube
from pinnkit.validation import check_choice, check_positive

from .checks import ArgumentTypeError, check_count, check_flag, check_memory, check_module, check_seed

if TYPE_CHECKING:
    from pinnkit.equations.burgers import InviscidBurgersBlowup

__all__ = [
    "Theorem1Terms",
    "Theorem2Terms",
    "TightEstimate",
    "theorem1",
    "theorem2",
    "theorem2_consistent",
    "tight_estimate",
    "QUADRATURES",
    "gauss_rule",
    "GRAD_NORMS",
]

QUADRATURES = ("uniform", "sobol", "gauss")
GRAD_NORMS = ("max_column_sum", "spectral")
_CHUNK = 32768
_MAX_GAUSS = 512  # nodes per axis (numpy's Golub–Welsch rule costs O(n²) memory)


# =========================================================================== evaluation helpers
def check_blowup_problem(problem: Any) -> None:
    """``problem`` must be of the ``u = A(t) x`` family (it has ``A0``, ``A`` and ``exact``), else
    :class:`~pinnkit.theory.checks.ArgumentTypeError` (a ValueError and a TypeError)."""
    if not (hasattr(problem, "A0") and hasattr(problem, "A") and hasattr(problem, "exact")):
        raise ArgumentTypeError(
            "problem must be a pinnkit.equations.InviscidBurgersBlowup (the u = A(t) x family), "
            f"got {type(problem).__name__}"
        )


MODEL_DESCRIPTION = "mapping (N, d+1) space-time points, time last, to (N, d) velocities"


def rule_size(n: int, k: int, method: str) -> int:
    """The number of nodes :func:`box_rule` makes for ``n`` requested points on a ``k``-dimensional box."""
    if method != "gauss":
        return n
    m = min(_MAX_GAUSS, max(2, int(round(float(min(n, 10**300)) ** (1.0 / k)))))
    return m**k


def _eval_bytes(n_points: int, d: int, derivatives: bool = True) -> int:
    """Bytes (an estimate) that drawing ``n_points`` space-time points and :func:`evaluate` at them hold:
    the points and the drawing's temporaries, the weights, and the float64 outputs (``u``, ``exact`` and with
    ``derivatives`` ``jac`` and ``res``), chunk lists and concatenated arrays both."""
    outputs = 2 * d + (d * (d + 1) + d if derivatives else 0)
    return 8 * n_points * (2 * outputs + 3 * (d + 1) + 4)


def _gauss_bytes(n: int) -> int:
    """Bytes of numpy's Gauss–Legendre rule with ``n`` nodes (its companion-matrix eigenproblem, O(n²))."""
    return 8 * n * n * 4


def _check_gauss_nodes(name: str, n: Any) -> int:
    n = check_count(name, n)
    check_memory(name, n, _gauss_bytes(n), f"its Gauss-Legendre rule ({n} nodes, an {n} x {n} eigenproblem)")
    return n


def _check_omega(problem, name: str, n: Any, method: str, what: str) -> int:
    """``n`` points on ``Ω`` (checked: a count >= 1, and what drawing and evaluating them holds fits)."""
    n = check_count(name, n)
    d = problem.spatial_dim
    size = rule_size(n, d + 1, method)
    check_memory(name, n, _eval_bytes(size, d), f"{what} ({size} points in Ω)")
    return n


def check_theorem1_args(
    problem, n_samples: Any, seed: Any, norm: Any, method: Any, n_initial: Any, window_length: Any
) -> Tuple[int, int, Optional[int], Optional[float]]:
    """The arguments of :func:`theorem1`, checked (counts, seed, choices, memory) before any work."""
    check_blowup_problem(problem)
    check_choice("norm", norm, GRAD_NORMS)
    check_choice("method", method, QUADRATURES)
    seed = check_seed("seed", seed)
    n_samples = _check_omega(problem, "n_samples", n_samples, method, "theorem1")
    d = problem.spatial_dim
    if n_initial is not None:
        n_initial = check_count("n_initial", n_initial)
        size0 = rule_size(n_initial, d, method)
        check_memory("n_initial", n_initial, _eval_bytes(size0, d, False), f"theorem1 ({size0} points in D)")
    if window_length is not None:
        window_length = check_positive("window_length", window_length)
    return n_samples, seed, n_initial, window_length


def model_dtype(model: nn.Module) -> torch.dtype:
    """The dtype the model computes in: that of its first parameter or buffer (float64 if it has none)."""
    for t in list(model.parameters()) + list(model.buffers()):
        if t.is_floating_point():
            return t.dtype
    return torch.float64


def model_device(model: nn.Module) -> torch.device:
    for t in list(model.parameters()) + list(model.buffers()):
        return t.device
    return torch.device("cpu")


def field_fn(model: nn.Module) -> Callable[[Tensor], Tensor]:
    """``model`` as a field for :class:`~pinnkit.derivatives.Fields`: outputs always ``(N, m)`` (a ``(N,)``
    output becomes ``(N, 1)``)."""

    def f(x: Tensor) -> Tensor:
        y = model(x)
        return y.unsqueeze(-1) if y.dim() == 1 else y

    return f


def evaluate(
    model: nn.Module, problem: InviscidBurgersBlowup, pts: np.ndarray, *, derivatives: bool = True, chunk: int = _CHUNK
) -> Dict[str, np.ndarray]:
    """Surrogate and exact solution at space–time points ``pts`` (``(N, d+1)``, float64 numpy).

    The points are rounded to the model's dtype first and the exact solution is evaluated (in float64) at
    the rounded points, so that ``u_θ − u`` compares the two at the same inputs. Returns float64 arrays:
    ``u`` (``(N, d)``, surrogate), ``exact`` (``(N, d)``) and, with ``derivatives``, ``jac`` (``(N, d, d+1)``,
    ``∂u_θ,i/∂x_k`` including the time column) and ``res`` (``(N, d)``, ``R_pde = ∂_t u_θ + (u_θ·∇)u_θ``).
    """
    d = problem.spatial_dim
    dtype, device = model_dtype(model), model_device(model)
    fn = field_fn(model)
    out: Dict[str, list] = {"u": [], "exact": [], "jac": [], "res": []}
    for i in range(0, len(pts), chunk):
        x = torch.as_tensor(pts[i : i + chunk], dtype=dtype, device=device)
        with torch.no_grad():
            out["exact"].append(problem.exact(x.detach().to(torch.float64)).cpu().numpy())
        if derivatives:
            with torch.enable_grad():
                f = Fields(fn, x, spatial_dim=d)
                jac = f.jacobian()
                res = problem.residual(f)
            out["u"].append(f.u.detach().to(torch.float64).cpu().numpy())
            out["jac"].append(jac.detach().to(torch.float64).cpu().numpy())
            out["res"].append(res.detach().to(torch.float64).cpu().numpy())
        else:
            with torch.no_grad():
                out["u"].append(fn(x).to(torch.float64).cpu().numpy())
    return {k: np.concatenate(v, axis=0) for k, v in out.items() if v}


def matrix_norm(J: np.ndarray, kind: str) -> np.ndarray:
    """``‖J‖`` of each ``(d, d)`` matrix: ``max_column_sum`` (``max_j Σ_i |J_ij|``, the paper's code) or
    ``spectral`` (largest singular value)."""
    if kind == "max_column_sum":
        return np.abs(J).sum(axis=-2).max(axis=-1)
    if kind == "spectral":
        return np.linalg.svd(J, compute_uv=False)[..., 0]
    raise ValueError(f"norm must be one of {GRAD_NORMS}, got {kind!r}")


def gauss_rule(lower, upper, counts: Sequence[int]) -> Tuple[np.ndarray, np.ndarray]:
    """Tensor Gauss–Legendre rule on the box ``[lower, upper]`` with ``counts[k]`` nodes on axis ``k``: nodes
    ``(Π counts, k)`` (first axis slowest) and weights summing to the box volume."""
    axes, wts = [], []
    for a, b, n in zip(lower, upper, counts):
        z, w = np.polynomial.legendre.leggauss(int(n))
        axes.append(a + 0.5 * (b - a) * (z + 1.0))
        wts.append(0.5 * (b - a) * w)
    nodes = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
    weights = np.ones(1)
    for wt in wts:
        weights = np.outer(weights, wt).ravel()
    return nodes, weights


def _gauss_box(lower, upper, n: int) -> Tuple[np.ndarray, np.ndarray]:
    """Tensor Gauss–Legendre rule with ``n`` nodes per axis on the box ``[lower, upper]``."""
    return gauss_rule(lower, upper, [n] * len(lower))


def box_rule(
    lower: Union[float, Sequence[float], np.ndarray],
    upper: Union[float, Sequence[float], np.ndarray],
    n: int,
    method: str,
    seed: int,
) -> Tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (summing to the box volume) of about ``n`` points on ``[lower, upper]``:
    ``uniform`` (Monte Carlo), ``sobol`` (scrambled Sobol, quasi-Monte Carlo) or ``gauss`` (tensor
    Gauss–Legendre, ``round(n^(1/k))`` nodes per axis, between 2 and 512)."""
    check_choice("method", method, QUADRATURES)
    n = check_count("n", n)
    seed = check_count("seed", seed, 0)
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    k = lower.size
    vol = float(np.prod(upper - lower))
    if method == "gauss":
        return _gauss_box(lower, upper, min(_MAX_GAUSS, max(2, int(round(float(min(n, 10**300)) ** (1.0 / k))))))
    u = unit_cube(n, k, method, seed)
    return lower + u * (upper - lower), np.full(len(u), vol / len(u))


def omega_rule(problem: Any, n: int, method: str, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """Quadrature rule ``(points (n, d+1), weights (n,))`` on the space–time box ``Ω × [t0, T]`` of ``problem``
    (:func:`box_rule`)."""
    t0, T = problem.time_interval
    return box_rule(list(problem.lower) + [t0], list(problem.upper) + [T], n, method, seed)


def _initial_rule(problem, n: int, method: str, seed: int):
    nodes, w = box_rule(problem.lower, problem.upper, n, method, seed)
    pts = np.concatenate([nodes, np.full((len(nodes), 1), problem.time_interval[0])], axis=1)
    return pts, w


def _log(x: float) -> float:
    if not math.isfinite(x) or x < 0:
        return float("nan")
    return math.log(x) if x > 0 else float("-inf")


def _mc_stderr(values: np.ndarray, weights: np.ndarray, method: str) -> float:
    """Standard error of a Monte Carlo integral ``Σ w f`` (equal weights); NaN for deterministic rules."""
    if method != "uniform" or len(values) < 2:
        return float("nan")
    return float(weights[0] * len(values) * np.std(values, ddof=1) / math.sqrt(len(values)))


# =========================================================================== Theorem 1 (d+1 dimensions)
class _LogInequality:
    """Shared by the theorem dataclasses: whether ``log_lhs ≤ log_rhs`` held, and a plain dict."""

    @property
    def holds(self) -> bool:
        """``log_lhs ≤ log_rhs`` (on the estimated values)."""
        return bool(self.log_lhs <= self.log_rhs)

    def as_dict(self) -> Dict[str, float]:
        return asdict(self)


@dataclass
class Theorem1Terms(_LogInequality):
    r"""Every term of the (d+1)-D bound of Kumar & Mukherjee (journal Thm 4.1; slides' Thm 1):

    ``log ∫_Ω ‖u − u_θ‖² ≤ log(C1 C2 / 4) + C1 · L``, with

    * ``C1 = d² ‖∇u_θ‖_∞ + 1 + d² ‖∇u‖_∞``,
    * ``C2 = ∫_D ‖R_t‖² + ∫_Ω ‖R_pde‖² + d² ‖∇u_θ‖_∞ ∫_Ω ‖u_θ‖² + d² ‖∇u‖_∞ ∫_Ω ‖u‖²``,
    * ``R_t = u_θ(·, t0) − u(·, t0)``, ``R_pde = ∂_t u_θ + (u_θ·∇)u_θ``, ``Ω = D × [t0, T]``,
    * ``‖∇v‖_∞ = sup_Ω ‖J_v‖`` for the spatial Jacobian ``J_ij = ∂v_i/∂x_j`` and the matrix norm ``norm``.

    ``L`` (``window_length``) is the length of the time window; the paper writes ``C1/√2`` because its
    (2+1)-D window ``[δ − 1/√2, δ]`` has length ``1/√2`` (the authors' 2-D analysis code computes
    ``log C2 + log(C1/4) + C1/√2``). By default ``L = T − t0``.

    Status: an ESTIMATE of the theorem's right-hand side (``is_bound = False``, ``estimated = True``):
    the integrals are quadratures over ``n_samples`` points (``method``) and ``‖∇u_θ‖_∞`` is the maximum
    over those sample points, which can only under-estimate the supremum. ``‖∇u‖_∞`` and ``∫_Ω‖u‖²`` are
    analytic. ``exact_sq_quadrature`` is ``∫_Ω‖u‖²`` by the same rule as the other integrals — a check of
    the quadrature error against the analytic ``exact_sq``.
    """

    d: int
    t0: float
    T: float
    window_length: float
    norm: str
    method: str
    n_samples: int
    initial_residual_sq: float
    pde_residual_sq: float
    grad_surrogate_sup: float
    grad_exact_sup: float
    surrogate_sq: float
    exact_sq: float
    exact_sq_quadrature: float
    C1: float
    C2: float
    error_sq: float
    error_sq_stderr: float
    log_lhs: float
    log_rhs: float
    is_bound: bool = False
    estimated: bool = True


def theorem1(
    model: nn.Module,
    problem: InviscidBurgersBlowup,
    n_samples: int = 20000,
    seed: int = 0,
    norm: str = "max_column_sum",
    method: str = "uniform",
    n_initial: Optional[int] = None,
    window_length: Optional[float] = None,
) -> Theorem1Terms:
    """Terms of Theorem 1 (journal Thm 4.1) for ``model`` on an :class:`InviscidBurgersBlowup` problem.

    Args:
        n_samples: points in ``Ω`` for ``∫_Ω‖R_pde‖²``, ``∫_Ω‖u_θ‖²``, the true error and the sampled
            ``sup ‖∇u_θ‖`` (the paper used 500,000 Monte Carlo points).
        seed: seed of the random/quasi-random points.
        norm: ``"max_column_sum"`` (the paper's code) or ``"spectral"``.
        method: ``"uniform"`` (Monte Carlo), ``"sobol"`` (QMC) or ``"gauss"`` (tensor Gauss–Legendre).
        n_initial: points in ``D`` for ``∫_D‖R_t‖²`` (default ``min(n_samples, 20000)``; with
            ``gauss`` the per-time-level node count of the ``Ω`` rule).
        window_length: ``L`` in the exponent ``C1·L`` (default ``T − t0``; the paper's ``1/√2``).
    """
    check_module("model", model, MODEL_DESCRIPTION)
    n_samples, seed, n_initial, window_length = check_theorem1_args(
        problem, n_samples, seed, norm, method, n_initial, window_length
    )
    d = problem.spatial_dim
    t0, T = problem.time_interval
    L = float(T - t0) if window_length is None else float(window_length)
    if n_initial is None:  # as many points in D as the Ω rule has per time level (Gauss) or min(n, 20000)
        n_initial = (
            min(_MAX_GAUSS, max(2, int(round(float(min(n_samples, 10**300)) ** (1.0 / (d + 1)))))) ** d
            if method == "gauss"
            else min(n_samples, 20000)
        )

    pts, w = omega_rule(problem, n_samples, method, seed)
    ev = evaluate(model, problem, pts)
    err = ((ev["u"] - ev["exact"]) ** 2).sum(axis=1)
    error_sq = weighted_sum(w, err)
    pde_sq = weighted_sum(w, (ev["res"] ** 2).sum(axis=1))
    surr_sq = weighted_sum(w, (ev["u"] ** 2).sum(axis=1))
    exact_q = weighted_sum(w, (ev["exact"] ** 2).sum(axis=1))
    g_theta = float(matrix_norm(ev["jac"][:, :, :d], norm).max())

    pts0, w0 = _initial_rule(problem, n_initial, method, seed + 1)
    ev0 = evaluate(model, problem, pts0, derivatives=False)
    init_sq = weighted_sum(w0, ((ev0["u"] - ev0["exact"]) ** 2).sum(axis=1))

    g_exact = float(problem.grad_sup_norm(norm))
    energy = float(problem.energy())
    d2 = d * d
    C1 = d2 * g_theta + 1.0 + d2 * g_exact
    C2 = init_sq + pde_sq + d2 * g_theta * surr_sq + d2 * g_exact * energy
    return Theorem1Terms(
        d=d,
        t0=t0,
        T=T,
        window_length=L,
        norm=norm,
        method=method,
        n_samples=len(pts),
        initial_residual_sq=init_sq,
        pde_residual_sq=pde_sq,
        grad_surrogate_sup=g_theta,
        grad_exact_sup=g_exact,
        surrogate_sq=surr_sq,
        exact_sq=energy,
        exact_sq_quadrature=exact_q,
        C1=C1,
        C2=C2,
        error_sq=error_sq,
        error_sq_stderr=_mc_stderr(err, w, method),
        log_lhs=_log(error_sq),
        log_rhs=math.log(C1 * C2 / 4.0) + C1 * L,
    )


# =========================================================================== Theorem 2 ((1+1)-D)
@dataclass
class Theorem2Terms(_LogInequality):
    r"""Every term of the (1+1)-D bound (journal Thm 4.2, slides' Thm 2) for ``u = x/(t−1)`` on
    ``[−1, 1] × [t0, δ]``:

    ``LHS ≤ [1 + C e^C] [ I_tb + ∫∫ R_int² + 2 C_2b (∫R_sb,−1² + ∫R_sb,1²) + 2 C_1b ((∫R_sb,−1²)^{1/2}
    + (∫R_sb,1²)^{1/2}) ]``, ``C = 1 + 2/(1−δ)``, ``C_1b = 1/(1−δ)²``,
    ``C_2b = ‖u_θ(1,·)‖_∞ + (3/2)/(1−δ)``; ``R_sb,±1(t) = u_θ(±1,t) − u(±1,t)``, ``R_int = R_pde``,
    ``R_tb(x) = u_θ(x,t0) − u(x,t0)``; the boundary integrals run over ``t ∈ [t0, δ]``.

    ``variant = "as_written"``: ``LHS = (∫∫ |u − u_θ|²)^{1/2}`` and ``I_tb = ∫ R_tb dx`` (signed, unsquared),
    exactly as the statement reads (the design notes suspect both are typos). ``variant = "consistent"``:
    ``LHS = ∫∫ |u − u_θ|²`` and ``I_tb = ∫ R_tb² dx`` — every right-hand term is then quadratic in the
    residuals, like the left. The authors' own 1-D analysis script compares ``∫∫|u − u_θ|²`` (squared) with
    the bracket using an unsquared initial-time integral. ``‖u_θ(1,·)‖_∞`` is ``max_t |u_θ(1,t)|`` over the
    time nodes (the absolute value: the exact ``u(1,t) = 1/(t−1)`` is negative).

    With the signed ``I_tb`` the bracket can be ``≤ 0``; ``log_rhs`` is then NaN. Status: an ESTIMATE
    (quadrature, sampled sup), ``is_bound = False``.
    """

    variant: str
    delta: float
    t0: float
    method: str
    initial_residual_integral: float
    initial_residual_sq: float
    interior_residual_sq: float
    boundary_left_sq: float
    boundary_right_sq: float
    surrogate_right_sup: float
    C: float
    C1b: float
    C2b: float
    bracket: float
    log_prefactor: float
    error_sq: float
    lhs: float
    log_lhs: float
    log_rhs: float
    is_bound: bool = False
    estimated: bool = True


def check_1d_preset(problem: Any) -> float:
    """``problem`` must be the (1+1)-D preset ``u = x/(t−1)`` on ``[−1, 1]`` with a window ending before the
    blow-up at ``t = 1`` (the setting of Theorem 2), else ValueError; returns δ, the end of the window."""
    check_blowup_problem(problem)
    ok = (
        problem.spatial_dim == 1
        and np.allclose(problem.A0, [[-1.0]])
        and np.allclose(problem.lower, [-1.0])
        and np.allclose(problem.upper, [1.0])
    )
    if not ok:
        raise ValueError(
            "Theorem 2 is stated for the (1+1)-D problem u = x/(t-1) on [-1, 1] "
            "(BurgersBlowup(dim=1, delta=...)); got a different problem"
        )
    delta = float(problem.time_interval[1])
    if not delta < 1.0:
        raise ValueError(f"Theorem 2 needs the window to end before the blow-up at t = 1, got delta = {delta}")
    return delta


def check_theorem2_args(problem, n_samples: Any, n_time: Any, n_space: Any, method: Any, seed: Any) -> Tuple:
    """The arguments of :func:`theorem2`, checked before any work; ``(δ, n_samples, n_time, n_space, seed)``."""
    delta = check_1d_preset(problem)
    check_choice("method", method, QUADRATURES)
    seed = check_seed("seed", seed)
    n_samples = _check_omega(problem, "n_samples", n_samples, method, "theorem2")
    n_time = _check_gauss_nodes("n_time", n_time)
    n_space = _check_gauss_nodes("n_space", n_space)
    return delta, n_samples, n_time, n_space, seed


def _theorem2(
    model: nn.Module, problem, variant: str, n_samples: int, n_time: int, n_space: int, method: str, seed: int
) -> Theorem2Terms:
    check_module("model", model, MODEL_DESCRIPTION)
    delta, n_samples, n_time, n_space, seed = check_theorem2_args(problem, n_samples, n_time, n_space, method, seed)
    t0, T = problem.time_interval
    # interior: ∫∫ R_int² and the true error on Ω
    pts, w = omega_rule(problem, n_samples, method, seed)
    ev = evaluate(model, problem, pts)
    error_sq = weighted_sum(w, ((ev["u"] - ev["exact"]) ** 2).sum(axis=1))
    int_sq = weighted_sum(w, (ev["res"] ** 2).sum(axis=1))
    # initial time: ∫ R_tb and ∫ R_tb² by Gauss–Legendre in x
    xs, wx = _gauss_box([-1.0], [1.0], n_space)
    ev0 = evaluate(model, problem, np.concatenate([xs, np.full_like(xs, t0)], axis=1), derivatives=False)
    rtb = (ev0["u"] - ev0["exact"])[:, 0]
    tb_int, tb_sq = weighted_sum(wx, rtb), weighted_sum(wx, rtb**2)
    # boundaries: ∫ R_sb² dt at x = -1 and x = 1 by Gauss–Legendre in t (plus the end points for the sup)
    ts, wt = _gauss_box([t0], [T], n_time)
    t_all = np.concatenate([ts[:, 0], [t0, T]])
    sb = {}
    for side, xval in (("left", -1.0), ("right", 1.0)):
        evb = evaluate(model, problem, np.stack([np.full_like(t_all, xval), t_all], axis=1), derivatives=False)
        r = (evb["u"] - evb["exact"])[:, 0]
        sb[side] = (weighted_sum(wt, r[:n_time] ** 2), evb["u"][:, 0])
    left_sq, right_sq = sb["left"][0], sb["right"][0]
    u_right_sup = float(np.abs(sb["right"][1]).max())

    g = 1.0 / (1.0 - delta)
    C, C1b, C2b = 1.0 + 2.0 * g, g * g, u_right_sup + 1.5 * g
    I_tb = tb_int if variant == "as_written" else tb_sq
    bracket = I_tb + int_sq + 2.0 * C2b * (left_sq + right_sq) + 2.0 * C1b * (math.sqrt(left_sq) + math.sqrt(right_sq))
    log_pref = C + math.log(C) + math.log1p(math.exp(-C) / C)  # log(1 + C e^C)
    if variant == "as_written":
        lhs, log_lhs = math.sqrt(error_sq), 0.5 * _log(error_sq)
    else:
        lhs, log_lhs = error_sq, _log(error_sq)
    log_rhs = log_pref + math.log(bracket) if bracket > 0 else (float("-inf") if bracket == 0 else float("nan"))
    return Theorem2Terms(
        variant=variant,
        delta=delta,
        t0=t0,
        method=method,
        initial_residual_integral=tb_int,
        initial_residual_sq=tb_sq,
        interior_residual_sq=int_sq,
        boundary_left_sq=left_sq,
        boundary_right_sq=right_sq,
        surrogate_right_sup=u_right_sup,
        C=C,
        C1b=C1b,
        C2b=C2b,
        bracket=bracket,
        log_prefactor=log_pref,
        error_sq=error_sq,
        lhs=lhs,
        log_lhs=log_lhs,
        log_rhs=log_rhs,
    )


def theorem2(
    model: nn.Module,
    problem: InviscidBurgersBlowup,
    n_samples: int = 16384,
    n_time: int = 256,
    n_space: int = 256,
    method: str = "gauss",
    seed: int = 0,
) -> Theorem2Terms:
    """Theorem 2 (journal Thm 4.2) AS WRITTEN: ``(∫∫|u−u_θ|²)^{1/2} ≤ (1 + C e^C)[∫R_tb + …]`` with the
    signed, unsquared ``∫R_tb``. See :class:`Theorem2Terms` for every term; :func:`theorem2_consistent` for
    the squared variant.

    Args:
        n_samples: points in ``Ω`` for ``∫∫R_int²`` and the error (``method`` ``"gauss"``: about
            ``√n_samples`` Gauss–Legendre nodes per axis; ``"uniform"``/``"sobol"``: (Q)MC).
        n_time, n_space: Gauss–Legendre nodes for the boundary integrals in ``t`` and the initial-time
            integrals in ``x``.
    """
    return _theorem2(model, problem, "as_written", n_samples, n_time, n_space, method, seed)


def theorem2_consistent(
    model: nn.Module,
    problem: InviscidBurgersBlowup,
    n_samples: int = 16384,
    n_time: int = 256,
    n_space: int = 256,
    method: str = "gauss",
    seed: int = 0,
) -> Theorem2Terms:
    """Theorem 2, CONSISTENT variant: ``∫∫|u−u_θ|² ≤ (1 + C e^C)[∫R_tb² + ∫∫R_int² + …]`` — squared error on
    the left, squared initial residual on the right (the reading under which both sides scale alike).
    Arguments as :func:`theorem2`."""
    return _theorem2(model, problem, "consistent", n_samples, n_time, n_space, method, seed)


# =========================================================================== tight a-posteriori estimate
@dataclass
class TightEstimate:
    r"""Time-resolved a-posteriori estimate of ``‖e(t)‖² = ∫_D |u_θ − u|² dx`` (see :func:`tight_estimate`).

    Arrays (numpy, float64):

    * ``times`` (``K+1``): slice ends ``t0 = τ_0 < … < τ_K = T``;
    * ``z_bar`` (``K+1``): the comparison solution ``z̄(τ_k) ≥ ‖e(τ_k)‖²`` (estimated);
    * ``true_sq`` (``K+1``): ``‖e(τ_k)‖²`` from the exact solution (Gauss–Legendre in space);
    * ``a``, ``r``, ``b`` (``K``): per-slice maxima of the growth rate ``a(t)``, of ``‖R_pde(·,t)‖_{L²(D)}``
      and of the boundary flux ``B(t)`` used in the slice ODE.

    Scalars: ``estimate = ∫ z̄ dt`` (≥ ``∫_Ω‖e‖²``), ``true = ∫_Ω ‖e‖²`` (Gauss–Legendre in time and space),
    ``ratio = estimate/true``, ``ratio_l2 = √ratio`` (the same for L² norms), ``min_pointwise_ratio =
    min_{k≥1} z̄(τ_k)/‖e(τ_k)‖²`` (≥ 1 when the estimate is valid at every slice end), ``initial_sq = z̄(t0)``.

    Status: an ESTIMATE (``is_bound = False``, ``estimated = True``): ``sup_D`` and the per-slice maxima are
    taken over finite point sets and the space integrals are quadratures. Everything else in the
    derivation is a rigorous inequality.
    """

    times: np.ndarray
    z_bar: np.ndarray
    true_sq: np.ndarray
    a: np.ndarray
    r: np.ndarray
    b: np.ndarray
    estimate: float
    true: float
    ratio: float
    ratio_l2: float
    min_pointwise_ratio: float
    initial_sq: float
    n_slices: int
    is_bound: bool = False
    estimated: bool = True
    settings: Dict[str, float] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """The estimate is above the true error, integrated and at every slice end (1e-9 relative slack
        for round-off)."""
        tol = 1e-9
        ok_int = self.estimate >= self.true * (1 - tol) - 1e-300
        ok_pt = bool(np.all(self.z_bar >= self.true_sq * (1 - tol) - 1e-300))
        return bool(ok_int and ok_pt)

    def summary(self) -> Dict[str, float]:
        return {
            "estimate": self.estimate,
            "true": self.true,
            "ratio": self.ratio,
            "ratio_l2": self.ratio_l2,
            "min_pointwise_ratio": self.min_pointwise_ratio,
            "initial_sq": self.initial_sq,
        }


def graded_time_grid(
    problem: InviscidBurgersBlowup, n_slices: int, grading: bool = True, n_fine: int = 20001
) -> np.ndarray:
    """``n_slices + 1`` times on ``[t0, T]`` with spacing proportional to ``min(dist(t, blow-up), T − t0)``:
    equal steps of ``∫ dt / min(dist, L)`` (logarithmic grading towards every blow-up time of the family,
    uniform far from them), so that ``a(t) ~ 1/dist`` changes by a bounded factor on every slice."""
    check_blowup_problem(problem)
    n_slices = check_count("n_slices", n_slices)
    grading = check_flag("grading", grading)
    n_fine = check_count("n_fine", n_fine, 2)
    check_memory("n_slices", n_slices, 8 * 4 * (n_slices + 1), "graded_time_grid")
    check_memory("n_fine", n_fine, 8 * 8 * n_fine, "graded_time_grid")
    t0, T = problem.time_interval
    if not grading:
        return np.linspace(t0, T, n_slices + 1)
    L = T - t0
    s = np.linspace(t0, T, n_fine)
    tb = be.blowup_times(problem.A0)
    dist = np.full_like(s, L)
    for t in tb:
        dist = np.minimum(dist, np.abs(s - t))
    dens = 1.0 / np.maximum(dist, 1e-12 * L)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(s))])
    grid = np.interp(np.linspace(0.0, cum[-1], n_slices + 1), cum, s)
    grid[0], grid[-1] = t0, T
    return grid


def _face_rule(problem, n: int):
    """Gauss–Legendre nodes on every face of D: list of (nodes (M, d), weights (M,), normal index, sign)."""
    d = problem.spatial_dim
    lo, hi = np.asarray(problem.lower, float), np.asarray(problem.upper, float)
    faces = []
    for k in range(d):
        others = [j for j in range(d) if j != k]
        if others:
            nodes_o, w = _gauss_box(lo[others], hi[others], n)
        else:
            nodes_o, w = np.zeros((1, 0)), np.ones(1)
        for side, val in ((-1.0, lo[k]), (1.0, hi[k])):
            nodes = np.zeros((len(w), d))
            nodes[:, others] = nodes_o
            nodes[:, k] = val
            faces.append((nodes, w, k, side))
    return faces


def _slice_ode(z0: float, a: float, r: float, b: float, h: float, n_sub: int) -> np.ndarray:
    """RK4 on ``z' = 2 a z + 2 r √z + 2 b`` over one slice of length ``h`` (``n_sub`` steps), clamped at 0.
    Returns the ``n_sub + 1`` values."""

    def F(z: float) -> float:
        return 2.0 * a * z + 2.0 * r * math.sqrt(max(z, 0.0)) + 2.0 * b

    dt = h / n_sub
    zs = [max(z0, 0.0)]
    z = zs[0]
    for _ in range(n_sub):
        k1 = F(z)
        k2 = F(z + 0.5 * dt * k1)
        k3 = F(z + 0.5 * dt * k2)
        k4 = F(z + dt * k3)
        z = max(z + dt * (k1 + 2 * k2 + 2 * k3 + k4) / 6.0, 0.0)
        zs.append(z)
    return np.asarray(zs)


#: the settings of :func:`tight_estimate` (its arguments after ``model`` and ``problem``)
TIGHT_OPTIONS = ("n_slices", "n_sup", "n_quad", "n_time_nodes", "n_sub", "grading", "use_signed_flux")


def check_tight_args(
    problem,
    n_slices: Any = 64,
    n_sup: Any = None,
    n_quad: Any = None,
    n_time_nodes: Any = 2,
    n_sub: Any = 16,
    grading: Any = True,
    use_signed_flux: Any = True,
) -> Dict[str, Any]:
    """The settings of :func:`tight_estimate`, checked (counts, flags, memory) and with the defaults of
    ``n_sup`` and ``n_quad`` filled in, before any work."""
    check_blowup_problem(problem)
    d = problem.spatial_dim
    n_slices = check_count("n_slices", n_slices)
    n_sup = {1: 257, 2: 33}.get(d, 9) if n_sup is None else check_count("n_sup", n_sup, 2)
    n_quad = {1: 64, 2: 16}.get(d, 6) if n_quad is None else check_count("n_quad", n_quad)
    n_time_nodes = check_count("n_time_nodes", n_time_nodes)
    n_sub = check_count("n_sub", n_sub)
    grading = check_flag("grading", grading)
    use_signed_flux = check_flag("use_signed_flux", use_signed_flux)
    _check_gauss_nodes("n_quad", n_quad)
    _check_gauss_nodes("n_time_nodes", n_time_nodes)
    n_times = (n_slices + 1) + n_slices * n_time_nodes
    n_space = n_sup**d + n_quad**d + 2 * d * n_quad ** (d - 1)
    n_eval = n_times * n_space
    # the tiled points, their evaluation and the reshaped copies (jac's spatial block, e)
    estimate = _eval_bytes(n_eval, d) + 8 * n_eval * (d * d + d + 2)
    name, value = (
        ("n_slices", n_slices)
        if n_times >= n_space
        else (("n_sup", n_sup) if n_sup**d >= n_quad**d else ("n_quad", n_quad))
    )
    check_memory(
        name,
        value,
        estimate,
        f"tight_estimate ({n_times} times x {n_space} points per time = {n_eval} evaluations)",
    )
    return dict(
        n_slices=n_slices,
        n_sup=n_sup,
        n_quad=n_quad,
        n_time_nodes=n_time_nodes,
        n_sub=n_sub,
        grading=grading,
        use_signed_flux=use_signed_flux,
    )


def tight_estimate(
    model: nn.Module,
    problem: InviscidBurgersBlowup,
    n_slices: int = 64,
    n_sup: Optional[int] = None,
    n_quad: Optional[int] = None,
    n_time_nodes: int = 2,
    n_sub: int = 16,
    grading: bool = True,
    use_signed_flux: bool = True,
) -> TightEstimate:
    r"""Tight, time-resolved a-posteriori estimate of the PINN error for ``u_t + (u·∇)u = 0``.

    Derivation (pinnkit's own; it refines the energy argument behind Kumar & Mukherjee's Thm 4.1 by keeping
    every quantity time-resolved and the boundary flux exact). Let ``u`` be the exact solution, ``u_θ`` the
    surrogate, ``e = u_θ − u`` and ``R = ∂_t u_θ + (u_θ·∇)u_θ`` (``R_pde``).

    1. Subtracting ``u_t + (u·∇)u = 0`` from the surrogate's equation and using
       ``(u_θ·∇)u_θ − (u·∇)u = (u_θ·∇)e + (e·∇)u`` (add and subtract ``(u_θ·∇)u``) gives
       ``e_t + (u_θ·∇)e + (∇u) e = R`` with ``(∇u)_ij = ∂u_i/∂x_j``.
    2. Dot with ``e``: ``½ ∂_t|e|² + ½ u_θ·∇|e|² + eᵀ(∇u)e = e·R``. Since
       ``½ u_θ·∇|e|² = ½ ∇·(u_θ|e|²) − ½ (∇·u_θ)|e|²``, integrating over ``D`` (divergence theorem, outward
       normal ``n``) gives the exact identity
       ``½ d/dt ‖e‖² = B(t) + ∫_D eᵀ M e + ∫_D e·R``,
       ``B(t) = −½ ∮_{∂D} (u_θ·n)|e|² dS``, ``M = ½(∇·u_θ) I − sym(∇u)`` (``eᵀ(∇u)e = eᵀ sym(∇u) e``).
    3. On ``∂D`` the exact solution is the Dirichlet data, so ``e = R_sb`` (the boundary residual) there:
       ``B(t)`` is computable from the surrogate alone (here by Gauss–Legendre on each face).
    4. ``∫ eᵀMe ≤ a(t) ‖e‖²`` with ``a(t) = sup_{x∈D} λ_max(M(x,t))``; for the family ``u = A(t)x`` the
       Jacobian ``∇u = A(t)`` does not depend on ``x``, so ``a(t) = ½ sup_x ∇·u_θ + λ_max(−sym A(t))``.
       Cauchy–Schwarz: ``∫ e·R ≤ ‖e‖ r(t)``, ``r(t) = ‖R(·,t)‖_{L²(D)}``.
    5. Hence ``z = ‖e‖²`` satisfies ``z' ≤ 2 a(t) z + 2 r(t) √z + 2 B(t)``, ``z(t0) = ∫_D |R_t|²``.
    6. On each time slice ``[τ_k, τ_{k+1}]`` replace ``a, r, B`` by their maxima ``a_k, r_k, b_k`` over the
       slice; the right-hand side only grows, so the solution ``z̄`` of
       ``z̄' = 2 a_k z̄ + 2 r_k √z̄ + 2 b_k``, ``z̄(τ_k)`` carried over, stays ``≥ z`` (comparison principle;
       the right-hand side is increasing in ``r, b`` and, at fixed ``z ≥ 0``, in ``a``). When the signed
       flux pushes ``z̄`` below zero it is clamped at 0, which is valid since ``z ≥ 0`` (restart the
       comparison from ``z = z̄ = 0``). The slice ODE is integrated by RK4 with ``n_sub`` steps (the slices
       are short enough that its error is negligible against the inequalities' slack).
    7. ``∫_Ω ‖e‖² = ∫ z dt ≤ ∫ z̄ dt`` (trapezoid on the RK4 nodes).

    Where it is not rigorous (hence ESTIMATE): ``sup_x`` is a maximum over a grid (``n_sup`` per axis,
    boundary included, plus the quadrature and face nodes), the slice maxima are taken over the slice ends
    and ``n_time_nodes`` interior Gauss nodes, and ``r, B, ‖e‖`` are Gauss–Legendre quadratures. Slices are
    graded towards the blow-up times (:func:`graded_time_grid`) so that ``a`` varies little within a slice.

    Args:
        n_slices: number of time slices ``K``.
        n_sup: grid points per axis for ``sup_x ∇·u_θ`` (default 257 in 1-D, 33 in 2-D, 9 otherwise).
        n_quad: Gauss–Legendre nodes per axis for ``r(t)``, ``‖e(t)‖`` and the face integrals (default 64 in
            1-D, 16 in 2-D, 6 otherwise).
        n_time_nodes: interior Gauss–Legendre times per slice (also the time rule of the true integral).
        n_sub: RK4 steps per slice.
        grading: grade the slices towards blow-up (else uniform).
        use_signed_flux: use the signed ``B(t)`` (valid and tighter); ``False`` uses ``B⁺ = max(B, 0)``.
    """
    check_module("model", model, MODEL_DESCRIPTION)
    opts = check_tight_args(problem, n_slices, n_sup, n_quad, n_time_nodes, n_sub, grading, use_signed_flux)
    n_slices, n_sup, n_quad, n_time_nodes, n_sub, grading, use_signed_flux = (opts[k] for k in TIGHT_OPTIONS)
    d = problem.spatial_dim
    lo, hi = np.asarray(problem.lower, float), np.asarray(problem.upper, float)

    # ---- spatial point sets (one time slice): sup grid, interior Gauss rule, faces
    axes = [np.linspace(a, b, n_sup) for a, b in zip(lo, hi)]
    grid = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
    qn, qw = _gauss_box(lo, hi, n_quad)
    faces = _face_rule(problem, n_quad)
    blocks = [grid, qn] + [f[0] for f in faces]
    sizes = [len(b) for b in blocks]
    space = np.concatenate(blocks, axis=0)
    P = len(space)
    s_grid = slice(0, sizes[0])
    s_quad = slice(sizes[0], sizes[0] + sizes[1])
    face_slices = []
    off = sizes[0] + sizes[1]
    for f, m in zip(faces, sizes[2:]):
        face_slices.append((slice(off, off + m), f[1], f[2], f[3]))
        off += m

    # ---- times: slice ends and interior Gauss nodes
    tau = graded_time_grid(problem, n_slices, grading)
    zg, wg = np.polynomial.legendre.leggauss(n_time_nodes)
    h = np.diff(tau)
    interior = tau[:-1, None] + 0.5 * h[:, None] * (zg[None, :] + 1.0)  # (K, n_g)
    t_all = np.concatenate([tau, interior.ravel()])
    nt = len(t_all)

    pts = np.concatenate([np.tile(space, (nt, 1)), np.repeat(t_all, P)[:, None]], axis=1)
    ev = evaluate(model, problem, pts)
    u = ev["u"].reshape(nt, P, d)
    e = (ev["u"] - ev["exact"]).reshape(nt, P, d)
    res = ev["res"].reshape(nt, P, d)
    div = np.einsum("npii->np", ev["jac"][:, :, :d].reshape(nt, P, d, d))

    # growth rate a(t) = ½ sup_x ∇·u_θ + λ_max(−sym A(t))
    A = problem.A(torch.as_tensor(t_all, dtype=torch.float64)).numpy()
    lam = np.linalg.eigvalsh(-0.5 * (A + np.swapaxes(A, 1, 2)))[:, -1]
    a_t = 0.5 * div.max(axis=1) + lam
    r_t = np.sqrt(np.einsum("p,np->n", qw, (res[:, s_quad] ** 2).sum(axis=2)))
    e_sq_t = np.einsum("p,np->n", qw, (e[:, s_quad] ** 2).sum(axis=2))
    B_t = np.zeros(nt)
    for sl, w, k, sign in face_slices:
        flux = sign * u[:, sl, k]  # u_θ·n
        B_t += -0.5 * np.einsum("p,np->n", w, flux * (e[:, sl] ** 2).sum(axis=2))
    if not use_signed_flux:
        B_t = np.maximum(B_t, 0.0)
    _ = s_grid  # the grid enters only through the sup of the divergence (all points are used)

    K = n_slices
    idx_end = np.arange(K + 1)
    idx_int = (K + 1 + np.arange(K * n_time_nodes)).reshape(K, n_time_nodes)

    def slice_max(q: np.ndarray) -> np.ndarray:
        return np.maximum(np.maximum(q[idx_end[:-1]], q[idx_end[1:]]), q[idx_int].max(axis=1))

    a_k, r_k, b_k = slice_max(a_t), slice_max(r_t), slice_max(B_t)

    z0 = float(e_sq_t[0])
    z_bar = np.empty(K + 1)
    z_bar[0] = z0
    est = 0.0
    for k in range(K):
        zs = _slice_ode(z_bar[k], a_k[k], r_k[k], b_k[k], h[k], n_sub)
        est += float(np.sum(0.5 * (zs[1:] + zs[:-1])) * h[k] / n_sub)
        z_bar[k + 1] = zs[-1]

    true_sq = e_sq_t[idx_end]
    true = float(np.sum(0.5 * h[:, None] * wg[None, :] * e_sq_t[idx_int]))
    if true > 0:
        ratio = est / true
    else:
        ratio = float("nan") if est == 0 else float("inf")
    pos = true_sq[1:] > 0  # z̄(t0) = ‖e(t0)‖² by construction: compare after the start
    min_pt = float(np.min(z_bar[1:][pos] / true_sq[1:][pos])) if pos.any() else float("nan")
    return TightEstimate(
        times=tau,
        z_bar=z_bar,
        true_sq=true_sq,
        a=a_k,
        r=r_k,
        b=b_k,
        estimate=est,
        true=true,
        ratio=ratio,
        ratio_l2=math.sqrt(ratio) if ratio == ratio and ratio >= 0 else float("nan"),
        min_pointwise_ratio=min_pt,
        initial_sq=z0,
        n_slices=K,
        settings={
            "n_sup": n_sup,
            "n_quad": n_quad,
            "n_time_nodes": n_time_nodes,
            "n_sub": n_sub,
            "grading": grading,
            "use_signed_flux": use_signed_flux,
        },
    )
