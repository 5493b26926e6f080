"""The participant flow diagram of a crossover trial (CONSORT 2010, crossover extension).

Dwan et al., "CONSORT 2010 statement: extension to randomised crossover trials", BMJ
2019;366:l4378. Boxes: enrolled, not randomized, randomized, then one column per sequence:
allocated, each treatment period started and completed, withdrawn (with the reasons recorded)
and analysed. The counts come from ``results.flow`` (:func:`~diarytrial.analysis.flow.
participant_flow`); only the withdrawal reasons are read from the participants table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from diarytrial.protocol.schema import Protocol
from diarytrial.report import svg
from diarytrial.report.labels import arm_label, sequence_arms, sequence_label
from diarytrial.report.palette import INK, MUTED, OKABE_ITO

WIDTH = 680.0
MARGIN = 8.0
GAP = 14.0
LINE = 14.0
PAD = 6.0
BAND = 18.0
FONT = 10.5
MAX_COLUMN = 330.0


@dataclass(frozen=True)
class Box:
    """A box of the diagram: its heading line (bold) and further lines, wrapped to fit."""

    heading: str
    lines: tuple[str, ...] = ()


def _laid_out(box: Box, width: float) -> list[tuple[str, bool]]:
    out = [(part, True) for part in svg.wrap(box.heading, width - 2 * PAD, size=FONT, bold=True)]
    for extra in box.lines:
        out.extend((part, False) for part in svg.wrap(extra, width - 2 * PAD, size=FONT))
    return out


def _height(box: Box, width: float) -> float:
    return len(_laid_out(box, width)) * LINE + 2 * PAD - 2


def _draw(box: Box, x: float, y: float, width: float, height: float) -> str:
    parts = [svg.rect(x, y, width, height, fill="#FFFFFF", stroke=INK, stroke_width=0.8)]
    for k, (content, bold) in enumerate(_laid_out(box, width)):
        parts.append(
            svg.text(
                x + width / 2,
                y + PAD + 9 + k * LINE,
                content,
                anchor="middle",
                size=FONT,
                weight="bold" if bold else None,
            )
        )
    return svg.group(parts)


def _band(y: float, name: str) -> str:
    return svg.group(
        [
            svg.rect(MARGIN, y, WIDTH - 2 * MARGIN, BAND - 4, fill="#E8F1F8", rx=3),
            svg.text(MARGIN + 6, y + 10.5, name, size=10, weight="bold", fill=OKABE_ITO["blue"]),
        ]
    )


@dataclass(frozen=True)
class _Columns:
    """One column of boxes per sequence: their width, left edges and centres."""

    width: float
    lefts: list[float]
    centres: list[float]


def consort_figure(
    flow: pd.DataFrame,
    protocol: Protocol,
    participants: pd.DataFrame | None = None,
    *,
    populations: pd.DataFrame | None = None,
) -> str:
    """The flow diagram as SVG, from the ``stage``/``sequence``/``n`` rows of `flow`.

    With `populations` (``results.populations``) the analysis boxes give the number of each
    sequence in every analysis of the primary item; without it, the flow's ``analysed``.
    """
    counts = {(str(r["stage"]), str(r["sequence"])): int(r["n"]) for r in flow.to_dict("records")}
    if populations is not None:
        counts.update(
            {
                (f"population {r['population']}", str(r["sequence"])): int(r["n"])
                for r in populations.to_dict("records")
            }
        )
    sequences = [str(s) for s in flow.loc[flow["stage"] == "randomized", "sequence"]]
    periods = sorted(
        {
            int(stage.split()[1])
            for stage, _ in counts
            if stage.startswith("period ") and stage.endswith(" started")
        }
    )
    reasons = _withdrawal_reasons(participants)
    parts, split_from, y = _enrolment(counts, sequences)
    columns = _columns(len(sequences))
    parts.append(_band(y, "Allocation"))
    y += BAND + 10
    split_y = y - 4
    parts.append(svg.line(WIDTH / 2, split_from, WIDTH / 2, split_y, stroke=MUTED))
    if len(columns.centres) > 1:
        parts.append(
            svg.line(columns.centres[0], split_y, columns.centres[-1], split_y, stroke=MUTED)
        )
    rows = _column_rows(protocol, counts, sequences, periods, reasons)
    y = _draw_rows(parts, rows, columns, y, split_y)
    total = y + MARGIN - 12
    title = "Participant flow (CONSORT 2010 extension to randomised crossover trials)"
    description = "; ".join(
        f"{sequence_label(protocol, s)}: {counts[('randomized', s)]} randomized, "
        f"{counts.get(('withdrawn', s), 0)} withdrawn, "
        + (
            f"{counts.get(('population mixed model', s), 0)} in the mixed model, "
            f"{counts.get(('population paired', s), 0)} in the paired tests"
            if ("population mixed model", s) in counts
            else f"{counts.get(('analysed', s), 0)} analysed"
        )
        for s in sequences
    )
    return svg.document(WIDTH, total, parts, title=title, description=description)


def _enrolment(
    counts: dict[tuple[str, str], int], sequences: list[str]
) -> tuple[list[str], float, float]:
    """The enrolment band: enrolled, not randomized to the side, randomized.

    Returns the drawing, the bottom of the randomized box and the next free height.
    """
    parts: list[str] = []
    y = MARGIN
    parts.append(_band(y, "Enrolment"))
    y += BAND + 4
    wide = 250.0
    centre = WIDTH / 2
    enrolled = Box("Enrolled", (f"n = {counts.get(('assessed', 'all'), 0)}",))
    height = _height(enrolled, wide)
    parts.append(_draw(enrolled, centre - wide / 2, y, wide, height))
    top_of_arrow = y + height
    side = Box("Not randomized", (f"n = {counts.get(('not randomized', 'all'), 0)}",))
    side_w = 150.0
    side_h = _height(side, side_w)
    side_y = y + height + 8
    parts.append(_draw(side, WIDTH - MARGIN - side_w, side_y, side_w, side_h))
    parts.append(
        svg.arrow(centre, side_y + side_h / 2, WIDTH - MARGIN - side_w, side_y + side_h / 2)
    )
    y = side_y + side_h + 12
    randomized = Box("Randomized", (f"n = {sum(counts[('randomized', s)] for s in sequences)}",))
    height = _height(randomized, wide)
    parts.append(svg.arrow(centre, top_of_arrow, centre, y))
    parts.append(_draw(randomized, centre - wide / 2, y, wide, height))
    return parts, y + height, y + height + 10


def _columns(count: int) -> _Columns:
    """Columns of equal width, centred on the page, at most MAX_COLUMN wide."""
    columns = max(count, 1)
    column_w = min((WIDTH - 2 * MARGIN - (columns - 1) * GAP) / columns, MAX_COLUMN)
    first_left = WIDTH / 2 - (columns * column_w + (columns - 1) * GAP) / 2
    lefts = [first_left + k * (column_w + GAP) for k in range(columns)]
    return _Columns(column_w, lefts, [left + column_w / 2 for left in lefts])


def _column_rows(
    protocol: Protocol,
    counts: dict[tuple[str, str], int],
    sequences: list[str],
    periods: list[int],
    reasons: dict[str, Sequence[str]],
) -> list[tuple[str | None, list[Box]]]:
    """Rows of boxes, one per sequence, each with the band it opens (or None)."""
    rows: list[tuple[str | None, list[Box]]] = [
        (
            None,
            [
                Box(
                    f"Allocated to {sequence_label(protocol, s)}",
                    (f"n = {counts[('randomized', s)]}",),
                )
                for s in sequences
            ],
        )
    ]
    for period in periods:
        follow_up = [_period_box(protocol, s, period, counts) for s in sequences]
        rows.append(("Follow-up" if period == periods[0] else None, follow_up))
    rows.append(
        (
            None,
            [
                Box(
                    f"Withdrawn: n = {counts.get(('withdrawn', s), 0)}",
                    tuple(reasons.get(s, ())),
                )
                for s in sequences
            ],
        )
    )
    rows.append(("Analysis", [_analysis_box(counts, s) for s in sequences]))
    return rows


_ANALYSES = (
    ("mixed model", "mixed model"),
    ("paired", "paired tests"),
    ("responder pairs", "responders (McNemar)"),
    ("pgic pairs", "PGIC tests"),
)
"""The analyses of the primary item the flow diagram counts, with their names there."""


def _analysis_box(counts: dict[tuple[str, str], int], code: str) -> Box:
    """The analysis box of one sequence: each analysis with its n, or the flow's analysed."""
    randomized = counts[("randomized", code)]
    if ("population mixed model", code) not in counts:
        analysed = counts.get(("analysed", code), 0)
        return Box(
            f"Analysed: n = {analysed}",
            (f"excluded: {randomized - analysed} (no primary outcome in every condition)",),
        )
    lines = [f"{name}: n = {counts.get((f'population {key}', code), 0)}" for key, name in _ANALYSES]
    return Box("Analysed (populations table)", tuple(lines))


def _draw_rows(
    parts: list[str],
    rows: list[tuple[str | None, list[Box]]],
    columns: _Columns,
    y: float,
    previous: float | None,
) -> float:
    """Draw the rows of boxes from height `y` down, each joined by an arrow to the one above.

    The drawing is appended to `parts`; returns the next free height.
    """
    for band, boxes in rows:
        if band is not None:
            parts.append(_band(y, band))
            y += BAND + 10
        height = max(_height(box, columns.width) for box in boxes) if boxes else LINE
        for box, left, middle in zip(boxes, columns.lefts, columns.centres, strict=False):
            if previous is not None:
                parts.append(svg.arrow(middle, previous, middle, y))
            parts.append(_draw(box, left, y, columns.width, height))
        previous = y + height
        y += height + 12
    return y


def _period_box(
    protocol: Protocol, code: str, period: int, counts: dict[tuple[str, str], int]
) -> Box:
    arms = sequence_arms(protocol, code)
    what = f": {arm_label(protocol, arms[period - 1])}" if arms and period <= len(arms) else ""
    washout = protocol.design.washout_days
    heading = f"Period {period}{what}"
    lines = [
        f"started n = {counts.get((f'period {period} started', code), 0)}",
        f"completed n = {counts.get((f'period {period} completed', code), 0)}",
    ]
    if period > 1 and washout:
        lines.insert(0, f"after a {washout}-day washout")
    return Box(heading, tuple(lines))


def _withdrawal_reasons(participants: pd.DataFrame | None) -> dict[str, Sequence[str]]:
    """Per sequence, lines like "Side effects: 2" for the withdrawn participants."""
    if participants is None or "withdrawal_reason" not in participants.columns:
        return {}
    people = participants[participants["withdrawn_on"].notna()]
    out: dict[str, list[str]] = {}
    for code, group in people.groupby(people["sequence"].astype(str), sort=True):
        reasons = (
            group["withdrawal_reason"]
            .astype(object)
            .where(group["withdrawal_reason"].notna(), "reason not recorded")
        )
        tally = reasons.astype(str).value_counts()
        ordered = sorted(tally.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
        out[str(code)] = [f"{reason}: {int(n)}" for reason, n in ordered]
    return dict(out)
