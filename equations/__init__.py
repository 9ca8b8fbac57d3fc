"""PDE problems: domain, residual, initial/boundary data and ground truth (``pinnkit.equations``)."""

from . import geometry
from .advection_diffusion import AdvectionDiffusion
from .anisotropic_heat import ANISOTROPIC_SETTINGS, AnisotropicHeat
from .base import (
    Boundary,
    Condition,
    DirichletBC,
    Face,
    InitialCondition,
    NeumannBC,
    Observations,
    OperatorBC,
    PeriodicBC,
    Problem,
    RobinBC,
    all_faces,
)
from .burgers import BurgersBlowup, InviscidBurgersBlowup, ViscousBurgers
from .cavity import LidDrivenCavity
from .convection import Convection
from .heat import HEAT_SOLUTIONS, Heat
from .heat_domain import HeatOnDomain
from .navier_stokes import Beltrami, IncompressibleNS, Kovasznay, TaylorGreen
from .operator_problems import OPERATOR_PROBLEMS, OperatorBurgers, OperatorHeat, OperatorProblem, operator_problem
from .poisson import Poisson
from .reaction import ReactionDiffusion
from .registry import PROBLEMS, make_problem, register

__all__ = [
    "Problem",
    "Condition",
    "InitialCondition",
    "DirichletBC",
    "NeumannBC",
    "PeriodicBC",
    "RobinBC",
    "OperatorBC",
    "Observations",
    "Boundary",
    "Poisson",
    "HeatOnDomain",
    "ReactionDiffusion",
    "geometry",
    "Face",
    "all_faces",
    "Heat",
    "HEAT_SOLUTIONS",
    "AdvectionDiffusion",
    "Convection",
    "AnisotropicHeat",
    "ANISOTROPIC_SETTINGS",
    "ViscousBurgers",
    "InviscidBurgersBlowup",
    "BurgersBlowup",
    "IncompressibleNS",
    "Kovasznay",
    "TaylorGreen",
    "Beltrami",
    "LidDrivenCavity",
    "PROBLEMS",
    "make_problem",
    "register",
    "OperatorProblem",
    "OperatorBurgers",
    "OperatorHeat",
    "OPERATOR_PROBLEMS",
    "operator_problem",
]
