"""The local Stripe stand-in, driven through the real stripe SDK (16.1.0) and plain HTTP.

Each test starts its own in-process stand-in on a free port plus a tiny webhook receiver;
webhooks are verified with ``stripe.Webhook.construct_event`` and every object/event the
stand-in returns or sends is checked against the 16.1.0 object schemas.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe

from infra.local.stripe_standin import spec
from infra.local.stripe_standin.server import StripeStandIn

SECRET = "whsec_test_standin_secret"
API_KEY = "sk_test_standin_123"
REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- helpers


class Receiver:
    """A webhook endpoint: records every POST; answers from ``statuses`` (then 200)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self._cv = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._cv:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append(
                        {"headers": dict(self.headers.items()), "body": body, "at": time.time(), "status": status}
                    )
                    receiver._cv.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, fmt: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/webhook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def wait_for(self, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.time() + timeout
        with self._cv:
            while len(self.requests) < n:
                left = deadline - time.time()
                if left <= 0:
                    break
                self._cv.wait(left)
            return list(self.requests)

    def events(self, n: int, timeout: float = 5.0) -> list[stripe.Event]:
        """Wait for ``n`` deliveries; verify each signature with the SDK; return the events."""
        got = self.wait_for(n, timeout)
        assert len(got) >= n, f"expected {n} deliveries, got {len(got)}"
        out = []
        for r in got[:n]:
            assert r["headers"]["Content-Type"] == "application/json; charset=utf-8"
            assert r["headers"]["User-Agent"] == "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
            out.append(stripe.Webhook.construct_event(r["body"], r["headers"]["Stripe-Signature"], SECRET))
        return out

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def assert_valid(resource: str, obj: dict[str, Any]) -> None:
    schema = spec.object_schema(resource)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in spec.object_validator(resource).iter_errors(obj)]
    assert errors == [], errors
    unknown = set(obj) - set(schema["x-sdk-fields"])
    assert unknown == set(), f"fields the 16.1.0 {resource} does not have: {unknown}"


def raw(obj: stripe.StripeObject) -> dict[str, Any]:
    """The JSON the stand-in actually sent (the SDK turns some values into Decimal)."""
    resp = obj.last_response
    assert resp is not None
    data: dict[str, Any] = json.loads(resp.body)
    return data


def session_params(**overrides: Any) -> Any:
    """Create params as our back end sends them (typed Any: tests also send invalid ones)."""
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 2,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 1250,
                    "product_data": {"name": "Europe 10 GB / 30 days", "metadata": {"plan": "eu-10"}},
                },
            }
        ],
        "metadata": {"renewal_id": "ren_42", "card_id": "esim_7"},
        "client_reference_id": "user-123",
        "customer_email": "traveller@example.com",
        "expires_at": int(time.time()) + 3600,
        "success_url": "https://app.example.com/renewed?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://app.example.com/cancelled",
    }
    params.update(overrides)
    return params


def as_any(value: Any) -> Any:
    return value


def pay(session_url: str, outcome: str) -> requests.Response:
    return requests.post(session_url, data={"outcome": outcome}, allow_redirects=False, timeout=5)


def wait_until(cond: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def standin(receiver: Receiver) -> Iterator[StripeStandIn]:
    s = StripeStandIn(
        "127.0.0.1",
        0,
        receiver.url,
        SECRET,
        retry_scale=0.0003,  # 1 h -> 1.08 s, 2 h -> 2.16 s
        max_attempts=4,
        min_expires_in=0,
        sweep_interval=0.2,
    )
    s.start()
    yield s
    s.stop()


@pytest.fixture
def client(standin: StripeStandIn) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": standin.url}, max_network_retries=0)


# --------------------------------------------------------------------------- create / retrieve


def test_create_session_returns_stripe_shaped_session(client: stripe.StripeClient, standin: StripeStandIn) -> None:
    params = session_params()
    session = client.v1.checkout.sessions.create(params=params)
    body = raw(session)

    assert_valid("checkout.session", body)
    assert body["id"].startswith("cs_test_")
    assert body["object"] == "checkout.session"
    assert body["amount_total"] == body["amount_subtotal"] == 2500
    assert body["currency"] == "eur"
    assert body["metadata"] == {"renewal_id": "ren_42", "card_id": "esim_7"}
    assert body["client_reference_id"] == "user-123"
    assert body["customer_email"] == "traveller@example.com"
    assert body["customer_details"] is None
    assert body["expires_at"] == params["expires_at"]
    assert body["success_url"] == params["success_url"]
    assert body["cancel_url"] == params["cancel_url"]
    assert body["mode"] == "payment"
    assert (body["status"], body["payment_status"]) == ("open", "unpaid")
    assert body["payment_intent"] is None
    assert body["payment_method_types"] == ["card"]
    assert body["livemode"] is False
    assert abs(body["created"] - time.time()) < 5
    assert body["url"] == f"{standin.url}/c/pay/{body['id']}"
    assert "line_items" not in body  # only when expanded, like Stripe
    # the SDK hydrates it into its own class
    assert isinstance(session, stripe.checkout.Session)
    assert session.metadata is not None and session.metadata["renewal_id"] == "ren_42"


def test_default_expiry_is_24_hours(client: stripe.StripeClient) -> None:
    params = session_params()
    del params["expires_at"]
    body = raw(client.v1.checkout.sessions.create(params=params))
    assert abs(body["expires_at"] - (body["created"] + 24 * 3600)) <= 1


def test_payment_method_choice_params(client: stripe.StripeClient) -> None:
    s = client.v1.checkout.sessions.create(
        params=session_params(allowed_payment_method_types=["card", "sepa_debit", "ideal"])
    )
    assert s.payment_method_types == ["card", "sepa_debit", "ideal"]
    assert s.allowed_payment_method_types == ["card", "sepa_debit", "ideal"]
    s2 = client.v1.checkout.sessions.create(
        params=session_params(
            allowed_payment_method_types=["card", "sepa_debit"], excluded_payment_method_types=["card"]
        )
    )
    assert s2.payment_method_types == ["sepa_debit"]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params=session_params(payment_method_types=["card"]))
    assert exc.value.param == "payment_method_types"  # removed from the 16.1.0 create params


def test_unknown_param_is_rejected_with_its_name(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params=session_params(renewal_plan="eu-10"))
    assert exc.value.http_status == 400
    assert exc.value.param == "renewal_plan"
    assert exc.value.code == "parameter_unknown"
    assert "renewal_plan" in str(exc.value.user_message)
    err: Any = exc.value.json_body
    assert err["error"]["type"] == "invalid_request_error"

    nested = session_params()
    nested["line_items"][0]["price_data"]["product_data"]["colour"] = "blue"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params=nested)
    assert exc.value.param == "line_items[0][price_data][product_data][colour]"
    assert exc.value.code == "parameter_unknown"


@pytest.mark.parametrize(
    ("mutate", "param", "code"),
    [
        (lambda p: p["line_items"][0]["price_data"].pop("currency"), "line_items[0][price_data][currency]",
         "parameter_missing"),
        (lambda p: p["line_items"][0].pop("quantity"), "line_items[0][quantity]", "parameter_missing"),
        (lambda p: p["line_items"][0].update(quantity="two"), "line_items[0][quantity]", "parameter_invalid_integer"),
        (lambda p: p.update(success_url=""), "success_url", "parameter_invalid_empty"),
        (lambda p: p.pop("line_items"), "line_items", "parameter_missing"),
        (lambda p: p.update(mode="rent"), "mode", None),
        (lambda p: p.update(expires_at=int(time.time()) + 2 * 86400), "expires_at", None),
    ],
)  # fmt: skip
def test_invalid_params(client: stripe.StripeClient, mutate: Callable[[dict[str, Any]], Any], param: str,
                        code: str | None) -> None:  # fmt: skip
    params = session_params()
    mutate(params)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params=params)
    assert exc.value.http_status == 400
    assert exc.value.param == param
    assert exc.value.code == code


def test_auth(standin: StripeStandIn) -> None:
    no_key = stripe.StripeClient("", base_addresses={"api": standin.url}, max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError) as exc:
        no_key.v1.checkout.sessions.create(params=session_params())
    assert exc.value.http_status == 401
    assert "You did not provide an API key" in str(exc.value.user_message)

    live = stripe.StripeClient("sk_live_abcdefghijkl", base_addresses={"api": standin.url}, max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError) as exc:
        live.v1.checkout.sessions.create(params=session_params())
    assert "Invalid API Key provided" in str(exc.value.user_message)

    r = requests.get(f"{standin.url}/v1/refunds", timeout=5)
    assert r.status_code == 401
    assert r.json()["error"]["type"] == "invalid_request_error"
    basic = base64.b64encode(f"{API_KEY}:".encode()).decode()
    r = requests.get(f"{standin.url}/v1/refunds", headers={"Authorization": f"Basic {basic}"}, timeout=5)
    assert r.status_code == 200 and r.json()["object"] == "list"


def test_unknown_routes_and_sessions(client: stripe.StripeClient, standin: StripeStandIn) -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    r = requests.get(f"{standin.url}/v1/customers", headers=auth, timeout=5)
    assert r.status_code == 404
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert "Unrecognized request URL" in r.json()["error"]["message"]
    assert requests.get(f"{standin.url}/elsewhere", timeout=5).status_code == 404
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert exc.value.http_status == 404
    assert exc.value.code == "resource_missing"


def test_retrieve_and_expand(client: stripe.StripeClient, standin: StripeStandIn) -> None:
    created = client.v1.checkout.sessions.create(params=session_params())
    got = client.v1.checkout.sessions.retrieve(created.id)
    assert raw(got) == raw(created)

    expanded = client.v1.checkout.sessions.retrieve(created.id, params={"expand": ["line_items", "payment_intent"]})
    body = raw(expanded)
    assert_valid("checkout.session", body)
    assert body["payment_intent"] is None
    items = body["line_items"]
    assert items["object"] == "list" and len(items["data"]) == 1
    assert_valid("item", items["data"][0])
    assert items["data"][0]["description"] == "Europe 10 GB / 30 days"
    assert items["data"][0]["amount_total"] == 2500 and items["data"][0]["quantity"] == 2

    # the global-configuration style works too
    old = stripe.api_base, stripe.api_key
    try:
        stripe.api_base, stripe.api_key = standin.url, API_KEY
        assert stripe.checkout.Session.retrieve(created.id).id == created.id
        listed = stripe.checkout.Session.list_line_items(created.id)
        price = listed.data[0].price
        assert price is not None and price.unit_amount == 1250
    finally:
        stripe.api_base, stripe.api_key = old


def test_idempotency_key_replay_and_conflict(client: stripe.StripeClient) -> None:
    params = session_params()
    first = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "renewal-ren_42"})
    again = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "renewal-ren_42"})
    assert again.id == first.id
    assert raw(again) == raw(first)
    resp = again.last_response
    assert resp is not None and resp.headers.get("Idempotent-Replayed") == "true"

    with pytest.raises(stripe.IdempotencyError) as exc:
        client.v1.checkout.sessions.create(
            params={**params, "client_reference_id": "someone-else"}, options={"idempotency_key": "renewal-ren_42"}
        )
    assert exc.value.http_status == 400
    other = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "renewal-ren_43"})
    assert other.id != first.id


# --------------------------------------------------------------------------- hosted page & payment


def test_hosted_page_shows_plan_and_buttons(client: stripe.StripeClient) -> None:
    s = client.v1.checkout.sessions.create(params=session_params())
    page = requests.get(str(s.url), timeout=5)
    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assert "Europe 10 GB / 30 days" in page.text
    assert "25.00 EUR" in page.text
    for outcome, label in [
        ("succeeded", "Pay"),
        ("declined", "Decline"),
        ("async_succeeded", "Pay later (async success)"),
        ("async_failed", "Pay later (async failure)"),
    ]:
        assert f'value="{outcome}"' in page.text and f">{label}</button>" in page.text
    assert 'method="post"' in page.text


def test_pay_succeeded(client: stripe.StripeClient, standin: StripeStandIn, receiver: Receiver) -> None:
    s = client.v1.checkout.sessions.create(params=session_params())
    r = pay(str(s.url), "succeeded")
    assert r.status_code == 303
    assert r.headers["Location"] == f"https://app.example.com/renewed?session_id={s.id}"
    # queued before the 303 went out
    assert [e["type"] for e in standin.events()] == ["checkout.session.completed"]

    (event,) = receiver.events(1)
    body = json.loads(receiver.requests[0]["body"])
    assert_valid("event", body)
    assert_valid("checkout.session", body["data"]["object"])
    assert body["id"].startswith("evt_") and body["object"] == "event"
    assert body["api_version"] == "2026-10-28.endive"
    assert body["livemode"] is False
    assert body["request"] == {"id": None, "idempotency_key": None}
    assert event.type == "checkout.session.completed"
    obj = body["data"]["object"]
    assert (obj["id"], obj["status"], obj["payment_status"]) == (s.id, "complete", "paid")
    assert obj["payment_intent"].startswith("pi_")
    assert obj["metadata"] == {"renewal_id": "ren_42", "card_id": "esim_7"}
    assert obj["client_reference_id"] == "user-123"
    assert obj["customer_details"]["email"] == "traveller@example.com"

    got = client.v1.checkout.sessions.retrieve(s.id, params={"expand": ["payment_intent"]})
    body2 = raw(got)
    assert (body2["status"], body2["payment_status"]) == ("complete", "paid")
    pi = body2["payment_intent"]
    assert pi["id"] == obj["payment_intent"] and pi["status"] == "succeeded" and pi["amount"] == 2500
    charge = raw(client.v1.charges.retrieve(pi["latest_charge"]))
    assert_valid("charge", charge)
    assert charge["id"].startswith("ch_")
    assert (charge["amount"], charge["currency"], charge["payment_intent"]) == (2500, "eur", pi["id"])
    assert charge["paid"] is True and charge["captured"] is True and charge["status"] == "succeeded"

    # a session that is not open cannot be paid again
    again = pay(str(s.url), "succeeded")
    assert again.status_code == 400
    time.sleep(0.2)
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    ("outcome", "second_type", "final_status"),
    [
        ("async_succeeded", "checkout.session.async_payment_succeeded", "paid"),
        ("async_failed", "checkout.session.async_payment_failed", "unpaid"),
    ],
)
def test_pay_later(client: stripe.StripeClient, receiver: Receiver, outcome: str, second_type: str,
                   final_status: str) -> None:  # fmt: skip
    s = client.v1.checkout.sessions.create(params=session_params())
    r = pay(str(s.url), outcome)
    assert r.status_code == 303
    events = receiver.events(2)
    bodies = [json.loads(x["body"]) for x in receiver.requests[:2]]
    for b in bodies:
        assert_valid("event", b)
        assert_valid("checkout.session", b["data"]["object"])
    assert [e.type for e in events] == ["checkout.session.completed", second_type]
    assert bodies[0]["data"]["object"]["payment_status"] == "unpaid"
    assert bodies[0]["data"]["object"]["status"] == "complete"
    assert bodies[1]["data"]["object"]["payment_status"] == final_status
    got = client.v1.checkout.sessions.retrieve(s.id)
    assert (got.status, got.payment_status) == ("complete", final_status)


def test_declined_sends_nothing_and_session_stays_open(
    client: stripe.StripeClient, standin: StripeStandIn, receiver: Receiver
) -> None:
    s = client.v1.checkout.sessions.create(params=session_params())
    r = pay(str(s.url), "declined")
    assert r.status_code == 402
    assert "Your card was declined." in r.text
    time.sleep(0.3)
    assert receiver.requests == [] and standin.events() == []
    assert client.v1.checkout.sessions.retrieve(s.id).status == "open"
    assert pay(str(s.url), "succeeded").status_code == 303  # can still pay afterwards
    assert [e.type for e in receiver.events(1)] == ["checkout.session.completed"]


def test_bad_outcome_and_unknown_page(client: stripe.StripeClient, standin: StripeStandIn) -> None:
    s = client.v1.checkout.sessions.create(params=session_params())
    assert pay(str(s.url), "maybe").status_code == 400
    assert requests.get(f"{standin.url}/c/pay/cs_test_missing", timeout=5).status_code == 404


# --------------------------------------------------------------------------- expiry


def test_expire_explicitly(client: stripe.StripeClient, receiver: Receiver) -> None:
    s = client.v1.checkout.sessions.create(params=session_params())
    expired = client.v1.checkout.sessions.expire(s.id, options={"idempotency_key": "expire-1"})
    assert expired.status == "expired"
    assert expired.url is None
    (event,) = receiver.events(1)
    body = json.loads(receiver.requests[0]["body"])
    assert_valid("event", body)
    assert event.type == "checkout.session.expired"
    assert body["data"]["object"]["id"] == s.id and body["data"]["object"]["status"] == "expired"
    assert body["request"]["id"].startswith("req_") and body["request"]["idempotency_key"] == "expire-1"

    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.expire(s.id)
    assert exc.value.http_status == 400
    assert pay(str(s.url), "succeeded").status_code == 400
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.expire(s.id, params=as_any({"reason": "bored"}))
    assert exc.value.code == "parameter_unknown"


def test_expires_by_time(client: stripe.StripeClient, receiver: Receiver) -> None:
    s = client.v1.checkout.sessions.create(params=session_params(expires_at=int(time.time()) + 1))
    (event,) = receiver.events(1, timeout=5)
    assert event.type == "checkout.session.expired"
    assert client.v1.checkout.sessions.retrieve(s.id).status == "expired"


def test_stripe_minimum_expiry_is_the_default(receiver: Receiver) -> None:
    with StripeStandIn("127.0.0.1", 0, receiver.url, SECRET) as s:
        c = stripe.StripeClient(API_KEY, base_addresses={"api": s.url}, max_network_retries=0)
        with pytest.raises(stripe.InvalidRequestError) as exc:
            c.v1.checkout.sessions.create(params=session_params(expires_at=int(time.time()) + 60))
        assert exc.value.param == "expires_at"


# --------------------------------------------------------------------------- refunds


def test_refund_partial_then_full(client: stripe.StripeClient, receiver: Receiver) -> None:
    s = client.v1.checkout.sessions.create(params=session_params())
    assert pay(str(s.url), "succeeded").status_code == 303
    receiver.events(1)
    pi_id = str(client.v1.checkout.sessions.retrieve(s.id).payment_intent)
    charge_id = str(client.v1.payment_intents.retrieve(pi_id).latest_charge)

    partial = client.v1.refunds.create(
        params={"charge": charge_id, "amount": 1000, "reason": "requested_by_customer", "metadata": {"why": "test"}},
        options={"idempotency_key": "refund-1"},
    )
    assert_valid("refund", raw(partial))
    assert (partial.amount, partial.charge, partial.payment_intent) == (1000, charge_id, pi_id)
    assert (partial.status, partial.currency, partial.reason) == ("succeeded", "eur", "requested_by_customer")
    assert raw(partial)["metadata"] == {"why": "test"}

    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"charge": charge_id, "amount": 1501})
    assert exc.value.http_status == 400 and exc.value.param == "amount"

    full = client.v1.refunds.create(params={"payment_intent": pi_id})
    assert full.amount == 1500

    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"charge": charge_id})  # nothing left

    listed = client.v1.refunds.list(params={"charge": charge_id})
    body = raw(listed)
    assert body["object"] == "list" and body["has_more"] is False and body["url"] == "/v1/refunds"
    assert [r["id"] for r in body["data"]] == [full.id, partial.id]
    by_pi = client.v1.refunds.list(params={"payment_intent": pi_id})
    assert {r.id for r in by_pi.data} == {full.id, partial.id}
    assert client.v1.refunds.list(params={"charge": "ch_other"}).data == []

    events = receiver.events(3)
    bodies = [json.loads(r["body"]) for r in receiver.requests[:3]]
    assert [e.type for e in events] == ["checkout.session.completed", "charge.refunded", "charge.refunded"]
    first, second = bodies[1]["data"]["object"], bodies[2]["data"]["object"]
    for b in bodies[1:]:
        assert_valid("event", b)
        assert_valid("charge", b["data"]["object"])
    assert (first["id"], first["amount_refunded"], first["refunded"]) == (charge_id, 1000, False)
    assert (second["amount_refunded"], second["refunded"]) == (2500, True)
    assert [r["id"] for r in second["refunds"]["data"]] == [full.id, partial.id]
    assert bodies[1]["request"]["idempotency_key"] == "refund-1"


def test_refund_errors(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"charge": "ch_missing"})
    assert exc.value.http_status == 404 and exc.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={})
    assert exc.value.code == "parameter_missing"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params=as_any({"charge": "ch_x", "amount": 10, "colour": "red"}))
    assert exc.value.param == "colour"


# --------------------------------------------------------------------------- delivery


def test_webhook_retried_and_resigned(client: stripe.StripeClient, standin: StripeStandIn, receiver: Receiver) -> None:
    receiver.statuses = [500, 500]
    s = client.v1.checkout.sessions.create(params=session_params())
    assert pay(str(s.url), "succeeded").status_code == 303
    got = receiver.wait_for(3, timeout=8)
    assert [r["status"] for r in got] == [500, 500, 200]
    events = receiver.events(3)
    assert len({e.id for e in events}) == 1  # same event each time
    assert len({r["body"] for r in got}) == 1
    stamps = [re.match(r"t=(\d+),v1=[0-9a-f]{64}$", r["headers"]["Stripe-Signature"]) for r in got]
    ts = [int(m.group(1)) for m in stamps if m]
    assert len(ts) == 3 and len(set(ts)) == 3 and ts == sorted(ts)
    # waited roughly 1 h then 2 h, times the 0.0003 scale
    gaps = [got[1]["at"] - got[0]["at"], got[2]["at"] - got[1]["at"]]
    assert 0.9 < gaps[0] < 2.0 and 1.9 < gaps[1] < 3.5

    assert wait_until(lambda: standin.events()[0]["state"] == "delivered")
    rec = standin.events()[0]
    assert [a["status"] for a in rec["attempts"]] == [500, 500, 200]
    assert rec["last_status"] == 200


def test_gives_up_after_max_attempts(receiver: Receiver) -> None:
    receiver.statuses = [503] * 10
    with StripeStandIn("127.0.0.1", 0, receiver.url, SECRET, retry_scale=0.00001, max_attempts=3,
                       min_expires_in=0) as s:  # fmt: skip
        c = stripe.StripeClient(API_KEY, base_addresses={"api": s.url}, max_network_retries=0)
        sess = c.v1.checkout.sessions.create(params=session_params())
        c.v1.checkout.sessions.expire(sess.id)
        assert wait_until(lambda: s.events()[0]["state"] == "failed")
        assert len(receiver.requests) == 3
        time.sleep(0.3)
        assert len(receiver.requests) == 3


def test_without_webhook_url_events_are_recorded_then_resend(
    client: stripe.StripeClient, standin: StripeStandIn, receiver: Receiver
) -> None:
    standin.set_webhook_url(None)
    s = client.v1.checkout.sessions.create(params=session_params())
    client.v1.checkout.sessions.expire(s.id)
    listing = requests.get(f"{standin.url}/_standin/events", timeout=5).json()
    assert [(e["type"], e["state"], e["attempts"]) for e in listing["data"]] == [
        ("checkout.session.expired", "not_sent", [])
    ]
    assert receiver.requests == []
    eid = listing["data"][0]["id"]
    assert requests.post(f"{standin.url}/_standin/events/{eid}/resend", timeout=5).status_code == 409

    standin.set_webhook_url(receiver.url)
    r = requests.post(f"{standin.url}/_standin/events/{eid}/resend", timeout=5)
    assert r.status_code == 202
    (event,) = receiver.events(1)
    assert event.id == eid
    assert requests.post(f"{standin.url}/_standin/events/evt_nope/resend", timeout=5).status_code == 404


def test_health(standin: StripeStandIn) -> None:
    h = requests.get(f"{standin.url}/_standin/health", timeout=5).json()
    assert h["status"] == "ok" and h["url"] == standin.url and h["api_version"] == "2026-10-28.endive"


def test_cli_starts_prints_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.local.stripe_standin", "--host", "127.0.0.1", "--port", "0",
         "--webhook-url", "", "--webhook-secret", SECRET, "--retry-scale", "0.001", "--max-attempts", "3", "--quiet"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        m = re.fullmatch(r"stripe-standin listening on (http://127\.0\.0\.1:\d+)", line)
        assert m, line
        assert requests.get(f"{m.group(1)}/_standin/health", timeout=5).json()["status"] == "ok"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
