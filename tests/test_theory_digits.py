"""A study's rows must not depend on how many BLAS threads its worker processes run (one under Dask, the
machine's default in a process pool): the sampled quadratures are summed pairwise, not by a BLAS dot."""

import os
import subprocess
import sys
from pathlib import Path

WORKER = Path(__file__).parent / "workers" / "theorem_digits.py"


def _terms(threads: int) -> str:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, str(WORKER)], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_theorem1_terms_are_the_same_digits_on_one_and_on_four_blas_threads():
    one, four = _terms(1), _terms(4)
    assert one == four and one.startswith("(")
