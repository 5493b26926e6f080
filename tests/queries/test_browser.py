"""The data query pages in a browser (Debian's Chromium): axe-core finds no accessibility
violation on the list, a query's page with its forms, the raise form and the participant's page
with its queries box; a query is raised, answered and closed with the keyboard-reachable forms.
Skipped without Chromium, Playwright or axe-playwright-python."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from tests.chromium import CHROMIUM, chromium_browser
from tests.diary.helpers import START
from tests.queries.conftest import World

from diarytrial.queries.models import DataQuery, QueryStatus

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


def _page(browser: Any, live_server: Any, user: User) -> Any:
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(20_000)
    context.clock.install(time=timezone.now())
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    return context.new_page()


def _no_violations(page: Any, name: str) -> None:
    results = axe_playwright.Axe().run(page)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"


def test_raise_answer_close_in_a_browser_with_no_axe_violation(
    browser: Any, live_server: Any, world: World
) -> None:
    slug, code = world.study.slug, world.participant.code
    raiser = _page(browser, live_server, world.statistician)
    raiser.goto(f"{live_server.url}/studies/{slug}/participants/{code}/")
    _no_violations(raiser, "participant page")
    raiser.get_by_role("link", name="Raise a query on the PGIC answer at visit 2").click()
    _no_violations(raiser, "raise form")
    raiser.get_by_label("Question").fill("Score 3 at visit 2: was it read back?")
    raiser.get_by_role("button", name="Raise the query").click()
    query = DataQuery.objects.get()
    raiser.wait_for_url(f"{live_server.url}/studies/{slug}/queries/{query.pk}/")
    _no_violations(raiser, "query page, raiser")

    site = _page(browser, live_server, world.coordinator)
    site.goto(f"{live_server.url}/studies/{slug}/queries/")
    _no_violations(site, "query list")
    site.get_by_role("link", name=f"Query {query.pk}").click()
    site.get_by_label("Answer").fill("Read back on the phone: 3 is right.")
    site.get_by_role("button", name="Send the answer").click()
    site.wait_for_url(f"{live_server.url}/studies/{slug}/queries/{query.pk}/")
    _no_violations(site, "query page, answered")

    raiser.reload()
    raiser.get_by_label("Closing note").fill("Thanks.")
    raiser.get_by_role("button", name="Close the query").click()
    raiser.wait_for_url(f"{live_server.url}/studies/{slug}/queries/{query.pk}/")
    query.refresh_from_db()
    assert query.status == QueryStatus.CLOSED
    assert "period" not in raiser.content().lower()

    site.goto(f"{live_server.url}/studies/{slug}/participants/{code}/diary/{START.isoformat()}/")
    _no_violations(site, "diary night with its queries box")
