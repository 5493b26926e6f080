"""Services of the participants app: screening, enrolment, status changes, dose levels."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import transaction
from tests.builders import (
    make_allocation,
    make_participant,
    make_protocol_text,
    make_site,
    make_study,
    make_user,
)

from diarytrial.audit.models import AuditEvent
from diarytrial.core.errors import ApplicationError, InvalidInputError
from diarytrial.dataset.tables import STATUSES
from diarytrial.participants.errors import (
    DoseLevelInvalidError,
    ParticipantIneligibleError,
    ParticipantStatusError,
    ReasonRequiredError,
    ScreeningAnswersInvalidError,
)
from diarytrial.participants.models import (
    Consent,
    DoseLevelChange,
    EligibilityAnswer,
    Participant,
    ParticipantStatus,
)
from diarytrial.participants.selectors import participant_today
from diarytrial.participants.services import (
    TRANSITIONS,
    consent_record,
    participant_activate,
    participant_complete,
    participant_dose_level_set,
    participant_enrol,
    participant_screen,
    participant_timezone_change,
    participant_transition_check,
    participant_withdraw,
)
from diarytrial.simulate.people import CODE_ALPHABET
from diarytrial.studies.models import Study
from diarytrial.studies.selectors import study_current_protocol
from diarytrial.studies.services import study_amend_protocol

pytestmark = pytest.mark.django_db

ELIGIBLE = {"acr_criteria": True, "pain_at_least_4": True, "taking_opioid_antagonist": False}
Status = ParticipantStatus


def _last_event_id() -> int:
    last = AuditEvent.objects.order_by("-id").first()
    return last.pk if last else 0


def _events_after(event_id: int) -> list[tuple[str, str]]:
    return [
        (e.action, e.object_type) for e in AuditEvent.objects.filter(id__gt=event_id).order_by("id")
    ]


def _screen(study: Study, **overrides: object) -> Participant:
    arguments: dict[str, object] = {
        "study": study,
        "site": make_site(study=study),
        "answers": ELIGIBLE,
        "timezone": "America/Los_Angeles",
        "opioid_use": False,
        "actor": None,
    }
    arguments.update(overrides)
    return participant_screen(**arguments)


def test_statuses_are_the_trial_dataset_statuses() -> None:
    assert tuple(Status.values) == STATUSES


def test_screening_an_eligible_person_records_every_answer() -> None:
    study = make_study()
    user = make_user()

    participant = _screen(study, actor=user, age=52)

    assert participant.status == Status.SCREENED
    assert participant.eligible
    assert participant.ineligibility_reason == ""
    assert participant.protocol_version == study_current_protocol(study)
    assert participant.age == 52
    assert participant.created_by == user
    answers = EligibilityAnswer.objects.filter(participant=participant).order_by("id")
    assert [(a.question_id, a.answer, a.eligible) for a in answers] == [
        ("acr_criteria", True, True),
        ("pain_at_least_4", True, True),
        ("taking_opioid_antagonist", False, True),
    ]


def test_a_code_is_random_from_the_unambiguous_alphabet() -> None:
    study = make_study()
    site = make_site(study=study)
    codes = [
        participant_screen(
            study=study,
            site=site,
            answers=ELIGIBLE,
            timezone="Europe/London",
            opioid_use=False,
            actor=None,
        ).code
        for _ in range(12)
    ]

    pattern = re.compile(f"^P-[{CODE_ALPHABET}]{{4}}$")
    assert all(pattern.match(code) for code in codes)
    assert len(set(codes)) == 12
    # Not sequential: codes in creation order are not sorted (probability 1/12! by chance).
    assert codes != sorted(codes)


def test_an_ineligible_person_stays_screened_with_the_reason() -> None:
    study = make_study()

    participant = _screen(study, answers={**ELIGIBLE, "taking_opioid_antagonist": True})

    assert participant.status == Status.SCREENED
    assert not participant.eligible
    assert "Currently taking an opioid antagonist" in participant.ineligibility_reason
    assert "answered yes" in participant.ineligibility_reason
    with pytest.raises(ParticipantIneligibleError, match=r"cannot be enrolled\. Not eligible"):
        participant_enrol(
            participant=participant,
            consent_form_version="1.0",
            consented_on=dt.date(2026, 1, 5),
            obtained_by=make_user(),
            start_date=dt.date(2026, 1, 5),
            actor=None,
        )
    participant.refresh_from_db()
    assert participant.status == Status.SCREENED
    assert not Consent.objects.exists()


def test_screening_refuses_missing_and_unknown_answers_and_writes_nothing() -> None:
    study = make_study()

    with pytest.raises(ScreeningAnswersInvalidError) as caught:
        _screen(study, answers={"acr_criteria": True, "smoker": False})

    assert "missing: pain_at_least_4, taking_opioid_antagonist" in caught.value.message
    assert "no question smoker" in caught.value.message
    assert not Participant.objects.exists()


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd", "PST8PDT "])
def test_screening_refuses_a_time_zone_that_is_not_iana(zone: str) -> None:
    study = make_study()

    if zone == "PST8PDT ":  # a real zone with a stray space is accepted, stripped
        assert _screen(study, timezone=zone).timezone == "PST8PDT"
        return
    with pytest.raises(InvalidInputError, match="not an IANA time zone"):
        _screen(study, timezone=zone)


def test_screening_refuses_a_site_of_another_study() -> None:
    study = make_study()
    other = make_study(study_id="other")

    with pytest.raises(InvalidInputError, match="belongs to another study"):
        _screen(study, site=make_site(study=other))


def test_enrolment_sets_start_date_dose_level_and_consent() -> None:
    study = make_study()
    participant = _screen(study)
    nurse = make_user(username="nurse")

    participant_enrol(
        participant=participant,
        consent_form_version="2.1",
        consented_on=dt.date(2026, 1, 2),
        obtained_by=nurse,
        start_date=dt.date(2026, 1, 5),
        actor=nurse,
    )

    assert participant.status == Status.ENROLLED
    assert participant.start_date == dt.date(2026, 1, 5)
    assert participant.start_dose_level == participant.dose_level == "standard"
    assert participant.enrolled_at is not None
    consent = Consent.objects.get(participant=participant)
    assert (consent.form_version, consent.consented_on, consent.obtained_by) == (
        "2.1",
        dt.date(2026, 1, 2),
        nurse,
    )
    change = DoseLevelChange.objects.get(participant=participant)
    assert (change.effective_on, change.level, change.reason) == (
        dt.date(2026, 1, 5),
        "standard",
        "start",
    )


def test_an_opioid_user_starts_at_the_protocols_opioid_start_level() -> None:
    study = make_study()

    participant = make_participant(study=study, opioid_use=True)

    assert participant.dose_level == participant.start_dose_level == "reduced"


def test_enrolment_refuses_a_start_before_consent_and_a_consent_in_the_future() -> None:
    study = make_study()
    participant = _screen(study)
    today = participant_today(participant)
    base = {
        "participant": participant,
        "consent_form_version": "1.0",
        "obtained_by": make_user(),
        "actor": None,
    }

    with pytest.raises(InvalidInputError, match="before consent"):
        participant_enrol(**base, consented_on=today, start_date=today - dt.timedelta(days=1))
    with pytest.raises(InvalidInputError, match="in the future"):
        participant_enrol(
            **base,
            consented_on=today + dt.timedelta(days=1),
            start_date=today + dt.timedelta(days=2),
        )
    with pytest.raises(InvalidInputError, match="version of the consent form"):
        participant_enrol(
            **{**base, "consent_form_version": " "}, consented_on=today, start_date=today
        )
    participant.refresh_from_db()
    assert participant.status == Status.SCREENED
    assert not Consent.objects.exists()


def test_participants_keep_their_protocol_version_after_an_amendment() -> None:
    study = make_study()
    before = make_participant(study=study)

    study_amend_protocol(
        study=study, text=make_protocol_text(note="amendment 1"), source="v2.toml", created_by=None
    )
    after = make_participant(study=study)

    before.refresh_from_db()
    assert before.protocol_version.number == 1
    assert after.protocol_version.number == 2


def test_withdrawal_keeps_the_data_with_date_and_reason() -> None:
    study = make_study()
    participant = make_participant(study=study)
    today = participant_today(participant)

    participant_withdraw(participant=participant, reason="moved away", on=today, actor=None)

    stored = Participant.objects.get(pk=participant.pk)
    assert stored.status == Status.WITHDRAWN
    assert (stored.withdrawn_on, stored.withdrawal_reason) == (today, "moved away")
    assert stored.start_date is not None
    assert Consent.objects.filter(participant=stored).exists()


def test_a_participant_who_moves_gets_the_new_time_zone_with_the_reason_audited() -> None:
    participant = make_participant(study=make_study(), tz="America/Los_Angeles")
    coordinator = make_user()

    participant_timezone_change(
        participant=participant, timezone="Europe/London", reason="moved", actor=coordinator
    )

    assert Participant.objects.get(pk=participant.pk).timezone == "Europe/London"
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None
    assert event.changes == [
        {"field": "timezone", "old": "America/Los_Angeles", "new": "Europe/London"}
    ]
    assert (event.reason, event.actor_label) == ("moved", coordinator.username)


def test_a_time_zone_change_is_refused_when_it_cannot_be_used() -> None:
    participant = make_participant(study=make_study(), tz="America/Los_Angeles")

    with pytest.raises(ReasonRequiredError):
        participant_timezone_change(
            participant=participant, timezone="Europe/London", reason=" ", actor=None
        )
    with pytest.raises(InvalidInputError, match="not an IANA time zone"):
        participant_timezone_change(
            participant=participant, timezone="Mars/Olympus", reason="x", actor=None
        )
    with pytest.raises(InvalidInputError, match="already"):
        participant_timezone_change(
            participant=participant, timezone="America/Los_Angeles", reason="x", actor=None
        )
    participant_withdraw(
        participant=participant, reason="left", on=participant_today(participant), actor=None
    )
    with pytest.raises(ParticipantStatusError, match="no longer matters"):
        participant_timezone_change(
            participant=participant, timezone="Europe/London", reason="x", actor=None
        )
    assert Participant.objects.get(pk=participant.pk).timezone == "America/Los_Angeles"


def test_withdrawal_needs_a_reason_and_a_date_not_in_the_future() -> None:
    study = make_study()
    participant = make_participant(study=study)
    today = participant_today(participant)

    with pytest.raises(ReasonRequiredError, match="Say why"):
        participant_withdraw(participant=participant, reason="  ", on=today, actor=None)
    with pytest.raises(InvalidInputError, match="in the future"):
        participant_withdraw(
            participant=participant, reason="x", on=today + dt.timedelta(days=1), actor=None
        )
    with pytest.raises(InvalidInputError, match="before the participant was screened"):
        participant_withdraw(
            participant=participant, reason="x", on=today - dt.timedelta(days=9), actor=None
        )
    assert Participant.objects.get(pk=participant.pk).status == Status.ENROLLED


def test_a_screened_person_may_withdraw_but_never_come_back() -> None:
    study = make_study()
    participant = _screen(study)
    participant_withdraw(
        participant=participant,
        reason="changed their mind",
        on=participant_today(participant),
        actor=None,
    )

    with pytest.raises(ParticipantStatusError, match="is withdrawn, so they cannot be"):
        participant_enrol(
            participant=participant,
            consent_form_version="1",
            consented_on=participant_today(participant),
            obtained_by=make_user(),
            start_date=participant_today(participant),
            actor=None,
        )


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (current, to)
        for current in Status
        for to in Status
        if to != Status.SCREENED and to not in TRANSITIONS[current]
    ],
)
def test_impossible_transitions_are_refused_with_a_clear_error(current: Status, to: Status) -> None:
    participant = Participant(code="P-TEST", status=current)

    with pytest.raises(ParticipantStatusError) as caught:
        participant_transition_check(participant, to)

    assert caught.value.message.startswith(f"Participant P-TEST is {current.label.lower()}")
    assert caught.value.http_status == 409
    assert isinstance(caught.value, ApplicationError)


def test_the_whole_way_to_completion() -> None:
    study = make_study()
    make_allocation(study=study)
    participant = make_participant(study=study, status=Status.RANDOMIZED)

    with pytest.raises(ParticipantStatusError, match="Dispense their first kit"):
        participant_complete(participant=participant, on=participant_today(participant), actor=None)
    participant_activate(participant=participant, actor=None)
    participant_complete(participant=participant, on=participant_today(participant), actor=None)

    stored = Participant.objects.get(pk=participant.pk)
    assert stored.status == Status.COMPLETED
    assert stored.completed_on == participant_today(participant)
    with pytest.raises(ParticipantStatusError, match="completed participant's record stays"):
        participant_withdraw(
            participant=stored, reason="x", on=participant_today(participant), actor=None
        )


def test_dose_level_set_is_validated_and_kept_with_its_history() -> None:
    study = make_study()
    participant = make_participant(study=study)
    coordinator = make_user()

    participant_dose_level_set(
        participant=participant, level="reduced", reason="vivid dreams", actor=coordinator
    )

    assert Participant.objects.get(pk=participant.pk).dose_level == "reduced"
    assert participant.dose_level == "reduced"
    history = list(
        DoseLevelChange.objects.filter(participant=participant).values_list("level", "reason")
    )
    assert history == [("standard", "start"), ("reduced", "vivid dreams")]
    with pytest.raises(DoseLevelInvalidError, match="choose one of reduced, standard"):
        participant_dose_level_set(participant=participant, level="double", reason="x", actor=None)
    with pytest.raises(DoseLevelInvalidError, match="already"):
        participant_dose_level_set(participant=participant, level="reduced", reason="x", actor=None)
    with pytest.raises(ReasonRequiredError):
        participant_dose_level_set(participant=participant, level="standard", reason="", actor=None)
    with pytest.raises(InvalidInputError, match="before the current level took effect"):
        participant_dose_level_set(
            participant=participant,
            level="standard",
            reason="back up",
            actor=None,
            effective_on=participant.start_date - dt.timedelta(days=1),
        )


def test_dose_level_cannot_change_before_enrolment_or_after_withdrawal() -> None:
    study = make_study()
    screened = make_participant(study=study, status=Status.SCREENED)

    with pytest.raises(ParticipantStatusError, match="only an enrolled"):
        participant_dose_level_set(participant=screened, level="reduced", reason="x", actor=None)


def test_a_further_consent_is_recorded_for_an_enrolled_participant_only() -> None:
    study = make_study()
    participant = make_participant(study=study)
    screened = make_participant(study=study, status=Status.SCREENED)
    nurse = make_user(username="nurse")
    today = participant_today(participant)

    consent_record(
        participant=participant,
        form_version="2.0",
        consented_on=today,
        obtained_by=nurse,
        actor=nurse,
    )

    assert list(
        Consent.objects.filter(participant=participant).values_list("form_version", flat=True)
    ) == ["1.0", "2.0"]
    with pytest.raises(ParticipantStatusError, match="further consent"):
        consent_record(
            participant=screened,
            form_version="2.0",
            consented_on=today,
            obtained_by=nurse,
            actor=None,
        )


# --- audit: exactly one event per written row; a rolled-back write leaves nothing ---------------


def test_screening_audits_the_participant_and_each_answer() -> None:
    study = make_study()
    site = make_site(study=study)
    mark = _last_event_id()

    participant = participant_screen(
        study=study,
        site=site,
        answers=ELIGIBLE,
        timezone="Europe/Berlin",
        opioid_use=True,
        actor=None,
    )

    assert (
        _events_after(mark)
        == [("create", "participants.participant")]
        + [("create", "participants.eligibilityanswer")] * 3
    )
    created = AuditEvent.objects.get(id=mark + 1)
    assert created.object_id == str(participant.pk)
    assert {"field": "code", "old": None, "new": participant.code} in created.changes
    assert {"field": "opioid_use", "old": None, "new": True} in created.changes


def test_enrolment_audits_consent_status_and_start_level() -> None:
    study = make_study()
    participant = make_participant(study=study, status=Status.SCREENED)
    mark = _last_event_id()

    participant_enrol(
        participant=participant,
        consent_form_version="1.0",
        consented_on=participant_today(participant),
        obtained_by=make_user(),
        start_date=participant_today(participant),
        actor=None,
    )

    assert _events_after(mark) == [
        ("create", "participants.consent"),
        ("update", "participants.participant"),
        ("create", "participants.doselevelchange"),
    ]
    update = AuditEvent.objects.get(id=mark + 2)
    fields = {change["field"]: (change["old"], change["new"]) for change in update.changes}
    assert fields["status"] == ("screened", "enrolled")
    assert fields["dose_level"] == ("", "standard")
    assert set(fields) == {"status", "start_date", "start_dose_level", "dose_level", "enrolled_at"}


def test_withdrawal_dose_change_activation_and_completion_each_audit_one_update() -> None:
    study = make_study()
    make_allocation(study=study)
    participant = make_participant(study=study, status=Status.RANDOMIZED)
    today = participant_today(participant)

    mark = _last_event_id()
    participant_dose_level_set(
        participant=participant, level="reduced", reason="nausea", actor=None
    )
    assert _events_after(mark) == [
        ("create", "participants.doselevelchange"),
        ("update", "participants.participant"),
    ]
    assert AuditEvent.objects.latest("id").changes == [
        {"field": "dose_level", "old": "standard", "new": "reduced"}
    ]
    assert AuditEvent.objects.latest("id").reason == "nausea"

    mark = _last_event_id()
    participant_activate(participant=participant, actor=None)
    assert _events_after(mark) == [("update", "participants.participant")]

    mark = _last_event_id()
    participant_withdraw(participant=participant, reason="adverse event", on=today, actor=None)
    assert _events_after(mark) == [("update", "participants.participant")]
    event = AuditEvent.objects.latest("id")
    assert event.reason == "adverse event"
    assert {"field": "status", "old": "active", "new": "withdrawn"} in event.changes


def _enrol_then_fail(participant: Participant) -> None:
    with transaction.atomic():
        participant_enrol(
            participant=participant,
            consent_form_version="1.0",
            consented_on=participant_today(participant),
            obtained_by=make_user(),
            start_date=participant_today(participant),
            actor=None,
        )
        raise RuntimeError("boom")


def test_a_rolled_back_enrolment_leaves_neither_rows_nor_events() -> None:
    study = make_study()
    participant = make_participant(study=study, status=Status.SCREENED)
    mark = _last_event_id()

    with pytest.raises(RuntimeError, match="boom"):
        _enrol_then_fail(participant)

    assert _events_after(mark) == []
    assert Participant.objects.get(pk=participant.pk).status == Status.SCREENED
    assert not Consent.objects.exists()
    assert not DoseLevelChange.objects.exists()


def test_a_refused_write_leaves_no_event() -> None:
    study = make_study()
    participant = make_participant(study=study)
    mark = _last_event_id()

    with pytest.raises(DoseLevelInvalidError):
        participant_dose_level_set(participant=participant, level="nope", reason="x", actor=None)

    assert _events_after(mark) == []


def test_the_first_answers_and_the_study_protocol_are_unchanged_by_screening() -> None:
    study = make_study()
    version = study_current_protocol(study)
    _screen(study)

    assert Study.objects.get(pk=study.pk).title == study.title
    assert study_current_protocol(study) == version


def test_completion_and_a_further_consent_each_audit_their_row() -> None:
    study = make_study()
    make_allocation(study=study)
    participant = make_participant(study=study, status=Status.RANDOMIZED)
    participant_activate(participant=participant, actor=None)
    today = participant_today(participant)

    mark = _last_event_id()
    consent_record(
        participant=participant,
        form_version="3",
        consented_on=today,
        obtained_by=make_user(),
        actor=None,
    )
    assert _events_after(mark) == [("create", "participants.consent")]

    mark = _last_event_id()
    participant_complete(participant=participant, on=today, actor=None)
    assert _events_after(mark) == [("update", "participants.participant")]
    fields = {c["field"] for c in AuditEvent.objects.latest("id").changes}
    assert fields == {"status", "completed_on"}
