"""The README's screenshots of each page, taken in Debian's Chromium against a fresh local stack
(or a running one with --outputs .local/outputs.json):

    .venv/bin/python -m tests.browser.screenshots [--outputs FILE] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.drive import (
    DESKTOP,
    PHONE,
    ROOT,
    chromium_missing,
    launch,
    log_in,
    new_credentials,
    open_site,
    retail_card,
    sign_up,
    store_log_in,
    store_sale,
)


def customer_pages(browser: Browser, site: str, out: Path) -> tuple[str, str]:
    page = browser.new_page(viewport=DESKTOP, locale="en-US")
    open_site(page, site)
    shoot(page, out / "site-login.png")
    email, password = new_credentials()
    sign_up(page, site, email, password)
    page.locator("#currency").select_option("HKD")
    page.locator("#region-filter").select_option("ASIA")
    page.locator('[data-plan="asia-weekly-5gb"] button').click()
    page.wait_for_url("**/c/pay/**")
    shoot(page, out / "checkout-standin.png")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#success-balance")).to_be_visible(timeout=45_000)
    shoot(page, out / "site-success.png")
    page.locator("#success-continue").click()
    expect(page.locator("#order-list li").first).to_contain_text("Active")
    page.locator("#region-filter").select_option("ASIA")
    shoot(page, out / "site-home.png", full_page=True)
    page.locator("#order-list li").first.get_by_role("button", name="Receipt").click()
    expect(page.frame_locator("#receipt-frame").locator("h1")).to_be_visible()
    shoot(page, out / "site-receipt.png")
    page.locator("#receipt-dialog [data-receipt-close]").click()

    # A checkout left on the hosted page: the order waits for payment, with Pay now and Cancel.
    page.locator("#region-filter").select_option("")
    page.locator("#country-filter").select_option("JP")
    page.locator('[data-plan="jp-weekly-7gb"] button').click()
    page.wait_for_url("**/c/pay/**")
    page.go_back()
    expect(page.locator("#order-list li").first.get_by_role("link", name="Pay now")).to_be_visible()
    page.locator("#orders-card").scroll_into_view_if_needed()
    shoot(page, out / "site-orders-pay-now.png")
    page.close()
    return email, password


def offline_page(browser: Browser, site: str, out: Path, email: str, password: str) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    log_in(page, site, email, password)
    expect(page.locator("#line-balance [data-testid=remaining]")).not_to_have_text("0 MB")
    for _ in range(150):
        if page.evaluate("navigator.serviceWorker.getRegistration().then((r) => Boolean(r && r.active))"):
            break
        page.wait_for_timeout(100)
    page.reload()
    expect(page.locator("#home-view")).to_be_visible()
    context.set_offline(True)
    page.reload()
    expect(page.locator("#notice")).to_contain_text("offline")
    shoot(page, out / "site-offline.png")
    context.close()


def phone_page(browser: Browser, site: str, out: Path, email: str, password: str) -> None:
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN")
    log_in(page, site, email, password)
    expect(page.locator("#home-view")).to_be_visible()
    page.get_by_role("button", name="中文").click()
    expect(page.locator("#line-title")).to_have_text("我的号码")
    shoot(page, out / "site-phone-zh.png")
    page.locator("#order-list li").last.get_by_role("button", name="收据").click()
    expect(page.frame_locator("#receipt-frame").locator("h1")).to_have_text("收据")
    shoot(page, out / "site-receipt-phone-zh.png")
    page.close()


def store_pages(browser: Browser, site: str, out: Path, outputs: dict[str, str]) -> None:
    page = browser.new_page(viewport=DESKTOP, locale="en-US")
    store_log_in(page, site, outputs)
    sale = page.locator("#sale-form")
    card = retail_card(2)
    sale.locator("[name=customer]").fill(card["iccid"])
    sale.locator("[name=currency]").select_option("HKD")
    sale.locator("[name=plan]").select_option("asia-weekly-5gb")
    sale.locator("[name=cash]").fill("100")
    shoot(page, out / "store-sale.png")
    store_sale(page, card["iccid"], "asia-weekly-5gb", "100")
    page.locator("#print-receipt").click()
    expect(page.frame_locator("#receipt-frame").locator("h1")).to_be_visible()
    shoot(page, out / "store-receipt.png")
    page.locator("#receipt-dialog [data-receipt-close]").click()
    expect(page.locator("#report-body table").first).to_be_visible()
    shoot(page, out / "store-report.png")

    # The void: a reason in the page, then what to give back.
    page.locator("#void-sale").click()
    page.locator("#void-form [name=reason]").fill("customer changed their mind")
    page.locator("#void-form button[type=submit]").click()
    expect(page.locator("#done-change")).to_contain_text("give back")
    shoot(page, out / "store-voided.png")

    # The next customer's card, mistyped; and a day without sales.
    page.locator("#next-sale").click()
    iccid = retail_card(5)["iccid"]
    sale.locator("[name=customer]").fill(iccid[:-1] + str((int(iccid[-1]) + 1) % 10))
    page.locator("#report-form [name=date]").fill("2026-01-01")
    page.locator("#report-form button[type=submit]").click()
    expect(page.get_by_test_id("no-sales")).to_be_visible()
    shoot(page, out / "store-mistyped-and-empty-day.png")
    page.close()


def shoot(page: Page, path: Path, *, full_page: bool = False) -> None:
    page.wait_for_timeout(400)  # let the ring and bars finish their transitions
    page.screenshot(path=str(path), full_page=full_page)
    print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.browser.screenshots", description=__doc__.split("\n\n")[0])
    parser.add_argument("--outputs", type=Path, help="a running stack's outputs.json (default: start one)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    missing = chromium_missing()
    if missing:
        print(missing, file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    process = None
    with tempfile.TemporaryDirectory() as temporary:
        if args.outputs:
            outputs = json.loads(args.outputs.read_text())
        else:
            from tests.conftest import start_stack

            print("starting a local stack...")
            process, outputs = start_stack(Path(temporary) / "state")
        try:
            site = outputs["SiteUrl"].rstrip("/") + "/"
            with sync_playwright() as playwright:
                browser = launch(playwright)
                email, password = customer_pages(browser, site, args.out)
                phone_page(browser, site, args.out, email, password)
                offline_page(browser, site, args.out, email, password)
                store_pages(browser, site, args.out, outputs)
                browser.close()
        finally:
            if process is not None:
                from tests.conftest import stop_stack

                stop_stack(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
