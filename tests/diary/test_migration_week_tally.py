"""The migration that gives the diary's week tallies their site and the days with an entry."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from tests.diary.helpers import D, migrate_to, migrate_to_latest

from diarytrial.participants.models import Participant

BEFORE = [("diary", "0005_week_tally")]
AFTER = [("diary", "0006_week_tally_nights")]


@pytest.mark.django_db(transaction=True)
def test_the_tallies_kept_so_far_get_their_site_and_days(participant: Participant) -> None:
    tuesday, thursday = D + dt.timedelta(days=1), D + dt.timedelta(days=3)
    try:
        old = migrate_to(BEFORE).loader.project_state(BEFORE).apps
        entry = old.get_model("diary", "DiaryEntry")
        for day, late in ((tuesday, False), (thursday, True)):
            entry.objects.create(
                participant_id=participant.pk,
                diary_date=day,
                client_id=uuid.uuid4(),
                timezone=participant.timezone,
                received_at=dt.datetime.combine(day, dt.time(22), tzinfo=dt.UTC),
                completed_at_device=dt.datetime.combine(day, dt.time(22), tzinfo=dt.UTC),
                late=late,
            )
        tally = old.get_model("diary", "DiaryWeekTally").objects.create(
            participant_id=participant.pk, week=D, entries=2, late=1, last_entry=thursday
        )

        new = migrate_to(AFTER).loader.project_state(AFTER).apps
        kept = new.get_model("diary", "DiaryWeekTally").objects.get(pk=tally.pk)
        assert kept.site_id == participant.site_id
        assert (kept.nights, kept.late_nights) == (0b1010, 0b1000)  # Tuesday, Thursday (late)
    finally:
        migrate_to_latest()
