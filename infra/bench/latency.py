"""Point 2, warm latency of each API route and of the webhook through the local gateway: one
client, one request at a time, after a few unmeasured warm-up requests; p50/p95/p99 as the
client sees them, and how much of that the function spent inside DynamoDB calls (from the
workers' call log, matched by function and time window).

Floor, measured in the same run: the gateway's own round trip (a path no route serves, so no
function runs) plus the time the route's function spent inside its DynamoDB calls: what the
route would take if everything but its DynamoDB calls cost nothing. A raw DynamoDB GetItem from
this process is measured too, for reference."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from infra.bench.client import Api, parallel
from infra.bench.local import BenchStack, function_of, read_calls
from infra.bench.stats import ratio, share, summary

WARM_UP = 5
GOALS_P99_MS = {"POST /webhooks/stripe": 50.0, "GET /account": 30.0}


@dataclass
class Route:
    name: str  # "GET /account"
    function: str  # logical id of the function behind it
    request: Callable[[int], Any]  # i -> requests.Response
    expect: tuple[int, ...] = (200,)
    full: bool = False  # always the full count, whatever the time budget (routes with a goal)
    limit: int | None = None  # at most this many (a void needs a sale of its own)


@dataclass
class Sample:
    route: Route
    latencies_ms: list[float] = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0
    errors: int = 0
    first_error: str = ""


def timed(route: Route, n: int, budget_s: float | None = None) -> Sample:
    """n requests one after another; without `route.full`, fewer when they overrun `budget_s`."""
    for i in range(WARM_UP):
        route.request(-1 - i)
    sample = Sample(route, start=time.time())
    for i in range(min(n, route.limit) if route.limit is not None else n):
        if budget_s is not None and not route.full and time.time() - sample.start > budget_s:
            break
        started = time.perf_counter()
        answer = route.request(i)
        sample.latencies_ms.append((time.perf_counter() - started) * 1000)
        if answer.status_code not in route.expect:
            sample.errors += 1
            sample.first_error = sample.first_error or f"{answer.status_code} {answer.text[:200]}"
    sample.end = time.time()
    return sample


def raw_getitem_ms(api: Api, n: int) -> list[float]:
    client = api.dynamodb()
    table = api.table("PlansTable")
    key = {"plan_id": {"S": "eu-daily-1gb"}}
    for _ in range(WARM_UP):
        client.get_item(TableName=table, Key=key)
    found = []
    for _ in range(n):
        started = time.perf_counter()
        client.get_item(TableName=table, Key=key, ConsistentRead=True)
        found.append((time.perf_counter() - started) * 1000)
    return found


def attribute(sample: Sample, calls: list[dict[str, Any]]) -> dict[str, Any]:
    """What the route's function did in the sample's window, from its workers' call log."""
    mine = [
        c for c in calls if function_of(c["fn"]) == sample.route.function and sample.start <= c["start"] <= sample.end
    ]
    invocations = [c for c in mine if c["t"] == "inv"]
    ddb = [c for c in mine if c["t"] == "call" and c["svc"] == "dynamodb"]
    other = [c for c in mine if c["t"] == "call" and c["svc"] != "dynamodb"]
    total_ms = sum(sample.latencies_ms)
    n = max(1, len(invocations))
    return {
        "invocations": len(invocations),
        "handler_ms_mean": sum(i["ms"] for i in invocations) / n,
        "handler_cpu_ms_mean": sum(i["cpu_ms"] for i in invocations) / n,
        "dynamodb_calls_per_request": len(ddb) / n,
        "dynamodb_ms_per_request": sum(c["ms"] for c in ddb) / n,
        "other_aws_calls_per_request": len(other) / n,
        "other_aws_ms_per_request": sum(c["ms"] for c in other) / n,
        "share_outside_dynamodb": 1 - (share(sum(c["ms"] for c in ddb), total_ms) or 0.0),
    }


class Scenario:
    """The customers, orders and sales the routes need, made through the API itself."""

    def __init__(self, api: Api, n: int, log: Callable[[str], None]) -> None:
        self.api, self.n, self.log = api, n, log
        self.buyers = parallel(lambda i: api.customer(f"lat{i}"), range(5), threads=5)
        self.reader = api.customer("reader")
        self.linker = api.customer("link")
        self.staff = api.staff("DemoStaff")
        self.other_staff = api.staff("Other")
        cards = json.loads((Path(__file__).resolve().parents[1] / "catalog" / "test_cards.json").read_text())["cards"]
        self.link_cards = cards[1:5]
        self.store_cards = [c["iccid"] for c in cards[5:]]
        self.sessions: list[dict[str, Any]] = []
        self.sales: list[dict[str, Any]] = []
        self.warm_sales: list[dict[str, Any]] = []

    def checkout(self, i: int) -> Any:
        buyer = self.buyers[abs(i) % len(self.buyers)]
        answer = self.api.call("POST", "/checkout", buyer["token"], {"plan_id": "eu-daily-1gb", "currency": "EUR"})
        if i >= 0 and answer.status_code == 201:
            self.sessions.append(answer.json())
        return answer

    def prepare_webhooks(self) -> list[bytes]:
        """Pays every session measured above with no webhook URL set, and returns the events the
        stand-in recorded (re-signed at each send)."""
        self.api.set_webhook_url(None)
        parallel(lambda s: self.api.pay(s["checkout_url"]), self.sessions, threads=8)
        events = self.api.completed_events({s["session_id"] for s in self.sessions})
        self.warm_events = [json.dumps(e).encode() for e in list(events.values())[:WARM_UP]]
        return [json.dumps(events[s["session_id"]]).encode() for s in self.sessions if s["session_id"] in events]

    def linkable_card(self) -> dict[str, str]:
        """A retail test card linked to the linker (the first that links); the route is then
        measured on the same card again (the retry path: no PIN check)."""
        for card in self.link_cards:
            body = {"iccid": card["iccid"], "pin": card["pin"]}
            if self.api.call("POST", "/account/line", self.linker["token"], body).status_code == 200:
                return body
        raise RuntimeError("no test card could be linked")

    def sale(self, i: int, staff: str | None = None) -> Any:
        body = {
            "iccid": self.store_cards[abs(i) % len(self.store_cards)],
            "plan_id": "asia-daily-1gb",
            "currency": "HKD",
        }
        answer = self.api.call(
            "POST",
            "/store/renewals",
            staff or self.staff,
            {**body, "cash_received": 5000},
            headers={"Idempotency-Key": f"bench-{uuid.uuid4().hex}"},
        )
        if answer.status_code == 201 and staff is None:
            (self.sales if i >= 0 else self.warm_sales).append(answer.json())
        return answer

    def usage(self, i: int) -> Any:
        record = {
            "record_id": f"bench-{uuid.uuid4().hex}",
            "iccid": self.reader["iccid"],
            "country": "FR",
            "data_mb": 1,
            "used_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        payload = json.dumps({"records": [record]}).encode()
        return self.api.call("POST", "/usage/records", headers=self.api.usage_headers(payload), data=payload)


def measure(
    stack: BenchStack, n: int, budget_s: float | None = None, log: Callable[[str], None] = print
) -> dict[str, Any]:
    api = Api(stack.outputs)
    samples: list[Sample] = []

    def run(route: Route) -> None:
        sample = timed(route, n, budget_s)
        samples.append(sample)
        p = summary(sample.latencies_ms)
        log(
            f"  {route.name:<36} n {len(sample.latencies_ms):5d}  p50 {p['p50']:7.1f} ms  p99 {p['p99']:7.1f} ms"
            f"  errors {sample.errors}"
        )

    run(Route("gateway only (no route: 404)", "-", lambda i: api.call("GET", "/bench-no-such-route"), (404,), True))
    raw_ddb = raw_getitem_ms(api, n)
    log(f"  {'raw DynamoDB GetItem (this process)':<36} n {len(raw_ddb):5d}  p50 {summary(raw_ddb)['p50']:7.1f} ms")

    s = Scenario(api, n, log)
    reader = s.reader["token"]
    bought = [api.checkout(reader) for _ in range(10)]
    for session in bought:
        api.pay(session["checkout_url"])
    wait_activated(stack, [b["order_id"] for b in bought], log)
    mine = [b["order_id"] for b in bought]
    plan = "eu-daily-1gb"
    for route in (
        Route("GET /plans", "CustomerApiFunction", lambda i: api.call("GET", "/plans")),
        Route("GET /plans/{plan_id}", "CustomerApiFunction", lambda i: api.call("GET", f"/plans/{plan}")),
        Route("GET /openapi.json", "CustomerApiFunction", lambda i: api.call("GET", "/openapi.json")),
        Route("GET /account", "CustomerApiFunction", lambda i: api.call("GET", "/account", reader), full=True),
        Route(
            "GET /account/preferences", "CustomerApiFunction", lambda i: api.call("GET", "/account/preferences", reader)
        ),
        Route(
            "PATCH /account/preferences",
            "CustomerApiFunction",
            lambda i: api.call("PATCH", "/account/preferences", reader, {"reminders": {"expiry": True}}),
        ),
        Route("GET /orders", "CustomerApiFunction", lambda i: api.call("GET", "/orders", reader)),
        Route(
            "GET /orders/{order_id}",
            "CustomerApiFunction",
            lambda i: api.call("GET", f"/orders/{mine[i % len(mine)]}", reader),
        ),
        Route(
            "GET /orders/{order_id}/receipt",
            "CustomerApiFunction",
            lambda i: api.call("GET", f"/orders/{mine[i % len(mine)]}/receipt", reader),
        ),
        Route(
            "POST /orders/{order_id}/sync",
            "CheckoutFunction",
            lambda i: api.call("POST", f"/orders/{mine[i % len(mine)]}/sync", reader),
        ),
    ):
        run(route)
    card = s.linkable_card()
    run(
        Route(
            "POST /account/line (same card again)",
            "CustomerApiFunction",
            lambda i: api.call("POST", "/account/line", s.linker["token"], card),
        )
    )
    run(Route("POST /usage/records (1 record)", "UsageFunction", s.usage, (202,)))
    run(Route("POST /store/renewals", "StoreApiFunction", s.sale, (201,)))
    sales, warm_sales = list(s.sales), list(s.warm_sales)

    def sale_of(i: int) -> dict[str, Any]:
        return sales[i % len(sales)] if i >= 0 else warm_sales[(-1 - i) % len(warm_sales)]

    run(
        Route(
            "GET /store/receipts/{receipt_no}",
            "StoreApiFunction",
            lambda i: api.call("GET", f"/store/receipts/{sale_of(i)['receipt_no']}", s.staff),
        )
    )
    run(
        Route(
            "POST /store/renewals/{id}/void",
            "StoreApiFunction",
            lambda i: api.call("POST", f"/store/renewals/{sale_of(i)['order_id']}/void", s.staff, {"reason": "b"}),
            limit=len(sales),
        )
    )
    # The daily report reads the store's orders of the day: measured for a store with 20 sales.
    for _ in range(20):
        s.sale(-1, s.other_staff)
    today = datetime.now(ZoneInfo("Asia/Hong_Kong")).date().isoformat()
    run(
        Route(
            "GET /store/reports/daily (20 sales)",
            "StoreApiFunction",
            lambda i: api.call("GET", f"/store/reports/daily?date={today}", s.other_staff),
        )
    )
    settle(stack, log)
    run(Route("POST /checkout", "CheckoutFunction", s.checkout, (201,), full=True))
    events = s.prepare_webhooks()
    warm = iter(s.warm_events * 2)
    run(
        Route(
            "POST /webhooks/stripe",
            "WebhookFunction",
            lambda i: api.signed_webhook(events[i] if i >= 0 else next(warm)),
            full=True,
        )
    )
    # Those 1,000 paid orders are not activated: their messages are purged, so the throughput
    # stage (point 3, which measures activation) starts from an empty queue without waiting
    # minutes for this backlog. What a poller already holds finishes; `settle` waits for it.
    Api(stack.outputs).sqs().purge_queue(QueueUrl=stack.outputs["ActivationQueueUrl"])
    settle(stack, log)
    calls = read_calls(stack.call_log)
    gateway_p = summary(samples[0].latencies_ms)
    ddb_p = summary(raw_ddb)
    rows = []
    for sample in samples:
        p = summary(sample.latencies_ms)
        row: dict[str, Any] = {"route": sample.route.name, **p, "errors": sample.errors}
        if sample.first_error:
            row["first_error"] = sample.first_error
        if sample.route.function != "-":
            row.update(attribute(sample, calls))
            floor_p50 = gateway_p["p50"] + row["dynamodb_ms_per_request"]
            row["floor_p50"] = floor_p50
            row["ratio_p50"] = ratio(p["p50"], floor_p50)
        goal = GOALS_P99_MS.get(sample.route.name)
        if goal is not None:
            row["goal_p99_ms"] = goal
            row["goal_met"] = p["p99"] < goal
        rows.append(row)
    return {
        "requests_per_route": n,
        "budget_s_per_route": budget_s,
        "gateway_only": gateway_p,
        "raw_dynamodb_getitem": ddb_p,
        "routes": rows,
    }


def settle(stack: BenchStack, log: Callable[[str], None], quiet_s: float = 1.5, limit_s: float = 600) -> float:
    """Waits until the activation and mail queues hold nothing (visible or in flight) and no
    worker has written to the call log for `quiet_s`: what earlier steps queued is done."""
    sqs = Api(stack.outputs).sqs()
    queues = [stack.outputs[k] for k in ("ActivationQueueUrl", "MailQueueUrl") if k in stack.outputs]
    started = time.monotonic()
    last, still_since = -1, time.monotonic()
    while time.monotonic() - started < limit_s:
        size = sum(p.stat().st_size for p in stack.call_log.glob("*.jsonl"))
        if size != last:
            last, still_since = size, time.monotonic()
        elif time.monotonic() - still_since >= quiet_s and not any(_queued(sqs, url) for url in queues):
            break
        time.sleep(0.25)
    waited = time.monotonic() - started
    if waited > quiet_s + 1:
        log(f"  (waited {waited:.0f} s for the queues to drain)")
    return waited


def _queued(sqs: Any, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in names)


def list_orders(api: Api, token: str) -> list[dict[str, Any]]:
    answer = api.call("GET", "/orders?limit=100", token)
    return list(answer.json()["orders"])


def wait_activated(stack: BenchStack, order_ids: list[str], log: Callable[[str], None], limit_s: float = 300) -> float:
    """Waits until activation has committed every order (from the call log); returns the time."""
    wanted = set(order_ids)
    deadline = time.monotonic() + limit_s
    while True:
        done = activated_orders(read_calls(stack.call_log))
        missing = wanted - set(done)
        if not missing:
            return max(done[o] for o in wanted)
        if time.monotonic() > deadline:
            log(f"  {len(missing)} orders were not activated within {limit_s:.0f} s")
            return time.time()
        time.sleep(0.5)


def activated_orders(calls: list[dict[str, Any]]) -> dict[str, float]:
    """order id -> when activation's transaction (order + line) committed."""
    done: dict[str, float] = {}
    for c in calls:
        if c["t"] == "call" and c["op"] == "TransactWriteItems" and not c.get("err"):
            if function_of(c["fn"]) != "ActivateFunction":
                continue
            for key in c.get("keys", []):
                table, _, value = key.partition(":")
                if "OrdersTable" in table:
                    done[value] = c["start"] + c["ms"] / 1000
    return done
