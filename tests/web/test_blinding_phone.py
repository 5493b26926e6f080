"""A participant's phone never shows allocation: not on the phone pages, not in the API.

Two participants on different sequences, who started on the same day and filled the same
diaries, open every phone page and every GET endpoint of the diary API: no arm id or name,
sequence code or dose in mg may appear, and both get the same bytes apart from their codes,
client ids, tokens and clock times.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from tests.builders import device_client
from tests.web.test_blinding_pages import Trial, leaks, make_trial, sequence_of

from diarytrial.participants.models import Participant

pytestmark = pytest.mark.django_db

PAGES = ("/d/", "/d/history/", "/d/settings/")
API = ("/api/diary/form", "/api/diary/entries", "/api/diary/progress")

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=|name="csrf-token" content=)"[^"]+"')
_CLOCK = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")
_TOKEN = re.compile(r"/d/calendar/[^/\"]+\.ics")


@pytest.fixture
def trial() -> Trial:
    return make_trial()


def normalized(text: str, participant: Participant) -> str:
    text = text.replace(participant.code, "P-CODE")
    text = _UUID.sub("UUID", text)
    text = _CSRF.sub(r'\1""', text)
    text = _TOKEN.sub("/d/calendar/TOKEN.ics", text)
    return _CLOCK.sub("hh:mm", text)


def _phone(participant: Participant) -> Client:
    return device_client(participant)


def test_no_phone_page_or_api_answer_shows_allocation(trial: Trial) -> None:
    for participant in (trial.first, trial.second):
        phone = _phone(participant)
        for url in (*PAGES, *API):
            response = phone.get(url)
            assert response.status_code == 200, url
            found = leaks(response.text, trial.protocol)
            assert not found, f"{url} of {participant.code}: {found}"


def test_phone_pages_and_api_answers_do_not_differ_by_arm(trial: Trial) -> None:
    assert sequence_of(trial.first) != sequence_of(trial.second)
    first, second = _phone(trial.first), _phone(trial.second)

    for url in (*PAGES, *API):
        one = normalized(first.get(url).text, trial.first)
        other = normalized(second.get(url).text, trial.second)
        assert one == other, f"{url} differs between the two arms"
