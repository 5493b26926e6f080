"""Signed acts composed at the level of the database page: the lock and the unlock, an
investigator's sign-off of a participant's casebook, and the signatures an export carries.

What each signature binds (its content, hashed with SHA-256 as canonical JSON):

- **database lock**: the LOCK event as the audit trail holds it (its id and its hash recomputed
  from its fields; the event's hash chains every change recorded before it), the lock's time,
  reason and override, and a summary of the study's data (counts of each kind of record and
  the latest change of the records that can be changed). Data changed after an unlock make
  the lock's signature no longer valid.
- **database unlock**: the UNLOCK event as the trail holds it (id, recomputed hash, reason).
- **casebook**: the participant's data as a whole: the participant's record, screening
  answers, consents, every diary entry with its answers and side effects, adverse events, dose
  levels and end-of-visit answers (PGIC, blinding question). Nothing of the allocation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Count, Max

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.services import event_hash
from diarytrial.diary.models import BlindingGuess, DiaryEntry, PgicAnswer
from diarytrial.participants.models import (
    Consent,
    DoseLevelChange,
    EligibilityAnswer,
    Participant,
)
from diarytrial.safety.models import AdverseEvent
from diarytrial.safety.signing import SIGNED_FIELDS, adverse_event_signature_check
from diarytrial.signatures.models import Signature, SignedAct
from diarytrial.signatures.selectors import CheckedSignature, signature_check
from diarytrial.signatures.services import (
    SignedRecord,
    SigningCredentials,
    record_of,
    signed_act,
)
from diarytrial.studies.access import require_role
from diarytrial.studies.models import Role, Study
from diarytrial.studies.services import require_unlocked, study_lock, study_unlock

EVENT_TYPE = "audit.auditevent"
DATABASE_ACTS = (SignedAct.DATABASE_LOCK, SignedAct.DATABASE_UNLOCK)

# --- the lock and the unlock ----------------------------------------------------------------


def study_data_summary(study: Study) -> dict[str, Any]:
    """How many records of each kind the study holds, and when the changeable ones last
    changed: what a lock signature binds besides the LOCK event."""
    participants = Participant.objects.filter(study=study)
    by_status = dict(participants.values_list("status").annotate(n=Count("id")).order_by("status"))
    entries = DiaryEntry.objects.filter(participant__study=study).aggregate(
        n=Count("id"), last=Max("updated_at")
    )
    events = AdverseEvent.objects.filter(participant__study=study).aggregate(
        n=Count("id"), last=Max("updated_at")
    )
    return {
        "participants": by_status,
        "participants_last_screened": participants.aggregate(last=Max("created_at"))["last"],
        "diary_entries": entries["n"],
        "diary_entries_last_changed": entries["last"],
        "adverse_events": events["n"],
        "adverse_events_last_changed": events["last"],
        "dose_level_changes": DoseLevelChange.objects.filter(participant__study=study).count(),
        "pgic_answers": PgicAnswer.objects.filter(participant__study=study).count(),
        "blinding_answers": BlindingGuess.objects.filter(participant__study=study).count(),
    }


def database_signed_content(
    event: AuditEvent, study: Study, summary: Callable[[], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What a lock (or unlock) signature binds: its audit event, and for a lock the data."""
    lock = event.action == AuditAction.LOCK
    content: dict[str, Any] = {
        "act": (SignedAct.DATABASE_LOCK if lock else SignedAct.DATABASE_UNLOCK).value,
        "study": study.slug,
        "audit_event": event.pk,
        "audit_event_sha256": event_hash(event),
        "occurred_at": event.occurred_at,
        "changes": event.changes,
        "reason": event.reason,
    }
    if lock:
        content["data"] = (summary or (lambda: study_data_summary(study)))()
    return content


def _last_event(study: Study, action: AuditAction) -> AuditEvent:
    event = (
        AuditEvent.objects.filter(
            action=action, object_type="studies.study", object_id=str(study.pk)
        )
        .order_by("-id")
        .first()
    )
    if event is None:  # pragma: no cover - the service records it in this transaction
        raise RuntimeError(f"the {action} of {study.slug} recorded no event")
    return event


def _database_record(study: Study, act: SignedAct, event: AuditEvent | None) -> SignedRecord:
    words = "lock" if act == SignedAct.DATABASE_LOCK else "unlock"
    repr_ = f"database {words} of {study.slug}"
    if event is None:
        return SignedRecord(
            act=act, object_type=EVENT_TYPE, object_id="", object_repr=repr_, content={}
        )
    return record_of(
        event, act=act, content=database_signed_content(event, study), object_repr=repr_
    )


def study_lock_signed(
    *, study: Study, reason: str, override_reason: str = "", credentials: SigningCredentials
) -> tuple[Study, Signature]:
    """Lock `study` (``studies.services.study_lock``) and sign the lock, in one transaction.

    Administrators only (checked before the signer's password and code)."""
    require_role(credentials.signer, study, Role.ADMINISTRATOR)

    def perform() -> tuple[Study, SignedRecord]:
        locked = study_lock(
            study=study, reason=reason, actor=credentials.signer, override_reason=override_reason
        )
        event = _last_event(study, AuditAction.LOCK)
        return locked, _database_record(study, SignedAct.DATABASE_LOCK, event)

    return signed_act(
        credentials=credentials,
        study=study,
        intended=_database_record(study, SignedAct.DATABASE_LOCK, None),
        perform=perform,
    )


def study_unlock_signed(
    *, study: Study, reason: str, credentials: SigningCredentials
) -> tuple[Study, Signature]:
    """Unlock `study` (``studies.services.study_unlock``) and sign the unlock."""
    require_role(credentials.signer, study, Role.ADMINISTRATOR)

    def perform() -> tuple[Study, SignedRecord]:
        unlocked = study_unlock(study=study, reason=reason, actor=credentials.signer)
        event = _last_event(study, AuditAction.UNLOCK)
        return unlocked, _database_record(study, SignedAct.DATABASE_UNLOCK, event)

    return signed_act(
        credentials=credentials,
        study=study,
        intended=_database_record(study, SignedAct.DATABASE_UNLOCK, None),
        perform=perform,
    )


def database_signatures(study: Study) -> list[CheckedSignature]:
    """The signatures of the study's locks and unlocks, newest first, each checked now."""
    rows = list(
        Signature.objects.filter(study=study, act__in=[a.value for a in DATABASE_ACTS])
        .select_related("signer")
        .order_by("-signed_at", "-id")
    )
    events = AuditEvent.objects.in_bulk([int(s.object_id) for s in rows if s.object_id.isdigit()])
    summary: dict[str, Any] = {}

    def data() -> dict[str, Any]:
        if not summary:
            summary.update(study_data_summary(study))
        return summary

    checked = []
    for signature in rows:
        event = events.get(int(signature.object_id)) if signature.object_id.isdigit() else None
        content = database_signed_content(event, study, data) if event is not None else None
        checked.append(signature_check(signature, content))
    return checked


# --- the casebook -----------------------------------------------------------------------------


def casebook_content(participant: Participant) -> dict[str, Any]:
    """A participant's data as a whole, as the investigator signs it off (no allocation)."""
    p = participant
    entries = (
        DiaryEntry.objects.filter(participant=p)
        .prefetch_related("answers", "side_effects")
        .order_by("diary_date", "id")
    )
    return {
        "act": SignedAct.CASEBOOK.value,
        "participant": {
            "code": p.code,
            "site": p.site.code,
            "status": p.status,
            "eligible": p.eligible,
            "ineligibility_reason": p.ineligibility_reason,
            "timezone": p.timezone,
            "opioid_use": p.opioid_use,
            "age": p.age,
            "start_date": p.start_date,
            "start_dose_level": p.start_dose_level,
            "dose_level": p.dose_level,
            "enrolled_at": p.enrolled_at,
            "randomized_at": p.randomized_at,
            "completed_on": p.completed_on,
            "withdrawn_on": p.withdrawn_on,
            "withdrawal_reason": p.withdrawal_reason,
            "emergency_unblinded_at": p.emergency_unblinded_at,
        },
        "eligibility": list(
            EligibilityAnswer.objects.filter(participant=p)
            .order_by("question_id")
            .values_list("question_id", "answer", "eligible")
        ),
        "consents": list(
            Consent.objects.filter(participant=p)
            .order_by("consented_on", "id")
            .values_list("form_version", "consented_on", "obtained_by__username")
        ),
        "diary": [
            {
                "date": entry.diary_date,
                "status": entry.status,
                "late": entry.late,
                "capsule_taken": entry.capsule_taken,
                "received_at": entry.received_at,
                "answers": {a.item: a.value for a in entry.answers.all()},
                "side_effects": {s.side_effect: s.unpleasantness for s in entry.side_effects.all()},
            }
            for entry in entries
        ],
        "adverse_events": [
            {"id": event.pk, **{name: getattr(event, name) for name in SIGNED_FIELDS}}
            for event in AdverseEvent.objects.filter(participant=p).order_by("id")
        ],
        "dose_levels": list(
            DoseLevelChange.objects.filter(participant=p)
            .order_by("effective_on", "id")
            .values_list("effective_on", "level", "reason")
        ),
        "pgic": list(
            PgicAnswer.objects.filter(participant=p)
            .order_by("visit")
            .values_list("visit", "score", "answered_on")
        ),
        "blinding_answers": list(
            BlindingGuess.objects.filter(participant=p)
            .order_by("visit")
            .values_list("visit", "guess", "answered_on")
        ),
    }


def _casebook_record(participant: Participant) -> SignedRecord:
    return record_of(
        participant,
        act=SignedAct.CASEBOOK,
        content=casebook_content(participant),
        object_repr=f"casebook of {participant.code}",
        participant_code=participant.code,
    )


def casebook_sign(*, participant: Participant, credentials: SigningCredentials) -> Signature:
    """The investigator signs off `participant`'s casebook as it is now.

    Investigators of the study only (PermissionDeniedError); not on a locked study
    (StudyLockedError): casebooks are signed off before the lock."""
    study = participant.study
    require_role(credentials.signer, study, Role.INVESTIGATOR)

    def perform() -> tuple[Participant, SignedRecord]:
        require_unlocked(study)
        current = (
            Participant.objects.select_for_update().select_related("site").get(pk=participant.pk)
        )
        return current, _casebook_record(current)

    intended = SignedRecord(
        act=SignedAct.CASEBOOK,
        object_type="participants.participant",
        object_id=str(participant.pk),
        object_repr=f"casebook of {participant.code}",
        content={},
        participant_code=participant.code,
    )
    _, signature = signed_act(
        credentials=credentials, study=study, intended=intended, perform=perform
    )
    return signature


def casebook_signatures(participant: Participant) -> list[CheckedSignature]:
    """The signatures of `participant`'s casebook, oldest first, each checked against it now."""
    rows = list(
        Signature.objects.filter(
            act=SignedAct.CASEBOOK,
            object_type="participants.participant",
            object_id=str(participant.pk),
        )
        .select_related("signer")
        .order_by("signed_at", "id")
    )
    content = casebook_content(participant) if rows else None
    return [signature_check(signature, content) for signature in rows]


# --- what an export carries -----------------------------------------------------------------


def export_signatures(
    *, study: Study, participants: Iterable[Participant]
) -> list[CheckedSignature]:
    """The signatures an export of `participants` carries, oldest first, each checked now: the
    study's locks and unlocks, and the sign-offs of those participants' adverse events and
    casebooks. Not the emergency unblindings: their signatures stay with the unblinding."""
    chosen = {p.code: p for p in participants}
    rows = (
        Signature.objects.filter(study=study)
        .filter(act__in=[SignedAct.ADVERSE_EVENT, SignedAct.CASEBOOK])
        .filter(participant_code__in=list(chosen))
        .select_related("signer")
        .order_by("signed_at", "id")
    )
    casebooks: dict[str, dict[str, Any]] = {}
    checked: list[CheckedSignature] = list(reversed(database_signatures(study)))
    for signature in rows:
        if signature.act == SignedAct.ADVERSE_EVENT:
            checked.append(adverse_event_signature_check(signature))
            continue
        code = signature.participant_code
        if code not in casebooks:
            casebooks[code] = casebook_content(chosen[code])
        checked.append(signature_check(signature, casebooks[code]))
    return sorted(checked, key=lambda c: (c.signature.signed_at, c.signature.pk or 0))


def signatures_metadata(checked: Iterable[CheckedSignature]) -> list[dict[str, Any]]:
    """The signatures as ``datapackage.json`` gives them (docs/dataset.md)."""
    return [item.as_metadata() for item in checked]
