"""A statistician reads the audit trail of one participant, in headless Chromium, with a
screenshot of each step: the study's trail, filtered to the participant (the staff's actions on
them, not only their phone's), their CSV, and the check of the chain. axe-core finds nothing on
any page of the walk.

The screenshots go to out/test-artifacts/audit/; with DIARYTRIAL_DOCS_SCREENSHOTS=1 they redraw
the pictures of docs/guide-staff.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.builders import (
    make_adverse_event,
    make_allocation,
    make_dispensing,
    make_entry,
    make_kits,
    make_member,
    make_participant,
    make_study,
)
from tests.chromium import CHROMIUM, chromium_browser
from tests.web.test_morning_routine import _signed_in

from diarytrial.participants.models import ParticipantStatus
from diarytrial.safety.services import adverse_event_update
from diarytrial.studies.models import Role
from diarytrial.studies.services import site_create

ROOT = Path(__file__).parents[2]
PICTURES = (
    ROOT / "docs" / "images"
    if os.environ.get("DIARYTRIAL_DOCS_SCREENSHOTS") == "1"
    else ROOT / "out" / "test-artifacts" / "audit"
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


def _step(page: Any, name: str) -> None:
    """Picture the page, then require no axe-core violation on it."""
    PICTURES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(PICTURES / f"audit-{name}.png"), full_page=True)
    results = axe_playwright.Axe().run(page)
    assert results.violations_count == 0, (name, results.generate_report())


def test_a_statistician_reads_the_audit_trail_of_one_participant(
    browser: Any, live_server: Any
) -> None:
    study = make_study()
    site = site_create(
        study=study, code="stanford", name="Stanford", actor=None, timezone="America/Los_Angeles"
    )
    investigator = make_member(study=study, role=Role.INVESTIGATOR, username="ivy").user
    statistician = make_member(study=study, role=Role.STATISTICIAN, username="stella").user
    make_allocation(study=study)
    make_kits(study=study, per_arm_and_level=2)
    ann = make_participant(study=study, site=site, status=ParticipantStatus.RANDOMIZED)
    other = make_participant(study=study, site=site)
    make_dispensing(participant=ann)
    make_entry(participant=ann)
    event = make_adverse_event(participant=ann, term="Headache")
    adverse_event_update(
        event=event, changes={"severity": "moderate"}, reason="worse at night", actor=investigator
    )
    context = _signed_in(browser, live_server, statistician)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        # 1. The study's trail, from the menu: newest first, in the site's zone.
        page.goto(f"{live_server.url}/studies/{study.slug}/")
        with page.expect_navigation():
            page.get_by_role("link", name="Audit trail").first.click()
        assert page.get_by_role("heading", name="Audit trail").is_visible()
        assert "Times in America/Los_Angeles (UTC" in page.locator("#zone").inner_text()
        _step(page, "1-study")

        # 2. Filtered to one participant: their phone, and what staff did to their records.
        page.get_by_label("Participant").fill(ann.code)
        with page.expect_navigation():
            page.get_by_role("button", name="Show").click()
        table = page.locator("table.audit-trail").inner_text()
        assert f"Investigator ivy changed adverse event {event.pk} (Headache)" in table
        assert "Severity from mild to moderate. Reason: worse at night." in table
        assert f"Participant {ann.code} (on their phone) filled the diary" in table
        assert "dispensed a kit" in table
        assert other.code not in table
        _step(page, "2-participant")

        # 3. The same events as CSV.
        with page.expect_download() as download:
            page.get_by_role("link", name="Download as CSV").click()
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert "Severity from mild to moderate" in text
        assert other.code not in text

        # 4. The chain checked, as `diarytrial audit verify` checks it.
        with page.expect_navigation():
            page.get_by_role("link", name="Verify the chain").click()
        assert "The audit trail is intact" in page.get_by_role("status").inner_text()
        _step(page, "3-verify")
    finally:
        context.close()
    assert errors == []
