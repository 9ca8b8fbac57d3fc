"""Print Theorem 1's sampled terms for a fixed net, to compare across BLAS thread counts (see
tests/test_theory_digits.py)."""

import torch

from pinnkit.equations import BurgersBlowup
from pinnkit.theory.burgers_blowup import theorem1

torch.manual_seed(0)
torch.set_num_threads(1)
net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()
terms = theorem1(net, BurgersBlowup(dim=1, delta=0.95), n_samples=200_000, seed=3)
print(repr((terms.pde_residual_sq, terms.surrogate_sq, terms.initial_residual_sq, terms.error_sq)))
