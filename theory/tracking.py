"""Trainer callback that records the Burgers blow-up theory (Theorems 1 and 2 of Kumar & Mukherjee, the
tight estimate, the certified bound and gradient diagnostics) into ``history["diagnostics"]`` every ``k``
steps."""

from __future__ import annotations

import inspect
import math
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Sequence

from pinnkit.validation import check_choice

from .blowup_certified import CERTIFIED_OPTIONS, certified_tight_bound, check_box_settings, check_certified_args
from .burgers_blowup import (
    GRAD_NORMS,
    MODEL_DESCRIPTION,
    TIGHT_OPTIONS,
    check_1d_preset,
    check_blowup_problem,
    check_theorem1_args,
    check_theorem2_args,
    check_tight_args,
    theorem1,
    theorem2,
    theorem2_consistent,
    tight_estimate,
)
from .checks import ArgumentTypeError, check_count, check_module, check_seed
from .gradients import check_gradient_args, gradient_diagnostics
from .theorems_certified import certified_theorem1, certified_theorem2

if TYPE_CHECKING:
    from torch import nn

    from pinnkit.equations.burgers import InviscidBurgersBlowup

__all__ = ["TheoryTracker", "WHAT"]

WHAT = ("theorem1", "theorem2", "tight", "certified", "gradients")
#: the certified bound while training (cheap) and at the end of a run or on ``compute(model, final=True)``
CHEAP_CERTIFIED = {"n_slices": 32, "max_boxes": 3000, "rtol": 0.2}
FINAL_CERTIFIED = {"n_slices": 64, "max_boxes": 8000, "rtol": 0.1}
#: the certified theorems with the final certificate: settings of :func:`certified_theorem1` and
#: :func:`certified_theorem2` (4000 boxes for Theorem 1: 2 s a (1+1)-D run, log-RHS within 0.2 of 8000 boxes)
FINAL_THEOREMS = {"theorem1": {"max_boxes": 4000}, "theorem2": {}}


def _theorem2_axis(n_samples: int) -> int:
    """Gauss–Legendre nodes per axis of the boundary and initial-time rules of Theorem 2 for ``n_samples``."""
    return max(16, int(math.sqrt(n_samples)))


def _theorem2_applies(problem) -> bool:
    try:
        check_1d_preset(problem)
        return True
    except ValueError:
        return False


def _settings(name: str, opts: Any, default: dict, allowed: Sequence[str], of: str) -> dict:
    """``default`` updated by ``opts`` (None, or a mapping whose keys are among ``allowed``, the settings of
    the function ``of``); anything else is refused naming ``name``."""
    if opts is None:
        return dict(default)
    if not isinstance(opts, Mapping):
        raise ValueError(f"{name} must be None or a dict of {of} settings {allowed}, got {type(opts).__name__}")
    unknown = sorted(str(k) for k in opts if k not in allowed)
    if unknown:
        raise ValueError(f"unknown {name} key(s) {unknown}; allowed: {list(allowed)}")
    return {**default, **dict(opts)}


def _certifiable(model: Any) -> bool:
    from pinnkit.enclosure.net import supports

    return supports(model)


class TheoryTracker:
    """Callback (``every``, ``__call__(trainer) -> {name: number}``) for :class:`pinnkit.trainer.PINNTrainer`.

    Keys (a flat dict of floats):

    * ``true_l2_sq``: ``∫_Ω ‖u_θ − u‖²`` (from the tight estimate's Gauss–Legendre rule when it runs, else
      from Theorem 1's samples);
    * ``theorem1/{log_lhs, log_rhs, C1, C2, grad_surrogate_sup, pde_residual_sq, initial_residual_sq}``;
    * ``theorem2/{log_lhs, log_rhs, bracket}`` (as written) and ``theorem2_consistent/{log_lhs, log_rhs,
      bracket}`` — (1+1)-D preset only;
    * ``tight/{estimate, true, ratio, ratio_l2, min_pointwise_ratio}``;
    * ``certified/{bound, bound_l2, limit, true, ratio_l2, boxes, seconds}`` — a proved bound on ``∫_Ω‖u_θ − u‖²``
      (:func:`~pinnkit.theory.blowup_certified.certified_tight_bound`), at the cheap setting
      ``certified_options`` every ``every`` steps and at ``final_certified_options`` at the end of the run
      (the trainer's ``finishing`` flag) and on ``compute(model, final=True)``; left out for a net the
      enclosures do not cover (a hard-constraint wrapper) unless ``what`` asks for it;
    * with the final certificate only: ``certified_theorem1/{log_rhs, is_bound, seconds}`` and (1+1)-D
      ``certified_theorem2/{log_rhs_consistent, log_rhs_as_written, is_bound_consistent, is_bound_as_written,
      seconds}`` — the theorems with every term certified (:mod:`~pinnkit.theory.theorems_certified`);
    * ``gradients/{grad_sup, grad_l2, residual_grad_l2, residual_grad_x_l2_sq, share_C1, share_C2}``.

    Args:
        problem: an :class:`~pinnkit.equations.InviscidBurgersBlowup`.
        every: steps between evaluations.
        what: subset of ``("theorem1", "theorem2", "tight", "certified", "gradients")``; ``None``: all that apply
            (``theorem2`` only for the (1+1)-D preset). Asking for ``theorem2`` on another problem is an error.
        n_samples: points for Theorem 1 / Theorem 2 / gradient integrals (modest by default; the final
            analysis should use many more).
        tight_slices: time slices of the tight estimate; ``tight_options``: further keyword arguments of
            :func:`~pinnkit.theory.burgers_blowup.tight_estimate`.
        seed: seed of the sample points (the same points every call, so curves are comparable).
        certified_options, final_certified_options: settings of the certified bound (``n_slices``,
            ``max_boxes``, ``rtol``, ...) while training and at the end (defaults :data:`CHEAP_CERTIFIED`,
            :data:`FINAL_CERTIFIED`).
        theorem_options: ``{"theorem1": {...}, "theorem2": {...}}``, settings (``n_slices``, ``cells``,
            ``max_boxes``, ``rtol``, ``batch``, ``n_true``) of the certified theorems run with the final
            certificate; a key left out keeps :data:`FINAL_THEOREMS`.
    """

    def __init__(
        self,
        problem: InviscidBurgersBlowup,
        every: int = 500,
        what: Optional[Sequence[str]] = None,
        n_samples: int = 4096,
        tight_slices: int = 32,
        tight_options: Optional[dict] = None,
        seed: int = 0,
        norm: str = "max_column_sum",
        certified_options: Optional[dict] = None,
        final_certified_options: Optional[dict] = None,
        theorem_options: Optional[dict] = None,
    ) -> None:
        check_blowup_problem(problem)
        explicit = what is not None
        every = check_count("every", every)
        if what is None:
            what = tuple(w for w in WHAT if w != "theorem2" or _theorem2_applies(problem))
        elif isinstance(what, str):
            what = (what,)
        else:
            try:
                what = tuple(what)
            except TypeError:
                raise ValueError(f"what must be None or a sequence of names from {WHAT}, got {what!r}") from None
        bad = [w for w in what if not isinstance(w, str) or w not in WHAT]
        if bad:
            raise ValueError(f"unknown items {bad} in what; choose from {WHAT}")
        if not what:
            raise ValueError(f"what must name at least one of {WHAT} (None: all that apply), got an empty sequence")
        self.explicit_certified = explicit and "certified" in what
        if "theorem2" in what and not _theorem2_applies(problem):
            raise ValueError("theorem2 applies to the (1+1)-D preset only (BurgersBlowup(dim=1, ...))")
        n_samples = check_count("n_samples", n_samples)
        seed = check_seed("seed", seed)
        check_choice("norm", norm, GRAD_NORMS)
        tight_slices = check_count("tight_slices", tight_slices)
        tight_options = _settings("tight_options", tight_options, {}, TIGHT_OPTIONS, "tight_estimate")
        tight = {"n_slices": tight_slices, **tight_options}
        # every computation this tracker will run, checked now (counts, choices, memory) rather than when it
        # first computes
        if "theorem1" in what or "gradients" in what:
            check_theorem1_args(problem, n_samples, seed, norm, "uniform", None, None)
        if "theorem2" in what:
            n_axis = _theorem2_axis(n_samples)
            check_theorem2_args(problem, n_samples, n_axis, n_axis, "gauss", 0)
        if "tight" in what:
            try:
                check_tight_args(problem, **tight)
            except ValueError as err:  # n_slices is this tracker's tight_slices unless tight_options gives it
                if "n_slices" in tight_options:
                    raise
                raise ValueError(f"tight_slices (tight_estimate's n_slices): {err}") from None
        if "gradients" in what:
            check_gradient_args(problem, min(n_samples, 4096), seed, norm, "uniform", None, 8192)
        cheap = _settings(
            "certified_options", certified_options, CHEAP_CERTIFIED, CERTIFIED_OPTIONS, "certified_tight_bound"
        )
        final = _settings(
            "final_certified_options",
            final_certified_options,
            FINAL_CERTIFIED,
            CERTIFIED_OPTIONS,
            "certified_tight_bound",
        )
        if "certified" in what:
            for name, opts in (("certified_options", cheap), ("final_certified_options", final)):
                try:
                    check_certified_args(problem, **opts)
                except ValueError as err:
                    raise ValueError(f"{name}: {err}") from None
        self.certified_options, self.final_certified_options = cheap, final
        self.theorem_options = _theorem_settings(problem, theorem_options)
        self.problem, self.every, self.what = problem, every, what
        self.n_samples, self.seed, self.norm = n_samples, seed, norm
        self.tight_options = tight

    def compute(self, model: nn.Module, final: bool = False) -> Dict[str, float]:
        """The numbers for ``model`` (what ``__call__`` records); ``final``: the certified bound at its full
        setting."""
        check_module("model", model, MODEL_DESCRIPTION)
        p, out = self.problem, {}
        t1 = None
        if "theorem1" in self.what or "gradients" in self.what:
            t1 = theorem1(model, p, n_samples=self.n_samples, seed=self.seed, norm=self.norm)
        if "theorem1" in self.what:
            for k in ("log_lhs", "log_rhs", "C1", "C2", "grad_surrogate_sup", "pde_residual_sq", "initial_residual_sq"):
                out[f"theorem1/{k}"] = float(getattr(t1, k))
            out["true_l2_sq"] = t1.error_sq
        if "theorem2" in self.what:
            n_axis = _theorem2_axis(self.n_samples)
            for name, fn in (("theorem2", theorem2), ("theorem2_consistent", theorem2_consistent)):
                t2 = fn(model, p, n_samples=self.n_samples, n_time=n_axis, n_space=n_axis)
                for k in ("log_lhs", "log_rhs", "bracket"):
                    out[f"{name}/{k}"] = float(getattr(t2, k))
        if "tight" in self.what:
            te = tight_estimate(model, p, **self.tight_options)
            for k, v in te.summary().items():
                if k != "initial_sq":
                    out[f"tight/{k}"] = float(v)
            out["true_l2_sq"] = te.true
        if "certified" in self.what and (self.explicit_certified or _certifiable(model)):
            opts = self.final_certified_options if final else self.certified_options
            c = certified_tight_bound(model, p, **opts)
            for k, v in c.summary().items():
                out[f"certified/{k}"] = float(v)
            if final:  # the theorems' right-hand sides with every term certified (a few seconds)
                out.update(_certified_theorems(model, p, self.norm, "theorem2" in self.what, self.theorem_options))
        if "gradients" in self.what:
            g = gradient_diagnostics(
                model, p, n_samples=min(self.n_samples, 4096), seed=self.seed, norm=self.norm, theorem1_terms=t1
            )
            for k in ("grad_sup", "grad_l2", "residual_grad_l2", "residual_grad_x_l2_sq", "share_C1", "share_C2"):
                out[f"gradients/{k}"] = float(getattr(g, k))
        return out

    def __call__(self, trainer: Any) -> Dict[str, float]:
        if not hasattr(trainer, "model"):
            raise ArgumentTypeError(f"trainer must have a model (a PINNTrainer), got {type(trainer).__name__}")
        return self.compute(trainer.model, final=bool(getattr(trainer, "finishing", False)))


def _theorem_settings(problem: Any, opts: Any) -> Dict[str, dict]:
    """:data:`FINAL_THEOREMS` updated by ``opts``, every key and value checked now (before any work)."""
    if opts is None:
        opts = {}
    if not isinstance(opts, Mapping):
        raise ValueError(
            f"theorem_options must be None or a dict with keys 'theorem1', 'theorem2', got {type(opts).__name__}"
        )
    unknown = sorted(str(k) for k in opts if k not in FINAL_THEOREMS)
    if unknown:
        raise ValueError(f"unknown theorem_options key(s) {unknown}; allowed: {list(FINAL_THEOREMS)}")
    out = {}
    for name, fn in (("theorem1", certified_theorem1), ("theorem2", certified_theorem2)):
        o = _settings(
            f"theorem_options[{name!r}]", opts.get(name), FINAL_THEOREMS[name], CERTIFIED_OPTIONS, fn.__name__
        )
        defaults = {k: v.default for k, v in inspect.signature(fn).parameters.items() if k in CERTIFIED_OPTIONS}
        try:
            check_box_settings(problem.spatial_dim, **{**defaults, **o})
        except ValueError as err:
            raise ValueError(f"theorem_options[{name!r}]: {err}") from None
        out[name] = o
    return out


def _certified_theorems(
    model: nn.Module, problem: Any, norm: str, with_theorem2: bool, options: Dict[str, dict]
) -> Dict[str, float]:
    """``certified_theorem1/*`` (and for the (1+1)-D preset ``certified_theorem2/*``): the log right-hand sides with every term
    certified, and whether each statement is proved for this model (``is_bound``, 1.0 or 0.0)."""
    c1 = certified_theorem1(model, problem, norm=norm, **options["theorem1"])
    out = {
        "certified_theorem1/log_rhs": c1.log_rhs,
        "certified_theorem1/is_bound": float(c1.is_bound),
        "certified_theorem1/seconds": c1.seconds,
    }
    if with_theorem2:
        c2 = certified_theorem2(model, problem, **options["theorem2"])
        out.update(
            {
                "certified_theorem2/log_rhs_consistent": c2.log_rhs_consistent,
                "certified_theorem2/log_rhs_as_written": c2.log_rhs_as_written,
                "certified_theorem2/is_bound_consistent": float(c2.is_bound_consistent),
                "certified_theorem2/is_bound_as_written": float(c2.is_bound_as_written),
                "certified_theorem2/seconds": c2.seconds,
            }
        )
    return out
