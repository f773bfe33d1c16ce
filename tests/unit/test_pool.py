"""The eSIM pool (issue 14, point 3): signing up and checkout take no line; the write that moves
an account's first order to paid takes one, once, even when payments race; a store sale by email
for an account without a line takes one the same way."""

from __future__ import annotations

from typing import Any

import pytest

from renewal.domain.errors import Unavailable
from renewal.domain.pins import hash_pin
from renewal.ports import LineRecord
from tests.unit.test_payments import ALICE, ICCID, PLAN, World

SECOND = "8985200000000000021"


@pytest.fixture
def world() -> World:
    world = World()
    world.lines.add(LineRecord(SECOND, hash_pin("2"), None), in_pool=True)
    return world


def _pay(world: World, currency: str = "EUR") -> str:
    started = world.checkout.start(ALICE, PLAN.plan_id, currency)
    world.payments.pay(started["session_id"])
    world.fulfilment.fulfil(started["order_id"])
    return str(started["order_id"])


def test_signing_up_and_checking_out_take_no_line_the_first_payment_takes_one(world: World) -> None:
    assert world.accounts_service.view(ALICE)["iccid"] is None
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    assert world.lines.pool == {ICCID, SECOND}
    world.payments.pay(started["session_id"])
    paid = world.fulfilment.fulfil(started["order_id"])
    line = world.accounts.accounts["alice"].account.iccid
    assert paid.status == "paid" and paid.iccid == line and line in (ICCID, SECOND)
    assert world.lines.pool == {ICCID, SECOND} - {line}
    assert world.lines.lines[line].account_id == "alice"
    assert world.accounts_service.view(ALICE)["iccid"] == line
    # Activation calls the carrier with that ICCID, as before.
    assert world.activation.activate(paid.order_id) == "activated"
    assert world.carrier.requests == [paid.order_id]
    assert sum(b.remaining_data_mb for b in world.lines.lines[line].bundles) == PLAN.data_mb
    # The next payment uses the account's line and takes nothing more.
    second = world.orders.orders[_pay(world, "CNY")]
    assert second.iccid == line and len(world.lines.pool) == 1


def test_a_payment_that_loses_the_race_uses_the_line_the_winner_took(world: World) -> None:
    first = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    second = world.checkout.start(ALICE, PLAN.plan_id, "CNY")
    for started in (first, second):
        world.payments.pay(started["session_id"])
    real_get = world.accounts.get
    raced: list[bool] = []

    def read_then_the_other_payment_wins(account_id: str, *, consistent: bool = True) -> Any:
        found = real_get(account_id, consistent=consistent)
        if not raced:
            raced.append(True)
            world.fulfilment.fulfil(second["order_id"])  # commits between our read and our write
        return found

    world.accounts.get = read_then_the_other_payment_wins  # type: ignore[method-assign]
    paid = world.fulfilment.fulfil(first["order_id"])
    world.accounts.get = real_get  # type: ignore[method-assign]
    other = world.orders.orders[second["order_id"]]
    assert paid.status == other.status == "paid"
    assert paid.iccid == other.iccid == world.accounts.accounts["alice"].account.iccid
    assert len(world.lines.pool) == 1  # one line taken, once


def test_an_empty_pool_leaves_the_order_pending_and_answers_503(world: World) -> None:
    started = world.checkout.start(ALICE, PLAN.plan_id, "EUR")
    world.lines.pool.clear()
    world.payments.pay(started["session_id"])
    with pytest.raises(Unavailable) as refused:
        world.fulfilment.fulfil(started["order_id"])
    assert (refused.value.status, refused.value.code) == (503, "no_lines_available")
    assert world.orders.orders[started["order_id"]].status == "pending"  # Stripe retries, sync again
    world.lines.pool.add(SECOND)  # lines provisioned: the retry pays it
    assert world.fulfilment.fulfil(started["order_id"]).iccid == SECOND
