"""The phone diary in headless Chromium with a phone's screen and touch, against a live server.

Enrol from the link and fill tonight's diary; fill it offline and see it sync exactly once
(also when the first acknowledgement is lost); the closed window; a correction; the
end-of-period questions; axe-core finds nothing on any screen; text at 200% needs no sideways
scrolling. A screenshot of every screen goes to out/test-artifacts/phone/.

The live server runs in another thread, where a frozen clock does not reach: each participant
gets a time zone (``Etc/GMT±N``) in which the real time now is the evening (inside the LDN
window, 18:00 to 03:00) or midday (closed). Skipped without /usr/bin/chromium or the
``playwright`` package (never run ``playwright install``: the system Chromium is used).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.builders import make_allocation, make_device, make_participant, make_study, make_user
from tests.chromium import CHROMIUM, chromium_browser

from diarytrial.devices.auth import DEVICE_COOKIE
from diarytrial.devices.services import enrolment_link_issue
from diarytrial.diary.models import BlindingGuess, DiaryEntry, DiarySubmission, PgicAnswer
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.protocol import load_example, zone_where_it_is
from diarytrial.studies.models import Study

ARTIFACTS = Path(__file__).parents[2] / "out" / "test-artifacts" / "phone"
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "locale": "en-GB",
}

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM}"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.ticking,  # the live server and the browser need time to pass
]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)
axe_playwright = pytest.importorskip(
    "axe_playwright_python.sync_playwright", reason="axe-playwright-python is not installed"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A new phone (browser context) and its page; fails the test on any script error."""
    context = browser.new_context(**PHONE)
    context.set_default_timeout(15_000)
    # The phone's clock runs from the server's (the tests' clock), as a phone's would.
    context.clock.install(time=timezone.now())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    # Let the page's last requests finish before the live server's database is emptied: a
    # request still writing (an outbox sent again on a reload, say) while the tables are
    # truncated can deadlock with it on PostgreSQL.
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_load_state("networkidle", timeout=5_000)
    context.close()
    assert errors == []


def zone_where_it_is_now(hour: int) -> str:
    return zone_where_it_is(hour, timezone.now())


def enrolment_url(live_server: Any, participant: Participant) -> str:
    issued = enrolment_link_issue(participant=participant, actor=make_user(username="coord"))
    return live_server.url + reverse("phone:enrol", args=[issued.token])


def enrol(page: Any, live_server: Any, participant: Participant) -> None:
    page.goto(enrolment_url(live_server, participant))
    page.get_by_role("button", name="Use this phone for my diary").click()
    page.wait_for_url(f"{live_server.url}/d/")


def evening_participant(study: Study | None = None) -> Participant:
    return make_participant(study=study or make_study(), tz=zone_where_it_is_now(20))


# --- what every screen must pass ----------------------------------------------------------------


def screen(page: Any, name: str) -> None:
    """Screenshot `name`, then require 0 axe-core violations and no sideways scrolling at 200%
    text, with every control at least 44 px tall."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    results = axe_playwright.Axe().run(page)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"
    small = page.evaluate(
        """() => Array.from(document.querySelectorAll(
              'main button, main .button, main .choice, main .check, main input.slider,'
              + ' main .field input, nav a'))
            .filter(el => el.offsetParent !== null)
            .map(el => [el.className || el.tagName, el.getBoundingClientRect().height])
            .filter(([, height]) => height < 44)"""
    )
    assert small == [], f"{name}: targets under 44 px: {small}"
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    wide = page.evaluate(
        """() => Array.from(document.querySelectorAll('body *'))
            .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth)
            .map(el => el.tagName + '.' + el.className + '#' + el.id)"""
    )
    page.screenshot(path=str(ARTIFACTS / f"{name}-200pc.png"), full_page=False)
    page.evaluate("document.documentElement.style.fontSize = ''")
    assert overflow <= 0, f"{name}: {overflow} px of sideways scrolling at 200% text: {wide}"


# --- filling the form as a person does ---------------------------------------------------------


def touch_slider(page: Any, item: str, fraction: float) -> int:
    """Tap the slider of `item` at `fraction` of its width; the value it took."""
    slider = page.locator(f"#answer-{item}")
    box = slider.bounding_box()
    slider.tap(position={"x": box["width"] * fraction, "y": box["height"] / 2})
    return int(slider.input_value())


def fill_diary(page: Any, *, pain_fraction: float = 0.3) -> dict[str, int]:
    """Answer every item (tap, keyboard, tap), tick a side effect, say the capsule was taken."""
    answers = {"pain": touch_slider(page, "pain", pain_fraction)}
    fatigue = page.locator("#answer-fatigue")
    fatigue.focus()
    fatigue.press("ArrowRight")  # the first key shows the thumb where it rests (50)
    fatigue.press("ArrowRight")
    answers["fatigue"] = int(fatigue.input_value())
    for item, fraction in (("sleep", 0.8), ("mood", 0.6), ("activity", 0.4), ("satisfaction", 0.5)):
        answers[item] = touch_slider(page, item, fraction)
    page.get_by_role("checkbox", name="Headache").check()
    page.locator("#level-headache").get_by_text("Somewhat").click()
    page.locator("#capsule").get_by_text("Yes").click()
    return answers


def send(page: Any) -> None:
    page.get_by_role("button", name="Send tonight's diary").click()


def outbox_size(page: Any) -> int:
    """How many uploads wait in the phone's outbox (IndexedDB)."""
    size: int = page.evaluate(
        """() => new Promise(resolve => {
             const open = indexedDB.open("diarytrial-diary");
             open.onsuccess = () => {
               const request = open.result.transaction("outbox").objectStore("outbox").count();
               request.onsuccess = () => resolve(request.result);
             };
           })"""
    )
    return size


def wait_for_service_worker(page: Any) -> None:
    # A function, not an expression: Playwright evaluates an expression with eval, which the
    # pages' Content-Security-Policy refuses.
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller")


# --- the tests ------------------------------------------------------------------------------------


def test_enrol_from_the_link_and_fill_tonights_diary(phone: Any, live_server: Any) -> None:
    participant = evening_participant()
    page = phone
    page.goto(enrolment_url(live_server, participant))
    screen(page, "01-enrol")
    page.get_by_role("button", name="Use this phone for my diary").click()
    page.wait_for_url(f"{live_server.url}/d/")
    page.get_by_role("heading", name="Tonight's diary").wait_for()
    assert page.locator("#answer-pain").get_attribute("aria-valuetext") == "Not answered yet"
    screen(page, "02-tonight")

    # An untouched slider is no answer: sending is refused, pointing at each item.
    send(page)
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert summary.get_by_role("link").count() == 6
    assert page.evaluate("document.activeElement.id") == "error-summary"
    screen(page, "03-missing-answers")

    answers = fill_diary(page)
    assert page.locator("#answer-pain").get_attribute("aria-valuetext") == str(answers["pain"])
    assert answers["fatigue"] == 51
    screen(page, "04-filled")
    send(page)
    page.get_by_role("heading", name="Thank you").wait_for()
    screen(page, "05-thanks")

    entry = DiaryEntry.objects.get(participant=participant)
    recorded = {a.item: a.value for a in entry.answers.all()}
    assert recorded == {item: float(value) for item, value in answers.items()}
    assert {s.side_effect: s.unpleasantness for s in entry.side_effects.all()} == {
        "headache": "somewhat"
    }
    assert entry.capsule_taken is True
    assert entry.completed_at_device is not None
    page.get_by_role("link", name="My entries").click()
    page.get_by_role("heading", name="My entries").wait_for()
    screen(page, "06-history")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("heading", name="Settings").wait_for()
    screen(page, "07-settings")


def test_offline_entry_is_kept_on_the_phone_and_syncs_exactly_once(
    phone: Any, live_server: Any
) -> None:
    participant = evening_participant()
    page = phone
    enrol(page, live_server, participant)
    wait_for_service_worker(page)
    page.reload()  # through the service worker, which keeps this copy for offline use

    page.context.set_offline(True)
    page.reload()  # the diary opens without a network
    page.get_by_role("heading", name="Tonight's diary").wait_for()
    fill_diary(page)
    send(page)
    status = page.locator("#sync-status")
    status.get_by_text("Saved on this phone, will send when you're online").wait_for()
    # The status line is written at once, the form hidden once the phone's outbox has been
    # read: wait for it rather than look at one instant.
    page.locator("#diary-form").wait_for(state="hidden")
    screen(page, "08-saved-on-phone")
    page.reload()  # still offline: the entry waits in the outbox, the form stays away
    status.get_by_text("Saved on this phone, will send when you're online").wait_for()
    page.locator("#pending").wait_for(state="visible")
    assert DiaryEntry.objects.filter(participant=participant).count() == 0

    page.context.set_offline(False)  # the phone comes back online
    page.get_by_role("heading", name="Thank you").wait_for()
    assert DiaryEntry.objects.filter(participant=participant).count() == 1
    assert outbox_size(page) == 0


def test_a_lost_acknowledgement_is_sent_again_and_recorded_once(
    phone: Any, live_server: Any
) -> None:
    participant = evening_participant()
    page = phone
    enrol(page, live_server, participant)
    bodies: list[str] = []

    def drop_the_answer(route: Any) -> None:
        route.fetch()  # the server records the entry...
        route.abort("internetdisconnected")  # ...and its answer never reaches the phone
        bodies.append(route.request.post_data)

    page.route("**/api/diary/entries", drop_the_answer)
    fill_diary(page)
    send(page)
    for _ in range(100):
        if bodies:
            break
        page.wait_for_timeout(100)
    page.locator("#sync-status").get_by_text("Saved on this phone").wait_for()
    assert DiaryEntry.objects.filter(participant=participant).count() == 1
    page.unroute("**/api/diary/entries")

    page.reload()  # every page load sends the outbox again, with the same client id
    page.get_by_role("heading", name="Thank you").wait_for()
    entry = DiaryEntry.objects.get(participant=participant)
    assert DiarySubmission.objects.filter(entry=entry).count() == 1
    assert str(entry.client_id) in bodies[0]


def test_the_closed_window_says_when_the_diary_opens(phone: Any, live_server: Any) -> None:
    participant = make_participant(study=make_study(), tz=zone_where_it_is_now(12))
    page = phone
    enrol(page, live_server, participant)

    page.get_by_role("heading", name="The diary is closed now").wait_for()
    text = page.locator("#closed").inner_text()
    assert "The diary opens at 18:00 on " in text
    assert page.locator("#diary-form").count() == 0
    screen(page, "09-closed")


def test_correct_tonights_entry_inside_the_window(phone: Any, live_server: Any) -> None:
    participant = evening_participant()
    page = phone
    enrol(page, live_server, participant)
    first = fill_diary(page, pain_fraction=0.2)
    send(page)
    page.get_by_role("heading", name="Thank you").wait_for()

    page.get_by_role("link", name="Change tonight's answers").click()
    page.get_by_role("heading", name="Change tonight's answers").wait_for()
    assert page.locator("#answer-pain").input_value() == str(first["pain"])
    assert page.locator("#answer-pain").get_attribute("data-answered") == "true"
    screen(page, "10-change")
    pain = touch_slider(page, "pain", 0.9)
    page.get_by_role("checkbox", name="Headache").uncheck()
    page.get_by_role("button", name="Send my changes").click()
    page.get_by_role("heading", name="Thank you").wait_for()

    entry = DiaryEntry.objects.get(participant=participant)
    assert entry.answers.get(item="pain").value == pain != first["pain"]
    assert not entry.side_effects.exists()
    assert DiarySubmission.objects.filter(entry=entry).count() == 2


def _randomized_at_visit_two() -> Participant:
    """A randomized participant whose visit 2 (treatment day 28) is today, in the evening."""
    study = make_study()
    make_allocation(study=study)
    zone = zone_where_it_is_now(20)
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()
    return make_participant(
        study=study,
        status=ParticipantStatus.RANDOMIZED,
        tz=zone,
        start_date=today - dt.timedelta(days=14 + 28 - 1),
    )


def test_reach_the_pgic_and_blinding_questions_at_a_visit(phone: Any, live_server: Any) -> None:
    participant = _randomized_at_visit_two()
    page = phone
    enrol(page, live_server, participant)
    fill_diary(page)
    send(page)

    page.get_by_role("heading", name="End of this part of the study").wait_for()
    screen(page, "11-questions")
    page.get_by_role("button", name="Send my answers").click()
    page.locator("#error-summary").wait_for()
    page.get_by_role("group", name="Visit 2, treatment day 28").get_by_text(
        "Much improved", exact=True
    ).click()
    page.get_by_role("group", name="Since visit 1").get_by_text("Don't know").click()
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    screen(page, "12-thanks-after-questions")

    assert PgicAnswer.objects.get(participant=participant, visit=2).score == 2
    assert BlindingGuess.objects.get(participant=participant, visit=2).guess == "dont_know"
    thanks = page.locator("main").inner_text().lower()
    for word in ("naltrexone", "placebo", "ldn", "mg", "sequence", "period"):
        assert word not in thanks, word


def test_the_pages_for_a_phone_not_set_up_and_a_used_link(phone: Any, live_server: Any) -> None:
    participant = evening_participant()
    page = phone
    url = enrolment_url(live_server, participant)

    response = page.goto(f"{live_server.url}/d/")
    assert response.status == 401
    page.get_by_text("ask your study coordinator for a link").wait_for()
    screen(page, "13-not-set-up")

    page.goto(url)
    page.get_by_role("button", name="Use this phone for my diary").click()
    page.wait_for_url(f"{live_server.url}/d/")
    response = page.goto(url)
    assert response.status == 410
    page.get_by_role("heading", name="This link no longer works").wait_for()
    screen(page, "14-link-used")


def test_the_pin_page(phone: Any, live_server: Any) -> None:
    participant = evening_participant()
    page = phone
    enrol(page, live_server, participant)
    page.goto(f"{live_server.url}/d/settings/")
    page.get_by_label("PIN (4 digits)").fill("2580")
    page.get_by_label("The same PIN again").fill("2580")
    page.get_by_role("button", name="Set the PIN").click()
    page.get_by_text("Your PIN is set").wait_for()
    page.context.clear_cookies(name="dt_pin")  # twelve hours later

    page.goto(f"{live_server.url}/d/")
    page.get_by_role("heading", name="Enter your PIN").wait_for()
    page.get_by_label("PIN").fill("1111")
    page.get_by_role("button", name="Open my diary").click()
    page.get_by_text("You have 4 more tries").wait_for()
    screen(page, "15-pin-wrong")
    page.get_by_label("PIN").fill("2580")
    page.get_by_role("button", name="Open my diary").click()
    page.get_by_role("heading", name="Tonight's diary").wait_for()


def test_an_upload_refused_for_good_leaves_the_outbox_and_says_why(
    phone: Any, live_server: Any
) -> None:
    participant = evening_participant()
    page = phone
    enrol(page, live_server, participant)
    detail = "The diary of Monday 2 March 2026 closed at 03:00 on Tuesday 3 March 2026."
    page.route(
        "**/api/diary/entries",
        lambda route: route.fulfill(
            status=409,
            content_type="application/problem+json",
            body=f'{{"status": 409, "code": "diary_window_closed", "detail": "{detail}"}}',
        ),
    )
    fill_diary(page)
    send(page)

    page.locator("#sync-problem").get_by_text(detail).wait_for()
    page.locator("#diary-form").wait_for(state="visible")  # the answers are still on the page
    assert outbox_size(page) == 0
    assert DiaryEntry.objects.filter(participant=participant).count() == 0


def test_a_kept_page_of_a_closed_evening_takes_no_answers(phone: Any, live_server: Any) -> None:
    participant = evening_participant()
    page = phone
    enrol(page, live_server, participant)
    closes = page.locator("#diary-form").get_attribute("data-closes-at")

    # The phone's clock says the evening's window has closed, as when a page kept for offline
    # use is opened the next day.
    page.clock.set_fixed_time(dt.datetime.fromisoformat(closes) + dt.timedelta(hours=14))
    page.reload()

    page.locator("#sync-problem").get_by_text("whose diary has closed").wait_for()
    page.locator("#diary-form").wait_for(state="hidden")


def test_a_0_to_10_rating_protocol_is_answered_by_tapping_a_number(
    phone: Any, live_server: Any
) -> None:
    """The n-of-1 example rates on 0-10 scales; its mood item is optional."""
    study = make_study(text=load_example("nof1-ldn").text)
    participant = evening_participant(study)
    page = phone
    enrol(page, live_server, participant)
    page.get_by_role("heading", name="Tonight's diary").wait_for()
    pain = page.get_by_role("group", name="How much pain did you feel today, on average?")
    assert pain.get_by_role("radio").count() == 11
    assert page.locator("input[type=range]").count() == 0
    screen(page, "16-rating-scale")

    for item, value in (("pain", 3), ("fatigue", 6), ("sleep", 7)):
        page.locator(f"#item-{item}").get_by_text(str(value), exact=True).click()
    assert page.get_by_text("4. Mood (you may skip this one)").count() == 1
    page.locator("#capsule").get_by_text("No").click()
    send(page)
    page.get_by_role("heading", name="Thank you").wait_for()

    entry = DiaryEntry.objects.get(participant=participant)
    assert {a.item: a.value for a in entry.answers.all()} == {
        "pain": 3.0,
        "fatigue": 6.0,
        "sleep": 7.0,
    }  # the optional mood left blank is no answer
    assert entry.capsule_taken is False


def test_tonights_page_transfers_at_most_60_kb_in_all(browser: Any, live_server: Any) -> None:
    """Everything a phone that never opened the diary fetches to show tonight's form and to
    work offline after: page, CSS, script, icons, manifest, the service worker. Uncompressed:
    the proxy's gzip roughly thirds it."""
    participant = evening_participant()
    _, token = make_device(participant)
    context = browser.new_context(**PHONE)
    context.add_cookies([{"name": DEVICE_COOKIE, "value": token, "url": live_server.url}])
    fetched: dict[str, int] = {}

    def count(response: Any) -> None:
        if response.url.startswith(live_server.url) and response.status == 200:
            # The service worker's own fetches show no body here: their length says it. Each
            # address counts once: the worker's second fetch of the page's CSS and script is
            # answered by the browser's cache where the proxy lets it cache /static/.
            size = max(len(response.body()), int(response.headers.get("content-length", 0)))
            fetched[response.url] = max(fetched.get(response.url, 0), size)

    context.on("response", count)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/d/", wait_until="networkidle")
        page.get_by_role("heading", name="Tonight's diary").wait_for()
        wait_for_service_worker(page)
        page.wait_for_load_state("networkidle")
    finally:
        context.close()

    total = sum(fetched.values())
    assert f"{live_server.url}/d/" in fetched
    assert f"{live_server.url}/static/phone/diary.js" in fetched
    assert total <= 60 * 1024, f"{total} bytes: {fetched}"
