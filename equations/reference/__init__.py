"""Numerical reference solvers (numpy/scipy) for problems without a closed form.

Each solver here is tested for convergence under refinement; nothing in this package knows about training.
"""
