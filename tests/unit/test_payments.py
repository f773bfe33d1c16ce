"""Checkout, the webhook, fulfilment, refunds and the confirmation mail over fakes. Webhooks are
Stripe's official event fixtures, signed as Stripe signs them and checked by our real adapter."""

from __future__ import annotations

import copy
import itertools
import json
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stripe

from renewal.adapters.stripe_payments import StripePayments
from renewal.domain.errors import Conflict, InvalidInput
from renewal.domain.lines import Bundle
from renewal.domain.orders import TRANSITIONS, apply_refund, can_move, require_move
from renewal.domain.pins import hash_pin
from renewal.domain.plans import plan_from_dict
from renewal.http.once import call_once, idempotency_config
from renewal.ports import LineRecord, Refund
from renewal.usecases.accounts import AccountService, Identity
from renewal.usecases.activation import Activation, ConfirmationPending
from renewal.usecases.checkout import CheckoutService, CheckoutSettings, PaymentProviderUnavailable
from renewal.usecases.payments import BadEvent, Fulfilment
from tests.unit.fakes import FakeAccounts, FakeLines
from tests.unit.fakes_carrier import FakeCarrier
from tests.unit.fakes_orders import FakeEvents, FakeMailer, FakeOrders, FakePayments, FakeQueue

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
ICCID = "8985200000000000013"
ALICE = Identity("alice", "alice@example.com", locale="zh-CN", time_zone="Asia/Shanghai")
WEBHOOK_SECRET = "whsec_unit"
FIXTURES = Path(__file__).parents[2] / "infra/local/stripe_standin/spec/webhook_events_synthesized.json"
PLAN = plan_from_dict(
    {"plan_id": "eu-weekly-5gb", "name": "Europe weekly 5 GB", "kind": "weekly", "region": "EU", "countries": ["FR"],
     "data_mb": 5000, "validity_days": 7, "prices": {"EUR": 1000, "CNY": 7900}}
)  # fmt: skip


class Catalog:
    def all_plans(self) -> list[Any]:
        return [PLAN]

    def plans_in_region(self, region: str) -> list[Any]:
        return [PLAN]

    def get(self, plan_id: str) -> Any:
        return PLAN if plan_id == PLAN.plan_id else None


@dataclass
class World:
    now: list[datetime] = field(default_factory=lambda: [T0])
    lines: FakeLines = field(default_factory=FakeLines)

    def __post_init__(self) -> None:
        self.lines.add(LineRecord(ICCID, hash_pin("1"), None), in_pool=True)
        self.orders = FakeOrders(self.lines)
        verifier = StripePayments(secret=lambda: {"api_key": "sk_test_unit", "webhook_secret": WEBHOOK_SECRET})
        self.payments = FakePayments(verify=verifier.verify_event)
        self.queue, self.mailer, self.events = FakeQueue(), FakeMailer(), FakeEvents()
        clock = lambda: self.now[0]  # noqa: E731
        self.carrier = FakeCarrier(clock)
        methods = CheckoutSettings.parse_methods("CNY=alipay,wechat_pay;EUR=paypal")
        settings = CheckoutSettings("https://ok/{CHECKOUT_SESSION_ID}", "https://no", timedelta(minutes=30), methods)
        accounts = AccountService(FakeAccounts(self.lines), self.lines, clock)
        self.checkout = CheckoutService(Catalog(), accounts, self.orders, self.payments, settings, clock)
        self.fulfilment = Fulfilment(self.orders, self.lines, self.payments, self.queue, self.events, clock)
        self.activation = Activation(self.orders, self.lines, self.mailer, self.carrier, clock)

    def paid_and_activated(self, currency: str = "EUR") -> str:
        started = self.checkout.start(ALICE, PLAN.plan_id, currency)
        self.payments.pay(started["session_id"])
        self.fulfilment.fulfil(started["order_id"])
        assert self.activation.activate(started["order_id"]) == "activated"
        return str(started["order_id"])

    def data_mb(self) -> int:
        line = self.lines.get(ICCID)
        assert line is not None
        return sum(b.remaining_data_mb for b in line.bundles)


@pytest.fixture
def world() -> World:
    return World()


# ---------------------------------------------------------------- the state machine, exhaustively
STATES = sorted(TRANSITIONS)
ALLOWED = {
    ("pending", "paid"), ("pending", "expired"), ("pending", "failed"), ("pending", "review"),
    ("paid", "activated"), ("paid", "refunded"), ("paid", "voided"), ("paid", "review"),
    ("activated", "refunded"), ("activated", "voided"),
}  # fmt: skip


@pytest.mark.parametrize(("start", "target"), list(itertools.product(STATES, STATES)))
def test_every_transition_is_allowed_or_refused_as_designed(start: str, target: str) -> None:
    assert can_move(start, target) is ((start, target) in ALLOWED)
    if (start, target) not in ALLOWED:
        with pytest.raises(Conflict):
            require_move(start, target)


# ---------------------------------------------------------------- checkout
def test_checkout_prices_from_the_catalog_and_offers_the_currencys_methods(world: World) -> None:
    started = world.checkout.start(ALICE, PLAN.plan_id, "cny")
    order = world.orders.get(started["order_id"])
    assert order is not None and (order.status, order.amount, order.currency) == ("pending", 7900, "CNY")
    assert order.session_id == started["session_id"] and order.locale == "zh-CN"
    (created,) = world.payments.created
    assert created["methods"] == ["card", "alipay", "wechat_pay"]
    assert created["expires_at"] - T0 >= timedelta(minutes=30)
    assert started["expires_at"].endswith("Z")


def test_a_currency_the_plan_is_not_sold_in_is_422_and_creates_nothing(world: World) -> None:
    with pytest.raises(InvalidInput) as refused:
        world.checkout.start(ALICE, PLAN.plan_id, "USD")
    assert refused.value.status == 422 and world.orders.orders == {} and world.payments.created == []


def test_sync_when_stripe_is_down_is_a_502_and_the_order_stays_pending(world: World) -> None:
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    world.payments.fail = True
    with pytest.raises(PaymentProviderUnavailable) as failed:
        world.fulfilment.sync("alice", started["order_id"])
    assert failed.value.status == 502
    assert world.orders.orders[started["order_id"]].status == "pending"


# ---------------------------------------------------------------- Idempotency-Key (Powertools)
class MemoryPersistence:
    """Powertools' persistence contract kept in a dict (its DynamoDB layer, without DynamoDB)."""

    def __new__(cls) -> Any:
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyItemAlreadyExistsError,
            IdempotencyItemNotFoundError,
        )
        from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

        class Layer(BasePersistenceLayer):
            def __init__(self) -> None:
                super().__init__()
                self.records: dict[str, Any] = {}

            def _get_record(self, idempotency_key: str) -> Any:
                if idempotency_key not in self.records:
                    raise IdempotencyItemNotFoundError
                return self.records[idempotency_key]

            def _put_record(self, data_record: Any) -> None:
                if data_record.idempotency_key in self.records:
                    raise IdempotencyItemAlreadyExistsError
                self.records[data_record.idempotency_key] = data_record

            def _update_record(self, data_record: Any) -> None:
                self.records[data_record.idempotency_key] = data_record

            def _delete_record(self, data_record: Any) -> None:
                self.records.pop(data_record.idempotency_key, None)

        return Layer()


@pytest.mark.filterwarnings("ignore:Couldn't determine the remaining time left")
def test_idempotency_key_replays_refuses_another_body_and_reports_in_flight(world: World) -> None:
    from aws_lambda_powertools.utilities.idempotency import idempotent_function

    calls: list[dict[str, Any]] = []

    @idempotent_function(
        data_keyword_argument="request", config=idempotency_config("account_id"), persistence_store=MemoryPersistence()
    )
    def start_once(request: dict[str, Any]) -> dict[str, Any]:
        calls.append(request)
        if request["body"].get("reenter"):  # the same key arriving while this one still runs
            call_once(start_once, request)
        return world.checkout.start(ALICE, request["body"]["plan_id"], request["body"]["currency"])

    body = {"plan_id": PLAN.plan_id, "currency": "EUR"}
    request: dict[str, Any] = {"account_id": "alice", "idempotency_key": "k1", "body": body}
    first = call_once(start_once, request)
    assert call_once(start_once, copy.deepcopy(request)) == first
    assert len(calls) == 1 and len(world.orders.orders) == 1
    with pytest.raises(InvalidInput) as reused:
        call_once(start_once, {**request, "body": {"plan_id": PLAN.plan_id, "currency": "CNY"}})
    assert reused.value.code == "idempotency_key_reused"
    with pytest.raises(Conflict) as running:
        call_once(start_once, {**request, "idempotency_key": "k2", "body": {**body, "reenter": True}})
    assert running.value.code == "request_in_progress"


# ---------------------------------------------------------------- fulfilment and activation
def test_the_same_session_fulfilled_five_times_enqueues_five_times_and_activates_once(world: World) -> None:
    """Every fulfil of a paid order enqueues again (a lost send is mended by the next event or
    sync); activation is the exactly-once point."""
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    world.payments.pay(started["session_id"])
    for _ in range(5):
        assert world.fulfilment.fulfil(started["order_id"]).status == "paid"
    assert world.queue.sent == [started["order_id"]] * 5
    for order_id in [*world.queue.sent, started["order_id"]]:  # every message, and one redelivery
        assert world.activation.activate(order_id) == "activated"
    assert world.data_mb() == 5000 and len(world.mailer.sent) == 1


def test_a_mail_service_failure_releases_the_claim_so_the_redelivery_sends(world: World) -> None:
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    world.payments.pay(started["session_id"])
    world.fulfilment.fulfil(started["order_id"])
    world.mailer.fail = True
    with pytest.raises(ConnectionError):  # the SQS record fails: the message comes back
        world.activation.activate(started["order_id"])
    assert world.data_mb() == 5000  # the plan itself is committed
    world.mailer.fail = False
    assert world.activation.activate(started["order_id"]) == "activated"  # no lease to wait out
    assert len(world.mailer.sent) == 1 and world.data_mb() == 5000


def test_a_delivery_that_finds_the_mail_claimed_but_unsent_fails_until_the_lease_ends(world: World) -> None:
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    world.payments.pay(started["session_id"])
    world.fulfilment.fulfil(started["order_id"])
    order = world.orders.get(started["order_id"])
    assert order is not None
    line = world.lines.get(ICCID)
    assert line is not None
    # a worker committed the activation and claimed the mail, then died
    world.orders.activate(order, line, (Bundle("EU", 5000, T0 + timedelta(days=7), T0, 5000),), {})
    assert world.orders.claim_mail(started["order_id"], T0)
    with pytest.raises(ConfirmationPending):  # SQS brings the message back later
        world.activation.activate(started["order_id"])
    assert world.mailer.sent == []
    world.now[0] = T0 + timedelta(seconds=61)
    assert world.activation.activate(started["order_id"]) == "activated"
    assert len(world.mailer.sent) == 1 and world.data_mb() == 5000
    assert world.activation.activate(started["order_id"]) == "activated" and len(world.mailer.sent) == 1


def test_the_confirmation_is_in_the_accounts_language_and_time_zone(world: World) -> None:
    world.paid_and_activated()
    (mail,) = world.mailer.sent
    assert mail.to == "alice@example.com" and "已生效" in mail.subject
    assert "2026-12-02 16:00 CST" in mail.text  # T0 + 7 days, 08:00 UTC is 16:00 in Shanghai
    assert "5,000 MB" in mail.text and "W-20261125-" in mail.html


# ---------------------------------------------------------------- refunds through the use case
def test_partial_refunds_count_once_each_and_the_rest_takes_the_rest(world: World) -> None:
    order_id = world.paid_and_activated()
    intent = world.orders.orders[order_id].payment_intent
    world.payments.refunds["ch_1"] = [Refund("re_1", 250, "succeeded"), Refund("re_pending", 100, "pending")]
    for _ in range(3):  # charge.refunded delivered three times, or listing the same refund again
        world.fulfilment.apply_refunds("ch_1", intent)
    order = world.orders.orders[order_id]
    assert (order.status, order.refunded_amount, order.refund_ids) == ("activated", 250, frozenset({"re_1"}))
    assert world.data_mb() == 3750
    world.payments.refunds["ch_1"].append(Refund("re_2", 750, "succeeded"))
    world.fulfilment.apply_refunds("ch_1", intent)
    order = world.orders.orders[order_id]
    assert (order.status, order.refunded_amount) == ("refunded", 1000) and world.data_mb() == 0


def test_a_refund_share_rounds_down_and_never_goes_below_zero(world: World) -> None:
    order_id = world.paid_and_activated()
    order = world.orders.orders[order_id]
    live = Bundle("EU", 1000, T0 + timedelta(days=3), T0, 1000)
    third = apply_refund(order, 333, [live], T0)
    assert third.taken_back_mb == 333 and third.bundles[0].remaining_data_mb == 667  # 1000 * 333 // 1000
    odd = apply_refund(order, 1, [Bundle("EU", 7, live.expires_at, T0, 7)], T0)
    assert odd.taken_back_mb == 0 and odd.status == "activated"
    empty = apply_refund(order, 999, [Bundle("EU", 0, live.expires_at, T0, 7)], T0)
    assert empty.bundles[0].remaining_data_mb == 0


def test_a_refund_that_overtakes_the_payment_settles_it_first_and_is_never_activated(world: World) -> None:
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    world.payments.pay(started["session_id"])  # paid at Stripe, but no event has reached us yet
    world.payments.refunds["ch_1"] = [Refund("re_1", 1000, "succeeded")]
    intent = world.payments.sessions[started["session_id"]].payment_intent
    # the order has no payment intent yet: found by the order id in the charge's metadata
    assert world.fulfilment.apply_refunds("ch_1", intent, started["order_id"]) is True
    assert world.orders.orders[started["order_id"]].status == "refunded"
    assert world.activation.activate(started["order_id"]) == "refunded" and world.data_mb() == 0
    assert world.fulfilment.apply_refunds("ch_2", "pi_someone_elses", started["order_id"]) is False


# ---------------------------------------------------------------- the webhook, with Stripe's own events
def official(event_type: str, *, delayed: bool = False) -> dict[str, Any]:
    name = f"{event_type} (delayed payment method)" if delayed else event_type
    return copy.deepcopy(json.loads(FIXTURES.read_text())["events"][name])


def signed(event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, age_s: int = 0) -> tuple[bytes, str]:
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=int(time.time()) - age_s)
    return payload.encode(), header


def about_our_order(world: World, event_type: str, *, delayed: bool = False) -> tuple[dict[str, Any], str]:
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    event = official(event_type, delayed=delayed)
    session = event["data"]["object"]
    session.update(
        id=started["session_id"],
        client_reference_id=started["order_id"],
        metadata={"order_id": started["order_id"], "account_id": "alice"},
        amount_total=1000,
        currency="eur",
    )
    return event, started["order_id"]


@pytest.mark.parametrize(
    ("event_type", "delayed", "session_now", "status", "enqueued"),
    [
        ("checkout.session.completed", False, ("complete", "paid"), "paid", True),
        ("checkout.session.completed", True, ("complete", "unpaid"), "pending", False),
        ("checkout.session.async_payment_succeeded", False, ("complete", "paid"), "paid", True),
        ("checkout.session.async_payment_failed", False, ("complete", "unpaid"), "failed", False),
        ("checkout.session.expired", False, ("expired", "unpaid"), "expired", False),
    ],
)
def test_official_session_events_move_the_order_by_what_stripe_says_now(
    world: World, event_type: str, delayed: bool, session_now: tuple[str, str], status: str, enqueued: bool
) -> None:
    event, order_id = about_our_order(world, event_type, delayed=delayed)
    world.payments.settle(event["data"]["object"]["id"], *session_now)
    answer = world.fulfilment.handle_webhook(*signed(event))
    assert answer == {"received": True, "handled": True}
    assert world.orders.orders[order_id].status == status
    assert world.queue.sent == ([order_id] if enqueued else [])
    assert world.events.recorded == {event["id"]: event_type}
    assert world.fulfilment.handle_webhook(*signed(event)) == {"received": True, "duplicate": True}
    assert world.queue.sent == ([order_id] if enqueued else [])


def test_a_paid_session_for_less_than_the_order_sends_it_to_review(world: World) -> None:
    event, order_id = about_our_order(world, "checkout.session.completed")
    session_id = event["data"]["object"]["id"]
    world.payments.pay(session_id)
    world.payments.sessions[session_id] = replace(world.payments.sessions[session_id], amount_total=1)
    world.fulfilment.handle_webhook(*signed(event))
    order = world.orders.orders[order_id]
    assert order.status == "review" and "amount 1" in str(order.review_reason) and world.queue.sent == []


def test_official_charge_refunded_applies_the_charges_refunds(world: World) -> None:
    order_id = world.paid_and_activated()
    event = official("charge.refunded")
    event["data"]["object"]["payment_intent"] = world.orders.orders[order_id].payment_intent
    world.payments.refunds[event["data"]["object"]["id"]] = [Refund("re_1", 100, "succeeded")]
    assert world.fulfilment.handle_webhook(*signed(event))["handled"] is True
    assert world.orders.orders[order_id].refunded_amount == 100 and world.data_mb() == 4500


def test_unknown_event_types_are_acknowledged_and_ignored(world: World) -> None:
    event = {**official("charge.refunded"), "id": "evt_other", "type": "customer.created"}
    assert world.fulfilment.handle_webhook(*signed(event)) == {"received": True, "handled": False}


@pytest.mark.parametrize("how", ["missing", "garbage", "stale", "wrong-secret", "tampered", "not-json", "no-data"])
def test_bad_signatures_and_bodies_are_400_and_write_nothing(world: World, how: str) -> None:
    event, _ = about_our_order(world, "checkout.session.completed")
    world.payments.pay(event["data"]["object"]["id"])
    payload, header = signed(event)
    before = dict(world.orders.orders)
    arguments: tuple[bytes, str | None] = {
        "missing": (payload, None),
        "garbage": (payload, "t=1,v1=deadbeef"),
        "stale": signed(event, age_s=301),
        "wrong-secret": signed(event, secret="whsec_other"),
        "tampered": (payload.replace(b'"amount_total": 1000', b'"amount_total": 1'), header),
        "not-json": (b"{not json", stripe.WebhookSignature.generate_signature_header("{not json", WEBHOOK_SECRET)),
        "no-data": signed({"id": "evt_x", "object": "event", "type": "checkout.session.completed"}),
    }[how]
    with pytest.raises(BadEvent) as refused:
        world.fulfilment.handle_webhook(*arguments)
    assert refused.value.status == 400
    assert world.events.recorded == {} and world.queue.sent == [] and world.orders.orders == before
