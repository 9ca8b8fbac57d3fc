r"""Anisotropic heat equation on a rectangle, a multi-scale test problem:

    u_t = κ_x u_xx + κ_y u_yy   on [0, L_x] × [0, L_y] × [0, T],   u = 0 on the boundary,

with the exact solution ``u = A sin(m π x / L_x) sin(n π y / L_y) e^{−λ t}``,
``λ = π² (κ_x m² / L_x² + κ_y n² / L_y²)`` (separation of variables).

Two settings make it multi-scale in the two ways plain PINNs handle badly:

* ``setting="modes"``: the unit square with ``m = 1``, ``n = 8`` — one slow and one fast mode along different
  axes — and ``κ_y = κ_x / 64`` so that both axes contribute alike to the decay;
* ``setting="units"``: physical units a user would type — ``L_x = 1000`` m, ``L_y = 1`` m, ``κ_x = 100`` and
  ``κ_y = 0.01`` m²/day (four orders of magnitude apart), ``T = 10`` days, amplitude ``A = 10⁻³``.

Any of the parameters can be given instead. The problem declares its characteristic angular wave numbers
per input axis (:meth:`wavenumbers`: ``mπ/L_x``, ``nπ/L_y`` and the decay rate ``λ`` for time), which
Fourier features with per-axis scales (``fourier_sigma="auto"``) read.
"""

from __future__ import annotations

import math
from typing import List, Optional, Tuple

import torch
from torch import Tensor

from pinnkit.derivatives import Fields
from pinnkit.validation import check_choice, check_int, check_real

from .base import MAX_COEFFICIENT, MIN_TIME, Condition, DirichletBC, InitialCondition, Problem

__all__ = ["AnisotropicHeat", "ANISOTROPIC_SETTINGS"]

MIN_LENGTH = 1e-6  # shortest side: the box map divides by it

#: the two named settings (module docstring)
ANISOTROPIC_SETTINGS = {
    "modes": {
        "kappa_x": 0.1,
        "kappa_y": 0.1 / 64,
        "length_x": 1.0,
        "length_y": 1.0,
        "mode_x": 1,
        "mode_y": 8,
        "amplitude": 1.0,
        "T": 1.0,
    },
    "units": {
        "kappa_x": 100.0,
        "kappa_y": 0.01,
        "length_x": 1000.0,
        "length_y": 1.0,
        "mode_x": 1,
        "mode_y": 1,
        "amplitude": 1e-3,
        "T": 10.0,
    },
}


def _zero(x: Tensor) -> Tensor:
    return torch.zeros(x.shape[0], 1, dtype=x.dtype, device=x.device)


class AnisotropicHeat(Problem):
    """``u_t = κ_x u_xx + κ_y u_yy`` on ``[0, L_x] × [0, L_y] × [0, T]`` (module docstring).

    Args:
        setting: ``"modes"`` or ``"units"``, the defaults of every other parameter.
        kappa_x, kappa_y: diffusivities along x and y (> 0).
        length_x, length_y: side lengths (> 0).
        mode_x, mode_y: the integer mode numbers ``m``, ``n`` of the solution.
        amplitude: ``A`` (nonzero).
        T: final time.
    """

    PARAMETERS = {
        "setting": ("modes", f"named defaults, one of {tuple(ANISOTROPIC_SETTINGS)}"),
        "kappa_x": (None, "diffusivity along x in (0, 1e4]"),
        "kappa_y": (None, "diffusivity along y in (0, 1e4]"),
        "length_x": (None, "side length along x in [1e-6, 1e4]"),
        "length_y": (None, "side length along y in [1e-6, 1e4]"),
        "mode_x": (None, "mode number along x, integer in [1, 64]"),
        "mode_y": (None, "mode number along y, integer in [1, 64]"),
        "amplitude": (None, "amplitude A, |A| in [1e-12, 1e4]"),
        "T": (None, "final time T in [1e-30, 1e4]"),
    }

    def __init__(
        self,
        setting: str = "modes",
        kappa_x: Optional[float] = None,
        kappa_y: Optional[float] = None,
        length_x: Optional[float] = None,
        length_y: Optional[float] = None,
        mode_x: Optional[int] = None,
        mode_y: Optional[int] = None,
        amplitude: Optional[float] = None,
        T: Optional[float] = None,
    ) -> None:
        check_choice("setting", setting, tuple(ANISOTROPIC_SETTINGS))
        given = dict(
            kappa_x=kappa_x,
            kappa_y=kappa_y,
            length_x=length_x,
            length_y=length_y,
            mode_x=mode_x,
            mode_y=mode_y,
            amplitude=amplitude,
            T=T,
        )
        p = {k: (ANISOTROPIC_SETTINGS[setting][k] if v is None else v) for k, v in given.items()}
        for k in ("kappa_x", "kappa_y"):
            p[k] = check_real(k, p[k], 0.0, MAX_COEFFICIENT)
        for k in ("length_x", "length_y"):
            p[k] = check_real(k, p[k], MIN_LENGTH, MAX_COEFFICIENT, low_open=False)
        for k in ("mode_x", "mode_y"):
            p[k] = check_int(k, p[k], 1, 64)
        p["amplitude"] = check_real("amplitude", p["amplitude"], -MAX_COEFFICIENT, MAX_COEFFICIENT, low_open=False)
        if abs(p["amplitude"]) < 1e-12:
            raise ValueError(f"amplitude must satisfy |A| >= 1e-12, got {p['amplitude']!r}")
        p["T"] = check_real("T", p["T"], MIN_TIME, MAX_COEFFICIENT, low_open=False)
        super().__init__(
            name="anisotropic-heat",
            spatial_dim=2,
            n_outputs=1,
            lower=(0.0, 0.0),
            upper=(p["length_x"], p["length_y"]),
            time_interval=(0.0, p["T"]),
            params={"setting": setting, **p},
        )
        self.p = p
        self.kx = p["mode_x"] * math.pi / p["length_x"]
        self.ky = p["mode_y"] * math.pi / p["length_y"]
        self.rate = p["kappa_x"] * self.kx**2 + p["kappa_y"] * self.ky**2

    def wavenumbers(self) -> Tuple[float, float, float]:
        """Characteristic angular wave numbers per input ``(x, y, t)``: ``mπ/L_x``, ``nπ/L_y`` and ``λ``."""
        return (self.kx, self.ky, self.rate)

    def residual(self, f: Fields) -> Tensor:
        """``u_t − κ_x u_xx − κ_y u_yy``."""
        return (f.dt(0) - self.p["kappa_x"] * f.d2(0, 0) - self.p["kappa_y"] * f.d2(0, 1)).unsqueeze(-1)

    def exact(self, x: Tensor) -> Tensor:
        u = torch.sin(self.kx * x[:, 0]) * torch.sin(self.ky * x[:, 1]) * torch.exp(-self.rate * x[:, 2])
        return (self.p["amplitude"] * u).unsqueeze(-1)

    def conditions(self) -> List[Condition]:
        return [
            InitialCondition("initial", target=self.exact),
            DirichletBC("boundary", target=_zero, homogeneous=True),
        ]
