"""One online renewal as a client does it: sign up, log in, check out, pay on the Stripe
stand-in's hosted page, and see the plan on the line with a confirmation mail."""

from __future__ import annotations

import time

import pytest
import requests

from infra.local.client import call
from tests.support import pay, wait_for

RENEWAL_DEADLINE_S = 10


@pytest.fixture
def local_only(is_local: bool) -> None:
    if not is_local:
        pytest.skip("paying needs the local Stripe stand-in's hosted page")


def test_a_customer_renews_and_sees_the_plan(outputs: dict[str, str], new_customer: dict, local_only: None) -> None:
    token = new_customer["token"]
    before = call(outputs, "GET", "/account", token).json()
    plan = call(outputs, "GET", "/plans/asia-weekly-5gb").json()

    checkout = call(outputs, "POST", "/checkout", token, {"plan_id": plan["plan_id"], "currency": "HKD"})
    assert checkout.status_code == 201, checkout.text
    body = checkout.json()
    assert set(body) == {"order_id", "session_id", "checkout_url", "expires_at"}
    assert body["expires_at"].endswith("Z")
    order = call(outputs, "GET", f"/orders/{body['order_id']}", token).json()
    assert (order["status"], order["amount"], order["currency"]) == ("pending", plan["prices"]["HKD"], "HKD")
    assert order["checkout_url"] == body["checkout_url"]  # "Pay now" while the session is open

    paid = pay(body["checkout_url"])
    assert paid.status_code == 303
    assert body["session_id"] in paid.headers["Location"]

    started = time.monotonic()
    account = wait_for(
        lambda: (a := call(outputs, "GET", "/account", token).json())["remaining_data_mb"] > 0 and a,
        RENEWAL_DEADLINE_S,
    )
    assert account, f"the plan was not on the line within {RENEWAL_DEADLINE_S} s"
    print(f"paid -> active in {time.monotonic() - started:.1f} s")
    assert before["iccid"] is None and len(account["iccid"]) in (19, 20)  # the payment took a pool line
    assert account["status"] == "active"
    assert account["remaining_data_mb"] == plan["data_mb"]
    assert [b["region"] for b in account["bundles"]] == ["ASIA"]

    order = call(outputs, "GET", f"/orders/{body['order_id']}", token).json()
    assert order["status"] == "activated" and order["receipt_no"]
    assert order["checkout_url"] is None
    late = call(outputs, "POST", f"/orders/{body['order_id']}/cancel", token)
    assert late.status_code == 409 and late.json()["error"]["code"] == "order_already_paid"
    listed = call(outputs, "GET", "/orders", token).json()
    assert [o["order_id"] for o in listed["orders"]] == [body["order_id"]]

    receipt = call(outputs, "GET", f"/orders/{body['order_id']}/receipt", token)
    assert receipt.status_code == 200 and receipt.json()["receipt_no"] == order["receipt_no"]
    printable = requests.get(
        f"{outputs['ApiUrl']}/orders/{body['order_id']}/receipt",
        headers={"Authorization": f"Bearer {token}", "Accept": "text/html"},
        timeout=30,
    )
    assert printable.headers["Content-Type"].startswith("text/html")
    assert order["receipt_no"] in printable.text

    from infra.local.outbox import sent_mail

    mail = wait_for(lambda: sent_mail(outputs["AwsEndpointUrl"], new_customer["email"]), 5)
    assert len(mail) == 1
    assert order["receipt_no"] in mail[0]["body"]


def test_another_customers_order_is_404(outputs: dict[str, str], new_customer: dict, local_only: None) -> None:
    from infra.local.client import log_in, sign_up

    order = call(outputs, "POST", "/checkout", new_customer["token"], {"plan_id": "eu-daily-1gb", "currency": "EUR"})
    assert order.status_code == 201, order.text
    order_id = order.json()["order_id"]
    email, password = f"other-{int(time.time() * 1000)}@example.com", "Pass-word-123"
    sign_up(outputs, email, password)
    other = log_in(outputs, email, password)
    for path in (f"/orders/{order_id}", f"/orders/{order_id}/receipt"):
        answer = call(outputs, "GET", path, other)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "order_not_found"
    assert call(outputs, "POST", f"/orders/{order_id}/sync", other).status_code == 404
    refused = call(outputs, "POST", f"/orders/{order_id}/cancel", other)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "order_not_found"
    assert call(outputs, "GET", f"/orders/{order_id}", new_customer["token"]).json()["status"] == "pending"


def test_checkout_refuses_what_the_catalog_does_not_sell(outputs: dict[str, str], new_customer: dict) -> None:
    token = new_customer["token"]
    unknown = call(outputs, "POST", "/checkout", token, {"plan_id": "no-such-plan", "currency": "USD"})
    assert unknown.status_code == 404
    unsold = call(outputs, "POST", "/checkout", token, {"plan_id": "eu-daily-1gb", "currency": "JPY"})
    assert unsold.status_code == 422 and unsold.json()["error"]["code"] == "unsupported_currency"
    priced_by_client = call(
        outputs, "POST", "/checkout", token, {"plan_id": "eu-daily-1gb", "currency": "USD", "amount": 1}
    )
    assert priced_by_client.status_code == 422
    assert call(outputs, "GET", "/orders", token).json()["orders"] == []


def test_a_customer_cancels_a_checkout_they_gave_up(outputs: dict[str, str], new_customer: dict) -> None:
    token = new_customer["token"]
    started = call(outputs, "POST", "/checkout", token, {"plan_id": "eu-daily-1gb", "currency": "EUR"})
    assert started.status_code == 201, started.text
    order_id = started.json()["order_id"]
    cancelled = call(outputs, "POST", f"/orders/{order_id}/cancel", token)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["checkout_url"]) == ("expired", None)
    assert call(outputs, "POST", f"/orders/{order_id}/cancel", token).json()["status"] == "expired"
    listed = call(outputs, "GET", "/orders", token).json()["orders"]
    assert [(o["order_id"], o["status"], o["checkout_url"]) for o in listed] == [(order_id, "expired", None)]
    missing = call(outputs, "POST", "/orders/no-such-order/cancel", token)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "order_not_found"
