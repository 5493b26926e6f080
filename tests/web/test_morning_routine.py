"""The coordinator's morning, in headless Chromium, with a screenshot of each step.

One morning: the dashboard shows who missed last night's diary and flags a participant with
three missed nights in a row and no phone; the coordinator makes a new phone link for them,
raises a data query on their record, answers it as the site and closes it. Later, once the last
participant has left the trial, the lock checklist finds the study ready to lock. axe-core finds
nothing on any page of the walk.

The screenshots go to out/test-artifacts/morning/; with DIARYTRIAL_DOCS_SCREENSHOTS=1 they
redraw the pictures of docs/guide-coordinator.md.
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
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from tests.builders import (
    make_allocation,
    make_dispensing,
    make_entry,
    make_kits,
    make_member,
    make_participant,
    make_site,
    make_study,
)
from tests.chromium import CHROMIUM, chromium_browser

from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.services import participant_complete, participant_withdraw
from diarytrial.queries.models import DataQuery, QueryStatus
from diarytrial.studies.models import Role, Study

ROOT = Path(__file__).parents[2]
PICTURES = (
    ROOT / "docs" / "images"
    if os.environ.get("DIARYTRIAL_DOCS_SCREENSHOTS") == "1"
    else ROOT / "out" / "test-artifacts" / "morning"
)
ZONE = "America/Los_Angeles"

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


class Morning:
    """A site with two participants 20 days in: Ann kept her diary until three nights ago and
    has no phone set up; Ben kept every night and took his first kit."""

    def __init__(self) -> None:
        self.study: Study = make_study()
        site = make_site(study=self.study, code="stanford", name="Stanford pain clinic")
        self.coordinator: User = make_member(
            study=self.study, role=Role.COORDINATOR, sites=[site], username="cora"
        ).user
        today = timezone.now().astimezone(zoneinfo.ZoneInfo(ZONE)).date()
        start = today - dt.timedelta(days=20)
        make_allocation(study=self.study)
        make_kits(study=self.study, per_arm_and_level=1)
        self.ann = make_participant(study=self.study, site=site, start_date=start, tz=ZONE)
        self.ben = make_participant(
            study=self.study,
            site=site,
            start_date=start,
            tz=ZONE,
            status=ParticipantStatus.RANDOMIZED,
        )
        make_dispensing(participant=self.ben)
        # The last night whose window has closed is yesterday's (the window ends at 03:00).
        last_night = today - dt.timedelta(days=1)
        for night in range((last_night - start).days + 1):
            day = start + dt.timedelta(days=night)
            make_entry(participant=self.ben, diary_date=day)
            if day <= last_night - dt.timedelta(days=3):
                make_entry(participant=self.ann, diary_date=day)
        self.today = today


def _signed_in(browser: Any, live_server: Any, user: User) -> Any:
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
    return context


def _step(page: Any, name: str) -> None:
    """Picture the page, then require no axe-core violation on it."""
    PICTURES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(PICTURES / f"morning-{name}.png"), full_page=True)
    results = axe_playwright.Axe().run(page)
    assert results.violations_count == 0, (name, results.generate_report())


def _code(participant: Participant) -> str:
    return participant.code


def test_the_coordinator_s_morning(browser: Any, live_server: Any) -> None:
    morning = Morning()
    study, ann, ben = morning.study, morning.ann, morning.ben
    context = _signed_in(browser, live_server, morning.coordinator)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        # 1. The dashboard: who missed last night, and who missed nights in a row.
        page.goto(f"{live_server.url}/studies/{study.slug}/")
        with page.expect_navigation():
            page.get_by_role("link", name="Study dashboard").first.click()
        flagged = page.locator("#missed ~ div table, #missed ~ table").first
        assert _code(ann) in flagged.inner_text()
        assert _code(ben) not in flagged.inner_text()
        assert "No phone set up" in flagged.inner_text()
        _step(page, "1-dashboard")

        # 2. A new phone link for the flagged participant.
        page.get_by_role("link", name=f"Phone of {_code(ann)}").click()
        with page.expect_navigation():
            page.get_by_role("button", name="Make an enrolment link").click()
        assert page.get_by_role("heading", name=f"Enrolment link for {_code(ann)}").is_visible()
        assert "/d/enrol/" in page.get_by_label("Link").input_value()
        _step(page, "2-phone-link")

        # 3. A data query on her record: raised, answered by the site, closed.
        page.goto(f"{live_server.url}/studies/{study.slug}/participants/{_code(ann)}/")
        page.get_by_role("link", name="Raise a query on the participant's record").click()
        page.get_by_label("About").select_option(label="Time zone")
        page.get_by_label("Question").fill(
            "Three nights missed in a row: did Ann travel? Check her time zone."
        )
        _step(page, "3-raise-query")
        with page.expect_navigation():
            page.get_by_role("button", name="Raise the query").click()
        query = DataQuery.objects.get(participant=ann)
        assert query.status == QueryStatus.OPEN
        page.get_by_label("Answer").fill("Called Ann: at home, phone broken; new link handed over.")
        with page.expect_navigation():
            page.get_by_role("button", name="Send the answer").click()
        page.get_by_label("Closing note").fill("Confirmed by phone; time zone is right.")
        with page.expect_navigation():
            page.get_by_role("button", name="Close the query").click()
        query.refresh_from_db()
        assert query.status == QueryStatus.CLOSED
        _step(page, "4-query-closed")

        # 4. Weeks later: Ann moved away, Ben completed; nothing holds the lock back.
        participant_withdraw(
            participant=ann, reason="moved abroad", on=morning.today, actor=morning.coordinator
        )
        participant_complete(participant=ben, on=morning.today, actor=morning.coordinator)
        with page.expect_navigation():
            page.get_by_role("link", name="Lock and export").first.click()
        checklist = page.locator("table.checklist").inner_text()
        assert "(done)" in checklist
        for line in checklist.splitlines()[1:]:
            assert "\t0" in line or " 0 " in line or "0 (done)" in line, line
        assert "not ready to lock" not in page.content()
        _step(page, "5-ready-to-lock")
    finally:
        context.close()
    assert errors == []
