"""Electronic signatures (21 CFR Part 11): the two components, the meaning, the name and time,
the hash that binds the content (and shows a change since), and failures on the audit trail
with the lockout after repeated ones."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator

import pytest
import time_machine
from django.contrib.auth.models import User
from tests.builders import (
    make_adverse_event,
    make_allocation,
    make_entry,
    make_member,
    make_participant,
    make_study,
    make_totp_device,
    totp_code,
)
from tests.diary.helpers import NOW, START

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.core.errors import PermissionDeniedError
from diarytrial.exports.signing import (
    casebook_sign,
    casebook_signatures,
    database_signatures,
    study_lock_signed,
    study_unlock_signed,
)
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.randomization.models import AllocationSlot
from diarytrial.randomization.signing import (
    emergency_unblinding_signatures,
    participant_unblind_emergency_signed,
)
from diarytrial.safety.models import AdverseEvent
from diarytrial.safety.services import adverse_event_update
from diarytrial.safety.signing import (
    adverse_event_sign,
    adverse_event_signatures,
    adverse_event_signed_content,
)
from diarytrial.signatures.content import canonical_json, content_sha256
from diarytrial.signatures.errors import (
    MeaningRequiredError,
    SigningLockedError,
    SigningRefusedError,
)
from diarytrial.signatures.models import ImmutableSignatureError, Meaning, Signature
from diarytrial.signatures.selectors import signature_matches
from diarytrial.signatures.services import SigningCredentials, manifest_sign
from diarytrial.studies.errors import StudyNotReadyToLockError
from diarytrial.studies.models import Role, Study

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def participant(clock: time_machine.Traveller) -> Participant:
    return make_participant(study=make_study(), start_date=START)


def _investigator(study: Study, *, name: str = "dr-ines") -> User:
    user = make_member(study=study, role=Role.INVESTIGATOR, username=name, password=PASSWORD).user
    user.first_name, user.last_name = "Ines", "Garcia"
    user.save(update_fields=["first_name", "last_name"])
    return user


def _as(
    user: User, *, password: str = PASSWORD, code: str = "", meaning: str = "approved"
) -> SigningCredentials:
    return SigningCredentials(signer=user, password=password, code=code, meaning=meaning)


def _events(action: AuditAction) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- applying a signature, and what it binds ----------------------------------------------------


def test_a_signature_carries_the_printed_name_the_meaning_the_time_and_the_hash(
    participant: Participant,
) -> None:
    event = make_adverse_event(participant=participant)
    investigator = _investigator(participant.study)

    signature = adverse_event_sign(
        event=event, participant=participant, credentials=_as(investigator, meaning="reviewed")
    )

    assert signature.printed_name == "Ines Garcia"
    assert signature.meaning == Meaning.REVIEWED
    assert signature.signed_at == NOW
    assert signature.signer == investigator
    content = adverse_event_signed_content(event, participant.code)
    assert content["term"] == "Headache"
    assert content["participant"] == participant.code
    # The hash is SHA-256 of the canonical JSON of the event's content, as sha256sum gives it.
    text = json.dumps(
        json.loads(canonical_json(content)), sort_keys=True, separators=(",", ":")
    ).encode()
    assert signature.content_sha256 == hashlib.sha256(text).hexdigest()
    [signed] = _events(AuditAction.SIGN)
    assert signed.object_type == "signatures.signature"
    assert {c["field"]: c["new"] for c in signed.changes}["meaning"] == "reviewed"
    assert signed.actor == investigator
    [checked] = adverse_event_signatures(participant=participant)[event.pk]
    assert checked.valid is True
    assert checked.state == "valid"


def test_the_signature_no_longer_holds_once_the_event_changed(participant: Participant) -> None:
    event = make_adverse_event(participant=participant)
    investigator = _investigator(participant.study)
    adverse_event_sign(event=event, participant=participant, credentials=_as(investigator))

    adverse_event_update(
        event=AdverseEvent.objects.get(pk=event.pk),
        changes={"outcome": "recovered", "end_date": START + dt.timedelta(days=3)},
        reason="resolved",
        actor=None,
    )

    [checked] = adverse_event_signatures(participant=participant)[event.pk]
    assert checked.valid is False
    assert checked.state == "invalid"
    # Signed again, the new signature holds; the old one stays, no longer valid.
    adverse_event_sign(event=event, participant=participant, credentials=_as(investigator))
    states = [c.state for c in adverse_event_signatures(participant=participant)[event.pk]]
    assert states == ["invalid", "valid"]


def test_a_signature_cannot_be_changed_or_deleted(participant: Participant) -> None:
    event = make_adverse_event(participant=participant)
    signature = adverse_event_sign(
        event=event,
        participant=participant,
        credentials=_as(_investigator(participant.study)),
    )
    signature.meaning = Meaning.RESPONSIBLE
    with pytest.raises(ImmutableSignatureError):
        signature.save()
    with pytest.raises(ImmutableSignatureError):
        signature.delete()


def test_a_meaning_is_required_and_nothing_is_checked_without_it(participant: Participant) -> None:
    event = make_adverse_event(participant=participant)
    investigator = _investigator(participant.study)
    for meaning in ("", "agreed", "approved\x00"):
        with pytest.raises(MeaningRequiredError, match="approved, reviewed or responsible for"):
            adverse_event_sign(
                event=event,
                participant=participant,
                credentials=_as(investigator, password="wrong", meaning=meaning),
            )
    assert not Signature.objects.exists()
    assert not _events(AuditAction.SIGN_FAILED)


def test_only_an_investigator_signs_an_adverse_event_off(participant: Participant) -> None:
    event = make_adverse_event(participant=participant)
    coordinator = make_member(
        study=participant.study, role=Role.COORDINATOR, password=PASSWORD
    ).user
    with pytest.raises(PermissionDeniedError):
        adverse_event_sign(event=event, participant=participant, credentials=_as(coordinator))
    assert not Signature.objects.exists()
    assert not _events(AuditAction.SIGN_FAILED)


# --- failures -------------------------------------------------------------------------------------


def test_a_wrong_password_is_refused_and_a_security_event_on_the_trail(
    participant: Participant,
) -> None:
    event = make_adverse_event(participant=participant)
    investigator = _investigator(participant.study)

    with pytest.raises(SigningRefusedError, match="password or the code is not right"):
        adverse_event_sign(
            event=event, participant=participant, credentials=_as(investigator, password="guess")
        )

    assert not Signature.objects.exists()
    [failed] = _events(AuditAction.SIGN_FAILED)
    assert failed.actor == investigator
    assert failed.study_slug == participant.study.slug
    assert (failed.object_type, failed.object_id) == ("auth.user", str(investigator.pk))
    assert "adverse event Headache" in failed.reason
    assert "guess" not in json.dumps(failed.changes) + failed.reason  # never the password


@pytest.mark.parametrize(
    "password", ["", "\x00", "x" * 5000, "' OR 1=1 --", "\ud800".encode("utf-8", "surrogatepass")]
)
def test_hostile_passwords_are_refused_like_any_wrong_one(
    participant: Participant, password: str | bytes
) -> None:
    event = make_adverse_event(participant=participant)
    investigator = _investigator(participant.study)
    text = password.decode("utf-8", "replace") if isinstance(password, bytes) else password
    with pytest.raises(SigningRefusedError):
        adverse_event_sign(
            event=event, participant=participant, credentials=_as(investigator, password=text)
        )
    assert len(_events(AuditAction.SIGN_FAILED)) == 1


def test_five_failures_lock_signing_for_fifteen_minutes(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    event = make_adverse_event(participant=participant)
    investigator = _investigator(participant.study)
    wrong = _as(investigator, password="guess")
    for _ in range(4):
        with pytest.raises(SigningRefusedError):
            adverse_event_sign(event=event, participant=participant, credentials=wrong)
        clock.shift(dt.timedelta(minutes=1))
    with pytest.raises(SigningLockedError, match="try again in 15 minutes"):
        adverse_event_sign(event=event, participant=participant, credentials=wrong)
    assert len(_events(AuditAction.SIGN_FAILED)) == 5
    [lockout] = _events(AuditAction.SIGN_LOCKOUT)
    assert lockout.actor == investigator

    # The right password does not help while it lasts, and is not counted.
    clock.shift(dt.timedelta(minutes=14))
    with pytest.raises(SigningLockedError, match="try again in 1 minute"):
        adverse_event_sign(event=event, participant=participant, credentials=_as(investigator))
    assert len(_events(AuditAction.SIGN_FAILED)) == 5
    clock.shift(dt.timedelta(minutes=1, seconds=1))
    adverse_event_sign(event=event, participant=participant, credentials=_as(investigator))
    assert Signature.objects.count() == 1


def test_a_signature_clears_the_count_of_failures(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    event = make_adverse_event(participant=participant)
    investigator = _investigator(participant.study)
    for _ in range(4):
        with pytest.raises(SigningRefusedError):
            adverse_event_sign(
                event=event, participant=participant, credentials=_as(investigator, password="x")
            )
        clock.shift(dt.timedelta(seconds=10))
    adverse_event_sign(event=event, participant=participant, credentials=_as(investigator))
    clock.shift(dt.timedelta(seconds=10))
    with pytest.raises(SigningRefusedError):  # the first failure of a new count, not a lockout
        adverse_event_sign(
            event=event, participant=participant, credentials=_as(investigator, password="x")
        )
    assert not _events(AuditAction.SIGN_LOCKOUT)


def test_a_signer_with_an_authenticator_app_must_give_its_code(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    event = make_adverse_event(participant=participant)
    investigator = _investigator(participant.study)
    device = make_totp_device(investigator)

    for code in ("", "abcdef", "1" * 40):
        with pytest.raises(SigningRefusedError):
            adverse_event_sign(
                event=event, participant=participant, credentials=_as(investigator, code=code)
            )
    assert len(_events(AuditAction.SIGN_FAILED)) == 3
    # The right code and a wrong password is refused too: both components are needed.
    with pytest.raises(SigningRefusedError):
        adverse_event_sign(
            event=event,
            participant=participant,
            credentials=_as(investigator, password="x", code=totp_code(device, steps_ahead=1)),
        )
    clock.shift(dt.timedelta(seconds=10))  # django-otp's own pause after wrong codes
    signature = adverse_event_sign(
        event=event,
        participant=participant,
        credentials=_as(investigator, code=totp_code(device, steps_ahead=1)),
    )
    assert signature.signer == investigator


# --- the signed acts ----------------------------------------------------------------------------


def test_the_lock_and_the_unlock_are_signed_and_the_lock_binds_the_data(
    participant: Participant,
) -> None:
    study = participant.study
    administrator = make_member(
        study=study, role=Role.ADMINISTRATOR, username="ada", password=PASSWORD
    ).user

    with pytest.raises(StudyNotReadyToLockError):  # the right password does not force a lock
        study_lock_signed(study=study, reason="end", credentials=_as(administrator))
    assert not Signature.objects.exists()
    study.refresh_from_db()
    assert study.locked_at is None

    locked, signature = study_lock_signed(
        study=study,
        reason="end",
        override_reason="participant still enrolled",
        credentials=_as(administrator, meaning="responsible"),
    )
    assert locked.locked_at == signature.signed_at == NOW
    assert signature.act == "database_lock"
    lock_event = AuditEvent.objects.get(action=AuditAction.LOCK)
    assert signature.object_id == str(lock_event.pk)
    [checked] = database_signatures(study)
    assert checked.valid is True

    _, unlock = study_unlock_signed(
        study=study, reason="late query", credentials=_as(administrator)
    )
    assert [c.state for c in database_signatures(study)] == ["valid", "valid"]
    # Data changed after the unlock: the lock's signature no longer holds; the unlock's does.
    make_adverse_event(participant=participant)
    states = {c.signature.act: c.state for c in database_signatures(study)}
    assert states == {"database_unlock": "valid", "database_lock": "invalid"}
    assert unlock.act == "database_unlock"


def test_a_wrong_password_leaves_the_study_unlocked(participant: Participant) -> None:
    study = participant.study
    administrator = make_member(study=study, role=Role.ADMINISTRATOR, password=PASSWORD).user
    with pytest.raises(SigningRefusedError):
        study_lock_signed(
            study=study,
            reason="end",
            override_reason="why not",
            credentials=_as(administrator, password="nope"),
        )
    study.refresh_from_db()
    assert study.locked_at is None
    assert not _events(AuditAction.LOCK)
    [failed] = _events(AuditAction.SIGN_FAILED)
    assert "database lock" in failed.reason


def test_the_casebook_signature_binds_the_participants_data(participant: Participant) -> None:
    investigator = _investigator(participant.study)
    make_entry(participant=participant)
    casebook_sign(participant=participant, credentials=_as(investigator))
    assert [c.state for c in casebook_signatures(participant)] == ["valid"]

    make_entry(participant=participant, diary_date=START + dt.timedelta(days=1))

    assert [c.state for c in casebook_signatures(participant)] == ["invalid"]


def test_an_emergency_unblinding_is_signed_without_its_allocation(
    clock: time_machine.Traveller,
) -> None:
    study = make_study()
    make_allocation(study=study)
    participant = make_participant(study=study, status=ParticipantStatus.RANDOMIZED)
    investigator = _investigator(study)

    result, signature = participant_unblind_emergency_signed(
        participant=participant,
        reason="overdose",
        credentials=_as(investigator, meaning="responsible"),
    )

    [checked] = emergency_unblinding_signatures(participant=participant)
    assert checked.signature == signature
    assert checked.valid is True
    sequence = AllocationSlot.objects.get(randomization__participant=participant).sequence_code
    assert result.sequence_code == sequence
    shown = json.dumps(checked.as_metadata()) + str(signature)
    sign_event = AuditEvent.objects.get(action=AuditAction.SIGN)
    shown += json.dumps(sign_event.changes) + sign_event.reason + sign_event.object_repr
    for secret in (sequence, *result.arms, *result.arm_names):
        assert secret not in shown


def test_a_refused_signature_leaves_the_participant_blinded(clock: time_machine.Traveller) -> None:
    study = make_study()
    make_allocation(study=study)
    participant = make_participant(study=study, status=ParticipantStatus.RANDOMIZED)
    with pytest.raises(SigningRefusedError):
        participant_unblind_emergency_signed(
            participant=participant,
            reason="overdose",
            credentials=_as(_investigator(study), password="x"),
        )
    participant.refresh_from_db()
    assert participant.emergency_unblinded_at is None
    assert not _events(AuditAction.UNBLIND)


def test_a_manifest_is_signed_as_its_bytes(participant: Participant) -> None:
    investigator = _investigator(participant.study)
    manifest = b"3a7bd3e2360a3d  casebook-P-1.pdf\n"

    signature = manifest_sign(
        credentials=_as(investigator),
        study=participant.study,
        manifest=manifest,
        name="certified-copy.zip",
    )

    assert signature.content_sha256 == hashlib.sha256(manifest).hexdigest()
    assert signature.content_sha256 == content_sha256(manifest)
    assert signature_matches(signature, manifest)
    assert not signature_matches(signature, manifest + b" ")
    assert signature.act == "manifest"
    coordinator = make_member(
        study=participant.study, role=Role.COORDINATOR, password=PASSWORD
    ).user
    with pytest.raises(PermissionDeniedError):
        manifest_sign(
            credentials=_as(coordinator), study=participant.study, manifest=manifest, name="x"
        )
