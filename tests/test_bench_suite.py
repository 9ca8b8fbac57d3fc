"""The benchmark suite (``python -m benchmarks``) on one tiny configuration, and its floor count."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root holds benchmarks/

from benchmarks.floor import iteration_flops, streams_of, term_streams  # noqa: E402
from benchmarks.suite import main  # noqa: E402


@pytest.fixture
def restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def test_quick_suite_writes_json_and_markdown(tmp_path, restore_threads):
    out = tmp_path / "bench"
    main(
        [
            "--quick",
            "--problems",
            "burgers-3x20",
            "--adam",
            "12",
            "--lbfgs",
            "20",
            "--threads",
            "1",
            "--track-every",
            "5",
            "--n-eval",
            "400",
            "--out",
            str(out),
        ]
    )
    report = json.loads((out / "bench.json").read_text())
    assert {"config", "versions", "seed", "machine", "results", "peak_matmul_gflops"} <= set(report)
    assert report["machine"]["torch_threads"] == 1 and report["machine"]["cpu_count"] == os.cpu_count()
    assert "deepxde" in report["versions"] and "pinnkit" in report["versions"]
    res = report["results"]["burgers-3x20"]
    for lib in ("pinnkit", "deepxde"):
        r = res[lib]
        for key in ("adam_it_s", "lbfgs_it_s", "relative_l2", "time_to_target", "floor_multiple", "adam_warmup_s"):
            assert key in r, (lib, key)
        assert r["adam_it_s"] > 0 and r["lbfgs_it_s"] > 0 and r["floor_multiple"] > 0
        assert r["adam_iters"] == 12 and r["lbfgs_iters"] > 0
        assert r["time_to_target"]["target"] == 1e-3 and r["trace"]
    # same net, points and loss: both libraries start from the same loss value
    p0, d0 = res["pinnkit"]["initial_loss"], res["deepxde"]["initial_loss"]
    assert abs(p0 - d0) <= 1e-5 * abs(d0)
    assert res["ratios"]["adam"] > 0 and res["floor"]["floor_s"] > 0 and res["floor"]["flops"] > 0
    md = (out / "bench.md").read_text()
    assert "| burgers-3x20 |" in md and "Adam it/s pk" in md


def test_floor_counts_streams_and_flops():
    from pinnkit.equations import Heat, Kovasznay, ViscousBurgers

    assert term_streams(Heat(dim=2)) == {"pde": 6, "initial": 1, "boundary": 1}  # u, ∂x, ∂y, ∂t, ∂xx, ∂yy
    assert term_streams(ViscousBurgers())["pde"] == 4
    assert term_streams(Kovasznay())["pde"] == 5
    assert streams_of({("d2", 0, 1)}) == 4
    # Burgers 3x20 (2 -> 20 -> 20 -> 20 -> 1): MAC per point = 2*20 + S*(2*400 + 20)
    rows = {"pde": (2540, 4), "initial": (160, 1), "boundary": (80, 1)}
    expected = 6 * (2540 * (40 + 4 * 820) + 240 * (40 + 820))
    assert iteration_flops(2, 20, 3, 1, rows) == expected
