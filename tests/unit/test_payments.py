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
from renewal.domain.errors import Conflict, InvalidInput, PaymentProviderUnavailable
from renewal.domain.lines import Bundle
from renewal.domain.orders import TRANSITIONS, Order, PlanSnapshot, can_move, require_move
from renewal.domain.pins import hash_pin
from renewal.domain.plans import plan_from_dict
from renewal.http.once import call_once, idempotency_config
from renewal.ports import LineRecord, Refund
from renewal.usecases.accounts import AccountService, Identity
from renewal.usecases.activation import Activation, ConfirmationPending
from renewal.usecases.checkout import CheckoutService, CheckoutSettings
from renewal.usecases.payments import BadEvent, Fulfilment
from renewal.usecases.reversals import ReversalPush
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
        self.accounts = FakeAccounts(self.lines)
        self.orders = FakeOrders(self.lines, self.accounts)
        verifier = StripePayments(secret=lambda: {"api_key": "sk_test_unit", "webhook_secret": WEBHOOK_SECRET})
        self.payments = FakePayments(verify=verifier.verify_event)
        self.queue, self.mailer, self.events = FakeQueue(), FakeMailer(), FakeEvents()
        clock = lambda: self.now[0]  # noqa: E731
        self.carrier = FakeCarrier(clock)
        methods = CheckoutSettings.parse_methods("CNY=alipay,wechat_pay;EUR=paypal")
        settings = CheckoutSettings("https://ok/{CHECKOUT_SESSION_ID}", "https://no", timedelta(minutes=30), methods)
        self.accounts_service = AccountService(self.accounts, self.lines, clock)
        self.checkout = CheckoutService(Catalog(), self.accounts_service, self.orders, self.payments, settings, clock)
        self.fulfilment = Fulfilment(
            self.orders, self.lines, self.payments, self.queue, self.events, clock, accounts=self.accounts
        )
        pusher = ReversalPush(self.orders.reversals, self.orders, self.carrier, self.mailer, clock)
        self.activation = Activation(
            self.orders, self.lines, self.mailer, self.carrier, self.queue, clock, reversals=pusher
        )

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


def test_checkout_reads_only_the_account_eventually_consistent_and_writes_the_order_once(world: World) -> None:
    world.checkout.start(ALICE, PLAN.plan_id, "EUR")  # the first sight creates the account
    world.accounts.reads.clear()
    world.lines.reads.clear()
    world.orders.calls.clear()
    started = world.checkout.start(ALICE, PLAN.plan_id, "CNY")  # another currency: a new checkout
    assert world.accounts.reads == [("alice", False)] and world.lines.reads == []
    assert world.orders.calls == ["create"]
    order = world.orders.orders[started["order_id"]]
    # No line yet: the payment takes one (renewal.usecases.pool).
    assert (order.session_id, order.iccid, order.email) == (started["session_id"], "", "alice@example.com")
    (_, created) = world.payments.created
    assert created["order_id"] == started["order_id"]  # the session names the order it was made for


def test_a_failed_session_writes_nothing_and_is_a_502(world: World) -> None:
    world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    before = dict(world.orders.orders)
    world.orders.calls.clear()
    world.payments.fail = True
    with pytest.raises(PaymentProviderUnavailable) as failed:
        world.checkout.start(ALICE, PLAN.plan_id, "CNY")
    assert failed.value.status == 502 and world.orders.orders == before and world.orders.calls == []


def test_a_failed_order_write_after_the_session_leaves_no_order_and_gives_no_url(world: World) -> None:
    """The session exists at Stripe, but its URL never reached the client: nothing can be paid,
    and it expires unpaid. A retry starts afresh with its own order and session."""
    world.orders.fail_create = True
    with pytest.raises(ConnectionError):
        world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    assert world.orders.orders == {} and len(world.payments.created) == 1
    world.orders.fail_create = False
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    assert list(world.orders.orders) == [started["order_id"]]
    assert started["order_id"] != world.payments.created[0]["order_id"]


def test_checkout_right_after_sign_up_finds_the_account_an_eventual_read_missed(world: World) -> None:
    world.accounts_service.view(ALICE)  # GET /account made it a moment ago
    world.accounts.lagging.add("alice")  # not yet visible to an eventually consistent read
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    assert world.accounts.reads == [("alice", True), ("alice", False), ("alice", True)]  # not created again
    assert world.orders.orders[started["order_id"]].account_id == "alice"


def test_concurrent_first_checkouts_make_one_account_and_take_no_line(world: World) -> None:
    """Another request creates the account between our (missed) reads and our create."""
    world.lines.add(LineRecord("8985200000000000021", hash_pin("2"), None), in_pool=True)
    real_get = world.accounts.get
    raced: list[bool] = []

    def get_then_another_request_creates(account_id: str, *, consistent: bool = True) -> Any:
        found = real_get(account_id, consistent=consistent)
        if consistent and not raced:
            raced.append(True)
            world.accounts_service.view(ALICE)  # the concurrent first sight wins
        return found

    world.accounts.get = get_then_another_request_creates  # type: ignore[method-assign]
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    world.accounts.get = real_get  # type: ignore[method-assign]
    account = world.accounts.accounts["alice"].account
    assert account.iccid is None and world.orders.orders[started["order_id"]].iccid == ""
    assert len(world.lines.pool) == 2  # checkout takes no line: the payment will


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


def paid_order(world: World) -> str:
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    world.payments.pay(started["session_id"])
    world.fulfilment.fulfil(started["order_id"])
    world.orders.calls.clear()
    world.lines.reads.clear()
    return str(started["order_id"])


def test_a_fresh_activation_reads_twice_writes_one_transaction_and_marks_the_mail_sent(world: World) -> None:
    order_id = paid_order(world)
    assert world.activation.activate(order_id) == "activated"
    assert world.orders.calls == ["get", "activate", "mail_sent"]  # no claim, no re-read for the mail
    assert world.lines.reads == [ICCID]
    order = world.orders.orders[order_id]
    assert order.status == "activated" and order.mail_sent and len(world.mailer.sent) == 1


def test_the_confirmation_is_written_from_what_the_activation_committed(world: World) -> None:
    asia = Bundle("ASIA", 300, T0 + timedelta(days=2), T0 - timedelta(days=1), 1000)
    eu = Bundle("EU", 700, T0 + timedelta(days=3), T0 - timedelta(days=4), 5000)
    world.accounts_service.view(ALICE)
    world.accounts.take_line("alice", ICCID, True)  # a first payment gave alice this line
    world.lines.lines[ICCID] = replace(world.lines.lines[ICCID], bundles=(asia, eu))
    order_id = paid_order(world)
    world.activation.activate(order_id)
    (mail,) = world.mailer.sent
    assert "6,000 MB" in mail.text  # 300 (Asia) + 700 + 5,000 (Europe, topped up)
    assert "2026-12-05 16:00 CST" in mail.text  # the EU bundle's 3 days left + 7, in Shanghai
    assert str(world.orders.orders[order_id].receipt_no).startswith("W-20261125-")
    assert str(world.orders.orders[order_id].receipt_no) in mail.text


def test_the_mail_claim_is_taken_in_the_activation_and_holds_off_a_duplicate_until_sent(world: World) -> None:
    order_id = paid_order(world)
    add_bundle = world.carrier.add_bundle

    def slow_carrier(request: Any) -> Any:
        world.now[0] = T0 + timedelta(seconds=50)  # the network took 50 s to confirm
        return add_bundle(request)

    world.carrier.add_bundle = slow_carrier  # type: ignore[method-assign]
    duplicate: list[BaseException] = []
    send = world.mailer.send

    def send_while_a_duplicate_arrives(mail: Any) -> None:
        # The claim's lease counts from the commit, not from before the carrier's 50 s.
        assert world.orders.mail_claims[order_id] == T0 + timedelta(seconds=50)
        world.now[0] = T0 + timedelta(seconds=100)  # past a lease counted from T0
        with pytest.raises(ConfirmationPending) as pending:
            world.activation.activate(order_id)  # SQS delivers the message again meanwhile
        duplicate.append(pending.value)
        send(mail)

    world.mailer.send = send_while_a_duplicate_arrives  # type: ignore[method-assign]
    assert world.activation.activate(order_id) == "activated"
    assert len(duplicate) == 1 and len(world.mailer.sent) == 1
    assert world.activation.activate(order_id) == "activated" and len(world.mailer.sent) == 1


def test_a_failed_send_right_after_the_activation_releases_the_claim(world: World) -> None:
    order_id = paid_order(world)
    world.mailer.fail = True
    with pytest.raises(ConnectionError):
        world.activation.activate(order_id)
    assert world.orders.calls == ["get", "activate", "release_mail"] and order_id not in world.orders.mail_claims
    world.mailer.fail = False
    assert world.activation.activate(order_id) == "activated" and len(world.mailer.sent) == 1


def test_a_walk_in_order_without_an_address_is_activated_and_marked_sent_in_one_write(world: World) -> None:
    world.lines.lines[ICCID] = replace(world.lines.lines[ICCID], account_id=None)
    walk_in = Order(
        "store-1", "", ICCID, PlanSnapshot.of(PLAN), "store", "paid", 1000, "EUR", T0, receipt_no="HKG-T1-000001"
    )
    world.orders.create(walk_in)
    world.orders.calls.clear()
    assert world.activation.activate("store-1") == "activated"
    assert world.orders.calls == ["get", "activate"]
    assert world.orders.orders["store-1"].mail_sent and world.mailer.sent == []
    assert world.activation.activate("store-1") == "activated" and world.mailer.sent == []
    assert world.data_mb() == PLAN.data_mb


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
def test_official_session_events_move_the_order_by_the_events_own_session_without_asking_stripe(
    world: World, event_type: str, delayed: bool, session_now: tuple[str, str], status: str, enqueued: bool
) -> None:
    event, order_id = about_our_order(world, event_type, delayed=delayed)
    assert (event["data"]["object"]["status"], event["data"]["object"]["payment_status"]) == session_now
    # Stripe's own copy still says "open": only the signed event's session can move the order.
    assert world.payments.sessions[event["data"]["object"]["id"]].status == "open"
    answer = world.fulfilment.handle_webhook(*signed(event))
    assert world.payments.session_reads == []
    assert answer == {"received": True, "handled": True}
    assert world.orders.orders[order_id].status == status
    assert world.queue.sent == ([order_id] if enqueued else [])
    assert world.events.recorded == {event["id"]: event_type}
    assert world.fulfilment.handle_webhook(*signed(event)) == {"received": True, "duplicate": True}
    assert world.queue.sent == ([order_id] if enqueued else [])


def test_a_paid_session_for_less_than_the_order_sends_it_to_review(world: World) -> None:
    event, order_id = about_our_order(world, "checkout.session.completed")
    event["data"]["object"]["amount_total"] = 1  # signed so by Stripe: the event's session is checked
    world.payments.pay(event["data"]["object"]["id"])  # Stripe's copy (not read) would match
    world.fulfilment.handle_webhook(*signed(event))
    order = world.orders.orders[order_id]
    assert order.status == "review" and "amount 1" in str(order.review_reason) and world.queue.sent == []
    assert world.payments.session_reads == []


@pytest.mark.parametrize("field", ["amount_total", "currency", "client_reference_id", "account_id"])
def test_sync_checks_the_session_it_reads_from_stripe_against_the_order(world: World, field: str) -> None:
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    world.payments.pay(started["session_id"])
    wrong: Any = {"amount_total": 1, "currency": "usd", "client_reference_id": "other", "account_id": "bob"}[field]
    world.payments.sessions[started["session_id"]] = replace(
        world.payments.sessions[started["session_id"]], **{field: wrong}
    )
    assert world.fulfilment.sync("alice", started["order_id"]).status == "review"
    assert world.payments.session_reads == [started["session_id"]] and world.queue.sent == []


def test_a_webhook_for_another_session_of_our_order_moves_nothing_unless_paid(world: World) -> None:
    """An expired event of some other session naming our order: the order is not expired."""
    event, order_id = about_our_order(world, "checkout.session.expired")
    event["data"]["object"]["id"] = "cs_someone_elses"
    assert world.fulfilment.handle_webhook(*signed(event))["handled"] is True
    assert world.orders.orders[order_id].status == "pending" and world.payments.session_reads == []


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


@pytest.mark.parametrize(
    "how", ["missing", "garbage", "stale", "wrong-secret", "tampered", "not-json", "json-array", "not-utf8", "no-data"]
)
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
        "json-array": (b"[1, 2]", stripe.WebhookSignature.generate_signature_header("[1, 2]", WEBHOOK_SECRET)),
        "not-utf8": (b"\xff{}", header),
        "no-data": signed({"id": "evt_x", "object": "event", "type": "checkout.session.completed"}),
    }[how]
    with pytest.raises(BadEvent) as refused:
        world.fulfilment.handle_webhook(*arguments)
    assert refused.value.status == 400
    assert world.events.recorded == {} and world.queue.sent == [] and world.orders.orders == before


@pytest.mark.parametrize("event_type", sorted(json.loads(FIXTURES.read_text())["events"]))
def test_a_verified_event_reads_as_stripe_s_own_construct_event_gives_it(event_type: str) -> None:
    """verify_event checks with stripe's WebhookSignature and parses plain JSON; what it returns
    must be what `stripe.Webhook.construct_event(...).to_dict()` would have given, except that the
    SDK turns decimal-string fields (a session's `currency_conversion.fx_rate`) into Decimal; we
    read none of them and keep Stripe's strings."""
    payload, header = signed(official(event_type))
    verifier = StripePayments(secret=lambda: {"api_key": "sk_test_unit", "webhook_secret": WEBHOOK_SECRET})
    constructed = stripe.Webhook.construct_event(payload.decode(), header, WEBHOOK_SECRET).to_dict()
    assert verifier.verify_event(payload, header) == json.loads(json.dumps(constructed, default=str))
