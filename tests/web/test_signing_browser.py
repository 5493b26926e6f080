"""Electronic signatures in headless Chromium, with a screenshot of each step.

An investigator with an authenticator app signs off an adverse event from the participant's
page (a wrong password first: refused, said plainly), then the participant's casebook, and
unblinds another participant in an emergency with a signature; the administrator then signs
the database lock. axe-core finds nothing on any page of the walk.

The screenshots go to out/test-artifacts/signing/; with DIARYTRIAL_DOCS_SCREENSHOTS=1 those
that docs/guide-staff.md shows (`IN_THE_GUIDE`) redraw its pictures.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from tests.builders import (
    LEFT_OPEN,
    make_adverse_event,
    make_allocation,
    make_entry,
    make_member,
    make_participant,
    make_site,
    make_study,
    make_totp_device,
    totp_code,
)
from tests.chromium import CHROMIUM, chromium_browser

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.participants.models import ParticipantStatus
from diarytrial.signatures.models import Signature
from diarytrial.studies.models import Role

ROOT = Path(__file__).parents[2]
PICTURES = ROOT / "out" / "test-artifacts" / "signing"
DOCS_PICTURES = ROOT / "docs" / "images"
IN_THE_GUIDE = {"3-sign-adverse-event", "4-adverse-event-signed", "9-locked"}
"""The steps docs/guide-staff.md shows (redrawn with DIARYTRIAL_DOCS_SCREENSHOTS=1)."""
PASSWORD = "a long pass phrase 7"

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
    docs = os.environ.get("DIARYTRIAL_DOCS_SCREENSHOTS") == "1" and name in IN_THE_GUIDE
    folder = DOCS_PICTURES if docs else PICTURES
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"signing-{name}.png"), full_page=True)
    results = axe_playwright.Axe().run(page)
    assert results.violations_count == 0, (name, results.generate_report())


def _next_code(clock: Any, device: Any) -> str:
    """A code of the next 30-second step: the server's clock moves on to it (a code is
    accepted once, so each signature takes the next one, as it would a minute later)."""
    clock.shift(dt.timedelta(seconds=31))
    return totp_code(device)


def _sign(page: Any, *, meaning: str, password: str, code: str | None = None) -> None:
    page.get_by_label(meaning, exact=True).check()
    page.get_by_label("Your password").fill(password)
    if code is not None:
        page.get_by_label("Code from your authenticator app").fill(code)


def test_an_investigator_signs_an_adverse_event_and_the_administrator_the_lock(
    browser: Any, live_server: Any, controlled_clock: Any
) -> None:
    study = make_study()
    site = make_site(study=study, code="stanford", name="Stanford pain clinic")
    make_allocation(study=study)
    investigator = make_member(
        study=study, role=Role.INVESTIGATOR, username="igarcia", password=PASSWORD
    ).user
    investigator.first_name, investigator.last_name = "Ines", "Garcia"
    investigator.save(update_fields=["first_name", "last_name"])
    device = make_totp_device(investigator)
    administrator = make_member(
        study=study, role=Role.ADMINISTRATOR, username="ada", password=PASSWORD
    ).user
    ann = make_participant(study=study, site=site)
    make_entry(participant=ann)
    make_adverse_event(participant=ann, term="Headache", severity="moderate")
    ben = make_participant(study=study, site=site, status=ParticipantStatus.RANDOMIZED)

    context = _signed_in(browser, live_server, investigator)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        # 1. The participant's page lists the event, not yet signed off.
        page.goto(f"{live_server.url}/studies/{study.slug}/participants/{ann.code}/")
        assert "Casebook sign-off" in page.content()
        _step(page, "1-participant")

        # 2. The event's page: a wrong password is refused, and said so.
        with page.expect_navigation():
            page.get_by_role("link", name="Headache", exact=True).click()
        assert "Signing as Ines Garcia" in page.locator("fieldset.signature-fields").inner_text()
        _sign(page, meaning="Reviewed", password="not my password", code="123456")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign off the event").click()
        assert "the password or the code is not right" in page.locator(".form-errors").inner_text()
        _step(page, "2-refused")

        # 3. Both components right: signed, with name, meaning, time, and valid.
        _sign(
            page, meaning="Reviewed", password=PASSWORD, code=_next_code(controlled_clock, device)
        )
        _step(page, "3-sign-adverse-event")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign off the event").click()
        signatures = page.locator("ul.signatures").inner_text()
        assert "Reviewed by Ines Garcia (igarcia)" in signatures
        assert "Valid" in signatures
        _step(page, "4-adverse-event-signed")

        # 4. The casebook, signed off as a whole.
        page.goto(f"{live_server.url}/studies/{study.slug}/database/casebooks/{ann.code}/")
        _sign(
            page, meaning="Approved", password=PASSWORD, code=_next_code(controlled_clock, device)
        )
        with page.expect_navigation():
            page.get_by_role("button", name="Sign off the casebook").click()
        assert "Approved by Ines Garcia" in page.locator("ul.signatures").inner_text()
        _step(page, "5-casebook-signed")

        # 5. An emergency unblinding, signed in the same form.
        page.goto(f"{live_server.url}/studies/{study.slug}/participants/{ben.code}/unblind/")
        page.get_by_label("Reason for unblinding").fill("Suspected overdose in the ER")
        page.get_by_label("I understand").check()
        _sign(
            page,
            meaning="Responsible for",
            password=PASSWORD,
            code=_next_code(controlled_clock, device),
        )
        _step(page, "6-unblind-form")
        with page.expect_navigation():
            page.get_by_role("button", name=f"Unblind {ben.code} now").click()
        assert "Responsible for by Ines Garcia" in page.locator("ul.signatures").inner_text()
        _step(page, "7-unblind-result")
    finally:
        context.close()

    # 6. The administrator signs the lock (with the participants still in the trial).
    context = _signed_in(browser, live_server, administrator)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{live_server.url}/studies/{study.slug}/database/")
        page.get_by_label("Reason").fill("Last participant checked")
        page.get_by_label("Why lock with these items open").fill(LEFT_OPEN)
        _sign(page, meaning="Approved", password=PASSWORD)
        _step(page, "8-lock-form")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign and lock with items open").click()
        signatures = page.locator("ul.signatures").inner_text()
        assert "Approved by ada (ada)" in signatures
        _step(page, "9-locked")
    finally:
        context.close()

    assert errors == []
    acts = sorted(Signature.objects.values_list("act", flat=True))
    assert acts == ["adverse_event", "casebook", "database_lock", "emergency_unblinding"]
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_FAILED).count() == 1
