"""What one renewal writes, on DynamoDB Local: checkout puts the order once with its session,
activation claims the confirmation mail in the transaction that activates the order (or marks a
walk-in's mail sent there), and the claim behaves as `claim_mail`'s does (a lease, released by
the time it was taken)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local.client import call, log_in, sign_up
from tests.support import adapter_environment, pay, wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def local_only(is_local: bool) -> None:
    if not is_local:
        pytest.skip("reads and writes the local tables directly")


def order_item(outputs: dict[str, str], order_id: str) -> dict[str, Any]:
    client = boto3.client(
        "dynamodb",
        endpoint_url=outputs["DynamoDbEndpointUrl"],
        region_name=outputs["Region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    item = client.get_item(
        TableName=f"{outputs['StackName']}-OrdersTable", Key={"order_id": {"S": order_id}}, ConsistentRead=True
    ).get("Item")
    assert item is not None, order_id
    return dict(item)


def test_a_renewal_puts_the_order_with_its_session_and_ends_mailed_once(outputs: dict[str, str]) -> None:
    email, password = f"writes-{time.time_ns()}@example.com", "Pass-word-123"
    sign_up(outputs, email, password)
    token = log_in(outputs, email, password)
    # No GET /account first: checkout makes the account on first sight.
    started = call(outputs, "POST", "/checkout", token, {"plan_id": "eu-daily-1gb", "currency": "EUR"})
    assert started.status_code == 201, started.text
    session = started.json()
    created = order_item(outputs, session["order_id"])
    assert created["status"]["S"] == "pending" and created["session_id"]["S"] == session["session_id"]
    assert pay(session["checkout_url"]).status_code == 303
    activated = wait_for(lambda: (item := order_item(outputs, session["order_id"]))["mail_sent"]["BOOL"] and item, 30)
    assert activated, "the confirmation was not marked sent"
    assert activated["status"]["S"] == "activated" and "mail_claimed_at" in activated
    from infra.local.outbox import sent_mail

    assert len(sent_mail(outputs["AwsEndpointUrl"], email)) == 1
    account = call(outputs, "GET", "/account", token).json()
    assert account["remaining_data_mb"] == 1024 and account["iccid"] == activated["iccid"]["S"]


# Runs in its own process: the PynamoDB models take their table names from the environment at import.
ADAPTER_SCRIPT = r"""
import json, uuid
from datetime import UTC, datetime, timedelta

from renewal.adapters.dynamodb import DynamoAccountStore, LineModel
from renewal.adapters.dynamodb_orders import DynamoEventLog, DynamoOrderStore
from renewal.domain.lines import Bundle
from renewal.domain.orders import Order, PlanSnapshot
from renewal.ports import LineRecord, StaleWrite
from renewal.domain.timeutil import claim_lease

store, now = DynamoOrderStore(mail_claim_lease=claim_lease(60)), datetime.now(UTC).replace(microsecond=123456)
found = {}


def line() -> LineRecord:
    iccid = "89852" + str(uuid.uuid4().int)[:13]
    LineModel(iccid=iccid, pin_hash="x").save()
    return LineRecord(iccid, "x", None)


def paid(iccid: str, email: str) -> Order:
    order = Order(str(uuid.uuid4()), "", iccid, PlanSnapshot("eu-daily-1gb", "EU 1 GB", "EU", 1024, 1),
                  "store", "paid", 369, "EUR", now, email=email, paid_at=now)
    store.create(order)
    return order


bundles = lambda: (Bundle("EU", 1024, now + timedelta(days=1), now, 1024),)

online_line = line()
online = paid(online_line.iccid, "someone@example.com")
claimed_at = now + timedelta(seconds=5)
store.activate(online, online_line, bundles(), {"activated_at": now}, mail_claimed_at=claimed_at)
found["claimed_within_lease"] = store.claim_mail(online.order_id, claimed_at + timedelta(seconds=30))
after = store.get(online.order_id)
found["online_status"], found["online_mail_sent"] = after.status, after.mail_sent
store.release_mail(online.order_id, claimed_at)  # the send failed
found["claimed_after_release"] = store.claim_mail(online.order_id, claimed_at + timedelta(seconds=30))
try:
    store.activate(online, LineRecord(online_line.iccid, "x", None, version=1), bundles(), {})
    found["activated_twice"] = True
except StaleWrite:
    found["activated_twice"] = False

walk_in_line = line()
walk_in = paid(walk_in_line.iccid, "")
store.activate(walk_in, walk_in_line, bundles(), {"activated_at": now, "mail_sent": True})
found["walk_in_mail_sent"] = store.get(walk_in.order_id).mail_sent
found["walk_in_claimable"] = store.claim_mail(walk_in.order_id, now + timedelta(minutes=5))

events = DynamoEventLog()
event_id = "evt_" + uuid.uuid4().hex
found["event_seen_before"] = events.seen(event_id)
events.record(event_id, "checkout.session.completed")
events.record(event_id, "checkout.session.completed")  # a concurrent duplicate: fine
found["event_seen_after"] = events.seen(event_id)
found["unknown_account"] = DynamoAccountStore().get("nobody-" + uuid.uuid4().hex, consistent=False)
print(json.dumps(found))
"""


def test_the_activation_transaction_claims_the_mail_as_claim_mail_would(outputs: dict[str, str]) -> None:
    env = adapter_environment(outputs, "OrdersTable", "LinesTable", "AccountsTable", "PaymentEventsTable")
    answer = subprocess.run(
        [sys.executable, "-c", ADAPTER_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    found = json.loads(answer.stdout.strip().splitlines()[-1])
    assert found == {
        "claimed_within_lease": False,  # the activation's claim holds off a duplicate delivery
        "online_status": "activated",
        "online_mail_sent": False,
        "claimed_after_release": True,  # released by the time the activation took it
        "activated_twice": False,
        "walk_in_mail_sent": True,
        "walk_in_claimable": False,
        "event_seen_before": False,
        "event_seen_after": True,
        "unknown_account": None,
    }
