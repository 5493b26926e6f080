"""The staff pages of a participant's diary: the entries, and correcting one after its window
closed (with a reason, through the audited service)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from tests.builders import (
    LEFT_OPEN,
    client_for,
    make_entry,
    make_member,
    make_participant,
    make_site,
)
from tests.builders import make_study as new_study
from tests.diary.helpers import NOW, START, at

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.diary.models import DiaryAnswer, DiaryEntry, EntryStatus
from diarytrial.participants.models import Participant
from diarytrial.studies.models import Role, Site, Study
from diarytrial.studies.services import study_lock

pytestmark = pytest.mark.django_db

D = dt.date(2025, 11, 10)
TODAY = dt.date(2025, 11, 20)  # NOW is noon of 20 November in Los Angeles


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def study() -> Study:
    return new_study()


@pytest.fixture
def site(study: Study) -> Site:
    return make_site(study=study, code="stanford")


@pytest.fixture
def participant(study: Study, site: Site) -> Participant:
    return make_participant(study=study, site=site, start_date=START)


@pytest.fixture
def coordinator(study: Study, site: Site) -> Client:
    return client_for(make_member(study=study, role=Role.COORDINATOR, sites=[site]).user)


def url(participant: Participant, day: dt.date | None = None) -> str:
    base = f"/studies/{participant.study.slug}/participants/{participant.code}/diary/"
    return base if day is None else f"{base}{day.isoformat()}/"


def errors_of(html: str) -> list[str]:
    lists = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)
    return re.findall(r"<li>([^<]*)</li>", "".join(lists))


def values(**changes: str) -> dict[str, str]:
    data = {
        "item_pain": "50",
        "item_fatigue": "50",
        "item_sleep_quality": "50",
        "item_mood": "50",
        "reason": "",
    }
    data.update(changes)
    return data


def test_the_entries_are_listed_newest_first_with_late_and_status(
    participant: Participant, coordinator: Client
) -> None:
    make_entry(participant=participant, diary_date=D - dt.timedelta(days=1))
    # Filled in the window of the 10th, received the next morning: late.
    make_entry(
        participant=participant, diary_date=D, received_at=at(D + dt.timedelta(days=1), 3, 1)
    )
    make_entry(participant=participant, diary_date=TODAY, received_at=at(TODAY, 19))

    text = coordinator.get(url(participant)).text

    rows = re.findall(r"<tr>\s*<td>\w{3} (\d{4}-\d\d-\d\d)</td>(.*?)</tr>", text, re.S)
    assert [day for day, _ in rows] == ["2025-11-20", "2025-11-10", "2025-11-09"]
    assert "window open" in rows[0][1]
    assert '<strong class="tag">late</strong>' in rows[1][1]
    assert f'href="{url(participant, D)}"' in rows[1][1]
    assert "Submitted" in rows[2][1]
    detail = coordinator.get(f"/studies/{participant.study.slug}/participants/{participant.code}/")
    assert f'href="{url(participant)}"' in detail.text


def test_the_form_shows_each_item_on_its_scale_and_needs_a_reason(
    participant: Participant, coordinator: Client
) -> None:
    make_entry(participant=participant, diary_date=D, answers={"pain": 80})

    form = coordinator.get(url(participant, D)).text
    refused = coordinator.post(url(participant, D), values(item_pain="20"))

    assert re.search(r'name="item_pain"[^>]*value="80"', form)
    assert "0 (No pain) to 100 (Worst pain imaginable)" in form or "0 = " in form
    assert "Recorded now: 80." in form
    assert "Say why the diary is corrected." in errors_of(refused.text)
    assert DiaryAnswer.objects.get(entry__diary_date=D, item="pain").value == 80


def test_values_off_the_scale_are_refused_in_plain_words(
    participant: Participant, coordinator: Client
) -> None:
    make_entry(participant=participant, diary_date=D)

    response = coordinator.post(
        url(participant, D), values(item_pain="120", item_mood="lots", reason="phone call")
    )

    errors = errors_of(response.text)
    assert "Pain is at most 100 on its scale (0 to 100)." in errors
    assert any(e.startswith("Mood: write a number from") for e in errors)
    assert DiaryEntry.objects.get().status == EntryStatus.SUBMITTED


def test_a_correction_is_saved_audited_and_shown_in_the_history(
    participant: Participant, coordinator: Client
) -> None:
    make_entry(participant=participant, diary_date=D, answers={"pain": 80})

    unchanged = coordinator.post(url(participant, D), values(item_pain="80", reason="checked"))
    done = coordinator.post(
        url(participant, D), values(item_pain="20", reason="Confirmed by phone: 20, not 80")
    )

    assert "nothing to change" in unchanged.text
    assert done.status_code == 302
    assert done["Location"] == url(participant, D)
    entry = DiaryEntry.objects.get()
    assert entry.status == EntryStatus.CORRECTED
    assert DiaryAnswer.objects.get(entry=entry, item="pain").value == 20
    update = AuditEvent.objects.get(object_type="diary.diaryentry", action=AuditAction.UPDATE)
    assert update.reason == "Confirmed by phone: 20, not 80"
    page = coordinator.get(url(participant, D)).text
    assert "is corrected." in page
    assert "Corrected by staff" in page
    assert "item pain from 80 to 20" in page  # in words (audit.wording)
    assert "Confirmed by phone: 20, not 80" in page
    assert "Diary created" in page


def test_a_night_whose_window_is_open_is_left_to_the_participant(
    participant: Participant, coordinator: Client
) -> None:
    make_entry(participant=participant, diary_date=TODAY, received_at=at(TODAY, 19))

    page = coordinator.get(url(participant, TODAY)).text
    refused = coordinator.post(url(participant, TODAY), values(item_pain="1", reason="x"))

    assert "still open until 03:00" in page
    assert "Save the correction" not in page
    assert refused.status_code == 200
    assert DiaryEntry.objects.get().status == EntryStatus.SUBMITTED


def test_a_locked_study_shows_the_entry_without_the_form(
    study: Study, participant: Participant, coordinator: Client
) -> None:
    make_entry(participant=participant, diary_date=D)
    study_lock(
        study=study,
        reason="analysis",
        actor=make_member(study=study, role=Role.ADMINISTRATOR).user,
        override_reason=LEFT_OPEN,
    )

    page = coordinator.get(url(participant, D)).text
    refused = coordinator.post(url(participant, D), values(item_pain="1", reason="late query"))

    assert "locked for analysis" in page
    assert "Save the correction" not in page
    assert "was locked for analysis" in refused.text
    assert DiaryEntry.objects.get().status == EntryStatus.SUBMITTED


def test_who_may_open_the_diary_pages(study: Study, participant: Participant) -> None:
    make_entry(participant=participant, diary_date=D)
    boston = make_site(study=study, code="boston")
    elsewhere = client_for(
        make_member(study=study, role=Role.COORDINATOR, sites=[boston], username="bo").user
    )
    investigator = client_for(make_member(study=study, role=Role.INVESTIGATOR).user)
    pharmacist = client_for(make_member(study=study, role=Role.PHARMACIST).user)
    statistician = client_for(make_member(study=study, role=Role.STATISTICIAN).user)

    assert investigator.get(url(participant)).status_code == 200
    assert investigator.get(url(participant, D)).status_code == 200
    assert elsewhere.get(url(participant)).status_code == 404
    assert elsewhere.post(url(participant, D), values(reason="x")).status_code == 404
    assert pharmacist.get(url(participant)).status_code == 403
    assert statistician.get(url(participant, D)).status_code == 403


def test_a_night_without_an_entry_is_not_found(
    participant: Participant, coordinator: Client
) -> None:
    missing = coordinator.get(url(participant, D))
    nonsense = coordinator.get(url(participant) + "yesterday/")

    assert missing.status_code == 404
    assert "stays missing" in missing.text
    assert nonsense.status_code == 404


def test_list_queries_do_not_grow_with_entries(
    participant: Participant, coordinator: Client
) -> None:
    make_entry(participant=participant, diary_date=D)
    with CaptureQueriesContext(connection) as one:
        coordinator.get(url(participant))

    for offset in range(1, 8):
        make_entry(participant=participant, diary_date=D - dt.timedelta(days=offset))
    with CaptureQueriesContext(connection) as many:
        coordinator.get(url(participant))

    assert len(many) == len(one)
