"""A lesson's measurement over seeds, as a small SVG strip chart: one dot per seed, the median marked.

The builder draws the numbers it is given (a lesson's per-seed values, as
``bnviz.lessons.measure`` computed them); it runs nothing itself. The cards
hold a dozen of these charts, so they are plain SVG, which the browser draws
at once, rather than a dozen Plotly instances. Every dot carries its group,
seed and value as data attributes and a tooltip.
"""
from __future__ import annotations

import math
from html import escape

import numpy as np

from .colours import COLOURS
from .common import BLACK, BN_OFF, BN_ON, GREEN, ORANGE, PURPLE, SKY, text_colour, wrap
from .speech import by_batch_size_sentence, spread_sentence

# a group named with a run colour's words gets that colour; the lessons also say "batch norm" and
# "no normalization" for BN on and off
GROUP_COLOURS = {**{COLOURS[m].words: COLOURS[m].hex for m in ("bn on", "bn off", "layer norm")},
                 "batch norm": COLOURS["bn on"].hex, "no normalization": COLOURS["bn off"].hex}
OTHER_COLOURS = (GREEN, PURPLE, SKY, ORANGE)    # far from BN off's vermillion first
WIDTH, LEFT, RIGHT, ROW, TOP = 460, 118, 14, 38, 10
GRID, TEXT, FONT = "#E5ECF6", "#444444", "Inter, Helvetica, Arial, sans-serif"


def group_colour(name: str, index: int) -> str:
    """BN on blue and BN off vermillion everywhere; any other group (noisy BN, ...) its own colour."""
    return GROUP_COLOURS.get(name, OTHER_COLOURS[index % len(OTHER_COLOURS)])


def jitter(n: int, width: float = 0.28) -> np.ndarray:
    """(n,) fixed vertical offsets in [-width, width] (in rows), so equal values stay visible side by side."""
    if n < 2:
        return np.zeros(n)
    return np.linspace(-width, width, n)[np.argsort(np.arange(n) * 7 % n)]


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / target
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def axis(values: np.ndarray, log: bool = False, bounds: tuple | None = None) -> tuple:
    """(lo, hi, ticks) of an x axis that holds `values` (finite, and positive when log).

    Linear: round steps covering the values. Log: lo and hi in log10 units,
    ticks at powers of ten (with 2 and 5 in between when the values span
    less than two decades). A single value gets a narrow axis around it.
    bounds: (low, high) no value can leave (an accuracy's 0 and 1, linear axes
    only): the axis and its ticks stay inside them, so a run of equal
    accuracies of 1 never shows a tick above 1.
    """
    if log:
        v = np.log10(values)
        lo, hi = float(v.min()), float(v.max())
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        pad = 0.06 * (hi - lo)
        lo, hi = lo - pad, hi + pad
        ticks = []
        for p in range(math.floor(lo), math.ceil(hi) + 1):
            for m in ((1, 2, 5) if hi - lo < 2 else (1,)):
                t = p + math.log10(m)
                if lo <= t <= hi:
                    ticks.append(t)
        step = max(1, math.ceil(len(ticks) / 7))
        return lo, hi, ticks[::step]
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-12 * max(1.0, abs(hi)):
        half = max(abs(hi) * 0.05, 1e-3)
        lo, hi = lo - half, hi + half
        if bounds is not None:               # slide the window inside the bounds rather than past them
            lo, hi = lo - max(0.0, hi - bounds[1]), hi - max(0.0, hi - bounds[1])
            lo, hi = lo + max(0.0, bounds[0] - lo), hi + max(0.0, bounds[0] - lo)
    step = _nice_step(hi - lo)
    first, last = math.floor(lo / step), math.ceil(hi / step)
    if bounds is not None:
        first, last = max(first, math.ceil(bounds[0] / step)), min(last, math.floor(bounds[1] / step))
    lo, hi = first * step, last * step
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    ticks = [k * step for k in range(first, last + 1)]
    return lo, hi, ticks


def x_position(value: float, lo: float, hi: float, log: bool = False) -> float:
    """Where a value sits on the chart's x axis, in SVG units."""
    v = math.log10(value) if log else value
    return LEFT + (v - lo) / (hi - lo) * (WIDTH - LEFT - RIGHT)


def tick_label(t: float, log: bool) -> str:
    if log:
        p = math.floor(t + 1e-9)
        m = round(10 ** (t - p))
        if -3 <= p <= 3:
            return f"{m * 10.0 ** p:g}"
        return f"{m}×10{_superscript(p)}" if m != 1 else f"10{_superscript(p)}"
    return f"{t:.6g}"


def _superscript(p: int) -> str:
    return str(p).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def spread_svg(groups: dict, label: str, seeds=None, log: bool = False, bounds: tuple | None = None) -> str:
    """A strip chart of one measure over seeds, as an SVG string.

    groups: {name: (n,) values}, one row per group in the order given ("BN on"
    and "BN off" in their colours); NaN (and on a log axis, values <= 0) marks a
    seed with no value: it is counted on the row's label instead of drawn.
    label: the measure (the x axis title). seeds: (n,) the seed of each value
    (default 0..n-1). log: a log x axis. bounds: (low, high) the measure cannot
    leave, such as (0, 1) for an accuracy: the axis stays inside them. The root
    element carries the axis as data-lo and data-hi (log10 units when log).
    """
    if not groups:
        raise ValueError("nothing to draw: no groups of values")
    rows = []
    for i, (name, values) in enumerate(groups.items()):
        values = np.asarray(values, dtype=float).ravel()
        ids = np.arange(len(values)) if seeds is None else np.asarray(seeds).ravel()
        if len(ids) != len(values):
            raise ValueError(f"{len(values)} values for {name!r} but {len(ids)} seeds")
        shown = np.isfinite(values) & ((values > 0) if log else True)
        rows.append((name, values, ids, shown, group_colour(name, i)))
    drawable = np.concatenate([v[s] for _, v, _, s, _ in rows])
    if not len(drawable):
        drawable = np.array([1.0])
    lo, hi, ticks = axis(drawable, log, bounds)
    label_lines = wrap(label, 58).split("<br>")
    plot_bottom = TOP + ROW * len(rows)
    height = plot_bottom + 24 + 16 * len(label_lines)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
           f'aria-label="{escape(spread_sentence(groups, label, log))}" data-lo="{lo!r}" data-hi="{hi!r}" data-log="{int(log)}" '
           f'style="font-family:{FONT};font-size:12px;max-width:{WIDTH * 1.4:.0f}px">']
    for t in ticks:
        x = LEFT + (t - lo) / (hi - lo) * (WIDTH - LEFT - RIGHT)
        out.append(f'<line x1="{x:.2f}" x2="{x:.2f}" y1="{TOP}" y2="{plot_bottom}" stroke="{GRID}"/>')
        out.append(f'<text x="{x:.2f}" y="{plot_bottom + 15}" text-anchor="middle" fill="{TEXT}" data-tick="{t!r}">'
                   f'{escape(tick_label(t, log))}</text>')
    for k, line in enumerate(label_lines):
        out.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" y="{plot_bottom + 34 + 16 * k}" '
                   f'text-anchor="middle" fill="{TEXT}" font-size="13">{escape(line)}</text>')
    for r, (name, values, ids, shown, colour) in enumerate(rows):
        centre = TOP + ROW * (r + 0.5)
        missing = int((~shown).sum())
        text = f"{name} ({missing} of {len(values)} no value)" if missing else name
        lines = wrap(text, 17).split("<br>")
        for k, line in enumerate(lines):
            y = centre + 4 + 14 * (k - (len(lines) - 1) / 2)
            out.append(f'<text x="{LEFT - 8}" y="{y:.1f}" text-anchor="end" fill="{TEXT}">{escape(line)}</text>')
        offsets = jitter(len(values)) * ROW
        for value, seed, dy in zip(values[shown], ids[shown], offsets[shown]):
            x = x_position(float(value), lo, hi, log)
            out.append(f'<circle cx="{x:.2f}" cy="{centre + dy:.2f}" r="5" fill="{colour}" fill-opacity="0.8" '
                       f'stroke="white" stroke-width="1" data-group="{escape(name)}" data-seed="{int(seed)}" '
                       f'data-value="{float(value)!r}"><title>{escape(name)}, seed {int(seed)}: {value:.4g}'
                       f'</title></circle>')
        if shown.any():
            median = float(np.median(values[shown]))
            x = x_position(median, lo, hi, log)
            out.append(f'<line x1="{x:.2f}" x2="{x:.2f}" y1="{centre - 13:.1f}" y2="{centre + 13:.1f}" '
                       f'stroke="{BLACK}" stroke-width="3" data-group="{escape(name)}" data-median="{median!r}">'
                       f'<title>{escape(name)}: median {median:.4g}</title></line>')
    out.append("</svg>")
    return "".join(out)


PANEL_W, PANEL_H, PAD_L, PAD_B, PAD_T, PAD_R = 230, 170, 58, 34, 22, 12   # (b) and (c); (a) spans both


def _panel(x0: float, title: str, x_max: float, y_lo: float, y_hi: float, y_title: str, y0: float = 0.0,
           width: float = PANEL_W) -> tuple:
    """One small panel's frame and a function mapping (step, value) to SVG coordinates."""
    left, right, top, bottom = x0 + PAD_L, x0 + width - PAD_R, y0 + PAD_T, y0 + PAD_T + PANEL_H - PAD_B

    def at(x, y):
        return (left + (x / max(x_max, 1)) * (right - left),
                bottom - (y - y_lo) / max(y_hi - y_lo, 1e-12) * (bottom - top))

    out = [f'<text x="{left}" y="{top - 8}" fill="{TEXT}" font-size="12.5" font-weight="600">{escape(title)}</text>',
           f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="none" stroke="{GRID}"/>']
    for v in (y_lo, (y_lo + y_hi) / 2, y_hi):
        _, y = at(0, v)
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT}" font-size="11">'
                   f'{v:.2g}</text>')
    out.append(f'<line x1="{left}" x2="{right}" y1="{at(0, 0.0)[1]:.1f}" y2="{at(0, 0.0)[1]:.1f}" stroke="{GRID}"/>'
               if y_lo < 0 < y_hi else "")
    for s in (0, x_max / 2, x_max):
        x, _ = at(s, y_lo)
        out.append(f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle" fill="{TEXT}" font-size="11">'
                   f'{s:.0f}</text>')
    out.append(f'<text x="{(left + right) / 2:.1f}" y="{bottom + 28}" text-anchor="middle" fill="{TEXT}" '
               f'font-size="11.5">training step</text>')
    out.append(f'<text x="{x0 + 10}" y="{(top + bottom) / 2:.1f}" text-anchor="middle" fill="{TEXT}" font-size="11.5" '
               f'transform="rotate(-90 {x0 + 10} {(top + bottom) / 2:.1f})">{escape(y_title)}</text>')
    return out, at


def _path(at, xs, ys) -> str:
    points = [at(x, y) for x, y in zip(xs, ys) if np.isfinite(y)]
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) if points else ""


def figure1_svg(detail: dict) -> str:
    """Ioffe & Szegedy's Figure 1 as measured (``bnviz.lessons`` Figure 1 verdict's detail): (a) test
    accuracy against steps, the median over seeds as a line and the lowest to highest as a band, BN on
    (blue, solid) and off (vermillion, dashed); (b) without BN and (c) with BN, the watched unit's
    15th, 50th and 85th percentiles of its input to the sigmoid (medians over seeds; the 50th solid)."""
    steps = np.asarray(detail["figure1_steps"], dtype=float)
    x_max = float(steps[-1])
    layer = detail.get("figure1_layer", 3)
    out = []
    frame, at = _panel(0, "(a) test accuracy, median and range over seeds", x_max, 0.0, 1.0, "test accuracy",
                       width=2 * PANEL_W)
    out += frame
    for name, colour, dash in (("BN off", BN_OFF, "6,4"), ("BN on", BN_ON, "")):
        acc = np.asarray(detail[f"figure1_acc {name}"], dtype=float)
        with np.errstate(all="ignore"):
            low, mid, high = np.nanmin(acc, 0), np.nanmedian(acc, 0), np.nanmax(acc, 0)
        band = [at(x, y) for x, y in zip(steps, high)] + [at(x, y) for x, y in zip(steps[::-1], low[::-1])]
        out.append(f'<path d="M{"L".join(f"{x:.1f},{y:.1f}" for x, y in band)}Z" fill="{colour}" '
                   f'fill-opacity="0.15" stroke="none" data-band="{escape(name)}"/>')
        out.append(f'<path d="{_path(at, steps, mid)}" fill="none" stroke="{colour}" stroke-width="2.5" '
                   f'stroke-dasharray="{dash}" data-median="{escape(name)}"><title>{escape(name)}: median over seeds'
                   f'</title></path>')
    for k, (name, colour, dash) in enumerate((("BN on", BN_ON, ""), ("BN off", BN_OFF, "6,4"))):
        x, y = at(0.75 * x_max, 0.08 + 0.12 * (1 - k))
        out.append(f'<line x1="{x:.1f}" x2="{x + 18:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" '
                   f'stroke-width="2.5" stroke-dasharray="{dash}"/><text x="{x + 22:.1f}" y="{y + 4:.1f}" '
                   f'fill="{TEXT}" font-size="11">{name}</text>')
    pct = {name: np.nanmedian(np.asarray(detail[f"figure1_pct {name}"], dtype=float), axis=0)
           for name in ("BN off", "BN on")}                                          # (3, T) each
    values = np.concatenate([p[np.isfinite(p)] for p in pct.values()])
    lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
    pad = 0.05 * max(hi - lo, 1e-6)
    for k, (name, colour, letter) in enumerate((("BN off", BN_OFF, "b"), ("BN on", BN_ON, "c")), start=1):
        frame, at = _panel((k - 1) * PANEL_W, f"({letter}) {name} · layer {layer}, unit 1", x_max,
                           lo - pad, hi + pad, "sigmoid input", y0=PANEL_H + 14)
        out += frame
        for q, (label, width, dash) in enumerate((("15th", 1.5, "4,3"), ("50th", 2.5, ""), ("85th", 1.5, "4,3"))):
            out.append(f'<path d="{_path(at, steps, pct[name][q])}" fill="none" stroke="{colour}" '
                       f'stroke-width="{width}" stroke-dasharray="{dash}" data-percentile="{label}" '
                       f'data-run="{escape(name)}"><title>{escape(name)}: {label} percentile</title></path>')
    width, height = 2 * PANEL_W, 2 * PANEL_H + 18
    label = ("Ioffe & Szegedy's Figure 1 on the digits: (a) test accuracy, median and range over seeds; (b, c) the "
             "15th, 50th and 85th percentiles of one unit's input to its sigmoid")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="{escape(label)}" style="font-family:{FONT};max-width:{width * 1.4:.0f}px">'
            + "".join(out) + "</svg>")


LINE_TOP, LINE_BOTTOM, LINE_LEFT = 12, 40, 58


def by_batch_size_svg(sizes, series: dict, label: str, log: bool = False, bounds: tuple | None = None) -> str:
    """A small line chart of one measure against batch size, as an SVG string: per series the median
    over seeds at each batch size (a line through dots), with the lowest-to-highest band of the seeds.

    sizes: (S,) batch sizes, drawn on a log2 axis; series: {name: (seeds, S) values}, in the order
    given, in the group colours (batch norm blue, layer norm green, no normalization vermillion).
    label: the measure (the y axis title). log: a log y axis. bounds: (low, high) the values cannot
    leave. Every median dot carries its series, batch size and value as data attributes.
    """
    sizes = np.asarray(sizes, dtype=float).ravel()
    if not series or not len(sizes):
        raise ValueError("nothing to draw: no series or no batch sizes")
    stats = []
    for i, (name, values) in enumerate(series.items()):
        values = np.asarray(values, dtype=float).reshape(-1, len(sizes))
        with np.errstate(all="ignore"):
            ok = np.isfinite(values) & ((values > 0) if log else True)
            cols = [values[ok[:, j], j] for j in range(len(sizes))]
            median = np.array([np.median(c) if len(c) else np.nan for c in cols])
            low = np.array([c.min() if len(c) else np.nan for c in cols])
            high = np.array([c.max() if len(c) else np.nan for c in cols])
        stats.append((name, median, low, high, group_colour(name, i)))
    drawable = np.concatenate([np.r_[lo, hi] for _, _, lo, hi, _ in stats])
    drawable = drawable[np.isfinite(drawable)]
    lo, hi, ticks = axis(drawable if len(drawable) else np.array([1.0]), log, bounds)
    height = 210
    plot_bottom = height - LINE_BOTTOM
    xs = np.log2(sizes)
    x0, x1 = float(xs.min()), float(xs.max()) if xs.max() > xs.min() else float(xs.min()) + 1

    def px(x):
        return LINE_LEFT + (x - x0) / (x1 - x0) * (WIDTH - LINE_LEFT - RIGHT - 8)

    def py(v):
        v = math.log10(v) if log else v
        return plot_bottom - (v - lo) / (hi - lo) * (plot_bottom - LINE_TOP)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height + 18}" width="100%" role="img" '
           f'aria-label="{escape(by_batch_size_sentence(sizes, series, label, log))}" data-lo="{lo!r}" data-hi="{hi!r}" '
           f'data-log="{int(log)}" style="font-family:{FONT};font-size:12px;max-width:{WIDTH * 1.4:.0f}px">']
    for t in ticks:
        y = plot_bottom - (t - lo) / (hi - lo) * (plot_bottom - LINE_TOP)
        out.append(f'<line x1="{LINE_LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.2f}" y2="{y:.2f}" stroke="{GRID}"/>')
        out.append(f'<text x="{LINE_LEFT - 6}" y="{y + 4:.2f}" text-anchor="end" fill="{TEXT}" data-tick="{t!r}">'
                   f'{escape(tick_label(t, log))}</text>')
    for x, size in zip(xs, sizes):
        out.append(f'<text x="{px(x):.2f}" y="{plot_bottom + 15}" text-anchor="middle" fill="{TEXT}">'
                   f'{int(size)}</text>')
    out.append(f'<text x="{(LINE_LEFT + WIDTH - RIGHT) / 2:.1f}" y="{plot_bottom + 32}" text-anchor="middle" '
               f'fill="{TEXT}" font-size="13">batch size</text>')
    out.append(f'<text x="12" y="{(LINE_TOP + plot_bottom) / 2:.1f}" text-anchor="middle" fill="{TEXT}" '
               f'font-size="13" transform="rotate(-90 12 {(LINE_TOP + plot_bottom) / 2:.1f})">{escape(label)}</text>')
    for k, (name, median, low, high, colour) in enumerate(stats):
        band = [(px(x), py(h)) for x, h in zip(xs, high) if np.isfinite(h)]
        band += [(px(x), py(v)) for x, v in zip(xs[::-1], low[::-1]) if np.isfinite(v)]
        if len(band) > 2:
            points = " ".join(f"{a:.2f},{b:.2f}" for a, b in band)
            out.append(f'<polygon points="{points}" fill="{colour}" fill-opacity="0.12" stroke="none"/>')
        line = [(px(x), py(m)) for x, m in zip(xs, median) if np.isfinite(m)]
        if len(line) > 1:
            points = " ".join(f"{a:.2f},{b:.2f}" for a, b in line)
            out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for x, size, m in zip(xs, sizes, median):
            if np.isfinite(m):
                out.append(f'<circle cx="{px(x):.2f}" cy="{py(m):.2f}" r="4" fill="{colour}" data-group="{escape(name)}" '
                           f'data-batch="{int(size)}" data-median="{float(m)!r}"><title>{escape(name)}, batches of '
                           f'{int(size)}: median {m:.4g}</title></circle>')
        out.append(f'<text x="{LINE_LEFT + 6 + 150 * k}" y="{height + 12}" fill="{text_colour(colour)}" '
                   f'font-weight="600">'
                   f'{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)
