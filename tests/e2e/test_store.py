"""Partner-store renewals as a store client does them."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from infra.local.client import call, log_in
from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[2]
PLAN = "asia-daily-1gb"


@pytest.fixture(scope="module")
def staff(outputs: dict[str, str]) -> str:
    if "DemoStaffEmail" not in outputs:
        pytest.skip("no demo staff in these outputs")
    return log_in(outputs, outputs["DemoStaffEmail"], outputs["DemoStaffPassword"])


@pytest.fixture(scope="module")
def other_staff(outputs: dict[str, str], staff: str) -> str:
    return log_in(outputs, outputs["OtherStoreStaffEmail"], outputs["OtherStoreStaffPassword"])


@pytest.fixture(scope="module")
def price(outputs: dict[str, str]) -> int:
    return int(call(outputs, "GET", f"/plans/{PLAN}").json()["prices"]["HKD"])


def sell(outputs: dict[str, str], token: str, body: dict[str, Any], key: str | None = None) -> requests.Response:
    return requests.post(
        f"{outputs['ApiUrl']}/store/renewals",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key or uuid.uuid4().hex},
        timeout=30,
    )


def a_card(index: int) -> str:
    return str(json.loads((ROOT / "infra/catalog/test_cards.json").read_text())["cards"][-1 - index]["iccid"])


def test_a_counter_sale_for_an_online_customer(
    outputs: dict[str, str], staff: str, new_customer: dict, price: int
) -> None:
    token = new_customer["token"]
    assert call(outputs, "GET", "/account", token).json()["remaining_data_mb"] == 0
    sold = sell(
        outputs,
        staff,
        {"email": new_customer["email"], "plan_id": PLAN, "currency": "HKD", "cash_received": price + 1000},
    )
    assert sold.status_code == 201, sold.text
    sale = sold.json()
    assert sale["change_due"] == 1000 and sale["channel"] == "store" and sale["store_id"] == outputs["DemoStaffStoreId"]
    assert sale["receipt_no"].startswith(outputs["DemoStaffStoreId"] + "-")
    account = wait_for(lambda: (a := call(outputs, "GET", "/account", token).json())["remaining_data_mb"] and a, 15)
    assert account and account["remaining_data_mb"] == 1024
    mine = call(outputs, "GET", "/orders", token).json()["orders"]
    assert [o["order_id"] for o in mine] == [sale["order_id"]]
    printable = requests.get(
        f"{outputs['ApiUrl']}/store/receipts/{sale['receipt_no']}",
        headers={"Authorization": f"Bearer {staff}", "Accept": "text/html"},
        timeout=30,
    )
    assert printable.status_code == 200 and sale["receipt_no"] in printable.text
    receipt = call(outputs, "GET", f"/store/receipts/{sale['receipt_no']}", staff).json()
    assert receipt["cash_received"] == price + 1000 and receipt["change_due"] == 1000


def test_a_walk_in_line_without_an_account(outputs: dict[str, str], staff: str, price: int) -> None:
    sold = sell(outputs, staff, {"iccid": a_card(0), "plan_id": PLAN, "currency": "HKD", "cash_received": price})
    assert sold.status_code == 201, sold.text
    assert sold.json()["change_due"] == 0


def test_refusals(outputs: dict[str, str], staff: str, new_customer: dict, price: int) -> None:
    for iccid in ("8985201999999999990", "123"):
        missing = sell(outputs, staff, {"iccid": iccid, "plan_id": PLAN, "currency": "HKD", "cash_received": price})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "line_not_found"
    short = sell(outputs, staff, {"iccid": a_card(1), "plan_id": PLAN, "currency": "HKD", "cash_received": price - 1})
    assert short.status_code == 422 and short.json()["error"]["code"] == "insufficient_cash"
    wrong = sell(outputs, staff, {"iccid": a_card(1), "plan_id": PLAN, "currency": "USD", "cash_received": 10**6})
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "wrong_currency"
    customer = sell(
        outputs, new_customer["token"], {"iccid": a_card(1), "plan_id": PLAN, "currency": "HKD", "cash_received": price}
    )
    assert customer.status_code == 403
    for path in ("/store/reports/daily?date=2026-11-25", "/store/receipts/HKG-T1-000001"):
        assert call(outputs, "GET", path, new_customer["token"]).status_code == 403
    no_key = requests.post(
        f"{outputs['ApiUrl']}/store/renewals",
        json={"iccid": a_card(1), "plan_id": PLAN, "currency": "HKD", "cash_received": price},
        headers={"Authorization": f"Bearer {staff}"},
        timeout=30,
    )
    assert no_key.status_code == 422


def test_a_double_tap_makes_one_sale(outputs: dict[str, str], staff: str, price: int) -> None:
    body = {"iccid": a_card(2), "plan_id": PLAN, "currency": "HKD", "cash_received": price}
    key = uuid.uuid4().hex
    first, second = sell(outputs, staff, body, key), sell(outputs, staff, body, key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()


def test_ten_concurrent_sales_get_ten_consecutive_receipts(outputs: dict[str, str], staff: str, price: int) -> None:
    answers: list[requests.Response] = []
    body = {"iccid": a_card(3), "plan_id": PLAN, "currency": "HKD", "cash_received": price}
    threads = [threading.Thread(target=lambda: answers.append(sell(outputs, staff, body))) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201] * 10
    numbers = sorted(int(a.json()["receipt_no"].rsplit("-", 1)[1]) for a in answers)
    assert numbers == list(range(numbers[0], numbers[0] + 10))


def test_stores_do_not_see_each_other(outputs: dict[str, str], staff: str, other_staff: str, price: int) -> None:
    sold = sell(outputs, staff, {"iccid": a_card(4), "plan_id": PLAN, "currency": "HKD", "cash_received": price}).json()
    assert call(outputs, "GET", f"/store/receipts/{sold['receipt_no']}", other_staff).status_code == 404
    today = datetime.now(ZoneInfo("Asia/Hong_Kong")).date().isoformat()
    mine = call(outputs, "GET", f"/store/reports/daily?date={today}", staff).json()
    theirs = call(outputs, "GET", f"/store/reports/daily?date={today}", other_staff).json()
    assert mine["store_id"] == "HKG-T1" and theirs["store_id"] == "HKG-IFC"
    assert any(p["plan_id"] == PLAN and p["count"] >= 1 for p in mine["per_plan"])
    assert theirs["per_plan"] == [] and theirs["per_currency"] == []
    assert sum(s["count"] for s in mine["per_staff"]) == sum(p["count"] for p in mine["per_plan"])
    yesterday = (datetime.now(ZoneInfo("Asia/Hong_Kong")).date() - timedelta(days=1)).isoformat()
    assert call(outputs, "GET", f"/store/reports/daily?date={yesterday}", staff).json()["per_plan"] == []


def test_a_void_takes_the_plan_back(outputs: dict[str, str], staff: str, new_customer: dict, price: int) -> None:
    token = new_customer["token"]
    call(outputs, "GET", "/account", token)
    sold = sell(
        outputs, staff, {"email": new_customer["email"], "plan_id": PLAN, "currency": "HKD", "cash_received": price}
    ).json()
    assert wait_for(lambda: call(outputs, "GET", "/account", token).json()["remaining_data_mb"] == 1024, 15)
    voided = call(outputs, "POST", f"/store/renewals/{sold['order_id']}/void", staff, {"reason": "wrong plan"})
    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "voided"
    assert call(outputs, "GET", "/account", token).json()["remaining_data_mb"] == 0
    receipt = call(outputs, "GET", f"/store/receipts/{sold['receipt_no']}", staff).json()
    assert receipt["status"] == "voided" and receipt["void_reason"] == "wrong plan"
