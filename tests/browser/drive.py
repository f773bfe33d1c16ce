"""Driving the website and the store console in Debian's Chromium with Playwright: the launch
settings and the steps a person takes, shared by the browser tests and the README screenshots."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, Playwright, ViewportSize, expect

from infra.local.client import new_credentials as client_credentials

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling Google's hosts, which this
# machine's closed network refuses; --no-sandbox because tests may run as root.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    f"Chromium was not found at {CHROMIUM}. The browser tests drive Debian's chromium (Playwright never "
    "downloads a browser here). Install it with `make chromium` (apt-get, as root) or "
    "`apt-get update && apt-get install -y chromium`, or point CHROMIUM=/path/to/chromium at another build."
)
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
# Locally Cognito is moto, which accepts any confirmation or reset code.
ANY_CODE = "000000"


def chromium_missing() -> str | None:
    return None if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK) else INSTALL_HINT


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)


def retail_card(index: int) -> dict[str, str]:
    """Retail test cards from the middle of the list; the API tests take theirs from either end."""
    cards = json.loads((ROOT / "infra/catalog/test_cards.json").read_text())["cards"]
    return dict(cards[20 + index])


def new_credentials() -> tuple[str, str]:
    return client_credentials("web")


def open_site(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("body[data-ready=true]")).to_be_attached()


def sign_up(page: Page, site_url: str, email: str, password: str) -> None:
    open_site(page, site_url)
    page.locator("#tab-signup").click()
    form = page.locator("#signup-form")
    form.locator("[name=email]").fill(email)
    form.locator("[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    confirm = page.locator("#confirm-form")
    expect(confirm).to_be_visible()
    confirm.locator("[name=code]").fill(ANY_CODE)
    confirm.locator("button[type=submit]").click()
    expect(page.locator("#home-view")).to_be_visible()


def log_in(page: Page, site_url: str, email: str, password: str) -> None:
    open_site(page, site_url)
    form = page.locator("#login-form")
    form.locator("[name=email]").fill(email)
    form.locator("[name=password]").fill(password)
    form.locator("button[type=submit]").click()


def buy_and_pay(page: Page, plan_id: str, currency: str, region: str = "") -> None:
    """Picks a plan, goes to the Stripe stand-in's hosted page, presses Pay and comes back."""
    page.locator("#currency").select_option(currency)
    if region:
        page.locator("#region-filter").select_option(region)
    page.locator(f'[data-plan="{plan_id}"] button').click()
    page.wait_for_url(re.compile(r"/c/pay/"), wait_until="domcontentloaded")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(r"/app/\?checkout=success"))


def store_log_in(page: Page, site_url: str, outputs: dict[str, Any]) -> None:
    open_site(page, site_url + "store/")
    form = page.locator("#login-form")
    form.locator("[name=email]").fill(outputs["DemoStaffEmail"])
    form.locator("[name=password]").fill(outputs["DemoStaffPassword"])
    form.locator("button[type=submit]").click()
    expect(page.locator("#till-view")).to_be_visible()
    expect(page.locator("#store-id")).to_have_text(outputs.get("DemoStaffStoreId", re.compile(r"\S+")))
    # Signed in once today's report has loaded: the console is done setting itself up (it
    # focuses the customer field last), so what a test types next lands where it means.
    expect(page.locator("#report-form [name=date]")).not_to_have_value("")
    expect(page.locator("#sale-form [name=customer]")).to_be_focused()


def store_sale(page: Page, customer: str, plan_id: str, cash: str) -> str:
    """Rings up a cash sale and returns its receipt number."""
    sale = page.locator("#sale-form")
    sale.locator("[name=customer]").fill(customer)
    sale.locator("[name=currency]").select_option("HKD")
    sale.locator("[name=plan]").select_option(plan_id)
    sale.locator("[name=cash]").fill(cash)
    sale.locator("button[type=submit]").click()
    done = page.locator("#done-receipt")
    expect(done).to_have_text(re.compile(r"[A-Z]+-[A-Z0-9]+-\d{6}"))
    found = re.search(r"[A-Z]+-[A-Z0-9]+-\d{6}", done.inner_text())
    assert found, done.inner_text()
    return found.group(0)
