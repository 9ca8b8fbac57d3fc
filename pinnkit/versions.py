"""Versions of everything that can change a result, recorded with every run."""

from __future__ import annotations

import platform
from typing import Dict


def versions() -> Dict[str, str]:
    import numpy
    import scipy
    import torch

    from . import __version__

    return {
        "pinnkit": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "platform": platform.platform(),
        "torch_threads": str(torch.get_num_threads()),
    }
