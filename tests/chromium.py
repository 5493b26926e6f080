"""Debian's Chromium for browser tests, through Playwright's sync API (never ``playwright
install``: the system's browser is used). Tests skip without it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """A headless Chromium, closed on leaving; Django's ORM stays usable in this thread."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread, which makes Django refuse the
    # test's own ORM calls (building participants, counting rows) unless told they are safe:
    # they are plain synchronous calls, between browser steps.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield chromium
        finally:
            chromium.close()
