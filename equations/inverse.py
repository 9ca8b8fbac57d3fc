"""Inverse problems: a problem whose declared coefficients are unknown, and the observations it is fitted to.

:func:`with_unknowns` gives a view of a problem whose residual reads the named coefficients (declared in the
problem's ``UNKNOWNS``) from a callable, so that a trainer can learn them with the net; everything else —
the conditions, the closed form, the reference — keeps the problem's own values, which are the truth the data
came from. :func:`observations_from` makes measurements from a problem's ground truth with Gaussian noise
(``y = u + σ · std(u) · ξ``, ``ξ ~ N(0, 1)``: "1% noise" is ``σ = 0.01``, as in Raissi, Perdikaris &
Karniadakis 2019, §4.1.1); :func:`save_observations` and :func:`load_observations` write and read them as CSV.
"""

from __future__ import annotations

import copy
import csv
import os
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

from .base import Observations, Problem

__all__ = [
    "unknowns_of",
    "with_unknowns",
    "observations_from",
    "save_observations",
    "load_observations",
    "as_observations",
]


def unknowns_of(problem: Problem, names: Sequence[str]) -> Dict[str, Dict[str, Any]]:
    """The declarations of ``names`` among ``problem.UNKNOWNS`` (scalars, with ``truth`` the problem's own
    value) and ``problem.UNKNOWN_FIELDS`` (functions of space, ``field=True``, ``truth`` the problem's own
    function); an undeclared name is refused, listing what may be inferred."""
    scalars = dict(getattr(problem, "UNKNOWNS", {}))
    fields = dict(getattr(problem, "UNKNOWN_FIELDS", {}))
    if isinstance(names, str):
        names = [names]
    bad = [n for n in names if n not in scalars and n not in fields]
    if bad or not names:
        allowed = sorted([*scalars, *fields]) or "nothing (it declares no UNKNOWNS)"
        raise ValueError(f"infer must name coefficients of {problem.name}; got {list(names)}, allowed: {allowed}")
    out: Dict[str, Dict[str, Any]] = {}
    for n in names:
        if n in fields:
            out[n] = {**fields[n], "field": True, "truth": getattr(problem, n), "initial": 1.0}
        else:
            out[n] = {**scalars[n], "field": False, "truth": float(getattr(problem, n))}
    return out


def with_unknowns(
    problem: Problem, values: Callable[[str], torch.Tensor], observations: Sequence[Observations] = ()
) -> Problem:
    """A copy of ``problem`` whose :meth:`residual` uses ``values(name)`` for every coefficient of
    ``values.names`` and whose conditions include ``observations``."""
    names = tuple(values.names)
    base = type(problem)
    obs = list(observations)

    def residual(self, f):
        saved = {n: self.__dict__[n] for n in names if n in self.__dict__}  # a field may be a method
        try:
            for n in names:
                self.__dict__[n] = values(n)
            return base.residual(self, f)
        finally:
            for n in names:
                self.__dict__.pop(n, None)
            self.__dict__.update(saved)

    def conditions(self) -> List:
        return base.conditions(self) + obs

    view = copy.copy(problem)
    view.__class__ = type(base.__name__, (base,), {"residual": residual, "conditions": conditions})
    view.unknown_names = names
    return view


def observations_from(
    problem: Problem,
    n: int,
    noise: float = 0.0,
    seed: int = 0,
    components: Optional[Sequence[int]] = None,
    name: str = "data",
) -> Observations:
    """``n`` observations of the problem's ground truth at points of its space–time domain (uniform), with
    relative Gaussian noise ``noise`` (module docstring)."""
    from pinnkit.sampling import domain_points
    from pinnkit.validation import check_int, check_real

    n = check_int("n", n, 1, 10**7)
    noise = check_real("noise", noise, 0.0, 10.0, low_open=False)
    seed = check_int("seed", seed, 0)
    if not problem.has_exact and type(problem).reference is Problem.reference:
        raise ValueError(f"{problem.name} has no ground truth to observe")
    comps = list(range(problem.n_outputs)) if components is None else [int(c) for c in components]
    if any(c < 0 or c >= problem.n_outputs for c in comps):
        raise ValueError(f"components must lie in [0, {problem.n_outputs - 1}], got {comps}")
    pts = domain_points(problem, n, "uniform", seed + 50_021)
    vals = problem.reference(torch.as_tensor(pts, dtype=torch.float64)).detach().double().numpy()[:, comps]
    if noise > 0:
        rng = np.random.default_rng(seed + 77_017)
        vals = vals + noise * vals.std(axis=0, keepdims=True) * rng.standard_normal(vals.shape)
    return Observations(name, points=pts, values=vals, components=None if components is None else comps, noise=noise)


def save_observations(path: str, obs: Observations, problem: Problem) -> str:
    """Write ``obs`` as CSV: a header of the input names then the observed output names, one row a point;
    the noise level in a leading ``# noise=…`` line."""
    comps = list(range(problem.n_outputs)) if obs.components is None else list(obs.components)
    header = list(problem.input_names) + [problem.output_names[c] for c in comps]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", newline="") as fh:
        fh.write(f"# noise={obs.noise!r}\n")
        w = csv.writer(fh)
        w.writerow(header)
        for x, y in zip(obs.points, obs.values):
            w.writerow([repr(float(v)) for v in (*x, *y)])
    return path


def load_observations(path: str, problem: Problem, name: str = "data") -> Observations:
    """Read a CSV written by :func:`save_observations` (or by hand: a header naming the problem's inputs,
    then any of its outputs). Unknown or missing columns are refused, naming them."""
    if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path):
        raise ValueError(f"data must be a CSV file of observations, got {path!r} (not a file)")
    noise = 0.0
    with open(path, newline="") as fh:
        lines = [ln for ln in fh if ln.strip()]
    if lines and lines[0].startswith("#"):
        for part in lines[0][1:].split(","):
            key, _, val = part.strip().partition("=")
            if key == "noise":
                noise = float(val)
        lines = lines[1:]
    rows = list(csv.reader(lines))
    if len(rows) < 2:
        raise ValueError(f"data file {path} needs a header and at least one row")
    header = [h.strip() for h in rows[0]]
    inputs, outputs = list(problem.input_names), list(problem.output_names)
    missing = [c for c in inputs if c not in header]
    unknown = [c for c in header if c not in inputs and c not in outputs]
    if missing or unknown:
        raise ValueError(
            f"data file {path}: columns must be the inputs {inputs} and some of the outputs {outputs}; "
            f"missing {missing}, unknown {unknown}"
        )
    observed = [c for c in header if c in outputs]
    if not observed:
        raise ValueError(f"data file {path} observes none of the outputs {outputs}")
    try:
        table = np.array([[float(v) for v in r] for r in rows[1:]], dtype=np.float64)
    except ValueError as err:
        raise ValueError(f"data file {path}: every value must be a number ({err})") from None
    if table.shape[1] != len(header):
        raise ValueError(f"data file {path}: every row must have {len(header)} values")
    idx = {c: i for i, c in enumerate(header)}
    pts = table[:, [idx[c] for c in inputs]]
    vals = table[:, [idx[c] for c in observed]]
    comps = [outputs.index(c) for c in observed]
    return Observations(
        name, points=pts, values=vals, components=None if comps == list(range(len(outputs))) else comps, noise=noise
    )


def as_observations(data: Any, problem: Problem) -> List[Observations]:
    """``data`` as a list of observations: an :class:`Observations`, a CSV path, or a sequence of them."""
    if data is None:
        return []
    items = data if isinstance(data, (list, tuple)) else [data]
    out: List[Observations] = []
    for i, d in enumerate(items):
        if isinstance(d, Observations):
            obs = d
        elif isinstance(d, (str, os.PathLike)):
            obs = load_observations(str(d), problem, name="data" if len(items) == 1 else f"data{i}")
        else:
            raise ValueError(f"data must be Observations or a CSV path (or a list of them), got {type(d).__name__}")
        obs.location(problem)  # the right number of columns, checked now
        out.append(obs)
    names = [o.name for o in out] + [c.name for c in problem.conditions()]
    if len(set(names)) != len(names):
        raise ValueError(f"observation names must differ from each other and from the conditions: {names}")
    return out
