"""Activation through the carrier simulator, against the local stack: an outage while orders are
paid, a slow carrier, a refusal, duplicate deliveries, and reconciliation mending what was lost."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests

from infra.local.client import call, log_in, new_credentials, sign_up
from infra.redrive import redrive
from tests.support import buy_plan, pay, wait_for

OUTAGE_S = 60


@pytest.fixture(autouse=True)
def local_only(is_local: bool) -> None:
    if not is_local:
        pytest.skip("drives the local carrier simulator and Stripe stand-in")


@pytest.fixture
def carrier(outputs: dict[str, str]) -> Iterator[str]:
    """The simulator's URL; its knobs are back to normal after each test."""
    url = outputs["CarrierUrl"]
    yield url
    requests.post(
        f"{url}/_sim/knobs", json={"down": False, "latency_ms": 0, "error_rate": 0, "timeout_rate": 0}, timeout=10
    )


def knobs(carrier: str, **changes: Any) -> None:
    assert requests.post(f"{carrier}/_sim/knobs", json=changes, timeout=10).status_code == 200


def carrier_stats(carrier: str) -> dict[str, dict[str, int]]:
    return dict(requests.get(f"{carrier}/_sim/stats", timeout=10).json())


def network_line(carrier: str, iccid: str) -> dict[str, Any]:
    return dict(requests.get(f"{carrier}/_sim/lines/{iccid}", timeout=10).json())


def sqs(outputs: dict[str, str]) -> Any:
    return boto3.client("sqs", endpoint_url=outputs["AwsEndpointUrl"], region_name=outputs["Region"],
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip


def drain(client: Any, queue_url: str) -> list[str]:
    """Deletes every message of the queue (PurgeQueue allows one call a minute); their order ids."""
    taken: list[str] = []
    while batch := client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages"
    ):
        taken += [json.loads(m["Body"]).get("order_id", "") for m in batch]
        client.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)],
        )
    return taken


def customer(outputs: dict[str, str]) -> dict[str, Any]:
    email, password = new_credentials("carrier")
    sign_up(outputs, email, password)
    token = log_in(outputs, email, password)
    return {"email": email, "token": token}


def line_of(outputs: dict[str, str], person: dict[str, Any]) -> str:
    """The person's line: taken from the pool by their first payment (none before it)."""
    iccid = call(outputs, "GET", "/account", person["token"]).json()["iccid"]
    assert iccid, "no line yet: the first payment takes one"
    return str(iccid)


def paid_order(outputs: dict[str, str], token: str, plan_id: str = "eu-daily-1gb", currency: str = "EUR") -> str:
    started = call(outputs, "POST", "/checkout", token, {"plan_id": plan_id, "currency": currency})
    assert started.status_code == 201, started.text
    assert pay(started.json()["checkout_url"]).status_code == 303
    return str(started.json()["order_id"])


def status(outputs: dict[str, str], token: str, order_id: str) -> str:
    return str(call(outputs, "GET", f"/orders/{order_id}", token).json()["status"])


def reconcile(outputs: dict[str, str], now: datetime | None = None) -> dict[str, Any]:
    body = {"now": (now or datetime.now(UTC)).isoformat()}
    answer = requests.post(
        f"{outputs['LocalControlUrl']}/schedules/ReconcileFunction-Reconcile/run", json=body, timeout=120
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["result"])


def test_the_carrier_down_for_a_minute_while_50_orders_are_paid(outputs: dict[str, str], carrier: str) -> None:
    # 25 people, two orders each in two currencies (a checkout for a plan and currency already open
    # answers that session): each person's two first payments race for one pool line.
    with ThreadPoolExecutor(max_workers=6) as pool:
        people = list(pool.map(lambda _: customer(outputs), range(25)))
    knobs(carrier, down=True)
    outage_began = time.monotonic()

    def one(n: int) -> tuple[dict[str, Any], str]:
        person = people[n % 25]
        return person, paid_order(outputs, person["token"], currency="EUR" if n < 25 else "USD")

    with ThreadPoolExecutor(max_workers=6) as pool:
        orders = list(pool.map(one, range(50)))
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - outage_began)))
    assert all(status(outputs, p["token"], o) == "paid" for p, o in orders), (
        "nothing activates while the carrier is down"
    )
    knobs(carrier, down=False)

    # After the outage: re-drive what reached the dead-letter queue (README "Recovery"), then let
    # reconciliation re-queue whatever still waits.
    moved = redrive(sqs(outputs), outputs["ActivationDeadLetterQueueUrl"], outputs["ActivationQueueUrl"])
    report = reconcile(outputs, datetime.now(UTC) + timedelta(minutes=2))
    print(f"redriven {moved}, re-queued {len(report['requeued'])}")
    done = wait_for(lambda: all(status(outputs, p["token"], o) == "activated" for p, o in orders), 60)
    assert done, [status(outputs, p["token"], o) for p, o in orders]

    applied = carrier_stats(carrier)["applied"]
    assert all(applied.get(o) == 1 for _, o in orders), "each order reached the network exactly once"
    for person in people:  # the network's view equals ours
        account = call(outputs, "GET", "/account", person["token"]).json()
        network = network_line(carrier, account["iccid"])
        mine = {o for p, o in orders if p is person}
        assert mine <= set(network["orders"])
        (ours,) = account["bundles"]
        (theirs,) = network["bundles"]
        assert ours["remaining_data_mb"] == theirs["data_mb"] == 2 * 1024  # two orders each
        drift = abs(datetime.fromisoformat(ours["expires_at"][:-1]) - datetime.fromisoformat(theirs["expires_at"][:-1]))
        assert drift < timedelta(minutes=15)


def test_a_slow_carrier_within_the_timeout_activates_at_the_first_try(outputs: dict[str, str], carrier: str) -> None:
    person = customer(outputs)
    knobs(carrier, latency_ms=2000)  # the adapter's timeout is 5 s
    order_id = paid_order(outputs, person["token"])
    assert wait_for(lambda: status(outputs, person["token"], order_id) == "activated", 20)
    assert carrier_stats(carrier)["add_requests"][order_id] == 1


def test_a_refusal_moves_the_order_to_review_and_credits_nothing(outputs: dict[str, str], carrier: str) -> None:
    person = customer(outputs)
    knobs(carrier, down=True)  # hold activation back until the line the payment takes is known
    try:
        order_id = paid_order(outputs, person["token"])
        assert wait_for(lambda: status(outputs, person["token"], order_id) == "paid", 20)
        iccid = line_of(outputs, person)
        knobs(carrier, refuse={iccid: "line_lapsed"}, down=False)
        assert wait_for(lambda: status(outputs, person["token"], order_id) == "review", 20)
    finally:
        knobs(carrier, down=False)
        knobs(carrier, refuse={iccid: None})
    assert call(outputs, "GET", "/account", person["token"]).json()["remaining_data_mb"] == 0
    assert order_id not in carrier_stats(carrier)["applied"]


def test_duplicate_deliveries_give_the_carrier_one_bundle_per_order(outputs: dict[str, str], carrier: str) -> None:
    person = customer(outputs)
    knobs(carrier, latency_ms=1000)  # so the duplicates overlap the first delivery
    order_id = paid_order(outputs, person["token"])
    client = sqs(outputs)
    for _ in range(4):
        client.send_message(QueueUrl=outputs["ActivationQueueUrl"], MessageBody=json.dumps({"order_id": order_id}))
    assert wait_for(lambda: status(outputs, person["token"], order_id) == "activated", 20)
    time.sleep(3)  # let the duplicates finish
    assert carrier_stats(carrier)["applied"][order_id] == 1
    assert call(outputs, "GET", "/account", person["token"]).json()["remaining_data_mb"] == 1024
    assert network_line(carrier, line_of(outputs, person))["bundles"][0]["data_mb"] == 1024


def test_reconciliation_mends_lost_messages_and_webhooks_and_flags_what_the_network_lacks(
    outputs: dict[str, str], carrier: str
) -> None:
    client = sqs(outputs)
    # An order left `paid` with its message lost (a crash between payment and activation).
    crashed = customer(outputs)
    drain(client, outputs["ActivationDeadLetterQueueUrl"])  # earlier tests' leftovers
    knobs(carrier, down=True)
    stuck = paid_order(outputs, crashed["token"])
    assert wait_for(lambda: client.get_queue_attributes(  # its message gives up and is dead-lettered...
        QueueUrl=outputs["ActivationDeadLetterQueueUrl"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"] != "0", 40)  # fmt: skip
    assert stuck in drain(client, outputs["ActivationDeadLetterQueueUrl"])  # ... and is lost
    knobs(carrier, down=False)

    # An order paid at Stripe whose webhook never arrived.
    unheard = customer(outputs)
    standin = outputs["StripeApiBase"]
    requests.post(f"{standin}/_standin/webhook", timeout=10)  # pause deliveries
    try:
        lost = paid_order(outputs, unheard["token"])
        time.sleep(1)
        assert status(outputs, unheard["token"], lost) == "pending"
    finally:
        requests.post(f"{standin}/_standin/webhook", params={"url": outputs["WebhookUrl"]}, timeout=10)

    # A bundle the network lost.
    forgotten = customer(outputs)
    buy_plan(outputs, forgotten["token"], "eu-weekly-5gb")
    forgotten["iccid"] = line_of(outputs, forgotten)
    requests.post(f"{carrier}/_sim/forget", json={"iccid": forgotten["iccid"], "region": "EU"}, timeout=10)

    report = reconcile(outputs, datetime.now(UTC) + timedelta(minutes=2))
    assert stuck in report["requeued"]
    assert report["pool_available"] > 0  # the seeded online pool, counted on its sparse index (PoolLinesAvailable)
    assert lost in report["fulfilled"]
    flagged = {(f["kind"], f["iccid"]) for f in report["flagged"]}
    assert ("network_missing_bundle", forgotten["iccid"]) in flagged
    assert not any(iccid in (line_of(outputs, crashed), line_of(outputs, unheard)) for _, iccid in flagged)
    assert wait_for(lambda: status(outputs, crashed["token"], stuck) == "activated", 20)
    assert wait_for(lambda: status(outputs, unheard["token"], lost) == "activated", 20)
    assert carrier_stats(carrier)["applied"][stuck] == 1

    again = reconcile(outputs, datetime.now(UTC) + timedelta(minutes=2))
    assert stuck not in again["requeued"] and lost not in again["fulfilled"]
    assert ("network_missing_bundle", forgotten["iccid"]) in {(f["kind"], f["iccid"]) for f in again["flagged"]}


def test_the_network_reports_usage_and_the_low_data_alert_arrives(outputs: dict[str, str], carrier: str) -> None:
    from infra.local.outbox import sent_mail

    person = customer(outputs)
    buy_plan(outputs, person["token"], "eu-daily-1gb")  # 1,024 MB
    person["iccid"] = line_of(outputs, person)
    pushed = requests.post(
        f"{carrier}/_sim/usage", json={"iccid": person["iccid"], "country": "FR", "data_mb": 800}, timeout=30
    )
    assert pushed.status_code == 202, pushed.text
    assert pushed.json()["answer"]["applied"] == 1
    assert call(outputs, "GET", "/account", person["token"]).json()["remaining_data_mb"] == 224
    assert network_line(carrier, person["iccid"])["bundles"][0]["data_mb"] == 224
    subjects = lambda: [str(m["subject"]) for m in sent_mail(outputs["AwsEndpointUrl"], person["email"])]  # noqa: E731
    assert wait_for(lambda: "You have used 75% of your Europe data" in subjects(), 20), subjects()
