"""Refunds, voids and disputes through the use cases, over fakes: what our books take back, the
reversal written with it, the carrier taking the same back, the customer told once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from renewal.domain.lines import DAY_S
from renewal.ports import CarrierUnavailable, Refund
from renewal.usecases.reconciliation import Reconciliation, ReconciliationSettings
from renewal.usecases.reversals import ReversalPush
from tests.unit.fakes_orders import FakeMailer
from tests.unit.test_carrier_activation import FakeIssues, paid
from tests.unit.test_payments import ICCID, T0, World, official, signed

WEEK_S = 7 * DAY_S


@pytest.fixture
def world() -> World:
    return World()


def pusher(world: World, mailer: FakeMailer | None = None) -> ReversalPush:
    return ReversalPush(
        world.orders.reversals, world.orders, world.carrier, mailer or world.mailer, lambda: world.now[0]
    )


def refund(world: World, order_id: str, refund_id: str, amount: int) -> None:
    intent = world.orders.orders[order_id].payment_intent
    charge = f"ch_{order_id}"  # one charge per order, as at Stripe
    world.payments.refunds.setdefault(charge, []).append(Refund(refund_id, amount, "succeeded"))
    world.fulfilment.apply_refunds(charge, intent)


def network_mb(world: World) -> int:
    bundle = world.carrier.bundle(ICCID, "EU")
    return bundle.data_mb if bundle else 0


def drain(world: World, mailer: FakeMailer | None = None) -> None:
    push = pusher(world, mailer)
    while world.queue.reversals:
        push.push(world.queue.reversals.pop(0))


def test_a_refund_writes_a_reversal_that_takes_the_same_back_at_the_carrier_and_tells_the_customer(
    world: World,
) -> None:
    order_id = world.paid_and_activated()
    refund(world, order_id, "re_1", 250)  # a quarter of 1000
    reversal = world.orders.reversals.get("re_1")
    assert reversal is not None and (reversal.data_mb, reversal.validity_s) == (1250, WEEK_S // 4)
    assert world.queue.reversals == ["re_1"] and world.data_mb() == 3750
    assert network_mb(world) == 5000  # not yet at the carrier
    world.mailer.sent.clear()
    drain(world)
    assert network_mb(world) == 3750 and world.orders.reversals.items["re_1"].status == "done"
    (mail,) = world.mailer.sent
    assert "1,250 MB" in mail.text and "3,750 MB" in mail.text and "退款" in mail.subject  # Alice reads Chinese
    drain(world)  # a redelivered message changes nothing
    pusher(world).push("re_1")
    assert network_mb(world) == 3750 and len(world.mailer.sent) == 1
    assert world.carrier.reversal_requests == ["re_1"]


def test_a_reversal_is_retried_while_the_carrier_fails_and_applied_once(world: World) -> None:
    order_id = world.paid_and_activated()
    refund(world, order_id, "re_1", 1000)
    world.carrier.fail_next = 2
    push = pusher(world)
    for _ in range(2):  # SQS delivers the message again after each failure
        with pytest.raises(CarrierUnavailable):
            push.push("re_1")
    assert push.push("re_1") == "done"
    assert network_mb(world) == 0 and world.data_mb() == 0
    assert world.carrier.reversal_requests.count("re_1") == 3  # two failed, one applied


def test_a_refund_before_activation_is_credited_less_and_a_full_one_is_never_activated(world: World) -> None:
    order_id = paid(world)
    refund(world, order_id, "re_1", 500)
    assert world.activation.activate(order_id) == "activated"
    order = world.orders.orders[order_id]
    assert world.data_mb() == 2500 and network_mb(world) == 2500 and order.taken_back_mb == 2500
    other = paid(world)
    refund(world, other, "re_2", 1000)
    assert world.activation.activate(other) == "refunded"
    assert other not in world.carrier.requests and world.data_mb() == 2500


def test_a_refund_landing_between_the_carrier_call_and_our_write_is_reversed_at_the_carrier(world: World) -> None:
    order_id = paid(world)
    add_bundle = world.carrier.add_bundle
    raced: list[bool] = []

    def refund_during_the_call(request: Any) -> Any:
        added = add_bundle(request)
        if not raced:
            raced.append(True)
            refund(world, order_id, "re_1", 400)  # lands while the carrier is answering
        return added

    world.carrier.add_bundle = refund_during_the_call  # type: ignore[method-assign]
    assert world.activation.activate(order_id) == "activated"
    order = world.orders.orders[order_id]
    assert (order.credited_mb, order.taken_back_mb) == (3000, 2000) and world.data_mb() == 3000
    reversal = world.orders.reversals.get(f"activation-{order_id}")
    assert reversal is not None and (reversal.data_mb, reversal.validity_s) == (2000, WEEK_S * 4 // 10)
    assert network_mb(world) == 5000
    drain(world)
    assert network_mb(world) == 3000  # the carrier holds what we credited


def test_a_full_refund_after_the_carrier_call_reverses_everything_the_carrier_added(world: World) -> None:
    order_id = paid(world)
    add_bundle = world.carrier.add_bundle

    def refund_during_the_call(request: Any) -> Any:
        added = add_bundle(request)
        refund(world, order_id, "re_1", 1000)
        return added

    world.carrier.add_bundle = refund_during_the_call  # type: ignore[method-assign]
    assert world.activation.activate(order_id) == "refunded"
    reversal = world.orders.reversals.get("re_1")
    assert reversal is not None and (reversal.data_mb, reversal.validity_s) == (5000, WEEK_S)
    drain(world)
    assert network_mb(world) == 0 and world.data_mb() == 0


def test_a_lost_dispute_takes_back_like_a_full_refund_and_a_won_one_changes_nothing(world: World) -> None:
    lost, won = world.paid_and_activated(), world.paid_and_activated()
    for order_id, dispute_id in ((lost, "dp_lost"), (won, "dp_won")):
        event = official("charge.refunded")
        event.update(type="charge.dispute.created", id=f"evt_{dispute_id}")
        event["data"]["object"] = {
            "id": dispute_id, "object": "dispute", "status": "needs_response", "amount": 1000,
            "payment_intent": world.orders.orders[order_id].payment_intent,
        }  # fmt: skip
        assert world.fulfilment.handle_webhook(*signed(event))["handled"] is True
        assert world.orders.orders[order_id].dispute_status == "needs_response"
    for order_id, dispute_id, status in ((lost, "dp_lost", "lost"), (won, "dp_won", "won")):
        event = official("charge.refunded")
        event.update(type="charge.dispute.closed", id=f"evt_{dispute_id}_closed")
        event["data"]["object"] = {
            "id": dispute_id, "object": "dispute", "status": status, "amount": 1000,
            "payment_intent": world.orders.orders[order_id].payment_intent,
        }  # fmt: skip
        world.fulfilment.handle_webhook(*signed(event))
    assert world.orders.orders[lost].status == "refunded" and world.orders.orders[lost].dispute_status == "lost"
    assert world.orders.orders[won].status == "activated" and world.orders.orders[won].dispute_status == "won"
    assert world.orders.orders[lost].receipt()["dispute_status"] == "lost"
    assert world.data_mb() == 5000  # the won order's data stays
    world.mailer.sent.clear()
    drain(world)
    assert network_mb(world) == 5000
    (mail,) = world.mailer.sent
    assert "撤回" in mail.subject


def test_reconciliation_requeues_pending_reversals_flags_old_ones_and_compares_data(world: World) -> None:
    order_id = world.paid_and_activated()
    refund(world, order_id, "re_1", 250)
    world.queue.reversals.clear()  # the send after the commit was lost
    issues = FakeIssues()
    settings = ReconciliationSettings(stuck_after=timedelta(minutes=10), data_tolerance_mb=50)
    recon = Reconciliation(
        world.orders, world.orders, world.lines, world.lines, world.payments, world.fulfilment, world.queue,
        world.carrier, issues, settings, lambda: world.now[0], world.orders.reversals,
    )  # fmt: skip
    world.now[0] = T0 + timedelta(minutes=15)
    report = recon.run(world.now[0])
    assert report["reversals_requeued"] == ["re_1"] and world.queue.reversals == ["re_1"]
    assert report["lines_checked"] == 0  # the line waits for its reversal
    world.now[0] = T0 + timedelta(hours=2)
    world.queue.reversals.clear()
    recon.run(world.now[0])
    assert "reversal_pending#8985200000000000013#EU" in issues.issues
    drain(world) if world.queue.reversals else pusher(world).push("re_1")
    world.carrier.use(ICCID, "EU", 40)  # used on the network, not reported yet: within tolerance
    line = world.lines.get(ICCID)
    assert line is not None
    world.lines.write_bundles(line, line.bundles, world.now[0])  # the reversal marks the line changed
    assert "data_mismatch" not in str(recon.run(world.now[0])["flagged"])
    world.carrier.use(ICCID, "EU", 100)
    flagged = recon.run(world.now[0])["flagged"]
    assert [f["kind"] for f in flagged if f["kind"] == "data_mismatch"] == ["data_mismatch"]


def test_a_store_void_and_its_mail(world: World) -> None:
    """A void takes back through the same path (kind void, id void-<order>)."""
    order_id = world.paid_and_activated()
    order = world.orders.orders[order_id]
    world.orders.orders[order_id] = replace(order, channel="store", store_id="s1", locale="en")
    from renewal.domain.orders import VOIDED
    from renewal.usecases.refunds import RefundBook

    book = RefundBook(world.orders, world.lines, world.queue, lambda: world.now[0])
    voided = book.take_back(order_id, f"void-{order_id}", 1000, kind="void", full_status=VOIDED)
    assert voided is not None and voided.status == VOIDED and world.data_mb() == 0
    world.mailer.sent.clear()
    drain(world)
    (mail,) = world.mailer.sent
    assert "cancelled" in mail.subject and "5,000 MB" in mail.text and network_mb(world) == 0
