"""Long accuracy runs of DeepONet on viscous Burgers (ν = 0.01, Wang, Wang & Perdikaris' GRF inputs, 1000
training / 100 test functions) with the package defaults of ``pinnkit deeponet burgers``: the data-driven
DeepONet to ≤ 3% and PI-DeepONet (no solution data) to ≤ 5% mean relative L2 on the held-out functions.
Several minutes each on 2 CPU cores; run with ``pytest -m slow``."""

from __future__ import annotations

import pytest

from pinnkit.operator_run import DEFAULT_STEPS, format_result, run


@pytest.mark.slow
@pytest.mark.parametrize("mode,target", [("data", 0.03), ("physics", 0.05)])
def test_burgers_operator_reaches_target(mode: str, target: float, tmp_path) -> None:
    summary = run(pde="burgers", mode=mode, minutes=None, threads=2, out=str(tmp_path), progress=False)
    r = summary["runs"][mode]
    print(format_result(mode, r))
    assert r["steps"] == DEFAULT_STEPS[mode]  # the full default run, no time limit
    assert r["mean_rel_l2"] <= target, f"{mode}: mean test relative L2 {r['mean_rel_l2']:.3%} > {target:.0%}"
