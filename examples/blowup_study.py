"""Blow-up study of Kumar & Mukherjee (2024): PINN error vs risk-based bounds as δ approaches blow-up.

    python examples/blowup_study.py                 # (1+1)-D, paper's δ grid, fast protocol, ±gradient penalty
    python examples/blowup_study.py --dim 2         # (2+1)-D
    python examples/blowup_study.py --paper         # the paper's protocol and widths (hours on a CPU)

Writes table.csv/json, summary.json (Pearson/Spearman correlations) and plots under runs/; re-running
resumes where it stopped. Same options as ``pinnkit study blowup``.
"""

import sys

from pinnkit.cli import main

if __name__ == "__main__":
    sys.exit(main(["study", "blowup", *sys.argv[1:]]))
