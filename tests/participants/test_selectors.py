"""Selectors of the participants app: lists restricted to sites, detail with the schedule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.builders import make_allocation, make_participant, make_site, make_study

from diarytrial.participants.errors import ParticipantNotFoundError
from diarytrial.participants.models import ParticipantPhase, ParticipantStatus
from diarytrial.participants.selectors import (
    participant_detail,
    participant_get,
    participant_list,
    participant_today,
)
from diarytrial.studies.models import Site

pytestmark = pytest.mark.django_db

Status = ParticipantStatus


def test_list_shows_only_the_given_sites_and_nothing_for_none() -> None:
    study = make_study()
    stanford = make_site(study=study, code="stanford")
    boston = make_site(study=study, code="boston")
    here = [make_participant(study=study, site=stanford) for _ in range(3)]
    there = make_participant(study=study, site=boston)

    assert list(participant_list(study=study, sites=[stanford])) == sorted(
        here, key=lambda p: p.code
    )
    assert set(participant_list(study=study, sites=Site.objects.filter(study=study))) == {
        *here,
        there,
    }
    assert list(participant_list(study=study, sites=[])) == []
    assert list(participant_list(study=study, sites=Site.objects.none())) == []


def test_list_filters_by_status_and_ignores_other_studies() -> None:
    study = make_study()
    other = make_study(study_id="other")
    site = make_site(study=study)
    screened = make_participant(study=study, site=site, status=Status.SCREENED)
    enrolled = make_participant(study=study, site=site)
    make_participant(study=other, site=make_site(study=other))

    assert list(participant_list(study=study, sites=[site], statuses=["screened"])) == [screened]
    assert set(participant_list(study=study, sites=Site.objects.all())) == {screened, enrolled}


def test_list_queries_do_not_grow_with_rows() -> None:
    study = make_study()
    site = make_site(study=study)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            for participant in participant_list(study=study, sites=[site]):
                _ = participant.site.code
        return len(captured)

    make_participant(study=study, site=site)
    one = queries()
    for _ in range(4):
        make_participant(study=study, site=site)
    assert queries() == one


def test_get_treats_a_participant_at_another_site_as_not_found() -> None:
    study = make_study()
    stanford = make_site(study=study, code="stanford")
    boston = make_site(study=study, code="boston")
    participant = make_participant(study=study, site=boston)

    assert participant_get(study=study, code=participant.code.lower(), sites=[boston]) == (
        participant
    )
    with pytest.raises(ParticipantNotFoundError, match="no participant") as caught:
        participant_get(study=study, code=participant.code, sites=[stanford])
    assert caught.value.http_status == 404


def test_detail_has_the_planned_schedule_without_arms() -> None:
    study = make_study()
    make_allocation(study=study)
    start = dt.date(2026, 1, 5)
    participant = make_participant(study=study, status=Status.RANDOMIZED, start_date=start)

    detail = participant_detail(participant=participant)

    assert [(p.index, p.kind, p.period, p.start) for p in detail.phases][:2] == [
        (0, "baseline", 0, start),
        (1, "treatment", 1, dt.date(2026, 1, 19)),
    ]
    assert [p.kind for p in detail.phases] == ["baseline", "treatment", "washout", "treatment"]
    assert len(detail.eligibility_answers) == 3
    assert [c.form_version for c in detail.consents] == ["1.0"]
    assert [d.level for d in detail.dose_level_changes] == ["standard"]
    assert detail.phase_on(start) == detail.phases[0]
    assert detail.phase_on(start - dt.timedelta(days=1)) is None
    # The phase model has no field that could hold an arm or a condition.
    names = {field.name for field in ParticipantPhase._meta.get_fields()}
    assert not names & {"arm", "condition", "sequence"}


def test_detail_before_randomization_has_no_phases() -> None:
    study = make_study()
    participant = make_participant(study=study)

    assert participant_detail(participant=participant).phases == ()


def test_today_is_the_participants_local_date() -> None:
    study = make_study()
    participant = make_participant(study=study, tz="Pacific/Kiritimati")
    moment = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)  # 02:00 on 2 March in Kiritimati

    assert participant_today(participant, now=moment) == dt.date(2026, 3, 2)
