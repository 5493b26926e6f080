"""The phone's own clock against the server's: what the phone claims about an upload, and
whether that claim can be right.

The server's clock decides an entry's diary date (``diary.services``); the phone's time
(``completed_at_device``, with the UTC offset the phone wrote beside it) is recorded as its
claim and never decides anything. The claim is flagged when it cannot be right:

- **the clock**: the phone says the entry was completed *after* the server received it, or
  *before* the window of its diary date opened (the phone offers the form only while that
  window is open), by more than `DEVICE_CLOCK_TOLERANCE` either way, which allows for clocks
  a little apart and the time an upload travels. An entry filled offline and sent hours later
  is not flagged: its completion lies between the window's opening and its receipt;
- **the time zone**: the offset the phone wrote is not the participant's time zone's offset
  at that moment. The participant may have moved (staff then change their time zone: their
  windows follow the new zone from then on), or the phone is set to another zone.

A flagged entry is kept all the same, under the server's diary date; staff see the flag on the
participant's diary pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

DEVICE_CLOCK_TOLERANCE = dt.timedelta(minutes=5)
"""How far the phone's time may lie outside the span it must fall in before it is flagged."""


@dataclass(frozen=True)
class DeviceTime:
    """What the phone said about one upload, beside the server's clock and the participant's
    time zone. Every field is None when the phone sent no time (or no offset)."""

    completed_at: dt.datetime | None
    """When the phone says the entry was completed (by its own clock)."""
    utc_offset: dt.timedelta | None
    """The offset from UTC the phone wrote with its time: its own time zone then."""
    clock_difference: dt.timedelta | None
    """The phone's time minus the moment the server received the upload (negative: before)."""
    clock_wrong: bool
    """The phone's time is after the server received the upload, or before the diary date's
    window opened, beyond the tolerance: the phone's clock is off."""
    zone_offset: dt.timedelta | None
    """The participant's time zone's offset from UTC at the phone's time."""

    @property
    def zone_differs(self) -> bool:
        """The phone's offset is not the participant's zone's (both known)."""
        return (
            self.utc_offset is not None
            and self.zone_offset is not None
            and self.utc_offset != self.zone_offset
        )

    @property
    def differs(self) -> bool:
        """The phone's clock or its time zone disagrees with the server: the entry is flagged."""
        return self.clock_wrong or self.zone_differs

    def entry_fields(self) -> dict[str, int | bool | None]:
        """The entry's ``device_*`` fields: offset in minutes, difference in seconds, the flag."""
        return {
            "device_utc_offset": _whole(self.utc_offset, dt.timedelta(minutes=1)),
            "device_clock_difference": _whole(self.clock_difference, dt.timedelta(seconds=1)),
            "device_time_differs": self.differs,
        }


def _utc_seconds(moment: dt.datetime) -> dt.timedelta:
    """`moment` as the time since 0001-01-01 00:00 UTC (never overflows, unlike astimezone)."""
    offset = moment.utcoffset() or dt.timedelta(0)
    return moment.replace(tzinfo=None) - dt.datetime.min - offset


def _whole(span: dt.timedelta | None, unit: dt.timedelta) -> int | None:
    return None if span is None else round(span / unit)


def device_time_compare(
    *,
    completed_at_device: dt.datetime | None,
    device_utc_offset: dt.timedelta | None,
    received_at: dt.datetime,
    window_opens: dt.datetime,
    zone: ZoneInfo,
) -> DeviceTime:
    """The phone's claim about an upload received at `received_at` for the diary date whose
    window opened at `window_opens`, in the participant's time zone `zone`.

    >>> import datetime as dt
    >>> from zoneinfo import ZoneInfo
    >>> opens = dt.datetime(2026, 12, 8, 2, 0, tzinfo=dt.UTC)  # 18:00 in Los Angeles
    >>> received = opens + dt.timedelta(hours=3)
    >>> ahead = device_time_compare(
    ...     completed_at_device=received + dt.timedelta(days=3),
    ...     device_utc_offset=dt.timedelta(hours=-8),
    ...     received_at=received,
    ...     window_opens=opens,
    ...     zone=ZoneInfo("America/Los_Angeles"),
    ... )
    >>> ahead.clock_wrong, ahead.zone_differs, ahead.clock_difference.days
    (True, False, 3)
    """
    if completed_at_device is None:
        return DeviceTime(None, device_utc_offset, None, False, None)
    # Differences of instants: two times in one ZoneInfo would subtract as wall-clock times.
    difference = _utc_seconds(completed_at_device) - _utc_seconds(received_at)
    too_late = difference > DEVICE_CLOCK_TOLERANCE
    too_early = _utc_seconds(completed_at_device) < (
        _utc_seconds(window_opens) - DEVICE_CLOCK_TOLERANCE
    )
    try:
        zone_offset = completed_at_device.astimezone(zone).utcoffset()
    except OverflowError:  # a phone's time at the very edge of year 1 or 9999
        zone_offset = None
    return DeviceTime(
        completed_at=completed_at_device,
        utc_offset=device_utc_offset,
        clock_difference=difference,
        clock_wrong=too_late or too_early,
        zone_offset=zone_offset,
    )
