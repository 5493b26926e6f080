"""One time convention: every page shows a stored moment in the zone it states.

A participant of the Stanford site (America/Los_Angeles) is screened, consents, is randomized,
gets a phone, keeps the diary, has an adverse event and a data query, all at 03:30 UTC on
7 December 2026: 19:30 on 6 December in California. Every staff page that shows any of it
says 6 December, never 7, and states its zone; the phone shows the participant's own zone.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
import time_machine
from django.template import Context, Template
from django.test import Client
from tests.builders import (
    client_for,
    device_client,
    make_adverse_event,
    make_allocation,
    make_device,
    make_entry,
    make_member,
    make_participant,
    make_site,
    make_study,
)

from diarytrial.monitoring.digest.services import digest_schedule_set
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.queries.models import DataQuery, QueryKind
from diarytrial.queries.services import query_raise
from diarytrial.studies.models import Role, Study

pytestmark = pytest.mark.django_db

LA = "America/Los_Angeles"
MOMENT = dt.datetime(2026, 12, 7, 3, 30, tzinfo=dt.UTC)
"""Everything happens now: 19:30 on Sunday 6 December in California."""
LOOKED_AT = MOMENT + dt.timedelta(minutes=40)
"""When the pages are read: still the evening of the 6th in California."""
LOCAL_DAY = "2026-12-06"
UTC_DAY = "2026-12-07"
LOCAL_MOMENT = "2026-12-06 19:30 UTC\u221208:00"
STATED_ZONE = "Times in America/Los_Angeles (UTC\u221208:00)"


def _text(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _visible(html: str) -> str:
    """What a person reads: the text, without the tags and their attributes."""
    return re.sub(r"<[^>]+>", " ", html)


WINDOW_CLOSES = "03:00 on Monday 7 December"
"""The one 7 December a page may show: the night's window closes the next morning, local time."""


def _never_the_utc_day(text: str, where: str) -> None:
    """No 7 December anywhere: not as a date, nor as words, nor in a time element."""
    text = text.replace(WINDOW_CLOSES, "")
    assert UTC_DAY not in text, where
    assert not re.search(r"\b7 Dec", text), where


@pytest.fixture
def trial(controlled_clock: time_machine.Traveller) -> tuple[Study, Participant, Client]:
    """The study, its participant and an investigator, all made at `MOMENT`."""
    controlled_clock.move_to(MOMENT)
    study = make_study()
    stanford = make_site(study=study, code="stanford", timezone=LA)
    investigator = make_member(study=study, role=Role.INVESTIGATOR, sites=[stanford])
    make_allocation(study=study)
    participant = make_participant(
        study=study, site=stanford, status=ParticipantStatus.RANDOMIZED, tz=LA
    )
    make_device(participant)
    entry = make_entry(participant=participant, diary_date=dt.date(2026, 12, 6), received_at=MOMENT)
    make_adverse_event(participant=participant, onset_date=dt.date(2026, 12, 6))
    query_raise(
        participant=participant,
        kind=QueryKind.DIARY_ENTRY,
        diary_entry=entry,
        text="Is the pain score right?",
        actor=investigator.user,
    )
    controlled_clock.move_to(LOOKED_AT)
    return study, participant, client_for(investigator.user)


def test_every_staff_page_shows_the_event_on_the_sites_day(
    trial: tuple[Study, Participant, Client],
) -> None:
    study, participant, client = trial
    base = f"/studies/{study.slug}"
    mine = f"{base}/participants/{participant.code}"
    query = DataQuery.objects.get(participant=participant)
    pages = {
        "study home": f"{base}/",
        "participant list": f"{base}/participants/",
        "participant page": f"{mine}/",
        "diary entries": f"{mine}/diary/",
        "diary night": f"{mine}/diary/{LOCAL_DAY}/",
        "phone": f"{mine}/phone/",
        "adverse events": f"{base}/adverse-events/",
        "data queries": f"{base}/queries/",
        "data query": f"{base}/queries/{query.pk}/",
        "dashboard": f"{base}/dashboard/",
        "database": f"{base}/database/",
    }
    texts = {name: _text(client, url) for name, url in pages.items()}
    for name, text in texts.items():
        _never_the_utc_day(text, name)
        assert text.count(STATED_ZONE) == 1, name

    detail = texts["participant page"]
    assert re.search(rf"<dt>Screened</dt><dd><time [^>]*>{LOCAL_DAY}</time>", detail)
    assert f"signed {LOCAL_DAY}" in detail  # consent: the date the coordinator entered
    assert '<dt>Randomized</dt><dd><time datetime="2026-12-06T19:30:00-08:00">' in detail
    # The history: when each change happened, and the moments it recorded (enrolled_at ...).
    history = detail.split('id="history"', 1)[1]
    assert history.count(LOCAL_MOMENT) >= 6
    assert "T03:30" not in history

    assert f"Received  {LOCAL_MOMENT}" in _visible(texts["diary night"])
    assert LOCAL_MOMENT in texts["diary entries"]
    assert LOCAL_MOMENT in texts["phone"]  # the phone was set up then
    raised = f'<time datetime="2026-12-06T19:30:00-08:00">{LOCAL_DAY}</time> by investigator'
    assert raised in texts["data queries"]
    assert LOCAL_MOMENT in texts["data query"]
    assert LOCAL_MOMENT in texts["study home"]  # the site, the roles: the study's history
    assert "<td>America/Los_Angeles</td>" in texts["study home"]  # the site's zone
    assert 'as of <time datetime="2026-12-06T20:10:00-08:00">' in texts["dashboard"]
    assert LOCAL_DAY in texts["participant list"]  # the start date (a date, consent's day)
    assert LOCAL_DAY in texts["adverse events"]  # the onset (a date)


def test_downloads_carry_dates_and_are_named_on_the_sites_day(
    trial: tuple[Study, Participant, Client],
) -> None:
    study, _, client = trial
    for what in ("participants/participants.csv", "adverse-events/adverse-events.csv"):
        response = client.get(f"/studies/{study.slug}/{what}")
        assert response.status_code == 200
        assert f"-{LOCAL_DAY}.csv" in response["Content-Disposition"]
        body = response.content.decode("utf-8-sig")
        assert LOCAL_DAY in body
        _never_the_utc_day(body, what)


def test_a_page_over_sites_in_two_zones_shows_utc_and_says_so(
    controlled_clock: time_machine.Traveller,
) -> None:
    controlled_clock.move_to(MOMENT)
    study = make_study()
    stanford = make_site(study=study, code="stanford", timezone=LA)
    make_site(study=study, code="boston", timezone="America/New_York")
    statistician = make_member(study=study, role=Role.STATISTICIAN)
    participant = make_participant(study=study, site=stanford, tz=LA)
    client = client_for(statistician.user)

    home = _text(client, f"/studies/{study.slug}/")
    page = _text(client, f"/studies/{study.slug}/participants/{participant.code}/")

    assert "Times in UTC (UTC+00:00)" in home
    assert "2026-12-07 03:30 UTC+00:00" in home
    # A participant's page is about one site: that site's zone.
    assert STATED_ZONE in page
    assert LOCAL_MOMENT in page


def test_the_offset_stated_follows_daylight_saving_time(
    controlled_clock: time_machine.Traveller,
) -> None:
    controlled_clock.move_to(dt.datetime(2027, 7, 1, 16, tzinfo=dt.UTC))
    study = make_study()
    stanford = make_site(study=study, code="stanford", timezone=LA)
    coordinator = make_member(study=study, role=Role.COORDINATOR, sites=[stanford])

    text = _text(client_for(coordinator.user), f"/studies/{study.slug}/")

    assert "Times in America/Los_Angeles (UTC\u221207:00)" in text
    assert "2027-07-01 09:00 UTC\u221207:00" in text  # the study's creation, in summer time


def test_the_phone_shows_the_participants_own_zone(
    controlled_clock: time_machine.Traveller,
) -> None:
    """The site is in New York; the participant lives in California: the phone shows their
    evening of 6 December, the staff pages the site's zone."""
    controlled_clock.move_to(MOMENT)
    study = make_study()
    site = make_site(study=study, code="boston", timezone="America/New_York")
    participant = make_participant(study=study, site=site, tz=LA)
    phone = device_client(participant)

    home = _text(phone, "/d/")
    make_entry(participant=participant, received_at=MOMENT)
    history = _text(phone, "/d/history/")
    settings = _text(phone, "/d/settings/")

    for text in (home, history, settings):
        assert "Times are in your time zone, America/Los_Angeles (UTC\u221208:00)." in text
    assert "Sunday 6 December 2026" in home  # tonight's diary is the local evening's
    # The window closes at 03:00 local time the next morning (11:00 UTC).
    assert "03:00 on Monday 7 December 2026" in home
    assert "11:00" not in _visible(home)  # the page's script reads the UTC instant
    assert "Sunday 6 December 2026" in history
    assert "7 December" not in history
    assert "America/Los Angeles time" in settings

    staff = make_member(study=study, role=Role.COORDINATOR)
    page = _text(client_for(staff.user), f"/studies/{study.slug}/participants/{participant.code}/")
    assert "Times in America/New_York (UTC\u221205:00)" in page
    assert "2026-12-06 22:30 UTC\u221205:00" in page


def test_a_zone_the_page_lacks_is_utc_with_its_offset() -> None:
    """A template given an empty zone still says which zone it shows: UTC, with its offset."""
    html = Template("{% load moments %}{{ m|moment:empty }}").render(
        Context({"m": MOMENT, "empty": ""})
    )
    assert "2026-12-07 03:30 UTC+00:00" in html


def test_audit_values_that_are_moments_are_shown_in_the_zone() -> None:
    template = Template("{% load moments %}{{ a|moment_or_value:z }}|{{ b|moment_or_value:z }}")
    html = template.render(
        Context({"a": "2026-12-07T03:30:00+00:00", "b": "2026-12-07", "z": zoneinfo.ZoneInfo(LA)})
    )
    assert html == (f'<time datetime="2026-12-06T19:30:00-08:00">{LOCAL_MOMENT}</time>|2026-12-07')


def test_the_digest_goes_out_in_the_sites_zone_unless_told_otherwise() -> None:
    study = make_study()
    stanford = make_site(study=study, code="stanford", timezone=LA)
    boston = make_site(study=study, code="boston", timezone="America/New_York")
    admin = make_member(study=study, role=Role.ADMINISTRATOR).user
    client = client_for(admin)

    form = _text(client, f"/studies/{study.slug}/digest/")
    schedule = digest_schedule_set(site=stanford, send_at=dt.time(7, 30), actor=admin)
    other = digest_schedule_set(
        site=boston, send_at=dt.time(7, 30), actor=admin, timezone_name="Europe/Berlin"
    )
    page = _visible(_text(client, f"/studies/{study.slug}/digest/"))

    assert 'name="site-stanford-timezone" value="America/Los_Angeles"' in form  # starts so
    assert 'name="site-boston-timezone" value="America/New_York"' in form
    assert (schedule.timezone, other.timezone) == (LA, "Europe/Berlin")
    assert "07:30 America/Los_Angeles " in page
    assert "(the site's pages show America/New_York)" in page
    assert "(the site's pages show America/Los_Angeles)" not in page
