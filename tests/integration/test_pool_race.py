"""The first payment takes one pool line, once, under concurrent payments (issue 14, point 3), on
DynamoDB Local: 10 orders of one account without a line are paid at once; every order ends with
the same line, the account holds it, and exactly one line left the pool."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import adapter_environment

ROOT = Path(__file__).resolve().parents[2]
PAYMENTS = 10

# Runs in its own process: the PynamoDB models take their table names from the environment at import.
POOL_SCRIPT = r"""
import json, sys, threading, uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from renewal.adapters.dynamodb import POOL_AVAILABLE, DynamoAccountStore, DynamoLineStore, LineModel
from renewal.adapters.dynamodb_orders import DynamoOrderStore
from renewal.domain.accounts import Account
from renewal.domain.orders import Order, PlanSnapshot
from renewal.usecases.pool import pay_taking_line

PAYMENTS = int(sys.argv[1])
now = datetime.now(UTC)
accounts, lines, orders = DynamoAccountStore(), DynamoLineStore(), DynamoOrderStore()
account_id = f"pool-race-{uuid.uuid4().hex}"
accounts.create(Account(account_id, f"{account_id}@example.com", "en", "UTC", None, now))
pending = []
for n in range(PAYMENTS):
    order = Order(str(uuid.uuid4()), account_id, "", PlanSnapshot("eu-daily-1gb", "EU 1 GB", "EU", 1024, 1),
                  "web", "pending", 369 + n, "EUR", now, session_id=f"cs_{n}")
    orders.create(order)
    pending.append(order)
start = threading.Barrier(PAYMENTS)


def pay(order):
    start.wait()
    return pay_taking_line(orders, accounts, lines, order, {"paid_at": now, "payment_intent": f"pi_{order.order_id}"})


with ThreadPoolExecutor(PAYMENTS) as pool:
    paid = list(pool.map(pay, pending))
held = accounts.get(account_id).account.iccid
taken = [l.iccid for l in LineModel.scan(LineModel.account_id == account_id)]
line = LineModel.get(held, consistent_read=True)
print(json.dumps({
    "statuses": sorted({orders.get(o.order_id).status for o in paid}),
    "iccids": sorted({orders.get(o.order_id).iccid for o in paid}),
    "held": held,
    "taken": taken,
    "still_in_pool": line.pool_state == POOL_AVAILABLE,
}))
"""


@pytest.fixture(autouse=True)
def local_only(is_local: bool) -> None:
    if not is_local:
        pytest.skip("writes the local tables directly")


def test_concurrent_first_payments_take_one_pool_line_once(outputs: dict[str, str]) -> None:
    env = adapter_environment(outputs, "LinesTable", "AccountsTable", "OrdersTable")
    answer = subprocess.run(
        [sys.executable, "-c", POOL_SCRIPT, str(PAYMENTS)], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr[-3000:]
    found = json.loads(answer.stdout.strip().splitlines()[-1])
    assert found["statuses"] == ["paid"]
    assert found["iccids"] == [found["held"]]  # every order has the account's one line
    assert found["taken"] == [found["held"]]  # exactly one line left the pool for this account
    assert found["still_in_pool"] is False
