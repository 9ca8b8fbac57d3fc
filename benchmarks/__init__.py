"""Benchmarks: pinnkit against DeepXDE on the same work (``python -m benchmarks``, see :mod:`benchmarks.suite`)."""
