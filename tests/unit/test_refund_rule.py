"""The refund rule (docs/domain.md "Refunds, voids and disputes"): each test fails without the
part of the rule it names."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from renewal.domain.lines import DAY_S, Bundle, Contribution, credit
from renewal.domain.orders import (
    ACTIVATED,
    PAID,
    PENDING,
    REFUNDED,
    VOIDED,
    Order,
    PlanSnapshot,
    activation_credit,
    apply_refund,
    share,
)
from renewal.domain.usage import draw_usage

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
JAPAN_7GB = PlanSnapshot("jp-weekly-7gb", "Japan weekly 7 GB", "JP", 7000, 7)
JAPAN_2GB = PlanSnapshot("jp-daily-2gb", "Japan daily 2 GB", "JP", 2000, 1)
COVERAGE = {"JP": frozenset({"JP"})}


def order(order_id: str, plan: PlanSnapshot = JAPAN_7GB, amount: int = 7000, **changes: object) -> Order:
    base = Order(order_id, "acct", "8985200000000000013", plan, "web", PAID, amount, "HKD", NOW)
    return replace(base, **changes)  # type: ignore[arg-type]


def activate(
    bundles: tuple[Bundle, ...], o: Order, now: datetime, version: int = 0
) -> tuple[tuple[Bundle, ...], Order]:
    """What activation does: credit the unrefunded share, record generation and contribution."""
    mb, seconds = activation_credit(o)
    after = credit(bundles, o.plan.as_plan(), now, order_id=o.order_id, data_mb=mb, validity_s=seconds)
    mine = next(b for b in after if b.region == o.plan.region)
    before = next((b for b in bundles if b.region == o.plan.region), None)
    return after, replace(
        o,
        status=ACTIVATED,
        generation=mine.generation,
        credited_mb=mb,
        credited_s=seconds,
        taken_back_mb=o.plan.data_mb - mb,
        taken_back_s=o.plan.validity_days * DAY_S - seconds,
        bundle_before=before,
        version_after=version + 1,
    )


def jp(bundles: tuple[Bundle, ...]) -> Bundle:
    return next(b for b in bundles if b.region == "JP")


def test_share_rounds_down_and_successive_shares_add_up() -> None:
    assert share(7000, 3333, 10000) == 2333  # 2333.1 rounds down: in the customer's favour
    assert share(7, 1, 2) == 3
    parts = [share(7000, r, 9999) - share(7000, r - 3333, 9999) for r in (3333, 6666, 9999)]
    assert sum(parts) == 7000


def test_a_void_of_a_store_sale_takes_only_its_own_data_and_keeps_the_online_order() -> None:
    """The issue's example: 7 GB online with 6 GB used, then a 2 GB store sale voided."""
    bundles, online = activate((), order("online"), NOW)
    outcome = draw_usage(bundles, COVERAGE, "JP", 6000, NOW + timedelta(hours=1))
    bundles = outcome.bundles
    bundles, sale = activate(bundles, order("sale", JAPAN_2GB, 2000, channel="store"), NOW + timedelta(hours=2), 1)
    assert jp(bundles).remaining_data_mb == 3000
    # usage after the sale (line version moved): the general rule, not the exact restore
    voided = apply_refund(sale, 2000, bundles, NOW + timedelta(hours=2, minutes=5), full_status=VOIDED, line_version=5)
    assert voided.status == VOIDED and voided.taken_mb == 2000 and not voided.restored
    assert jp(voided.bundles).remaining_data_mb == 1000  # the online order keeps its 1 GB
    assert jp(voided.bundles).contribution("online") == Contribution("online", 7000, 1000, 7 * DAY_S)
    assert online.status == ACTIVATED


def test_usage_draws_oldest_order_first_so_a_refund_takes_at_most_its_own_unused_data() -> None:
    bundles, first = activate((), order("first"), NOW)
    bundles, _ = activate(bundles, order("second", JAPAN_2GB, 2000), NOW, 1)
    bundles = draw_usage(bundles, COVERAGE, "JP", 7500, NOW + timedelta(minutes=1)).bundles
    assert jp(bundles).contribution("first").remaining_mb == 0  # type: ignore[union-attr]
    assert jp(bundles).contribution("second").remaining_mb == 1500  # type: ignore[union-attr]
    outcome = apply_refund(first, 7000, bundles, NOW + timedelta(minutes=2))
    assert outcome.taken_mb == 0 and jp(outcome.bundles).remaining_data_mb == 1500  # the 2 GB order's data stays


def test_partial_refunds_take_their_share_less_what_was_taken_already() -> None:
    bundles, o = activate((), order("o", amount=10000), NOW)
    first = apply_refund(o, 2500, bundles, NOW)
    assert (first.taken_mb, first.taken_s) == (1750, 7 * DAY_S // 4)  # floor(7000 x 2500 / 10000)
    o2 = replace(o, **first.changes)
    second = apply_refund(o2, 2500, first.bundles, NOW)
    assert second.taken_mb == 1750 and second.taken_back_mb == 3500 and second.status == ACTIVATED
    o3 = replace(o2, **second.changes)
    rest = apply_refund(o3, 5000, second.bundles, NOW)
    assert rest.status == REFUNDED and rest.taken_back_mb == 7000 and jp(rest.bundles).remaining_data_mb == 0
    assert rest.taken_back_s == 7 * DAY_S


def test_rounding_down_over_three_thirds_takes_back_all_of_it() -> None:
    bundles, o = activate((), order("o", amount=999), NOW)
    for _ in range(3):
        outcome = apply_refund(o, 333, bundles, NOW)
        bundles, o = outcome.bundles, replace(o, **outcome.changes)
    assert o.status == REFUNDED and o.taken_back_mb == 7000 and jp(bundles).remaining_data_mb == 0


def test_the_expiry_never_moves_before_now() -> None:
    bundles, o = activate((), order("o"), NOW)
    later = NOW + timedelta(days=6)
    outcome = apply_refund(o, 7000, bundles, later)
    assert jp(outcome.bundles).expires_at == later and outcome.taken_s == DAY_S  # only the day left


def test_days_other_orders_added_are_not_taken_by_a_refund_of_another() -> None:
    bundles, first = activate((), order("first"), NOW)
    bundles, _ = activate(bundles, order("second"), NOW, 1)
    outcome = apply_refund(first, 7000, bundles, NOW)
    assert jp(outcome.bundles).expires_at == NOW + timedelta(days=7)  # the second order's week stays
    assert jp(outcome.bundles).remaining_data_mb == 7000


def test_nothing_is_taken_once_the_bundle_expired_or_restarted() -> None:
    bundles, o = activate((), order("o"), NOW)
    after_expiry = NOW + timedelta(days=8)
    expired = apply_refund(o, 7000, bundles, after_expiry)
    assert expired.taken_mb == 0 and expired.bundles == bundles and expired.status == REFUNDED
    restarted, _ = activate(bundles, order("new"), after_expiry, 1)
    assert jp(restarted).generation == jp(bundles).generation + 1
    outcome = apply_refund(o, 7000, restarted, after_expiry)
    assert outcome.taken_mb == 0 and outcome.taken_s == 0 and outcome.bundles == restarted


def test_a_void_with_nothing_applied_since_restores_the_bundle_exactly() -> None:
    bundles, _ = activate((), order("online"), NOW)
    bundles = draw_usage(bundles, COVERAGE, "JP", 500, NOW + timedelta(minutes=1)).bundles
    before = jp(bundles)
    after, sale = activate(bundles, order("sale", JAPAN_2GB, 2000, channel="store"), NOW + timedelta(minutes=2), 7)
    voided = apply_refund(sale, 2000, after, NOW + timedelta(minutes=5), full_status=VOIDED, line_version=8)
    assert voided.restored and jp(voided.bundles) == before
    assert (voided.taken_mb, voided.taken_s) == (2000, DAY_S)
    first_sale, sale = activate((), order("sale", JAPAN_2GB, 2000, channel="store"), NOW)
    assert apply_refund(sale, 2000, first_sale, NOW, full_status=VOIDED, line_version=1).bundles == ()


def test_before_activation_nothing_is_taken_and_activation_credits_the_unrefunded_share() -> None:
    o = order("o", amount=10000)
    outcome = apply_refund(o, 2500, (), NOW)
    assert outcome.taken_mb == 0 and outcome.status == PAID
    partly = replace(o, **outcome.changes)
    assert activation_credit(partly) == (5250, 7 * DAY_S - 7 * DAY_S // 4)
    bundles, activated = activate((), partly, NOW)
    assert jp(bundles).remaining_data_mb == 5250 and activated.taken_back_mb == 1750
    # the rest of the money takes the rest: held back counts as taken already
    rest = apply_refund(activated, 7500, bundles, NOW)
    assert rest.taken_mb == 5250 and rest.status == REFUNDED
    full = apply_refund(o, 10000, (), NOW)
    assert full.status == REFUNDED and activation_credit(replace(o, refunded_amount=10000)) == (0, 0)
    assert apply_refund(replace(o, status=PENDING), 10000, (), NOW).status == PENDING


def test_refunds_never_exceed_what_was_paid() -> None:
    bundles, o = activate((), order("o"), NOW)
    outcome = apply_refund(o, 50000, bundles, NOW)
    assert outcome.refunded_amount == 7000 and outcome.taken_mb == 7000
    again = apply_refund(replace(o, **outcome.changes), 10, outcome.bundles, NOW)
    assert again.taken_mb == 0 and again.refunded_amount == 7000
