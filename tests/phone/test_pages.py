"""The phone pages' states, through Django's test client: tonight's form, thanks and the
correction, the closed window, the end-of-period questions, history, settings and the PIN,
the enrolment link, the 401 and 410 pages, the manifest and the service worker."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from tests.builders import make_allocation, make_entry, make_participant, make_study, make_user
from tests.diary.helpers import two_sequences
from tests.phone.conftest import START, TONIGHT, local, make_phone

from diarytrial.devices.auth import DEVICE_COOKIE, PIN_COOKIE
from diarytrial.devices.models import Device
from diarytrial.devices.services import device_pin_set, enrolment_link_issue
from diarytrial.diary.services import diary_entry_submit
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.protocol import PGIC_LABELS, load_example

pytestmark = pytest.mark.django_db

LDN = load_example("ldn-fibromyalgia").protocol
PAGES = ("phone:home", "phone:history", "phone:settings")


def submit_tonight(participant: Participant, **answers: float) -> None:
    values = {item.id: 50.0 for item in LDN.diary.items}
    values.update(answers)
    diary_entry_submit(
        participant=participant,
        client_id=uuid.uuid4(),
        answers=values,
        side_effects={"headache": "somewhat"},
        capsule_taken=True,
        completed_at_device=None,
        form_date=TONIGHT,
    )


# --- no device, a revoked one -------------------------------------------------------------------


@pytest.mark.parametrize("name", [*PAGES, "phone:pin"])
def test_a_phone_without_a_device_cookie_is_told_to_ask_for_a_link(name: str) -> None:
    response = Client().get(reverse(name))

    assert response.status_code == 401
    assert "ask your study coordinator for a link" in response.text
    assert "no-store" in response["Cache-Control"]


def test_an_unknown_device_cookie_is_no_device(participant: Participant) -> None:
    client = Client()
    client.cookies[DEVICE_COOKIE] = "x" * 43

    assert client.get(reverse("phone:home")).status_code == 401


# --- tonight --------------------------------------------------------------------------------------


def test_tonight_shows_every_item_in_order_unanswered(
    participant: Participant, evening: time_machine.Traveller
) -> None:
    response = make_phone(participant).get(reverse("phone:home"))

    assert response.status_code == 200
    page = response.text
    assert 'data-form-date="2025-11-20"' in page
    assert 'data-method="POST"' in page
    positions = [page.index(item.question) for item in LDN.diary.items]
    assert positions == sorted(positions)
    for item in LDN.diary.items:
        assert f"{item.lowest}: {item.anchors[0]}" in page
        assert f"{item.highest}: {item.anchors[1]}" in page
    sliders = re.findall(r'<input class="slider"[^>]*>', page)
    assert len(sliders) == len(LDN.diary.items)
    assert all('data-answered="false"' in s for s in sliders)
    assert all('aria-valuetext="Not answered yet"' in s for s in sliders)
    for effect in LDN.diary.side_effects:
        assert effect.label in page
    assert page.count('value="not_at_all"') == len(LDN.diary.side_effects)
    assert "I took my study capsule last night" in page
    assert "until 03:00 on Friday 21 November 2025" in page
    assert response.cookies["csrftoken"].value


def test_after_sending_tonight_shows_thanks_progress_and_the_change_action(
    participant: Participant, evening: time_machine.Traveller
) -> None:
    make_entry(participant=participant, diary_date=TONIGHT - dt.timedelta(days=1))
    submit_tonight(participant)

    page = make_phone(participant).get(reverse("phone:home")).text

    assert "Tonight's diary is in." in page
    assert "You have filled in your diary on <strong>2</strong> of the <strong>18</strong>" in page
    assert "<strong>2</strong> evenings in a row" in page
    assert 'href="/d/?change=1"' in page
    assert "Your answers tonight" in page
    assert "<dt>Side effects</dt><dd>Headache (somewhat)</dd></div>" in page
    assert "diary-form" not in page


def test_the_correction_form_is_filled_with_tonights_answers(
    participant: Participant, evening: time_machine.Traveller
) -> None:
    submit_tonight(participant, pain=42, fatigue=7.5)

    page = make_phone(participant).get(reverse("phone:home") + "?change=1").text

    assert 'data-method="PUT"' in page
    assert 'data-url="/api/diary/entries/2025-11-20"' in page
    pain = re.search(r'<input class="slider" type="range" id="answer-pain"[^>]*>', page)
    assert pain is not None
    assert 'value="42"' in pain.group(0)
    assert 'data-answered="true"' in pain.group(0)
    assert 'aria-valuetext="42"' in pain.group(0)
    assert re.search(r'name="level-headache" value="somewhat" checked', page)
    assert re.search(r'name="capsule" value="yes" checked', page)


def test_between_windows_the_page_says_when_the_diary_opens(
    participant: Participant, noon: time_machine.Traveller
) -> None:
    response = make_phone(participant).get(reverse("phone:home"))

    assert response.status_code == 200
    assert "The diary is closed now" in response.text
    assert "The diary opens at 18:00 on Thursday 20 November 2025." in response.text
    assert "diary-form" not in response.text


def test_before_the_first_diary_day_the_page_says_when_it_starts(db: None) -> None:
    with time_machine.travel(local(START, 9), tick=False):
        participant = make_participant(study=make_study(), start_date=START + dt.timedelta(days=3))
        page = make_phone(participant).get(reverse("phone:home")).text

    assert "Your diary has not started yet" in page
    assert "Your diary starts at 18:00 on Thursday 6 November 2025." in page


def _randomized_at_visit_two(db: None) -> tuple[Participant, dt.date]:
    """A randomized participant and the day of their visit 2 (treatment day 28)."""
    with time_machine.travel(local(START, 9), tick=False):
        study = make_study()
        make_allocation(study=study)
        participant = make_participant(
            study=study, status=ParticipantStatus.RANDOMIZED, start_date=START
        )
    return participant, START + dt.timedelta(days=LDN.design.baseline_days - 1 + 28)


def test_at_a_visit_the_pgic_and_blinding_questions_follow_the_diary(db: None) -> None:
    participant, visit_day = _randomized_at_visit_two(db)
    with time_machine.travel(local(visit_day, 20), tick=False):
        phone = make_phone(participant)
        assert "diary-form" in phone.get(reverse("phone:home")).text  # the diary first
        make_entry(participant=participant, diary_date=visit_day)
        page = phone.get(reverse("phone:home")).text

    assert "End of this part of the study" in page
    assert 'data-kind="pgic" data-visit="2"' in page
    assert 'data-kind="blinding" data-visit="2"' in page
    assert "Since visit 1 (treatment days 1-28), what do you think your study capsule was?" in page
    for score, label in enumerate(PGIC_LABELS, 1):
        assert f'value="{score}"><span>{label}</span>' in page
    for value in ("drug", "placebo", "dont_know"):
        assert f'name="blinding-2" value="{value}"' in page


def _questions_form(page: str) -> str:
    found = re.search(r'<form id="questions-form".*?</form>', page, flags=re.DOTALL)
    return found.group(0) if found else ""


def test_two_sequences_started_the_same_day_see_the_same_questions_page(db: None) -> None:
    with time_machine.travel(local(START, 9), tick=False):
        study = make_study()
        make_allocation(study=study)
        first, second = two_sequences(study, start=START)
    phones = [make_phone(p) for p in (first, second)]
    for treatment_day in (27, 28, 42, 56, 84, 98, 112, 126):
        day = START + dt.timedelta(days=LDN.design.baseline_days - 1 + treatment_day)
        with time_machine.travel(local(day, 12), tick=False):  # between windows
            pages = [_questions_form(phone.get(reverse("phone:home")).text) for phone in phones]
        assert pages[0] == pages[1], treatment_day
        assert ("questions-form" in pages[0]) == (treatment_day != 27)


# --- history --------------------------------------------------------------------------------------


def test_history_lists_own_entries_newest_first(
    participant: Participant, evening: time_machine.Traveller
) -> None:
    make_entry(participant=participant, diary_date=START, answers={"pain": 12.5})
    make_entry(
        participant=participant, diary_date=START + dt.timedelta(days=1), answers={"pain": 70}
    )

    page = make_phone(participant).get(reverse("phone:history")).text

    assert page.index("Tuesday 4 November 2025") < page.index("Monday 3 November 2025")
    assert "<dt>Pain</dt><dd>12.5</dd>" in page
    assert "<dt>Pain</dt><dd>70</dd>" in page


def test_history_without_entries_says_so(participant: Participant) -> None:
    assert "Nothing yet" in make_phone(participant).get(reverse("phone:history")).text


# --- settings and PIN ---------------------------------------------------------------------------


def test_setting_a_pin_keeps_this_phone_unlocked_and_locks_others(
    participant: Participant,
) -> None:
    phone = make_phone(participant)
    url = reverse("phone:settings")

    refused = phone.post(url, {"action": "set", "pin": "1234", "pin_again": "1243"})
    assert refused.status_code == 422
    assert "The two PINs are not the same" in refused.text
    short = phone.post(url, {"action": "set", "pin": "12", "pin_again": "12"})
    assert "A PIN is four digits" in short.text

    done = phone.post(url, {"action": "set", "pin": "2580", "pin_again": "2580"})
    assert done.status_code == 302
    assert done.cookies[PIN_COOKIE].value
    assert "Your PIN is set" in phone.get(done["Location"]).text
    assert "no-store" in phone.get(reverse("phone:home"))["Cache-Control"]

    other = Client()  # the same phone after 12 hours: the unlock is gone
    other.cookies[DEVICE_COOKIE] = phone.cookies[DEVICE_COOKIE].value
    locked = other.get(reverse("phone:history"))
    assert locked.status_code == 302
    assert locked["Location"] == "/d/pin/?next=%2Fd%2Fhistory%2F"

    cleared = phone.post(url, {"action": "clear"})
    assert cleared.status_code == 302
    assert other.get(reverse("phone:history")).status_code == 200


def test_the_settings_page_has_the_diarys_time_reminders_and_the_pin(
    participant: Participant,
) -> None:
    page = make_phone(participant).get(reverse("phone:settings")).text

    assert "open every evening from 18:00 to 03:00, America/Los Angeles time" in page
    assert 'id="reminders"' in page
    assert "Set the PIN" in page


def _pin_phone(participant: Participant) -> tuple[Client, Device]:
    phone = make_phone(participant)
    device = Device.objects.get(participant=participant, revoked_at__isnull=True)
    device_pin_set(device=device, pin="2580")
    return phone, device


def test_the_right_pin_unlocks_and_goes_on(participant: Participant) -> None:
    phone, _ = _pin_phone(participant)
    url = reverse("phone:pin")

    assert "Enter your PIN" in phone.get(url).text
    response = phone.post(url, {"pin": "2580", "next": "/d/history/"})

    assert response.status_code == 302
    assert response["Location"] == "/d/history/"
    assert phone.get("/d/history/").status_code == 200


def test_a_wrong_pin_says_how_many_tries_are_left_and_the_fifth_revokes(
    participant: Participant,
) -> None:
    phone, device = _pin_phone(participant)
    url = reverse("phone:pin")

    for left in (4, 3, 2, 1):
        response = phone.post(url, {"pin": "0000"})
        assert response.status_code == 422
        tries = "try" if left == 1 else "tries"
        assert f"That PIN is not right. You have {left} more {tries}" in response.text
    assert "A PIN is 4 digits" in phone.post(url, {"pin": "12"}).text  # not counted
    last = phone.post(url, {"pin": "0000"})

    assert last.status_code == 401
    assert "switched off on this phone" in last.text
    assert last.cookies[DEVICE_COOKIE].value == ""
    device.refresh_from_db()
    assert device.revoked_at is not None


def test_the_pin_page_ignores_a_next_address_elsewhere(participant: Participant) -> None:
    phone, _ = _pin_phone(participant)

    response = phone.post(reverse("phone:pin"), {"pin": "2580", "next": "https://evil.example/"})

    assert response["Location"] == "/d/"


# --- enrolment ------------------------------------------------------------------------------------


def _link(participant: Participant) -> str:
    issued = enrolment_link_issue(participant=participant, actor=make_user(username="coord"))
    return reverse("phone:enrol", args=[issued.token])


def test_an_enrolment_link_asks_first_then_sets_up_the_phone(participant: Participant) -> None:
    url = _link(participant)
    phone = Client()

    confirm = phone.get(url)
    assert confirm.status_code == 200
    assert "Use this phone for my diary" in confirm.text
    assert confirm["Referrer-Policy"] == "same-origin"
    assert not Device.objects.filter(participant=participant).exists()  # GET uses nothing up

    response = phone.post(url)
    assert response.status_code == 302
    assert response["Location"] == "/d/"
    assert response.cookies[DEVICE_COOKIE]["httponly"]
    assert phone.get("/d/").status_code == 200

    again = Client()
    for method in (again.get, again.post):
        gone = method(url)
        assert gone.status_code == 410
        assert "This link no longer works" in gone.text
        assert "ask your study coordinator for a new link" in gone.text.lower()


def test_an_unknown_enrolment_link_is_gone(db: None) -> None:
    url = reverse("phone:enrol", args=["not-a-real-token-at-all-0123456789"])

    assert Client().get(url).status_code == 410
    assert Client().post(url).status_code == 410


# --- the installable app ----------------------------------------------------------------------


def test_the_manifest_makes_the_diary_installable(db: None) -> None:
    response = Client().get(reverse("phone:manifest"))
    manifest = json.loads(response.content)

    assert response["Content-Type"] == "application/manifest+json"
    assert manifest["start_url"] == "/d/"
    assert manifest["scope"] == "/d/"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon


def test_the_service_worker_is_served_for_the_diary_scope(db: None) -> None:
    response = Client().get(reverse("phone:service_worker"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/d/"
    assert "no-cache" in response["Cache-Control"]
    text = response.text
    assert '"/static/phone/phone.css"' in text
    assert '"/static/phone/diary.js"' in text
    assert '"/d/manifest.webmanifest"' in text
    assert re.search(r'var VERSION = "[0-9a-f]{16}";', text)
    assert 'importScripts("/static/reminders/sw-push.js");' in text  # push reminders shown


# --- weight -------------------------------------------------------------------------------------


HOME_BUDGET = 60 * 1024


def test_the_home_page_with_its_css_and_js_weighs_at_most_60_kb(
    participant: Participant, evening: time_machine.Traveller
) -> None:
    html = make_phone(participant).get(reverse("phone:home")).content
    assets = re.findall(rb'<(?:link rel="stylesheet"|script) (?:href|src)="/static/([^"]+)"', html)
    sizes = {}
    for asset in assets:
        found = finders.find(asset.decode())
        assert isinstance(found, str), asset
        with open(found, "rb") as handle:
            sizes[asset.decode()] = len(handle.read())

    assert set(sizes) == {"phone/phone.css", "phone/diary.js"}
    total = len(html) + sum(sizes.values())
    assert total <= HOME_BUDGET, f"{total} bytes: html {len(html)}, {sizes}"


def test_before_the_first_evening_the_progress_says_it_is_ahead(
    noon: time_machine.Traveller,
) -> None:
    newcomer = make_participant(study=make_study(), start_date=TONIGHT)

    page = make_phone(newcomer).get(reverse("phone:home")).text

    assert "The diary is closed now" in page
    assert "Your first diary evening is still ahead." in page
    assert "0 of the" not in page
