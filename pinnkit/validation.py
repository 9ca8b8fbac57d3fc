"""Input checks that fail early, before any training, with the parameter's name and its allowed range."""

from __future__ import annotations

import math
from typing import Any, Optional

import torch

__all__ = ["check_positive", "check_int", "check_range", "check_choice", "check_points"]


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_positive(name: str, value: Any) -> float:
    """``value`` must be a finite real ``> 0``."""
    if not _is_real(value) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_range(name: str, value: Any, low: float, high: float, low_open: bool = False, high_open: bool = False) -> float:
    """``value`` must lie in the interval from ``low`` to ``high`` (open or closed at each end)."""
    lo_b, hi_b = ("(" if low_open else "["), (")" if high_open else "]")
    ok = _is_real(value) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        raise ValueError(f"{name} must be in {lo_b}{low}, {high}{hi_b}, got {value!r}")
    return float(value)


def check_int(name: str, value: Any, low: int = 1, high: Optional[int] = None) -> int:
    """``value`` must be an integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int) and not (isinstance(value, float) and value.is_integer()):
        raise ValueError(f"{name} must be an integer in [{low}, {high if high is not None else '∞'}], got {value!r}")
    value = int(value)
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer in [{low}, {high if high is not None else '∞'}], got {value}")
    return value


def check_choice(name: str, value: Any, choices: tuple) -> Any:
    """``value`` must be one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_points(name: str, x: torch.Tensor, n_cols: int) -> torch.Tensor:
    """User points must be a finite 2-D array with ``n_cols`` columns."""
    if x.dim() != 2 or x.shape[1] != n_cols:
        raise ValueError(f"{name} must have shape (N, {n_cols}), got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or inf values")
    return x
