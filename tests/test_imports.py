"""House rules that hold at import time and in the import graph (shared/design/architecture.md):

* importing pinnkit and every module under it changes no global state — torch's default dtype and device,
  matplotlib's backend — and does not import deepxde or pyplot;
* :mod:`pinnkit.validation` needs only the standard library (no torch, no numpy);
* ``theory/`` imports no trainer and no other module's private name; ``equations/`` imports no trainer.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pinnkit", "pinnkit.equations", "pinnkit.theory")
TRAINERS = ("pinnkit.trainer", "pinnkit.operator_trainer", "pinnkit.meanfield_trainer", "pinnkit.training")
# what ``from pinnkit import ...`` would bring in from a trainer module
TRAINER_NAMES = {
    "trainer",
    "operator_trainer",
    "meanfield_trainer",
    "training",
    "PINNTrainer",
    "TrainConfig",
    "TrainingDiverged",
}
# the folder of each top-level wing and the package name it is installed as (pyproject's package-dir)
WINGS = {"pinnkit": ROOT / "pinnkit", "pinnkit.equations": ROOT / "equations", "pinnkit.theory": ROOT / "theory"}

IMPORT_ALL = r"""
import json, sys
import matplotlib
matplotlib.use("svg")
import torch
torch.set_default_dtype(getattr(torch, sys.argv[1]))
before = {"backend": matplotlib.get_backend(), "dtype": str(torch.get_default_dtype()),
          "device": str(torch.get_default_device())}
import importlib, pkgutil
names = []
for pkg_name in sys.argv[2:]:
    pkg = importlib.import_module(pkg_name)
    names.append(pkg_name)
    for info in pkgutil.walk_packages(pkg.__path__, pkg_name + "."):
        importlib.import_module(info.name)
        names.append(info.name)
after = {"backend": matplotlib.get_backend(), "dtype": str(torch.get_default_dtype()),
         "device": str(torch.get_default_device())}
print(json.dumps({"before": before, "after": after, "modules": names,
                  "deepxde": "deepxde" in sys.modules, "pyplot": "matplotlib.pyplot" in sys.modules}))
"""


def _run(code: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout.strip().splitlines()[-1]


# ---------------------------------------------------------------- no import-time side effects
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_importing_every_module_changes_no_global_state(dtype: str) -> None:
    out = json.loads(_run(IMPORT_ALL, dtype, *PACKAGES))
    assert out["before"] == {"backend": "svg", "dtype": f"torch.{dtype}", "device": "cpu"}
    assert out["after"] == out["before"]
    assert not out["deepxde"], "a module imports deepxde at import time"
    assert not out["pyplot"], "a module imports matplotlib.pyplot at import time"
    # the walk reached every wing, its subpackages and the plotting modules
    for name in (
        "pinnkit.cli",
        "pinnkit.nets",
        "pinnkit.studies",
        "pinnkit.studies.plots",
        "pinnkit.report",
        "pinnkit.operator_run",
        "pinnkit.equations.reference",
        "pinnkit.equations.reference.grf",
        "pinnkit.theory.burgers_blowup",
        "pinnkit.validation",
    ):
        assert name in out["modules"]


def test_plots_are_written_without_pyplot_and_keep_the_backend(tmp_path: Path) -> None:
    code = r"""
import json, sys
import matplotlib
matplotlib.use("pdf")
from pinnkit.report import plot_loss_history
h = {"step": [0, 1, 2, 3], "stage": ["adam", "sgd", "lbfgs", "lbfgs"], "loss": [1.0, 0.5, 0.2, 0.1],
     "terms": {"pde": [1.0, 0.4, 0.1, 0.05]}}
path = plot_loss_history(h, sys.argv[1])
print(json.dumps({"backend": matplotlib.get_backend(), "pyplot": "matplotlib.pyplot" in sys.modules,
                  "png": open(path, "rb").read(8).hex()}))
"""
    out = json.loads(_run(code, str(tmp_path / "loss.png")))
    assert out == {"backend": "pdf", "pyplot": False, "png": "89504e470d0a1a0a"}


# ---------------------------------------------------------------- validation needs only the standard library
def test_validation_module_imports_with_the_standard_library_only() -> None:
    # loaded from its file, so that the package's __init__ (which does need torch) is not run
    code = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("pinnkit_validation_alone", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
mod.check_int("n", 3); mod.check_real("a", 0.5, 0.0, 1.0); mod.check_choice("k", "a", ("a",))
print(json.dumps({m: m in sys.modules for m in ("torch", "numpy", "scipy", "pinnkit")}))
"""
    out = json.loads(_run(code, str(ROOT / "pinnkit" / "validation.py")))
    assert out == {"torch": False, "numpy": False, "scipy": False, "pinnkit": False}
    tree = ast.parse((ROOT / "pinnkit" / "validation.py").read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


def test_import_pinnkit_validation_needs_no_torch() -> None:
    # the package's public names load lazily, so the torch-free module really is importable without torch
    code = r"""
import json, sys
import pinnkit.validation
pinnkit.validation.check_int("n", 3)
print(json.dumps({m: m in sys.modules for m in ("torch", "numpy")}))
"""
    assert json.loads(_run(code)) == {"torch": False, "numpy": False}
    code = "import json, pinnkit; print(json.dumps([pinnkit.solve.__name__, pinnkit.trainer.__name__]))"
    assert json.loads(_run(code)) == ["solve", "pinnkit.trainer"]


# ---------------------------------------------------------------- the import graph of theory/ and equations/
def _module_name(path: Path) -> str:
    for pkg, folder in WINGS.items():
        if folder in path.parents:
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            return ".".join([pkg, *parts])
    raise AssertionError(path)


def _imports(path: Path):
    """``(line, imported module, names, bound aliases)`` of every import in ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    this = _module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, [], [(a.asname or a.name.split(".")[0], a.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = [a.name for a in node.names]
            yield node.lineno, module, names, [(a.asname or a.name, f"{module}.{a.name}") for a in node.names]


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _trainer_imports(path: Path) -> list:
    bad = []
    for line, module, names, _ in _imports(path):
        targets = [module] + [f"{module}.{n}" for n in names]
        if any(t == tr or t.startswith(tr + ".") for t in targets for tr in TRAINERS):
            bad.append(f"{path.relative_to(ROOT)}:{line} imports {module} {names}")
        elif module == "pinnkit" and TRAINER_NAMES & set(names):
            bad.append(f"{path.relative_to(ROOT)}:{line} imports {sorted(TRAINER_NAMES & set(names))} from pinnkit")
    return bad


def _py_files(folder: Path) -> list:
    files = sorted(folder.rglob("*.py"))
    assert files, folder
    return files


def test_theory_imports_no_trainer() -> None:
    bad = [b for f in _py_files(ROOT / "theory") for b in _trainer_imports(f)]
    assert not bad, "\n".join(bad)


def test_equations_import_no_trainer() -> None:
    bad = [b for f in _py_files(ROOT / "equations") for b in _trainer_imports(f)]
    assert not bad, "\n".join(bad)


def test_theory_imports_no_private_name_of_another_module() -> None:
    bad = []
    for path in _py_files(ROOT / "theory"):
        this = _module_name(path)
        aliases = {}
        for line, module, names, bound in _imports(path):
            if module == this:
                continue
            bad += [f"{path.relative_to(ROOT)}:{line} from {module} import {n}" for n in names if _is_private(n)]
            if module.startswith("pinnkit"):
                aliases.update(dict(bound))
        # ``import pinnkit.x as m`` / ``from pinnkit import x as m`` followed by ``m._name``
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and _is_private(node.attr)
            ):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert not bad, "\n".join(bad)


def test_import_graph_checks_see_relative_imports() -> None:
    # the checks above resolve ``from .x import _y`` and ``from ..trainer import T`` correctly
    path = ROOT / "theory" / "gradients.py"
    modules = {m for _, m, _, _ in _imports(path)}
    assert "pinnkit.theory.burgers_blowup" in modules and "pinnkit.derivatives" in modules
    assert _module_name(ROOT / "equations" / "reference" / "grf.py") == "pinnkit.equations.reference.grf"
    assert _module_name(ROOT / "theory" / "__init__.py") == "pinnkit.theory"


def test_no_module_switches_the_matplotlib_backend_or_uses_pyplot() -> None:
    # plots are drawn on matplotlib.figure.Figure: matplotlib.use() or pyplot anywhere (even inside a plotting
    # function) would switch a notebook user's backend when that plot is drawn
    offenders = []
    for folder in ("pinnkit", "equations", "theory"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import) and any(a.name == "matplotlib.pyplot" for a in node.names):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports pyplot")
                if (
                    isinstance(node, ast.ImportFrom)
                    and node.module == "matplotlib"
                    and any(a.name == "pyplot" for a in node.names)
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports pyplot")
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "use"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "matplotlib"
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} calls matplotlib.use")
    assert not offenders, offenders
