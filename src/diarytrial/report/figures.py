"""The report's data figures as SVG: the weekly time course and the PGIC bars.

The participant flow diagram is in :mod:`~diarytrial.report.consort`, the daily diary series in
:mod:`~diarytrial.report.daily`, the n-of-1 benefit plot in :mod:`~diarytrial.report.nof1`.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import pandas as pd

from diarytrial.analysis.timecourse import TimeCourse
from diarytrial.protocol.schema import Protocol
from diarytrial.report import svg
from diarytrial.report.format import decimal, is_missing, share
from diarytrial.report.labels import condition_label
from diarytrial.report.palette import MUTED, PGIC_COLOURS, PGIC_TEXT, condition_style

TREATMENTS = ("active", "placebo")
"""The two treatment conditions, in the order every figure and table shows them."""

# Conditions are drawn a little apart so that their error bars do not overlap.
_DODGE = {"active": -0.09, "placebo": 0.09}


# Plot area of the time course, in SVG units.
_TC_WIDTH, _TC_HEIGHT = 680.0, 330.0
_TC_LEFT, _TC_RIGHT, _TC_TOP, _TC_BOTTOM = 62.0, 548.0, 46.0, 272.0


def time_course_figure(course: TimeCourse, protocol: Protocol) -> str:
    """Mean % improvement by week of phase and condition, +/- 1 SE, the threshold and onset."""
    weekly = course.weekly
    conditions = [c for c in TREATMENTS if c in set(weekly["condition"])]
    weeks = int(weekly["week"].max()) if len(weekly) else 1
    means = weekly["mean_improvement"].to_numpy(dtype=float)
    errors = weekly["se_improvement"].fillna(0).to_numpy(dtype=float)
    low = min([0.0, *(means - errors).tolist()])
    high = max([course.threshold + 10, *(means + errors).tolist()])
    y_low, y_high = svg.nice_domain(low, high, 6)
    x = svg.Scale(0.5, weeks + 0.5, _TC_LEFT, _TC_RIGHT)
    y = svg.Scale(y_low, y_high, _TC_BOTTOM, _TC_TOP)
    parts = _time_course_axes(x, y, y_low, y_high, weeks)
    parts.extend(_threshold_line(y, course.threshold))
    label_y: list[float] = [y(course.threshold) + 3.5]  # the threshold's own label
    for condition in conditions:
        rows = weekly[weekly["condition"] == condition].sort_values("week").to_dict("records")
        parts.extend(_condition_series(rows, condition, protocol, x, y, label_y))
    parts.extend(_onset_lines(course, conditions, protocol, x))
    parts.append(_time_course_legend(conditions, protocol))
    description = "; ".join(
        f"{condition_label(protocol, c)}: week {int(r['week'])} {decimal(r['mean_improvement'])}%"
        for c in conditions
        for r in weekly[weekly["condition"] == c].to_dict("records")
    )
    return svg.document(
        _TC_WIDTH,
        _TC_HEIGHT,
        parts,
        title=f"Weekly improvement of {course.item} from baseline, by condition",
        description=description,
    )


def _time_course_axes(
    x: svg.Scale, y: svg.Scale, y_low: float, y_high: float, weeks: int
) -> list[str]:
    """The improvement axis with its grid, the week axis, and the zero line when in range."""
    parts = [
        svg.axis_left(
            y,
            svg.nice_ticks(y_low, y_high, 6),
            x=_TC_LEFT,
            label="Improvement from baseline (%)",
            grid_to=_TC_RIGHT,
        ),
        svg.axis_bottom(
            x,
            list(range(1, weeks + 1)),
            y=_TC_BOTTOM,
            label="Week of treatment period",
        ),
    ]
    if y_low < 0:
        parts.append(svg.line(_TC_LEFT, y(0), _TC_RIGHT, y(0), stroke=MUTED, width=1))
    return parts


def _threshold_line(y: svg.Scale, threshold: float) -> list[str]:
    """The dashed line of the improvement threshold, labelled at its right end."""
    return [
        svg.line(_TC_LEFT, y(threshold), _TC_RIGHT, y(threshold), dash="4 3"),
        svg.text(
            _TC_RIGHT + 6,
            y(threshold) + 3.5,
            f"{decimal(threshold, 0)}% improvement",
            size=10,
        ),
    ]


def _condition_series(
    rows: list[dict[Hashable, Any]],
    condition: str,
    protocol: Protocol,
    x: svg.Scale,
    y: svg.Scale,
    label_y: list[float],
) -> list[str]:
    """One condition's weekly means with error bars, and its label at the end of the line.

    `label_y` holds the heights of the labels drawn so far; this label's is added to it.
    """
    style = condition_style(condition)
    points = [
        (x(int(r["week"]) + _DODGE.get(condition, 0)), y(float(r["mean_improvement"])))
        for r in rows
    ]
    series = []
    for (px, _), r in zip(points, rows, strict=True):
        se = float(r["se_improvement"])
        if not is_missing(se) and se > 0:
            mean = float(r["mean_improvement"])
            series.append(svg.line(px, y(mean - se), px, y(mean + se), stroke=style.colour))
            for end in (mean - se, mean + se):
                series.append(svg.line(px - 3, y(end), px + 3, y(end), stroke=style.colour))
    series.append(svg.polyline(points, stroke=style.colour, width=2, dash=style.dash))
    series.extend(svg.marker(style.marker, px, py, colour=style.colour) for px, py in points)
    parts = [svg.group(series, label=condition_label(protocol, condition))]
    if points:
        # Direct label at the end of each line; pushed down when it would hit another.
        ly = points[-1][1] + 3.5
        while any(abs(ly - other) < 13 for other in label_y):
            ly += 13
        label_y.append(ly)
        name = svg.wrap(condition_label(protocol, condition), 120, size=10)[0]
        parts.append(
            svg.text(points[-1][0] + 8, ly, name, size=10, fill=style.colour, weight="bold")
        )
    return parts


def _onset_lines(
    course: TimeCourse, conditions: list[str], protocol: Protocol, x: svg.Scale
) -> list[str]:
    """A dotted vertical line at each condition's onset week, labelled at the top."""
    parts = []
    onsets = [(c, course.onset_week.get(c)) for c in conditions]
    for k, (condition, week) in enumerate((c, w) for c, w in onsets if w is not None):
        style = condition_style(condition)
        px = x(week)
        parts.append(
            svg.line(px, _TC_TOP, px, _TC_BOTTOM, stroke=style.colour, dash="1 3", width=1.5)
        )
        parts.append(
            svg.text(
                px + 4,
                _TC_TOP + 10 + 12 * k,
                f"onset ({condition_label(protocol, condition)}): week {week}",
                size=10,
                fill=style.colour,
            )
        )
    return parts


def _time_course_legend(conditions: list[str], protocol: Protocol) -> str:
    legend = [
        svg.LegendEntry(
            f"{condition_label(protocol, c)} (mean ± 1 SE)",
            condition_style(c).colour,
            condition_style(c).dash,
            condition_style(c).marker,
        )
        for c in conditions
    ]
    return svg.legend(legend, x=_TC_LEFT + 8, y=12, gap=14)


# Layout of the PGIC bars, in SVG units.
_PGIC_WIDTH = 680.0
_PGIC_LABEL_W, _PGIC_BAR_LEFT, _PGIC_BAR_RIGHT = 128.0, 134.0, 540.0
_PGIC_BAR_H, _PGIC_GAP, _PGIC_TOP = 28.0, 14.0, 26.0
_PGIC_PER_ROW = 4
"""Legend entries per row."""


def pgic_figure(pgic: pd.DataFrame, protocol: Protocol) -> str:
    """Stacked bars of the PGIC answers per condition, with the share "much/very much improved"."""
    conditions = [c for c in TREATMENTS if int(pgic.loc[pgic["condition"] == c, "n"].max()) > 0]
    right, top = _PGIC_BAR_RIGHT, _PGIC_TOP
    parts = [
        svg.text(right + 10, top - 8, "Much or very much", size=10, weight="bold"),
        svg.text(right + 10, top + 4, "improved", size=10, weight="bold"),
    ]
    scale = svg.Scale(0, 1, _PGIC_BAR_LEFT, right)
    for k, condition in enumerate(conditions):
        rows = pgic[pgic["condition"] == condition].sort_values("score")
        y0 = top + 14 + k * (_PGIC_BAR_H + _PGIC_GAP)
        parts.extend(_pgic_bar(rows, condition, protocol, scale, y0))
    axis_y = top + 14 + len(conditions) * (_PGIC_BAR_H + _PGIC_GAP) - _PGIC_GAP + 4
    parts.append(
        svg.axis_bottom(
            scale,
            [0, 0.25, 0.5, 0.75, 1],
            y=axis_y,
            tick_labels=["0%", "25%", "50%", "75%", "100%"],
            label="Share of answers",
        )
    )
    legend_top = axis_y + 50
    labels = list(pgic.drop_duplicates("score").sort_values("score")["label"])
    parts.extend(_pgic_legend(labels, legend_top))
    height = legend_top + ((len(labels) - 1) // _PGIC_PER_ROW + 1) * 18 + 6
    description = "; ".join(
        f"{condition_label(protocol, c)}: "
        + ", ".join(
            f"{r['label']} {int(r['count'])}"
            for r in pgic[pgic["condition"] == c].sort_values("score").to_dict("records")
        )
        for c in conditions
    )
    return svg.document(
        _PGIC_WIDTH,
        height,
        parts,
        title="Patient Global Impression of Change by condition",
        description=description,
    )


def _pgic_bar(
    rows: pd.DataFrame, condition: str, protocol: Protocol, scale: svg.Scale, y0: float
) -> list[str]:
    """One condition's bar at height `y0`: its label and n, the segments, the share improved."""
    label_w, right, bar_h = _PGIC_LABEL_W, _PGIC_BAR_RIGHT, _PGIC_BAR_H
    n = int(rows["n"].iloc[0])
    parts = [
        svg.text(label_w, y0 + bar_h / 2 - 2, condition_label(protocol, condition), anchor="end"),
        svg.text(label_w, y0 + bar_h / 2 + 11, f"n = {n}", anchor="end", size=10),
    ]
    start = 0.0
    segments = []
    for r in rows.to_dict("records"):
        part = float(r["share"])
        if part <= 0:
            continue
        score = int(r["score"])
        x0, x1 = scale(start), scale(start + part)
        segments.append(
            svg.rect(x0, y0, x1 - x0, bar_h, fill=PGIC_COLOURS[score - 1], stroke="#FFFFFF")
        )
        if x1 - x0 >= 16:
            segments.append(
                svg.text(
                    (x0 + x1) / 2,
                    y0 + bar_h / 2 + 4,
                    str(int(r["count"])),
                    anchor="middle",
                    size=10,
                    fill=PGIC_TEXT[score - 1],
                )
            )
        start += part
    parts.append(svg.group(segments, label=condition_label(protocol, condition)))
    improved = int(rows.loc[rows["score"] <= 2, "count"].sum())
    parts.append(svg.text(right + 10, y0 + bar_h / 2 - 2, share(improved / n), size=11))
    parts.append(svg.text(right + 10, y0 + bar_h / 2 + 11, f"{improved} of {n}", size=10))
    return parts


def _pgic_legend(labels: list[str], legend_top: float) -> list[str]:
    """A swatch and the numbered label of each PGIC score, `_PGIC_PER_ROW` to a row."""
    parts = []
    for k, label in enumerate(labels):
        lx = 20 + (k % _PGIC_PER_ROW) * 165
        ly = legend_top + (k // _PGIC_PER_ROW) * 18
        parts.append(
            svg.rect(lx, ly - 6, 16, 12, fill=PGIC_COLOURS[k], stroke=MUTED, stroke_width=0.5)
        )
        parts.append(svg.text(lx + 21, ly + 4, f"{k + 1} {label}", size=10))
    return parts
