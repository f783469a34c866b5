"""`pip install .` gives a working bnviz: every subpackage and the shipped data come along.

The wheel is built from a copy of the sources (no network: the build uses this
environment's setuptools) and installed into a fresh virtual environment that
sees this environment's numpy, pandas, plotly and streamlit but not the sources.
"""
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _run(*args, cwd=None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _modules(root: Path) -> list:
    """Dotted names of every module and package under bnviz/ in the sources."""
    names = set()
    for path in (root / "bnviz").rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(names)


def _resources(root: Path) -> list:
    """Every file under bnviz/ that is not Python: data and page assets the code reads."""
    return sorted(str(p.relative_to(root)) for p in (root / "bnviz").rglob("*")
                  if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The python of a fresh venv with the bnviz wheel installed in it."""
    tmp = tmp_path_factory.mktemp("package")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "bnviz", src / "bnviz", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp / "dist"
    _run(sys.executable, "-m", "pip", "wheel", src, "--no-deps", "--no-build-isolation", "--no-index",
         "-w", dist, "-q")
    wheel = next(dist.glob("bnviz-*.whl"))
    venv = tmp / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    # the runtime dependencies come from this environment, read-only: no network needed
    (site / "shared_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel)
    return python, venv, tmp


def test_the_installed_package_loads_the_placement_data(installed):
    python, venv, tmp = installed
    out = _run(python, "-c", "import bnviz; d = bnviz.load_dataset('placement'); "
                             "print(bnviz.__file__); print(len(d.y_train) + len(d.y_test)); print(d.feature_names)",
               cwd=tmp)
    where, rows, names = out.strip().splitlines()
    assert Path(where).is_relative_to(venv)              # the installed copy, not the sources
    assert rows == "400" and names == "('cgpa', 'iq')"


def test_the_installed_package_loads_the_digits(installed):
    python, venv, tmp = installed
    out = _run(python, "-c", "import bnviz; d = bnviz.load_dataset('digits'); "
                             "print(len(d.y_train) + len(d.y_test), d.n_features, d.n_classes, d.X_train.max())",
               cwd=tmp)
    assert out.split() == ["1797", "64", "10", "16.0"]


def test_the_installed_package_has_its_lessons_verdicts_measured(installed):
    """The shipped verdicts travel with the package and its fingerprint is the sources': a fresh
    install shows every lesson card at once."""
    from bnviz.shipped_verdicts import fingerprint

    python, _, tmp = installed
    out = _run(python, "-c", "from bnviz.shipped_verdicts import fingerprint, shipped; "
                             "print(fingerprint(), len(shipped(range(10))))", cwd=tmp)
    stamp, count = out.split()
    assert stamp == fingerprint() and int(count) >= 2 * 14


def test_every_module_and_file_is_installed(installed):
    python, venv, tmp = installed
    modules = _modules(ROOT)
    assert {"bnviz", "bnviz.nn", "bnviz.figures", "bnviz.ui", "bnviz.ui.controls"} <= set(modules)
    site = Path(_run(python, "-c", "import bnviz, os; print(os.path.dirname(os.path.dirname(bnviz.__file__)))",
                     cwd=tmp).strip())
    for resource in _resources(ROOT):
        assert (site / resource).is_file(), resource
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    module = importlib.import_module(name)\n"
            f"    assert module.__file__.startswith({str(venv)!r}), module.__file__\n"
            "print('ok')")
    assert _run(python, "-c", code, cwd=tmp).strip() == "ok"


def test_a_run_trains_from_the_installed_package(installed):
    python, _, tmp = installed
    out = _run(python, "-c", "from bnviz import Config, train, load_for; cfg = Config(epochs=1); "
                             "print(train(cfg, load_for(cfg)).n_steps)", cwd=tmp)
    assert out.strip() == "32"                           # 320 training rows in batches of 10
