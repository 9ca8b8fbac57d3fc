"""``python -m benchmarks``: the speed/accuracy suite of :mod:`benchmarks.suite`."""

from .suite import main

if __name__ == "__main__":
    main()
