"""Writes of the diary app, by use case. Each public function is one transaction that writes its
rows and their audit event together; e-mails go out once it commits.

- `uploads`: the participant's diary uploads from the phone (`diary_upload_receive`,
  `diary_entry_submit`), in steps: the upload checked, the same upload again recognised, the
  diary date decided, the entry stored;
- `windows`: which diary date an upload belongs to by the server's clock, and whether the
  participant can have an entry that night (`DIARY_STATUSES`);
- `entries`: an upload's entry written, created or replaced, with its record, audit event and
  e-mail (`ReceivedUpload`);
- `corrections`: staff corrections of an entry whose window has closed (`diary_entry_correct`);
- `period_answers`: the end-of-period questions, PGIC and blinding guess (`pgic_answer_record`,
  `blinding_guess_record`, `period_answer_from_phone`);
- `content`: what one entry says (`DiaryContent`), its check against the protocol, its rows and
  its changes, shared by uploads and corrections.

Lock order: the study's row (`require_unlocked`), the participant's row, the audit chain head.
"""

from diarytrial.diary.services.content import DiaryContent
from diarytrial.diary.services.corrections import diary_entry_correct
from diarytrial.diary.services.entries import ReceivedUpload
from diarytrial.diary.services.period_answers import (
    PeriodAnswered,
    blinding_guess_record,
    period_answer_from_phone,
    pgic_answer_record,
)
from diarytrial.diary.services.uploads import diary_entry_submit, diary_upload_receive
from diarytrial.diary.services.windows import DIARY_STATUSES

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
