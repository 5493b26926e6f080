"""The participant's diary over JSON: tonight's form, uploads, history, progress, end-of-period
questions (mounted under ``/api/`` by ``diarytrial.web.api``; documented in docs/api.md).

Every endpoint authenticates the participant's phone by its device cookie (`device_auth`);
writes need the CSRF token too. Views are thin: reads come from ``diary.selectors``, writes go
through ``diary.services``, refusals are the services' errors, which the API renders as
problem details. **The server's clock decides**: a body naming its own ``received_at`` is
refused, and the device's ``completed_at_device`` is recorded, never trusted. Nothing here
names an arm, a sequence or a dose.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.middleware.csrf import get_token
from ninja import Field, Router, Schema, Status
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictFloat,
    StrictInt,
)
from pydantic.config import JsonDict

from diarytrial.core.errors import NotFoundError
from diarytrial.core.problems import ProblemOut
from diarytrial.devices.api_auth import device_auth
from diarytrial.devices.errors import DeviceNotEnrolledError
from diarytrial.devices.models import Device
from diarytrial.diary.errors import (
    DiaryDateInvalidError,
    DiaryEntryClosedError,
    DiaryWindowClosedError,
)
from diarytrial.diary.models import BlindingGuess, PgicAnswer
from diarytrial.diary.selectors import (
    DiaryForm,
    DiaryProgress,
    EntryView,
    HistoryRow,
    diary_day_words,
    diary_entry_get,
    diary_form_tonight,
    diary_history,
    diary_progress,
    diary_submission_view,
    diary_upload_view,
)
from diarytrial.diary.services import diary_upload_receive, period_answer_from_phone
from diarytrial.participants.models import Participant

router = Router(auth=device_auth, tags=["diary"])


# --- schemas ------------------------------------------------------------------------------------


class ItemOut(Schema):
    id: str
    label: str
    question: str
    scale: str
    min: int
    max: int
    anchors: list[str]
    required: bool


class SideEffectOut(Schema):
    id: str
    label: str


class ChoiceOut(Schema):
    value: int | str
    label: str


class QuestionOut(Schema):
    kind: Literal["pgic", "blinding"]
    visit: int = Field(description="the visit the question closes: 2, 3, ... of the calendar")
    question: str
    choices: list[ChoiceOut]


class EntryOut(Schema):
    client_id: uuid.UUID
    diary_date: dt.date
    late: bool
    status: str = Field(description="submitted, or corrected (by staff)")
    received_at: dt.datetime = Field(description="when the server received it (its clock, UTC)")
    answers: dict[str, float]
    side_effects: dict[str, str]
    capsule_taken: bool | None


class FormOut(Schema):
    state: Literal["open", "closed", "not_started", "finished"]
    diary_date: dt.date | None
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None
    next_window_opens: dt.datetime | None
    message: str
    timezone: str
    items: list[ItemOut]
    side_effects: list[SideEffectOut]
    unpleasantness: list[ChoiceOut]
    capsule_question: str
    entry: EntryOut | None
    questions: list[QuestionOut]


class HistoryOut(Schema):
    diary_date: dt.date
    late: bool
    status: str
    answers: dict[str, float]
    side_effects: dict[str, str]
    capsule_taken: bool | None


class ProgressOut(Schema):
    entries: int
    days_so_far: int
    completion_pct: float
    streak: int
    today_done: bool


_EARLIEST_PHONE_TIME = dt.datetime(1, 1, 2, tzinfo=dt.UTC)
_LATEST_PHONE_TIME = dt.datetime(9999, 12, 30, tzinfo=dt.UTC)


def _iso_text(value: object) -> object:
    # Not a number of seconds, which would carry no offset: the phone's time as it shows it.
    if not isinstance(value, str | dt.datetime):
        raise ValueError("send the phone's time as ISO 8601 text with its offset")
    return value


def _recordable(value: dt.datetime) -> dt.datetime:
    # A day inside the years 1..9999, so that it converts to UTC and to any time zone.
    if not _EARLIEST_PHONE_TIME <= value <= _LATEST_PHONE_TIME:
        raise ValueError(
            "a phone's time lies within the years 1 to 9999; send the time the phone completed "
            "the entry, with its offset (e.g. 2026-03-02T21:14:03-08:00)"
        )
    return value


ENTRY_EXAMPLE: JsonDict = {
    "client_id": "0b8f3c2e-5d1a-4f8e-9c61-3a2b7d4e5f60",
    "form_date": "2026-03-02",
    "answers": {
        "pain": 42,
        "fatigue": 55,
        "sleep": 61,
        "mood": 50,
        "activity": 40,
        "satisfaction": 47,
    },
    "side_effects": {"headache": "somewhat"},
    "capsule_taken": True,
    "completed_at_device": "2026-03-02T21:14:03-08:00",
}
"""The upload of docs/api.md: the LDN diary filled at 21:14 on 2 March 2026 in Los Angeles."""


class EntryIn(Schema):
    """One upload of the nightly form. Fields not listed here are refused (422)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ENTRY_EXAMPLE]})

    client_id: uuid.UUID = Field(description="made by the phone, new for every upload")
    form_date: dt.date = Field(description="the diary_date of the form the server issued")
    answers: dict[str, StrictFloat | StrictInt] = Field(
        description="item id: a number on its scale"
    )
    side_effects: dict[str, str] = Field(default_factory=dict, examples=[{"headache": "somewhat"}])
    capsule_taken: StrictBool | None = None
    completed_at_device: (
        Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_recordable)] | None
    ) = Field(default=None, description="the phone's own clock, with its offset; recorded only")


class PgicIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"visit": 2, "score": 3}]}
    )

    visit: StrictInt = Field(description="the visit the answer closes, as the question gives it")
    score: StrictInt = Field(description="1 very much improved ... 7 very much worse")


class PgicOut(Schema):
    visit: int
    score: int
    answered_on: dt.date


class BlindingIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"visit": 2, "guess": "dont_know"}]}
    )

    visit: StrictInt = Field(description="the visit the answer closes, as the question gives it")
    guess: str = Field(description="drug, placebo or dont_know")


class BlindingOut(Schema):
    visit: int
    guess: str
    answered_on: dt.date


_AUTH_PROBLEMS: dict[int, type[Schema]] = {401: ProblemOut, 403: ProblemOut}
_WRITE_PROBLEMS: dict[int, type[Schema]] = {
    **_AUTH_PROBLEMS,
    409: ProblemOut,
    422: ProblemOut,
    423: ProblemOut,  # the study's database is locked for analysis
}


# --- helpers --------------------------------------------------------------------------------------


def _participant(request: HttpRequest) -> Participant:
    """The participant whose phone made the request (set by `device_auth`)."""
    device = getattr(request, "auth", None)
    if not isinstance(device, Device):
        raise DeviceNotEnrolledError("This phone is not set up for the diary.")
    return device.participant


def _upload(participant: Participant, payload: EntryIn) -> Status[EntryView]:
    """Send one upload to the service: 201 when it created its entry, else 200, with its view.

    A repeated upload is answered with the view of the first, so it gets the same body.
    """
    received = diary_upload_receive(
        participant=participant,
        client_id=payload.client_id,
        answers=payload.answers,
        side_effects=payload.side_effects,
        capsule_taken=payload.capsule_taken,
        completed_at_device=payload.completed_at_device,
        form_date=payload.form_date,
        # The offset the phone wrote is its own time zone: kept, compared with the participant's.
        device_utc_offset=(
            payload.completed_at_device.utcoffset() if payload.completed_at_device else None
        ),
    )
    status = 201 if received.outcome == "created" else 200
    return Status(status, diary_submission_view(received.submission))


# --- endpoints ------------------------------------------------------------------------------------


@router.get(
    "/diary/form",
    response={200: FormOut, **_AUTH_PROBLEMS},
    url_name="diary_form",
    summary="Tonight's diary form",
)
def diary_form(request: HttpRequest) -> DiaryForm:
    """The form tonight (or why there is none now), its items, and questions due."""
    get_token(request)  # sets the csrftoken cookie the page sends back on its writes
    return diary_form_tonight(participant=_participant(request))


@router.post(
    "/diary/entries",
    response={200: EntryOut, 201: EntryOut, **_WRITE_PROBLEMS},
    url_name="diary_entry_submit",
    summary="Submit tonight's entry",
)
def diary_entry_create(request: HttpRequest, payload: EntryIn) -> Status[EntryView]:
    """201 when it created the entry; 200 for the same upload again (same body) or for the
    participant's own correction inside the window; 409 for the same client id with other
    content, or outside the window."""
    return _upload(_participant(request), payload)


@router.put(
    "/diary/entries/{diary_date}",
    response={200: EntryOut, 404: ProblemOut, **_WRITE_PROBLEMS},
    url_name="diary_entry_correct",
    summary="Correct tonight's entry",
)
def diary_entry_change(
    request: HttpRequest, diary_date: dt.date, payload: EntryIn
) -> Status[EntryView]:
    """Replace the answers of `diary_date` while its window is open (a new client id)."""
    participant = _participant(request)
    if payload.form_date != diary_date:
        raise DiaryDateInvalidError(
            f"The form date {payload.form_date.isoformat()} is not the diary date "
            f"{diary_date.isoformat()} of this address; send the correction of a diary to "
            f"its own date.",
            extra={"diary_date": diary_date.isoformat()},
        )
    known = diary_upload_view(participant=participant, client_id=payload.client_id)
    if known is None and diary_entry_get(participant=participant, diary_date=diary_date) is None:
        raise NotFoundError(
            f"There is no diary of {diary_day_words(diary_date)} to correct; send a new entry "
            f"instead.",
            extra={"diary_date": diary_date.isoformat()},
        )
    try:
        upload = _upload(participant, payload)
    except DiaryWindowClosedError as closed:
        raise DiaryEntryClosedError(
            f"The diary of {diary_day_words(diary_date)} can no longer be changed from the "
            f"diary: its window has closed. If an answer is wrong, tell the study "
            f"coordinator: staff can correct it.",
            extra={**closed.extra, "diary_date": diary_date.isoformat()},
        ) from closed
    return Status(200, upload.value)


@router.get(
    "/diary/entries",
    response={200: list[HistoryOut], **_AUTH_PROBLEMS},
    url_name="diary_entry_list",
    summary="Your diary so far",
)
def diary_entries(request: HttpRequest) -> list[HistoryRow]:
    """The participant's own entries, newest first."""
    return diary_history(participant=_participant(request))


@router.get(
    "/diary/progress",
    response={200: ProgressOut, **_AUTH_PROBLEMS},
    url_name="diary_progress",
    summary="How you are doing",
)
def diary_progress_get(request: HttpRequest) -> DiaryProgress:
    """Entries against the diary days so far, the current streak, whether today is done."""
    return diary_progress(participant=_participant(request))


@router.post(
    "/diary/pgic",
    response={200: PgicOut, 201: PgicOut, **_WRITE_PROBLEMS},
    url_name="diary_pgic",
    summary="Answer the end-of-period PGIC",
)
def diary_pgic(request: HttpRequest, payload: PgicIn) -> Status[PgicAnswer]:
    """201 when recorded; 200 when the same answer was recorded before; 409 for another."""
    return _period_answer(request, "pgic", payload.visit, payload.score)


@router.post(
    "/diary/blinding",
    response={200: BlindingOut, 201: BlindingOut, **_WRITE_PROBLEMS},
    url_name="diary_blinding",
    summary="Say what you think you took since the last visit",
)
def diary_blinding(request: HttpRequest, payload: BlindingIn) -> Status[BlindingGuess]:
    """201 when recorded; 200 when the same guess was recorded before; 409 for another."""
    return _period_answer(request, "blinding", payload.visit, payload.guess)


def _period_answer(
    request: HttpRequest, kind: Literal["pgic", "blinding"], visit: int, value: int | str
) -> Status[Any]:
    answered = period_answer_from_phone(
        participant=_participant(request), kind=kind, visit=visit, value=value
    )
    return Status(201 if answered.created else 200, answered.answer)
