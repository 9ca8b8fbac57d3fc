"""Hard initial and boundary constraints through an output transform.

For a problem on ``[lower, upper] × [t0, T]`` and a free net ``N``:

* initial data ``u(x, t0) = g(x)`` is imposed exactly by ``u = g(x) + s(t) · N(x, t)``, ``s = (t − t0)/(T − t0)``
  (Lagaris, Likas & Fotiadis 1998, eq. 11 pattern);
* homogeneous Dirichlet data ``u = 0`` on every face is imposed by multiplying the free part by
  ``φ(x) = Π_k 4 (x_k − lower_k)(upper_k − x_k)/(upper_k − lower_k)²`` (zero on the faces, 1 at the centre):
  ``u = g(x) + s(t) φ(x) N(x, t)`` (with initial data) or ``u = φ(x) N(x, t)`` (without). Together they are
  exact only when ``g`` itself vanishes on the faces (compatible data), which is checked at construction;
* on a domain other than a box, ``φ`` is the domain's smooth distance-like function
  (:meth:`pinnkit.equations.geometry.Geometry.distance_factor`: zero on ``∂Ω``, positive inside), where the
  shape has one.

The wrapped model lists the conditions it enforces in ``enforced_conditions``; the loss leaves them out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Iterable, Sequence, Tuple

import torch
from torch import Tensor, nn

from .sampling import boundary_points

if TYPE_CHECKING:
    from pinnkit.equations.base import Problem

__all__ = ["HardConstraints", "CONSTRAINT_KINDS", "admissible", "auto_kinds"]

CONSTRAINT_KINDS = ("initial", "boundary")


def _first_admitted(problem: Problem, candidates: Iterable[Tuple[str, ...]]) -> Tuple[str, ...]:
    """The first of ``candidates`` that :class:`HardConstraints` accepts for ``problem``, else ``()``."""
    for kinds in candidates:
        try:
            HardConstraints(nn.Identity(), problem, kinds)
        except ValueError:
            continue
        return kinds
    return ()


def admissible(problem: Problem) -> Tuple[str, ...]:
    """The kinds of :data:`CONSTRAINT_KINDS` that :class:`HardConstraints` can impose on ``problem`` together:
    both when both hold (initial data compatible with zero boundary data), else the one that holds alone
    (initial data first), else none."""
    return _first_admitted(problem, (CONSTRAINT_KINDS, ("initial",), ("boundary",)))


def auto_kinds(problem: Problem) -> Tuple[str, ...]:
    """What ``hard_constraints="auto"`` imposes: the boundary data where :class:`HardConstraints` admits them
    (``u = φ N``: the model stays one the certified enclosures read, :mod:`pinnkit.enclosure`, and the L² energy
    bound of :mod:`pinnkit.theory` needs ``e = 0`` on the boundary), else the initial data where admitted,
    else none. Measured on 2-D heat (3×32, Adam then self-scaled BFGS): boundary alone 7.5e-6 in 22 s, initial
    and boundary 1.1e-5 in 19 s — the same accuracy, so the certifiable one is the default."""
    return _first_admitted(problem, (("boundary",), ("initial",)))


class HardConstraints(nn.Module):
    """``net`` wrapped so that it satisfies the problem's initial and/or homogeneous Dirichlet data exactly."""

    def __init__(self, net: nn.Module, problem: Problem, kinds: Iterable[str] = ("initial",)) -> None:
        super().__init__()
        kinds = tuple(kinds)
        for k in kinds:
            if k not in CONSTRAINT_KINDS:
                raise ValueError(f"hard_constraints must be a subset of {CONSTRAINT_KINDS}, got {kinds}")
        self.net = net
        self.kinds = kinds
        self.spatial_dim = problem.spatial_dim
        conds = problem.conditions()
        enforced = []
        self._initial = None
        if "initial" in kinds:
            if not problem.time_dependent:
                raise ValueError(f"hard_constraints 'initial' needs a time-dependent problem; {problem.name} is steady")
            ic = [c for c in conds if c.location(problem) == "initial"]
            if len(ic) != 1 or getattr(ic[0], "components", None) is not None:
                raise ValueError(
                    f"hard_constraints 'initial' needs one initial condition on all outputs in {problem.name}"
                )
            self._initial = ic[0].target
            t0, T = problem.time_interval
            self.t0, self.span = float(t0), float(T - t0)
            enforced.append(ic[0].name)
        self._distance = None
        if "boundary" in kinds:
            bcs = [c for c in conds if c.location(problem) not in ("initial", "data")]
            ok = bcs and all(getattr(c, "homogeneous", False) and getattr(c, "components", None) is None for c in bcs)
            if problem.on_box:
                locs = [c.location(problem) for c in bcs] if ok else []
                faces = {f for loc in locs if isinstance(loc, tuple) for f in loc}
                ok = ok and len(faces) == 2 * problem.spatial_dim
            else:
                ok = ok and all(getattr(c.location(problem), "where", 0) is None for c in bcs)
            if not ok:
                raise ValueError(
                    f"hard_constraints 'boundary' needs homogeneous Dirichlet data (u = 0) on the whole boundary; "
                    f"{problem.name} has {[type(c).__name__ for c in bcs]} (set homogeneous=True where it holds)"
                )
            if not problem.on_box:
                self._distance = problem.domain.distance_factor()
                if self._distance is None:
                    raise ValueError(
                        f"hard_constraints 'boundary' needs a distance function of the domain, and "
                        f"{problem.domain.describe()} has none (there is one for intervals, boxes, triangles, "
                        "disks, spheres, balls and ellipses)"
                    )
            enforced += [c.name for c in bcs]
            lo = torch.tensor(problem.lower, dtype=torch.get_default_dtype())
            hi = torch.tensor(problem.upper, dtype=torch.get_default_dtype())
            self.register_buffer("lower", lo)
            self.register_buffer("upper", hi)
            if self._initial is not None:
                self._check_compatible(problem)
        self.enforced_conditions: Tuple[str, ...] = tuple(enforced)

    def _check_compatible(self, problem) -> None:
        """The initial data must vanish on the boundary for ``g + s φ N`` to meet both conditions."""
        pts = torch.as_tensor(boundary_points(problem, None, 512, "sobol", 0), dtype=torch.float64)
        pts[:, -1] = self.t0
        g = self._initial(pts).abs().max().item()
        if g > 1e-9:
            raise ValueError(
                f"hard_constraints ('initial', 'boundary') need initial data that vanish on the faces; "
                f"{problem.name}'s reach |g| = {g:.3g} there"
            )

    def _phi(self, xs: Tensor) -> Tensor:
        if self._distance is not None:  # the domain's own distance function (zero on its boundary)
            return self._distance(xs)
        width = self.upper - self.lower
        return (4.0 * (xs - self.lower) * (self.upper - xs) / width**2).prod(dim=1, keepdim=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.transform(x, self.net(x))

    @property
    def supports_jet(self) -> bool:
        """Whether :meth:`jet` applies: zero Dirichlet data alone on a box, around a net with a jet rule."""
        return self.kinds == ("boundary",) and self._distance is None and bool(getattr(self.net, "supports_jet", False))

    def jet(
        self, x: Tensor, first: Sequence[int], second: Sequence[Tuple[int, int]] = ()
    ) -> Tuple[Tensor, Dict[int, Tensor], Dict[Tuple[int, int], Tensor]]:
        """Value and input derivatives of ``u = φ N`` in one forward pass (the taylor engine): the free net's
        jet (:meth:`pinnkit.nets.MLP.jet`) and the product rule with the closed-form derivatives of
        ``φ = Π_k f_k(x_k)``, ``f_k = 4 (x_k − l_k)(u_k − x_k)/w_k²``, ``f_k' = 4 (u_k + l_k − 2 x_k)/w_k²``,
        ``f_k'' = −8/w_k²``: ``(φN)_k = φ_k N + φ N_k``, ``(φN)_jk = φ_jk N + φ_j N_k + φ_k N_j + φ N_jk``."""
        second = [tuple(p) for p in second]
        need = sorted(set(first) | {k for p in second for k in p})
        n, dn, d2n = self.net.jet(x, need, second)
        d = self.spatial_dim
        xs = x[:, :d]
        w = self.upper - self.lower
        f = 4.0 * (xs - self.lower) * (self.upper - xs) / w**2  # (N, d)
        f1 = 4.0 * (self.upper + self.lower - 2.0 * xs) / w**2
        f2 = (-8.0 / w**2).expand_as(xs)

        def prod(factors: Dict[int, Tensor]) -> Tensor:  # Π_i f_i with the factors given replaced
            out = torch.ones_like(xs[:, :1])
            for i in range(d):
                out = out * (factors[i][:, i : i + 1] if i in factors else f[:, i : i + 1])
            return out

        phi = prod({})

        def dphi(k: int) -> Tensor:
            return prod({k: f1}) if k < d else torch.zeros_like(phi)

        def d2phi(j: int, k: int) -> Tensor:
            if j >= d or k >= d:
                return torch.zeros_like(phi)
            return prod({k: f2}) if j == k else prod({j: f1, k: f1})

        u = phi * n
        first_out = {k: dphi(k) * n + phi * dn[k] for k in first}
        second_out = {
            (j, k): d2phi(j, k) * n + dphi(j) * dn[k] + dphi(k) * dn[j] + phi * d2n[(j, k)] for j, k in second
        }
        return u, first_out, second_out

    def transform(self, x: Tensor, free: Tensor) -> Tensor:
        """The constrained output at ``x`` for the free net's output ``free`` there (also usable as another
        library's output transform, as ``benchmarks/time_to_target.py`` does for DeepXDE)."""
        if "boundary" in self.kinds:
            free = self._phi(x[:, : self.spatial_dim]) * free
        if self._initial is None:
            return free
        x0 = torch.cat([x[:, :-1], torch.full_like(x[:, -1:], self.t0)], dim=1)
        g = self._initial(x0)
        g = g.unsqueeze(-1) if g.dim() == 1 else g
        return g + ((x[:, -1:] - self.t0) / self.span) * free
