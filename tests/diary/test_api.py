"""The diary's JSON API (/api/diary/...): the participant's phone, its cookie, the server's clock.

The clock stands at NOW (noon in Los Angeles, between windows) unless a test moves it; TODAY is
the participant's date then. Writes go through the API as the phone sends them.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
import pytest
import time_machine
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.builders import (
    LEFT_OPEN,
    client_for,
    device_client,
    make_allocation,
    make_device,
    make_entry,
    make_member,
    make_participant,
)
from tests.diary.helpers import LA, LDN, START, answers, at, two_sequences, visit_day

from diarytrial.core.errors import ApplicationError
from diarytrial.core.problems import PROBLEM_CONTENT_TYPE
from diarytrial.devices.auth import DEVICE_COOKIE, pin_cookie_set
from diarytrial.devices.services import device_pin_set
from diarytrial.diary.api import ENTRY_EXAMPLE, EntryIn
from diarytrial.diary.models import DiaryEntry, DiarySubmission, PgicAnswer
from diarytrial.diary.services import diary_upload_receive
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.randomization.models import Randomization
from diarytrial.studies.models import Role
from diarytrial.studies.services import study_lock

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 11, 20)  # a Thursday; NOW is its noon in Los Angeles
EVENING = at(TODAY, 20)  # tonight's window (18:00 to 03:00) is open
FORM = "/api/diary/form"
ENTRIES = "/api/diary/entries"


def _body(
    form_date: dt.date = TODAY, *, client_id: uuid.UUID | None = None, **changes: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_id": str(client_id or uuid.uuid4()),
        "form_date": form_date.isoformat(),
        "answers": answers(pain=42),
        "side_effects": {"headache": "somewhat"},
        "capsule_taken": True,
        "completed_at_device": (EVENING - dt.timedelta(minutes=3)).isoformat(),
    }
    body.update(changes)
    return body


def _post(client: Client, url: str, body: dict[str, Any], **extra: Any) -> HttpResponse:
    return client.post(url, body, content_type="application/json", **extra)


def _put(client: Client, day: dt.date, body: dict[str, Any]) -> HttpResponse:
    return client.put(f"{ENTRIES}/{day.isoformat()}", body, content_type="application/json")


def _problem(response: HttpResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code
    assert problem["status"] == status
    assert problem["type"] == f"https://diarytrial.org/problems/{code}"
    assert problem["title"]
    assert problem["detail"]
    return problem


@pytest.fixture
def phone(participant: Participant) -> Client:
    return device_client(participant)


@pytest.fixture
def evening(clock: time_machine.Traveller) -> None:
    clock.move_to(EVENING)


# --- tonight's form ---------------------------------------------------------------------------


@pytest.mark.usefixtures("evening")
def test_the_form_is_open_tonight_with_the_protocols_items(phone: Client) -> None:
    response = phone.get(FORM)

    assert response.status_code == 200
    form = response.json()
    assert form["state"] == "open"
    assert form["diary_date"] == "2025-11-20"
    assert form["opens_at"] == "2025-11-21T02:00:00Z"
    assert form["closes_at"] == "2025-11-21T11:00:00Z"
    assert form["next_window_opens"] == "2025-11-22T02:00:00Z"
    assert form["message"] == "Tonight's diary is open until 03:00 on Friday 21 November 2025."
    assert form["timezone"] == "America/Los_Angeles"
    assert [item["id"] for item in form["items"]] == [item.id for item in LDN.diary.items]
    assert form["items"][0] == {
        "id": "pain",
        "label": "Pain",
        "question": "How much pain did you feel today, on average?",
        "scale": "slider_0_100",
        "min": 0,
        "max": 100,
        "anchors": ["No pain", "Worst pain imaginable"],
        "required": True,
    }
    assert {"id": "headache", "label": "Headache"} in form["side_effects"]
    assert form["unpleasantness"] == [
        {"value": "not_at_all", "label": "Not at all"},
        {"value": "somewhat", "label": "Somewhat"},
        {"value": "very", "label": "Very"},
    ]
    assert form["capsule_question"] == "I took my study capsule last night"
    assert form["entry"] is None
    assert form["questions"] == []
    assert "csrftoken" in response.cookies  # for the writes that follow


def test_between_windows_the_form_says_when_it_opens(phone: Client) -> None:
    form = phone.get(FORM).json()

    assert form["state"] == "closed"
    assert (form["diary_date"], form["opens_at"], form["closes_at"]) == (None, None, None)
    assert form["next_window_opens"] == "2025-11-21T02:00:00Z"
    assert form["message"] == "The diary opens at 18:00 on Thursday 20 November 2025."


def test_before_the_first_day_the_form_says_when_the_diary_starts(participant: Participant) -> None:
    later = make_participant(study=participant.study, start_date=dt.date(2025, 11, 25))

    form = device_client(later).get(FORM).json()

    assert form["state"] == "not_started"
    assert form["next_window_opens"] == "2025-11-26T02:00:00Z"
    assert form["message"] == "Your diary starts at 18:00 on Tuesday 25 November 2025."


def test_after_the_last_day_the_diary_is_finished(participant: Participant) -> None:
    make_allocation(study=participant.study)
    done = make_participant(
        study=participant.study, status=ParticipantStatus.RANDOMIZED, start_date=START
    )

    form = device_client(done).get(FORM).json()

    assert form["state"] == "finished"
    assert form["next_window_opens"] is None
    assert form["message"] == "Your diary is finished. Thank you for taking part."


@pytest.mark.usefixtures("evening")
def test_the_form_carries_tonights_entry_once_it_is_in(phone: Client) -> None:
    body = _body()
    _post(phone, ENTRIES, body)

    form = phone.get(FORM).json()

    assert form["entry"]["client_id"] == body["client_id"]
    assert form["entry"]["answers"]["pain"] == 42.0
    assert form["message"].startswith("Tonight's diary is in. You can change your answers until")


# --- submitting -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("evening")
def test_an_entry_is_created_with_the_servers_clock(
    phone: Client, participant: Participant
) -> None:
    body = _body()

    response = _post(phone, ENTRIES, body)

    assert response.status_code == 201
    assert response.json() == {
        "client_id": body["client_id"],
        "diary_date": "2025-11-20",
        "late": False,
        "status": "submitted",
        "received_at": "2025-11-21T04:00:00Z",
        "answers": {key: float(value) for key, value in sorted(body["answers"].items())},
        "side_effects": {"headache": "somewhat"},
        "capsule_taken": True,
    }
    entry = DiaryEntry.objects.get(participant=participant)
    assert entry.received_at == EVENING


@pytest.mark.usefixtures("evening")
def test_the_same_upload_again_gets_the_same_body_and_makes_no_row(phone: Client) -> None:
    body = _body()
    first = _post(phone, ENTRIES, body)

    again = _post(phone, ENTRIES, body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.content == first.content
    assert (DiaryEntry.objects.count(), DiarySubmission.objects.count()) == (1, 1)


@pytest.mark.usefixtures("evening")
def test_an_upload_repeated_after_a_correction_still_gets_its_own_body(phone: Client) -> None:
    body = _body()
    first = _post(phone, ENTRIES, body)
    _put(phone, TODAY, _body(answers=answers(pain=80)))

    again = _post(phone, ENTRIES, body)

    assert again.status_code == 200
    assert again.content == first.content


@pytest.mark.usefixtures("evening")
def test_the_same_client_id_with_other_content_is_a_conflict(phone: Client) -> None:
    body = _body()
    _post(phone, ENTRIES, body)

    response = _post(phone, ENTRIES, {**body, "answers": answers(pain=99)})

    problem = _problem(response, 409, "diary_client_id_conflict")
    assert problem["client_id"] == body["client_id"]
    assert DiaryEntry.objects.get().answers.get(item="pain").value == 42.0


def test_outside_the_window_the_entry_is_refused_saying_when_it_opens(phone: Client) -> None:
    response = _post(phone, ENTRIES, _body())

    problem = _problem(response, 409, "diary_window_closed")
    assert problem["next_window_opens"] == "2025-11-21T02:00:00+00:00"
    assert problem["detail"] == (
        "The diary of Thursday 20 November 2025 has not opened yet, so this entry cannot be "
        "recorded."
    )
    assert not DiaryEntry.objects.exists()


def test_an_entry_for_a_long_closed_window_is_refused(phone: Client) -> None:
    response = _post(phone, ENTRIES, _body(dt.date(2025, 11, 10)))

    problem = _problem(response, 409, "diary_window_closed")
    assert "closed at 03:00 on Tuesday 11 November 2025" in problem["detail"]


@pytest.mark.usefixtures("evening")
def test_a_future_form_date_is_refused(phone: Client) -> None:
    response = _post(phone, ENTRIES, _body(TODAY + dt.timedelta(days=1)))

    _problem(response, 409, "diary_window_closed")
    assert not DiaryEntry.objects.exists()


@pytest.mark.usefixtures("evening")
def test_a_received_at_from_the_device_is_refused(phone: Client) -> None:
    body = _body(received_at="2025-11-10T04:00:00Z")

    response = _post(phone, ENTRIES, body)

    problem = _problem(response, 422, "validation_error")
    assert {"loc": ["body", "payload", "received_at"], "msg": "Extra inputs are not permitted"} in (
        problem["errors"]
    )
    assert not DiaryEntry.objects.exists()


@pytest.mark.usefixtures("evening")
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"client_id": "not-a-uuid"}, "client_id"),
        ({"answers": {"pain": "a lot"}}, "pain"),
        ({"completed_at_device": "2025-11-20T19:57:00"}, "completed_at_device"),
        ({"capsule_taken": "yes"}, "capsule_taken"),
    ],
)
def test_a_malformed_body_is_a_validation_problem(
    phone: Client, change: dict[str, Any], field: str
) -> None:
    problem = _problem(_post(phone, ENTRIES, _body(**change)), 422, "validation_error")

    assert any(field in error["loc"] for error in problem["errors"])


@pytest.mark.usefixtures("evening")
def test_a_body_that_is_not_json_is_a_validation_problem(phone: Client) -> None:
    response = phone.post(ENTRIES, "{not json", content_type="application/json")

    assert _problem(response, 422, "validation_error")["errors"] == [
        {
            "loc": ["body"],
            "msg": "The body is not valid JSON in UTF-8: key must be a string at line 1 column 2.",
        }
    ]


@pytest.mark.usefixtures("evening")
def test_answers_that_do_not_fit_the_protocol_are_the_services_problem(phone: Client) -> None:
    response = _post(phone, ENTRIES, _body(answers=answers(pain=101)))

    problem = _problem(response, 422, "diary_answers_invalid")
    assert "pain must be a number from 0 to 100" in problem["detail"]


@pytest.mark.usefixtures("evening")
def test_a_device_clock_wrong_by_days_is_recorded_but_the_server_decides(
    phone: Client, participant: Participant
) -> None:
    wrong = EVENING - dt.timedelta(days=3, hours=5)

    response = _post(phone, ENTRIES, _body(completed_at_device=wrong.isoformat()))

    assert response.status_code == 201
    assert (response.json()["diary_date"], response.json()["late"]) == ("2025-11-20", False)
    entry = DiaryEntry.objects.get(participant=participant)
    assert (entry.diary_date, entry.received_at, entry.completed_at_device) == (
        TODAY,
        EVENING,
        wrong,
    )


def test_an_entry_filled_offline_last_night_is_taken_late(
    phone: Client, participant: Participant
) -> None:
    yesterday = TODAY - dt.timedelta(days=1)

    response = _post(phone, ENTRIES, _body(yesterday))

    assert response.status_code == 201
    assert (response.json()["diary_date"], response.json()["late"]) == ("2025-11-19", True)


@pytest.mark.usefixtures("evening")
def test_a_locked_study_refuses_new_uploads_but_acknowledges_repeated_ones(
    phone: Client, participant: Participant
) -> None:
    body = _body()
    first = _post(phone, ENTRIES, body)
    admin = make_member(study=participant.study, role=Role.ADMINISTRATOR).user
    study_lock(
        study=participant.study, reason="database lock", actor=admin, override_reason=LEFT_OPEN
    )

    again = _post(phone, ENTRIES, body)
    new = _post(phone, ENTRIES, _body(answers=answers(pain=3)))

    assert (again.status_code, again.content) == (200, first.content)
    _problem(new, 423, "study_locked")


# --- correcting -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("evening")
def test_a_second_upload_inside_the_window_is_the_participants_own_correction(
    phone: Client,
) -> None:
    _post(phone, ENTRIES, _body())

    response = _post(phone, ENTRIES, _body(answers=answers(pain=10)))

    assert response.status_code == 200
    assert response.json()["answers"]["pain"] == 10.0
    assert DiaryEntry.objects.get().answers.get(item="pain").value == 10.0


def test_put_corrects_tonights_entry_while_its_window_is_open(
    phone: Client, clock: time_machine.Traveller
) -> None:
    clock.move_to(EVENING)
    _post(phone, ENTRIES, _body())
    clock.move_to(at(TODAY, 23, 30))
    body = _body(answers=answers(pain=7))

    response = _put(phone, TODAY, body)

    assert response.status_code == 200
    assert response.json()["client_id"] == body["client_id"]
    assert response.json()["received_at"] == "2025-11-21T07:30:00Z"
    assert DiaryEntry.objects.get().answers.get(item="pain").value == 7.0
    assert _put(phone, TODAY, body).content == response.content  # repeated: same body


@pytest.mark.parametrize("after", [dt.timedelta(hours=1), dt.timedelta(days=5)])
def test_put_after_the_window_closed_is_refused(
    phone: Client, clock: time_machine.Traveller, after: dt.timedelta
) -> None:
    clock.move_to(EVENING)
    _post(phone, ENTRIES, _body())
    clock.move_to(at(TODAY + dt.timedelta(days=1), 3) + after)

    response = _put(phone, TODAY, _body(answers=answers(pain=7)))

    problem = _problem(response, 409, "diary_entry_closed")
    assert "tell the study coordinator" in problem["detail"]
    assert DiaryEntry.objects.get().answers.get(item="pain").value == 42.0


@pytest.mark.usefixtures("evening")
def test_put_needs_the_form_date_of_its_address(phone: Client) -> None:
    _post(phone, ENTRIES, _body())

    response = _put(phone, TODAY, _body(TODAY - dt.timedelta(days=1)))

    _problem(response, 422, "diary_date_invalid")


@pytest.mark.usefixtures("evening")
def test_put_without_an_entry_to_correct_is_not_found(phone: Client) -> None:
    _problem(_put(phone, TODAY, _body()), 404, "not_found")
    assert not DiaryEntry.objects.exists()


# --- history and progress -------------------------------------------------------------------------


def test_history_is_the_participants_own_newest_first(
    phone: Client, participant: Participant
) -> None:
    for day in (dt.date(2025, 11, 17), dt.date(2025, 11, 18)):
        make_entry(participant=participant, diary_date=day, side_effects={"nausea": "very"})

    rows = phone.get(ENTRIES).json()

    assert [row["diary_date"] for row in rows] == ["2025-11-18", "2025-11-17"]
    assert rows[0] == {
        "diary_date": "2025-11-18",
        "late": False,
        "status": "submitted",
        "answers": {item.id: 50.0 for item in LDN.diary.items},
        "side_effects": {"nausea": "very"},
        "capsule_taken": True,
    }


def test_progress_counts_the_days_so_far(
    phone: Client, participant: Participant, clock: time_machine.Traveller
) -> None:
    for day in (10, 17, 18, 19):
        make_entry(participant=participant, diary_date=dt.date(2025, 11, day))
    so_far = (dt.date(2025, 11, 19) - START).days + 1

    assert phone.get("/api/diary/progress").json() == {
        "entries": 4,
        "days_so_far": so_far,
        "completion_pct": round(400 / so_far, 1),
        "streak": 3,
        "today_done": True,
    }
    clock.move_to(EVENING)  # tonight opened, not filled yet: not due until its window closes
    assert phone.get("/api/diary/progress").json() == {
        "entries": 4,
        "days_so_far": so_far,
        "completion_pct": round(400 / so_far, 1),
        "streak": 3,
        "today_done": False,
    }
    make_entry(participant=participant, diary_date=dt.date(2025, 11, 20))  # tonight, filled
    assert phone.get("/api/diary/progress").json() == {
        "entries": 5,
        "days_so_far": so_far + 1,
        "completion_pct": round(500 / (so_far + 1), 1),
        "streak": 4,
        "today_done": True,
    }


def test_progress_never_tells_the_length_of_the_schedule(participant: Participant) -> None:
    make_allocation(study=participant.study)
    start = TODAY - dt.timedelta(days=20)
    randomized = make_participant(
        study=participant.study, status=ParticipantStatus.RANDOMIZED, start_date=start
    )

    progress = device_client(randomized).get("/api/diary/progress").json()

    assert progress["days_so_far"] == 20  # the days up to last night's, whatever comes next
    assert set(progress) == {"entries", "days_so_far", "completion_pct", "streak", "today_done"}


# --- end-of-period questions ----------------------------------------------------------------------


@pytest.fixture
def period_one_over(participant: Participant, clock: time_machine.Traveller) -> Participant:
    """A randomized participant on the evening of visit 2 (treatment day 28)."""
    make_allocation(study=participant.study)
    randomized = make_participant(
        study=participant.study, status=ParticipantStatus.RANDOMIZED, start_date=START
    )
    clock.move_to(at(visit_day(randomized, 2), 20))
    return randomized


def test_the_questions_of_a_visit_are_asked_from_its_day(
    period_one_over: Participant,
) -> None:
    form = device_client(period_one_over).get(FORM).json()

    assert [(q["kind"], q["visit"]) for q in form["questions"]] == [
        ("pgic", 2),
        ("blinding", 2),
    ]
    pgic, guess = form["questions"]
    assert pgic["choices"][0] == {"value": 1, "label": "Very much improved"}
    assert len(pgic["choices"]) == 7
    assert [c["value"] for c in guess["choices"]] == ["drug", "placebo", "dont_know"]


def test_the_pgic_is_recorded_once(period_one_over: Participant) -> None:
    phone = device_client(period_one_over)
    today = visit_day(period_one_over, 2).isoformat()

    first = _post(phone, "/api/diary/pgic", {"visit": 2, "score": 3})
    again = _post(phone, "/api/diary/pgic", {"visit": 2, "score": 3})
    other = _post(phone, "/api/diary/pgic", {"visit": 2, "score": 6})

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json() == {"visit": 2, "score": 3, "answered_on": today}
    _problem(other, 409, "already_answered")
    assert PgicAnswer.objects.get().score == 3
    assert [q["kind"] for q in phone.get(FORM).json()["questions"]] == ["blinding"]


def test_the_blinding_guess_is_recorded_once(period_one_over: Participant) -> None:
    phone = device_client(period_one_over)

    first = _post(phone, "/api/diary/blinding", {"visit": 2, "guess": "dont_know"})
    again = _post(phone, "/api/diary/blinding", {"visit": 2, "guess": "dont_know"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["guess"] == "dont_know"
    _problem(
        _post(phone, "/api/diary/blinding", {"visit": 2, "guess": "drug"}),
        409,
        "already_answered",
    )


def test_a_question_not_due_is_refused_without_naming_a_date(
    period_one_over: Participant,
) -> None:
    phone = device_client(period_one_over)

    problem = _problem(
        _post(phone, "/api/diary/pgic", {"visit": 3, "score": 3}), 422, "pgic_answer_invalid"
    )

    assert not re.search(r"\d{4}-\d\d-\d\d|\d{1,2} \w+ 20\d\d", problem["detail"])
    assert not PgicAnswer.objects.exists()


def test_questions_are_not_asked_of_a_participant_not_randomized(phone: Client) -> None:
    response = _post(phone, "/api/diary/blinding", {"visit": 2, "guess": "drug"})

    _problem(response, 422, "pgic_answer_invalid")


def test_two_sequences_started_the_same_day_get_the_same_questions_and_answers(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    make_allocation(study=participant.study)
    first, second = two_sequences(participant.study)
    phones = [device_client(p) for p in (first, second)]
    for visit in range(1, 7):
        for hours in (-12, 20, 24 * 14 + 12, 24 * 15 + 12):
            clock.move_to(at(visit_day(first, visit), 0) + dt.timedelta(hours=hours))
            forms = [phone.get(FORM).json()["questions"] for phone in phones]
            assert forms[0] == forms[1]
    clock.move_to(at(visit_day(first, 4), 20))
    answered = [
        [
            (r.status_code, r.json())
            for r in (
                _post(phone, "/api/diary/pgic", {"visit": 4, "score": 2}),
                _post(phone, "/api/diary/blinding", {"visit": 4, "guess": "placebo"}),
            )
        ]
        for phone in phones
    ]
    assert answered[0] == answered[1]
    assert [code for code, _ in answered[0]] == [201, 201]


# --- who may call ---------------------------------------------------------------------------------


def test_without_a_device_cookie_every_endpoint_is_refused(participant: Participant) -> None:
    staff = client_for(make_member(study=participant.study, role=Role.COORDINATOR).user)

    for client in (Client(), staff):
        for method, url in (
            ("get", FORM),
            ("get", ENTRIES),
            ("get", "/api/diary/progress"),
            ("post", ENTRIES),
            ("put", f"{ENTRIES}/2025-11-20"),
            ("post", "/api/diary/pgic"),
            ("post", "/api/diary/blinding"),
        ):
            response = getattr(client, method)(url, {}, content_type="application/json")
            problem = _problem(response, 401, "device_not_enrolled")
            assert "Ask the study coordinator for a new link" in problem["detail"]


def test_a_revoked_or_unknown_device_is_not_enrolled(participant: Participant) -> None:
    client = Client()
    client.cookies[DEVICE_COOKIE] = "x" * 43

    _problem(client.get(FORM), 401, "device_not_enrolled")


def test_a_device_with_a_pin_needs_unlocking(participant: Participant) -> None:
    device, token = make_device(participant)
    device_pin_set(device=device, pin="2580")
    client = Client()
    client.cookies[DEVICE_COOKIE] = token

    problem = _problem(client.get(FORM), 403, "pin_required")

    assert "Enter your PIN" in problem["detail"]
    unlocked = HttpResponse()
    pin_cookie_set(unlocked, device)
    client.cookies.update(unlocked.cookies)
    assert client.get(FORM).status_code == 200


@pytest.mark.usefixtures("evening")
def test_writes_need_the_csrf_token(participant: Participant) -> None:
    phone = device_client(participant, enforce_csrf_checks=True)

    refused = _post(phone, ENTRIES, _body())

    _problem(refused, 403, "csrf_failed")
    token = phone.get(FORM).cookies["csrftoken"].value
    assert _post(phone, ENTRIES, _body(), HTTP_X_CSRFTOKEN=token).status_code == 201
    assert DiaryEntry.objects.count() == 1


@pytest.mark.usefixtures("evening")
def test_each_phone_reaches_only_its_own_participants_diary(participant: Participant) -> None:
    other = make_participant(study=participant.study, start_date=START)
    mine, theirs = device_client(participant), device_client(other)
    their_body = _body(answers=answers(pain=88))
    _post(mine, ENTRIES, _body())
    _post(theirs, ENTRIES, their_body)

    assert [row["answers"]["pain"] for row in mine.get(ENTRIES).json()] == [42.0]
    assert [row["answers"]["pain"] for row in theirs.get(ENTRIES).json()] == [88.0]
    assert mine.get(FORM).json()["entry"]["answers"]["pain"] == 42.0
    stolen = _post(mine, ENTRIES, their_body)  # another participant's client id
    problem = _problem(stolen, 409, "diary_client_id_conflict")
    assert set(problem) == {"type", "title", "status", "detail", "code", "client_id"}
    assert other.code not in problem["detail"]
    assert DiaryEntry.objects.get(participant=other).answers.get(item="pain").value == 88.0


# --- the API as a whole ---------------------------------------------------------------------------


def test_the_docs_and_the_schema_list_the_endpoints() -> None:
    docs = Client().get("/api/docs")
    assert docs.status_code == 200
    # Its scripts are served by the site itself: no third-party host sees who reads the docs.
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets
    assert all(asset.startswith("/static/") for asset in assets), assets

    schema = Client().get("/api/openapi.json").json()

    assert schema["info"]["title"] == "diarytrial API"
    assert {
        "/api/diary/form",
        "/api/diary/entries",
        "/api/diary/entries/{diary_date}",
        "/api/diary/progress",
        "/api/diary/pgic",
        "/api/diary/blinding",
    } <= set(schema["paths"])
    assert set(schema["paths"]["/api/diary/entries"]) == {"get", "post"}
    assert reverse("api:diary_form") == "/api/diary/form"


def test_unknown_addresses_and_methods_are_problems(phone: Client) -> None:
    _problem(phone.get("/api/diary/nothing"), 404, "not_found")
    _problem(phone.get("/api/"), 404, "not_found")
    problem = _problem(phone.get("/api/diary/pgic"), 405, "method_not_allowed")
    assert problem["allow"] == ["POST"]


def test_an_unexpected_error_says_nothing_of_its_cause(
    phone: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(**kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("diarytrial.diary.api.diary_progress", crash)

    response = phone.get("/api/diary/progress")

    _problem(response, 500, "server_error")
    assert "secret" not in response.content.decode()


BLINDED_WORDS = re.compile(r"naltrexone|\bldn\b|\bmg\b|\barm\b|sequence|\bdose|placebo", re.I)


def test_no_response_tells_the_arm(participant: Participant, clock: time_machine.Traveller) -> None:
    make_allocation(study=participant.study)
    start = TODAY - dt.timedelta(days=30)  # in treatment period 1, no question due
    randomized = make_participant(
        study=participant.study, status=ParticipantStatus.RANDOMIZED, start_date=start
    )
    slot = Randomization.objects.select_related("slot").get(participant=randomized).slot
    arms = {arm.id: arm for arm in LDN.arms}
    first_arm = arms[LDN.sequence_from_code(slot.sequence_code)[0]]
    secret = [first_arm.id, first_arm.name, slot.sequence_code]
    phone = device_client(randomized)
    clock.move_to(EVENING)
    body = _body()
    responses = [
        phone.get(FORM),
        _post(phone, ENTRIES, body),
        _post(phone, ENTRIES, body),
        _post(phone, ENTRIES, {**body, "answers": answers(pain=1)}),
        _put(phone, TODAY, _body(answers=answers(pain=2))),
        phone.get(FORM),
        phone.get(ENTRIES),
        phone.get("/api/diary/progress"),
        _post(phone, "/api/diary/pgic", {"visit": 2, "score": 2}),
        _post(phone, "/api/diary/blinding", {"visit": 2, "guess": "drug"}),
        _post(phone, ENTRIES, _body(TODAY - dt.timedelta(days=10))),
    ]

    for response in responses:
        text = response.content.decode()
        assert not BLINDED_WORDS.search(text), text
        assert not any(re.search(rf"\b{re.escape(word)}\b", text) for word in secret), text


# --- properties: any value of any field is read or refused, never an error ----------------------

ZONES_AT_THE_EDGES = [dt.UTC, ZoneInfo("Etc/GMT-14"), ZoneInfo("Etc/GMT+12"), LA]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
date_texts = st.dates().map(dt.date.isoformat)
time_texts = st.datetimes(timezones=st.sampled_from(ZONES_AT_THE_EDGES)).map(dt.datetime.isoformat)


@example(field="completed_at_device", value="9999-12-31T23:59:59-23:59")
@example(field="form_date", value=10**400)
@given(
    field=st.sampled_from(sorted(ENTRY_EXAMPLE)),
    value=json_values | date_texts | time_texts | st.integers(min_value=10**300),
)
def test_the_upload_schema_reads_or_refuses_any_value_of_any_field(field: str, value: Any) -> None:
    try:
        entry = EntryIn.model_validate({**ENTRY_EXAMPLE, field: value})
    except pydantic.ValidationError:
        return  # a 422 validation_error
    if entry.completed_at_device is not None:  # recorded in UTC, shown in any zone
        for zone in ZONES_AT_THE_EDGES:
            entry.completed_at_device.astimezone(zone)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@example(form_date=dt.date.max, completed=dt.datetime(9999, 12, 30, tzinfo=LA), pain=10**400)
@example(form_date=dt.date.min, completed=dt.datetime(1, 1, 2, tzinfo=dt.UTC), pain=50)
@given(
    form_date=st.dates(),
    completed=st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.sampled_from(ZONES_AT_THE_EDGES),
    ),
    pain=st.integers() | st.floats(),
)
def test_any_upload_at_any_date_is_recorded_or_refused_never_an_error(
    participant: Participant, form_date: dt.date, completed: dt.datetime, pain: float
) -> None:
    try:
        received = diary_upload_receive(
            participant=participant,
            client_id=uuid.uuid4(),
            answers=answers(pain=pain),
            side_effects={},
            capsule_taken=True,
            completed_at_device=completed,
            form_date=form_date,
        )
    except ApplicationError as error:
        refused: ApplicationError | None = error
    else:
        refused = None
        assert received.entry.diary_date == form_date
        assert 0 <= pain <= 100
    assert refused is None or 400 <= refused.http_status < 500  # the phone's to fix, a 4xx
