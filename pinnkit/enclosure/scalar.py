"""Outward-rounded arithmetic on Python floats, for the short scalar recurrences of the certified bounds.

Every IEEE-754 operation (``+ − × /``, ``√``) is correctly rounded, so the exact result lies within one ulp of
the computed one and :func:`up` / :func:`dn` (``math.nextafter``) step past it; ``exp``/``expm1``/``log`` of the
C library are padded by :data:`~pinnkit.enclosure.interval.LIBM_PAD` relative (512 ulps) as in the interval
module.
"""

from __future__ import annotations

import math

from .interval import LIBM_PAD

__all__ = ["up", "dn", "exp_up", "expm1_up", "log_up", "log_dn", "sqrt_up", "FOUR_THIRDS"]


def up(x: float) -> float:
    """The float above ``x`` (an upper bound of a correctly rounded result ``x``)."""
    return math.nextafter(x, math.inf)


def dn(x: float) -> float:
    """The float below ``x``."""
    return math.nextafter(x, -math.inf)


def exp_up(x: float) -> float:
    """An upper bound of ``e^x``."""
    v = math.exp(x)
    return up(up(v + v * LIBM_PAD) + 2.0**-1000)


def expm1_up(x: float) -> float:
    """An upper bound of ``e^x − 1``."""
    v = math.expm1(x)
    return up(up(v + abs(v) * LIBM_PAD) + 2.0**-1000)


def log_up(x: float) -> float:
    """An upper bound of ``log x`` (``x > 0``; the C library's ``log`` padded like ``exp``)."""
    v = math.log(x)
    return up(up(v + abs(v) * LIBM_PAD) + 2.0**-1000)


def log_dn(x: float) -> float:
    """A lower bound of ``log x`` (``x > 0``)."""
    v = math.log(x)
    return dn(dn(v - abs(v) * LIBM_PAD) - 2.0**-1000)


def sqrt_up(x: float) -> float:
    """An upper bound of ``√max(x, 0)``."""
    return up(math.sqrt(max(x, 0.0)))


#: an upper bound of 4/3 (the nearest float is within half an ulp; one ulp up is above it)
FOUR_THIRDS = up(4.0 / 3.0)
