"""The listings in headless Chromium: each one, filtered, on a second page and with a filter it
cannot read, passes axe-core with 0 violations; the participants' filter works through htmx.

Screenshots go to out/test-artifacts/listings/. Skipped without /usr/bin/chromium or the
``playwright`` package (the system Chromium is used; never ``playwright install``).
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
    make_entry,
    make_member,
    make_participant,
    make_site,
    make_study,
)
from tests.chromium import CHROMIUM, chromium_browser

from diarytrial.core.listing import PAGE_SIZE
from diarytrial.participants.models import ParticipantStatus
from diarytrial.studies.models import Role, Study

ARTIFACTS = Path(__file__).parents[2] / "out" / "test-artifacts" / "listings"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM}"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.ticking,
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


def signed_in(browser: Any, live_server: Any, user: User) -> Any:
    """A desktop-sized page of a browser signed in as `user`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    context.clock.install(time=timezone.now())
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return page


def accessible(page: Any, name: str) -> None:
    """Screenshot `name` and require 0 axe-core violations."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    results = axe_playwright.Axe().run(page)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"


def a_study_with_rows() -> Study:
    """Two pages of participants, some diaries, adverse events and side effects to confirm."""
    study = make_study()
    site = make_site(study=study, code="stanford")
    today = timezone.now().astimezone(zoneinfo.ZoneInfo("America/Los_Angeles")).date()
    for _ in range(PAGE_SIZE + 3):
        make_participant(study=study, site=site, status=ParticipantStatus.SCREENED)
    for n in range(3):
        start = today - dt.timedelta(days=7)
        participant = make_participant(study=study, site=site, start_date=start)
        make_entry(participant=participant, side_effects={"headache": "very" if n else "somewhat"})
        make_adverse_event(participant=participant, serious=n == 0, outcome="recovering")
    return study


def test_every_listing_passes_axe_core(browser: Any, live_server: Any) -> None:
    study = a_study_with_rows()
    page = signed_in(browser, live_server, make_member(study=study, role=Role.INVESTIGATOR).user)
    slug = {"study": study.slug}
    screens = {
        "participants": (reverse("participants:list", kwargs=slug), ""),
        "participants-page-2": (reverse("participants:list", kwargs=slug), "?page=2&sort=-code"),
        "participants-refused": (reverse("participants:list", kwargs=slug), "?sort=nonsense"),
        "adverse-events": (reverse("adverse_events:list", kwargs=slug), ""),
        "adverse-events-filtered": (
            reverse("adverse_events:list", kwargs=slug),
            "?serious=on&unresolved=on&term=head",
        ),
        "adverse-events-refused": (
            reverse("adverse_events:list", kwargs=slug),
            "?onset_from=2026-13-45",
        ),
        "side-effects": (reverse("side_effects:list", kwargs=slug), ""),
        "side-effects-filtered": (reverse("side_effects:list", kwargs=slug), "?very=on"),
    }
    for name, (path, query) in screens.items():
        response = page.goto(live_server.url + path + query)
        expected = 400 if name.endswith("refused") else 200
        assert response.status == expected, name
        accessible(page, name)
    assert page.errors == []


def test_the_participant_filter_swaps_the_table_through_htmx(
    browser: Any, live_server: Any
) -> None:
    study = a_study_with_rows()
    page = signed_in(browser, live_server, make_member(study=study, role=Role.COORDINATOR).user)
    page.goto(live_server.url + reverse("participants:list", kwargs={"study": study.slug}))
    assert page.locator("#participant-table tbody tr").count() == PAGE_SIZE

    with page.expect_response(lambda response: "status=enrolled" in response.url):
        page.get_by_label("Enrolled").check()
    page.wait_for_load_state("networkidle")

    assert page.locator("#participant-table tbody tr").count() == 3
    assert "status=enrolled" in page.url
    accessible(page, "participants-htmx-filtered")
    assert page.errors == []
