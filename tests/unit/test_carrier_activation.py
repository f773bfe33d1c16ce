"""Activation through the carrier, and reconciliation, over fakes: the network is asked once per
order, outages leave the order paid for a retry, refusals go to a person, nothing is credited
without the network's confirmation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from renewal.domain.issues import Issue
from renewal.ports import CarrierUnavailable
from renewal.usecases.reconciliation import Reconciliation, ReconciliationSettings
from tests.unit.test_payments import ALICE, ICCID, PLAN, World


class FakeIssues:
    def __init__(self) -> None:
        self.issues: dict[str, Issue] = {}

    def flag(self, issue: Issue, now: datetime) -> bool:
        new = issue.issue_id not in self.issues
        self.issues[issue.issue_id] = issue
        return new


def paid(world: World) -> str:
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    world.payments.pay(started["session_id"])
    world.fulfilment.fulfil(started["order_id"])
    return str(started["order_id"])


def test_the_carrier_down_leaves_the_order_paid_and_our_tables_untouched() -> None:
    world = World()
    order_id = paid(world)
    world.carrier.down = True
    with pytest.raises(CarrierUnavailable):
        world.activation.activate(order_id)
    order = world.orders.get(order_id)
    assert order is not None and order.status == "paid"
    assert world.data_mb() == 0 and world.mailer.sent == []
    world.carrier.down = False
    assert world.activation.activate(order_id) == "activated"
    assert world.data_mb() == PLAN.data_mb
    assert list(world.carrier.applied) == [order_id]


def test_a_refusal_moves_the_order_to_review_with_the_reason_and_credits_nothing() -> None:
    world = World()
    order_id = paid(world)
    world.carrier.refuse[ICCID] = ("line_lapsed", "the network retired this line")
    assert world.activation.activate(order_id) == "review"
    order = world.orders.get(order_id)
    assert (
        order is not None and order.review_reason == "the carrier refused (line_lapsed): the network retired this line"
    )
    assert world.data_mb() == 0 and world.mailer.sent == [] and world.carrier.applied == {}
    assert world.activation.activate(order_id) == "review"  # a redelivery changes nothing


def test_duplicate_deliveries_give_the_carrier_one_bundle_per_order() -> None:
    world = World()
    order_id = paid(world)
    for _ in range(3):
        assert world.activation.activate(order_id) == "activated"
    assert world.carrier.requests == [order_id]  # later deliveries see the order activated
    assert world.data_mb() == PLAN.data_mb and len(world.mailer.sent) == 1


def reconciliation(world: World, issues: FakeIssues) -> Reconciliation:
    settings = ReconciliationSettings(stuck_after=timedelta(minutes=10))
    return Reconciliation(
        world.orders, world.orders, world.lines, world.lines, world.payments, world.fulfilment, world.queue,
        world.carrier, issues, settings, lambda: datetime.now(UTC), pool=world.lines,
    )  # fmt: skip


def test_reconciliation_fulfils_a_lost_webhook_requeues_a_stuck_order_and_flags_the_network() -> None:
    world, issues = World(), FakeIssues()
    lost = world.checkout.start(ALICE, PLAN.plan_id, "CNY")
    world.payments.pay(lost["session_id"])  # paid at Stripe; the webhook never came
    stuck = paid(world)  # paid, queued, and the worker crashed before activating
    world.queue.sent.clear()
    now = datetime.now(UTC) + timedelta(hours=1)
    world.now[0] = now  # an hour after both were paid
    report: dict[str, Any] = reconciliation(world, issues).run(now)
    assert report["fulfilled"] == [lost["order_id"]]
    assert report["requeued"] == [stuck] and report["orders_waiting"] == 1
    assert report["pool_available"] == len(world.lines.pool)  # the PoolLinesAvailable metric
    world.lines.pool.update({"8900000000000000001", "8900000000000000002"})
    assert reconciliation(world, issues).run(now)["pool_available"] == len(world.lines.pool) >= 2
    assert set(world.queue.sent) == {lost["order_id"], stuck}
    for order_id in world.queue.sent:
        world.activation.activate(order_id)
    assert world.data_mb() == 2 * PLAN.data_mb

    # Our line now holds a bundle; the fake network knows both orders: nothing to flag...
    clean = reconciliation(world, issues).run(now)
    assert clean["flagged"] == [] and clean["lines_checked"] == 1
    # ... until the network loses it.
    world.carrier.forget(ICCID, "EU")
    flagged = reconciliation(world, issues).run(now)
    assert [f["kind"] for f in flagged["flagged"]] == ["network_missing_bundle"]
    assert flagged["new_issues"] == 1
    assert reconciliation(world, issues).run(now)["new_issues"] == 0  # flagged once, seen again


def test_reconciliation_survives_stripe_and_the_carrier_being_down() -> None:
    world, issues = World(), FakeIssues()
    world.activation.activate(paid(world))
    world.payments.fail = True
    world.carrier.down = True
    report = reconciliation(world, issues).run(datetime.now(UTC) + timedelta(minutes=1))
    assert report["stripe_unreachable"] is True and report["carrier_unreachable"] == 1
    assert report["flagged"] == []


def test_reconciliation_counts_the_lines_waiting_in_the_pool() -> None:
    """The PoolLinesAvailable metric (and PoolLowAlarm) read this count from each run."""
    world, issues = World(), FakeIssues()
    before = len(world.lines.pool)
    for serial in range(3):
        world.lines.pool.add(f"pool-{serial}")
    assert reconciliation(world, issues).run(datetime.now(UTC))["pool_available"] == before + 3
    world.lines.pool.pop()
    assert reconciliation(world, issues).run(datetime.now(UTC))["pool_available"] == before + 2
