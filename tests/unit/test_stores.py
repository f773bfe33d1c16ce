from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from renewal.domain.errors import Conflict, InvalidInput
from renewal.domain.orders import ACTIVATED, VOIDED, Order, PlanSnapshot, apply_refund
from renewal.domain.receipts import Seller, asked_language, receipt_html
from renewal.domain.stores import Store, change_due, daily_report, require_store_currency, require_voidable

STORE = Store("HKG-T1", "Airport T1", "Chek Lap Kok", "HKD", "Asia/Hong_Kong", "BR 31234567-001")
ONLINE = Seller("My eSIM Ltd", "1 Harbour Road, Wan Chai, Hong Kong", "BR 12345678-000")
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
SALE = Order(
    "o1", "", "8985201000000000019", PlanSnapshot("asia-daily-1gb", "Asia daily 1 GB", "ASIA", 1024, 1),
    "store", ACTIVATED, 3100, "HKD", NOW, receipt_no="HKG-T1-000007", store_id="HKG-T1", staff_id="s1",
    cash_received=5000,
)  # fmt: skip


def test_receipt_numbers_are_sequential_and_padded() -> None:
    assert STORE.receipt_number(123) == "HKG-T1-000123"


def test_change_and_refusals() -> None:
    assert change_due(3100, 5000) == 1900
    with pytest.raises(InvalidInput):
        change_due(3100, 3099)
    with pytest.raises(InvalidInput):
        require_store_currency(STORE, "USD")
    require_store_currency(STORE, "hkd")


def test_local_day_is_the_stores_calendar_day() -> None:
    start, end = STORE.local_day(date(2026, 11, 25))
    assert start == datetime(2026, 11, 24, 16, 0, tzinfo=UTC) and end - start == timedelta(days=1)


def test_void_window_is_fifteen_minutes() -> None:
    require_voidable(SALE, NOW + timedelta(minutes=15))
    with pytest.raises(Conflict):
        require_voidable(SALE, NOW + timedelta(minutes=15, seconds=1))
    with pytest.raises(Conflict):
        require_voidable(replace(SALE, status=VOIDED), NOW)


def test_a_void_is_a_full_refund_that_ends_voided() -> None:
    outcome = apply_refund(SALE, SALE.amount, [], NOW, full_status=VOIDED)
    assert outcome.status == VOIDED and outcome.refunded_amount == SALE.amount


def test_report_totals_per_plan_currency_and_staff_without_voids() -> None:
    other = replace(SALE, order_id="o2", staff_id="s2", receipt_no="HKG-T1-000008")
    void = replace(SALE, order_id="o3", status=VOIDED, receipt_no="HKG-T1-000009")
    report = daily_report(STORE, date(2026, 11, 25), [SALE, other, void])
    assert report["per_plan"] == [{"plan_id": "asia-daily-1gb", "count": 2, "amount": 6200}]
    assert report["per_currency"] == [{"currency": "HKD", "amount": 6200}]
    assert [s["staff_id"] for s in report["per_staff"]] == ["s1", "s2"]
    assert report["voided"] == ["HKG-T1-000009"]


def test_printable_receipt_shows_store_staff_cash_and_change() -> None:
    page = receipt_html(SALE, STORE.seller(), staff_name="Mei Chan")
    for text in ("HKG-T1-000007", "HKG-T1", "Mei Chan", "50.00 HKD", "19.00 HKD"):
        assert text in page


def test_a_store_receipt_names_the_store_as_seller_with_its_tax_number_and_staff_by_name_only() -> None:
    page = receipt_html(SALE, STORE.seller(), staff_name="Mei Chan")
    for text in ("Airport T1", "Chek Lap Kok", "Tax number: BR 31234567-001", "Served by", "Mei Chan", "Active"):
        assert text in page, text
    assert ">s1<" not in page and ">activated<" not in page  # no staff id, no raw status
    # Without a name the row is left out rather than showing the id.
    assert "s1" not in receipt_html(SALE, STORE.seller()).split("Order")[1]


def test_a_receipt_is_in_the_customers_language_with_statuses_in_words() -> None:
    web = replace(
        SALE, order_id="o9", store_id=None, staff_id=None, cash_received=None, channel="web", locale="zh-CN",
        time_zone="Asia/Shanghai", status=VOIDED, receipt_no="W-20261125-O9",
    )  # fmt: skip
    page = receipt_html(web, ONLINE)
    assert '<html lang="zh-CN">' in page
    for text in ("收据", "销售方", "My eSIM Ltd", "税号: BR 12345678-000", "已作废", "套餐", "亚洲 1 GB", "1 天"):
        assert text in page, text
    assert "voided" not in page and "Receipt" not in page
    english = receipt_html(replace(web, locale="en", status="expired"), ONLINE)
    assert "Not paid" in english and "1 day)" in english and "1 days" not in english


def test_a_client_may_ask_for_the_receipt_in_the_language_it_shows() -> None:
    assert asked_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh-CN"
    assert asked_language("en-US") == "en" and asked_language("fr-FR") is None and asked_language(None) is None
    assert '<html lang="zh-CN">' in receipt_html(SALE, STORE.seller(), locale=asked_language("zh-CN"))
    assert '<html lang="en">' in receipt_html(SALE, STORE.seller(), locale=asked_language("de"))


def test_the_receipt_shows_the_expiry_of_the_plan_sold_and_fits_a_phone() -> None:
    activated = replace(SALE, new_expires_at=NOW + timedelta(days=1), activated_at=NOW, time_zone="Asia/Hong_Kong")
    page = receipt_html(activated, STORE.seller())
    assert "Asia plan valid until" in page and "2026-11-26 10:00 HKT" in page
    # Printed at the counter before activation: what the plan gives, not a dash.
    before = receipt_html(replace(SALE, new_expires_at=None), STORE.seller())
    assert "Valid for" in before and "1 day once the plan is active" in before
    assert 'name="viewport"' in page and "padding:1.25rem" in page and "overflow-wrap:anywhere" in page


def test_the_report_names_staff_by_display_name() -> None:
    report = daily_report(STORE, date(2026, 11, 25), [SALE], {"s1": "Mei Chan"})
    assert report["per_staff"] == [{"staff_id": "s1", "staff_name": "Mei Chan", "count": 1, "amount": 3100}]
