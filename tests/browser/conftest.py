"""Browser tests: Playwright drives Debian's Chromium (headless) against the session's local
stack (the `outputs` fixture in tests/conftest.py), through the pages a person uses. A failing
test leaves a screenshot of each of its pages in .local/test-artifacts/browser/ (or
$BROWSER_ARTIFACTS)."""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.drive import DESKTOP, ROOT, chromium_missing, launch

ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", ROOT / ".local" / "test-artifacts" / "browser"))
TIMEOUT_MS = 20_000


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Each phase's report on the test item, so a fixture's teardown knows whether the test failed.
    report: pytest.TestReport = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    missing = chromium_missing()
    if missing:
        pytest.fail(missing, pytrace=False)
    with sync_playwright() as playwright:
        launched = launch(playwright)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def site_url(outputs: dict[str, str]) -> str:
    url = outputs["SiteUrl"]
    return url if url.endswith("/") else url + "/"


@pytest.fixture
def context(browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    opened = browser.new_context(viewport=DESKTOP, locale="en-US")
    opened.set_default_timeout(TIMEOUT_MS)
    try:
        yield opened
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            _screenshots(opened, request.node.nodeid)
        opened.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A fresh tab; an uncaught error in the page's scripts fails the test."""
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    assert not errors, f"uncaught errors in the page: {errors}"


def _screenshots(context: BrowserContext, nodeid: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])
    for index, open_page in enumerate(context.pages):
        path = ARTIFACTS / f"{stem}-{index}.png"
        try:
            open_page.screenshot(path=str(path), full_page=True)
            print(f"screenshot of {open_page.url}: {path}")
        except Exception as error:  # a crashed page still lets the others be saved
            print(f"no screenshot of {open_page.url}: {error}")
