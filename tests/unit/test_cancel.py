"""Abandoned checkouts end: POST /orders/{id}/cancel over fakes (the session is expired at Stripe
first, then the order moves only through fulfilment), and the order view's "Pay now" link."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from renewal.domain.errors import Conflict, NotFound, PaymentProviderUnavailable
from tests.unit.test_payments import ALICE, PLAN, T0, World


@pytest.fixture
def world() -> World:
    return World()


def pending(world: World) -> tuple[str, str]:
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    return str(started["order_id"]), str(started["session_id"])


def test_cancel_expires_the_session_at_stripe_then_the_order(world: World) -> None:
    order_id, session_id = pending(world)
    cancelled = world.fulfilment.cancel("alice", order_id)
    assert cancelled.status == "expired" and world.orders.orders[order_id].status == "expired"
    assert world.payments.expired == [session_id]
    assert world.payments.sessions[session_id].status == "expired"
    assert session_id in world.payments.session_reads  # fulfilment re-read the session
    assert world.queue.sent == [] and cancelled.view(T0)["checkout_url"] is None


def test_cancel_racing_a_completed_payment_is_409_and_the_order_is_paid_and_queued(world: World) -> None:
    """The customer paid on the hosted page a moment before cancelling, and the webhook has not
    arrived: the expire finds the session complete, and fulfilment takes the payment."""
    order_id, session_id = pending(world)
    world.payments.pay(session_id)
    with pytest.raises(Conflict) as refused:
        world.fulfilment.cancel("alice", order_id)
    assert (refused.value.status, refused.value.code) == (409, "order_already_paid")
    assert world.orders.orders[order_id].status == "paid"
    assert world.queue.sent == [order_id]
    assert world.payments.sessions[session_id].status == "complete"
    assert world.activation.activate(order_id) == "activated"


def test_cancel_while_an_async_payment_is_processing_is_409_and_the_order_stays_pending(world: World) -> None:
    order_id, session_id = pending(world)
    world.payments.settle(session_id, "complete", "unpaid")
    with pytest.raises(Conflict) as refused:
        world.fulfilment.cancel("alice", order_id)
    assert refused.value.code == "payment_in_progress"
    assert world.orders.orders[order_id].status == "pending" and world.queue.sent == []


def test_another_customers_order_is_404_and_nothing_is_expired(world: World) -> None:
    order_id, _ = pending(world)
    with pytest.raises(NotFound) as missing:
        world.fulfilment.cancel("bob", order_id)
    assert (missing.value.status, missing.value.code) == (404, "order_not_found")
    with pytest.raises(NotFound):
        world.fulfilment.cancel("alice", "no-such-order")
    assert world.payments.expired == [] and world.orders.orders[order_id].status == "pending"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("paid", "order_already_paid"),
        ("activated", "order_already_paid"),
        ("failed", "order_not_pending"),
        ("review", "order_not_pending"),
        ("refunded", "order_not_pending"),
    ],
)
def test_an_order_that_is_not_pending_is_409_and_stripe_is_not_asked(world: World, status: str, code: str) -> None:
    order_id, _ = pending(world)
    world.orders.orders[order_id] = replace(world.orders.orders[order_id], status=status)
    with pytest.raises(Conflict) as refused:
        world.fulfilment.cancel("alice", order_id)
    assert (refused.value.status, refused.value.code) == (409, code)
    assert world.payments.expired == [] and world.orders.orders[order_id].status == status


def test_a_second_cancel_answers_the_expired_order_again_without_asking_stripe(world: World) -> None:
    order_id, _ = pending(world)
    first = world.fulfilment.cancel("alice", order_id)
    world.payments.session_reads.clear()
    world.orders.calls.clear()
    again = world.fulfilment.cancel("alice", order_id)
    assert again == first and again.status == "expired"
    assert len(world.payments.expired) == 1 and world.payments.session_reads == []
    assert world.orders.calls == ["get"]  # one read, no write


def test_cancel_of_an_order_whose_session_lapsed_already_expires_it(world: World) -> None:
    """Stripe expired the session and its webhook is late: the expire is refused as not open,
    which is not a failure, and fulfilment reads the session and expires the order."""
    order_id, session_id = pending(world)
    world.payments.sessions[session_id] = replace(world.payments.sessions[session_id], status="expired")
    assert world.fulfilment.cancel("alice", order_id).status == "expired"


def test_cancel_when_stripe_is_down_is_a_502_and_the_order_stays_pending(world: World) -> None:
    order_id, session_id = pending(world)
    world.payments.fail = True
    with pytest.raises(PaymentProviderUnavailable) as failed:
        world.fulfilment.cancel("alice", order_id)
    assert failed.value.status == 502
    assert world.orders.orders[order_id].status == "pending"
    world.payments.fail = False
    assert world.payments.sessions[session_id].status == "open"  # still payable: nothing changed


def test_a_pending_order_without_a_session_is_409(world: World) -> None:
    order_id, _ = pending(world)
    world.orders.orders[order_id] = replace(world.orders.orders[order_id], session_id=None)
    with pytest.raises(Conflict) as refused:
        world.fulfilment.cancel("alice", order_id)
    assert refused.value.code == "order_not_cancellable" and world.payments.expired == []


# ---------------------------------------------------------------- "Pay now" on the order's view
def test_the_view_carries_the_checkout_url_only_while_the_order_is_payable(world: World) -> None:
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    order = world.orders.orders[started["order_id"]]
    assert order.checkout_url == started["checkout_url"]
    assert order.session_expires_at is not None and order.session_expires_at - T0 > timedelta(minutes=30)
    assert order.view(T0)["checkout_url"] == started["checkout_url"]
    assert order.view(order.session_expires_at - timedelta(seconds=1))["checkout_url"] == started["checkout_url"]
    assert order.view(order.session_expires_at)["checkout_url"] is None  # the session has lapsed
    for status in ("paid", "activated", "expired", "failed", "review"):
        assert replace(order, status=status).view(T0)["checkout_url"] is None
    assert replace(order, checkout_url=None).view(T0)["checkout_url"] is None  # an order from before


def test_a_paid_order_s_view_has_no_checkout_url(world: World) -> None:
    order_id = world.paid_and_activated()
    assert world.orders.orders[order_id].view(T0)["checkout_url"] is None
