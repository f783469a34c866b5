"""Every lesson's verdicts over the page's seeds, measured once and shipped with the package.

A verdict is a fixed function of the code and its seeds, and measuring all of them takes
tens of seconds of CPU (the Figure 1 lesson alone trains 20 networks of 28,000 parameters).
So ``scripts/make_verdicts.py`` measures them and writes bnviz/datasets/verdicts.json.gz,
stamped with a fingerprint of the code that computes them: every module of the package
outside the page and the figures, the shipped data, the training loop and NumPy's version. A
server whose code has the same fingerprint shows those verdicts from its first page view; one
whose code differs ignores the file and measures as before. The tests hold the file to the code: its fingerprint is the
code's, and its verdicts equal fresh ones.

The file is JSON: {"fingerprint": hex, "seeds": [...], "verdicts": [[lesson id, experiment,
Verdict as a dict]]} (a lesson whose two experiments are one has the same verdict twice), a
NumPy array written as {"array": nested lists, "dtype": name, "shape": [...]}, a tuple as {"tuple": [...]},
NaN and infinities as JSON's NaN and Infinity (Python's json reads them back).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import fields
from importlib.resources import files

import numpy as np

from .lessons import Verdict
from .verdicts import Part

NAME = "verdicts.json.gz"
ENV = "BNVIZ_SHIPPED_VERDICTS"      # "off": ignore the shipped file and measure every verdict afresh
# what a verdict depends on besides its seeds: the package less the page, the figures and this file
OUTSIDE = ("ui/", "figures/", "shipped_verdicts.py")


def fingerprint() -> str:
    """sha256 over the package's modules (less OUTSIDE) and its shipped data (less this file), by path,
    and over what else can move a last digit: the training loop that runs (compiled or NumPy, as
    BNVIZ_ENGINE and numba leave it) and NumPy's version."""
    from .compiled import ENGINE_ENV, engine

    root = files("bnviz")
    digest = hashlib.sha256()
    asked = os.environ.get(ENGINE_ENV, "").strip().lower() or "auto"
    digest.update(f"loop={engine()};asked={asked};numpy={np.__version__}\0".encode())
    for path, data in sorted(_sources(root, "")):
        digest.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _sources(folder, prefix: str):
    for entry in folder.iterdir():
        path = prefix + entry.name
        if entry.is_dir():
            if entry.name != "__pycache__" and not any(path + "/" == o for o in OUTSIDE):
                yield from _sources(entry, path + "/")
        elif path not in OUTSIDE and entry.name != NAME and (entry.name.endswith(".py") or prefix == "datasets/"):
            yield path, entry.read_bytes()


def encode(value):
    """A verdict's value as JSON-ready data (arrays, tuples, Parts and dicts kept apart from lists)."""
    if isinstance(value, Part):
        return {"part": {f.name: encode(getattr(value, f.name)) for f in fields(Part)}}
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot ship a {type(value).__name__} in a verdict")


def decode(data):
    """The inverse of ``encode``."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "part" in data:
        return Part(**{k: decode(v) for k, v in data["part"].items()})
    if "array" in data:
        return np.array(data["array"], dtype=np.dtype(data["dtype"])).reshape(data["shape"])
    if "tuple" in data:
        return tuple(decode(v) for v in data["tuple"])
    return {decode(k): decode(v) for k, v in data["dict"]}


def to_json(verdicts: dict, seeds) -> bytes:
    """The shipped file's bytes for {(lesson id, experiment): Verdict} measured over `seeds` (gzip of the JSON)."""
    body = {"fingerprint": fingerprint(), "seeds": [int(s) for s in seeds],
            "verdicts": [[lesson, experiment, {f.name: encode(getattr(v, f.name)) for f in fields(Verdict)}]
                         for (lesson, experiment), v in verdicts.items()]}
    return gzip.compress(json.dumps(body, separators=(",", ":")).encode(), mtime=0)


def from_json(raw: bytes) -> tuple:
    """(fingerprint, seeds, {(lesson id, experiment): Verdict}) from a shipped file's bytes."""
    body = json.loads(gzip.decompress(raw))
    verdicts = {}
    for lesson, experiment, item in body["verdicts"]:
        verdicts[(lesson, experiment)] = Verdict(**{k: decode(value) for k, value in item.items()})
    return body["fingerprint"], tuple(body["seeds"]), verdicts


def shipped(seeds) -> dict:
    """{(lesson id, experiment): Verdict} from the shipped file when it was measured over `seeds` by
    this very code; {} otherwise (no file, another code, other seeds, a file that cannot be read, or
    BNVIZ_SHIPPED_VERDICTS=off)."""
    if os.environ.get(ENV, "").strip().lower() == "off":
        return {}
    entry = files("bnviz").joinpath("datasets", NAME)
    try:
        stamp, measured_seeds, verdicts = from_json(entry.read_bytes())
    except (OSError, ValueError, KeyError, TypeError, EOFError):
        return {}
    if stamp != fingerprint() or measured_seeds != tuple(int(s) for s in seeds):
        return {}
    return verdicts
