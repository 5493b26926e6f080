"""A participant's phone never shows allocation: not on the phone pages, not in the API.

Two participants on different sequences, who started on the same day and filled the same
diaries, open every phone page and every GET endpoint of the diary API: no arm id or name,
sequence code or dose in mg may appear. That both see the same on every day of the trial is
checked in test_blinding_timeline.py.
"""

from __future__ import annotations

import pytest
from django.test import Client
from tests.builders import device_client
from tests.web.test_blinding_pages import Trial, leaks, make_trial

from diarytrial.participants.models import Participant

pytestmark = pytest.mark.django_db

PAGES = ("/d/", "/d/history/", "/d/settings/")
API = ("/api/diary/form", "/api/diary/entries", "/api/diary/progress")


@pytest.fixture
def trial() -> Trial:
    return make_trial()


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
