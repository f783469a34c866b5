"""Compare mode: run B is run A with one setting changed.

B sees the same data split and batch order (same seed), and starts from A's
initial weights wherever the shapes agree, unless the change is about how the
weights start.
"""
from __future__ import annotations

from .config import FIELD_BY_NAME, FIELDS, MAX_LAYERS, Config, format_value
from .visitor_text import plain

# the fields whose table row says how run B's value follows from run A's
COMPARE_FIELDS = tuple(f.name for f in FIELDS if f.compare)
# changing these changes the initial weights themselves
_STARTS_DIFFERENTLY = ("init", "init_scale", "bias_init", "seed")


def default_value(cfg: Config, field: str) -> str:
    """Run B's starting value for `field`, as link text, by the field's compare rule
    (bnviz.config.COMPARE_RULES): the opposite, the next choice, a tenfold change, ..."""
    f = FIELD_BY_NAME[field]
    value = getattr(cfg, field)
    rule = f.compare
    if rule == "opposite":
        new = not value
    elif rule == "next":
        new = f.choices[(f.choices.index(value) + 1) % len(f.choices)]
    elif rule == "one more layer":
        new = value + (value[-1],) if len(value) < MAX_LAYERS else value[:-1]
    elif rule == "x10":
        new = value * 10 if value * 10 <= f.high else value / 10
    elif rule == "small or large":          # the two ends of the range the notes discuss
        new = 64 if value < 64 else 4
    elif rule == "+1":
        new = value + 1 if value < f.high else value - 1
    elif rule.startswith("0 or "):          # switch a size on (to the given value) or off
        new = 0.0 if value else float(rule[5:])
    elif rule == "shorter memory":          # m -> 1 - 10 (1 - m): a tenth of the averaging horizon
        new = max(round(1 - 10 * (1 - value), 10), f.low)     # 0.9 -> 0, not 2.2e-16
    else:
        raise ValueError(f"{field} has no compare rule")
    if f.kind == "int":
        new = min(max(int(round(new)), int(f.low)), int(f.high))
    elif f.kind == "float":                 # short, as a person types it: 0.9 (not 0.8999999999999999), 10
        text = repr(float(f"{new:.12g}"))
        return text[:-2] if text.endswith(".0") else text
    return format_value(f, new)


def variant(cfg: Config, field: str, text: str) -> tuple:
    """(B's Config, warnings): cfg with `field` set from `text`, written as in a link ("0", "0.5", "3,2")."""
    if field not in COMPARE_FIELDS:
        return cfg.replace(bn=not cfg.bn), [f"Cannot compare on '{plain(field)}'; comparing BN on and off instead."]
    query = dict(cfg.to_query())
    if field in ("bn", "norm"):             # one normalization: B's setting replaces A's, however written
        query.pop("norm" if field == "bn" else "bn", None)
    query[field] = str(text)
    return Config.from_query(query)


def shared_start(a_initial: dict, b_initial: dict, a: Config, b: Config) -> dict:
    """B's initial parameters: A's wherever names and shapes agree (unless the change
    is to how weights start), B's own elsewhere."""
    if any(f in _STARTS_DIFFERENTLY for f in a.differences(b)):
        return b_initial
    return {name: (a_initial[name] if name in a_initial and a_initial[name].shape == value.shape else value)
            for name, value in b_initial.items()}
