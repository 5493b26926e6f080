"""Colours and line styles of the report: the Okabe-Ito palette, safe for colour-blind readers.

Colour never carries meaning alone: each condition also has its own line style, marker shape
and a letter (shown in shaded bands), and every figure has a legend or direct labels.
"""

from __future__ import annotations

from dataclasses import dataclass

OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
"""Okabe & Ito (2008), "Color Universal Design": eight colours told apart by most readers."""

INK = "#222222"
MUTED = "#666666"
GRID = "#DDDDDD"


@dataclass(frozen=True)
class ConditionStyle:
    """How one condition is drawn: line colour, background tint, dash, marker and letter."""

    colour: str
    tint: str
    dash: str | None
    marker: str
    letter: str


CONDITION_STYLES: dict[str, ConditionStyle] = {
    "active": ConditionStyle(OKABE_ITO["blue"], "#D9EAF3", None, "circle", "A"),
    "placebo": ConditionStyle(OKABE_ITO["vermillion"], "#F9E7D9", "6 4", "square", "P"),
    "baseline": ConditionStyle(MUTED, "#E6E6E6", "2 3", "diamond", "B"),
    "washout": ConditionStyle(MUTED, "#FFFFFF", "2 3", "diamond", "W"),
}
"""Active is blue, solid, circles; placebo vermillion, dashed, squares (the tints are 15%)."""

PGIC_COLOURS: tuple[str, ...] = (
    OKABE_ITO["blue"],
    OKABE_ITO["sky_blue"],
    "#BEE0F4",  # sky blue at 35%
    "#D9D9D9",
    "#F4D48C",  # orange at 45%
    OKABE_ITO["orange"],
    OKABE_ITO["vermillion"],
)
"""PGIC scores 1 (very much improved) to 7 (very much worse): blues, a grey, oranges."""

PGIC_TEXT: tuple[str, ...] = ("#FFFFFF", INK, INK, INK, INK, INK, "#FFFFFF")
"""Text colour on each PGIC colour, chosen for contrast."""


def condition_style(condition: str) -> ConditionStyle:
    """The style of `condition`; an unknown condition is drawn like a washout."""
    return CONDITION_STYLES.get(condition, CONDITION_STYLES["washout"])
