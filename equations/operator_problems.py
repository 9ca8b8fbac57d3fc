"""Operator problems: a family of PDEs ``s = G(u)`` that a physics-informed DeepONet learns (physics only).

An :class:`OperatorProblem` describes, for every input function u, the solution s(x, t) of one PDE on
x ∈ [0, L) × t ∈ [0, T] (1-D; periodic in x when ``period`` is set, i.e. ``period == L``):

* the residual ``R[s](x, t)``, written with pinnkit's derivative interface (``f.u``, ``f.d(i, k)``,
  ``f.d2(i, k)``, ``f.dt(i)`` of :class:`pinnkit.derivatives.Fields`; column 0 is x, column 1 is t) and, for
  PDEs that involve the input function itself (a source or a coefficient), its values at the residual points;
* the initial condition as data: ``s(x_j, 0) = initial(u)_j`` at the m sensors, by default ``u`` itself
  (the input function is the initial state, as in Wang, Wang & Perdikaris 2021, Sci. Adv. 7, eabi8605);
* parameters validated on construction (the error names the parameter and its allowed range).

How the residual is evaluated (reverse-mode at independent points, forward-mode at points shared by a batch),
the sampling and the loss assembly live in the engine (:mod:`pinnkit.operator_losses`); a problem knows no net.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple, Type

from torch import Tensor

from pinnkit.validation import check_real

__all__ = ["OperatorProblem", "OperatorBurgers", "OperatorHeat", "OPERATOR_PROBLEMS", "operator_problem"]


class OperatorProblem:
    """A PDE family ``s = G(u)`` on x ∈ [0, L) × t ∈ [0, T], 1-D in space.

    Args:
        t_final: T > 0, the end of the time interval.
        length: L > 0, the spatial interval [0, L).
        periodic: the solution is L-periodic in x (then ``period == L``; else ``period is None`` and the problem
            would need boundary conditions, which the operator trainer does not support yet).

    Subclasses implement :meth:`residual` and may override :meth:`initial`; a residual that reads the input
    function sets ``uses_inputs = True``.
    """

    name: str = "operator"
    spatial_dim: int = 1
    #: the residual reads the input function's values at the residual points (``inputs`` is not None)
    uses_inputs: bool = False

    def __init__(self, t_final: float, length: float = 1.0, periodic: bool = True):
        self.t_final = check_real("t_final", t_final, 0.0)
        self.length = check_real("length", length, 0.0)
        if not isinstance(periodic, bool):
            raise ValueError(f"periodic must be True or False, got {periodic!r}")
        self.periodic = periodic

    # ------------------------------------------------------------ domain
    @property
    def period(self) -> Optional[float]:
        """The period L in x, or None for a non-periodic problem."""
        return self.length if self.periodic else None

    @property
    def input_lower(self) -> Tuple[float, float]:
        """Lower corner (x, t) of the space–time box."""
        return (0.0, 0.0)

    @property
    def input_upper(self) -> Tuple[float, float]:
        """Upper corner (x, t) of the space–time box (x = L is the image of 0 when periodic)."""
        return (self.length, self.t_final)

    # ------------------------------------------------------------ physics
    def residual(self, f: Any, inputs: Optional[Tensor] = None) -> Tensor:
        """PDE residual at the points of ``f`` (a Fields-like object, rows = points), shape ``(N, r)``; zero
        for the true solution.  ``inputs``: the input function's values at those points, ``(N,)`` (None unless
        ``uses_inputs``)."""
        raise NotImplementedError

    def initial(self, u_sensors: Tensor) -> Tensor:
        """Target of s(x_j, 0) at the sensors, ``(B, m)`` from the sensor values ``(B, m)``; default s(·, 0) = u."""
        return u_sensors

    @property
    def initial_is_input(self) -> bool:
        """True when the initial condition is the default s(x, 0) = u(x) (what an exact-initial net builds in)."""
        return type(self).initial is OperatorProblem.initial

    def parameters(self) -> Dict[str, Any]:
        """The problem's parameters (for records and repr)."""
        return {"t_final": self.t_final, "length": self.length, "periodic": self.periodic}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.parameters().items())
        return f"{type(self).__name__}({args})"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "OperatorProblem":
        """The problem of a dataset config (see :func:`operator_problem`); subclasses that are data-generated
        implement it."""
        raise NotImplementedError(f"{cls.__name__} cannot be built from a dataset config")


class OperatorBurgers(OperatorProblem):
    """Viscous Burgers on [0, 1) periodic: ``R = s_t + s s_x − ν s_xx``, s(x, 0) = u(x) (Wang, Wang &
    Perdikaris 2021, §Burgers; data from :mod:`pinnkit.equations.operator_data`).

    Args:
        nu: viscosity ν > 0.
        t_final: T > 0.
    """

    name = "burgers"

    def __init__(self, nu: float, t_final: float = 1.0):
        super().__init__(t_final)
        self.nu = check_real("nu", nu, 0.0)

    def residual(self, f: Any, inputs: Optional[Tensor] = None) -> Tensor:
        """``s_t + s s_x − ν s_xx``, shape ``(N, 1)``."""
        return (f.dt(0) + f.u[:, 0] * f.d(0, 0) - self.nu * f.d2(0, 0)).unsqueeze(-1)

    def parameters(self) -> Dict[str, Any]:
        return {"nu": self.nu, "t_final": self.t_final}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "OperatorBurgers":
        return cls(nu=config["nu"], t_final=config["t_final"])


class OperatorHeat(OperatorProblem):
    """Heat equation on [0, 1) periodic: ``R = s_t − κ s_xx``, s(x, 0) = u(x) (each Fourier mode decays by
    e^{−κ(2πj)²t}).

    Args:
        kappa: diffusivity κ > 0.
        t_final: T > 0.
    """

    name = "heat"

    def __init__(self, kappa: float, t_final: float = 1.0):
        super().__init__(t_final)
        self.kappa = check_real("kappa", kappa, 0.0)

    def residual(self, f: Any, inputs: Optional[Tensor] = None) -> Tensor:
        """``s_t − κ s_xx``, shape ``(N, 1)``."""
        return (f.dt(0) - self.kappa * f.d2(0, 0)).unsqueeze(-1)

    def parameters(self) -> Dict[str, Any]:
        return {"kappa": self.kappa, "t_final": self.t_final}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "OperatorHeat":
        return cls(kappa=config["kappa"], t_final=config["t_final"])


#: the problems of :mod:`pinnkit.equations.operator_data`, by their ``config["pde"]``
OPERATOR_PROBLEMS: Dict[str, Type[OperatorProblem]] = {"burgers": OperatorBurgers, "heat": OperatorHeat}


def operator_problem(dataset: Any) -> OperatorProblem:
    """The operator problem that generated ``dataset`` (an OperatorDataset, or its config mapping):
    ``config["pde"]`` picks the class of :data:`OPERATOR_PROBLEMS`, which reads its parameters
    ("nu" or "kappa", "t_final").  A dataset built by hand has no "pde": pass the problem explicitly."""
    config = dataset if isinstance(dataset, Mapping) else getattr(dataset, "config", None)
    if not isinstance(config, Mapping) or "pde" not in config:
        raise ValueError("the dataset's config names no 'pde': pass the OperatorProblem explicitly (problem=...)")
    pde = config["pde"]
    if not isinstance(pde, str) or pde not in OPERATOR_PROBLEMS:
        raise ValueError(
            f"pde must be one of {tuple(OPERATOR_PROBLEMS)} to build the problem from the dataset, got "
            f"{pde!r}: pass the OperatorProblem explicitly (problem=...)"
        )
    return OPERATOR_PROBLEMS[pde].from_config(config)
