"""Writes of the data queries app. Each public function is one transaction that writes the
query, its message and its audit event together, after `require_unlocked`.

`steps.py`: the life of a query (`query_raise`, `query_answer`, `query_close`,
`query_reopen`). `corrections.py`: a correction made in answer to a query, linked on its thread
(`query_correction_link`), and the composed services that correct the record and link it
(`query_diary_entry_correct`, `query_adverse_event_update`).
"""

from diarytrial.queries.services.corrections import (
    correction_words,
    query_adverse_event_update,
    query_correction_link,
    query_diary_entry_correct,
)
from diarytrial.queries.services.steps import (
    query_answer,
    query_close,
    query_raise,
    query_reopen,
    query_text_check,
)

__all__ = [
    "correction_words",
    "query_adverse_event_update",
    "query_answer",
    "query_close",
    "query_correction_link",
    "query_diary_entry_correct",
    "query_raise",
    "query_reopen",
    "query_text_check",
]
