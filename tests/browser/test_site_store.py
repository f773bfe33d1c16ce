"""The store console in a real browser: a cash sale with change due, its printed receipt and the
end-of-day report; a customer account is not let in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.drive import log_in, open_site, retail_card, store_log_in, store_sale

pytestmark = pytest.mark.stack


def test_a_store_sale_prints_a_receipt(page: Page, site_url: str, outputs: dict[str, str], is_local: bool) -> None:
    if not is_local:
        pytest.skip("sells on a retail test card of the local stack")
    store_log_in(page, site_url, outputs)
    sale = page.locator("#sale-form")
    sale.locator("[name=customer]").fill("1234")
    expect(page.locator("#customer-hint")).to_have_text(re.compile("valid ICCID"))

    # Change due shows as the cashier types, before anything is sent.
    sale.locator("[name=currency]").select_option("HKD")
    sale.locator("[name=plan]").select_option("asia-daily-1gb")
    expect(page.locator("#price")).to_have_text("HK$31.00")
    sale.locator("[name=cash]").fill("20")
    expect(page.locator("#change-box")).to_have_class(re.compile("short"))
    sale.locator("[name=cash]").fill("50")
    expect(page.locator("#change")).to_have_text("HK$19.00")

    card = retail_card(0)
    receipt_no = store_sale(page, card["iccid"], "asia-daily-1gb", "50")
    assert receipt_no.startswith(outputs.get("DemoStaffStoreId", "HKG-T1") + "-")
    expect(page.locator("#done-change")).to_have_text("Give change: HK$19.00")
    expect(page.locator("#done-line")).to_contain_text(card["iccid"])

    page.locator("#print-receipt").click()
    receipt = page.frame_locator("#receipt-frame")
    expect(receipt.locator("body")).to_contain_text(receipt_no)
    expect(receipt.locator("body")).to_contain_text("Cash received")
    expect(receipt.locator("body")).to_contain_text("19.00 HKD")
    # Print prints the receipt frame (the browser's print dialog is stubbed here).
    page.evaluate("document.querySelector('#receipt-frame').contentWindow.print = () => { window.printed = true; }")
    page.locator("#receipt-dialog [data-receipt-print]").click()
    assert page.evaluate("window.printed === true")
    page.locator("#receipt-dialog [data-receipt-close]").click()

    # The end-of-day report counts the sale.
    report = page.locator("#report-body")
    expect(report).to_contain_text("Asia daily 1 GB")
    expect(report).to_contain_text("you")
    page.locator("#next-sale").click()
    expect(sale.locator("[name=customer]")).to_have_value("")


def test_a_customer_account_cannot_use_the_store_console(page: Page, site_url: str, outputs: dict[str, str]) -> None:
    open_site(page, site_url + "store/")
    log_in(page, site_url + "store/", outputs["DemoUserEmail"], outputs["DemoUserPassword"])
    expect(page.locator("#login-error")).to_have_text("This account is not store staff.")
    expect(page.locator("#till-view")).to_be_hidden()
