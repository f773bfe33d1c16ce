"""The customer site in a real browser: sign up, renew through the Stripe stand-in's hosted page,
see the new balance; errors, languages, a forgotten password, linking a card, a phone screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.drive import (
    ANY_CODE,
    PHONE,
    buy_and_pay,
    log_in,
    new_credentials,
    open_site,
    retail_card,
    sign_up,
)

pytestmark = pytest.mark.stack
ACTIVATION_TIMEOUT_MS = 45_000


@pytest.fixture
def local_only(is_local: bool) -> None:
    if not is_local:
        pytest.skip("needs the local stack: moto's any-code sign-up and the Stripe stand-in's Pay button")


@pytest.mark.usefixtures("local_only")
def test_a_new_customer_signs_up_renews_and_sees_the_new_balance(page: Page, site_url: str) -> None:
    email, password = new_credentials()
    sign_up(page, site_url, email, password)
    expect(page.locator("#line-status")).to_have_text("New")
    expect(page.locator("#line-balance [data-testid=remaining]")).to_have_text("0 MB")

    buy_and_pay(page, "asia-weekly-5gb", "HKD", region="ASIA")

    # The success page syncs the order, waits for activation and shows the new balance.
    expect(page.locator("#success-status")).to_have_text("Your plan is active.", timeout=ACTIVATION_TIMEOUT_MS)
    expect(page.locator("#success-ring [data-testid=remaining]")).to_have_text("5 GB")
    page.locator("#success-continue").click()
    expect(page).to_have_url(site_url)
    expect(page.locator("#line-status")).to_have_text("Active")
    expect(page.locator("#line-balance [data-testid=remaining]")).to_have_text("5 GB")
    expect(page.locator("#bundles li[data-region=ASIA]")).to_be_visible()

    # The order is listed with its printable receipt.
    order = page.locator("#order-list li").first
    expect(order).to_contain_text("Asia weekly 5 GB")
    expect(order).to_contain_text("Active")
    order.get_by_role("button", name="Receipt").click()
    receipt = page.frame_locator("#receipt-frame")
    expect(receipt.locator("h1")).to_have_text("Receipt")
    expect(receipt.locator("body")).to_contain_text("Asia weekly 5 GB")
    expect(page.locator("#receipt-dialog [data-receipt-title]")).to_have_text(re.compile(r"Receipt W-\d{8}-"))


def test_a_wrong_password_shows_an_error(page: Page, site_url: str, outputs: dict[str, str]) -> None:
    log_in(page, site_url, outputs["DemoUserEmail"], outputs["DemoUserPassword"] + "-wrong")
    error = page.locator("#login-error")
    expect(error).to_have_text("Wrong email or password.")
    expect(error).to_have_attribute("role", "alert")
    expect(page.locator("#home-view")).to_be_hidden()
    # An unknown email reads the same, so the page does not tell who has an account.
    log_in(page, site_url, "nobody-here@example.com", "Pass-word-123")
    expect(error).to_have_text("Wrong email or password.")


def test_the_language_switch_changes_the_page_and_is_remembered(
    page: Page, site_url: str, outputs: dict[str, str]
) -> None:
    open_site(page, site_url)
    expect(page.locator("#tab-login")).to_have_text("Log in")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#tab-login")).to_have_text("登录")
    expect(page.locator("#tab-signup")).to_have_text("注册")
    expect(page.get_by_role("button", name="中文")).to_have_attribute("aria-pressed", "true")

    page.reload()  # remembered
    expect(page.locator("#tab-login")).to_have_text("登录")
    log_in(page, site_url, outputs["DemoUserEmail"], outputs["DemoUserPassword"])
    expect(page.locator("#line-title")).to_have_text("我的号码")
    expect(page.locator("#line-status")).to_have_text("使用中")  # the demo customer has an active bundle
    expect(page.locator("#bundles li[data-region=EU]")).to_contain_text("欧洲")
    expect(page.locator("#plan-list")).to_contain_text("欧洲 周套餐 5 GB")

    page.get_by_role("button", name="English").click()
    expect(page.locator("#line-title")).to_have_text("My line")
    expect(page.locator("#plan-list")).to_contain_text("Europe weekly 5 GB")


@pytest.mark.usefixtures("local_only")
def test_a_forgotten_password_is_reset(page: Page, site_url: str) -> None:
    email, password = new_credentials()
    sign_up(page, site_url, email, password)
    page.locator("#logout").click()
    page.locator("#to-forgot").click()
    page.locator("#forgot-form [name=email]").fill(email)
    page.locator("#forgot-form button[type=submit]").click()
    reset = page.locator("#reset-form")
    expect(reset).to_contain_text(email)
    reset.locator("[name=code]").fill(ANY_CODE)
    reset.locator("[name=password]").fill(password + "-new")
    reset.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_have_text("Your password is changed. Log in with the new one.")
    page.locator("#login-form [name=password]").fill(password + "-new")
    page.locator("#login-form button[type=submit]").click()
    expect(page.locator("#home-view")).to_be_visible()


@pytest.mark.usefixtures("local_only")
def test_a_card_already_held_is_linked_on_a_phone_in_chinese(page: Page, site_url: str) -> None:
    page.set_viewport_size(PHONE)
    card = retail_card(1)
    open_site(page, site_url)
    page.get_by_role("button", name="中文").click()
    sign_up(page, site_url, *new_credentials())
    # Nothing sticks out sideways on a phone-sized screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Signed up in Chinese: the account's mails are in Chinese too.
    expect(page.locator("#prefs-form [name=locale]")).to_have_value("zh-CN")

    form = page.locator("#link-form")
    form.locator("[name=iccid]").fill(card["iccid"])
    form.locator("[name=pin]").fill("00000000" if card["pin"] != "00000000" else "11111111")
    form.locator("button[type=submit]").click()
    expect(page.locator("#link-message")).to_have_text("ICCID 与 PIN 码不匹配。")
    form.locator("[name=pin]").fill(card["pin"])
    form.locator("button[type=submit]").click()
    expect(page.locator("#link-message")).to_have_text("绑定成功，这张卡现在是您的号码。")
    expect(page.locator("#line-iccid")).to_have_text(card["iccid"])


@pytest.mark.usefixtures("local_only")
def test_a_customer_whose_mail_bounced_is_told_on_the_site(page: Page, site_url: str, outputs: dict[str, str]) -> None:
    from tests.integration.test_bounce_path import queue, ses_bounce

    email, password = new_credentials()
    sign_up(page, site_url, email, password)
    expect(page.locator("#line-status")).to_have_text("New")
    expect(page.locator("#email-unreachable")).to_have_count(0)
    queue(outputs, ses_bounce(email))  # SES's bounce, as the template's rule delivers it
    page.wait_for_timeout(3000)  # mail_events marks the account within a second or two
    open_site(page, site_url)  # still logged in (the tab's session): the page reads the account again
    notice = page.locator("#email-unreachable")
    expect(notice).to_contain_text("We could not reach your email", timeout=15_000)
    expect(notice).to_contain_text(email)
