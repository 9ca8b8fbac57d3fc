"""Centreline velocities of the lid-driven cavity from Ghia, Ghia & Shin (1982).

Source: U. Ghia, K. N. Ghia, C. T. Shin, "High-Re solutions for incompressible flow using the
Navier-Stokes equations and a multigrid method", J. Comput. Phys. 48 (1982) 387-411; Table I (u along
the vertical centreline x = 0.5) and Table II (v along the horizontal centreline y = 0.5), columns
Re = 100, 400, 1000 (129 x 129 grid, second-order streamfunction-vorticity, lid u = 1 moving in +x).
The 17 stations are nodes k/128 of their grid, printed to 4 decimals; values are as printed.

Values were typed in and cross-checked against several independent public transcriptions of the
tables. Known caveat: Table II, Re = 400, x = 0.9063 prints v = -0.23827, which is widely regarded as a
misprint (the profile is smooth there and every converged solver gives about -0.38); it is kept as
printed and flagged in ``SUSPECT``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GHIA_Y", "GHIA_X", "GHIA_U", "GHIA_V", "SUSPECT", "REYNOLDS", "ghia_centerlines"]

REYNOLDS = (100, 400, 1000)

# Table I: stations y on x = 0.5 (top to bottom, as printed).
GHIA_Y = np.array(
    [
        1.0000,
        0.9766,
        0.9688,
        0.9609,
        0.9531,
        0.8516,
        0.7344,
        0.6172,
        0.5000,
        0.4531,
        0.2813,
        0.1719,
        0.1016,
        0.0703,
        0.0625,
        0.0547,
        0.0000,
    ]
)

GHIA_U = {
    100: np.array(
        [
            1.00000,
            0.84123,
            0.78871,
            0.73722,
            0.68717,
            0.23151,
            0.00332,
            -0.13641,
            -0.20581,
            -0.21090,
            -0.15662,
            -0.10150,
            -0.06434,
            -0.04775,
            -0.04192,
            -0.03717,
            0.00000,
        ]
    ),
    400: np.array(
        [
            1.00000,
            0.75837,
            0.68439,
            0.61756,
            0.55892,
            0.29093,
            0.16256,
            0.02135,
            -0.11477,
            -0.17119,
            -0.32726,
            -0.24299,
            -0.14612,
            -0.10338,
            -0.09266,
            -0.08186,
            0.00000,
        ]
    ),
    1000: np.array(
        [
            1.00000,
            0.65928,
            0.57492,
            0.51117,
            0.46604,
            0.33304,
            0.18719,
            0.05702,
            -0.06080,
            -0.10648,
            -0.27805,
            -0.38289,
            -0.29730,
            -0.22220,
            -0.20196,
            -0.18109,
            0.00000,
        ]
    ),
}

# Table II: stations x on y = 0.5 (right to left, as printed).
GHIA_X = np.array(
    [
        1.0000,
        0.9688,
        0.9609,
        0.9531,
        0.9453,
        0.9063,
        0.8594,
        0.8047,
        0.5000,
        0.2344,
        0.2266,
        0.1563,
        0.0938,
        0.0781,
        0.0703,
        0.0625,
        0.0000,
    ]
)

GHIA_V = {
    100: np.array(
        [
            0.00000,
            -0.05906,
            -0.07391,
            -0.08864,
            -0.10313,
            -0.16914,
            -0.22445,
            -0.24533,
            0.05454,
            0.17527,
            0.17507,
            0.16077,
            0.12317,
            0.10890,
            0.10091,
            0.09233,
            0.00000,
        ]
    ),
    400: np.array(
        [
            0.00000,
            -0.12146,
            -0.15663,
            -0.19254,
            -0.22847,
            -0.23827,
            -0.44993,
            -0.38598,
            0.05186,
            0.30174,
            0.30203,
            0.28124,
            0.22965,
            0.20920,
            0.19713,
            0.18360,
            0.00000,
        ]
    ),
    1000: np.array(
        [
            0.00000,
            -0.21388,
            -0.27669,
            -0.33714,
            -0.39188,
            -0.51550,
            -0.42665,
            -0.31966,
            0.02526,
            0.32235,
            0.33075,
            0.37095,
            0.32627,
            0.30353,
            0.29012,
            0.27485,
            0.00000,
        ]
    ),
}

# (Re, "u" or "v", station index) of printed values believed to be misprints.
SUSPECT = frozenset({(400, "v", 5)})


def ghia_centerlines(re: int) -> dict[str, np.ndarray]:
    """Copies of Ghia's tables for ``re`` in {100, 400, 1000}: keys "y", "u" (u(0.5, y)), "x", "v"
    (v(x, 0.5)), and boolean masks "u_ok", "v_ok" that are False at the entries listed in SUSPECT."""
    if re not in GHIA_U:
        raise ValueError(f"re must be one of {REYNOLDS}; got {re!r}")
    u_ok = np.array([(re, "u", k) not in SUSPECT for k in range(GHIA_Y.size)])
    v_ok = np.array([(re, "v", k) not in SUSPECT for k in range(GHIA_X.size)])
    return {
        "y": GHIA_Y.copy(),
        "u": GHIA_U[re].copy(),
        "x": GHIA_X.copy(),
        "v": GHIA_V[re].copy(),
        "u_ok": u_ok,
        "v_ok": v_ok,
    }
