"""Problems by name, for the API and the command line."""

from __future__ import annotations

from typing import Any, Dict, Type

from .advection_diffusion import AdvectionDiffusion
from .anisotropic_heat import AnisotropicHeat
from .base import Problem
from .burgers import BurgersBlowup, ViscousBurgers
from .cavity import LidDrivenCavity
from .convection import Convection
from .heat import Heat
from .heat_domain import HeatOnDomain
from .navier_stokes import Beltrami, Kovasznay, TaylorGreen
from .poisson import Poisson
from .reaction import ReactionDiffusion

__all__ = ["PROBLEMS", "make_problem", "register"]

PROBLEMS: Dict[str, Type[Problem]] = {"heat": Heat}


def register(name: str, cls: Type[Problem]) -> None:
    """Make ``cls`` available as ``name`` to :func:`make_problem` and ``pinnkit list``."""
    PROBLEMS[name] = cls


def make_problem(name: str, **params: Any) -> Problem:
    """Build the named problem; unknown names and parameters raise ``ValueError``."""
    try:
        cls = PROBLEMS[name]
    except KeyError:
        raise ValueError(f"unknown problem {name!r}; available: {sorted(PROBLEMS)}") from None
    allowed = getattr(cls, "PARAMETERS", {})
    unknown = set(params) - set(allowed)
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)} for {name!r}; allowed: {sorted(allowed)}")
    return cls(**params)


register("advection-diffusion", AdvectionDiffusion)
register("convection", Convection)
register("anisotropic-heat", AnisotropicHeat)
register("burgers", ViscousBurgers)
register("burgers-blowup", BurgersBlowup)
register("kovasznay", Kovasznay)
register("taylor-green", TaylorGreen)
register("beltrami", Beltrami)
register("cavity", LidDrivenCavity)
register("poisson", Poisson)
register("heat-domain", HeatOnDomain)
register("reaction-diffusion", ReactionDiffusion)
