"""How the audit events of participants and their own records read (``audit.wording``)."""

from __future__ import annotations

import re

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.wording import RecordWording, choice_words, register_record_wording
from diarytrial.participants.models import ParticipantStatus

_CONSENT = re.compile(r"^consent (.+) of \d+$")
_DOSE = re.compile(r"^dose level (\d+) from (\d{4}-\d{2}-\d{2})$")


def _consent_phrase(event: AuditEvent) -> str:
    found = _CONSENT.match(event.object_repr)
    return f"the consent (form version {found.group(1)})" if found else "a consent"


def _dose_phrase(event: AuditEvent) -> str:
    found = _DOSE.match(event.object_repr)
    return f"dose level {found.group(1)} from {found.group(2)}" if found else "a dose level"


PARTICIPANT = "Participant"


def register() -> None:
    """Register the wording of the records of `participants` (``ParticipantsConfig.ready``)."""
    register_record_wording(
        RecordWording(
            object_type="participants.participant",
            noun="participant",
            fields={
                "code": "Code",
                "site": "Site",
                "protocol_version": "Protocol version",
                "timezone": "Time zone",
                "opioid_use": "Uses opioids",
                "age": "Age",
                "status": "Status",
                "eligible": "Eligible",
                "ineligibility_reason": "Not eligible because",
                "start_date": "Start date",
                "start_dose_level": "Start dose level",
                "dose_level": "Dose level",
                "enrolled_at": "Enrolled at",
                "randomized_at": "Randomized at",
                "completed_on": "Completed on",
                "withdrawn_on": "Withdrawn on",
                "withdrawal_reason": "Withdrawal reason",
                "emergency_unblinded_at": "Emergency unblinding at",
            },
            values={"status": choice_words(ParticipantStatus.choices)},
            verbs={AuditAction.CREATE: "screened"},
        )
    )
    register_record_wording(
        RecordWording(
            object_type="participants.eligibilityanswer",
            noun="screening answer",
            phrase=lambda event: "a screening answer",
            fields={
                "participant": PARTICIPANT,
                "question_id": "Question",
                "answer": "Answer",
                "eligible": "Eligible by it",
            },
            study_values={"question_id": "eligibility."},
        )
    )
    register_record_wording(
        RecordWording(
            object_type="participants.consent",
            noun="consent",
            phrase=_consent_phrase,
            fields={
                "participant": PARTICIPANT,
                "form_version": "Form version",
                "consented_on": "Signed on",
                "obtained_by": "Obtained by",
            },
        )
    )
    register_record_wording(
        RecordWording(
            object_type="participants.doselevelchange",
            noun="dose level change",
            phrase=_dose_phrase,
            fields={
                "participant": PARTICIPANT,
                "effective_on": "From",
                "level": "Dose level",
            },
            verbs={AuditAction.CREATE: "set"},
        )
    )
    # A planned phase is allocation (its dates tell the sequence): its values are hidden from
    # blinded readers by audit.redaction, and its phrase names no index or kind.
    register_record_wording(
        RecordWording(
            object_type="participants.participantphase",
            noun="planned phase",
            phrase=lambda event: "a planned phase",
            fields={
                "participant": PARTICIPANT,
                "index": "Order",
                "kind": "Kind",
                "period": "Period",
                "block": "Block",
                "start": "Start",
                "end": "End",
            },
        )
    )
