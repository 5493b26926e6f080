"""One way to show a moment: in the page's zone, with its UTC offset."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.template import Context, Template

from diarytrial.core.moments import (
    day_text,
    moment_text,
    stored_moment,
    utc_offset_text,
    zone_text,
)
from diarytrial.studies.models import Site
from diarytrial.studies.zones import staff_zone

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
# 03:30 UTC on 7 December is the evening of 6 December in California.
SCREENED = dt.datetime(2026, 12, 7, 3, 30, tzinfo=dt.UTC)


def test_a_moment_is_shown_in_the_zone_with_its_offset() -> None:
    assert moment_text(SCREENED, LA) == "2026-12-06 19:30 UTC\u221208:00"
    assert moment_text(SCREENED, None) == "2026-12-07 03:30 UTC+00:00"
    assert moment_text(SCREENED, "Asia/Kolkata") == "2026-12-07 09:00 UTC+05:30"
    assert day_text(SCREENED, LA) == "2026-12-06"


def test_the_offset_follows_daylight_saving_time() -> None:
    summer = dt.datetime(2026, 7, 1, 12, tzinfo=dt.UTC)
    assert utc_offset_text(summer.astimezone(LA)) == "UTC\u221207:00"
    assert zone_text(LA, SCREENED) == "America/Los_Angeles (UTC\u221208:00)"


def test_a_naive_moment_is_read_as_utc() -> None:
    assert moment_text(SCREENED.replace(tzinfo=None), LA) == "2026-12-06 19:30 UTC\u221208:00"


def test_the_filters_write_a_time_element() -> None:
    html = Template("{% load moments %}{{ m|moment:z }} {{ m|day:z }} {{ none|day:z }}").render(
        Context({"m": SCREENED, "z": LA, "none": None})
    )
    assert html == (
        '<time datetime="2026-12-06T19:30:00-08:00">2026-12-06 19:30 UTC\u221208:00</time> '
        '<time datetime="2026-12-06T19:30:00-08:00">2026-12-06</time> '
    )


def test_a_staff_page_takes_the_sites_zone_when_they_share_one() -> None:
    stanford = Site(code="stanford", timezone="America/Los_Angeles")
    boston = Site(code="boston", timezone="America/New_York")
    davis = Site(code="davis", timezone="America/Los_Angeles")
    assert staff_zone(site=boston) == zoneinfo.ZoneInfo("America/New_York")
    assert staff_zone(sites=[stanford, davis]) == LA
    assert staff_zone(sites=[stanford, boston]) == zoneinfo.ZoneInfo("UTC")
    assert staff_zone() == zoneinfo.ZoneInfo("UTC")


def test_a_moment_stored_as_text_is_found_and_nothing_else() -> None:
    assert stored_moment("2026-12-07T03:30:00+00:00") == SCREENED
    for other in ("2026-12-07", "2026-12-07T03:30:00", "T", "enrolled", 42, None, "x" * 50):
        assert stored_moment(other) is None
    assert moment_text(SCREENED, "") == "2026-12-07 03:30 UTC+00:00"  # no zone: UTC, said so
