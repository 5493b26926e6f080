"""Blinding over the whole timeline: two participants on different sequences, who started on
the same day, look the same to every blinded role and to themselves on every day of the trial.

The trial is run day by day on a controlled clock: both fill the same diary every night, get
their kit at each visit, answer the end-of-visit questions, have the same dose reduction, and
complete together. On the first day, the day after each visit, the middle of each stretch
between visits and after completion, everything a blinded role or a participant can reach is
fetched for both: every staff page of the participant for each blinded role, the participant
list's row, the phone's pages and API answers, the reminder e-mail, the calendar feed and the
blinded export's rows. With codes, ids, tokens and clock times replaced, the two must be
byte-identical. This is the check a same-moment comparison missed: the calendar itself.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd
import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse
from tests.builders import (
    client_for,
    device_client,
    make_allocation,
    make_entry,
    make_kits,
    make_member,
    make_participant,
)

from diarytrial.diary.selectors import diary_questions_due
from diarytrial.diary.services import blinding_guess_record, pgic_answer_record
from diarytrial.exports.services import dataset_export
from diarytrial.monitoring.digest.selectors import digest_content
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.selectors import participant_protocol
from diarytrial.participants.services import participant_complete
from diarytrial.protocol import load_example, window_bounds
from diarytrial.protocol.visits import VisitCalendar, visit_calendar
from diarytrial.randomization.models import AllocationSlot
from diarytrial.randomization.selectors import kit_to_dispense
from diarytrial.randomization.services import kit_dispense
from diarytrial.reminders.feed import calendar_ics
from diarytrial.reminders.sending import email_send
from diarytrial.safety.services import dose_level_change
from diarytrial.studies.models import Role, Site, Study
from diarytrial.studies.services import site_create, study_create_from_protocol

pytestmark = pytest.mark.django_db

BLINDED = (Role.COORDINATOR, Role.INVESTIGATOR, Role.STATISTICIAN, Role.ADMINISTRATOR)
ZONE = "America/Chicago"
START = dt.date(2026, 12, 7)
"""The first baseline day of both participants: the day of the test's clock."""


@dataclass
class Timeline:
    study: Study
    site: Site
    calendar: VisitCalendar
    first: Participant
    second: Participant
    staff: dict[Role, User]
    phones: dict[int, Client] = field(default_factory=dict)
    feeds: dict[int, str] = field(default_factory=dict)
    filled_until: dt.date = START - dt.timedelta(days=1)
    dispensed: int = 0
    pharmacist: User | None = None

    @property
    def pair(self) -> tuple[Participant, Participant]:
        return self.first, self.second


def _protocol_text(example: str) -> str:
    text = load_example(example).text
    title = load_example(example).protocol.study.title
    return text.replace(f'title = "{title}"', 'title = "Blinding over the whole timeline"', 1)


def _sequence(participant: Participant) -> str:
    return AllocationSlot.objects.get(used_by=participant).sequence_code


def _evening(day: dt.date, hour: int = 20) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zoneinfo.ZoneInfo(ZONE))


def _make_timeline(example: str) -> Timeline:
    study = study_create_from_protocol(
        text=_protocol_text(example), source="trial.toml", created_by=None
    )
    site = site_create(study=study, code="north", name="North Clinic", actor=None)
    strata = load_example(example).protocol.randomization.strata
    make_allocation(study=study, size=40, stratum="opioid_use=false" if strata else "all")
    make_kits(study=study, per_arm_and_level=8)
    by_sequence: dict[str, Participant] = {}
    while len(by_sequence) < 2:
        participant = make_participant(
            study=study, site=site, status=ParticipantStatus.RANDOMIZED, start_date=START, tz=ZONE
        )
        by_sequence.setdefault(_sequence(participant), participant)
    first, second = (by_sequence[code] for code in sorted(by_sequence))
    staff = {
        role: make_member(
            study=study,
            role=role,
            sites=[site] if role == Role.COORDINATOR else None,
            username=f"{role.value}-timeline",
        ).user
        for role in BLINDED
    }
    timeline = Timeline(
        study=study,
        site=site,
        calendar=visit_calendar(participant_protocol(first)),
        first=first,
        second=second,
        staff=staff,
        pharmacist=make_member(study=study, role=Role.PHARMACIST, username="pharmacy").user,
    )
    for participant in timeline.pair:
        timeline.phones[participant.pk] = device_client(participant)
    return timeline


def _checkpoints(calendar: VisitCalendar) -> list[tuple[str, dt.date]]:
    """Day 1, the day after each visit, the middle of each stretch, and after completion."""
    days = [("day 1", calendar.date_of(1 - calendar.baseline_days, START))]
    for visit in calendar.visits:
        days.append(
            (f"after visit {visit.number}", calendar.date_of(visit.treatment_day + 1, START))
        )
    for stretch in calendar.stretches:
        middle = (stretch.first_day + stretch.last_day) // 2
        days.append((f"middle of stretch {stretch.number}", calendar.date_of(middle, START)))
    days.append(("after completion", calendar.date_of(calendar.treatment_days + 10, START)))
    return sorted(days, key=lambda pair: pair[1])


def _live_until(timeline: Timeline, day: dt.date, clock: time_machine.Traveller) -> None:
    """Both participants live the same trial up to the evening of `day`."""
    calendar = timeline.calendar
    last_diary_day = calendar.date_of(calendar.treatment_days, START)
    pain = participant_protocol(timeline.first).diary.item("pain")
    night = timeline.filled_until + dt.timedelta(days=1)
    while night < day and night <= last_diary_day:
        clock.move_to(_evening(night))
        _visit_day(timeline, night)
        treatment_day = calendar.treatment_day_of(night, START)
        for participant in timeline.pair:
            participant.refresh_from_db()
            make_entry(
                participant=participant,
                diary_date=night,
                answers={"pain": pain.lowest + treatment_day % 3},
                side_effects={"headache": "very"} if treatment_day == 5 else {},
            )
            if treatment_day == 6:
                dose_level_change(
                    participant=participant, level="reduced", reason="very unpleasant", actor=None
                )
        timeline.filled_until = night
        night += dt.timedelta(days=1)
    if day > last_diary_day:
        clock.move_to(_evening(day))
        for participant in timeline.pair:
            participant.refresh_from_db()
            if participant.status != ParticipantStatus.COMPLETED:
                participant_complete(participant=participant, on=last_diary_day, actor=None)
    clock.move_to(_evening(day))


def _visit_day(timeline: Timeline, night: dt.date) -> None:
    """On a visit's day the pharmacy dispenses its kit; due questions are answered alike."""
    for participant in timeline.pair:
        participant.refresh_from_db()
        for question in diary_questions_due(participant=participant):
            record = pgic_answer_record if question.kind == "pgic" else blinding_guess_record
            value: int | str = 3 if question.kind == "pgic" else "dont_know"
            record(participant=participant, **_answer_arguments(question, value, night))
    calendar = timeline.calendar
    treatment_day = calendar.treatment_day_of(night, START)
    for visit in calendar.visits:
        if visit.treatment_day == treatment_day and visit.stretch is not None:
            for participant in timeline.pair:
                kit = kit_to_dispense(participant=participant, visit=visit.number)
                kit_dispense(
                    participant=participant, visit=visit.number, kit=kit, actor=timeline.pharmacist
                )


def _answer_arguments(question: object, value: int | str, night: dt.date) -> dict[str, object]:
    number = question.visit
    key = "score" if isinstance(value, int) else "guess"
    return {"visit": number, key: value, "answered_on": night, "actor": None}


# --- what each one sees -----------------------------------------------------------------------

_CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=|name="csrf-token" content=)"[^"]+"')
_CLOCK = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_KIT = re.compile(r"K-[0-9A-Z]{4,}")
_NUMBERED = re.compile(r"/(adverse-events|candidates|phone)/\d+/")
_FEED = re.compile(r"/d/calendar/[^/\"]+\.ics")
_UID = re.compile(r"UID:[^\r\n]+")
_STAMP = re.compile(r"DTSTAMP:[^\r\n]+")


def _normalized(text: str, participant: Participant) -> str:
    text = text.replace(participant.code, "P-CODE")
    text = _CSRF.sub(r'\1""', text)
    text = _UUID.sub("UUID", text)
    text = _KIT.sub("K-CODE", text)
    text = _NUMBERED.sub(r"/\1/N/", text)
    text = _FEED.sub("/d/calendar/TOKEN.ics", text)
    text = _UID.sub("UID:X", text)
    text = _STAMP.sub("DTSTAMP:X", text)
    return _CLOCK.sub("hh:mm", text)


def _staff_pages(timeline: Timeline, participant: Participant) -> Iterator[str]:
    study = timeline.study.slug
    base = f"/studies/{study}/participants/{participant.code}"
    yield f"{base}/"
    yield f"{base}/diary/"
    yield f"{base}/withdraw/"
    yield f"{base}/complete/"
    yield f"{base}/dose/"
    yield f"{base}/adverse-events/new/"
    yield f"{base}/phone/"


PHONE = ("/d/", "/d/history/", "/d/settings/")
API = ("/api/diary/form", "/api/diary/entries", "/api/diary/progress")


def _list_row(text: str, participant: Participant) -> str:
    found = re.search(rf"<tr>\s*<td><a [^>]*><code>{participant.code}</code>.*?</tr>", text, re.S)
    assert found is not None, participant.code
    return found.group(0)


def _export_rows(timeline: Timeline, participant: Participant) -> str:
    statistician = timeline.staff[Role.STATISTICIAN]
    dataset = dataset_export(study=timeline.study, actor=statistician, blinded=True)
    parts = []
    for name in ("participants", "periods", "diary", "side_effects", "doses", "pgic"):
        frame: pd.DataFrame = getattr(dataset, name)
        if name == "blinding" or frame.empty:
            continue
        rows = frame[frame["participant_id"] == participant.code].drop(
            columns=[c for c in ("participant_id", "sequence", "submitted_at") if c in frame]
        )
        parts.append(f"{name}\n{rows.to_csv(index=False)}")
    return "\n".join(parts)


def _csv_row(text: str, participant: Participant) -> str:
    rows = [line for line in text.splitlines() if participant.code in line]
    return "\n".join(rows)


def _monitoring_views(
    timeline: Timeline, participant: Participant, role: Role, client: Client
) -> dict[str, str]:
    """The participant's rows on the listings' downloads, and on the study dashboard (its page
    and its JSON) for the roles that open it."""
    study = timeline.study.slug
    views = {}
    listing = client.get(f"/studies/{study}/participants/participants.csv")
    views[f"{role.value} participants.csv"] = _csv_row(listing.content.decode(), participant)
    if role in (Role.COORDINATOR, Role.INVESTIGATOR):
        side_effects = client.get(reverse("side_effects:csv", kwargs={"study": study}))
        views[f"{role.value} side effects csv"] = _csv_row(
            side_effects.content.decode(), participant
        )
        page = client.get(f"/studies/{study}/dashboard/?sort=code")
        assert page.status_code == 200
        row = re.search(
            rf"<tr>\s*<th scope=\"row\"><a [^>]*><code>{participant.code}</code>.*?</tr>",
            page.text,
            re.S,
        )
        assert row is not None
        views[f"{role.value} dashboard row"] = row.group(0)
        document = client.get(f"/api/studies/{study}/dashboard").json()
        views[f"{role.value} dashboard json"] = json.dumps(
            [r for r in document["grid"]["rows"] if r["participant"] == participant.code]
            + [r for r in document["missed_in_a_row"] if r["participant"] == participant.code],
            sort_keys=True,
        )
    return views


def _views(timeline: Timeline, participant: Participant) -> dict[str, str]:
    """Everything about `participant` that a blinded role or the participant can reach."""
    views: dict[str, str] = {}
    for role, user in timeline.staff.items():
        client = client_for(user)  # signed in again: a staff session lasts hours, not months
        for url in _staff_pages(timeline, participant):
            response = client.get(url)
            name = url.replace(participant.code, "P-CODE")
            views[f"{role.value} {name}"] = f"{response.status_code}\n{response.text}"
        listing = client.get(f"/studies/{timeline.study.slug}/participants/")
        assert listing.status_code == 200, (role, listing.status_code, listing.get("Location"))
        views[f"{role.value} list row"] = _list_row(listing.text, participant)
        views.update(_monitoring_views(timeline, participant, role, client))
    content = digest_content(site=timeline.site)
    views["digest"] = "\n".join(
        f"{line.in_a_row} {line.last_entry}"
        for line in content.missed
        if line.code == participant.code
    )
    phone = timeline.phones[participant.pk]
    for url in (*PHONE, *API):
        response = phone.get(url)
        views[f"phone {url}"] = f"{response.status_code}\n{response.text}"
    views["calendar feed"] = calendar_ics(participant).decode()
    mail.outbox.clear()
    _, closes = window_bounds(
        timeline.filled_until + dt.timedelta(days=1),
        zoneinfo.ZoneInfo(ZONE),
        participant_protocol(participant).diary,
    )
    email_send(participant=participant, address="participant@example.org", closes=closes)
    views["reminder e-mail"] = "\n".join(f"{m.subject}\n{m.body}" for m in mail.outbox)
    views["blinded export"] = _export_rows(timeline, participant)
    return {name: _normalized(text, participant) for name, text in views.items()}


@pytest.mark.parametrize("example", ["ldn-fibromyalgia", "nof1-ldn"])
def test_two_sequences_look_the_same_on_every_day_of_the_trial(
    example: str, controlled_clock: time_machine.Traveller
) -> None:
    controlled_clock.move_to(_evening(START, 9))
    timeline = _make_timeline(example)
    assert _sequence(timeline.first) != _sequence(timeline.second)

    compared = 0
    for label, day in _checkpoints(timeline.calendar):
        _live_until(timeline, day, controlled_clock)
        one, other = _views(timeline, timeline.first), _views(timeline, timeline.second)
        assert one.keys() == other.keys()
        for name in one:
            assert one[name] == other[name], f"{example}, {label} ({day}): {name} differs"
        compared += len(one)
    assert compared > 300
