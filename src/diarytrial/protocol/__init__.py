"""The trial protocol: one TOML file describing arms, schedule, diary and analysis."""

from __future__ import annotations

from importlib import resources

from diarytrial.protocol.loader import (
    Problem,
    ProtocolError,
    ProtocolFile,
    load_protocol,
    parse_protocol,
    protocol_sha256,
)
from diarytrial.protocol.responder import parse_rule
from diarytrial.protocol.schedule import DayPosition, Phase, Schedule, make_schedule
from diarytrial.protocol.schema import PGIC_LABELS, SCALE_RANGES, Item, Protocol
from diarytrial.protocol.window import (
    WindowOutOfRangeError,
    diary_date_at,
    next_window_opening,
    window_bounds,
    zone_where_it_is,
)

EXAMPLES = ("ldn-fibromyalgia", "nof1-ldn")


def load_example(name: str) -> ProtocolFile:
    """Load a protocol shipped with diarytrial, e.g. ``ldn-fibromyalgia``."""
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; choose one of {', '.join(EXAMPLES)}")
    text = (
        resources.files("diarytrial.protocol")
        .joinpath(f"examples/{name}.toml")
        .read_text(encoding="utf-8")
    )
    return parse_protocol(text, source=f"examples/{name}.toml")


__all__ = [
    "EXAMPLES",
    "PGIC_LABELS",
    "SCALE_RANGES",
    "DayPosition",
    "Item",
    "Phase",
    "Problem",
    "Protocol",
    "ProtocolError",
    "ProtocolFile",
    "Schedule",
    "WindowOutOfRangeError",
    "diary_date_at",
    "load_example",
    "load_protocol",
    "make_schedule",
    "next_window_opening",
    "parse_protocol",
    "parse_rule",
    "protocol_sha256",
    "window_bounds",
    "zone_where_it_is",
]
