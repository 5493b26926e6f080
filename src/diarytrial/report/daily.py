"""Each participant's daily diary values of one item, over the phases of their schedule.

Phases are shaded by condition (a tint and a letter: B baseline, A active, P placebo, W washout),
so the figure reads in grey-scale too. The x axis is the study day (day 0 = the first day of the
participant's first phase), so panels of different participants line up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from diarytrial.dataset.model import TrialDataset
from diarytrial.protocol.schema import Item, Protocol
from diarytrial.report import svg
from diarytrial.report.labels import condition_label, sequence_arms
from diarytrial.report.palette import INK, MUTED, condition_style

CONDITION_ORDER = ("baseline", "active", "placebo", "washout")


@dataclass(frozen=True)
class PhaseSpan:
    """One phase on the study-day axis: days `first` to `last`, both included."""

    condition: str
    period: int | None
    block: int | None
    first: int
    last: int


@dataclass(frozen=True)
class Series:
    """One participant's daily values of an item, on study days, with their phases."""

    participant_id: str
    sequence: str
    phases: tuple[PhaseSpan, ...]
    days: tuple[int, ...]
    values: tuple[float, ...]
    withdrawn: int | None


def daily_series(dataset: TrialDataset, item: str) -> list[Series]:
    """Every participant's series of `item`, ordered by sequence, then participant id."""
    people = dataset.participants.assign(
        participant_id=dataset.participants["participant_id"].astype(str)
    )
    periods = dataset.periods.assign(participant_id=dataset.periods["participant_id"].astype(str))
    diary = dataset.diary[dataset.diary["item"].astype(str) == item]
    diary = diary.assign(participant_id=diary["participant_id"].astype(str))
    values_by_person = {str(k): g for k, g in diary.groupby("participant_id", observed=True)}
    phases_by_person = {str(k): g for k, g in periods.groupby("participant_id")}
    out: list[Series] = []
    for row in people.to_dict("records"):
        pid = str(row["participant_id"])
        phases = phases_by_person.get(pid)
        if phases is None or phases.empty:
            continue
        starts = _days(phases["start"])
        ends = _days(phases["end"])
        origin = int(starts.min())
        spans = tuple(
            PhaseSpan(
                condition=str(condition),
                period=None if pd.isna(period) else int(period),
                block=None if pd.isna(block) else int(block),
                first=int(first) - origin,
                last=int(last) - origin,
            )
            for condition, period, block, first, last in sorted(
                zip(
                    phases["condition"].astype(str),
                    phases["period"],
                    phases["block"],
                    starts,
                    ends,
                    strict=True,
                ),
                key=lambda phase: int(phase[3]),
            )
        )
        answers = values_by_person.get(pid)
        days: tuple[int, ...] = ()
        values: tuple[float, ...] = ()
        if answers is not None and len(answers):
            answers = answers.dropna(subset=["value"])
            numbers = _days(answers["diary_date"]) - origin
            order = np.argsort(numbers, kind="stable")
            days = tuple(int(d) for d in numbers[order])
            values = tuple(float(v) for v in answers["value"].to_numpy(dtype=float)[order])
        withdrawn_on = row.get("withdrawn_on")
        withdrawn = None
        if withdrawn_on is not None and not pd.isna(withdrawn_on):
            withdrawn = int(_days(pd.Series([withdrawn_on]))[0]) - origin
        sequence = "" if pd.isna(row["sequence"]) else str(row["sequence"])
        out.append(Series(pid, sequence, spans, days, values, withdrawn))
    return sorted(out, key=lambda s: (s.sequence, s.participant_id))


def _days(column: pd.Series) -> np.ndarray:
    return np.asarray(
        pd.to_datetime(column).to_numpy().astype("datetime64[D]").astype(np.int64), dtype=np.int64
    )


def sequence_letters(protocol: Protocol, code: str) -> str:
    """A sequence as condition letters, e.g. ``A→P`` for active first."""
    arms = sequence_arms(protocol, code)
    if arms is None:
        return code
    return "→".join(condition_style(protocol.condition_of(arm)).letter for arm in arms)


def _segments(days: Sequence[int], values: Sequence[float]) -> list[list[tuple[int, float]]]:
    """Runs of consecutive days: the line breaks where a diary day is missing."""
    runs: list[list[tuple[int, float]]] = []
    for day, value in zip(days, values, strict=True):
        if runs and day - runs[-1][-1][0] == 1:
            runs[-1].append((day, value))
        else:
            runs.append([(day, value)])
    return runs


def _plot(
    series: Series,
    x: svg.Scale,
    y: svg.Scale,
    *,
    letter_size: float,
    with_block: bool,
    line_width: float,
) -> list[str]:
    top, bottom = y(y.high), y(y.low)
    parts = []
    for phase in series.phases:
        style = condition_style(phase.condition)
        x0, x1 = x(phase.first - 0.5), x(phase.last + 0.5)
        parts.append(svg.rect(x0, top, x1 - x0, bottom - top, fill=style.tint))
        letter = style.letter
        if with_block and phase.block is not None:
            letter += str(phase.block)
        if x1 - x0 >= letter_size * 0.9 * len(letter):
            parts.append(
                svg.text(
                    (x0 + x1) / 2,
                    top + letter_size + 1,
                    letter,
                    anchor="middle",
                    size=letter_size,
                    fill=MUTED,
                )
            )
    for run in _segments(series.days, series.values):
        points = [(x(d), y(v)) for d, v in run]
        if len(points) == 1:
            parts.append(svg.marker("circle", *points[0], colour=INK, size=line_width * 0.8))
        else:
            parts.append(svg.polyline(points, stroke=INK, width=line_width))
    if series.withdrawn is not None:
        wx = x(series.withdrawn - 0.5)
        end = x(x.high)
        if end > wx:  # the planned days after the withdrawal are faded: they never happened
            parts.append(svg.rect(wx, top, end - wx, bottom - top, fill="#FFFFFF", opacity=0.7))
        parts.append(svg.line(wx, top, wx, bottom, stroke=INK, width=1.2, dash="3 2"))
        parts.append(
            svg.text(wx + 3, bottom - 4, "withdrawn", size=letter_size, weight="bold")
            if wx < (x(x.low) + end) / 2
            else svg.text(wx - 3, bottom - 4, "withdrawn", anchor="end", size=letter_size)
        )
    return parts


def day_ticks(last_day: int, count: int = 5) -> list[int]:
    """Study-day ticks every whole number of weeks, about `count` intervals from day 0.

    >>> day_ticks(140)
    [0, 28, 56, 84, 112, 140]
    >>> day_ticks(20)
    [0, 7, 14]
    """
    weeks = max(1, -(-last_day // (7 * count)))
    return list(range(0, last_day + 1, 7 * weeks))


def series_panel(series: Series, *, protocol: Protocol, item: Item, last_day: int) -> str:
    """A small panel of one participant, for the grid of small multiples.

    The y axis gives the scale's ends; the x axis the study day, every few weeks, the same
    in every panel (`last_day` is the last day of any participant), so panels line up.
    """
    width, height = 220.0, 116.0
    left, right, top, bottom = 24.0, 214.0, 17.0, 98.0
    x = svg.Scale(-0.5, last_day + 0.5, left, right)
    y = svg.Scale(item.lowest, item.highest, bottom, top)
    title = f"{series.participant_id} ({sequence_letters(protocol, series.sequence)})"
    parts = [svg.text(left, 11, title, size=10, weight="bold")]
    parts.extend(_plot(series, x, y, letter_size=8, with_block=False, line_width=1))
    for value in (item.lowest, item.highest):
        parts.append(svg.text(left - 3, y(value) + 3, str(value), anchor="end", size=8))
    parts.append(svg.rect(left, top, right - left, bottom - top, fill="none", stroke=MUTED))
    for day in day_ticks(last_day):
        parts.append(svg.line(x(day), bottom, x(day), bottom + 3, stroke=MUTED))
        parts.append(svg.text(x(day), bottom + 12, str(day), anchor="middle", size=8))
    return svg.document(
        width,
        height,
        parts,
        title=f"Daily {item.label.lower()} of participant {series.participant_id}",
        description=_describe(series, protocol),
        css_class="panel",
    )


def series_figure(series: Series, *, protocol: Protocol, item: Item) -> str:
    """A full-width figure of one participant's daily series, phases labelled by block."""
    width, height = 680.0, 236.0
    left, right, top, bottom = 52.0, 668.0, 12.0, 192.0
    last_day = max((p.last for p in series.phases), default=0)
    x = svg.Scale(-0.5, last_day + 0.5, left, right)
    y = svg.Scale(item.lowest, item.highest, bottom, top)
    parts = _plot(series, x, y, letter_size=10, with_block=True, line_width=1.5)
    parts.append(svg.rect(left, top, right - left, bottom - top, fill="none", stroke=MUTED))
    parts.append(
        svg.axis_left(y, svg.nice_ticks(item.lowest, item.highest, 5), x=left, label=item.label)
    )
    ticks = list(range(0, last_day + 1, 7))
    parts.append(svg.axis_bottom(x, ticks, y=bottom, label="Study day"))
    return svg.document(
        width,
        height,
        parts,
        title=f"Daily {item.label.lower()} of participant {series.participant_id}",
        description=_describe(series, protocol),
    )


def condition_key(protocol: Protocol, conditions: Sequence[str], *, with_block: bool) -> str:
    """A one-line legend of the shaded phases (and the line), for the daily-series figures."""
    parts = []
    cursor = 4.0
    for condition in conditions:
        style = condition_style(condition)
        parts.append(svg.rect(cursor, 4, 22, 14, fill=style.tint, stroke=MUTED, stroke_width=0.5))
        letter = style.letter + ("k" if with_block and condition in ("active", "placebo") else "")
        parts.append(svg.text(cursor + 11, 14.5, letter, anchor="middle", size=9, fill=MUTED))
        name = condition_label(protocol, condition)
        parts.append(svg.text(cursor + 27, 15, name, size=10.5))
        cursor += 27 + svg.CHAR_WIDTH * 10.5 * len(name) + 16
    parts.append(svg.line(cursor, 11, cursor + 22, 11, stroke=INK, width=1.5))
    parts.append(svg.text(cursor + 27, 15, "daily value", size=10.5))
    cursor += 27 + svg.CHAR_WIDTH * 10.5 * 11 + 10
    note = "; k = block" if with_block else ""
    if note:
        parts.append(svg.text(cursor, 15, note.lstrip("; "), size=10.5, fill=MUTED))
    return svg.document(
        680,
        22,
        parts,
        title="Key to the shaded phases",
        css_class="key",
    )


def _describe(series: Series, protocol: Protocol) -> str:
    phases = ", ".join(
        f"{condition_label(protocol, p.condition)} days {p.first}-{p.last}" for p in series.phases
    )
    mean = f"; {len(series.values)} diary days" if series.values else "; no diary values"
    return phases + mean
