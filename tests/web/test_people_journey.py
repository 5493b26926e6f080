"""The administrator's people pages, in headless Chromium, with a screenshot of each step.

An administrator invites a coordinator by e-mail; the coordinator opens the link, chooses a
password, sets up an authenticator app (the test computes its codes from the device's key, as
the app would) and signs in with password and code. Then the administrator gives an existing
account a role limited to one site, with a last day. axe-core finds nothing on any page.

The screenshots go to out/test-artifacts/people/; with DIARYTRIAL_DOCS_SCREENSHOTS=1 they
redraw the pictures of docs/guide-staff.md.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.builders import make_member, make_study, make_user, totp_code
from tests.chromium import CHROMIUM, chromium_browser

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.studies.access import membership_of
from diarytrial.studies.models import Role, StudyMembership
from diarytrial.studies.services import site_create

ROOT = Path(__file__).parents[2]
PICTURES = (
    ROOT / "docs" / "images"
    if os.environ.get("DIARYTRIAL_DOCS_SCREENSHOTS") == "1"
    else ROOT / "out" / "test-artifacts" / "people"
)
PASSWORD = "a quiet harbour at dusk"

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
    with chromium_browser() as chromium:
        yield chromium


def _context(browser: Any, live_server: Any, user: User | None = None) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(20_000)
    if user is not None:
        client = Client()
        client.force_login(user)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
    return context


def _step(page: Any, name: str, *, picture: bool = True) -> None:
    """Picture the page (the guide shows each picture), then require no axe-core violation."""
    if picture:
        PICTURES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(PICTURES / f"people-{name}.png"), full_page=True)
    results = axe_playwright.Axe().run(page)
    assert results.violations_count == 0, (name, results.generate_report())


def test_an_administrator_invites_a_coordinator_who_signs_in_with_a_code(
    browser: Any, live_server: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url  # where the invitation's link leads
    study = make_study()
    site_create(
        study=study,
        code="stanford",
        name="Stanford pain clinic",
        actor=None,
        timezone="America/Los_Angeles",
    )
    site_create(
        study=study, code="boston", name="Boston clinic", actor=None, timezone="America/New_York"
    )
    admin = make_member(study=study, role=Role.ADMINISTRATOR, username="ada").user
    make_user(username="dina")  # an account of another study's team, say
    last_day = timezone.now().date() + dt.timedelta(days=180)
    errors: list[str] = []

    context = _context(browser, live_server, admin)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        # 1. The people of the study, from the navigation.
        page.goto(f"{live_server.url}/studies/{study.slug}/")
        with page.expect_navigation():
            page.get_by_role("link", name="People", exact=True).click()
        assert "ada" in page.locator("table").inner_text()
        _step(page, "list", picture=False)  # pictured, fuller, at the end

        # 2. The invitation: who, where to send it, which role at which site.
        with page.expect_navigation():
            page.get_by_role("link", name="Invite someone").click()
        page.get_by_label("Username").fill("cora")
        page.get_by_label("E-mail address").fill("cora@example.org")
        page.get_by_label("First name").fill("Cora")
        page.get_by_label("Last name").fill("Lee")
        page.get_by_role("combobox", name="Role").select_option(label="Coordinator")
        page.get_by_label("Stanford pain clinic (stanford)").check()
        _step(page, "1-invite")
        with page.expect_navigation():
            page.get_by_role("button", name="Send the invitation").click()
        assert "cora is invited" in page.content()
        assert "not accepted yet" in page.content()
        _step(page, "2-invited")
    finally:
        context.close()

    # 3. The coordinator opens the link from the e-mail, on their own computer.
    (message,) = mail.outbox
    link = re.search(rf"{re.escape(live_server.url)}/accounts/invitation/\S+/", message.body)
    assert link is not None
    cora = User.objects.get(username="cora")
    context = _context(browser, live_server)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(link[0])
        assert page.get_by_role("heading", name="Welcome to diarytrial, cora").is_visible()
        device = TOTPDevice.objects.get(user=cora, confirmed=False)
        page.get_by_label("Choose a password").fill(PASSWORD)
        page.get_by_label("Type the password again").fill(PASSWORD)
        page.get_by_label("Code from your authenticator app").fill(totp_code(device))
        _step(page, "3-accept")
        with page.expect_navigation():
            page.get_by_role("button", name="Set my password and two-step sign-in").click()
        assert "/accounts/sign-in/" in page.url
        assert "Your account cora is ready" in page.content()

        # 4. Signing in takes the password and a code from the app.
        page.get_by_label("Username").fill("cora")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Code from your authenticator app").fill(totp_code(device, steps_ahead=1))
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        assert page.url.rstrip("/").endswith("/studies")
        assert "Coordinator" in page.content()
        _step(page, "4-signed-in")
        with page.expect_navigation():
            page.get_by_role("link", name=study.title).first.click()
        assert "Coordinator" in page.locator("header").inner_text()
        # Opening it again: the link works once.
        response = page.goto(link[0])
        assert response is not None
        assert response.status == 410
        assert "used already" in page.content()
    finally:
        context.close()
    device.refresh_from_db()
    assert device.confirmed

    # 5. The administrator gives an existing account a role at one site, until a last day.
    context = _context(browser, live_server, admin)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{live_server.url}/studies/{study.slug}/people/")
        with page.expect_navigation():
            page.get_by_role("link", name="Give a role to an existing account").click()
        page.get_by_label("Username").fill("dina")
        page.get_by_role("combobox", name="Role").select_option(label="Coordinator")
        page.get_by_label("Boston clinic (boston)").check()
        page.get_by_label("Last day of the role").fill(last_day.isoformat())
        page.get_by_label("Reason").fill("covers Boston during the recruitment drive")
        _step(page, "5-grant")
        with page.expect_navigation():
            page.get_by_role("button", name="Give the role").click()
        assert "dina is coordinator" in page.content()
        assert last_day.isoformat() in page.content()
        _step(page, "6-granted")
        with page.expect_navigation():
            page.get_by_role("link", name="People of").click()
        _step(page, "7-people")
    finally:
        context.close()
    assert errors == []

    dina = StudyMembership.objects.get(user__username="dina", study=study)
    assert (dina.role, dina.ends_on) == (Role.COORDINATOR, last_day)
    assert [site.code for site in dina.sites.all()] == ["boston"]
    assert membership_of(cora, study) is not None
    actions = set(AuditEvent.objects.filter(actor=admin).values_list("action", flat=True))
    assert {AuditAction.INVITE, AuditAction.GRANT} <= actions
