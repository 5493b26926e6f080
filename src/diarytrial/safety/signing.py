"""An investigator's sign-off of an adverse event (21 CFR Part 11): what is signed, the signing
itself and the signatures of a participant's events, each checked against the event now.

The content signed is the event as the investigator sees it: its term, dates, severity,
seriousness, relatedness, action, outcome and status, with its participant. Changing any of
them afterwards makes the signature no longer valid; the event is then signed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from diarytrial.participants.models import Participant
from diarytrial.safety.errors import AdverseEventRemovedError
from diarytrial.safety.models import AdverseEvent, EventStatus
from diarytrial.safety.selectors import adverse_event_list
from diarytrial.signatures.models import Signature, SignedAct
from diarytrial.signatures.selectors import (
    CheckedSignature,
    signature_check,
    signatures_checked,
    signatures_of,
)
from diarytrial.signatures.services import (
    SignedRecord,
    SigningCredentials,
    record_of,
    signed_act,
)
from diarytrial.studies.access import require_role
from diarytrial.studies.models import Role
from diarytrial.studies.services import require_unlocked

OBJECT_TYPE = "safety.adverseevent"

SIGNED_FIELDS = (
    "term",
    "side_effect",
    "onset_date",
    "end_date",
    "severity",
    "serious",
    "related",
    "action",
    "outcome",
    "status",
    "removal_reason",
)
"""The fields of an event that its signature binds."""


def adverse_event_signed_content(event: AdverseEvent, participant_code: str) -> dict[str, Any]:
    """What an investigator signs of `event`: its fields that matter, and whose it is."""
    return {
        "act": SignedAct.ADVERSE_EVENT.value,
        "adverse_event": event.pk,
        "participant": participant_code,
        **{field: getattr(event, field) for field in SIGNED_FIELDS},
    }


def _record(event: AdverseEvent, participant: Participant) -> SignedRecord:
    return record_of(
        event,
        act=SignedAct.ADVERSE_EVENT,
        content=adverse_event_signed_content(event, participant.code),
        object_repr=f"adverse event {event.term} of {participant.code} (AE {event.pk})",
        participant_code=participant.code,
    )


def adverse_event_sign(
    *, event: AdverseEvent, participant: Participant, credentials: SigningCredentials
) -> Signature:
    """The investigator signs `event` off as it is now.

    Investigators of the study only (PermissionDeniedError); not on a locked study
    (StudyLockedError); a removed event is not signed (AdverseEventRemovedError). The signer's
    password and code are checked first (see ``signatures.services.signer_verify``).
    """
    study = participant.study
    require_role(credentials.signer, study, Role.INVESTIGATOR)

    def perform() -> tuple[AdverseEvent, SignedRecord]:
        require_unlocked(study)
        current = AdverseEvent.objects.select_for_update().get(pk=event.pk)
        if current.status != EventStatus.RECORDED:
            raise AdverseEventRemovedError(
                f"Adverse event {current.term} of {participant.code} was removed: there is "
                f"nothing to sign off."
            )
        return current, _record(current, participant)

    _, signature = signed_act(
        credentials=credentials, study=study, intended=_record(event, participant), perform=perform
    )
    return signature


def adverse_event_signatures(
    *, participant: Participant, events: Sequence[AdverseEvent] | None = None
) -> dict[int, list[CheckedSignature]]:
    """The signatures of `participant`'s events (all of them by default), checked now."""
    if events is None:
        events = adverse_event_list(participant=participant, include_removed=True)
    by_id = {str(event.pk): event for event in events}
    found = signatures_of(object_type=OBJECT_TYPE, object_ids=by_id, acts=[SignedAct.ADVERSE_EVENT])

    def content(object_id: str) -> dict[str, Any]:
        return adverse_event_signed_content(by_id[object_id], participant.code)

    return {int(key): rows for key, rows in signatures_checked(found, content).items()}


def adverse_event_signature_check(signature: Signature) -> CheckedSignature:
    """One AE signature checked against its event now (for exports and the trail)."""
    event = (
        AdverseEvent.objects.filter(pk=signature.object_id).select_related("participant").first()
        if signature.object_id.isdigit()
        else None
    )
    content = (
        adverse_event_signed_content(event, event.participant.code) if event is not None else None
    )
    return signature_check(signature, content)
