"""Small SVG builders: scales, ticks, axes, lines, bars, markers and legends.

Each function returns SVG markup as a string. Coordinates are written with at most one decimal
(:func:`num`), so the same figure always gives the same bytes. Text is escaped here, so a caller
may pass text that came from data.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from diarytrial.report.format import decimal
from diarytrial.report.palette import INK, MUTED

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
TICK = 4


def num(value: float) -> str:
    """A coordinate with at most one decimal and no trailing ``.0`` (``num(12.04) == "12"``)."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def esc(text: object) -> str:
    """Escape text for an SVG/HTML element or attribute."""
    return html.escape(str(text), quote=True)


@dataclass(frozen=True)
class Scale:
    """A linear map from a data interval (`low`, `high`) onto a pixel interval (`start`, `end`)."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.high - self.low
        if span == 0:
            return (self.start + self.end) / 2
        return self.start + (value - self.low) / span * (self.end - self.start)


def nice_step(low: float, high: float, count: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about `count` intervals."""
    span = high - low
    if not span > 0:
        return 1.0
    raw = span / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values from `low` to `high`, about `count` intervals apart."""
    step = nice_step(low, high, count)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def nice_domain(low: float, high: float, count: int = 5) -> tuple[float, float]:
    """(`low`, `high`) widened outwards to the nearest round ticks."""
    step = nice_step(low, high, count)
    return (
        round(math.floor(low / step + 1e-9) * step, 10),
        round(math.ceil(high / step - 1e-9) * step, 10),
    )


def document(
    width: float,
    height: float,
    body: Iterable[str],
    *,
    title: str,
    description: str = "",
    css_class: str = "figure",
) -> str:
    """A whole ``<svg>`` element: a viewBox, an accessible title and description, the body."""
    desc = f"<desc>{esc(description)}</desc>" if description else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{esc(css_class)}" role="img" '
        f'viewBox="0 0 {num(width)} {num(height)}" width="{num(width)}" height="{num(height)}" '
        f'font-family="{esc(FONT)}" font-size="11" fill="{INK}">'
        f"<title>{esc(title)}</title>{desc}" + "".join(body) + "</svg>"
    )


def _style(
    *,
    stroke: str | None = None,
    width: float | None = None,
    dash: str | None = None,
    fill: str | None = None,
) -> str:
    parts = []
    if fill is not None:
        parts.append(f'fill="{esc(fill)}"')
    if stroke is not None:
        parts.append(f'stroke="{esc(stroke)}"')
    if width is not None:
        parts.append(f'stroke-width="{num(width)}"')
    if dash:
        parts.append(f'stroke-dasharray="{esc(dash)}"')
    return (" " + " ".join(parts)) if parts else ""


def line(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    *,
    stroke: str = INK,
    width: float = 1,
    dash: str | None = None,
) -> str:
    """A straight line."""
    return (
        f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}"'
        f"{_style(stroke=stroke, width=width, dash=dash)}/>"
    )


def rect(
    x: float,
    y: float,
    width: float,
    height: float,
    *,
    fill: str,
    stroke: str | None = None,
    stroke_width: float | None = None,
    rx: float = 0,
    opacity: float | None = None,
) -> str:
    """A rectangle (negative sizes are turned around, so a bar may grow either way)."""
    if width < 0:
        x, width = x + width, -width
    if height < 0:
        y, height = y + height, -height
    corner = f' rx="{num(rx)}"' if rx else ""
    if opacity is not None:
        corner += f' fill-opacity="{opacity:.2f}"'
    return (
        f'<rect x="{num(x)}" y="{num(y)}" width="{num(width)}" height="{num(height)}"{corner}'
        f"{_style(fill=fill, stroke=stroke, width=stroke_width)}/>"
    )


def text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    size: float | None = None,
    weight: str | None = None,
    fill: str | None = None,
    rotate: float | None = None,
    baseline: str | None = None,
) -> str:
    """A text label; `content` is escaped."""
    attributes = [f'x="{num(x)}"', f'y="{num(y)}"']
    if anchor != "start":
        attributes.append(f'text-anchor="{anchor}"')
    if size is not None:
        attributes.append(f'font-size="{num(size)}"')
    if weight is not None:
        attributes.append(f'font-weight="{weight}"')
    if fill is not None:
        attributes.append(f'fill="{esc(fill)}"')
    if baseline is not None:
        attributes.append(f'dominant-baseline="{baseline}"')
    if rotate is not None:
        attributes.append(f'transform="rotate({num(rotate)} {num(x)} {num(y)})"')
    return f"<text {' '.join(attributes)}>{esc(content)}</text>"


def polyline(
    points: Sequence[tuple[float, float]],
    *,
    stroke: str = INK,
    width: float = 1.5,
    dash: str | None = None,
) -> str:
    """An open line through `points` (nothing for fewer than two points)."""
    if len(points) < 2:
        return ""
    coords = " ".join(f"{num(x)},{num(y)}" for x, y in points)
    return (
        f'<polyline points="{coords}" fill="none" stroke-linejoin="round"'
        f"{_style(stroke=stroke, width=width, dash=dash)}/>"
    )


def marker(shape: str, x: float, y: float, *, colour: str, size: float = 3.5) -> str:
    """A data point: ``circle``, ``square`` or ``diamond``, filled with `colour`."""
    if shape == "square":
        return rect(x - size, y - size, 2 * size, 2 * size, fill=colour)
    if shape == "diamond":
        d = size * 1.3
        return (
            f'<path d="M{num(x)} {num(y - d)}L{num(x + d)} {num(y)}L{num(x)} {num(y + d)}'
            f'L{num(x - d)} {num(y)}Z" fill="{esc(colour)}"/>'
        )
    return f'<circle cx="{num(x)}" cy="{num(y)}" r="{num(size)}" fill="{esc(colour)}"/>'


def group(items: Iterable[str], *, label: str | None = None) -> str:
    """Elements grouped in ``<g>``; `label` names the group (its ``<title>``, shown on hover).

    A ``<title>`` and not ``aria-label``: ARIA forbids a name on a ``<g>`` without a role, and
    the figure as a whole is one image already named by its own title and description.
    """
    name = f"<title>{esc(label)}</title>" if label else ""
    return "<g>" + name + "".join(items) + "</g>"


def axis_left(
    scale: Scale,
    ticks: Sequence[float],
    *,
    x: float,
    label: str = "",
    digits: int = 0,
    grid_to: float | None = None,
    suffix: str = "",
) -> str:
    """A vertical axis at `x` with tick labels, optional grid lines to `grid_to`, and a title."""
    low, high = scale(scale.low), scale(scale.high)
    parts = [line(x, low, x, high, stroke=MUTED)]
    for value in ticks:
        y = scale(value)
        if grid_to is not None:
            parts.append(line(x, y, grid_to, y, stroke="#E5E5E5", width=0.8))
        parts.append(line(x - TICK, y, x, y, stroke=MUTED))
        parts.append(
            text(x - TICK - 3, y + 3.5, decimal(value, digits) + suffix, anchor="end", size=10)
        )
    if label:
        middle = (low + high) / 2
        parts.append(text(x - 36, middle, label, anchor="middle", rotate=-90, size=11))
    return group(parts)


def axis_bottom(
    scale: Scale,
    ticks: Sequence[float],
    *,
    y: float,
    label: str = "",
    digits: int = 0,
    tick_labels: Sequence[str] | None = None,
) -> str:
    """A horizontal axis at `y` with tick labels and a title below."""
    parts = [line(scale(scale.low), y, scale(scale.high), y, stroke=MUTED)]
    for k, value in enumerate(ticks):
        x = scale(value)
        parts.append(line(x, y, x, y + TICK, stroke=MUTED))
        name = tick_labels[k] if tick_labels is not None else decimal(value, digits)
        parts.append(text(x, y + TICK + 11, name, anchor="middle", size=10))
    if label:
        middle = (scale(scale.low) + scale(scale.high)) / 2
        parts.append(text(middle, y + TICK + 28, label, anchor="middle", size=11))
    return group(parts)


@dataclass(frozen=True)
class LegendEntry:
    """One legend line: a swatch (line, marker and/or filled box) and its label."""

    label: str
    colour: str
    dash: str | None = None
    marker: str | None = None
    box: bool = False


def legend(entries: Sequence[LegendEntry], *, x: float, y: float, gap: float = 16) -> str:
    """A legend with one entry per line, starting at (`x`, `y`)."""
    parts = []
    for k, entry in enumerate(entries):
        top = y + k * gap
        if entry.box:
            parts.append(
                rect(x, top - 5, 22, 10, fill=entry.colour, stroke=MUTED, stroke_width=0.5)
            )
        else:
            parts.append(line(x, top, x + 22, top, stroke=entry.colour, width=2, dash=entry.dash))
        if entry.marker:
            parts.append(marker(entry.marker, x + 11, top, colour=entry.colour))
        parts.append(text(x + 28, top + 3.5, entry.label, size=10.5))
    return group(parts, label="legend")


CHAR_WIDTH = 0.58
"""Average width of a character of the sans-serif font, as a share of the font size."""


def wrap(content: str, width: float, *, size: float = 11, bold: bool = False) -> list[str]:
    """Break `content` into lines that fit `width` user units at font size `size`.

    SVG has no text wrapping; the estimate uses an average character width, so it errs on
    the short side rather than letting text run out of its box.
    """
    # Bold glyphs are about a tenth wider.
    most = max(4, int(width / (CHAR_WIDTH * size * (1.1 if bold else 1.0))))
    lines: list[str] = []
    current = ""
    for word in content.split():
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= most or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines or [""]


def arrow(x1: float, y1: float, x2: float, y2: float, *, colour: str = MUTED) -> str:
    """A straight arrow from (x1, y1) to (x2, y2), its head drawn as a small triangle."""
    angle = math.atan2(y2 - y1, x2 - x1)
    size = 5.0
    left = (x2 - size * math.cos(angle - 0.45), y2 - size * math.sin(angle - 0.45))
    right = (x2 - size * math.cos(angle + 0.45), y2 - size * math.sin(angle + 0.45))
    head = (
        f'<path d="M{num(x2)} {num(y2)}L{num(left[0])} {num(left[1])}'
        f'L{num(right[0])} {num(right[1])}Z" fill="{esc(colour)}"/>'
    )
    return line(x1, y1, x2, y2, stroke=colour, width=1) + head
