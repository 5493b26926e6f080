"""The phone of a participant whose study is locked offers nothing that would be refused: no
diary form, no questions, no PIN or reminder form, no enrolment button; it says the diary is
closed."""

from __future__ import annotations

import time_machine
from django.test import Client
from django.urls import reverse
from tests.builders import LEFT_OPEN, make_member
from tests.phone.conftest import make_phone

from diarytrial.devices.services import enrolment_link_issue
from diarytrial.participants.models import Participant
from diarytrial.phone.pages import LOCKED_MESSAGE
from diarytrial.studies.models import Role
from diarytrial.studies.services import study_lock


def _lock(participant: Participant) -> None:
    administrator = make_member(study=participant.study, role=Role.ADMINISTRATOR).user
    study_lock(
        study=participant.study, reason="analysis", actor=administrator, override_reason=LEFT_OPEN
    )


def test_tonight_the_open_window_shows_no_form_once_locked(
    participant: Participant, evening: time_machine.Traveller
) -> None:
    phone = make_phone(participant)
    before = phone.get(reverse("phone:home")).text
    _lock(participant)

    after = phone.get(reverse("phone:home")).text

    assert 'id="diary-form"' in before
    assert 'id="diary-form"' not in after
    assert "<form" not in after
    assert LOCKED_MESSAGE in after


def test_the_settings_offer_no_pin_or_reminder_form_once_locked(
    participant: Participant, evening: time_machine.Traveller
) -> None:
    phone = make_phone(participant)
    _lock(participant)

    page = phone.get(reverse("phone:settings")).text

    assert "<form" not in page
    assert "data-reminders" not in page
    assert LOCKED_MESSAGE in page
    assert "It can no longer be changed." in page


def test_an_enrolment_link_of_a_locked_study_says_the_diary_is_closed(
    participant: Participant, evening: time_machine.Traveller
) -> None:
    coordinator = make_member(study=participant.study, role=Role.COORDINATOR).user
    issued = enrolment_link_issue(participant=participant, actor=coordinator)
    _lock(participant)
    url = reverse("phone:enrol", args=[issued.token])

    shown = Client().get(url)
    posted = Client().post(url)  # a page opened before the lock

    assert shown.status_code == posted.status_code == 423
    assert "<form" not in shown.text
    assert "The study&#x27;s diary is closed" in shown.text
