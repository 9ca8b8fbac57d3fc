"""Input checks that fail early, before any training, with the parameter's name and its allowed range.

The one validation module of the package (``pinnkit``, ``pinnkit.equations``, ``pinnkit.theory`` all use it).
It imports only the standard library, so that the torch-free and numpy-only parts (the reference solvers, the
bounds) can use it without pulling in torch.  Numbers are accepted by their abstract type (:mod:`numbers`), so
numpy scalars pass like Python ones; ``bool`` (and ``numpy.bool_``) is never a number here.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Optional

__all__ = [
    "check_positive",
    "check_nonnegative",
    "check_real",
    "check_range",
    "check_int",
    "check_min_int",
    "check_choice",
    "check_bool",
    "check_points",
]


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_finite(value: Any) -> bool:
    """A real that is finite as a float (an integer too large for a float, ``10**400`` say, is not)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _as_int(value: Any) -> Optional[int]:
    """``value`` as an ``int`` when it is an integer (an integral number, or a real with an integer value), else
    ``None``; ``bool`` is not an integer here."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    v = float(value)
    return int(v) if v.is_integer() else None


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    lo = f"({low}" if low_open else f"[{low}"
    hi = "∞)" if high == math.inf else (f"{high})" if high_open else f"{high}]")
    return f"{lo}, {hi}"


def _in_interval(value: Any, low: float, high: float, low_open: bool, high_open: bool) -> bool:
    if not _is_real(value) or not _is_finite(value):
        return False
    v = float(value)
    return (v > low if low_open else v >= low) and (v < high if high_open else v <= high)


def check_positive(name: str, value: Any) -> float:
    """``value`` must be a finite real ``> 0``."""
    if not _is_real(value) or not _is_finite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_nonnegative(name: str, value: Any) -> float:
    """``value`` must be a finite real ``>= 0``."""
    if not _is_real(value) or not _is_finite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_real(
    name: str, value: Any, low: float, high: float = math.inf, low_open: bool = True, high_open: bool = False
) -> float:
    """``value`` must be a finite real in ``(low, high]`` (``[low, …`` when ``low_open`` is False, ``…, high)``
    when ``high_open``; ``high = inf`` means no upper limit). The message reads "must be a finite number in …"."""
    if not _in_interval(value, low, high, low_open, high_open):
        raise ValueError(
            f"{name} must be a finite number in {_interval(low, high, low_open, high_open)}, got {value!r}"
        )
    return float(value)


def check_range(
    name: str, value: Any, low: float, high: float, low_open: bool = False, high_open: bool = False
) -> float:
    """``value`` must lie in the interval from ``low`` to ``high`` (closed at each end unless told otherwise)."""
    if not _in_interval(value, low, high, low_open, high_open):
        raise ValueError(f"{name} must be in {_interval(low, high, low_open, high_open)}, got {value!r}")
    return float(value)


def check_int(name: str, value: Any, low: int = 1, high: Optional[int] = None) -> int:
    """``value`` must be an integer in ``[low, high]`` (``high=None``: no upper limit); an integral float such
    as ``3.0`` counts and is returned as ``int``."""
    rng = f"[{low}, {high if high is not None else '∞'}]"
    v = _as_int(value)
    if v is None:
        raise ValueError(f"{name} must be an integer in {rng}, got {value!r}")
    if v < low or (high is not None and v > high):
        raise ValueError(f"{name} must be an integer in {rng}, got {v}")
    return v


def check_min_int(name: str, value: Any, low: int = 1) -> int:
    """The check of :func:`check_int` with no upper limit, worded "must be an integer >= low"."""
    v = _as_int(value)
    if v is None or v < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return v


def check_choice(name: str, value: Any, choices: tuple) -> Any:
    """``value`` must be one of ``choices`` (a value that cannot be compared with them, an array say, is not)."""
    try:
        ok = bool(value in choices)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_list(name: str, values: Any, what: str) -> list:
    """``values`` as a non-empty list (a string, bytes, a dict or a 0-d array is not one); ``what`` describes its
    items in the error, ``"{name} must be a non-empty list of {what}, got …"``."""
    try:  # a 0-d array has __iter__ but cannot be iterated
        items = None if isinstance(values, (str, bytes, dict)) else list(values)
    except TypeError:
        items = None
    if not items:
        raise ValueError(f"{name} must be a non-empty list of {what}, got {values!r}")
    return items


def check_bool(name: str, value: Any) -> bool:
    """``value`` must be True or False (``numpy.bool_`` too, recognised without importing numpy); anything
    else, 0 and 1 included, is refused. Returns a Python ``bool``."""
    kind = type(value)
    if isinstance(value, bool) or (kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_")):
        return bool(value)
    raise ValueError(f"{name} must be True or False, got {value!r}")


def check_points(name: str, x: Any, n_cols: int) -> Any:
    """User points must be a finite 2-D tensor with ``n_cols`` columns (anything with ``dim()``, ``shape`` and
    ``isfinite()``, as a ``torch.Tensor``; no torch import here)."""
    if x.dim() != 2 or x.shape[1] != n_cols:
        raise ValueError(f"{name} must have shape (N, {n_cols}), got {tuple(x.shape)}")
    if not bool(x.isfinite().all()):
        raise ValueError(f"{name} contains NaN or inf values")
    return x
