"""How the audit events of data queries read (``audit.wording``)."""

from __future__ import annotations

from diarytrial.audit.models import AuditAction
from diarytrial.audit.wording import RecordWording, choice_words, register_record_wording
from diarytrial.queries.models import MessageKind, ParticipantField, QueryKind, QueryStatus


def register() -> None:
    """Register the wording of the records of `queries` (``QueriesConfig.ready``)."""
    steps = {
        MessageKind.RAISE: "Question",
        MessageKind.ANSWER: "Answer",
        MessageKind.CLOSE: "Closing note",
        MessageKind.REOPEN: "Re-opened because",
        MessageKind.CORRECTION: "Correction (audit event no.)",
    }
    register_record_wording(
        RecordWording(
            object_type="queries.dataquery",
            noun="data query",
            phrase=lambda event: f"data query {event.object_id}",
            fields={
                "participant": "Participant",
                "kind": "About",
                "participant_field": "Field of the participant",
                "diary_entry": "Diary entry no.",
                "adverse_event": "Adverse event no.",
                "pgic_answer": "PGIC answer no.",
                "blinding_guess": "Blinding guess no.",
                "status": "Status",
                **{str(kind): label for kind, label in steps.items()},
            },
            values={
                "kind": choice_words(QueryKind.choices),
                "participant_field": choice_words(ParticipantField.choices),
                "status": choice_words(QueryStatus.choices),
            },
            verbs={AuditAction.CREATE: "raised"},
        )
    )
