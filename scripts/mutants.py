"""Mutation testing of one module against its own test selection.

    python scripts/mutants.py config            # or: make mutants MODULE=config
    python scripts/mutants.py figures.curves    # a module under bnviz/figures/
    python scripts/mutants.py --list            # the modules and their tests

mutmut reads its settings from ./pyproject.toml and works in ./mutants/, so each
module gets a folder of its own, build/mutants/<module>/: links to the project's
files, a pyproject.toml whose [tool.mutmut] mutates only that module and selects
only its tests (MODULES below), and mutmut's mutants/ folder. Runs of different
modules therefore keep their results apart; `mutmut results`, `mutmut show NAME`
and `mutmut browse` work inside that folder. Every run starts afresh (mutmut keeps
a cached verdict even when the tests have changed) unless --keep is given.

Prints the score and the survivors (scripts/mutation_score.py) and the time the
run took; exits with 1 under the bar (default 90 %).

Plain `make mutants` (the engine modules in pyproject.toml's [tool.mutmut]) is not
affected.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module (under bnviz/, dotted) -> the test files (or test ids) that check it by value.
# Each mutant runs only those of these tests that reach the mutated function.
MODULES = {
    "config": ["tests/test_config.py", "tests/test_values_config.py"],
    "csvread": ["tests/test_data.py", "tests/test_visitor_text.py", "tests/test_values_csvread.py"],
    "compare": ["tests/test_compare_cache.py",
                "tests/test_controls.py::test_compare_choices_and_run_b_defaults_come_from_the_table",
                "tests/test_values_compare.py"],
    "watch": ["tests/test_values_watch.py"],
    "figures.watch": ["tests/test_values_figures_watch.py"],
    "figures.speech": ["tests/test_values_figures_speech.py"],
    "figures.lessons": ["tests/test_values_figures_lessons.py"],
    "lessons": ["tests/test_values_lessons_words.py", "tests/test_values_lessons_sentences.py",
                "tests/test_values_lessons_rules.py", "tests/test_verdicts.py::"
                "test_a_failing_parts_name_keeps_its_abbreviation_inside_the_sentence"],
    "verdicts": ["tests/test_verdicts.py", "tests/test_values_verdicts.py"],
    "figures.colours": ["tests/test_values_colours.py"],
    "figures.common": ["tests/test_values_figures_common.py"],
    "figures.curves": ["tests/test_values_figures_curves.py"],
    "figures.running": ["tests/test_values_figures_running.py"],
    "figures.activations": ["tests/test_values_figures_activations.py"],
    "figures.classes": ["tests/test_values_figures_classes.py"],
    "figures.contours": ["tests/test_values_figures_contours.py"],
    "figures.parameters": ["tests/test_values_figures_parameters.py"],
    "figures.testtime": ["tests/test_values_figures_testtime.py"],
    "figures.sweeps": ["tests/test_values_figures_sweeps.py"],
    "figures.network": ["tests/test_values_figures_network.py"],
    "smoothness": ["tests/test_values_smoothness.py"],
    "overseeds": ["tests/test_values_overseeds.py"],
    "measures": ["tests/test_values_measures.py"],
    "sweeps": ["tests/test_sweeps.py", "tests/test_sweeps_seeds.py", "tests/test_values_sweeps.py"],
}

# what the project folder holds that a mutants folder must not link to
_NOT_LINKED = {".git", ".venv", "build", "mutants", "pyproject.toml", "artifacts", ".pytest_cache",
               ".hypothesis", "__pycache__"}
# files some selected tests read beside the code (mutmut copies tests/ and pyproject.toml itself)
_ALSO_COPY = ["docs", "data", "deploy", "README.md", ".streamlit"]


def module_path(module: str) -> str:
    return "bnviz/" + module.replace(".", "/") + ".py"


def selection(module: str) -> list:
    """The module's tests that exist (a file named in MODULES but not yet written is left out, with a note)."""
    tests = [t for t in MODULES[module] if (ROOT / t.split("::")[0]).is_file()]
    for missing in sorted(set(MODULES[module]) - set(tests)):
        print(f"note: {missing} does not exist; left out of the selection", file=sys.stderr)
    return tests


def workdir(module: str) -> Path:
    return ROOT / "build" / "mutants" / module


def mutmut_settings(module: str) -> str:
    """The [tool.mutmut] table for one module, as TOML text (JSON lists are TOML arrays)."""
    settings = {
        "source_paths": ["bnviz"],
        "only_mutate": [module_path(module)],
        "pytest_add_cli_args_test_selection": selection(module),
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q"],
        "also_copy": _ALSO_COPY,
        "use_git_change_detection": False,
    }
    lines = ["[tool.mutmut]"] + [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def project_settings_without_mutmut() -> str:
    """The project's pyproject.toml with its own [tool.mutmut] table left out (pytest's settings stay)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", "", text)


def prepare(module: str, keep: bool) -> Path:
    work = workdir(module)
    if work.exists() and not keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for entry in ROOT.iterdir():
        if entry.name in _NOT_LINKED:
            continue
        link = work / entry.name
        if not link.is_symlink():
            link.symlink_to(entry)
    (work / "pyproject.toml").write_text(project_settings_without_mutmut().rstrip() + "\n\n"
                                         + mutmut_settings(module), encoding="utf-8")
    return work


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", nargs="?", help="a module under bnviz/, dotted: config, figures.curves")
    parser.add_argument("--list", action="store_true", help="print the modules and their tests")
    parser.add_argument("--max-children", type=int, default=1, help="mutants tested at once (default 1)")
    parser.add_argument("--bar", type=float, default=90.0, help="the lowest passing score, in %% (default 90)")
    parser.add_argument("--keep", action="store_true", help="keep the last run's verdicts (only untested "
                        "mutants run; a changed test does not retest a mutant)")
    args = parser.parse_args(argv)
    if args.list or not args.module:
        for module, tests in MODULES.items():
            print(f"{module:<18} {module_path(module):<28} {' '.join(tests)}")
        return 0 if args.list else 2
    if args.module not in MODULES:
        print(f"No test selection for {args.module!r}; add it to MODULES in {Path(__file__).name}. "
              f"Known: {', '.join(MODULES)}.", file=sys.stderr)
        return 2
    if not (ROOT / module_path(args.module)).is_file():
        print(f"There is no {module_path(args.module)}.", file=sys.stderr)
        return 2
    work = prepare(args.module, args.keep)
    log = work / "run.log"
    start = time.monotonic()
    with open(log, "w") as out:
        run = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children)],
                             cwd=work, stdout=out, stderr=subprocess.STDOUT)
    took = time.monotonic() - start
    print(f"{args.module}: mutmut ran for {took:.0f} s (exit {run.returncode}; log {log.relative_to(ROOT)})")
    if run.returncode != 0:
        print("".join(log.read_text(errors="replace").splitlines(keepends=True)[-15:]), file=sys.stderr)
        return 1
    score = subprocess.run([sys.executable, str(ROOT / "scripts" / "mutation_score.py"), str(args.bar)], cwd=work)
    print(f"\nlook at a survivor: cd {work.relative_to(ROOT)} && {Path(sys.executable).name} -m mutmut show NAME")
    return score.returncode


if __name__ == "__main__":
    sys.exit(main())
