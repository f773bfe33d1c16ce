"""Expiring Checkout Sessions: the stand-in answers as Stripe does, and our adapter's
`expire_session` takes "no longer open" as done (what POST /orders/{id}/cancel relies on)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
import stripe

from infra.local.stripe_standin.server import StripeStandIn
from renewal.adapters.stripe_payments import StripePayments
from renewal.ports import PaymentProviderError
from tests.integration.test_stripe_standin import API_KEY, SECRET, Receiver, pay, session_params


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def standin(receiver: Receiver) -> Iterator[StripeStandIn]:
    # Stripe's own 30-minute minimum, as the local stack runs it: only /lapse ends a session early.
    with StripeStandIn("127.0.0.1", 0, receiver.url, SECRET, sweep_interval=0.2) as s:
        yield s


@pytest.fixture
def client(standin: StripeStandIn) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": standin.url}, max_network_retries=0)


@pytest.fixture
def adapter(standin: StripeStandIn, monkeypatch: pytest.MonkeyPatch) -> StripePayments:
    return StripePayments(secret=lambda: {"api_key": API_KEY, "webhook_secret": SECRET}, api_base=standin.url)


@pytest.mark.parametrize("outcome", ["succeeded", "expire"])
def test_expiring_a_session_that_is_not_open_is_stripes_400_without_a_code(
    client: stripe.StripeClient, outcome: str
) -> None:
    s = client.v1.checkout.sessions.create(params=session_params())
    if outcome == "succeeded":
        assert pay(str(s.url), outcome).status_code == 303
    else:
        client.v1.checkout.sessions.expire(s.id)
    status = "complete" if outcome == "succeeded" else "expired"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.expire(s.id)
    assert refused.value.http_status == 400 and refused.value.code is None
    assert refused.value.user_message == (
        'Only Checkout Sessions with a status in ["open"] can be expired. '
        f"This Checkout Session has a status of `{status}`."
    )
    assert client.v1.checkout.sessions.retrieve(s.id).status == status  # unchanged


def test_the_adapter_expires_an_open_session_and_takes_not_open_as_done(
    client: stripe.StripeClient, adapter: StripePayments, receiver: Receiver
) -> None:
    open_one = client.v1.checkout.sessions.create(params=session_params())
    adapter.expire_session(open_one.id)
    assert adapter.session(open_one.id).status == "expired"
    (event,) = receiver.events(1)
    assert event.type == "checkout.session.expired"
    adapter.expire_session(open_one.id)  # expired already: not a failure

    paid = client.v1.checkout.sessions.create(params=session_params())
    assert pay(str(paid.url), "succeeded").status_code == 303
    adapter.expire_session(paid.id)  # completed in between: not a failure, and still complete
    assert adapter.session(paid.id).status == "complete"

    with pytest.raises(PaymentProviderError):
        adapter.expire_session("cs_test_missing")


def test_the_adapter_reports_stripe_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    # nothing listens on the discard port
    adapter = StripePayments(
        secret=lambda: {"api_key": API_KEY, "webhook_secret": SECRET}, api_base="http://127.0.0.1:9"
    )
    with pytest.raises(PaymentProviderError):
        adapter.expire_session("cs_test_any")


def test_lapse_lets_the_sweep_expire_an_open_session_as_stripe_does_by_itself(
    client: stripe.StripeClient, standin: StripeStandIn, receiver: Receiver
) -> None:
    s = client.v1.checkout.sessions.create(params=session_params())
    answer = requests.post(f"{standin.url}/_standin/sessions/{s.id}/lapse", timeout=5)
    assert answer.status_code == 200 and answer.json()["id"] == s.id
    (event,) = receiver.events(1, timeout=5)
    body = json.loads(receiver.requests[0]["body"])
    assert event.type == "checkout.session.expired" and body["data"]["object"]["id"] == s.id
    assert body["request"] == {"id": None, "idempotency_key": None}  # nobody asked: the sweep did it
    assert client.v1.checkout.sessions.retrieve(s.id).status == "expired"
    assert requests.post(f"{standin.url}/_standin/sessions/cs_test_missing/lapse", timeout=5).status_code == 404
