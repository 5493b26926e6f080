"""The investigator's certified copy in headless Chromium, with a screenshot of each step.

An investigator with an authenticator app signs off an adverse event, the administrator locks
the database, and the investigator then makes the certified copy of their site's data: the form
(a wrong code first: refused, no download), then the signed ZIP, downloaded and opened: its
files are those its manifest lists, with their hashes, and its signature names the investigator.
axe-core finds nothing on any page of the walk.

The screenshots go to out/test-artifacts/certified-copy/; with DIARYTRIAL_DOCS_SCREENSHOTS=1
the one docs/guide-staff.md shows (`IN_THE_GUIDE`) redraws its picture.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
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
)
from tests.chromium import CHROMIUM, chromium_browser
from tests.web.test_signing_browser import PASSWORD, _next_code, _sign, _signed_in

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.signatures.models import Signature, SignedAct
from diarytrial.signatures.selectors import signature_matches
from diarytrial.studies.models import Role
from diarytrial.studies.services import study_lock

ROOT = Path(__file__).parents[2]
PICTURES = ROOT / "out" / "test-artifacts" / "certified-copy"
DOCS_PICTURES = ROOT / "docs" / "images"
IN_THE_GUIDE = {"2-form"}
"""The steps docs/guide-staff.md shows (redrawn with DIARYTRIAL_DOCS_SCREENSHOTS=1)."""

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
    docs = os.environ.get("DIARYTRIAL_DOCS_SCREENSHOTS") == "1" and name in IN_THE_GUIDE
    folder = DOCS_PICTURES if docs else PICTURES
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"certified-copy-{name}.png"), full_page=True)
    results = axe_playwright.Axe().run(page)
    assert results.violations_count == 0, (name, results.generate_report())


def test_an_investigator_signs_an_adverse_event_and_downloads_the_certified_copy(
    browser: Any, live_server: Any, controlled_clock: Any, tmp_path: Path
) -> None:
    study = make_study()
    site = make_site(study=study, code="stanford", name="Stanford pain clinic")
    other = make_site(study=study, code="boston", name="Boston pain clinic")
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
    elsewhere = make_participant(study=study, site=other)

    context = _signed_in(browser, live_server, investigator)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        # 1. The investigator signs off the adverse event.
        page.goto(f"{live_server.url}/studies/{study.slug}/participants/{ann.code}/")
        with page.expect_navigation():
            page.get_by_role("link", name="Headache", exact=True).click()
        _sign(
            page, meaning="Reviewed", password=PASSWORD, code=_next_code(controlled_clock, device)
        )
        with page.expect_navigation():
            page.get_by_role("button", name="Sign off the event").click()
        assert "Reviewed by Ines Garcia (igarcia)" in page.locator("ul.signatures").inner_text()
        _step(page, "1-adverse-event-signed")

        # 2. The administrator locks the database; the investigator's copy is still offered.
        study_lock(study=study, reason="last visit", actor=administrator, override_reason=LEFT_OPEN)
        page.goto(f"{live_server.url}/studies/{study.slug}/database/")
        with page.expect_navigation():
            page.get_by_role("link", name="Make a certified copy").click()
        assert "Certified copy of your sites' data" in page.locator("h1").inner_text()
        _step(page, "2-form")

        # 3. A wrong code: refused, said so, nothing downloaded.
        page.get_by_label("Sites").select_option(site.code)
        _sign(page, meaning="Responsible for", password=PASSWORD, code="000000")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign and download the certified copy").click()
        assert "not right" in page.locator(".form-errors").inner_text()
        _step(page, "3-refused")

        # 4. Right: the signed ZIP downloads.
        page.get_by_label("Sites").select_option(site.code)
        _sign(
            page,
            meaning="Responsible for",
            password=PASSWORD,
            code=_next_code(controlled_clock, device),
        )
        with page.expect_download(timeout=120_000) as download_info:
            page.get_by_role("button", name="Sign and download the certified copy").click()
        download = download_info.value
        assert download.suggested_filename.startswith(f"{study.slug}-certified-copy-stanford-")
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        _step(page, "4-downloaded")
    finally:
        context.close()

    assert errors == []
    with zipfile.ZipFile(saved) as archive:
        names = set(archive.namelist())
        manifest_data = archive.read("manifest.json")
        manifest = json.loads(manifest_data)
        listed = {f["path"]: f["sha256"] for f in manifest["files"]}
        assert set(listed) == names - {"manifest.json", "signature.json"}
        for path, sha256 in listed.items():
            assert hashlib.sha256(archive.read(path)).hexdigest() == sha256
        assert f"casebooks/{ann.code}.pdf" in names
        assert f"casebooks/{elsewhere.code}.pdf" not in names
        record = json.loads(archive.read("signature.json"))
    assert record["printed_name"] == "Ines Garcia"
    assert record["meaning"] == "Responsible for"
    signature = Signature.objects.get(pk=record["id"], act=SignedAct.MANIFEST)
    assert signature_matches(signature, manifest_data)
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_FAILED).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, actor=investigator).count() == 1
