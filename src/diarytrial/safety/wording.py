"""How the audit events of adverse events and side-effect reviews read (``audit.wording``)."""

from __future__ import annotations

import re

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.wording import RecordWording, choice_words, register_record_wording
from diarytrial.diary.models import Unpleasantness
from diarytrial.safety.models import (
    ActionTaken,
    EventStatus,
    Outcome,
    Relatedness,
    ReviewDecision,
    Severity,
)

_EVENT = re.compile(r"^AE \d+: (.+)$")


def _event_phrase(event: AuditEvent) -> str:
    found = _EVENT.match(event.object_repr)
    term = f" ({found.group(1)})" if found else ""
    return f"adverse event {event.object_id}{term}"


PARTICIPANT = "Participant"


def register() -> None:
    """Register the wording of the records of `safety` (``SafetyConfig.ready``)."""
    register_record_wording(
        RecordWording(
            object_type="safety.adverseevent",
            noun="adverse event",
            phrase=_event_phrase,
            fields={
                "participant": PARTICIPANT,
                "term": "Term",
                "side_effect": "Side effect of the checklist",
                "onset_date": "Onset",
                "end_date": "End",
                "severity": "Severity",
                "serious": "Serious",
                "related": "Related to the study medication",
                "action": "Action taken",
                "outcome": "Outcome",
                "from_diary_entry": "Confirms the diary report of entry no.",
                "status": "Status",
                "removal_reason": "Removed because",
            },
            values={
                "severity": choice_words(Severity.choices),
                "related": choice_words(Relatedness.choices),
                "action": choice_words(ActionTaken.choices),
                "outcome": choice_words(Outcome.choices),
                "status": choice_words(EventStatus.choices),
            },
            study_values={"side_effect": "side_effects."},
        )
    )
    register_record_wording(
        RecordWording(
            object_type="safety.sideeffectreview",
            noun="side-effect review",
            phrase=lambda event: "a side effect reported in the diary",
            fields={
                "participant": PARTICIPANT,
                "side_effect": "Side effect",
                "first_reported": "First reported",
                "last_reported": "Last reported",
                "nights": "Nights reported",
                "worst": "Worst",
                "decision": "Decision",
                "adverse_event": "Adverse event no.",
            },
            values={
                "worst": choice_words(Unpleasantness.choices),
                "decision": choice_words(ReviewDecision.choices),
            },
            study_values={"side_effect": "side_effects."},
            verbs={AuditAction.CREATE: "reviewed"},
        )
    )
