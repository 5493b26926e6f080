"""Open the LDN report in headless Chromium: figures laid out, no console errors, a screenshot,
and axe-core finds no accessibility violation.

Skipped when /usr/bin/chromium or the ``playwright`` package is missing (never run
``playwright install``: the system Chromium is used).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.report.conftest import Rendered

from diarytrial.report import pdf

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"

pytestmark = pytest.mark.skipif(
    not Path(pdf.CHROMIUM).is_file(), reason=f"no Chromium at {pdf.CHROMIUM}"
)


def test_report_renders_in_a_browser(ldn: Rendered, tmp_path: Path) -> None:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed"
    )
    page_file = tmp_path / "report.html"
    page_file.write_text(ldn.html, encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=pdf.CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            problems: list[str] = []
            page.on(
                "console",
                lambda message: problems.append(message.text) if message.type == "error" else None,
            )
            page.on("pageerror", lambda error: problems.append(str(error)))
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_file.as_uri(), wait_until="load")
            boxes = page.eval_on_selector_all(
                "svg",
                "nodes => nodes.map(n => { const r = n.getBoundingClientRect();"
                " const s = n.closest('section');"
                " return [s ? s.id : '', r.width, r.height]; })",
            )
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
            page.emulate_media(media="print")
            printed = page.eval_on_selector_all(
                "svg", "nodes => nodes.map(n => n.getBoundingClientRect().width)"
            )
        finally:
            browser.close()
    assert problems == []
    assert requests == [page_file.as_uri()]  # nothing fetched but the file itself
    sections = {section for section, _, _ in boxes}
    assert {"flow", "time-course", "daily", "pgic"} <= sections
    assert all(width > 50 and height > 15 for _, width, height in boxes), boxes
    assert len(boxes) == len(ldn.dataset.participants) + 4  # panels, key, 3 figures
    assert all(width > 50 for width in printed)
    assert (ARTIFACTS / "report.png").stat().st_size > 50_000


@pytest.mark.parametrize("trial", ["ldn", "nof1_series"])
def test_the_report_passes_axe_core(
    trial: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The 31-participant LDN report (as the demo makes it), and the report of a series of
    n-of-1 trials with its pooled table, have 0 axe-core violations."""
    rendered: Rendered = request.getfixturevalue(trial)
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed"
    )
    axe_playwright = pytest.importorskip(
        "axe_playwright_python.sync_playwright", reason="axe-playwright-python is not installed"
    )
    page_file = tmp_path / "report.html"
    page_file.write_text(rendered.html, encoding="utf-8")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=pdf.CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.goto(page_file.as_uri(), wait_until="load")
            results = axe_playwright.Axe().run(page)
        finally:
            browser.close()
    assert results.violations_count == 0, results.generate_report()
