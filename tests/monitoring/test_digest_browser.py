"""The daily digest's page in headless Chromium, as a coordinator and as the administrator:
axe-core finds nothing, and a member turns their own digest off and on with the keyboard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from tests.builders import make_member, make_site, make_study
from tests.chromium import CHROMIUM, chromium_browser

from diarytrial.monitoring.digest.services import digest_schedule_set
from diarytrial.studies.models import Role, Study

ARTIFACTS = Path(__file__).parents[2] / "out" / "test-artifacts" / "digest"

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


def _open(browser: Any, live_server: Any, user: User, study: Study, name: str) -> Any:
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(20_000)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/studies/{study.slug}/digest/")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    results = axe_playwright.Axe().run(page)
    assert results.violations_count == 0, (name, results.generate_report())
    return context, page


def test_the_digest_page_passes_axe_for_each_reader(browser: Any, live_server: Any) -> None:
    study = make_study()
    north = make_site(study=study, code="north", name="North clinic")
    make_site(study=study, code="south", name="South clinic")
    admin = make_member(study=study, role=Role.ADMINISTRATOR).user
    digest_schedule_set(
        site=north, timezone_name="America/Chicago", send_at=dt.time(7, 30), actor=admin
    )
    coordinator = make_member(study=study, role=Role.COORDINATOR, sites=[north]).user
    coordinator.email = "cora@example.org"
    coordinator.save()

    context, page = _open(browser, live_server, admin, study, "administrator")
    try:
        assert page.get_by_role("button", name="Set for south").is_visible()
        page.get_by_label("Time zone of the site").nth(1).fill("Nowhere/Place")
        with page.expect_navigation():
            page.get_by_role("button", name="Set for south").click()
        assert "not a time zone" in page.content()
        assert axe_playwright.Axe().run(page).violations_count == 0
    finally:
        context.close()

    context, page = _open(browser, live_server, coordinator, study, "coordinator")
    try:
        page.get_by_role("button", name="Stop my daily digest").focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.get_by_role("button", name="Send me the daily digest").is_visible()
        assert axe_playwright.Axe().run(page).violations_count == 0
    finally:
        context.close()
