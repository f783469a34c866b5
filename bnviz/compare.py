"""Compare mode: run B is run A with one setting changed.

B sees the same data split and batch order (same seed), and starts from A's
initial weights wherever the shapes agree, unless the change is about how the
weights start.
"""
from __future__ import annotations

from .config import FIELD_BY_NAME, Config

COMPARE_FIELDS = ("bn", "bn_position", "keep_bias", "bias_init", "bn_noise", "lr", "optimizer", "batch_size", "activation", "init",
                  "init_scale", "standardize", "running_var", "running_avg", "bn_momentum", "eps", "hidden", "seed")
# changing these changes the initial weights themselves
_STARTS_DIFFERENTLY = ("init", "init_scale", "bias_init", "seed")


def default_value(cfg: Config, field: str) -> str:
    """Run B's starting value for `field`, as link text: the opposite, or a tenfold change."""
    value = getattr(cfg, field)
    f = FIELD_BY_NAME[field]
    if f.kind == "bool":
        return "0" if value else "1"
    if f.kind == "choice":
        return next(c for c in f.choices if c != value)
    if field == "hidden":
        return ",".join(str(w) for w in value) + "," + str(value[-1])
    if field == "seed":
        return str(value + 1)
    if field in ("lr", "init_scale"):
        return f"{min(value * 10, f.high):g}"
    if field == "bn_noise":
        return "0" if value else "0.5"
    if field == "bias_init":
        return "0" if value else "1"
    if field == "batch_size":    # the other end of the range the notes discuss: small against large
        return "64" if value < 64 else "4"
    return f"{value:g}"


def variant(cfg: Config, field: str, text: str) -> tuple:
    """(B's Config, warnings): cfg with `field` set from `text`, written as in a link ("0", "0.5", "3,2")."""
    if field not in COMPARE_FIELDS:
        return cfg.replace(bn=not cfg.bn), [f"Cannot compare on '{field}'; comparing BN on and off instead."]
    query = dict(cfg.to_query())
    query[field] = str(text)
    return Config.from_query(query)


def shared_start(a_initial: dict, b_initial: dict, a: Config, b: Config) -> dict:
    """B's initial parameters: A's wherever names and shapes agree (unless the change
    is to how weights start), B's own elsewhere."""
    if any(f in _STARTS_DIFFERENTLY for f in a.differences(b)):
        return b_initial
    return {name: (a_initial[name] if name in a_initial and a_initial[name].shape == value.shape else value)
            for name, value in b_initial.items()}
