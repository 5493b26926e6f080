"""The weekly compliance chart's geometry, computed here so the template only writes SVG
(no script, no inline style: the page's Content-Security-Policy forbids both).

Coordinates are whole numbers: on a blinded page a decimal such as 4.5 could be read as a
dose in mg (tests/web/test_blinding_pages.py looks for them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from diarytrial.monitoring.selectors import WeekCompliance

WIDTH = 720
HEIGHT = 260
LEFT = 48
RIGHT = 8
TOP = 16
BOTTOM = 44
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    label_x: int
    week: WeekCompliance

    @property
    def label(self) -> str:
        return f"{self.week.start:%d %b}"

    @property
    def value_text(self) -> str:
        return "no nights due" if self.week.percent is None else f"{self.week.percent}%"


@dataclass(frozen=True)
class GridLine:
    y: int
    label: str


@dataclass(frozen=True)
class WeekChart:
    width: int
    height: int
    left: int
    right: int
    baseline: int
    bars: tuple[Bar, ...]
    lines: tuple[GridLine, ...]


def _y(percent: float) -> int:
    return round(TOP + PLOT_HEIGHT * (1 - percent / 100))


def week_chart(weeks: Sequence[WeekCompliance]) -> WeekChart:
    """Bars of the percent of nights filled per week, on a 0 to 100% axis."""
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(weeks))
    bars = []
    for index, week in enumerate(weeks):
        percent = week.percent or 0
        x = LEFT + index * slot + slot * 0.15
        top = _y(percent)
        bars.append(
            Bar(
                x=round(x),
                y=top,
                width=round(slot * 0.7),
                height=_y(0) - top,
                label_x=round(LEFT + index * slot + slot / 2),
                week=week,
            )
        )
    return WeekChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        baseline=_y(0),
        bars=tuple(bars),
        lines=tuple(GridLine(_y(p), f"{p}%") for p in (0, 25, 50, 75, 100)),
    )
