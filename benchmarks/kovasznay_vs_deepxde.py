"""Kovasznay flow (Re = 20) in DeepXDE (PyTorch backend) and in pinnkit, side by side in one process.

DeepXDE's Kovasznay example setup (4×50 tanh, 2601 domain and 400 boundary points, Adam at 1e-3 then
L-BFGS), the same initial weights, points, loss, iterations, seed and threads in both; prints iterations per
second of each, their ratio and both final errors (velocity and pressure, pressure mean removed). This is
the ``kovasznay`` row of the suite (``python -m benchmarks --problems kovasznay``), which it runs:

    python benchmarks/kovasznay_vs_deepxde.py [--adam 1000] [--lbfgs 200] [--threads 2] [--no-compile]

Measured (2 threads, quiet 2-core CPU, compiled taylor engine): 116.9 vs 29.4 Adam it/s (3.97×), 94.0 vs
28.5 L-BFGS it/s (3.30×), relative L2 1.11e-1 vs 1.17e-1 after 1000 + 200 iterations.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run as a script

from benchmarks.suite import main as suite_main  # noqa: E402


def main(argv=None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    return suite_main(["--problems", "kovasznay", *argv])


if __name__ == "__main__":
    main()
