"""Refunds, voids and disputes through the local stack: our books and the carrier simulator take
back exactly what the order bought, the customer is told, and the other orders' data stays."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe

from infra.local.client import call, log_in, new_credentials, sign_up
from tests.support import pay, wait_for

DEADLINE_S = 30
WEEK_7GB, DAY_2GB = 7168, 2048  # jp-weekly-7gb and jp-daily-2gb (infra/catalog/plans.json)


@pytest.fixture(autouse=True)
def local_only(is_local: bool) -> None:
    if not is_local:
        pytest.skip("drives the local carrier simulator and Stripe stand-in")


@pytest.fixture
def carrier(outputs: dict[str, str]) -> Iterator[str]:
    url = outputs["CarrierUrl"]
    yield url
    requests.post(f"{url}/_sim/knobs", json={"fail_next": 0, "latency_ms": 0, "down": False}, timeout=10)


@pytest.fixture
def person(outputs: dict[str, str]) -> dict[str, Any]:
    email, password = new_credentials("refund")
    sign_up(outputs, email, password)
    token = log_in(outputs, email, password)
    return {"email": email, "token": token}


def line_of(outputs: dict[str, str], token: str) -> str:
    """The account's ICCID: its line comes with its first plan (a pool line taken at payment)."""
    iccid = call(outputs, "GET", "/account", token).json()["iccid"]
    assert iccid, "no line yet"
    return str(iccid)


def stripe_client(outputs: dict[str, str]) -> stripe.StripeClient:
    return stripe.StripeClient(outputs["StripeSecretKey"], base_addresses={"api": outputs["StripeApiBase"]})


def order(outputs: dict[str, str], token: str, order_id: str) -> dict[str, Any]:
    return dict(call(outputs, "GET", f"/orders/{order_id}", token).json())


def status_becomes(outputs: dict[str, str], token: str, order_id: str, status: str) -> dict[str, Any]:
    found = wait_for(lambda: (o := order(outputs, token, order_id))["status"] == status and o, DEADLINE_S)
    assert found, f"order {order_id} never became {status}: {order(outputs, token, order_id)}"
    return dict(found)


def buy(outputs: dict[str, str], token: str, plan_id: str, *, wait: bool = True) -> dict[str, Any]:
    started = call(outputs, "POST", "/checkout", token, {"plan_id": plan_id, "currency": "HKD"})
    assert started.status_code == 201, started.text
    assert pay(started.json()["checkout_url"]).status_code == 303
    session = stripe_client(outputs).v1.checkout.sessions.retrieve(started.json()["session_id"])
    bought = {**started.json(), "payment_intent": str(session.payment_intent), "amount": int(session.amount_total or 0)}
    if wait:
        status_becomes(outputs, token, bought["order_id"], "activated")
    return bought


def data_mb(outputs: dict[str, str], token: str) -> int:
    return int(call(outputs, "GET", "/account", token).json()["remaining_data_mb"])


def network(carrier: str, iccid: str) -> dict[str, Any]:
    view = requests.get(f"{carrier}/_sim/lines/{iccid}", timeout=10).json()
    return {b["region"]: b for b in view["bundles"]}


def network_mb(carrier: str, iccid: str, region: str = "JP") -> int:
    bundle = network(carrier, iccid).get(region)
    return int(bundle["data_mb"]) if bundle else 0


def network_settles_at(carrier: str, iccid: str, mb: int) -> None:
    assert wait_for(lambda: network_mb(carrier, iccid) == mb, DEADLINE_S), (network(carrier, iccid), mb)


def use(carrier: str, iccid: str, mb: int) -> None:
    pushed = requests.post(f"{carrier}/_sim/usage", json={"iccid": iccid, "country": "JP", "data_mb": mb}, timeout=30)
    assert pushed.status_code == 202, pushed.text


def subjects(outputs: dict[str, str], email: str) -> list[str]:
    from infra.local.outbox import sent_mail

    return [str(m["subject"]) for m in sent_mail(outputs["AwsEndpointUrl"], email)]


def test_a_store_void_takes_its_own_2_gb_and_the_online_order_keeps_its_1_gb(
    outputs: dict[str, str], carrier: str, person: dict[str, Any]
) -> None:
    token = person["token"]
    online = buy(outputs, token, "jp-weekly-7gb")
    iccid = line_of(outputs, token)
    use(carrier, iccid, WEEK_7GB - 1000)  # 1 GB of the online order left
    assert data_mb(outputs, token) == 1000 and network_mb(carrier, iccid) == 1000
    staff = log_in(outputs, outputs["DemoStaffEmail"], outputs["DemoStaffPassword"])
    price = int(call(outputs, "GET", "/plans/jp-daily-2gb").json()["prices"]["HKD"])
    sold = requests.post(
        f"{outputs['ApiUrl']}/store/renewals",
        json={"email": person["email"], "plan_id": "jp-daily-2gb", "currency": "HKD", "cash_received": price},
        headers={"Authorization": f"Bearer {staff}", "Idempotency-Key": uuid.uuid4().hex},
        timeout=30,
    )
    assert sold.status_code == 201, sold.text
    status_becomes(outputs, token, sold.json()["order_id"], "activated")
    assert data_mb(outputs, token) == 1000 + DAY_2GB and network_mb(carrier, iccid) == 1000 + DAY_2GB
    use(carrier, iccid, 0)  # something applied to the line after the sale: the general rule, not a restore
    voided = call(outputs, "POST", f"/store/renewals/{sold.json()['order_id']}/void", staff, {"reason": "mistake"})
    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "voided" and voided.json()["taken_back_mb"] == DAY_2GB
    assert data_mb(outputs, token) == 1000
    assert order(outputs, token, online["order_id"])["status"] == "activated"
    network_settles_at(carrier, iccid, 1000)  # taken back at the carrier too
    assert wait_for(lambda: any("cancelled" in s for s in subjects(outputs, person["email"])), DEADLINE_S)


def test_a_full_refund_of_one_of_two_online_orders_keeps_the_other_and_reaches_the_carrier(
    outputs: dict[str, str], carrier: str, person: dict[str, Any]
) -> None:
    token = person["token"]
    first = buy(outputs, token, "jp-weekly-7gb")
    iccid = line_of(outputs, token)
    second = buy(outputs, token, "jp-weekly-7gb")
    account = call(outputs, "GET", "/account", token).json()
    assert account["remaining_data_mb"] == 2 * WEEK_7GB
    requests.post(f"{carrier}/_sim/knobs", json={"fail_next": 2}, timeout=10)  # the carrier fails twice first
    stripe_client(outputs).v1.refunds.create(params={"payment_intent": first["payment_intent"]})
    refunded = status_becomes(outputs, token, first["order_id"], "refunded")
    assert refunded["taken_back_mb"] == WEEK_7GB and refunded["taken_back_seconds"] == 7 * 86400
    after = call(outputs, "GET", "/account", token).json()
    assert after["remaining_data_mb"] == WEEK_7GB  # the second order's 7 GB stay
    assert order(outputs, token, second["order_id"])["status"] == "activated"
    network_settles_at(carrier, iccid, WEEK_7GB)
    stats = requests.get(f"{carrier}/_sim/stats", timeout=10).json()
    (reversal_id,) = [k for k, v in stats["reversals"].items() if v["order_id"] == first["order_id"]]
    assert stats["reversal_requests"][reversal_id] == 1  # two 503s, then applied once
    ours = after["bundles"][0]["expires_at"]
    assert abs(_seconds(network(carrier, iccid)["JP"]["expires_at"]) - _seconds(ours)) <= 5
    assert wait_for(lambda: any("退款" in s or "refund" in s for s in subjects(outputs, person["email"])), DEADLINE_S)


def test_a_refund_racing_activation_credits_the_unrefunded_share_and_the_carrier_agrees(
    outputs: dict[str, str], carrier: str, person: dict[str, Any]
) -> None:
    token = person["token"]
    requests.post(f"{carrier}/_sim/knobs", json={"latency_ms": 3000}, timeout=10)  # activation waits on the carrier
    bought = buy(outputs, token, "jp-weekly-7gb", wait=False)
    iccid = wait_for(lambda: call(outputs, "GET", "/account", token).json()["iccid"], DEADLINE_S)
    quarter = bought["amount"] // 4
    stripe_client(outputs).v1.refunds.create(params={"payment_intent": bought["payment_intent"], "amount": quarter})
    activated = status_becomes(outputs, token, bought["order_id"], "activated")
    requests.post(f"{carrier}/_sim/knobs", json={"latency_ms": 0}, timeout=10)
    expected = WEEK_7GB - WEEK_7GB * quarter // bought["amount"]
    assert activated["refunded_amount"] == quarter
    assert data_mb(outputs, token) == expected
    network_settles_at(carrier, iccid, expected)


def test_a_lost_dispute_takes_back_like_a_full_refund(
    outputs: dict[str, str], carrier: str, person: dict[str, Any]
) -> None:
    token = person["token"]
    bought = buy(outputs, token, "jp-weekly-7gb")
    iccid = line_of(outputs, token)
    base = outputs["StripeApiBase"]
    opened = requests.post(f"{base}/_standin/disputes", params={"payment_intent": bought["payment_intent"]}, timeout=10)
    assert opened.status_code == 200, opened.text
    assert wait_for(lambda: order(outputs, token, bought["order_id"])["dispute_status"] == "needs_response", 20)
    assert data_mb(outputs, token) == WEEK_7GB  # an open dispute takes nothing yet
    closed = requests.post(
        f"{base}/_standin/disputes/{opened.json()['id']}/close", params={"status": "lost"}, timeout=10
    )
    assert closed.status_code == 200, closed.text
    lost = status_becomes(outputs, token, bought["order_id"], "refunded")
    assert lost["dispute_status"] == "lost" and lost["taken_back_mb"] == WEEK_7GB
    receipt = call(outputs, "GET", f"/orders/{bought['order_id']}/receipt", token).json()
    assert receipt["dispute_status"] == "lost" and receipt["status"] == "refunded"
    assert data_mb(outputs, token) == 0
    network_settles_at(carrier, iccid, 0)


def _seconds(iso: str) -> float:
    from renewal.domain.timeutil import from_iso

    return from_iso(iso).timestamp()
