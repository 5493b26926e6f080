"""Writes of the diary app, by use case; each public function is one transaction that writes its
rows and their audit event together. `uploads` holds them all for now."""

from diarytrial.diary.services.uploads import (
    DIARY_STATUSES,
    DiaryContent,
    PeriodAnswered,
    ReceivedUpload,
    blinding_guess_record,
    diary_entry_correct,
    diary_entry_submit,
    diary_upload_receive,
    period_answer_from_phone,
    pgic_answer_record,
)

__all__ = [
    "DIARY_STATUSES",
    "DiaryContent",
    "PeriodAnswered",
    "ReceivedUpload",
    "blinding_guess_record",
    "diary_entry_correct",
    "diary_entry_submit",
    "diary_upload_receive",
    "period_answer_from_phone",
    "pgic_answer_record",
]
