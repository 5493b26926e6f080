"""Writes of the safety app, in `adverse_events.py` until they are split by use case."""

from diarytrial.safety.services.adverse_events import (
    EDITABLE_FIELDS,
    adverse_event_record,
    adverse_event_remove,
    adverse_event_update,
    dose_level_change,
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
