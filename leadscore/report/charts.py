"""Inline SVG charts for the HTML report (leadscore.report), without dependencies.

Two kinds: :func:`line_chart` (curves, time series; optional dashed reference lines and
vertical markers) and :func:`bar_chart` (horizontal bars, optional whiskers and a reference
value). Each returns one ``<svg>`` element with an ``id``, a ``<title>`` (and a visible
title), axis labels, ticks and a legend; text from data is escaped. Colours are the
Okabe-Ito palette, readable with the common colour-vision deficiencies, and lines also
differ by dash pattern, so a chart still reads in greyscale. Sizes are in a fixed
``viewBox`` that the page scales.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("", "8 4", "2 3", "10 3 2 3", "5 5", "1 4", "14 4")
REFERENCE_COLOUR = "#767676"
GRID_COLOUR = "#e3e3e3"
WIDTH = 640
PLOT_HEIGHT = 280
CHAR_WIDTH = 6.6  # average width of a 12 px sans-serif character, for layout estimates
MAX_LABEL_CHARS = 32  # bar labels
MAX_LEGEND_CHARS = 60

Format = Callable[[float], str]
Scale = Callable[[float], float]  # a data value to its SVG coordinate


def default_format(value: float) -> str:
    """Up to 3 significant decimals without trailing zeros: 0.25, 1.5, 1,200."""
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    text = f"{value:.3g}" if abs(value) < 1 else f"{value:.4g}"
    return text if "e" not in text else f"{value:.1e}"


def percent_format(value: float) -> str:
    """A share as a percentage: 0.25 -> 25%, 0.035 -> 3.5%."""
    text = f"{value * 100:.1f}".removesuffix(".0")
    return f"{text}%"


@dataclass(frozen=True)
class Series:
    """One line, its points drawn in order; a NaN or None y breaks the line. ``emphasis``
    draws it thicker (e.g. the chosen model), ``markers`` adds a dot with a tooltip per
    point (for short series such as deciles or runs); ``colour`` fixes the colour where it
    means something (tiers)."""

    name: str
    x: Sequence[float]
    y: Sequence[float | None]
    emphasis: bool = False
    markers: bool = False
    colour: str | None = None  # default: the palette colour of the series' position


@dataclass(frozen=True)
class Reference:
    """A dashed grey line for comparison (random ranking, perfect calibration)."""

    name: str
    x: Sequence[float]
    y: Sequence[float]


@dataclass(frozen=True)
class Axis:
    """An axis: its label, optional fixed range, tick format, or explicit (value, text)
    ticks (e.g. dates)."""

    label: str
    lo: float | None = None
    hi: float | None = None
    fmt: Format = default_format
    ticks: Sequence[tuple[float, str]] | None = None


@dataclass(frozen=True)
class Bar:
    """One horizontal bar; ``low``/``high`` draw a whisker (an interval), ``text`` replaces
    the formatted value printed after the bar."""

    label: str
    value: float
    colour: str | None = None
    low: float | None = None
    high: float | None = None
    text: str | None = None


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About n round tick values covering [lo, hi] (steps of 1, 2, 2.5 or 5 x 10^k)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"axis range must be finite, got {lo}..{hi}")
    if hi <= lo:
        lo, hi = (lo - 1, hi + 1) if lo == 0 else (lo - abs(lo) * 0.1, hi + abs(hi) * 0.1)
    raw = (hi - lo) / max(n, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(s * power for s in (1, 2, 2.5, 5, 10) if s * power >= raw)
    first = math.floor(lo / step + 1e-9) * step
    ticks, k = [], 0
    while True:
        value = round(first + k * step, 12)
        ticks.append(value)
        if value >= hi - 1e-9 * step:
            return ticks
        k += 1


def _is_finite(value: float | None) -> bool:
    """A value to draw: not None, NaN or infinite."""
    return value is not None and math.isfinite(float(value))


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if _is_finite(v)]


def _range(axis: Axis, values: list[float]) -> tuple[float, float, list[tuple[float, str]]]:
    """(lo, hi, ticks): the fixed range when given, else the data's rounded out to ticks."""
    if axis.ticks is not None:
        positions = [v for v, _ in axis.ticks] + values
        lo = axis.lo if axis.lo is not None else min(positions, default=0.0)
        hi = axis.hi if axis.hi is not None else max(positions, default=1.0)
        if hi <= lo:
            lo, hi = lo - 1, hi + 1
        return lo, hi, list(axis.ticks)
    lo = axis.lo if axis.lo is not None else min(values, default=0.0)
    hi = axis.hi if axis.hi is not None else max(values, default=1.0)
    ticks = nice_ticks(lo, hi)
    if axis.lo is None:
        lo = ticks[0]
    if axis.hi is None:
        hi = ticks[-1]
    if hi <= lo:
        lo, hi = lo - 1, hi + 1
    inside = [t for t in ticks if lo - 1e-9 <= t <= hi + 1e-9]
    return lo, hi, [(t, axis.fmt(t)) for t in inside]


def _text(x: float, y: float, text: str, anchor: str = "middle", cls: str = "", **attrs) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}{extra}>{escape(text)}</text>'
    )


def _short(label: str, limit: int = MAX_LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _open(chart_id: str, title: str, width: float, height: float, desc: str) -> list[str]:
    cid = escape(chart_id, quote=True)
    return [
        f'<svg id="{cid}" class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" aria-labelledby="{cid}-title {cid}-desc">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
        _text(12, 22, title, "start", "chart-title"),
    ]


@dataclass(frozen=True)
class _LegendItem:
    name: str
    colour: str
    dash: str
    width: float


def _legend(items: list[_LegendItem], left: float, top: float, width: float) -> tuple[str, float]:
    """The legend laid out in rows under the plot → (svg, height)."""
    parts, x, y = [], left, top + 12
    for item in items:
        name = _short(item.name, MAX_LEGEND_CHARS)
        item_width = 34 + CHAR_WIDTH * len(name) + 16
        if x > left and x + item_width > left + width:
            x, y = left, y + 18
        dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
        parts.append(
            f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 26:.1f}" y2="{y - 4:.1f}" '
            f'stroke="{item.colour}" stroke-width="{item.width}"{dash}/>'
        )
        parts.append(_text(x + 32, y, name, "start"))
        x += item_width
    return "".join(parts), (y - top + 8 if items else 0)


def line_chart(
    chart_id: str,
    title: str,
    series: Sequence[Series],
    x_axis: Axis,
    y_axis: Axis,
    references: Sequence[Reference] = (),
    vlines: Sequence[tuple[float, str]] = (),
) -> str:
    """A line chart of ``series`` (colour and dash by position), grey dashed ``references``
    and labelled vertical ``vlines`` at x values."""
    left, right, top = 64, 40, 36  # right: room for half of the last tick label
    plot_w = WIDTH - left - right
    xs = _finite([v for s in (*series, *references) for v in s.x])
    ys = _finite([v for s in (*series, *references) for v in s.y])
    x_lo, x_hi, x_ticks = _range(x_axis, xs + [v for v, _ in vlines])
    y_lo, y_hi, y_ticks = _range(y_axis, ys)

    def sx(v: float) -> float:
        return left + (v - x_lo) / (x_hi - x_lo) * plot_w

    def sy(v: float) -> float:
        return top + PLOT_HEIGHT - (v - y_lo) / (y_hi - y_lo) * PLOT_HEIGHT

    bottom = top + PLOT_HEIGHT
    colours = [s.colour or PALETTE[i % len(PALETTE)] for i, s in enumerate(series)]
    items = [
        _LegendItem(s.name, colours[i], DASHES[i % len(DASHES)], _width(s))
        for i, s in enumerate(series)
    ] + [_LegendItem(r.name, REFERENCE_COLOUR, "4 4", 1.5) for r in references]
    legend, legend_h = _legend(items, left, bottom + 46, plot_w)
    height = bottom + 52 + legend_h
    desc = f"{y_axis.label} against {x_axis.label}: " + ", ".join(s.name for s in series)
    out = _open(chart_id, title, WIDTH, height, desc)
    out += _grid_and_axes(
        x_ticks, y_ticks, sx, sy, left, top, plot_w, x_axis.label, y_axis.label, horizontal=False
    )
    for ref in references:
        out.append(_path(ref.x, ref.y, sx, sy, REFERENCE_COLOUR, "4 4", 1.5, ref.name))
    for x, label in vlines:
        out.append(
            f'<line x1="{sx(x):.1f}" y1="{top}" x2="{sx(x):.1f}" y2="{bottom}" '
            f'stroke="{REFERENCE_COLOUR}" stroke-width="1.5" stroke-dasharray="2 3"/>'
        )
        anchor = "end" if sx(x) > left + plot_w * 0.7 else "start"
        offset = -4 if anchor == "end" else 4
        out.append(_text(sx(x) + offset, top + 12, label, anchor, "note"))
    for i, s in enumerate(series):
        colour, dash = colours[i], DASHES[i % len(DASHES)]
        out.append(_path(s.x, s.y, sx, sy, colour, dash, _width(s), s.name))
        if s.markers:
            out += _markers(s, sx, sy, colour, x_axis.fmt, y_axis.fmt)
    out.append(legend)
    out.append("</svg>")
    return "\n".join(out)


def _width(s: Series) -> float:
    return 3.5 if s.emphasis else 2.0


def _path(
    xs: Sequence[float],
    ys: Sequence[float | None],
    sx: Scale,
    sy: Scale,
    colour: str,
    dash: str,
    width: float,
    name: str,
) -> str:
    """One polyline; a missing y starts a new piece."""
    d, pen_down = [], False
    for x, y in zip(xs, ys, strict=True):
        if not _is_finite(y):
            pen_down = False
            continue
        d.append(f"{'L' if pen_down else 'M'}{sx(float(x)):.1f},{sy(float(y)):.1f}")
        pen_down = True
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<path d="{" ".join(d)}" fill="none" stroke="{colour}" stroke-width="{width}"'
        f'{dash_attr} stroke-linejoin="round"><title>{escape(name)}</title></path>'
    )


def _markers(
    s: Series,
    sx: Scale,
    sy: Scale,
    colour: str,
    x_fmt: Format,
    y_fmt: Format,
) -> list[str]:
    out = []
    for x, y in zip(s.x, s.y, strict=True):
        if not _is_finite(y):
            continue
        tip = f"{s.name}: {x_fmt(float(x))}, {y_fmt(float(y))}"
        out.append(
            f'<circle cx="{sx(float(x)):.1f}" cy="{sy(float(y)):.1f}" r="3.5" fill="{colour}">'
            f"<title>{escape(tip)}</title></circle>"
        )
    return out


def _grid_and_axes(
    x_ticks: list[tuple[float, str]],
    y_ticks: list[tuple[float, str]],
    sx: Scale,
    sy: Scale,
    left: float,
    top: float,
    plot_w: float,
    x_label: str,
    y_label: str,
    horizontal: bool,
    plot_h: float = PLOT_HEIGHT,
) -> list[str]:
    """Grid lines, tick labels, the axis lines and their labels. ``horizontal``: a bar chart,
    whose value axis is x and whose y has no ticks."""
    bottom = top + plot_h
    out, next_label = [], math.inf
    for value, text in reversed(x_ticks):  # the last tick (e.g. the latest run) wins
        x = sx(value)
        out.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="{GRID_COLOUR}"/>'
        )
        if next_label - x >= CHAR_WIDTH * len(text) + 8:  # closer labels would overlap
            out.append(_text(x, bottom + 16, text, cls="tick"))
            next_label = x
    if not horizontal:
        for value, text in y_ticks:
            y = sy(value)
            out.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w:.1f}" y2="{y:.1f}" '
                f'stroke="{GRID_COLOUR}"/>'
            )
            out.append(_text(left - 6, y + 4, text, "end", "tick"))
        mid = top + plot_h / 2
        out.append(_text(16, mid, y_label, cls="axis-label", transform=f"rotate(-90 16 {mid:.1f})"))
    out.append(
        f'<line x1="{left}" y1="{bottom}" x2="{left + plot_w:.1f}" y2="{bottom}" stroke="#333"/>'
    )
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#333"/>')
    out.append(_text(left + plot_w / 2, bottom + 36, x_label, cls="axis-label"))
    return out


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    value_axis: Axis,
    reference: tuple[float, str] | None = None,
) -> str:
    """Horizontal bars, one per row in the given order, labelled on the left with the value
    printed after each bar; ``reference`` draws a labelled vertical line at a value."""
    if not bars:
        raise ValueError(f"bar chart {chart_id!r} needs at least one bar")
    label_w = min(MAX_LABEL_CHARS, max(len(b.label) for b in bars)) * CHAR_WIDTH + 16
    left, right, top, row = label_w, 64, 40, 26
    plot_w = WIDTH - left - right
    plot_h = row * len(bars)
    values = _finite([v for b in bars for v in (b.value, b.low, b.high)])
    values += [0.0] + ([reference[0]] if reference else [])
    x_lo, x_hi, x_ticks = _range(value_axis, values)

    def sx(v: float) -> float:
        return left + (v - x_lo) / (x_hi - x_lo) * plot_w

    height = top + plot_h + 52
    desc = f"{value_axis.label} by " + ", ".join(b.label for b in bars[:12])
    out = _open(chart_id, title, WIDTH, height, desc)
    out += _grid_and_axes(
        x_ticks, [], sx, lambda v: v, left, top, plot_w, value_axis.label, "", True, plot_h
    )
    zero = sx(max(x_lo, min(0.0, x_hi)))
    for i, bar in enumerate(bars):
        y = top + i * row + 4
        end = sx(bar.value)
        colour = bar.colour or PALETTE[0]
        text = bar.text if bar.text is not None else value_axis.fmt(bar.value)
        out.append(_text(left - 8, y + 13, _short(bar.label), "end"))
        out.append(
            f'<rect x="{min(zero, end):.1f}" y="{y:.1f}" width="{abs(end - zero):.1f}" '
            f'height="{row - 8}" fill="{colour}"><title>{escape(f"{bar.label}: {text}")}'
            "</title></rect>"
        )
        tip = max(end, sx(bar.high)) if bar.high is not None else end
        if bar.low is not None and bar.high is not None:
            mid = y + (row - 8) / 2
            out.append(
                f'<path d="M{sx(bar.low):.1f},{mid - 5:.1f} V{mid + 5:.1f} '
                f"M{sx(bar.low):.1f},{mid:.1f} H{sx(bar.high):.1f} "
                f'M{sx(bar.high):.1f},{mid - 5:.1f} V{mid + 5:.1f}" stroke="#222" '
                'stroke-width="1.5" fill="none"/>'
            )
        out.append(_text(tip + 5, y + 13, text, "start", "value"))
    if reference is not None:
        x = sx(reference[0])
        out.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{top + plot_h}" '
            f'stroke="{REFERENCE_COLOUR}" stroke-width="1.5" stroke-dasharray="4 4"/>'
        )
        out.append(_text(x + 4, top - 8, reference[1], "start", "note"))
    out.append("</svg>")
    return "\n".join(out)
