from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from renewal.domain.errors import Conflict, InvalidInput
from renewal.domain.orders import ACTIVATED, VOIDED, Order, PlanSnapshot, apply_refund
from renewal.domain.receipts import receipt_html
from renewal.domain.stores import Store, change_due, daily_report, require_store_currency, require_voidable

STORE = Store("HKG-T1", "Airport T1", "Chek Lap Kok", "HKD", "Asia/Hong_Kong")
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
    page = receipt_html(SALE)
    for text in ("HKG-T1-000007", "HKG-T1", "s1", "50.00 HKD", "19.00 HKD"):
        assert text in page
