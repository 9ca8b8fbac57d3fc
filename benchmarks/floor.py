"""The arithmetic floor of one PINN training iteration: matrix-multiply work counted from the net's shape,
timed at the sizes that occur on this machine.

Counting (float32, one Adam iteration on ``N_pde`` collocation points and ``N_c`` points per condition).
For an MLP ``D → w → … → w → m`` (``L`` hidden layers) the multiply–adds of one point through one layer
``a → b`` are ``a·b``. A residual that needs the value, the first derivatives along the directions ``K``
and the second derivatives ``P`` (pairs) is evaluated in the cheapest way, one Taylor-mode pass that
carries ``S = 1 + |K| + |P|`` *streams* (value, tangents, second-order tangents) through every layer;
every stream costs one matmul per layer, except at the first layer, where the derivative streams of the
input are constant unit vectors (no matmul). Hence, per point of a term with ``S`` streams,

    MAC = D·w + S · ((L − 1)·w² + w·m)

and, with backward ≈ 2 × forward (one matmul for the gradient with respect to a layer's input, one for
its weights),

    FLOPs/iteration = 3 · 2 · Σ_terms N_term · MAC_term.

Conditions usually need only the value (``S = 1``). Elementwise work (tanh, its derivatives, the products
of the derivative chain rule, the loss) and the optimiser update are not counted: the floor is a lower
bound, the time of the matmuls alone. It is measured, not estimated from a peak: every matmul above
(forward ``(n, a)·(a, b)``, input-gradient ``(n, b)·(b, a)``, weight-gradient ``(b, n)·(n, a)`` with ``n``
the stacked rows ``N_term · S``) is timed with ``torch.mm`` into a preallocated output, float32, at the
suite's thread count; ``floor_s`` is the sum, and ``rate = FLOPs / floor_s`` the matmul rate at these
sizes. For the 3 × 20 Burgers net on 2540 + 240 points this counts about 5e7 FLOPs per iteration.
"""

from __future__ import annotations

import time
from typing import Dict, List, Tuple

import torch

__all__ = ["streams_of", "term_streams", "iteration_flops", "time_mm", "iteration_floor", "peak_rate"]


def streams_of(requests) -> int:
    """Taylor-mode streams for a set of :class:`pinnkit.Fields` requests (``("d", k)``, ``("d2", j, k)``):
    the value, one tangent per first-derivative direction (second derivatives need theirs too), one
    per second-derivative pair."""
    first = {r[1] for r in requests if r[0] == "d"}
    pairs = {tuple(r[1:]) for r in requests if r[0] == "d2"}
    for j, k in pairs:
        first |= {j, k}
    return 1 + len(first) + len(pairs)


def term_streams(problem) -> Dict[str, int]:
    """Streams per loss term (``"pde"`` and each condition), read from the derivatives the problem's
    residuals request on a small batch (a term evaluated at several point sets, such as a periodic
    condition, counts each set)."""
    from pinnkit.derivatives import Fields
    from pinnkit.nets import MLP
    from pinnkit.sampling import Sampler

    net = MLP(
        problem.input_dim, problem.n_outputs, width=4, depth=1, input_bounds=(problem.input_lower, problem.input_upper)
    )
    batch = Sampler(problem, 4, 4, 4).draw(0, dtype=torch.float64)
    net = net.double()
    f = Fields(net, batch.domain, spatial_dim=problem.spatial_dim)
    problem.residual(f)
    out = {"pde": streams_of(f.requests)}
    for c in problem.conditions():
        made: List[Fields] = []

        def fields(x, made=made):
            g = Fields(net, x, spatial_dim=problem.spatial_dim)
            made.append(g)
            return g

        c.residual(fields, batch.conditions[c.name])
        out[c.name] = sum(streams_of(g.requests) for g in made)
    return out


def layer_dims(in_dim: int, width: int, depth: int, out_dim: int) -> List[Tuple[int, int]]:
    """``(a, b)`` of every Linear layer of the MLP."""
    dims = [in_dim] + [width] * depth + [out_dim]
    return list(zip(dims[:-1], dims[1:]))


def _matmuls(in_dim: int, width: int, depth: int, out_dim: int, rows: Dict[str, Tuple[int, int]]):
    """``(n, a, b)`` of every forward matmul of one iteration: per term ``(N, S)`` the first layer on
    ``N`` rows, the others on ``N·S`` rows."""
    out = []
    for n_pts, s in rows.values():
        for i, (a, b) in enumerate(layer_dims(in_dim, width, depth, out_dim)):
            out.append((n_pts if i == 0 else n_pts * s, a, b))
    return out


def iteration_flops(in_dim: int, width: int, depth: int, out_dim: int, rows: Dict[str, Tuple[int, int]]) -> float:
    """FLOPs of one training iteration by the formula of the module docstring; ``rows`` maps each loss
    term to ``(points, streams)``."""
    return float(sum(3 * 2 * n * a * b for n, a, b in _matmuls(in_dim, width, depth, out_dim, rows)))


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_mm(m: int, k: int, n: int, device: str = "cpu", min_time: float = 0.02, repeats: int = 5) -> float:
    """Seconds of one float32 ``(m, k)·(k, n)`` ``torch.mm`` into a preallocated output: the best of
    ``repeats`` timings, each of enough calls to last about ``min_time``."""
    a = torch.randn(m, k, device=device)
    b = torch.randn(k, n, device=device)
    c = torch.empty(m, n, device=device)
    torch.mm(a, b, out=c)
    _sync(device)
    t0 = time.perf_counter()
    torch.mm(a, b, out=c)
    _sync(device)
    one = max(time.perf_counter() - t0, 1e-7)
    calls = max(1, min(10_000, int(min_time / one)))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            torch.mm(a, b, out=c)
        _sync(device)
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


def iteration_floor(
    in_dim: int, width: int, depth: int, out_dim: int, rows: Dict[str, Tuple[int, int]], device: str = "cpu"
) -> Dict[str, float]:
    """``flops`` of one iteration, ``floor_s`` (the measured time of its matmuls) and the implied
    ``rate_gflops``; ``rows`` maps each loss term to ``(points, streams)``."""
    cache: Dict[Tuple[int, int, int], float] = {}

    def t(m: int, k: int, n: int) -> float:
        if (m, k, n) not in cache:
            cache[(m, k, n)] = time_mm(m, k, n, device)
        return cache[(m, k, n)]

    floor_s = 0.0
    for n, a, b in _matmuls(in_dim, width, depth, out_dim, rows):
        floor_s += t(n, a, b) + t(n, b, a) + t(b, n, a)
    flops = iteration_flops(in_dim, width, depth, out_dim, rows)
    return {"flops": flops, "floor_s": floor_s, "rate_gflops": flops / floor_s / 1e9, "matmul_shapes": len(cache)}


def peak_rate(device: str = "cpu", size: int = 1024) -> float:
    """GFLOP/s of a large square float32 matmul, for reference."""
    return 2.0 * size**3 / time_mm(size, size, size, device, min_time=0.05, repeats=3) / 1e9
