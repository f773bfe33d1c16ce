"""Per-account limits (issue 14, point 4): a few open checkouts, a second checkout for the same plan
and currency answers the open one, and a sync rate that lets the success page poll every 4 s."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from renewal.domain.errors import TooManyAttempts
from renewal.domain.limits import MAX_OPEN_CHECKOUTS, SYNCS_PER_WINDOW
from renewal.domain.plans import plan_from_dict
from renewal.usecases.checkout import CheckoutService, CheckoutSettings, SyncLimit
from tests.unit.test_payments import ALICE, PLAN, T0, World

OTHER = plan_from_dict({**PLAN.view(), "plan_id": "eu-weekly-10gb", "name": "Europe weekly 10 GB"})


class TwoPlans:
    def all_plans(self) -> list[Any]:
        return [PLAN, OTHER]

    def plans_in_region(self, region: str) -> list[Any]:
        return [PLAN, OTHER]

    def get(self, plan_id: str) -> Any:
        return {p.plan_id: p for p in (PLAN, OTHER)}.get(plan_id)


class FakeWindows:
    """The DynamoDB adapter's contract: a count per key and window, refused at the limit."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, datetime], int] = {}

    def take(self, key: str, window_start: datetime, limit: int, expires: datetime) -> bool:
        if self.counts.get((key, window_start), 0) >= limit:
            return False
        self.counts[(key, window_start)] = self.counts.get((key, window_start), 0) + 1
        return True


@pytest.fixture
def world() -> World:
    return World()


def checkouts(world: World) -> CheckoutService:
    settings = CheckoutSettings("https://ok", "https://no", timedelta(minutes=30), {})
    return CheckoutService(
        TwoPlans(), world.accounts_service, world.orders, world.payments, settings, lambda: world.now[0]
    )


def test_a_second_checkout_for_the_same_plan_and_currency_answers_the_open_one(world: World) -> None:
    service = checkouts(world)
    first = service.start(ALICE, PLAN.plan_id, "EUR")
    world.now[0] = T0 + timedelta(minutes=10)
    again = service.start(ALICE, PLAN.plan_id, "eur")
    assert again == first  # same order, session, URL and expiry
    assert len(world.payments.created) == 1 and len(world.orders.orders) == 1
    assert service.start(ALICE, PLAN.plan_id, "CNY")["order_id"] != first["order_id"]  # another currency
    world.payments.pay(first["session_id"])
    world.fulfilment.fulfil(first["order_id"])
    assert service.start(ALICE, PLAN.plan_id, "EUR")["order_id"] != first["order_id"]  # paid: no longer open


def test_at_most_a_few_checkouts_are_open_then_429_until_the_oldest_expires(world: World) -> None:
    service = checkouts(world)
    combos = [(PLAN.plan_id, "EUR"), (PLAN.plan_id, "CNY"), (OTHER.plan_id, "EUR"), (OTHER.plan_id, "CNY")]
    for minute, (plan_id, currency) in enumerate(combos[:MAX_OPEN_CHECKOUTS]):
        world.now[0] = T0 + timedelta(minutes=minute)
        service.start(ALICE, plan_id, currency)
    world.now[0] = T0 + timedelta(minutes=5)
    with pytest.raises(TooManyAttempts) as refused:
        service.start(ALICE, *combos[MAX_OPEN_CHECKOUTS])
    assert (refused.value.status, refused.value.code) == (429, "too_many_open_checkouts")
    assert refused.value.retry_after == 25 * 60 + 5  # the first one's session expires then
    assert len(world.payments.created) == MAX_OPEN_CHECKOUTS
    world.now[0] = T0 + timedelta(minutes=30, seconds=6)  # the first has expired
    service.start(ALICE, *combos[MAX_OPEN_CHECKOUTS])


def test_syncs_let_the_success_page_poll_every_4_seconds_but_not_flood() -> None:
    now = [T0 + timedelta(seconds=1)]
    limit = SyncLimit(FakeWindows(), lambda: now[0])
    for poll in range(15):  # every 4 s for a minute
        now[0] = T0 + timedelta(seconds=1 + 4 * poll)
        limit.take(ALICE)
    flood = SyncLimit(FakeWindows(), lambda: T0 + timedelta(seconds=10))
    for _ in range(SYNCS_PER_WINDOW):
        flood.take(ALICE)
    with pytest.raises(TooManyAttempts) as refused:
        flood.take(ALICE)
    assert (refused.value.code, refused.value.retry_after) == ("too_many_syncs", 50)
