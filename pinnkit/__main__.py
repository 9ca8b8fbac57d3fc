"""``python -m pinnkit …`` (and ``torchrun --nproc_per_node P -m pinnkit solve …``): the command line."""

import sys

from pinnkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
