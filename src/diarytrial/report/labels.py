"""Names shown to readers: conditions by their arms, sequences, items, scales and phases."""

from __future__ import annotations

from diarytrial.protocol.schema import Item, Protocol

_SCALES = {
    "slider_0_100": "0-100 slider",
    "nrs_0_10": "0-10 numeric rating scale",
}


def condition_label(protocol: Protocol, condition: str) -> str:
    """``active`` -> the active arm's name ("Low-dose naltrexone"); ``placebo`` -> "Placebo"."""
    if condition == "active":
        return " / ".join(arm.name for arm in protocol.active_arms) or "Active"
    if condition == "placebo":
        return " / ".join(arm.name for arm in protocol.placebo_arms) or "Placebo"
    return condition.capitalize()


def arm_label(protocol: Protocol, arm_id: str) -> str:
    """The name of the arm `arm_id` (the id itself when the protocol has no such arm)."""
    try:
        return protocol.arm(arm_id).name
    except KeyError:
        return arm_id


def sequence_arms(protocol: Protocol, code: str) -> tuple[str, ...] | None:
    """The arms of the sequence written as in the dataset (``ldn-placebo``); None if unknown."""
    for sequence in protocol.sequences:
        if "-".join(sequence) == code:
            return sequence
    return None


def sequence_label(protocol: Protocol, code: str) -> str:
    """A sequence for readers: ``Low-dose naltrexone → Placebo``."""
    arms = sequence_arms(protocol, code)
    if arms is None:
        return code
    return " → ".join(arm_label(protocol, arm) for arm in arms)


def item_label(protocol: Protocol, item_id: str) -> str:
    """The label of a diary item ("Sleep quality" for ``sleep``)."""
    try:
        return protocol.diary.item(item_id).label
    except KeyError:
        return item_id


def scale_label(item: Item) -> str:
    """The item's scale in words: "0-100 slider"."""
    return _SCALES.get(item.scale, item.scale)


def better_label(item: Item) -> str:
    """Which way is better on the item's own scale: "lower is better" or "higher is better"."""
    return "lower is better" if item.direction == "higher_is_worse" else "higher is better"


def phase_label(period: object, condition: str) -> str:
    """A phase of the schedule: "Baseline", "Washout" or "Period k"."""
    if condition == "baseline":
        return "Baseline"
    if condition == "washout":
        return "Washout"
    return f"Period {period}"
