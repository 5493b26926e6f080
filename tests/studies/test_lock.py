"""The database lock: an administrator locks a study with a reason, and from then on every
write service of its data is refused (423) and changes nothing, until an administrator unlocks.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth.models import User
from tests.builders import (
    LEFT_OPEN,
    make_adverse_event,
    make_allocation,
    make_device,
    make_dispensing,
    make_entry,
    make_kits,
    make_member,
    make_participant,
    make_protocol_text,
    make_site,
    make_study,
    make_user,
)
from tests.diary.helpers import answers, at

from diarytrial.audit.models import AuditEvent
from diarytrial.audit.selectors import audit_verify
from diarytrial.core.errors import PermissionDeniedError
from diarytrial.devices.models import Device
from diarytrial.devices.services import (
    device_pin_clear,
    device_pin_set,
    enrolment_link_issue,
    enrolment_link_redeem,
)
from diarytrial.diary.models import DiaryEntry
from diarytrial.diary.services import (
    blinding_guess_record,
    diary_entry_correct,
    diary_entry_submit,
    diary_upload_receive,
    period_answer_from_phone,
    pgic_answer_record,
)
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.services import (
    consent_record,
    participant_activate,
    participant_complete,
    participant_dose_level_set,
    participant_enrol,
    participant_screen,
    participant_timezone_change,
    participant_withdraw,
)
from diarytrial.randomization.models import Kit, KitStatus
from diarytrial.randomization.selectors import kit_to_dispense
from diarytrial.randomization.services import (
    allocation_list_generate,
    kit_destroy,
    kit_dispense,
    kit_inventory_generate,
    kit_inventory_import,
    participant_randomize,
    participant_unblind_emergency,
)
from diarytrial.safety.models import AdverseEvent
from diarytrial.safety.services import (
    adverse_event_record,
    adverse_event_remove,
    adverse_event_update,
    dose_level_change,
    side_effect_candidate_confirm,
    side_effect_candidate_dismiss,
)
from diarytrial.studies.errors import (
    LockReasonRequiredError,
    StudyLockedError,
    StudyLockStateError,
)
from diarytrial.studies.models import Role, Study
from diarytrial.studies.services import (
    membership_grant,
    membership_revoke,
    site_create,
    study_amend_protocol,
    study_lock,
    study_unlock,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 6, 20, 19, 0, tzinfo=dt.UTC)  # noon in Los Angeles
TODAY = dt.date(2025, 6, 20)
START = dt.date(2025, 5, 20)
ELIGIBLE = {"acr_criteria": True, "pain_at_least_4": True, "taking_opioid_antagonist": False}
APPS = ("studies", "participants", "randomization", "diary", "devices", "safety", "audit")


@dataclass
class World:
    """A study in the middle of its trial, with something for every write service to act on."""

    study: Study
    administrator: User
    coordinator: User
    investigator: User
    pharmacist: User
    newcomer: User
    screened: Participant
    enrolled: Participant
    randomized: Participant
    active: Participant
    entry: DiaryEntry
    event: AdverseEvent
    kit: Kit
    link_token: str
    device: Device
    due: Participant  # visit 2 is today: the phone's end-of-period questions are due


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock: time_machine.Traveller) -> World:
    study = make_study()
    make_site(study=study)
    make_allocation(study=study)
    make_kits(study=study, per_arm_and_level=3)
    randomized = make_participant(
        study=study, status=ParticipantStatus.RANDOMIZED, start_date=START
    )
    active = make_participant(study=study, status=ParticipantStatus.RANDOMIZED, start_date=START)
    make_dispensing(participant=active)
    return World(
        study=study,
        administrator=make_member(study=study, role=Role.ADMINISTRATOR).user,
        coordinator=make_member(study=study, role=Role.COORDINATOR).user,
        investigator=make_member(study=study, role=Role.INVESTIGATOR).user,
        pharmacist=make_member(study=study, role=Role.PHARMACIST).user,
        newcomer=make_user(username="newcomer"),
        screened=make_participant(study=study, status=ParticipantStatus.SCREENED),
        enrolled=make_participant(study=study, start_date=START),
        randomized=randomized,
        active=active,
        entry=make_entry(
            participant=randomized, diary_date=START, side_effects={"nausea": "somewhat"}
        ),
        event=make_adverse_event(participant=randomized, onset_date=START),
        kit=Kit.objects.filter(study=study, status=KitStatus.AVAILABLE).order_by("code").first(),
        link_token=enrolment_link_issue(
            participant=active, actor=make_user(username="linker")
        ).token,
        device=make_device(randomized)[0],
        due=_visit_two_today(study),
    )


def _visit_two_today(study: Study) -> Participant:
    """A participant whose visit 2 (treatment day 28) is today, whatever their sequence."""
    return make_participant(
        study=study, status=ParticipantStatus.RANDOMIZED, start_date=TODAY - dt.timedelta(days=41)
    )


Write = Callable[[World], Any]

WRITES: dict[str, Write] = {
    # studies
    "study_amend_protocol": lambda w: study_amend_protocol(
        study=w.study, text=make_protocol_text(note="amended"), source="a.toml", created_by=None
    ),
    "site_create": lambda w: site_create(
        study=w.study, code="boston", name="Boston", actor=w.administrator
    ),
    # participants
    "participant_screen": lambda w: participant_screen(
        study=w.study,
        site=w.enrolled.site,
        answers=ELIGIBLE,
        timezone="America/Los_Angeles",
        opioid_use=False,
        actor=w.coordinator,
    ),
    "participant_timezone_change": lambda w: participant_timezone_change(
        participant=w.enrolled, timezone="Europe/London", reason="moved", actor=w.coordinator
    ),
    "participant_enrol": lambda w: participant_enrol(
        participant=w.screened,
        consent_form_version="1.0",
        consented_on=TODAY,
        obtained_by=w.coordinator,
        start_date=TODAY,
        actor=w.coordinator,
    ),
    "consent_record": lambda w: consent_record(
        participant=w.enrolled,
        form_version="2.0",
        consented_on=TODAY,
        obtained_by=w.coordinator,
        actor=w.coordinator,
    ),
    "participant_withdraw": lambda w: participant_withdraw(
        participant=w.enrolled, reason="moved away", on=TODAY, actor=w.coordinator
    ),
    "participant_activate": lambda w: participant_activate(
        participant=w.randomized, actor=w.coordinator
    ),
    "participant_complete": lambda w: participant_complete(
        participant=w.active, on=TODAY, actor=w.coordinator
    ),
    "participant_dose_level_set": lambda w: participant_dose_level_set(
        participant=w.randomized, level="reduced", reason="vivid dreams", actor=w.coordinator
    ),
    # randomization
    "allocation_list_generate": lambda w: allocation_list_generate(
        study=w.study, stratum="opioid_use=true", size=4, seed=1, actor=w.pharmacist
    ),
    "participant_randomize": lambda w: participant_randomize(
        participant=w.enrolled, actor=w.coordinator
    ),
    "kit_inventory_generate": lambda w: kit_inventory_generate(
        study=w.study, per_arm_and_level=1, seed=99, actor=w.pharmacist
    ),
    "kit_inventory_import": lambda w: kit_inventory_import(
        study=w.study,
        csv_text="code,arm,dose_level\nIMP-0001,ldn,standard\n",
        source="supplier.csv",
        actor=w.pharmacist,
    ),
    "kit_destroy": lambda w: kit_destroy(kit=w.kit, reason="damaged", actor=w.pharmacist),
    "kit_dispense": lambda w: kit_dispense(
        participant=w.randomized,
        visit=1,
        kit=kit_to_dispense(participant=w.randomized, visit=1),
        actor=w.pharmacist,
    ),
    "participant_unblind_emergency": lambda w: participant_unblind_emergency(
        participant=w.randomized, reason="anaphylaxis", actor=w.investigator
    ),
    # safety
    "adverse_event_record": lambda w: adverse_event_record(
        participant=w.randomized,
        term="Nausea",
        side_effect="nausea",
        onset_date=TODAY,
        severity="mild",
        serious=False,
        related="possible",
        action="none",
        outcome="recovering",
        actor=w.coordinator,
    ),
    "adverse_event_update": lambda w: adverse_event_update(
        event=w.event, changes={"severity": "severe"}, reason="worse", actor=w.coordinator
    ),
    "adverse_event_remove": lambda w: adverse_event_remove(
        event=w.event, reason="entered twice", actor=w.coordinator
    ),
    "dose_level_change": lambda w: dose_level_change(
        participant=w.randomized, level="reduced", reason="headache", actor=w.coordinator
    ),
    "side_effect_candidate_confirm": lambda w: side_effect_candidate_confirm(
        participant=w.randomized,
        side_effect="nausea",
        first_reported=START,
        severity="mild",
        serious=False,
        related="possible",
        action="none",
        outcome="recovering",
        actor=w.coordinator,
    ),
    "side_effect_candidate_dismiss": lambda w: side_effect_candidate_dismiss(
        participant=w.randomized,
        side_effect="nausea",
        first_reported=START,
        reason="known, mild, not an adverse event",
        actor=w.coordinator,
    ),
    # diary
    "diary_upload_receive": lambda w: diary_upload_receive(
        participant=w.randomized,
        client_id=uuid.UUID("6d1f3b0e-2f55-4c51-a0a3-7a4bc1a0e8d2"),
        answers=answers(),
        side_effects={},
        capsule_taken=True,
        completed_at_device=None,
        received_at=at(START + dt.timedelta(days=5), 20),
    ),
    "diary_entry_correct": lambda w: diary_entry_correct(
        entry=w.entry, answers={"pain": 10}, reason="transcription error", actor=w.coordinator
    ),
    "pgic_answer_record": lambda w: pgic_answer_record(
        participant=w.due, visit=2, score=3, answered_on=TODAY
    ),
    # devices (device_revoke and device_pin_check are exempt: see below)
    "enrolment_link_issue": lambda w: enrolment_link_issue(
        participant=w.enrolled, actor=w.coordinator
    ),
    "enrolment_link_redeem": lambda w: enrolment_link_redeem(token=w.link_token),
    "device_pin_set": lambda w: device_pin_set(device=w.device, pin="2580"),
    "device_pin_clear": lambda w: device_pin_clear(device=w.device),
    "period_answer_from_phone": lambda w: period_answer_from_phone(
        participant=w.due, kind="blinding", visit=2, value="dont_know"
    ),
    "blinding_guess_record": lambda w: blinding_guess_record(
        participant=w.due, visit=2, guess="drug", answered_on=TODAY
    ),
}


def _everything() -> dict[str, list[dict[str, Any]]]:
    """Every row of the trial's tables: what 'nothing changed' compares."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for label in APPS
        for model in apps.get_app_config(label).get_models()
    }


def _lock(world: World) -> None:
    study_lock(
        study=world.study,
        reason="last participant completed",
        actor=world.administrator,
        override_reason=LEFT_OPEN,
    )


@pytest.mark.parametrize("name", sorted(WRITES))
def test_after_the_lock_every_write_is_refused_and_nothing_changes_until_unlocked(
    world: World, name: str
) -> None:
    write = WRITES[name]
    _lock(world)
    before = _everything()

    with pytest.raises(StudyLockedError, match="was locked for analysis") as caught:
        write(world)

    assert caught.value.http_status == 423
    assert caught.value.code == "study_locked"
    assert _everything() == before

    study_unlock(study=world.study, reason="query on a diary value", actor=world.administrator)
    write(world)

    assert audit_verify().ok


def test_every_write_service_of_the_trials_apps_is_in_the_list() -> None:
    import inspect

    from diarytrial.devices import services as devices
    from diarytrial.diary import services as diary
    from diarytrial.participants import services as participants
    from diarytrial.randomization import services as randomization
    from diarytrial.safety import services as safety
    from diarytrial.studies import services as studies

    public = {
        name
        for module in (studies, participants, randomization, safety, diary, devices)
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__.startswith(module.__name__)  # a services package's modules too
        and not name.startswith("_")
        and hasattr(function, "__wrapped__")  # transaction.atomic: a write service
    }
    # Taking a lost phone's access away and counting wrong PINs must work on a locked study;
    # so must giving and taking away staff roles (access, not trial data).
    exempt = {
        "study_create_from_protocol",
        "study_lock",
        "study_unlock",
        "device_revoke",
        "device_pin_check",
        "membership_grant",
        "membership_change",
        "membership_revoke",
    }

    assert public - exempt == set(WRITES)


def test_an_administrator_locks_and_unlocks_with_reasons_each_audited(world: World) -> None:
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()

    locked = study_lock(
        study=world.study,
        reason="database lock",
        actor=world.administrator,
        override_reason=LEFT_OPEN,
    )
    assert locked.locked_at == NOW
    assert world.study.locked_at == NOW
    unlocked = study_unlock(study=world.study, reason="late query", actor=world.administrator)

    assert unlocked.locked_at is None
    assert world.study.locked_at is None
    events = list(AuditEvent.objects.filter(id__gt=mark).order_by("id"))
    assert [(e.action, e.reason, e.actor) for e in events] == [
        ("lock", "database lock", world.administrator),
        ("unlock", "late query", world.administrator),
    ]
    # The override's own fields are tested in tests/studies/test_lock_checklist.py.
    assert events[0].changes[0] == {"field": "locked_at", "old": None, "new": NOW.isoformat()}
    assert events[1].changes[0] == {"field": "locked_at", "old": NOW.isoformat(), "new": None}


def test_roles_are_granted_and_revoked_on_a_locked_study(world: World) -> None:
    _lock(world)

    granted = membership_grant(
        study=world.study, user=world.newcomer, role=Role.STATISTICIAN, actor=world.administrator
    )
    membership_revoke(membership=granted, actor=world.administrator, reason="left the team")

    granted.refresh_from_db()
    assert granted.active is False
    assert audit_verify().ok


def test_the_superuser_may_lock(world: World) -> None:
    root = User.objects.create_superuser(username="root")

    study_lock(study=world.study, reason="lock", actor=root, override_reason=LEFT_OPEN)

    assert Study.objects.get(pk=world.study.pk).locked_at == NOW


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.INVESTIGATOR, Role.STATISTICIAN])
def test_only_an_administrator_may_lock_or_unlock(world: World, role: Role) -> None:
    existing = {Role.COORDINATOR: world.coordinator, Role.INVESTIGATOR: world.investigator}
    user = existing.get(role) or make_member(study=world.study, role=role).user
    other_admin = make_member(
        study=make_study(study_id="other_study"), role=Role.ADMINISTRATOR, username="other-admin"
    ).user

    for actor in (user, other_admin, None):
        with pytest.raises(PermissionDeniedError, match="Only an administrator"):
            study_lock(study=world.study, reason="lock", actor=actor, override_reason=LEFT_OPEN)  # type: ignore[arg-type]
    _lock(world)
    with pytest.raises(PermissionDeniedError):
        study_unlock(study=world.study, reason="unlock", actor=user)

    assert Study.objects.get(pk=world.study.pk).locked_at == NOW


@pytest.mark.parametrize("reason", ["", "  "])
def test_locking_and_unlocking_need_a_reason(world: World, reason: str) -> None:
    with pytest.raises(LockReasonRequiredError) as caught:
        study_lock(
            study=world.study, reason=reason, actor=world.administrator, override_reason=LEFT_OPEN
        )
    assert caught.value.http_status == 422
    _lock(world)
    with pytest.raises(LockReasonRequiredError):
        study_unlock(study=world.study, reason=reason, actor=world.administrator)

    assert Study.objects.get(pk=world.study.pk).locked_at == NOW


def test_a_locked_study_is_not_locked_again_nor_an_unlocked_one_unlocked(world: World) -> None:
    with pytest.raises(StudyLockStateError, match="is not locked"):
        study_unlock(study=world.study, reason="x", actor=world.administrator)
    _lock(world)
    with pytest.raises(StudyLockStateError, match="locked already") as caught:
        _lock(world)

    assert caught.value.http_status == 409


def test_the_guard_reads_the_database_not_a_stale_instance(world: World) -> None:
    stale = Study.objects.get(pk=world.study.pk)
    _lock(world)
    assert stale.locked_at is None

    with pytest.raises(StudyLockedError):
        site_create(study=stale, code="boston", name="Boston", actor=None)


def test_a_repeated_diary_upload_is_still_acknowledged_once_locked(world: World) -> None:
    client_id = uuid.uuid4()
    upload: dict[str, Any] = {
        "participant": world.randomized,
        "client_id": client_id,
        "answers": answers(),
        "side_effects": {},
        "capsule_taken": True,
        "completed_at_device": None,
        "received_at": at(START + dt.timedelta(days=3), 20),
    }
    entry = diary_entry_submit(**upload)
    _lock(world)

    assert diary_entry_submit(**upload).pk == entry.pk
    with pytest.raises(StudyLockedError):
        diary_entry_submit(**{**upload, "client_id": uuid.uuid4()})
