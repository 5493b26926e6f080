"""Emergency unblinding, signed (21 CFR Part 11): the unblinding and the signature of the
person who did it, in one transaction, and the signatures of a participant's unblindings.

What is signed is the unblinding as the audit trail holds it: its UNBLIND event (the
participant, the time, the reason, and the event's own hash, recomputed from its fields), never
the sequence revealed. A hash of the sequence would be a leak: with two or three sequences to
try, anyone who saw it could find the allocation. So the signature shows nothing a blinded
reader may not see, and it is shown only where the unblinding itself is (the participant's
page, the result page, the audit trail).
"""

from __future__ import annotations

from typing import Any

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.services import event_hash
from diarytrial.participants.models import Participant
from diarytrial.randomization.services.unblinding import (
    EmergencyUnblinding,
    participant_unblind_emergency,
)
from diarytrial.signatures.models import Signature, SignedAct
from diarytrial.signatures.selectors import CheckedSignature, signatures_checked, signatures_of
from diarytrial.signatures.services import (
    SignedRecord,
    SigningCredentials,
    record_of,
    signed_act,
)
from diarytrial.studies.access import require_role
from diarytrial.studies.models import Role

OBJECT_TYPE = "audit.auditevent"


def unblinding_signed_content(event: AuditEvent, participant_code: str) -> dict[str, Any]:
    """What the person who unblinded signs: the UNBLIND event as the trail holds it."""
    return {
        "act": SignedAct.EMERGENCY_UNBLINDING.value,
        "participant": participant_code,
        "audit_event": event.pk,
        "audit_event_sha256": event_hash(event),
        "occurred_at": event.occurred_at,
        "actor": event.actor_label,
        "reason": event.reason,
    }


def _unblind_events(participant: Participant) -> Any:
    return AuditEvent.objects.filter(
        object_type="participants.participant",
        object_id=str(participant.pk),
        action=AuditAction.UNBLIND,
    )


def participant_unblind_emergency_signed(
    *, participant: Participant, reason: str, credentials: SigningCredentials
) -> tuple[EmergencyUnblinding, Signature]:
    """Unblind `participant` in an emergency (``participant_unblind_emergency``) and sign it.

    The role is checked before the signer's password and code, so that someone who may not
    unblind learns nothing from a signing attempt.
    """
    require_role(credentials.signer, participant.study, Role.INVESTIGATOR, Role.PHARMACIST)
    intended = SignedRecord(
        act=SignedAct.EMERGENCY_UNBLINDING,
        object_type=OBJECT_TYPE,
        object_id="",
        object_repr=f"emergency unblinding of {participant.code}",
        content={},
        participant_code=participant.code,
    )

    def perform() -> tuple[EmergencyUnblinding, SignedRecord]:
        result = participant_unblind_emergency(
            participant=participant, reason=reason, actor=credentials.signer
        )
        event = _unblind_events(participant).order_by("-id").first()
        if event is None:  # pragma: no cover - the service records it in this transaction
            raise RuntimeError("the emergency unblinding recorded no UNBLIND event")
        record = record_of(
            event,
            act=SignedAct.EMERGENCY_UNBLINDING,
            content=unblinding_signed_content(event, participant.code),
            object_repr=intended.object_repr,
            participant_code=participant.code,
        )
        return result, record

    return signed_act(
        credentials=credentials, study=participant.study, intended=intended, perform=perform
    )


def emergency_unblinding_signatures(*, participant: Participant) -> list[CheckedSignature]:
    """The signatures of `participant`'s emergency unblindings, each checked against its event."""
    events = {str(event.pk): event for event in _unblind_events(participant)}
    found = signatures_of(
        object_type=OBJECT_TYPE, object_ids=events, acts=[SignedAct.EMERGENCY_UNBLINDING]
    )
    checked = signatures_checked(
        found, lambda object_id: unblinding_signed_content(events[object_id], participant.code)
    )
    return [item for rows in checked.values() for item in rows]
