"""Rigorous enclosures (float64 interval arithmetic with outward rounding) of nets and their input
derivatives over boxes: the ground the certified bounds of :mod:`pinnkit.theory` stand on."""

from .interval import Interval
from .net import Enclosure, enclose, naive_jet, supports

__all__ = ["Interval", "Enclosure", "enclose", "naive_jet", "supports"]
