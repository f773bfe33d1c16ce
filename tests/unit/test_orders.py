from dataclasses import replace
from datetime import UTC, datetime

import pytest

from renewal.domain.errors import Conflict
from renewal.domain.mail import confirmation_mail
from renewal.domain.orders import (
    ACTIVATED,
    PAID,
    TRANSITIONS,
    Order,
    PaidSession,
    PlanSnapshot,
    can_move,
    mismatch,
    require_move,
    web_receipt_number,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
ORDER = Order(
    order_id="0f6c2a3e-1111-4222-8333-444455556666",
    account_id="acct",
    iccid="8985200000000000013",
    plan=PlanSnapshot("eu-weekly-5gb", "Europe weekly 5 GB", "EU", 5120, 7),
    channel="web",
    status=ACTIVATED,
    amount=1000,
    currency="EUR",
    created_at=NOW,
    session_id="cs_1",
)
SESSION = PaidSession("cs_1", "complete", "paid", 1000, "eur", ORDER.order_id, "acct", ORDER.order_id, "pi_1")


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        ("pending", "paid", True),
        ("pending", "expired", True),
        ("pending", "failed", True),
        ("pending", "review", True),
        ("pending", "activated", False),
        ("paid", "activated", True),
        ("paid", "refunded", True),
        ("paid", "voided", True),
        ("paid", "pending", False),
        ("activated", "refunded", True),
        ("activated", "voided", True),
        ("activated", "paid", False),
        ("refunded", "activated", False),
        ("expired", "paid", False),
        ("review", "activated", False),
    ],
)
def test_state_machine(start: str, target: str, allowed: bool) -> None:
    assert can_move(start, target) is allowed


def test_no_state_goes_back() -> None:
    order = ["pending", "paid", "activated", "refunded"]
    for later_index, later in enumerate(order):
        for earlier in order[:later_index]:
            assert not can_move(later, earlier)
    assert all(not TRANSITIONS[s] for s in ("expired", "failed", "refunded", "voided", "review"))
    with pytest.raises(Conflict):
        require_move(ACTIVATED, PAID)


def test_a_matching_session_has_no_mismatch() -> None:
    assert mismatch(ORDER, SESSION) is None


@pytest.mark.parametrize(
    "change",
    [
        {"amount_total": 999},
        {"currency": "usd"},
        {"order_id": "other"},
        {"account_id": "someone-else"},
        {"session_id": "cs_other"},
        {"client_reference_id": None},
    ],
)
def test_any_difference_is_a_mismatch(change: dict) -> None:
    assert mismatch(ORDER, replace(SESSION, **change))


def test_receipt_numbers_are_derived_from_the_order() -> None:
    assert web_receipt_number(ORDER.order_id, NOW) == "W-20261125-0F6C2A3E1111"


def test_confirmation_mail_in_chinese_with_the_local_time() -> None:
    order = replace(
        ORDER, locale="zh-CN", time_zone="Asia/Shanghai", email="a@example.com", receipt_no="W-1", new_expires_at=NOW
    )
    mail = confirmation_mail(order, 6000)
    assert "已生效" in mail.subject and mail.to == "a@example.com"
    assert "2026-11-25 16:00 CST" in mail.text  # 08:00 UTC in Shanghai
    assert "6,000 MB" in mail.text and "W-1" in mail.html and "10.00 EUR" in mail.text


def test_confirmation_mail_in_english_by_default() -> None:
    mail = confirmation_mail(replace(ORDER, locale="fr", receipt_no="W-2", new_expires_at=NOW), 5120)
    assert mail.subject == "Your Europe weekly 5 GB is active"
    assert "Receipt number: W-2" in mail.text and "<p>" in mail.html
