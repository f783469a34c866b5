"""requirements.lock, what the image and `make test` install with hashes required: every runtime requirement
(requirements.txt, and requirements-lock.in that it is compiled from) is pinned to a version inside its range,
and every pin carries the hashes of its files."""
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
# The interpreters the lock serves: the image's (python:3.11-slim) and later ones.
ENVIRONMENTS = [{"python_version": v, "python_full_version": f"{v}.0", "sys_platform": p, "platform_system": s,
                 "platform_machine": m}
                for v in ("3.11", "3.12", "3.13")
                for p, s, m in (("linux", "Linux", "x86_64"), ("linux", "Linux", "aarch64"),
                                ("darwin", "Darwin", "arm64"), ("win32", "Windows", "AMD64"))]


def _lines(path: Path) -> list:
    """Logical lines: continuations joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    return [line.split(" #")[0].strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _pins() -> list:
    """(requirement, hashes) for every line of the lock."""
    pins = []
    for line in _lines(LOCK):
        hashes = re.findall(r"--hash=(\S+)", line)
        pins.append((Requirement(re.sub(r"--hash=\S+", "", line).strip()), hashes))
    return pins


def _requirements(path: Path) -> list:
    """Every requirement of a requirements file, following its -r includes."""
    found = []
    for line in _lines(path):
        if line.startswith(("-r ", "--requirement ")):
            found += _requirements(path.parent / line.split(maxsplit=1)[1])
        else:
            assert not line.startswith("-"), f"{path.name}: an option the lock test does not know: {line}"
            found.append(Requirement(line))
    return found


def _pinned_version(req: Requirement) -> Version:
    (spec,) = req.specifier
    assert spec.operator == "==" and "*" not in spec.version, f"not an exact pin: {req}"
    return Version(spec.version)


def test_every_pin_is_exact_and_hashed():
    pins = _pins()
    assert len(pins) > 20, "the lock looks empty"
    for req, hashes in pins:
        _pinned_version(req)
        assert hashes, f"{req.name} has no hash: pip's --require-hashes refuses the lock"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), f"{req.name}: {hashes}"


@pytest.mark.parametrize("source", ["requirements.txt", "requirements-lock.in"])
def test_lock_covers_every_runtime_requirement_within_its_range(source):
    pins = _pins()
    for req in _requirements(ROOT / source):
        for env in ENVIRONMENTS:
            if req.marker is not None and not req.marker.evaluate(env):
                continue
            chosen = [pin for pin, _ in pins if canonicalize_name(pin.name) == canonicalize_name(req.name)
                      and (pin.marker is None or pin.marker.evaluate(env))]
            assert len(chosen) == 1, (f"{source}: {req} has {len(chosen)} pins in requirements.lock for Python "
                                      f"{env['python_version']} on {env['sys_platform']} ({env['platform_machine']}); "
                                      "run `make lock`")
            version = _pinned_version(chosen[0])
            assert req.specifier.contains(version, prereleases=True), (
                f"requirements.lock pins {req.name}=={version}, outside {source}'s {req.specifier}: run `make lock`")


def test_lock_is_one_set_per_environment():
    """No package is pinned twice for one interpreter and platform (pip would refuse the lock)."""
    pins = _pins()
    for env in ENVIRONMENTS:
        names = [canonicalize_name(req.name) for req, _ in pins if req.marker is None or req.marker.evaluate(env)]
        assert len(names) == len(set(names)), env


def test_image_and_tests_install_the_lock_with_hashes():
    """The Dockerfile installs the lock with hashes required, and so does the tests' environment."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^RUN pip install [^\n]*--require-hashes -r requirements\.lock$", dockerfile, re.M)
    assert "requirements.txt" not in dockerfile, "the image installs the lock, not requirements.txt's ranges"
    makefile = (ROOT / "Makefile").read_text()
    for target in (r"\$\(VENV\)/\.runtime", r"\$\(VENV\)/\.dev"):
        rule = re.search(rf"^{target}:.*?(?=^\S)", makefile, re.M | re.S)
        assert rule and "--require-hashes -r requirements.lock" in rule.group(0), target
