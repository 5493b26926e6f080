"""The study dashboard in headless Chromium: axe-core finds nothing, and a screenshot of it
goes to docs/images/study-dashboard.png for the coordinator's and the staff guides.

Skipped without /usr/bin/chromium or the ``playwright`` package (the system Chromium is used;
never ``playwright install``).
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from tests.builders import (
    make_device,
    make_entry,
    make_member,
    make_participant,
    make_site,
    make_study,
)
from tests.chromium import CHROMIUM, chromium_browser

from diarytrial.studies.models import Role

ROOT = Path(__file__).parents[2]
# The guides' picture is redrawn only when asked (DIARYTRIAL_DOCS_SCREENSHOTS=1): a test run
# leaves the committed files alone; otherwise the picture goes with the other test artifacts.
SCREENSHOT = (
    ROOT / "docs" / "images" / "study-dashboard.png"
    if os.environ.get("DIARYTRIAL_DOCS_SCREENSHOTS") == "1"
    else ROOT / "out" / "test-artifacts" / "monitoring" / "study-dashboard.png"
)

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


def _study_with_diaries() -> Any:
    """Two sites, eight participants a few weeks into their diaries, kept well or badly."""
    study = make_study()
    sites = [make_site(study=study, code="stanford"), make_site(study=study, code="boston")]
    zone = "America/Los_Angeles"
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()
    for index in range(8):
        start = today - dt.timedelta(days=30 - 2 * index)
        participant = make_participant(
            study=study, site=sites[index % 2], start_date=start, tz=zone
        )
        if index % 3:
            make_device(participant)
        kept = (today - start).days - (index % 4) * 2
        for night in range(kept):
            if (night * (index + 3)) % 11 != 0:
                make_entry(participant=participant, diary_date=start + dt.timedelta(days=night))
    member = make_member(study=study, role=Role.INVESTIGATOR, username="ines")
    return study, member.user


def test_the_dashboard_passes_axe_and_is_pictured(browser: Any, live_server: Any) -> None:
    study, user = _study_with_diaries()
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
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    try:
        response = page.goto(f"{live_server.url}/studies/{study.slug}/dashboard/")
        assert response is not None
        assert response.status == 200
        assert page.get_by_role("heading", name="Study dashboard").is_visible()
        assert page.get_by_role("img", name="Diary compliance by week").is_visible()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        results = axe_playwright.Axe().run(page)
        assert results.violations_count == 0, results.generate_report()
        # Sorting by a column header is a plain link: the server sorts.
        page.get_by_role("link", name="Missed", exact=True).click()
        page.wait_for_load_state("load")
        assert "sort=missed" in page.url
        assert axe_playwright.Axe().run(page).violations_count == 0
    finally:
        context.close()
    assert errors == []
    assert SCREENSHOT.stat().st_size > 20_000
