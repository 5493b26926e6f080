"""The Content-Security-Policy in a real browser: headless Chromium opens the main staff pages
(each role's, the admin, the API docs) and the phone's pages, uses them a little (htmx's filter,
the diary's script, the service worker), and must record 0 violations of the policy, and no
complaint about the Permissions-Policy either.

Violations are caught twice: the page's ``securitypolicyviolation`` events (a script added
before any of the page's own) and the browser's console. Skipped without /usr/bin/chromium or
the ``playwright`` package (the system Chromium is used; never ``playwright install``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from tests.builders import (
    make_adverse_event,
    make_allocation,
    make_entry,
    make_kits,
    make_member,
    make_participant,
    make_site,
    make_study,
)
from tests.chromium import CHROMIUM, chromium_browser

from diarytrial.devices.services import enrolment_link_issue
from diarytrial.participants.models import Participant
from diarytrial.protocol import zone_where_it_is
from diarytrial.studies.models import Role, Study

WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:` +
    `${event.lineNumber} ${event.sample}`);
});
"""
COMPLAINTS = ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy")

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM}"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.ticking,
]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)


class Watched:
    """A browser page whose policy violations and complaints are collected across visits."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.found: list[str] = []
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if any(word in message.text for word in COMPLAINTS):
            self.found.append(f"{self.page.url}: console: {message.text}")

    def visit(self, path: str) -> Any:
        """Open `path`, let its scripts run, and collect what the page reported."""
        response = self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        self.collect()
        return response

    def collect(self) -> None:
        for violation in self.page.evaluate("window.__violations || []"):
            self.found.append(f"{self.page.url}: {violation}")
        self.page.evaluate("window.__violations = []")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium_browser() as chromium:
        yield chromium


def watched(browser: Any, live_server: Any, user: User | None = None, **options: Any) -> Watched:
    """A new browser context (signed in as `user`, when given) and its watched page."""
    context = browser.new_context(**options)
    context.set_default_timeout(20_000)
    context.clock.install(time=timezone.now())  # the browser's clock runs from the tests' clock
    context.add_init_script(WATCH_VIOLATIONS)
    if user is not None:
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
    return Watched(context.new_page(), live_server.url)


def participant_at(study: Study, hour: int) -> Participant:
    """A participant whose clock reads `hour` now (20: the diary is open; 12: closed), whose
    diary started a week ago, and who filled it on the first night."""
    zone = zone_where_it_is(hour, timezone.now())
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()
    start = today - dt.timedelta(days=7)
    participant = make_participant(study=study, tz=zone, start_date=start)
    make_entry(participant=participant, diary_date=start, side_effects={"headache": "very"})
    return participant


def enrolled_phone(browser: Any, live_server: Any, participant: Participant) -> Watched:
    """A phone-sized browser set up through the participant's enrolment link."""
    coordinator, _ = User.objects.get_or_create(username="link-issuer")
    link = enrolment_link_issue(participant=participant, actor=coordinator)
    phone = watched(browser, live_server, viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.visit(reverse("phone:enrol", args=[link.token]))
    phone.page.get_by_role("button", name="Use this phone for my diary").click()
    phone.page.wait_for_url(f"{live_server.url}{reverse('phone:home')}")
    phone.page.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller"
    )
    phone.collect()
    return phone


def test_staff_pages_break_no_rule_of_the_policy(browser: Any, live_server: Any) -> None:
    study = make_study()
    site = make_site(study=study)
    make_allocation(study=study)
    make_kits(study=study, per_arm_and_level=1)
    participant = participant_at(study, 20)
    event = make_adverse_event(participant=participant)
    administrator = make_member(study=study, role=Role.ADMINISTRATOR).user
    administrator.is_superuser = administrator.is_staff = True
    administrator.save(update_fields=["is_superuser", "is_staff"])
    coordinator = make_member(study=study, role=Role.COORDINATOR, sites=[site]).user
    pharmacist = make_member(study=study, role=Role.PHARMACIST).user
    slug = study.slug
    of_participant = {"study": slug, "participant": participant.code}

    anonymous = watched(browser, live_server)
    anonymous.visit(reverse("accounts:sign_in"))
    assert anonymous.visit("/no-such-page/").status == 404

    admin = watched(browser, live_server, administrator)
    for path in (
        reverse("studies:list"),
        reverse("studies:home", kwargs={"study": slug}),
        reverse("participants:list", kwargs={"study": slug}),
        reverse("participants:detail", kwargs=of_participant),
        reverse("exports:database", kwargs={"study": slug}),
        reverse("accounts:two_step"),
        reverse("admin:index"),
        reverse("admin:participants_participant_changelist"),
        reverse("admin:auth_user_add"),
        reverse("admin:studies_study_change", args=[study.pk]),
    ):
        admin.visit(path)
    admin.visit(reverse("participants:list", kwargs={"study": slug}))
    with admin.page.expect_response(lambda response: "status=" in response.url):
        admin.page.locator("form.filter input[type=checkbox]").first.check()  # htmx's request
    admin.page.wait_for_load_state("networkidle")
    admin.collect()

    care = watched(browser, live_server, coordinator)
    for path in (
        reverse("participants:screen", kwargs={"study": slug}),
        reverse("participants:timezone", kwargs=of_participant),
        reverse("safety:adverse_event_new", kwargs=of_participant),
        reverse("safety:adverse_event_change", kwargs={**of_participant, "event": event.pk}),
        reverse("safety:dose_change", kwargs=of_participant),
        reverse("side_effects:list", kwargs={"study": slug}),
        reverse("diary:entries", kwargs=of_participant),
        reverse("devices:list", kwargs=of_participant),
    ):
        care.visit(path)

    pharmacy = watched(browser, live_server, pharmacist)
    for name in (
        "randomization:pharmacy",
        "randomization:kits",
        "randomization:allocation_lists",
        "randomization:enrolment",
    ):
        pharmacy.visit(reverse(name, kwargs={"study": slug}))

    assert anonymous.found + admin.found + care.found + pharmacy.found == []


def test_phone_pages_break_no_rule_of_the_policy(browser: Any, live_server: Any) -> None:
    study = make_study()
    stranger = watched(browser, live_server, viewport={"width": 390, "height": 844})
    stranger.visit(reverse("phone:home"))  # a phone not set up

    evening = enrolled_phone(browser, live_server, participant_at(study, 20))
    evening.visit(reverse("phone:home"))
    evening.page.locator("#answer-pain").focus()
    evening.page.keyboard.press("ArrowRight")  # the diary's script answers the slider
    evening.collect()
    for name in ("phone:history", "phone:settings", "phone:pin"):
        evening.visit(reverse(name))
    midday = enrolled_phone(browser, live_server, participant_at(study, 12))
    midday.visit(reverse("phone:home"))
    assert midday.page.locator("progress.bar").count() == 1  # the diary so far, closed window

    assert stranger.found + evening.found + midday.found == []


def test_the_api_docs_break_no_rule_of_the_policy(browser: Any, live_server: Any) -> None:
    docs = watched(browser, live_server)

    docs.visit(reverse("api:openapi-view"))
    docs.page.locator(".opblock").first.wait_for()  # Swagger UI drew the endpoints
    docs.page.locator(".opblock").first.click()  # and opens one
    docs.page.locator(".opblock-body").first.wait_for()
    docs.collect()

    assert docs.found == []
