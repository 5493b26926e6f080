"""Writes of the safety app. Each public function is one transaction that writes its rows and
their audit event together; e-mails go out once it commits. Nothing written or sent here names
an arm: coordinators and investigators act blinded.

Lock order: the study's row (`require_unlocked`), the participant's row, the event's row, the
audit chain head.

A module per use case: `adverse_events.py` (`adverse_event_record`, `adverse_event_update`,
`adverse_event_remove`), `side_effects.py` (the diary's side effects decided:
`side_effect_candidate_confirm`, `side_effect_candidate_dismiss`) and `dose.py`
(`dose_level_change`).
"""

from diarytrial.safety.services.adverse_events import (
    EDITABLE_FIELDS,
    adverse_event_record,
    adverse_event_remove,
    adverse_event_update,
)
from diarytrial.safety.services.dose import dose_level_change
from diarytrial.safety.services.side_effects import (
    side_effect_candidate_confirm,
    side_effect_candidate_dismiss,
)

__all__ = [
    "EDITABLE_FIELDS",
    "adverse_event_record",
    "adverse_event_remove",
    "adverse_event_update",
    "dose_level_change",
    "side_effect_candidate_confirm",
    "side_effect_candidate_dismiss",
]
