"""One definition of diary compliance: the analysis of the exported dataset, the staff list of
participants and the phone's progress count the same nights for the same diaries."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from tests.builders import make_allocation, make_entry, make_member, make_participant, make_study

from diarytrial.analysis.compliance import diary_compliance
from diarytrial.diary.selectors import diary_progress
from diarytrial.diary.services import diary_entry_submit
from diarytrial.exports.services import dataset_export
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.services import participant_withdraw
from diarytrial.protocol import load_example, window_bounds
from diarytrial.staff.participants.overview import participant_list_rows
from diarytrial.studies.models import Role, Site

pytestmark = pytest.mark.django_db

LA = ZoneInfo("America/Los_Angeles")
LDN = load_example("ldn-fibromyalgia").protocol
TODAY = dt.date(2025, 11, 20)
NOON = dt.datetime(2025, 11, 20, 20, 0, tzinfo=dt.UTC)  # 12:00 in Los Angeles, between windows
EVENING = dt.datetime(2025, 11, 21, 4, 0, tzinfo=dt.UTC)  # 20:00: tonight's window is open


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def _late_entry(participant: Participant, day: dt.date) -> None:
    """An entry filled in `day`'s window and sent an hour after it closed (within the grace)."""
    opens, closes = window_bounds(day, LA, LDN.diary)
    diary_entry_submit(
        participant=participant,
        client_id=uuid.uuid4(),
        answers={item.id: (item.lowest + item.highest) / 2 for item in LDN.diary.items},
        side_effects={},
        capsule_taken=True,
        completed_at_device=opens + dt.timedelta(hours=1),
        received_at=closes + dt.timedelta(hours=1),
    )


def _three_counts(
    participant: Participant, as_of: dt.date, statistician: User
) -> dict[str, tuple[float, ...]]:
    """(expected, filled, late, missed) of `participant` by the analysis and the staff list,
    (expected, percent filled) by all three."""
    study = participant.study
    table = diary_compliance(
        dataset_export(study=study, actor=statistician, blinded=True), as_of=as_of
    )
    mine = table[table["participant_id"] == participant.code]
    expected = int(mine["expected_days"].sum())
    filled = int(mine["completed_days"].sum())
    analysis = (expected, filled, int(mine["late_days"].sum()), expected - filled)
    row = next(
        r
        for r in participant_list_rows(study=study, sites=Site.objects.filter(study=study))
        if r.row.participant_id == participant.pk
    )
    staff = (row.diary.expected, row.diary.entries, row.diary.late, row.diary.missed)
    phone = diary_progress(participant=participant)
    return {
        "analysis": analysis,
        "staff": staff,
        "percent": (
            round(100 * filled / expected, 1),
            round(100 * row.diary.entries / row.diary.expected, 1),
            phone.completion_pct,
        ),
        "expected": (expected, row.diary.expected, phone.days_so_far),
    }


def test_the_analysis_the_staff_list_and_the_phone_count_the_same_nights(
    clock: time_machine.Traveller,
) -> None:
    start = TODAY - dt.timedelta(days=30)
    clock.move_to(NOON - dt.timedelta(days=30))  # both screened on the keeper's first day
    study = make_study()
    make_allocation(study=study)
    keeper = make_participant(study=study, status=ParticipantStatus.RANDOMIZED, start_date=start)
    leaver = make_participant(
        study=study, status=ParticipantStatus.RANDOMIZED, start_date=start + dt.timedelta(5)
    )
    clock.move_to(NOON - dt.timedelta(days=15))
    for offset in (0, 1, 3, 6, 9):
        make_entry(participant=leaver, diary_date=start + dt.timedelta(days=5 + offset))
    participant_withdraw(
        participant=leaver, reason="moved away", on=start + dt.timedelta(days=15), actor=None
    )
    clock.move_to(NOON)
    for offset in (*range(0, 20), 22, 25, 29):  # 23 nights, one of them late
        day = start + dt.timedelta(days=offset)
        if offset == 10:
            _late_entry(keeper, day)
        else:
            make_entry(participant=keeper, diary_date=day)
    statistician = make_member(study=study, role=Role.STATISTICIAN).user
    yesterday = TODAY - dt.timedelta(days=1)  # the last night whose window has closed at noon

    kept = _three_counts(keeper, yesterday, statistician)
    assert kept["analysis"] == kept["staff"] == (30, 23, 1, 7)
    assert kept["expected"] == (30, 30, 30)
    assert kept["percent"] == (76.7, 76.7, 76.7)

    left = _three_counts(
        leaver, yesterday, statistician
    )  # due up to the eve of withdrawal: 10 nights
    assert left["analysis"] == left["staff"] == (10, 5, 0, 5)
    assert left["expected"] == (10, 10, 10)
    assert left["percent"] == (50.0, 50.0, 50.0)

    # Tonight's window is open and its entry is in: a night kept is due on every count.
    clock.move_to(EVENING)
    make_entry(participant=keeper, diary_date=TODAY)
    tonight = _three_counts(keeper, TODAY, statistician)
    assert tonight["analysis"] == tonight["staff"] == (31, 24, 1, 7)
    assert tonight["expected"] == (31, 31, 31)
