"""Operator-learning (DeepONet) datasets: GRF initial conditions → periodic Burgers or heat solutions.

Each input function u0 is a periodic Gaussian random field sampled at m uniform sensors x_i = i/m on [0, 1)
(``reference.grf``); the initial condition is its trigonometric interpolant, so the operator
G: (u0(x_1), …, u0(x_m)) ↦ u(x, t) is a function of the sensor values alone.  Solutions come from
``reference.burgers_periodic`` (Burgers: Fourier pseudo-spectral + ETDRK4; heat: exact per mode) on the
output grid x ∈ linspace(0, 1, nx) (both ends: x = 1 is the image of x = 0), t ∈ linspace(0, T, nt).
Points are ordered time-major: row p = i_t · nx + i_x of ``coords`` is (x[i_x], t[i_t]) — time is the last column.

Datasets are cached as .npz under sha256(canonical JSON of the config, incl. seed and solver version) in
``cache_dir`` (default ``$PINNKIT_CACHE/operator_data``, or ``~/.cache/pinnkit/operator_data``) and can be
regenerated bit-for-bit from the seed (same numpy build and machine: FFT/BLAS round-off may differ elsewhere).
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from tqdm.auto import tqdm

from pinnkit.preflight import check_memory
from pinnkit.validation import check_choice, check_int, check_real

from .reference import burgers_periodic as bp
from .reference.grf import GRFParams, PeriodicGRF
from .reference.npz_cache import config_hash, load_npz, save_npz

__all__ = [
    "DATASET_VERSION",
    "PDES",
    "OperatorDataset",
    "default_cache_dir",
    "dataset_config",
    "config_hash",
    "generation_bytes",
    "make_dataset",
]

DATASET_VERSION = "operator_data:v1"
PDES = ("burgers", "heat")
DEFAULT_NU = 0.01
DEFAULT_KAPPA = 0.01
_CHUNK = 25  # functions per solver batch (small batches stay in cache: ~2x faster than 100) (fixed: it is part of what makes results bit-for-bit reproducible)
_ARRAYS = ("inputs", "sensors", "coords", "solutions")  # what a cache entry holds besides config and info
_TAIL_WARN = 1e-5  # warn when the top sixth of the dealiased band holds more than this (bp.spectral_tail)
_MEMORY_FACTOR = 2  # the allocation estimate of generation_bytes is doubled (temporaries, allocator overhead)
_SIZE_DEFAULTS = {"n_functions": 1000, "m_sensors": 101, "nx": 101, "nt": 101}


@dataclass
class OperatorDataset:
    """DeepONet data.  inputs (n_functions, m): u0 at ``sensors`` (m,); coords (P, 2): columns (x, t);
    solutions (n_functions, P): u at coords; config: what was generated (hashed); info: how (not hashed)."""

    inputs: np.ndarray
    sensors: np.ndarray
    coords: np.ndarray
    solutions: np.ndarray
    config: dict
    info: dict = field(default_factory=dict)
    from_cache: bool = False
    cache_path: Path | None = None

    @property
    def grid_shape(self) -> tuple[int, int]:
        """(nt, nx): solutions.reshape(n_functions, nt, nx) gives u[function, i_t, i_x]."""
        return int(self.config["nt"]), int(self.config["nx"])

    def solutions_grid(self) -> np.ndarray:
        """Solutions as (n_functions, nt, nx)."""
        return self.solutions.reshape((self.solutions.shape[0],) + self.grid_shape)


# ---------------------------------------------------------------- config and hash
def default_cache_dir() -> Path:
    """$PINNKIT_CACHE/operator_data if PINNKIT_CACHE is set, else ~/.cache/pinnkit/operator_data."""
    root = os.environ.get("PINNKIT_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "pinnkit"
    return base / "operator_data"


def dataset_config(
    pde: str = "burgers",
    n_functions: int = 1000,
    m_sensors: int = 101,
    nx: int = 101,
    nt: int = 101,
    *,
    grf: GRFParams | Mapping[str, Any] | None = None,
    nu: float | None = None,
    kappa: float | None = None,
    t_final: float = 1.0,
    seed: int = 0,
    n_solve: int | None = None,
    dt: float | None = None,
) -> dict:
    """Validated, canonical config (plain JSON types).  Only parameters that affect the data are kept."""
    pde = check_choice("pde", pde, PDES)
    params = GRFParams.from_any(grf)
    if params.period != 1.0:
        raise ValueError(f"grf.period must be 1.0 (the domain is [0, 1] periodic), got {params.period!r}")
    sizes = {
        "n_functions": check_int("n_functions", n_functions, 1),
        "m_sensors": check_int("m_sensors", m_sensors, 4),
        "nx": check_int("nx", nx, 2),
        "nt": check_int("nt", nt, 2),
    }
    # the sizes alone (the solver grid is at least m_sensors) before anything derived from them is computed
    _check_generation_memory(pde, sizes, {})
    cfg: dict[str, Any] = {
        "dataset_version": DATASET_VERSION,
        "solver_version": bp.SOLVER_VERSION,
        "pde": pde,
        **sizes,
        "t_final": check_real("t_final", t_final, 0.0),
        "seed": check_int("seed", seed, 0),
        "grf": params.canonical(),
    }
    if pde == "burgers":
        if kappa is not None:
            raise ValueError("kappa applies to pde='heat' only; use nu (viscosity) for pde='burgers'")
        cfg["nu"] = check_real("nu", DEFAULT_NU if nu is None else nu, 0.0)
        default_n = bp.default_n_solve(cfg["m_sensors"], cfg["nu"])
        cfg["n_solve"] = check_int("n_solve", default_n if n_solve is None else n_solve, cfg["m_sensors"])
        cfg["dt"] = None if dt is None else check_real("dt", dt, 0.0)
        # the solver grid: named n_solve when given, else nu (whose 5.12/nu sets the default grid)
        solver = {"n_solve": cfg["n_solve"]} if n_solve is not None else {"nu": cfg["nu"]}
        _check_generation_memory(pde, sizes, solver)
    else:
        if nu is not None or n_solve is not None or dt is not None:
            raise ValueError("nu, n_solve and dt apply to pde='burgers' only; heat is exact per mode (use kappa)")
        cfg["kappa"] = check_real("kappa", DEFAULT_KAPPA if kappa is None else kappa, 0.0)
    return cfg


# ---------------------------------------------------------------- memory
def generation_bytes(pde: str, n_functions: int, m_sensors: int, nx: int, nt: int, n_solve: int | None = None) -> int:
    """An estimate of the peak bytes :func:`make_dataset` allocates (before the safety factor): the inputs
    (n × m) and solutions (n × nx·nt) in float64, the GRF's FFT work arrays, the coordinates, and the solver's
    work arrays for one chunk of functions (heat: on the m-point grid; Burgers: on the ``n_solve`` grid, default
    ``m_sensors``, with its ETDRK4 contour-integral temporaries).  Exact integers, so absurd sizes never overflow."""
    n, m, p = int(n_functions), int(m_sensors), int(nx) * int(nt)
    chunk = min(n, _CHUNK)
    grid = m if pde == "heat" or n_solve is None else max(int(n_solve), m)
    modes = grid // 2 + 1
    f8, c16 = 8, 16
    grf = 2 * n * m * f8 + 2 * n * (m // 2 + 1) * c16  # ξ, the result; its rfft and the scaled spectrum
    resident = n * m * f8 + n * p * f8 + 6 * p * f8  # inputs, solutions, coords with the meshgrid temporaries
    evaluator = 3 * modes * int(nx) * f8  # FourierEvaluator: phase, cos, sin
    solver = 12 * chunk * modes * c16 + 3 * chunk * grid * f8 + 2 * chunk * p * f8  # one chunk's work and output
    contour = 0 if pde == "heat" else 12 * modes * bp.N_CONTOUR * c16  # etdrk4_coefficients
    return grf + resident + evaluator + solver + contour


def _check_generation_memory(pde: str, sizes: Mapping[str, int], solver: Mapping[str, Any]) -> None:
    """Refuse sizes whose estimate (:func:`generation_bytes` × the safety factor) does not fit in memory,
    naming the parameter that, put back to its default, saves the most."""
    values = {**sizes, **solver}

    def estimate(v: Mapping[str, Any]) -> int:
        if "n_solve" in v:
            grid = v["n_solve"]
        elif "nu" in v:
            grid = bp.default_n_solve(v["m_sensors"], v["nu"])
        else:
            grid = None
        return _MEMORY_FACTOR * generation_bytes(pde, v["n_functions"], v["m_sensors"], v["nx"], v["nt"], grid)

    total = estimate(values)
    defaults = {**_SIZE_DEFAULTS, "nu": DEFAULT_NU}
    best, saved = "n_functions", -1
    for name in values:
        if name == "n_solve":
            alt = values["m_sensors"]  # its smallest value
        elif name == "nu":
            alt = max(values[name], defaults[name])  # a larger viscosity needs a coarser grid
        else:
            alt = min(values[name], defaults[name])
        s = total - estimate({**values, name: alt})
        if s > saved:
            best, saved = name, s
    try:
        check_memory(best, values[best], min(total, 10**300), "the operator data set's generation")
    except ValueError as exc:
        if best != "nu":
            raise
        hint = "raise nu (the default solver grid has about 5.12/nu points) or give a smaller n_solve"
        raise ValueError(str(exc).replace("lower nu", hint)) from None


# ---------------------------------------------------------------- generation
def _grids(cfg: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sensors (m,), output x (nx,) and t (nt,)."""
    sensors = np.arange(cfg["m_sensors"]) / cfg["m_sensors"]
    return sensors, np.linspace(0.0, 1.0, cfg["nx"]), np.linspace(0.0, cfg["t_final"], cfg["nt"])


def _coords(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(P, 2) points, time-major: row i_t·nx + i_x is (x[i_x], t[i_t])."""
    tt, xx = np.meshgrid(t, x, indexing="ij")
    return np.stack([xx.ravel(), tt.ravel()], axis=1)


def _solve_chunk(
    cfg: Mapping[str, Any], u0: np.ndarray, x: np.ndarray, t: np.ndarray, dt: float | None, info: dict
) -> np.ndarray:
    """Solutions (chunk, nt, nx); for Burgers, keeps the worst spectral tail seen in info["spectral_tail"]."""
    if cfg["pde"] == "heat":
        return bp.solve_heat(u0, t, cfg["kappa"], x_out=x)
    diag: dict[str, Any] = {}
    out = bp.solve_burgers(u0, t, cfg["nu"], x_out=x, n_solve=cfg["n_solve"], dt=dt, diagnostics=diag)
    info["spectral_tail"] = max(info.get("spectral_tail", 0.0), diag["spectral_tail"])
    info["n_steps"] = diag["n_steps"]
    return out


def _generate(cfg: Mapping[str, Any], progress: bool) -> tuple[dict[str, np.ndarray], dict]:
    """Sample all inputs from one Generator(seed), then solve in fixed chunks of _CHUNK functions."""
    start = time.perf_counter()
    n = cfg["n_functions"]
    sensors, x, t = _grids(cfg)
    rng = np.random.default_rng(cfg["seed"])
    inputs = PeriodicGRF(cfg["m_sensors"], cfg["grf"]).sample(n, rng)
    info: dict[str, Any] = {"numpy_version": np.__version__}
    dt = None
    if cfg["pde"] == "burgers":  # one step size for the whole dataset, from its largest |u0|
        dt = cfg["dt"] if cfg["dt"] is not None else bp.stable_dt(float(np.abs(inputs).max()), cfg["n_solve"])
        info["dt_used"] = dt
    solutions = np.empty((n, cfg["nt"] * cfg["nx"]))
    bar = tqdm(total=n, desc=f"{cfg['pde']} operator data", unit="fn", disable=not progress)
    with bar:
        for lo in range(0, n, _CHUNK):
            hi = min(lo + _CHUNK, n)
            solutions[lo:hi] = _solve_chunk(cfg, inputs[lo:hi], x, t, dt, info).reshape(hi - lo, -1)
            bar.update(hi - lo)
    if info.get("spectral_tail", 0.0) > _TAIL_WARN:
        warnings.warn(
            f"Burgers solution under-resolved: spectral tail {info['spectral_tail']:.1e} > {_TAIL_WARN:g}; "
            "increase n_solve",
            RuntimeWarning,
            stacklevel=2,
        )
    info["generation_seconds"] = time.perf_counter() - start
    arrays = {"inputs": inputs, "sensors": sensors, "coords": _coords(x, t), "solutions": solutions}
    return arrays, info


def make_dataset(
    pde: str = "burgers",
    n_functions: int = 1000,
    m_sensors: int = 101,
    nx: int = 101,
    nt: int = 101,
    *,
    grf: GRFParams | Mapping[str, Any] | None = None,
    nu: float | None = None,
    kappa: float | None = None,
    t_final: float = 1.0,
    seed: int = 0,
    n_solve: int | None = None,
    dt: float | None = None,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    progress: bool = True,
) -> OperatorDataset:
    """Generate (or load from the cache) a DeepONet dataset for ``pde`` = "burgers" (ν, default 0.01) or
    "heat" (κ, default 0.01) on [0, 1] periodic × [0, t_final], inputs from the GRF ``grf`` (GRFParams or dict).

    n_solve / dt: Burgers solver grid (default ``default_n_solve``: 512 at ν = 0.01) and largest step (default
    ``stable_dt``: min(5e-4, advective limit)).  A RuntimeWarning flags an under-resolved solution.
    See the module docstring for grids, point order and the cache."""
    cfg = dataset_config(
        pde,
        n_functions,
        m_sensors,
        nx,
        nt,
        grf=grf,
        nu=nu,
        kappa=kappa,
        t_final=t_final,
        seed=seed,
        n_solve=n_solve,
        dt=dt,
    )
    path = Path(cache_dir if cache_dir is not None else default_cache_dir()) / f"{pde}-{config_hash(cfg)}.npz"
    loaded = load_npz(path, cfg, _ARRAYS, with_info=True) if use_cache else None
    if loaded is not None:
        arrays, info = loaded
        return OperatorDataset(**arrays, config=cfg, info=info, from_cache=True, cache_path=path)
    arrays, info = _generate(cfg, progress)
    if use_cache:
        save_npz(path, arrays, cfg, info)
    return OperatorDataset(**arrays, config=cfg, info=info, from_cache=False, cache_path=path if use_cache else None)
