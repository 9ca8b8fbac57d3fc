"""Enclosures are sound and tight (issue 14): interval operations contain the exact (mpmath, 60 digits) result;
over 10⁶ random points in random boxes of random and trained nets every value, gradient and Hessian lies in
its enclosure; net enclosures contain a 60-digit evaluation; the widths fall at the order the centred forms
promise."""

import math

import mpmath
import pytest
import torch

import pinnkit
from pinnkit.enclosure import Interval, enclose
from pinnkit.jets import mlp_jet
from pinnkit.nets import MLP, FourierFeatures, ResidualMLP

mpmath.mp.dps = 60


def _mp(x: float) -> mpmath.mpf:
    x = x.detach() if torch.is_tensor(x) else x
    return mpmath.mpf(float(x))  # exact: a float64 is a dyadic rational


def _random_intervals(n, scale, gen):
    a = (torch.rand(n, generator=gen, dtype=torch.float64) * 2 - 1) * scale
    w = torch.rand(n, generator=gen, dtype=torch.float64) * scale * 0.1
    return Interval(a, a + w)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "square", "div"])
def test_arithmetic_contains_the_exact_result(op):
    g = torch.Generator().manual_seed(1)
    X, Y = _random_intervals(300, 10.0, g), _random_intervals(300, 10.0, g)
    if op == "div":
        Y = Interval(Y.lo.abs() + 0.5, Y.lo.abs() + 0.5 + (Y.hi - Y.lo))
    Z = {
        "add": lambda: X + Y,
        "sub": lambda: X - Y,
        "mul": lambda: X * Y,
        "square": lambda: X.square(),
        "div": lambda: X / Y,
    }[op]()
    f = {
        "add": lambda x, y: x + y,
        "sub": lambda x, y: x - y,
        "mul": lambda x, y: x * y,
        "square": lambda x, y: x * x,
        "div": lambda x, y: x / y,
    }[op]
    for i in range(300):
        for tx in (0.0, 0.37, 1.0):
            for ty in (0.0, 0.61, 1.0):
                x = _mp(X.lo[i]) + tx * (_mp(X.hi[i]) - _mp(X.lo[i]))
                y = _mp(Y.lo[i]) + ty * (_mp(Y.hi[i]) - _mp(Y.lo[i]))
                exact = f(x, y)
                assert _mp(Z.lo[i]) <= exact <= _mp(Z.hi[i]), (op, i, x, y)


def test_linear_contains_the_exact_product_of_every_corner_and_interior_point():
    g = torch.Generator().manual_seed(2)
    W = torch.randn(7, 40, generator=g, dtype=torch.float64)
    b = torch.randn(7, generator=g, dtype=torch.float64)
    X = _random_intervals(40 * 20, 3.0, g).reshape(20, 40)
    Y = X.linear(W, b)
    for n in range(20):
        for t in (0.0, 0.5, 1.0, "random"):
            if t == "random":
                ts = torch.rand(40, generator=g, dtype=torch.float64).tolist()
            else:
                ts = [t] * 40
            xs = [_mp(X.lo[n, j]) + ts[j] * (_mp(X.hi[n, j]) - _mp(X.lo[n, j])) for j in range(40)]
            for i in range(7):
                exact = sum(_mp(W[i, j]) * xs[j] for j in range(40)) + _mp(b[i])
                assert _mp(Y.lo[n, i]) <= exact <= _mp(Y.hi[n, i])


@pytest.mark.parametrize("fn", ["tanh", "sin", "cos"])
def test_elementary_functions_contain_the_exact_range(fn):
    g = torch.Generator().manual_seed(3)
    X = Interval.cat([_random_intervals(200, 8.0, g), _random_intervals(100, 0.1, g)], 0)
    # intervals straddling the extrema of sin and cos
    ext = torch.tensor([math.pi / 2, -math.pi / 2, 0.0, math.pi, 5 * math.pi / 2, -3 * math.pi], dtype=torch.float64)
    X = Interval.cat([X, Interval(ext - 1e-3, ext + 1e-3), Interval(ext, ext.clone())], 0)
    Z = getattr(X, fn)()
    f = getattr(mpmath, fn)
    for i in range(X.shape[0]):
        lo, hi = _mp(X.lo[i]), _mp(X.hi[i])
        points = [lo + k * (hi - lo) / 16 for k in range(17)]
        # the true extremum inside, where there is one
        for x0 in (mpmath.pi / 2, -mpmath.pi / 2, mpmath.mpf(0), mpmath.pi):
            k = mpmath.ceil((lo - x0) / (2 * mpmath.pi))
            p = x0 + 2 * mpmath.pi * k
            if p <= hi:
                points.append(p)
        for x in points:
            assert _mp(Z.lo[i]) <= f(x) <= _mp(Z.hi[i]), (fn, i, x)


def _nets():
    torch.manual_seed(0)
    return {
        "mlp-tanh": MLP(2, 1, 16, 3, input_bounds=([-1.0, 0.0], [1.0, 1.0])),
        "mlp-sin": MLP(2, 2, 12, 2, activation="sin"),
        "mlp-fourier": MLP(2, 1, 12, 2, fourier=FourierFeatures(2, 6, 1.5, seed=1)),
    }


def _trained_net():
    r = pinnkit.solve(
        "heat",
        net={"width": 12, "depth": 2},
        steps=150,
        lbfgs_steps=20,
        n_domain=128,
        n_eval=64,
        progress=False,
        preset="default",  # a bare MLP (heat's preset wraps it in boundary hard constraints)
    )
    return r.model


def _point_jets(model, x):
    D = x.shape[1]
    pairs = [(j, k) for j in range(D) for k in range(D)]
    v, g, h = mlp_jet(model, x, list(range(D)), pairs)
    G = torch.stack([g[k] for k in range(D)], -1)
    H = torch.stack([h[p] for p in pairs], -1).reshape(*v.shape, D, D)
    return v, G, H


@pytest.mark.parametrize("which", ["mlp-tanh", "mlp-sin", "mlp-fourier", "trained"])
def test_a_million_points_in_random_boxes_lie_in_their_enclosures(which):
    model = (_trained_net() if which == "trained" else _nets()[which]).double()
    D = 2
    g = torch.Generator().manual_seed(4)
    n_boxes, per_box = 1000, 1000  # 10⁶ points
    c = torch.rand(n_boxes, D, generator=g, dtype=torch.float64) * 2 - 1
    r = torch.rand(n_boxes, D, generator=g, dtype=torch.float64) * 0.2 * torch.rand(n_boxes, 1, generator=g).double()
    lo, hi = c - r, c + r
    e = enclose(model, lo, hi)
    with torch.no_grad():
        for _chunk in range(0, per_box, 250):
            t = torch.rand(n_boxes, 250, D, generator=g, dtype=torch.float64)
            x = (lo[:, None] + t * (hi - lo)[:, None]).reshape(-1, D)
            v, G, H = _point_jets(model, x)
            m = v.shape[-1]
            v, G, H = v.reshape(n_boxes, 250, m), G.reshape(n_boxes, 250, m, D), H.reshape(n_boxes, 250, m, D, D)
            assert bool(e.value.unsqueeze(1).contains(v).all())
            assert bool(e.grad.unsqueeze(1).contains(G).all())
            assert bool(e.hess.unsqueeze(1).contains(H).all())


def _mp_mlp(model, x):
    """A 60-digit evaluation of an MLP (tanh/sin, input scaling, Fourier features) at the float64 point x."""
    h = [_mp(v) for v in x]
    if model.scaling is not None:
        h = [(h[i] - _mp(model.scaling.center[i])) / _mp(model.scaling.half_width[i]) for i in range(len(h))]
    if model.fourier is not None:
        B = model.fourier.B
        z = [sum(_mp(B[i, j]) * h[j] for j in range(len(h))) for i in range(B.shape[0])]
        h = [mpmath.cos(v) for v in z] + [mpmath.sin(v) for v in z]
    act = mpmath.tanh if model.activation_name == "tanh" else mpmath.sin
    for layer in model.hidden:
        W, b = layer.weight, layer.bias
        h = [act(sum(_mp(W[i, j]) * h[j] for j in range(len(h))) + _mp(b[i])) for i in range(W.shape[0])]
    W, b = model.head.weight, model.head.bias
    return [sum(_mp(W[i, j]) * h[j] for j in range(len(h))) + _mp(b[i]) for i in range(W.shape[0])]


@pytest.mark.parametrize("which", ["mlp-tanh", "mlp-sin", "mlp-fourier"])
def test_enclosure_contains_a_sixty_digit_evaluation(which):
    model = _nets()[which].double()
    g = torch.Generator().manual_seed(5)
    c = torch.rand(30, 2, generator=g, dtype=torch.float64) * 2 - 1
    r = torch.rand(30, 2, generator=g, dtype=torch.float64) * 0.1
    r[:10] = 0.0  # degenerate boxes: the enclosure of a single point is at rounding level and still sound
    lo, hi = c - r, c + r
    e = enclose(model, lo, hi)
    for n in range(30):
        for t in (0.0, 0.5, 1.0):
            x = (lo[n] + t * (hi[n] - lo[n])).tolist()
            for i, u in enumerate(_mp_mlp(model, x)):
                assert _mp(e.value.lo[n, i]) <= u <= _mp(e.value.hi[n, i])
    # a point is enclosed to the padding of the C library's functions (512 ulps per call), through the layers
    assert float(e.value.width()[:10].max()) < 1e-10


@pytest.mark.parametrize("kind", ["mlp", "resmlp"])
def test_widths_fall_linearly_with_the_box(kind):
    torch.manual_seed(0)
    cls = MLP if kind == "mlp" else ResidualMLP
    model = cls(2, 1, 16, 3).double()
    c = torch.tensor([[0.3, -0.2]], dtype=torch.float64)
    widths = []
    for k in range(9, 15):
        rho = 2.0**-k
        e = enclose(model, c - rho, c + rho)
        widths.append((float(e.value.width().max()), float(e.grad.width().max())))
    for (v0, g0), (v1, g1) in zip(widths, widths[1:]):
        assert 0.4 < v1 / v0 < 0.6 and 0.4 < g1 / g0 < 0.6  # first order: halving the box halves the width


def test_unsupported_nets_and_bad_boxes_are_refused():
    with pytest.raises(ValueError, match="no enclosure rule"):
        enclose(MLP(2, 1, 4, 1, activation="relu").double(), torch.zeros(1, 2), torch.ones(1, 2))
    with pytest.raises(ValueError, match="lo <= hi"):
        enclose(MLP(2, 1, 4, 1).double(), torch.ones(1, 2), torch.zeros(1, 2))


def test_mag_and_mig_are_the_largest_and_smallest_absolute_values():
    x = Interval(torch.tensor([-3.0, 1.0, -2.0, -4.0]), torch.tensor([2.0, 5.0, -0.5, 0.0]))
    assert x.mag().tolist() == [3.0, 5.0, 2.0, 4.0]
    assert x.mig().tolist() == [0.0, 1.0, 0.5, 0.0]
