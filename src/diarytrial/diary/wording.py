"""How the audit events of diary entries and end-of-period answers read (``audit.wording``).

An item's label ("Pain") comes from the study's protocol (``answers.<item>``, read once per
study by ``studies.wording.study_labels``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.wording import (
    RecordWording,
    choice_words,
    date_words,
    register_record_wording,
)
from diarytrial.diary.models import EntryStatus, GuessChoice, Unpleasantness

_ENTRY = re.compile(r"^diary (\d{4}-\d{2}-\d{2}) of ")
_VISIT = re.compile(r"visit (\d+) of ")


def _entry_phrase(event: AuditEvent) -> str:
    found = _ENTRY.match(event.object_repr)
    if found is None:
        return "a diary entry"
    return f"the diary of {date_words(dt.date.fromisoformat(found.group(1)))}"


def _visit_phrase(what: str) -> Callable[[AuditEvent], str]:
    def phrase(event: AuditEvent) -> str:
        found = _VISIT.search(event.object_repr)
        return f"{what} of visit {found.group(1)}" if found else what

    return phrase


PARTICIPANT = "Participant"


def register() -> None:
    """Register the wording of the records of `diary` (``DiaryConfig.ready``)."""
    register_record_wording(
        RecordWording(
            object_type="diary.diaryentry",
            noun="diary entry",
            phrase=_entry_phrase,
            fields={
                "participant": PARTICIPANT,
                "diary_date": "Diary date",
                "client_id": "Upload id",
                "timezone": "Time zone",
                "received_at": "Received at",
                "completed_at_device": "Filled at (phone's clock)",
                "device_utc_offset": "Phone's UTC offset (minutes)",
                "device_clock_difference": "Phone's clock off by (seconds)",
                "device_time_differs": "Phone's time flagged",
                "late": "Late",
                "capsule_taken": "Capsule taken",
                "status": "Status",
            },
            prefixes={"answers.": "item", "side_effects.": "side effect"},
            values={
                "status": choice_words(EntryStatus.choices),
                "side_effects.": choice_words(Unpleasantness.choices),
            },
            verbs={AuditAction.CREATE: "filled", AuditAction.UPDATE: "corrected"},
        )
    )
    common = {"participant": PARTICIPANT, "visit": "Visit", "answered_on": "Answered on"}
    register_record_wording(
        RecordWording(
            object_type="diary.pgicanswer",
            noun="PGIC answer",
            phrase=_visit_phrase("the PGIC answer"),
            fields={**common, "score": "Score (1 to 7)"},
        )
    )
    register_record_wording(
        RecordWording(
            object_type="diary.blindingguess",
            noun="blinding guess",
            phrase=_visit_phrase("the blinding guess"),
            fields={**common, "guess": "Guess"},
            values={"guess": choice_words(GuessChoice.choices)},
        )
    )
