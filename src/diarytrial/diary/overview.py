"""Reads for the staff pages of the diary: a participant's entries, and one entry as the
correction form shows it (each item's current value on its scale, the entry's audit history),
each with what the phone's own time says when it disagrees with the server's.

Nothing here names an arm: the diary holds none.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone

from diarytrial.audit.models import AuditEvent
from diarytrial.audit.selectors import audit_history
from diarytrial.diary.device_time import device_time_compare
from diarytrial.diary.models import DiaryEntry, Unpleasantness
from diarytrial.diary.selectors import diary_entry_answers, diary_entry_get
from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import participant_protocol
from diarytrial.protocol import Protocol, window_bounds
from diarytrial.protocol.schema import Item


def window_closes(entry: DiaryEntry, protocol: Protocol) -> dt.datetime:
    """When the window of `entry`'s diary date closes (UTC), in the zone it was computed in."""
    _, closes = window_bounds(entry.diary_date, zoneinfo.ZoneInfo(entry.timezone), protocol.diary)
    return closes


def _span_words(seconds: int) -> str:
    """A length of time in its two largest units, e.g. ``3 days 2 hours``, ``7 minutes``."""
    rest = abs(seconds)
    parts = []
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts[:2]) or "less than a minute"


def _offset_words(offset: dt.timedelta) -> str:
    minutes = round(offset / dt.timedelta(minutes=1))
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def device_time_notes(entry: DiaryEntry, protocol: Protocol) -> tuple[str, ...]:
    """What the phone's own time says against the server's, when they disagree (else empty):
    its clock ahead or behind, or its time zone not the participant's (``diary.device_time``).
    """
    if not entry.device_time_differs:
        return ()
    zone = zoneinfo.ZoneInfo(entry.timezone)
    opens, _ = window_bounds(entry.diary_date, zone, protocol.diary)
    device = device_time_compare(
        completed_at_device=entry.completed_at_device,
        device_utc_offset=(
            None
            if entry.device_utc_offset is None
            else dt.timedelta(minutes=entry.device_utc_offset)
        ),
        received_at=entry.received_at,
        window_opens=opens,
        zone=zone,
    )
    notes = []
    if device.clock_wrong and device.clock_difference is not None:
        seconds = round(device.clock_difference.total_seconds())
        way = "ahead of" if seconds > 0 else "behind"
        notes.append(f"Phone's clock {_span_words(seconds)} {way} the server's")
    if device.zone_differs and device.utc_offset is not None and device.zone_offset is not None:
        notes.append(
            f"Phone's time zone {_offset_words(device.utc_offset)}, not the participant's "
            f"({entry.timezone}, {_offset_words(device.zone_offset)})"
        )
    return tuple(notes)


@dataclass(frozen=True)
class EntryRow:
    """One night of the participant's diary in the list."""

    entry: DiaryEntry
    closes: dt.datetime
    device_notes: tuple[str, ...] = ()

    @property
    def open(self) -> bool:
        """The window is still open: the participant may still change the entry themselves."""
        return timezone.now() < self.closes


def diary_entry_rows(*, participant: Participant) -> list[EntryRow]:
    """The participant's entries, newest first, with when each window closes. One query."""
    protocol = participant_protocol(participant)
    entries = DiaryEntry.objects.filter(participant=participant).order_by("-diary_date")
    return [
        EntryRow(entry, window_closes(entry, protocol), device_time_notes(entry, protocol))
        for entry in entries
    ]


@dataclass(frozen=True)
class ItemLine:
    """A diary item with the entry's answer (None when unanswered)."""

    item: Item
    value: float | None


@dataclass(frozen=True)
class ReportLine:
    label: str
    unpleasantness: str

    @property
    def unpleasantness_label(self) -> str:
        return Unpleasantness(self.unpleasantness).label


@dataclass(frozen=True)
class EntryPage:
    """One diary entry as the correction page shows it."""

    entry: DiaryEntry
    items: tuple[ItemLine, ...]
    side_effects: tuple[ReportLine, ...]
    closes: dt.datetime
    history: tuple[AuditEvent, ...]
    device_notes: tuple[str, ...] = ()

    @property
    def open(self) -> bool:
        return timezone.now() < self.closes

    @property
    def closes_local(self) -> str:
        """When the window closes in the participant's zone, e.g. 03:00 on Friday 21 November."""
        local = self.closes.astimezone(zoneinfo.ZoneInfo(self.entry.timezone))
        return f"{local:%H:%M} on {local:%A} {local.day} {local:%B}"


def diary_entry_page(*, participant: Participant, diary_date: dt.date) -> EntryPage | None:
    """The participant's entry of `diary_date` for the correction page, or None."""
    entry = diary_entry_get(participant=participant, diary_date=diary_date)
    if entry is None:
        return None
    protocol = participant_protocol(participant)
    values = diary_entry_answers(entry=entry)
    labels = {effect.id: effect.label for effect in protocol.diary.side_effects}
    return EntryPage(
        entry=entry,
        items=tuple(ItemLine(item, values.get(item.id)) for item in protocol.diary.items),
        side_effects=tuple(
            ReportLine(labels.get(report.side_effect, report.side_effect), report.unpleasantness)
            for report in entry.side_effects.all()  # by side effect id
        ),
        closes=window_closes(entry, protocol),
        history=tuple(audit_history(entry).order_by("occurred_at", "id")),
        device_notes=device_time_notes(entry, protocol),
    )
