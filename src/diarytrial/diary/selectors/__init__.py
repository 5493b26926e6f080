"""Reads of the diary app, by use case. Nothing here names an arm: all of it is blinded-safe.

- `entries`: a participant's entries by date, their answers, the PGIC answers and blinding
  guesses, an entry or one upload as the phone sees it (`EntryView`), and the participant's own
  history (`HistoryRow`);
- `tonight`: tonight's diary form on the phone (`diary_form_tonight`) and the end-of-period
  questions due (`diary_questions_due`);
- `progress`: how the participant is doing so far (`diary_progress`);
- `days`: dates and instants in a participant's words, and their last diary day.
"""

from diarytrial.diary.selectors.days import diary_day_words, diary_when_words
from diarytrial.diary.selectors.entries import (
    EntryView,
    HistoryRow,
    blinding_guess_list,
    diary_entry_answers,
    diary_entry_get,
    diary_entry_list,
    diary_history,
    diary_submission_view,
    diary_upload_view,
    pgic_answer_list,
)
from diarytrial.diary.selectors.progress import DiaryProgress, diary_progress
from diarytrial.diary.selectors.tonight import (
    UNPLEASANTNESS_CHOICES,
    DiaryForm,
    DueQuestion,
    FormChoice,
    FormItem,
    FormSideEffect,
    FormState,
    QuestionKind,
    diary_form_tonight,
    diary_questions_due,
)
from diarytrial.protocol.visits import QUESTIONS_DUE_DAYS

__all__ = [
    "QUESTIONS_DUE_DAYS",
    "UNPLEASANTNESS_CHOICES",
    "DiaryForm",
    "DiaryProgress",
    "DueQuestion",
    "EntryView",
    "FormChoice",
    "FormItem",
    "FormSideEffect",
    "FormState",
    "HistoryRow",
    "QuestionKind",
    "blinding_guess_list",
    "diary_day_words",
    "diary_entry_answers",
    "diary_entry_get",
    "diary_entry_list",
    "diary_form_tonight",
    "diary_history",
    "diary_progress",
    "diary_questions_due",
    "diary_submission_view",
    "diary_upload_view",
    "diary_when_words",
    "pgic_answer_list",
]
