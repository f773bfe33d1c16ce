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


def test_a_voided_sale_asks_a_reason_in_the_page_and_says_what_to_give_back(
    page: Page, site_url: str, outputs: dict[str, str], is_local: bool
) -> None:
    if not is_local:
        pytest.skip("sells on a retail test card of the local stack")
    page.on("dialog", lambda dialog: pytest.fail(f"a browser dialog opened: {dialog.message}"))
    store_log_in(page, site_url, outputs)
    store_sale(page, retail_card(3)["iccid"], "asia-daily-1gb", "50")
    expect(page.locator("#done-change")).to_have_text("Give change: HK$19.00")

    page.locator("#void-sale").click()
    void = page.locator("#void-form")
    expect(void).to_be_visible()
    expect(page.locator("#void-sale")).to_be_hidden()
    void.get_by_role("button", name="Void this sale").click()  # no reason: refused in the page
    expect(page.locator("#void-error")).to_have_text("Enter why the sale is voided.")
    void.locator("[name=reason]").fill("wrong plan")
    void.get_by_role("button", name="Void this sale").click()

    expect(page.locator("#done-title")).to_have_text("Sale voided")
    expect(page.locator("#done-change")).to_have_text("Sale voided: give back HK$31.00")
    expect(page.locator("#void-sale")).to_be_hidden()
    expect(void).to_be_hidden()
    page.locator("#print-receipt").click()
    receipt = page.frame_locator("#receipt-frame").locator("body")
    expect(receipt).to_contain_text("wrong plan")
    expect(receipt).to_contain_text("Voided")  # in words
    # The store is the seller, with its tax number; the clerk by name, never an id.
    for text in ("Hong Kong Airport, Terminal 1", "Tax number: BR 31234567-001", "Served by", "Mei Chan"):
        expect(receipt).to_contain_text(text)
    staff_id = page.evaluate(
        "JSON.parse(atob(JSON.parse(sessionStorage.getItem('renewal.staff')).idToken.split('.')[1]"
        ".replace(/-/g, '+').replace(/_/g, '/'))).sub"
    )
    assert staff_id and staff_id not in receipt.inner_text()


def test_a_day_without_sales_or_with_only_voided_ones_says_so_with_zero_totals(
    page: Page, site_url: str, outputs: dict[str, str]
) -> None:
    store_log_in(page, site_url, outputs)
    report = page.locator("#report-form")
    expect(report.locator("[name=date]")).not_to_have_value("")  # today's report has loaded
    report.locator("[name=date]").fill("2020-01-02")
    report.locator("button[type=submit]").click()
    body = page.locator("#report-body")
    expect(body.get_by_test_id("no-sales")).to_have_text("No sales on this day: nothing to take in.")
    expect(body.locator("table").first).to_contain_text("HK$0.00")

    # A day whose only sale was voided (the API's answer for such a day, shaped by daily_report).
    only_voided = {
        "store_id": "HKG-T1", "date": "2020-01-03", "time_zone": "Asia/Hong_Kong", "per_plan": [],
        "per_currency": [], "per_staff": [], "voided": ["HKG-T1-000007"],
    }  # fmt: skip
    page.route("**/store/reports/daily?date=2020-01-03", lambda route: route.fulfill(json=only_voided))
    report.locator("[name=date]").fill("2020-01-03")
    report.locator("button[type=submit]").click()
    expect(body.get_by_test_id("no-sales")).to_have_text("Only voided sales on this day (1): nothing to take in.")
    expect(body.locator("table").first).to_contain_text("HK$0.00")
    expect(body).to_contain_text("HKG-T1-000007")


def test_an_iccid_with_a_wrong_check_digit_is_called_mistyped(
    page: Page, site_url: str, outputs: dict[str, str]
) -> None:
    store_log_in(page, site_url, outputs)
    iccid = retail_card(4)["iccid"]
    wrong = iccid[:-1] + str((int(iccid[-1]) + 1) % 10)
    sale = page.locator("#sale-form")
    sale.locator("[name=customer]").fill(wrong)
    mistyped = (
        "This ICCID does not add up (its check digit is wrong): the number is mistyped. "
        "Rescan the card or type it again."
    )
    expect(page.locator("#customer-hint")).to_have_text(mistyped)
    sale.locator("[name=plan]").select_option("asia-daily-1gb")
    sale.locator("[name=cash]").fill("50")
    sale.locator("button[type=submit]").click()
    expect(page.locator("#sale-error")).to_have_text(mistyped)
    sale.locator("[name=customer]").fill(iccid)
    expect(page.locator("#customer-hint")).to_have_text("ICCID checks out.")
