"""The customer site as an app (issue 19): installable and usable offline, numbers and words a
person reads right (time left, time zones, order states with Pay now and Cancel), plan filters
that agree, and the small edges of the first run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.drive import (
    PHONE,
    buy_and_pay,
    log_in,
    new_credentials,
    open_site,
    sign_up,
)

pytestmark = pytest.mark.stack
ACTIVATION_TIMEOUT_MS = 45_000


def wait_for_service_worker(page: Page, timeout_ms: int = 15_000) -> None:
    """Polled rather than awaiting navigator.serviceWorker.ready, which never settles on a page
    that registers none (and wait_for_function does not await a promise)."""
    for _ in range(timeout_ms // 100):
        if page.evaluate("navigator.serviceWorker.getRegistration().then((r) => Boolean(r && r.active))"):
            return
        page.wait_for_timeout(100)
    raise AssertionError("no active service worker")


@pytest.fixture
def local_only(is_local: bool) -> None:
    if not is_local:
        pytest.skip("needs the local stack: moto's any-code sign-up and the Stripe stand-in's Pay button")


# ------------------------------------------------------------------ the app


def test_the_site_is_installable_with_a_manifest_in_both_languages_and_a_service_worker(
    page: Page, site_url: str
) -> None:
    open_site(page, site_url)
    manifest = page.locator("link[rel=manifest]")
    expect(manifest).to_have_attribute("href", "manifest.webmanifest")
    english = page.request.get(site_url + "manifest.webmanifest")
    assert english.headers["content-type"].startswith("application/manifest+json")
    body = english.json()
    assert (body["name"], body["start_url"], body["display"]) == ("My eSIM", "./", "standalone")
    sizes = {icon["sizes"] for icon in body["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in body["icons"]:
        assert page.request.get(site_url + icon["src"]).ok, icon["src"]

    page.get_by_role("button", name="中文").click()
    expect(manifest).to_have_attribute("href", "manifest.zh-CN.webmanifest")
    assert page.request.get(site_url + "manifest.zh-CN.webmanifest").json()["name"] == "我的 eSIM"

    wait_for_service_worker(page)
    assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.scope)") == site_url
    page.reload()  # controlled from the second visit on
    expect(page.locator("body[data-ready=true]")).to_be_attached()
    assert page.evaluate("navigator.serviceWorker.controller !== null")


@pytest.mark.usefixtures("local_only")
def test_offline_the_shell_and_the_last_balance_show_and_log_out_leaves_nothing(
    browser: Browser, site_url: str, outputs: dict[str, str]
) -> None:
    context = browser.new_context(locale="en-US", timezone_id="Europe/Paris")
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        log_in(page, site_url, outputs["DemoUserEmail"], outputs["DemoUserPassword"])
        remaining = page.locator("#line-balance [data-testid=remaining]")
        expect(remaining).not_to_have_text("0 MB")
        balance = remaining.inner_text()
        iccid = page.locator("#line-iccid").inner_text()
        assert len(iccid) >= 19, iccid
        wait_for_service_worker(page)
        page.reload()  # now under the service worker
        expect(remaining).to_have_text(balance)
        assert page.evaluate("navigator.serviceWorker.controller !== null")

        context.set_offline(True)
        page.reload()
        expect(page.locator("#home-view")).to_be_visible()
        expect(remaining).to_have_text(balance)
        expect(page.locator("#notice")).to_have_text(re.compile(r"You are offline\. Balance as of .+\d"))
        context.set_offline(False)

        page.reload()
        expect(remaining).to_have_text(balance)
        page.locator("#logout").click()
        expect(page.locator("#login-form")).to_be_visible()
        kept = page.evaluate(
            """async () => {
                const texts = [JSON.stringify(localStorage), JSON.stringify(sessionStorage), document.body.innerText];
                for (const name of await caches.keys()) {
                    const cache = await caches.open(name);
                    for (const request of await cache.keys()) {
                        texts.push(request.url, await (await cache.match(request)).text());
                    }
                }
                return texts.join('\\n');
            }"""
        )
        api = outputs["ApiUrl"].rstrip("/")
        for secret in (outputs["DemoUserEmail"], iccid, '"remaining_data_mb":', api + "/account"):
            assert secret not in kept, secret
        # Offline after log-out: the log-in form, not the previous person's line.
        context.set_offline(True)
        page.reload()
        expect(page.locator("#login-form")).to_be_visible()
        expect(page.locator("#home-view")).to_be_hidden()
    finally:
        context.close()


# ------------------------------------------------------------------ numbers and words


def test_time_left_counts_as_a_person_does(page: Page, site_url: str) -> None:
    open_site(page, site_url)
    said = page.evaluate(
        """async () => {
            const i18n = await import('./lib/i18n.js');
            const now = Date.parse('2026-12-03T12:00:00Z');
            const at = (seconds) => new Date(now + seconds * 1000).toISOString();
            const cases = [7 * 86400 - 5, 86400 - 5, 86400 + 60, 5 * 3600, 3600, 1800, -1];
            const out = {};
            for (const lang of ['en', 'zh-CN']) {
                i18n.setLang(lang);
                out[lang] = cases.map((s) => i18n.timeLeft(at(s), now));
            }
            i18n.setLang('en');
            return out;
        }"""
    )
    assert said["en"] == [
        "7 days left", "1 day left", "2 days left", "5 hours left", "1 hour left", "less than an hour left", "expired",
    ]  # fmt: skip
    assert said["zh-CN"] == [
        "剩余 7 天", "剩余 1 天", "剩余 2 天", "剩余 5 小时", "剩余 1 小时", "剩余不足 1 小时", "已到期",
    ]  # fmt: skip


@pytest.mark.usefixtures("local_only")
def test_times_follow_the_preferred_zone_and_the_receipt_agrees(browser: Browser, site_url: str) -> None:
    # The device is in New York; the customer chooses Tokyo in the preferences.
    context = browser.new_context(locale="en-US", timezone_id="America/New_York")
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        sign_up(page, site_url, *new_credentials())
        prefs = page.locator("#prefs-form")
        expect(prefs.locator("[name=time_zone]")).to_have_value("America/New_York")
        prefs.locator("[name=time_zone]").select_option("Asia/Tokyo")
        prefs.locator("button[type=submit]").click()
        expect(page.locator("#prefs-message")).to_have_text("Saved.")

        buy_and_pay(page, "asia-weekly-5gb", "HKD", region="ASIA")
        expect(page.locator("#success-status")).to_have_text("Your plan is active.", timeout=ACTIVATION_TIMEOUT_MS)
        page.locator("#success-continue").click()
        line = page.locator("#line-balance")
        expect(line.get_by_test_id("time-left")).to_have_text("7 days left")  # not "6 days left"
        expect(page.locator("#bars-legend")).to_have_text(re.compile(r"Data left\s+Time left"))
        until = line.locator(".expiry span").inner_text()
        assert "GMT+9" in until, until
        order = page.locator("#order-list li").first
        expect(order).to_contain_text("GMT+9")

        order.get_by_role("button", name="Receipt").click()
        receipt = page.frame_locator("#receipt-frame").locator("body")
        expect(receipt).to_contain_text("JST")
        # The line's expiry reads the same on the page and on the receipt (hours and minutes).
        clock = re.search(r"\b(\d{2}:\d{2})\b", until)
        assert clock, until
        expect(receipt).to_contain_text(clock.group(1))
    finally:
        context.close()


@pytest.mark.usefixtures("local_only")
def test_a_not_paid_order_offers_pay_now_and_cancel_and_the_filters_agree_and_survive_checkout(
    page: Page, site_url: str
) -> None:
    sign_up(page, site_url, *new_credentials())
    region, country = page.locator("#region-filter"), page.locator("#country-filter")
    page.locator("#currency").select_option("HKD")

    # A region narrows the country list.
    region.select_option("ASIA")
    options = country.locator("option")
    expect(options.filter(has_text="Japan")).to_have_count(1)
    expect(options.filter(has_text="France")).to_have_count(0)
    # A country: its own plans first, then the regional and global ones that cover it.
    region.select_option("")
    expect(options.filter(has_text="France")).to_have_count(1)
    country.select_option("JP")
    plans = page.locator("#plan-list li[data-plan]")
    ids = [plans.nth(i).get_attribute("data-plan") or "" for i in range(plans.count())]
    kinds = [plan_id.split("-")[0] for plan_id in ids]
    assert kinds == sorted(kinds, key=["jp", "asia", "global"].index) and set(kinds) == {"jp", "asia", "global"}, ids
    region.select_option("ASIA")
    expect(country).to_have_value("JP")  # Japan is in Asia: kept
    expect(page.locator("#plan-list li[data-plan^=global]")).to_have_count(0)
    region.select_option("EU")
    expect(country).to_have_value("")  # Japan is not in Europe

    region.select_option("")
    country.select_option("JP")
    page.locator('[data-plan="jp-daily-2gb"] button').click()
    page.wait_for_url(re.compile(r"/c/pay/"), wait_until="domcontentloaded")
    checkout_url = page.url
    page.go_back()
    expect(page.locator("#home-view")).to_be_visible()
    expect(region).to_have_value("")  # the choice survives the trip to checkout
    expect(country).to_have_value("JP")

    order = page.locator("#order-list li").first
    expect(order.get_by_test_id("order-status")).to_have_text("Waiting for payment")
    pay = order.get_by_role("link", name="Pay now")
    expect(pay).to_have_attribute("href", checkout_url)
    pay.click()
    page.wait_for_url(re.compile(r"/c/pay/"), wait_until="domcontentloaded")
    page.go_back()
    order = page.locator("#order-list li").first
    order.get_by_role("button", name="Cancel").click()
    expect(order.get_by_test_id("order-status")).to_have_text("Not paid")
    expect(order.get_by_role("link", name="Pay now")).to_have_count(0)
    expect(order.get_by_role("button", name="Cancel")).to_have_count(0)
    # Never a raw status, in either language.
    page.get_by_role("button", name="中文").click()
    expect(order.get_by_test_id("order-status")).to_have_text("未付款")


@pytest.mark.usefixtures("local_only")
def test_a_receipt_is_in_the_customers_language_names_the_seller_and_prints_at_phone_width(
    browser: Browser, site_url: str
) -> None:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        open_site(page, site_url)
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")  # the browser's language
        sign_up(page, site_url, *new_credentials())
        buy_and_pay(page, "asia-daily-1gb", "HKD", region="ASIA")
        expect(page.locator("#success-status")).to_have_text("您的套餐已生效。", timeout=ACTIVATION_TIMEOUT_MS)
        page.locator("#success-continue").click()
        expect(page.locator("#line-balance").get_by_test_id("time-left")).to_have_text("剩余 1 天")
        page.locator("#order-list li").first.get_by_role("button", name="收据").click()
        frame = page.frame_locator("#receipt-frame")
        expect(frame.locator("html")).to_have_attribute("lang", "zh-CN")
        body = frame.locator("body")
        expect(frame.locator("h1")).to_have_text("收据")
        for text in ("My eSIM Ltd", "税号", "已生效", "亚洲套餐有效期至", "1 天"):
            expect(body).to_contain_text(text)
        assert "activated" not in body.inner_text()
        receipt = page.evaluate("document.querySelector('#receipt-frame').srcdoc")
        # Read in English, the same receipt comes in English.
        page.locator("#receipt-dialog [data-receipt-close]").click()
        page.get_by_role("button", name="English").click()
        page.locator("#order-list li").first.get_by_role("button", name="Receipt").click()
        expect(frame.locator("h1")).to_have_text("Receipt")
        expect(body).to_contain_text("Active")

        # The receipt page on its own at phone width: nothing sideways, text clear of the edge.
        phone = context.new_page()
        phone.set_content(receipt)
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        left = phone.evaluate(
            "Math.min(...[...document.querySelectorAll('th, td, h1, p')].map((e) => e.getBoundingClientRect().left))"
        )
        right = phone.evaluate(
            "Math.max(...[...document.querySelectorAll('th, td, h1, p')].map((e) => e.getBoundingClientRect().right))"
        )
        assert left >= 12 and right <= PHONE["width"] - 12, (left, right)
    finally:
        context.close()


# ------------------------------------------------------------------ the first run


@pytest.mark.usefixtures("local_only")
def test_a_mistyped_email_can_be_corrected_from_the_code_step(page: Page, site_url: str) -> None:
    email, password = new_credentials()
    open_site(page, site_url)
    page.locator("#tab-signup").click()
    form = page.locator("#signup-form")
    form.locator("[name=email]").fill("typo-" + email)
    form.locator("[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    expect(page.locator("#confirm-form")).to_be_visible()
    page.get_by_role("button", name="Wrong email? Change it").click()
    expect(form).to_be_visible()
    expect(form.locator("[name=email]")).to_have_value("typo-" + email)
    form.locator("[name=email]").fill(email)
    form.locator("[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    expect(page.locator("#confirm-text")).to_contain_text(email)


@pytest.mark.usefixtures("local_only")
def test_logging_in_to_an_unconfirmed_account_sends_a_new_code(page: Page, site_url: str) -> None:
    email, password = new_credentials()
    open_site(page, site_url)
    page.locator("#tab-signup").click()
    form = page.locator("#signup-form")
    form.locator("[name=email]").fill(email)
    form.locator("[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    expect(page.locator("#confirm-form")).to_be_visible()
    sent: list[str] = []
    page.on(
        "request",
        lambda request: sent.append(request.headers.get("x-amz-target", "")) if request.method == "POST" else None,
    )
    log_in(page, site_url, email, password)  # a fresh visit: the code step is gone
    expect(page.locator("#confirm-form")).to_be_visible()
    expect(page.locator("#confirm-error")).to_have_text("A new code is on its way.")
    expect(page.get_by_role("button", name="Send the code again")).to_be_visible()
    assert any(target.endswith("ResendConfirmationCode") for target in sent), sent


def test_reminder_checkboxes_do_not_show_unticked_while_loading(
    page: Page, site_url: str, outputs: dict[str, str]
) -> None:
    held: list[Route] = []
    page.route("**/account/preferences", lambda route: held.append(route))
    log_in(page, site_url, outputs["DemoUserEmail"], outputs["DemoUserPassword"])
    expect(page.locator("#home-view")).to_be_visible()
    for _ in range(100):  # until the page has asked for them (held here, unanswered)
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the page did not ask for the preferences"
    expect(page.locator("#order-list li").first).to_be_visible()  # the rest of the page is there
    expiry = page.locator("#prefs-form [name=expiry]")
    expect(expiry).to_be_disabled()
    expect(expiry).not_to_be_visible()  # not a blank box that ticks itself a moment later
    for route in held:
        route.continue_()
    expect(expiry).to_be_visible()
    expect(expiry).to_be_enabled()
    expect(expiry).to_be_checked()


def test_on_a_phone_orders_are_reachable_without_scrolling_past_every_plan(
    page: Page, site_url: str, outputs: dict[str, str]
) -> None:
    page.set_viewport_size(PHONE)
    log_in(page, site_url, outputs["DemoUserEmail"], outputs["DemoUserPassword"])
    expect(page.locator("#plan-list li[data-plan]").first).to_be_visible()
    jump = page.locator("nav.jump").get_by_role("link", name="Orders")
    expect(jump).to_be_in_viewport()
    jump.click()
    expect(page.locator("#orders-title")).to_be_in_viewport()
    desktop_width = 1280
    page.set_viewport_size({"width": desktop_width, "height": 900})
    expect(page.locator("nav.jump")).to_be_hidden()  # both columns fit: no need


@pytest.mark.usefixtures("local_only")
def test_the_checkout_stand_in_is_readable_at_phone_width(browser: Browser, site_url: str) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        sign_up(page, site_url, *new_credentials())
        page.locator("#currency").select_option("HKD")
        page.locator('[data-plan="asia-daily-1gb"] button').click()
        page.wait_for_url(re.compile(r"/c/pay/"), wait_until="domcontentloaded")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('button')).fontSize)")
        assert size >= 14, size
    finally:
        context.close()
