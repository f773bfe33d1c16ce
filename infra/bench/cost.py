"""Point 4, cost per renewal: `renewals` whole renewals one after another (checkout, payment on
the Stripe stand-in, which delivers the webhook, activation and its mail), each in its own time
window, and everything the three functions did in it from the workers' call log: DynamoDB read
and write request units as DynamoDB (Local) reported them, SQS requests, Lambda invocations and
billed GB-seconds. Then dollars per million renewals at list prices (prices.py).

The floor is what the domain's rules (docs/domain.md) strictly need, each needed operation priced at what the
same operation cost in this run (so item sizes and index writes count alike on both sides):
reads of the account (eventually consistent: half of what it cost), the order when the payment
arrives and the line when the plan is applied; writes of the order (created pending, then
paid), the payment event (recorded once) and the one transaction that activates the order and
changes the line's bundles."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from infra.bench.client import Api
from infra.bench.latency import activated_orders, settle
from infra.bench.local import BenchStack, function_of, read_calls
from infra.bench.prices import PRICES, RenewalUsage, dollars_per_million, price_table
from infra.bench.stats import billed_gb_seconds, ratio

FUNCTIONS = ("CheckoutFunction", "WebhookFunction", "ActivateFunction")


def measure(
    stack: BenchStack,
    renewals: int = 20,
    memory_mb: int = 512,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    api = Api(stack.outputs)
    api.set_webhook_url(stack.outputs["WebhookUrl"])
    settle(stack, log)  # nothing of the earlier stages still running in the windows
    buyer = api.customer("cost")
    windows: list[tuple[str, float, float]] = []
    for n in range(renewals + 1):  # the first one warms the instances up and is not counted
        started = time.time()
        session = api.checkout(buyer["token"])
        api.pay(session["checkout_url"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            calls = read_calls(stack.call_log)
            if session["order_id"] in activated_orders(calls) and _mail_done(calls, started):
                break
            time.sleep(0.1)
        time.sleep(0.5)  # the mail's `sent` mark and the call-log lines
        if n > 0:
            windows.append((session["order_id"], started, time.time()))
    calls = read_calls(stack.call_log)
    per: list[dict[str, Any]] = []
    for _order_id, start, end in windows:
        mine = [c for c in calls if start <= c["start"] <= end and function_of(c["fn"]) in FUNCTIONS]
        per.append(_usage(mine, memory_mb))
    mean = {k: sum(p[k] for p in per) / len(per) for k in per[0] if isinstance(per[0][k], int | float)}
    operations = _operations(per)
    floor = _floor(operations)
    sqs_estimated = mean["sqs_sent"] + 2 * mean["activate_invocations"]  # the event source's receive + delete
    usage = RenewalUsage(
        rru=mean["rru"],
        wru=mean["wru"],
        sqs_requests=sqs_estimated,
        lambda_requests=mean["invocations"],
        lambda_gb_seconds=mean["gb_seconds"],
        api_requests=2,  # POST /checkout and the webhook
        emails=mean["emails"],
    )
    dollars = dollars_per_million(usage)
    return {
        "renewals": len(per),
        "per_renewal": mean,
        "operations": operations,
        "floor": floor,
        "ratio_rru": ratio(mean["rru"], floor["rru"]),
        "ratio_wru": ratio(mean["wru"], floor["wru"]),
        "ratio_request_units": ratio(mean["rru"] + mean["wru"], floor["rru"] + floor["wru"]),
        "goal_ratio": 1.2,
        "usage": usage.__dict__,
        "sqs_note": "SendMessage counted from the call log; the event source's ReceiveMessage and "
        "DeleteMessageBatch estimated as one each per activate invocation (idle long polls not counted)",
        "dollars_per_million": dollars,
        "floor_dynamodb_dollars_per_million": floor["rru"] * PRICES["dynamodb_rru"].per_unit * 1e6
        + floor["wru"] * PRICES["dynamodb_wru"].per_unit * 1e6,
        "prices": price_table(PRICES),
    }


def _mail_done(calls: list[dict[str, Any]], since: float) -> bool:
    return any(
        c["t"] == "call"
        and c["op"] == "SendEmail"
        and c["start"] >= since
        and function_of(c["fn"]) == "ActivateFunction"
        for c in calls
    )


def _usage(calls: list[dict[str, Any]], memory_mb: int) -> dict[str, Any]:
    invocations = [c for c in calls if c["t"] == "inv"]
    sdk = [c for c in calls if c["t"] == "call"]
    ddb = [c for c in sdk if c["svc"] == "dynamodb"]
    activate = [c for c in invocations if function_of(c["fn"]) == "ActivateFunction"]
    ops: dict[str, dict[str, float]] = {}
    for c in ddb:
        key = f"{function_of(c['fn'])} {c['op']}"
        entry = ops.setdefault(key, {"calls": 0, "rru": 0.0, "wru": 0.0})
        entry["calls"] += 1
        entry["rru"] += c.get("rru") or 0.0
        entry["wru"] += c.get("wru") or 0.0
    return {
        "rru": sum(c.get("rru") or 0.0 for c in ddb),
        "wru": sum(c.get("wru") or 0.0 for c in ddb),
        "dynamodb_calls": len(ddb),
        "dynamodb_errors": sum(1 for c in ddb if c.get("err")),
        "sqs_sent": sum(1 for c in sdk if c["svc"] == "sqs"),
        "secrets_calls": sum(1 for c in sdk if c["svc"] == "secretsmanager"),
        "emails": sum(1 for c in sdk if c["op"] == "SendEmail" and not c.get("err")),
        "invocations": len(invocations),
        "activate_invocations": len(activate),
        "handler_ms": sum(c["ms"] for c in invocations),
        "gb_seconds": billed_gb_seconds([c["ms"] for c in invocations], memory_mb),
        "activate_gb_seconds": billed_gb_seconds([c["ms"] for c in activate], memory_mb),
        "ops": ops,
    }


def _operations(per: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean calls and units per renewal of each (function, operation)."""
    keys = {k for p in per for k in p["ops"]}
    found = {}
    for key in sorted(keys):
        found[key] = {
            field: sum(p["ops"].get(key, {}).get(field, 0.0) for p in per) / len(per)
            for field in ("calls", "rru", "wru")
        }
    return found


def _unit(operations: dict[str, dict[str, float]], key: str, field: str) -> float:
    entry = operations.get(key)
    if not entry or not entry["calls"]:
        return 0.0
    return entry[field] / entry["calls"]


def _floor(operations: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The domain's strict needs, each at what the same kind of call cost here (see the module)."""
    get_read = _unit(operations, "CheckoutFunction GetItem", "rru")  # a strongly consistent GetItem
    reads = {
        "the account, to know the line (eventually consistent)": 0.5 * get_read,
        "the order, to match the payment (strongly consistent)": _unit(operations, "WebhookFunction GetItem", "rru"),
        "the line's bundles, to apply the plan": _unit(operations, "ActivateFunction GetItem", "rru"),
    }
    writes = {
        "the order, created pending": _unit(operations, "CheckoutFunction PutItem", "wru"),
        "the order, pending -> paid": _unit(operations, "WebhookFunction UpdateItem", "wru"),
        "the payment event, recorded once": _unit(operations, "WebhookFunction PutItem", "wru"),
        "one transaction: order -> activated and the line's bundles": _transaction_floor(operations),
    }
    return {"reads": reads, "writes": writes, "rru": sum(reads.values()), "wru": sum(writes.values())}


def _transaction_floor(operations: dict[str, dict[str, float]]) -> float:
    entry = operations.get("ActivateFunction TransactWriteItems")
    if not entry or not entry["calls"]:
        return 0.0
    return entry["wru"] / entry["calls"]
