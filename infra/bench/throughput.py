"""Point 3, pipeline throughput: N orders checked out and really paid on the Stripe stand-in
(with its webhook delivery off), then their signed `checkout.session.completed` events pushed
at the gateway by several client threads as fast as it takes them, plus a share of duplicate
deliveries, while the SQS poller feeds `activate`. Measured: renewals per second (first event
sent to last activation committed), end-to-end latency per order (event sent to the activation
transaction's commit, from the workers' call log), CPU seconds per renewal by process kind, and
the proof: every order activated, each by exactly one transaction, one confirmation mail each,
and every line holding exactly the data of its orders."""

from __future__ import annotations

import json
import queue
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from infra.bench.client import Api, parallel
from infra.bench.latency import activated_orders, settle
from infra.bench.local import BenchStack, cpu_between, cpu_snapshot, function_of, read_calls, within
from infra.bench.stats import ratio, summary

PLAN_ID, PLAN_MB, CURRENCY = "eu-daily-1gb", 1024, "EUR"


def measure(
    stack: BenchStack,
    orders: int = 1000,
    customers: int = 50,
    senders: int = 8,
    duplicate_share: float = 0.1,
    log: Callable[[str], None] = print,
    limit_s: float = 600,
    settle_first: bool = False,
    before_push: Callable[[], None] | None = None,
) -> dict[str, Any]:
    api = Api(stack.outputs)
    buyers = parallel(lambda i: api.customer(f"tp{i}"), range(customers), threads=4)
    log(f"  {customers} customers signed up; checking out {orders} orders")
    started = time.time()
    sessions = parallel(
        lambda i: {**api.checkout(buyers[i % customers]["token"]), "buyer": i % customers}, range(orders), threads=8
    )
    checkout_s = time.time() - started
    api.set_webhook_url(None)
    parallel(lambda s: api.pay(s["checkout_url"]), sessions, threads=8)
    events = api.completed_events({s["session_id"] for s in sessions})
    payloads = {s["order_id"]: json.dumps(events[s["session_id"]]).encode() for s in sessions}
    log(f"  {orders} orders paid ({checkout_s:.0f} s to check out); pushing their events with {senders} senders")

    duplicates = random.Random(8).sample(sorted(payloads), int(orders * duplicate_share))
    work: queue.Queue[tuple[str, bytes]] = queue.Queue()
    for order_id, payload in payloads.items():
        work.put((order_id, payload))
    for order_id in duplicates:
        work.put((order_id, payloads[order_id]))
    sent_at: dict[str, float] = {}
    answers: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def sender() -> None:
        while True:
            try:
                order_id, payload = work.get_nowait()
            except queue.Empty:
                return
            moment = time.time()
            answer = api.signed_webhook(payload)
            body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
            with lock:
                sent_at.setdefault(order_id, moment)
                answers.append((answer.status_code, body))

    if before_push is not None:
        before_push()  # e.g. a package build running meanwhile has finished
    if settle_first:
        settle(stack, log)  # what earlier stages queued has drained
    before = cpu_snapshot(stack.process.pid)
    first_sent = time.time()
    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pushed_s = time.time() - first_sent
    log(f"  {len(answers)} events taken by the gateway in {pushed_s:.1f} s; waiting for activation")
    wanted = set(payloads)
    deadline = time.monotonic() + limit_s
    while True:
        calls = read_calls(stack.call_log)
        done = {o: t for o, t in activated_orders(calls).items() if o in wanted}
        mails = _mails(calls, first_sent)
        if (len(done) == len(wanted) and mails >= len(wanted)) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    time.sleep(1.0)  # let the last invocations finish and their lines be written
    after = cpu_snapshot(stack.process.pid)
    calls = read_calls(stack.call_log)
    done = {o: t for o, t in activated_orders(calls).items() if o in wanted}
    last = max(done.values()) if done else time.time()
    elapsed = last - first_sent
    latencies = [(done[o] - sent_at[o]) * 1000 for o in done if o in sent_at]

    window = within(calls, first_sent, after.taken_at)
    proof = _proof(api, stack, window, sessions, buyers, payloads, answers, duplicates)
    cpu = cpu_between(before, after)
    lost_workers = int(cpu.pop("_workers_lost"))
    renewals = max(1, len(done))
    ours = sum(v for k, v in cpu.items() if k.startswith("lambda:"))
    emulators = sum(v for k, v in cpu.items() if k.startswith(("DynamoDB", "moto")))
    stand_ins = sum(v for k, v in cpu.items() if k.startswith("stack process"))
    wall = after.taken_at - before.taken_at
    cores = _cores()
    result: dict[str, Any] = {
        "orders": orders,
        "customers": customers,
        "senders": senders,
        "duplicates_sent": len(duplicates),
        "checkout_seconds": checkout_s,
        "events_taken_per_second": len(answers) / pushed_s if pushed_s else None,
        "renewals_per_second": len(done) / elapsed if elapsed > 0 else None,
        "seconds": elapsed,
        "end_to_end_ms": summary(latencies) if latencies else None,
        "cpu_seconds": cpu,
        "cpu_ms_per_renewal": {k: v * 1000 / renewals for k, v in cpu.items()},
        "our_lambda_cpu_ms_per_renewal": ours * 1000 / renewals,
        "emulator_cpu_ms_per_renewal": emulators * 1000 / renewals,
        "stand_in_cpu_ms_per_renewal": stand_ins * 1000 / renewals,
        "machine_busy_share": sum(cpu.values()) / (wall * cores) if wall > 0 else None,
        "workers_ended_during_run": lost_workers,
        "proof": proof,
        "by_function": _by_function(window),
    }
    # The handlers' own CPU (call log), split into the AWS SDK's (botocore, under PynamoDB and boto3)
    # and everything else: our code, Powertools, stripe. The rest of the workers' CPU is the local
    # Lambda runtime's (reading events, the call log).
    by = result["by_function"]
    handlers = sum(v["mean_cpu_ms"] * v["invocations"] for v in by.values()) / renewals
    sdk = sum(v["sdk_cpu_ms_per_invocation"] * v["invocations"] for v in by.values()) / renewals
    result["handler_cpu_ms_per_renewal"] = {"all": handlers, "aws_sdk": sdk, "outside_sdk": handlers - sdk}
    calls_made = sum(v["aws_calls_per_invocation"] * v["invocations"] for v in by.values())
    result["aws_calls_per_renewal"] = calls_made / renewals
    # What the machine could do if only the emulators spent CPU: its cores over their CPU per renewal.
    emulator_bound = cores / (emulators / renewals) if emulators > 0 else None
    result["floor_renewals_per_second"] = emulator_bound
    result["ratio_to_floor"] = ratio(result["renewals_per_second"] or 0.0, emulator_bound or 0.0)
    result["goal"] = {
        "renewals_per_second": 100,
        "met_rate": (result["renewals_per_second"] or 0) >= 100,
        "our_cpu_ms_per_renewal": 5,
        "met_cpu": result["our_lambda_cpu_ms_per_renewal"] < 5,
    }
    return result


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


def _mails(calls: list[dict[str, Any]], since: float) -> int:
    return sum(
        1
        for c in calls
        if c["t"] == "call"
        and c["op"] == "SendEmail"
        and not c.get("err")
        and function_of(c["fn"]) == "ActivateFunction"
        and c["start"] >= since
    )


def _by_function(window: list[dict[str, Any]]) -> dict[str, Any]:
    """Per function: invocations, their mean duration and CPU, AWS calls per invocation."""
    found: dict[str, dict[str, float]] = {}
    for c in window:
        entry = found.setdefault(
            function_of(c["fn"]), {"invocations": 0, "ms": 0.0, "cpu_ms": 0.0, "calls": 0, "call_cpu_ms": 0.0}
        )
        if c["t"] == "inv":
            entry["invocations"] += 1
            entry["ms"] += c["ms"]
            entry["cpu_ms"] += c["cpu_ms"]
        else:
            entry["calls"] += 1
            entry["call_cpu_ms"] += c["cpu_ms"]
    for entry in found.values():
        n = max(1, entry["invocations"])
        entry["mean_ms"] = entry.pop("ms") / n
        entry["mean_cpu_ms"] = entry.pop("cpu_ms") / n
        entry["aws_calls_per_invocation"] = entry.pop("calls") / n
        entry["sdk_cpu_ms_per_invocation"] = entry.pop("call_cpu_ms") / n
    return found


def _proof(
    api: Api,
    stack: BenchStack,
    window: list[dict[str, Any]],
    sessions: list[dict[str, Any]],
    buyers: list[dict[str, str]],
    payloads: dict[str, bytes],
    answers: list[tuple[int, dict[str, Any]]],
    duplicates: list[str],
) -> dict[str, Any]:
    wanted = set(payloads)
    transactions: dict[str, int] = {}
    for c in window:
        if c["t"] == "call" and c["op"] == "TransactWriteItems" and not c.get("err"):
            if function_of(c["fn"]) != "ActivateFunction":
                continue
            for key in c.get("keys", []):
                table, _, value = key.partition(":")
                if "OrdersTable" in table and value in wanted:
                    transactions[value] = transactions.get(value, 0) + 1
    orders = api.get_items(api.table("OrdersTable"), "order_id", sorted(wanted))
    statuses: dict[str, int] = {}
    for item in orders:
        status = item["status"]["S"]
        statuses[status] = statuses.get(status, 0) + 1
    mailed = sum(1 for item in orders if item.get("mail_sent", {}).get("BOOL"))
    per_buyer: dict[int, int] = {}
    for s in sessions:
        per_buyer[s["buyer"]] = per_buyer.get(s["buyer"], 0) + 1
    lines = api.get_items(api.table("LinesTable"), "iccid", [b["iccid"] for b in buyers])
    by_iccid = {item["iccid"]["S"]: item for item in lines}
    wrong_lines = 0
    for index, buyer in enumerate(buyers):
        item = by_iccid.get(buyer["iccid"], {})
        held = sum(int(b["M"]["remaining_data_mb"]["N"]) for b in item.get("bundles", {}).get("L", []))
        if held != per_buyer.get(index, 0) * PLAN_MB:
            wrong_lines += 1
    mails = sum(
        1
        for c in window
        if c["t"] == "call"
        and c["op"] == "SendEmail"
        and not c.get("err")
        and function_of(c["fn"]) == "ActivateFunction"
    )
    ok = sum(1 for status, _ in answers if 200 <= status < 300)
    duplicates_seen = sum(1 for status, body in answers if 200 <= status < 300 and body.get("duplicate"))
    return {
        "orders": len(wanted),
        "activated": statuses.get("activated", 0),
        "statuses": statuses,
        "activated_by_exactly_one_transaction": sum(1 for o in wanted if transactions.get(o) == 1),
        "applied_twice": sum(1 for o in wanted if transactions.get(o, 0) > 1),
        "lost": len(wanted) - statuses.get("activated", 0),
        "orders_marked_mail_sent": mailed,
        "mails_sent_in_window": mails,
        "lines_checked": len(buyers),
        "lines_with_wrong_data": wrong_lines,
        "events_sent": len(answers),
        "events_answered_2xx": ok,
        "duplicates_sent": len(duplicates),
        "answered_as_duplicate": duplicates_seen,
        "ok": statuses.get("activated", 0) == len(wanted)
        and all(transactions.get(o) == 1 for o in wanted)
        and wrong_lines == 0
        and mailed == len(wanted),
    }
