"""Checkout, fulfilment and activation over fakes: the exactly-once rules without servers."""

from datetime import UTC, datetime, timedelta

import pytest

from renewal.domain.errors import NotFound, PaymentProviderUnavailable
from renewal.domain.lines import Bundle
from renewal.domain.pins import hash_pin
from renewal.domain.plans import plan_from_dict
from renewal.ports import LineRecord
from renewal.usecases.accounts import AccountService, Identity
from renewal.usecases.activation import Activation
from renewal.usecases.checkout import CheckoutService, CheckoutSettings
from renewal.usecases.payments import Fulfilment
from tests.unit.fakes import FakeAccounts, FakeLines
from tests.unit.fakes_carrier import FakeCarrier
from tests.unit.fakes_orders import FakeEvents, FakeMailer, FakeOrders, FakePayments, FakeQueue

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
ICCID = "8985200000000000013"
ALICE = Identity("alice", "alice@example.com")
PLAN = plan_from_dict(
    {"plan_id": "eu-daily-1gb", "name": "Europe daily 1 GB", "kind": "daily", "region": "EU", "countries": ["FR"],
     "data_mb": 1024, "validity_days": 1, "prices": {"EUR": 369}}
)  # fmt: skip


class Catalog:
    def all_plans(self):
        return [PLAN]

    def plans_in_region(self, region):
        return [PLAN]

    def get(self, plan_id):
        return PLAN if plan_id == PLAN.plan_id else None


@pytest.fixture
def world():
    lines = FakeLines()
    lines.add(LineRecord(ICCID, hash_pin("1"), None), in_pool=True)
    accounts = FakeAccounts(lines)
    orders, payments, queue, mailer = FakeOrders(lines, accounts), FakePayments(), FakeQueue(), FakeMailer()
    settings = CheckoutSettings("https://ok", "https://no", timedelta(minutes=30), {"EUR": ["paypal"]})
    clock = lambda: NOW  # noqa: E731
    checkout = CheckoutService(Catalog(), AccountService(accounts, lines, clock), orders, payments, settings, clock)
    fulfilment = Fulfilment(orders, lines, payments, queue, FakeEvents(), clock, accounts=accounts)
    activation = Activation(orders, lines, mailer, FakeCarrier(), queue, clock)
    return checkout, fulfilment, activation, orders, payments, queue, mailer, lines


def test_paid_order_activates_once_however_often_it_is_delivered(world) -> None:
    checkout, fulfilment, activation, orders, payments, queue, mailer, lines = world
    started = checkout.start(ALICE, PLAN.plan_id, "eur")
    payments.pay(started["session_id"])
    for _ in range(5):  # the same event, five times
        fulfilment.fulfil(started["order_id"])
    assert set(queue.sent) == {started["order_id"]}
    for order_id in queue.sent:  # every enqueue delivered, plus one redelivery
        activation.activate(order_id)
    assert activation.activate(started["order_id"]) == "activated"
    (bundle,) = lines.get(ICCID).bundles
    assert bundle.remaining_data_mb == 1024
    assert len(mailer.sent) == 1 and orders.get(started["order_id"]).receipt_no


def test_stripe_failure_writes_no_order_and_is_a_502(world) -> None:
    checkout, _, _, orders, payments, *_ = world
    payments.fail = True
    with pytest.raises(PaymentProviderUnavailable):
        checkout.start(ALICE, PLAN.plan_id, "EUR")
    assert orders.orders == {} and orders.calls == []


def test_unknown_plan_is_404_and_creates_nothing(world) -> None:
    checkout, _, _, orders, *_ = world
    with pytest.raises(NotFound):
        checkout.start(ALICE, "nope", "EUR")
    assert orders.orders == {}


def test_a_lapsed_line_sends_the_order_to_review_and_credits_nothing(world) -> None:
    checkout, fulfilment, activation, _, payments, _, mailer, lines = world
    started = checkout.start(ALICE, PLAN.plan_id, "EUR")
    payments.pay(started["session_id"])
    fulfilment.fulfil(started["order_id"])  # the payment gives alice the pool line
    old = Bundle("EU", 5, NOW - timedelta(days=200), NOW - timedelta(days=230), 5)
    lines.lines[ICCID] = LineRecord(ICCID, "x", "alice", (old,))  # a line long lapsed
    assert activation.activate(started["order_id"]) == "review"
    assert lines.get(ICCID).bundles == (old,) and mailer.sent == []


def test_a_lost_race_on_the_line_is_retried_and_both_renewals_count(world) -> None:
    checkout, fulfilment, activation, _, payments, _, _, lines = world
    first = checkout.start(ALICE, PLAN.plan_id, "EUR")
    payments.pay(first["session_id"])
    fulfilment.fulfil(first["order_id"])
    second = checkout.start(ALICE, PLAN.plan_id, "EUR")  # a new checkout: the first one is paid
    payments.pay(second["session_id"])
    fulfilment.fulfil(second["order_id"])
    real_get = lines.get
    raced: list[bool] = []

    def get_then_someone_else_writes(iccid):
        record = real_get(iccid)
        if not raced:
            raced.append(True)
            activation.activate(second["order_id"])  # commits between our read and our write
        return record

    lines.get = get_then_someone_else_writes
    activation.activate(first["order_id"])
    (bundle,) = real_get(ICCID).bundles
    assert bundle.remaining_data_mb == 2048
    assert bundle.expires_at == NOW + timedelta(days=2)
