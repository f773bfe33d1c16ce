"""The renewal pipeline against the local stack, whatever Stripe, SQS or the network do:
duplicates, concurrency, declines, async payments, expiry, mismatches, refunds, bad signatures."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
import stripe

from infra.local.client import call, log_in, sign_up
from tests.support import pay, wait_for

PAYMENT_DEADLINE_S = 30  # a deadline, not a speed claim: CI machines are shared


@pytest.fixture(autouse=True)
def local_only(is_local: bool) -> None:
    if not is_local:
        pytest.skip("these drive the local Stripe stand-in and read the local tables")


# ---------------------------------------------------------------- helpers
def local_client(outputs: dict[str, str], service: str) -> Any:
    endpoint = outputs["DynamoDbEndpointUrl"] if service == "dynamodb" else outputs["AwsEndpointUrl"]
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=outputs["Region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def snapshot(outputs: dict[str, str]) -> dict[str, list[str]]:
    """Every item of every table of this stack, for "nothing was written" checks."""
    client = local_client(outputs, "dynamodb")
    tables = [t for t in client.list_tables()["TableNames"] if t.startswith(outputs["StackName"] + "-")]
    found = {}
    for table in tables:
        items = [
            json.dumps(i, sort_keys=True)
            for page in client.get_paginator("scan").paginate(TableName=table)
            for i in page["Items"]
        ]
        found[table] = sorted(items)
    return found


def stripe_client(outputs: dict[str, str]) -> stripe.StripeClient:
    return stripe.StripeClient(outputs["StripeSecretKey"], base_addresses={"api": outputs["StripeApiBase"]})


def order(outputs: dict[str, str], token: str, order_id: str) -> dict[str, Any]:
    answer = call(outputs, "GET", f"/orders/{order_id}", token)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def status_becomes(outputs: dict[str, str], token: str, order_id: str, status: str) -> dict[str, Any]:
    found = wait_for(lambda: (o := order(outputs, token, order_id))["status"] == status and o, PAYMENT_DEADLINE_S)
    assert found, f"order {order_id} is {order(outputs, token, order_id)['status']}, expected {status}"
    return dict(found)


def checkout(
    outputs: dict[str, str], token: str, plan_id: str = "eu-daily-1gb", currency: str = "EUR"
) -> dict[str, Any]:
    answer = call(outputs, "POST", "/checkout", token, {"plan_id": plan_id, "currency": currency})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def signed(outputs: dict[str, str], payload: str, timestamp: int | None = None) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(
        payload, outputs["StripeWebhookSecret"], timestamp=timestamp or int(time.time())
    )
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


@pytest.fixture
def customer(outputs: dict[str, str]) -> dict[str, str]:
    email, password = f"renew-{time.time_ns()}@example.com", "Pass-word-123"
    sign_up(outputs, email, password)
    token = log_in(outputs, email, password)
    assert call(outputs, "GET", "/account", token).status_code == 200
    return {"email": email, "token": token}


def delivered_event(outputs: dict[str, str], session_id: str, event_type: str) -> dict[str, Any]:
    """The event the stand-in sent for this session (its test-support listing)."""
    listing = requests.get(
        f"{outputs['StripeApiBase']}/_standin/events", params={"type": event_type, "stream": session_id}, timeout=10
    ).json()["data"]
    assert len(listing) == 1, listing
    return dict(listing[0]["event"])


def event_state(outputs: dict[str, str], session_id: str, event_type: str) -> str | None:
    """The delivery state (pending, delivered, failed, not_sent) of the stand-in's event, if sent."""
    listing = requests.get(
        f"{outputs['StripeApiBase']}/_standin/events", params={"type": event_type, "stream": session_id}, timeout=10
    ).json()["data"]
    return str(listing[0]["state"]) if listing else None


def set_webhook_url(outputs: dict[str, str], url: str | None) -> None:
    answer = requests.post(f"{outputs['StripeApiBase']}/_standin/webhook", params={"url": url or ""}, timeout=10)
    assert answer.status_code == 200


# ---------------------------------------------------------------- the paths
def test_paid_renewal_activates_once_and_mails_once(outputs: dict[str, str], customer: dict[str, str]) -> None:
    session = checkout(outputs, customer["token"])
    assert pay(session["checkout_url"]).status_code == 303
    done = status_becomes(outputs, customer["token"], session["order_id"], "activated")
    account = call(outputs, "GET", "/account", customer["token"]).json()
    assert account["remaining_data_mb"] == 1024
    assert done["paid_at"] and done["activated_at"]


def test_the_same_event_five_times_at_once_applies_once(outputs: dict[str, str], customer: dict[str, str]) -> None:
    session = checkout(outputs, customer["token"])
    pay(session["checkout_url"])
    status_becomes(outputs, customer["token"], session["order_id"], "activated")
    payload = json.dumps(delivered_event(outputs, session["session_id"], "checkout.session.completed"))
    answers: list[int] = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(
                requests.post(
                    outputs["WebhookUrl"], data=payload, headers=signed(outputs, payload), timeout=30
                ).status_code
            )
        )
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(200 <= a < 300 for a in answers), answers
    time.sleep(2)
    assert call(outputs, "GET", "/account", customer["token"]).json()["remaining_data_mb"] == 1024


def test_twenty_concurrent_renewals_of_one_line_all_count(outputs: dict[str, str], customer: dict[str, str]) -> None:
    """The first plan online (its payment takes the line), then 20 counter sales of that line at
    once (a customer has at most 3 open checkouts): activation counts each once."""
    first_order = checkout(outputs, customer["token"], "eu-daily-1gb", "EUR")
    pay(first_order["checkout_url"])
    status_becomes(outputs, customer["token"], first_order["order_id"], "activated")
    iccid = call(outputs, "GET", "/account", customer["token"]).json()["iccid"]
    staff = log_in(outputs, outputs["DemoStaffEmail"], outputs["DemoStaffPassword"])
    sale = {"iccid": iccid, "plan_id": "eu-daily-1gb", "currency": "HKD", "cash_received": 3100}
    sold: list[dict[str, Any]] = []

    def sell(n: int) -> None:
        answer = requests.post(
            outputs["ApiUrl"].rstrip("/") + "/store/renewals",
            json=sale,
            headers={"Authorization": f"Bearer {staff}", "Idempotency-Key": f"r20-{iccid}-{n}"},
            timeout=60,
        )
        assert answer.status_code == 201, answer.text
        sold.append(answer.json())

    threads = [threading.Thread(target=sell, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    orders = [first_order["order_id"], *(s["order_id"] for s in sold)]
    assert len(orders) == 21
    for order_id in orders:
        status_becomes(outputs, customer["token"], order_id, "activated")
    account = call(outputs, "GET", "/account", customer["token"]).json()
    assert account["remaining_data_mb"] == 21 * 1024
    first = min(datetime.fromisoformat(order(outputs, customer["token"], o)["activated_at"]) for o in orders)
    assert datetime.fromisoformat(account["expires_at"]) - first == timedelta(days=21)


def test_declined_card_changes_nothing(outputs: dict[str, str], customer: dict[str, str]) -> None:
    session = checkout(outputs, customer["token"])
    assert pay(session["checkout_url"], "declined").status_code == 402
    time.sleep(1.5)
    assert order(outputs, customer["token"], session["order_id"])["status"] == "pending"
    assert call(outputs, "GET", "/account", customer["token"]).json()["remaining_data_mb"] == 0


def test_async_success_activates_and_async_failure_fails(outputs: dict[str, str], customer: dict[str, str]) -> None:
    good = checkout(outputs, customer["token"])
    bad = checkout(outputs, customer["token"], currency="USD")  # another checkout, not the open one again
    pay(good["checkout_url"], "async_succeeded")
    pay(bad["checkout_url"], "async_failed")
    status_becomes(outputs, customer["token"], good["order_id"], "activated")
    status_becomes(outputs, customer["token"], bad["order_id"], "failed")
    assert call(outputs, "GET", "/account", customer["token"]).json()["remaining_data_mb"] == 1024


def test_expired_session_expires_the_order(outputs: dict[str, str], customer: dict[str, str]) -> None:
    session = checkout(outputs, customer["token"])
    stripe_client(outputs).v1.checkout.sessions.expire(session["session_id"])
    status_becomes(outputs, customer["token"], session["order_id"], "expired")


def test_cancel_expires_the_session_at_stripe_and_the_order(outputs: dict[str, str], customer: dict[str, str]) -> None:
    session = checkout(outputs, customer["token"])
    assert order(outputs, customer["token"], session["order_id"])["checkout_url"] == session["checkout_url"]
    cancelled = call(outputs, "POST", f"/orders/{session['order_id']}/cancel", customer["token"])
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["checkout_url"]) == ("expired", None)
    assert stripe_client(outputs).v1.checkout.sessions.retrieve(session["session_id"]).status == "expired"
    assert pay(session["checkout_url"]).status_code == 400  # nothing can be paid through it any more
    again = call(outputs, "POST", f"/orders/{session['order_id']}/cancel", customer["token"])
    assert again.status_code == 200 and again.json() == cancelled.json()
    # Stripe's checkout.session.expired comes after the cancel's answer and changes nothing
    assert wait_for(lambda: event_state(outputs, session["session_id"], "checkout.session.expired") == "delivered", 10)
    assert order(outputs, customer["token"], session["order_id"]) == cancelled.json()


def test_a_session_the_stand_in_expires_by_itself_expires_the_order(
    outputs: dict[str, str], customer: dict[str, str]
) -> None:
    """Nobody cancels: the session's time runs out at Stripe and its checkout.session.expired
    webhook moves the order."""
    session = checkout(outputs, customer["token"])
    lapsed = requests.post(f"{outputs['StripeApiBase']}/_standin/sessions/{session['session_id']}/lapse", timeout=10)
    assert lapsed.status_code == 200, lapsed.text
    expired = status_becomes(outputs, customer["token"], session["order_id"], "expired")
    assert expired["checkout_url"] is None
    event = delivered_event(outputs, session["session_id"], "checkout.session.expired")
    assert event["request"]["id"] is None  # the stand-in's own sweep, not an API call
    refused = call(outputs, "POST", f"/orders/{session['order_id']}/cancel", customer["token"])
    assert refused.status_code == 200 and refused.json()["status"] == "expired"


def test_paying_then_cancelling_before_the_webhook_is_409_and_the_order_activates(
    outputs: dict[str, str], customer: dict[str, str]
) -> None:
    """The customer pays on the hosted page and cancels in another tab before Stripe's webhook
    arrives: the cancel finds the session complete, fulfils it and answers 409."""
    session = checkout(outputs, customer["token"])
    set_webhook_url(outputs, None)  # Stripe is late with the webhook
    try:
        assert pay(session["checkout_url"]).status_code == 303
        assert order(outputs, customer["token"], session["order_id"])["status"] == "pending"
        refused = call(outputs, "POST", f"/orders/{session['order_id']}/cancel", customer["token"])
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "order_already_paid"
        assert order(outputs, customer["token"], session["order_id"])["status"] in ("paid", "activated")
    finally:
        set_webhook_url(outputs, outputs["WebhookUrl"])
    done = status_becomes(outputs, customer["token"], session["order_id"], "activated")
    assert done["checkout_url"] is None
    assert stripe_client(outputs).v1.checkout.sessions.retrieve(session["session_id"]).status == "complete"
    assert call(outputs, "GET", "/account", customer["token"]).json()["remaining_data_mb"] == 1024


def test_sync_fulfils_without_the_webhook(outputs: dict[str, str], customer: dict[str, str]) -> None:
    """What the success page does: re-read the payment from Stripe."""
    session = checkout(outputs, customer["token"])
    set_webhook_url(outputs, None)  # Stripe is late with the webhook
    try:
        pay(session["checkout_url"])
        assert order(outputs, customer["token"], session["order_id"])["status"] == "pending"
        synced = call(outputs, "POST", f"/orders/{session['order_id']}/sync", customer["token"])
        assert synced.status_code == 200
        assert synced.json()["status"] in ("paid", "activated")
        status_becomes(outputs, customer["token"], session["order_id"], "activated")
    finally:
        set_webhook_url(outputs, outputs["WebhookUrl"])


def test_refunds_partial_then_full(outputs: dict[str, str], customer: dict[str, str]) -> None:
    session = checkout(outputs, customer["token"], "eu-weekly-5gb", "EUR")
    pay(session["checkout_url"])
    status_becomes(outputs, customer["token"], session["order_id"], "activated")
    client = stripe_client(outputs)
    paid = client.v1.checkout.sessions.retrieve(session["session_id"])
    amount = int(paid.amount_total or 0)
    payment_intent = str(paid.payment_intent)
    assert amount > 0 and payment_intent.startswith("pi_")
    client.v1.refunds.create(params={"payment_intent": payment_intent, "amount": amount // 4})
    partial = wait_for(
        lambda: (o := order(outputs, customer["token"], session["order_id"]))["refunded_amount"] == amount // 4 and o,
        PAYMENT_DEADLINE_S,
    )
    assert partial and partial["status"] == "activated"
    assert (
        call(outputs, "GET", "/account", customer["token"]).json()["remaining_data_mb"]
        == 5120 - 5120 * (amount // 4) // amount
    )  # the same share of unused data
    client.v1.refunds.create(params={"payment_intent": payment_intent})
    status_becomes(outputs, customer["token"], session["order_id"], "refunded")
    assert call(outputs, "GET", "/account", customer["token"]).json()["remaining_data_mb"] == 0


def test_the_same_activation_message_again_changes_nothing(outputs: dict[str, str], customer: dict[str, str]) -> None:
    """SQS delivers at least once, and a worker may die after its commit and before deleting
    the message: the message then comes again. Either way the plan counts once."""
    session = checkout(outputs, customer["token"])
    pay(session["checkout_url"])
    status_becomes(outputs, customer["token"], session["order_id"], "activated")
    sqs = local_client(outputs, "sqs")
    for _ in range(2):
        sqs.send_message(
            QueueUrl=outputs["ActivationQueueUrl"], MessageBody=json.dumps({"order_id": session["order_id"]})
        )
    wait_for(
        lambda: (
            sqs.get_queue_attributes(QueueUrl=outputs["ActivationQueueUrl"], AttributeNames=["All"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
            == "0"
        ),
        10,
    )
    time.sleep(1)
    assert call(outputs, "GET", "/account", customer["token"]).json()["remaining_data_mb"] == 1024
    from infra.local.outbox import sent_mail

    assert len(sent_mail(outputs["AwsEndpointUrl"], customer["email"])) == 1


def test_a_paid_session_that_does_not_match_the_order_goes_to_review(
    outputs: dict[str, str], customer: dict[str, str]
) -> None:
    """A session paid for less than our order (made outside our checkout) never activates."""
    ours = checkout(outputs, customer["token"], "eu-monthly-20gb", "EUR")
    account_id = call(outputs, "GET", "/account", customer["token"]).json()["account_id"]
    cheap = stripe_client(outputs).v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [
                {"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 1, "product_data": {"name": "x"}}}
            ],
            "client_reference_id": ours["order_id"],
            "metadata": {"order_id": ours["order_id"], "account_id": account_id},
            "success_url": "http://127.0.0.1/ok",
        }
    )
    pay(str(cheap.url))
    reviewed = status_becomes(outputs, customer["token"], ours["order_id"], "review")
    assert reviewed["activated_at"] is None
    assert call(outputs, "GET", "/account", customer["token"]).json()["remaining_data_mb"] == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Stripe-Signature": "t=1,v1=deadbeef"},
        "stale",
        "wrong-secret",
    ],
    ids=["missing", "garbage", "stale", "wrong-secret"],
)
def test_bad_signatures_are_400_and_write_nothing(outputs: dict[str, str], headers: Any) -> None:
    payload = json.dumps(
        {"id": f"evt_{time.time_ns()}", "object": "event", "type": "checkout.session.completed", "data": {"object": {}}}
    )
    if headers == "stale":
        headers = signed(outputs, payload, timestamp=int(time.time()) - 301)
    elif headers == "wrong-secret":
        headers = {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(payload, "whsec_other")}
    before = snapshot(outputs)
    answer = requests.post(outputs["WebhookUrl"], data=payload, headers=headers, timeout=30)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"]
    assert snapshot(outputs) == before


@pytest.mark.parametrize("body", ["{not json", "[]", '{"type": "checkout.session.completed"}'])
def test_malformed_but_signed_bodies_write_nothing(outputs: dict[str, str], body: str) -> None:
    before = snapshot(outputs)
    answer = requests.post(outputs["WebhookUrl"], data=body, headers=signed(outputs, body), timeout=30)
    assert answer.status_code == 400
    assert snapshot(outputs) == before


def test_unknown_event_types_are_acknowledged_and_ignored(outputs: dict[str, str]) -> None:
    payload = json.dumps(
        {
            "id": f"evt_{time.time_ns()}",
            "object": "event",
            "type": "customer.created",
            "data": {"object": {"id": "cus_1"}},
        }
    )
    assert (
        requests.post(outputs["WebhookUrl"], data=payload, headers=signed(outputs, payload), timeout=30).status_code
        == 200
    )


def test_idempotency_key_replays_the_first_answer(outputs: dict[str, str], customer: dict[str, str]) -> None:
    key = f"key-{time.time_ns()}"
    headers = {"Authorization": f"Bearer {customer['token']}", "Idempotency-Key": key}
    body = {"plan_id": "eu-daily-1gb", "currency": "EUR"}
    first = requests.post(f"{outputs['ApiUrl']}/checkout", json=body, headers=headers, timeout=30)
    again = requests.post(f"{outputs['ApiUrl']}/checkout", json=body, headers=headers, timeout=30)
    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.json() == first.json()
    other = requests.post(
        f"{outputs['ApiUrl']}/checkout", json={**body, "currency": "USD"}, headers=headers, timeout=30
    )
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert len(call(outputs, "GET", "/orders", customer["token"]).json()["orders"]) == 1


def test_a_poison_message_ends_in_the_dead_letter_queue(outputs: dict[str, str]) -> None:
    sqs = local_client(outputs, "sqs")
    sqs.send_message(QueueUrl=outputs["ActivationQueueUrl"], MessageBody="not an activation")

    def in_dead_letters() -> bool:
        found = sqs.receive_message(QueueUrl=outputs["ActivationDeadLetterQueueUrl"], WaitTimeSeconds=1).get(
            "Messages", []
        )
        return any(m["Body"] == "not an activation" for m in found)

    # the local stack overrides the receives to 3 and the visibility timeout to 5 s
    assert wait_for(in_dead_letters, 40)
