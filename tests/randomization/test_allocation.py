"""Allocation lists and randomization through the services, on either database."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from tests.builders import (
    make_allocation,
    make_member,
    make_participant,
    make_site,
    make_study,
    make_user,
)

from diarytrial.audit.models import AuditEvent
from diarytrial.core.errors import InvalidInputError, PermissionDeniedError
from diarytrial.participants.errors import ParticipantStatusError
from diarytrial.participants.models import Participant, ParticipantPhase, ParticipantStatus
from diarytrial.participants.selectors import participant_today
from diarytrial.participants.services import participant_withdraw
from diarytrial.protocol import load_example, make_schedule
from diarytrial.randomization.errors import (
    AllocationListExhaustedError,
    AllocationListExistsError,
    AllocationListMissingError,
    AlreadyRandomizedError,
    StratumInvalidError,
)
from diarytrial.randomization.models import AllocationList, AllocationSlot, Randomization
from diarytrial.randomization.plans import allocation_plan
from diarytrial.randomization.selectors import (
    allocation_list_summaries,
    allocation_list_verify,
    randomization_get,
)
from diarytrial.randomization.services import (
    allocation_list_generate,
    allocation_list_read,
    participant_allocation_read,
    participant_randomize,
)
from diarytrial.studies.models import Role

pytestmark = pytest.mark.django_db

Status = ParticipantStatus
LDN = load_example("ldn-fibromyalgia").protocol
SEQUENCE_CODES = {"AB", "BA"}


def _last_event_id() -> int:
    last = AuditEvent.objects.order_by("-id").first()
    return last.pk if last else 0


def _events_after(event_id: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=event_id).order_by("id"))


def _assert_no_allocation_in(events: list[AuditEvent]) -> None:
    """No value, reason or label of these events names a sequence, an arm or a seed."""
    for event in events:
        texts = [event.reason, event.object_repr, event.actor_label]
        for change in event.changes:
            texts += [str(change["field"]), str(change["old"]), str(change["new"])]
        for text in texts:
            assert text not in SEQUENCE_CODES, (event, text)
            assert "ldn" not in text.lower(), (event, text)
            assert "placebo" not in text.lower(), (event, text)
            assert "seed" not in text.lower(), (event, text)


# --- generating a list ----------------------------------------------------------------------------


def test_generate_stores_complete_balanced_blocks_and_the_seed() -> None:
    study = make_study()

    allocation_list = make_allocation(study=study, stratum="opioid_use=false", size=9, seed=42)

    slots = list(allocation_list.slots.order_by("position"))
    assert allocation_list.seed == 42
    assert allocation_list.block_sizes == [2, 4]
    assert allocation_list.size == len(slots) >= 9
    assert {s.sequence_code for s in slots} == SEQUENCE_CODES
    for block in {s.block for s in slots}:
        contents = [s.sequence_code for s in slots if s.block == block]
        assert contents.count("AB") == contents.count("BA")
    assert all(s.used_by is None and s.used_at is None for s in slots)


def test_regenerating_from_the_recorded_seed_gives_the_same_slots() -> None:
    study = make_study()
    original = allocation_list_generate(
        study=study, stratum="opioid_use=true", size=24, seed=None, actor=None
    )
    other_study = make_study(study_id="replica")

    replica = allocation_list_generate(
        study=other_study, stratum="opioid_use=true", size=24, seed=original.seed, actor=None
    )

    def contents(allocation_list: AllocationList) -> list[tuple[int, int, str]]:
        return list(
            allocation_list.slots.order_by("position").values_list(
                "position", "block", "sequence_code"
            )
        )

    assert 0 <= original.seed < 2**63
    assert contents(replica) == contents(original)
    plan = allocation_plan(
        sequence_codes=["AB", "BA"], block_sizes=[2, 4], size=24, seed=original.seed
    )
    assert contents(original) == [(s.position, s.block, s.sequence_code) for s in plan]
    assert allocation_list_verify(allocation_list=original)


def test_verify_detects_a_slot_changed_behind_the_applications_back() -> None:
    allocation_list = make_allocation(study=make_study())
    first = allocation_list.slots.get(position=1)

    AllocationSlot.objects.filter(pk=first.pk).update(
        sequence_code="BA" if first.sequence_code == "AB" else "AB"
    )

    assert not allocation_list_verify(allocation_list=allocation_list)


def test_a_stratum_has_one_list() -> None:
    study = make_study()
    make_allocation(study=study, stratum="opioid_use=false")

    with pytest.raises(AllocationListExistsError, match="has its allocation list already"):
        make_allocation(study=study, stratum="OPIOID_USE = false")
    assert AllocationList.objects.count() == 1


@pytest.mark.parametrize(
    ("stratum", "size", "seed", "error", "message"),
    [
        ("site=stanford", 10, 1, StratumInvalidError, "not a stratum of the protocol"),
        ("opioid_use=sometimes", 10, 1, StratumInvalidError, "true or false"),
        ("opioid_use=true", 0, 1, InvalidInputError, "from 1 to"),
        ("opioid_use=true", 10, -5, InvalidInputError, "seed cannot be used"),
    ],
)
def test_generate_refuses_what_it_cannot_use(
    stratum: str, size: int, seed: int, error: type[Exception], message: str
) -> None:
    study = make_study()
    make_site(study=study)

    with pytest.raises(error, match=message):
        allocation_list_generate(study=study, stratum=stratum, size=size, seed=seed, actor=None)
    assert not AllocationList.objects.exists()
    assert not AllocationSlot.objects.exists()


def test_generate_is_audited_once_by_fingerprint_without_seed_or_contents() -> None:
    study = make_study()
    pharmacist = make_member(study=study, role=Role.PHARMACIST).user
    mark = _last_event_id()

    allocation_list = make_allocation(study=study, actor=pharmacist)

    events = _events_after(mark)
    assert [(e.action, e.object_type) for e in events] == [
        ("create", "randomization.allocationlist")
    ]
    fields = {c["field"]: c["new"] for c in events[0].changes}
    assert fields == {
        "stratum": "opioid_use=false",
        "size": allocation_list.size,
        "block_sizes": [2, 4],
        "protocol_version_id": allocation_list.protocol_version_id,
        "fingerprint": allocation_list.fingerprint,
    }
    assert events[0].actor == pharmacist
    _assert_no_allocation_in(events)
    assert str(allocation_list.seed) not in str(events[0].changes)


# --- reading a list -------------------------------------------------------------------------------


def test_only_the_pharmacist_reads_a_list_and_each_read_is_audited() -> None:
    study = make_study()
    make_allocation(study=study, stratum="opioid_use=false", seed=3)
    make_allocation(study=study, stratum="opioid_use=true", seed=4)
    pharmacist = make_member(study=study, role=Role.PHARMACIST).user
    mark = _last_event_id()

    lists = allocation_list_read(user=pharmacist, study=study)

    assert [view.stratum for view in lists] == ["opioid_use=false", "opioid_use=true"]
    assert [view.seed for view in lists] == [3, 4]
    assert {slot.sequence_code for slot in lists[0].slots} == SEQUENCE_CODES
    events = _events_after(mark)
    assert [(e.action, e.object_type, e.actor) for e in events] == [
        ("read", "randomization.allocationlist", pharmacist)
    ] * 2
    one = allocation_list_read(user=pharmacist, study=study, stratum="opioid_use=true")
    assert [view.seed for view in one] == [4]


@pytest.mark.parametrize(
    "role", [Role.COORDINATOR, Role.INVESTIGATOR, Role.STATISTICIAN, Role.ADMINISTRATOR]
)
def test_other_roles_cannot_read_a_list(role: Role) -> None:
    study = make_study()
    make_allocation(study=study)
    user = make_member(study=study, role=role).user
    mark = _last_event_id()

    with pytest.raises(PermissionDeniedError) as caught:
        allocation_list_read(user=user, study=study)

    assert caught.value.http_status == 403
    assert _events_after(mark) == []


def test_neither_the_superuser_nor_a_pharmacist_of_another_study_reads_a_list(
    admin_user: User,
) -> None:
    study = make_study()
    other = make_study(study_id="other")
    make_allocation(study=study)
    stranger = make_member(study=other, role=Role.PHARMACIST).user

    for user in (admin_user, stranger):
        with pytest.raises(PermissionDeniedError):
            allocation_list_read(user=user, study=study)


def test_summaries_show_use_without_contents() -> None:
    study = make_study()
    make_allocation(study=study, size=4, seed=1)
    make_participant(study=study, status=Status.RANDOMIZED)

    (summary,) = allocation_list_summaries(study=study)

    assert (summary.stratum, summary.size, summary.used, summary.remaining) == (
        "opioid_use=false",
        summary.size,
        1,
        summary.size - 1,
    )


# --- randomizing ----------------------------------------------------------------------------------


def test_randomize_takes_the_next_slot_and_plans_the_schedule() -> None:
    study = make_study()
    allocation_list = make_allocation(study=study, seed=11)
    participants = [make_participant(study=study) for _ in range(3)]
    coordinator = make_member(study=study, role=Role.COORDINATOR).user

    randomizations = [participant_randomize(participant=p, actor=coordinator) for p in participants]

    assert [r.slot.position for r in randomizations] == [1, 2, 3]
    for participant, randomization in zip(participants, randomizations, strict=True):
        slot = AllocationSlot.objects.get(pk=randomization.slot_id)
        assert slot.allocation_list == allocation_list
        assert slot.used_by == participant
        assert slot.used_at == randomization.randomized_at
        assert participant.status == Status.RANDOMIZED
        assert participant.randomized_at == randomization.randomized_at
        assert participant.start_date is not None
        schedule = make_schedule(
            LDN, LDN.sequence_from_code(slot.sequence_code), participant.start_date
        )
        phases = ParticipantPhase.objects.filter(participant=participant).order_by("index")
        assert [(p.index, p.kind, p.period, p.block, p.start, p.end) for p in phases] == [
            (p.index, p.kind, p.period, p.block, p.start, p.end) for p in schedule.phases
        ]
        assert randomization_get(participant=participant) is not None


def test_opioid_users_are_randomized_from_their_own_stratum() -> None:
    study = make_study()
    without = make_allocation(study=study, stratum="opioid_use=false", seed=1)
    with_opioids = make_allocation(study=study, stratum="opioid_use=true", seed=2)

    participant = make_participant(study=study, opioid_use=True, status=Status.RANDOMIZED)

    slot = AllocationSlot.objects.get(used_by=participant)
    assert slot.allocation_list == with_opioids
    assert not without.slots.filter(used_by__isnull=False).exists()


def test_randomize_is_refused_a_second_time() -> None:
    study = make_study()
    make_allocation(study=study)
    participant = make_participant(study=study, status=Status.RANDOMIZED)

    with pytest.raises(AlreadyRandomizedError, match="randomized already"):
        participant_randomize(participant=participant, actor=None)

    assert Randomization.objects.count() == 1
    assert AllocationSlot.objects.filter(used_by__isnull=False).count() == 1


def test_a_withdrawn_randomized_participant_is_still_randomized_already() -> None:
    study = make_study()
    make_allocation(study=study)
    participant = make_participant(study=study, status=Status.RANDOMIZED)

    participant_withdraw(
        participant=participant, reason="moved", on=participant_today(participant), actor=None
    )

    with pytest.raises(AlreadyRandomizedError):
        participant_randomize(participant=participant, actor=None)


def test_randomize_needs_an_enrolled_participant_and_a_list() -> None:
    study = make_study()
    screened = make_participant(study=study, status=Status.SCREENED)
    enrolled = make_participant(study=study)

    with pytest.raises(ParticipantStatusError, match="Enrol them first"):
        participant_randomize(participant=screened, actor=None)
    with pytest.raises(AllocationListMissingError, match=r"'opioid_use=false' .* no allocation"):
        participant_randomize(participant=enrolled, actor=None)
    assert Participant.objects.get(pk=enrolled.pk).status == Status.ENROLLED


def test_randomize_says_when_the_list_is_exhausted() -> None:
    study = make_study()
    allocation_list = allocation_list_generate(
        study=study, stratum="opioid_use=false", size=1, seed=8, actor=None
    )
    for _ in range(allocation_list.size):
        make_participant(study=study, status=Status.RANDOMIZED)
    last = make_participant(study=study)

    with pytest.raises(AllocationListExhaustedError, match="Every slot"):
        participant_randomize(participant=last, actor=None)
    assert Participant.objects.get(pk=last.pk).status == Status.ENROLLED


def test_randomize_is_audited_without_the_sequence() -> None:
    study = make_study()
    make_allocation(study=study)
    participant = make_participant(study=study)
    mark = _last_event_id()

    randomization = participant_randomize(participant=participant, actor=None)

    events = _events_after(mark)
    assert [(e.action, e.object_type) for e in events] == [
        ("update", "randomization.allocationslot"),
        ("create", "randomization.randomization"),
        *[("create", "participants.participantphase")] * 4,
        ("update", "participants.participant"),
    ]
    fields = {c["field"]: c["new"] for c in events[1].changes}
    assert fields["slot_id"] == randomization.slot_id
    assert fields["participant"] == participant.code
    assert {"field": "status", "old": "enrolled", "new": "randomized"} in events[-1].changes
    _assert_no_allocation_in(events)


def _randomize_then_fail(participant: Participant) -> None:
    with transaction.atomic():
        participant_randomize(participant=participant, actor=None)
        raise RuntimeError("boom")


def test_a_rolled_back_randomization_leaves_the_slot_free_and_no_event() -> None:
    study = make_study()
    make_allocation(study=study)
    participant = make_participant(study=study)
    mark = _last_event_id()

    with pytest.raises(RuntimeError, match="boom"):
        _randomize_then_fail(participant)

    assert _events_after(mark) == []
    assert not Randomization.objects.exists()
    assert not AllocationSlot.objects.filter(used_by__isnull=False).exists()
    assert not ParticipantPhase.objects.exists()
    assert Participant.objects.get(pk=participant.pk).status == Status.ENROLLED
    # The same participant can then be randomized, to the first slot.
    assert participant_randomize(participant=participant, actor=None).slot.position == 1


# --- reading a participant's allocation -----------------------------------------------------------


def test_the_pharmacist_reads_a_participants_allocation_and_the_read_is_audited() -> None:
    study = make_study()
    make_allocation(study=study)
    participant = make_participant(study=study, status=Status.RANDOMIZED)
    pharmacist = make_member(study=study, role=Role.PHARMACIST).user
    mark = _last_event_id()

    allocation = participant_allocation_read(user=pharmacist, participant=participant)

    slot = AllocationSlot.objects.get(used_by=participant)
    assert allocation.sequence_code == slot.sequence_code
    assert allocation.arms == LDN.sequence_from_code(slot.sequence_code)
    assert [p.arm for p in allocation.phases if p.kind == "treatment"] == list(allocation.arms)
    events = _events_after(mark)
    assert [(e.action, e.object_type) for e in events] == [("read", "randomization.randomization")]


@pytest.mark.parametrize(
    "role", [Role.COORDINATOR, Role.INVESTIGATOR, Role.STATISTICIAN, Role.ADMINISTRATOR]
)
def test_blinded_roles_cannot_read_a_participants_allocation(role: Role) -> None:
    study = make_study()
    make_allocation(study=study)
    participant = make_participant(study=study, status=Status.RANDOMIZED)
    user = make_member(study=study, role=role).user

    with pytest.raises(PermissionDeniedError):
        participant_allocation_read(user=user, participant=participant)


def test_a_user_without_a_role_is_refused() -> None:
    study = make_study()
    make_allocation(study=study)
    participant = make_participant(study=study, status=Status.RANDOMIZED)

    with pytest.raises(PermissionDeniedError):
        participant_allocation_read(user=make_user(username="nobody"), participant=participant)
