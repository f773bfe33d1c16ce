from datetime import UTC, datetime, timedelta

from renewal.domain.lines import Bundle
from renewal.domain.reminders import (
    due_expiry_reminder,
    due_line_expired,
    due_low_data_alerts,
    next_expiry_check,
)
from renewal.domain.usage import draw_usage

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ICCID = "8985200000000000013"
DAY = timedelta(days=1)


def kind(expires_in: timedelta, began_ago: timedelta) -> str | None:
    key = due_expiry_reminder(ICCID, "EU", NOW + expires_in, NOW - began_ago, NOW)
    return key.kind if key else None


def test_expiry_thresholds() -> None:
    assert kind(30 * DAY, 1 * DAY) is None
    assert kind(7 * DAY, 20 * DAY) == "expires_in_7d"
    assert kind(6 * DAY, 20 * DAY) == "expires_in_7d"
    assert kind(1 * DAY, 20 * DAY) == "expires_in_1d"  # both due: only the nearest
    assert kind(timedelta(hours=2), 20 * DAY) == "expires_in_1d"
    assert kind(timedelta(0), 20 * DAY) is None  # over at its expiry instant


def test_a_plan_just_bought_gets_no_reminder_for_thresholds_before_it_began() -> None:
    assert kind(DAY - timedelta(minutes=1), timedelta(minutes=1)) is None  # a daily plan bought a minute ago
    assert kind(5 * DAY, 2 * DAY) is None  # a weekly plan: its 7-day moment came before it began
    assert kind(DAY - timedelta(seconds=1), 2 * DAY) == "expires_in_1d"


def test_keys_differ_per_expiry_so_a_renewal_earns_new_reminders() -> None:
    first = due_expiry_reminder(ICCID, "EU", NOW + DAY, NOW - 20 * DAY, NOW)
    renewed = due_expiry_reminder(ICCID, "EU", NOW + 8 * DAY, NOW - 20 * DAY, NOW + 7 * DAY)
    assert first and renewed and first.id != renewed.id
    assert first.id == f"{ICCID}#EU#2026-11-26T09:00:00Z#expires_in_1d"


def test_next_expiry_check_is_the_earliest_threshold_after_the_validity_began() -> None:
    expires = NOW + 30 * DAY
    assert next_expiry_check(expires, NOW) == expires - 7 * DAY
    assert next_expiry_check(NOW + DAY, NOW) == NOW + DAY  # a daily plan: nothing before its expiry
    assert next_expiry_check(NOW + 5 * DAY, NOW) == NOW + 4 * DAY


def test_line_expired_once_its_last_bundle_is_over() -> None:
    assert due_line_expired(ICCID, [NOW - DAY, NOW + DAY], NOW) is None
    key = due_line_expired(ICCID, [NOW - 2 * DAY, NOW - DAY], NOW)
    assert key and key.kind == "expired" and key.anchor == "2026-11-24T09:00:00Z"
    assert due_line_expired(ICCID, [], NOW) is None


def test_low_data_alerts_highest_crossed_once() -> None:
    def alert(remaining: int, sent: tuple[str, ...] = ()) -> str | None:
        key = due_low_data_alerts(ICCID, "EU", NOW, 1000, remaining, sent)
        return key.kind if key else None

    assert alert(260) is None
    assert alert(250) == "data_used_75"
    assert alert(100) == "data_used_90"
    assert alert(0) == "data_used_100"
    assert alert(0, ("data_used_100",)) is None
    assert alert(100, ("data_used_90",)) is None


EU = frozenset({"FR", "DE"})
GLOBAL = frozenset({"FR", "DE", "JP"})


def bundle(region: str, remaining: int, expires_in: timedelta) -> Bundle:
    return Bundle(region, remaining, NOW + expires_in, NOW - DAY, 1000)


def test_usage_draws_from_the_covering_bundle_that_expires_first() -> None:
    bundles = (bundle("EU", 100, 5 * DAY), bundle("GLOBAL", 500, 2 * DAY))
    outcome = draw_usage(bundles, {"EU": EU, "GLOBAL": GLOBAL}, "fr", 150, NOW)
    by_region = {b.region: b.remaining_data_mb for b in outcome.bundles}
    assert by_region == {"GLOBAL": 350, "EU": 100}
    assert (outcome.drawn_mb, outcome.uncovered_mb) == (150, 0)


def test_usage_spills_to_the_next_bundle_and_never_below_zero() -> None:
    bundles = (bundle("EU", 100, 5 * DAY), bundle("GLOBAL", 50, 2 * DAY))
    outcome = draw_usage(bundles, {"EU": EU, "GLOBAL": GLOBAL}, "DE", 400, NOW)
    assert {b.region: b.remaining_data_mb for b in outcome.bundles} == {"EU": 0, "GLOBAL": 0}
    assert (outcome.drawn_mb, outcome.uncovered_mb) == (150, 250)


def test_usage_in_an_uncovered_country_or_after_expiry_draws_nothing() -> None:
    bundles = (bundle("EU", 100, 5 * DAY),)
    assert draw_usage(bundles, {"EU": EU}, "JP", 10, NOW).uncovered_mb == 10
    assert draw_usage(bundles, {"EU": EU}, "FR", 10, NOW + 6 * DAY).bundles == bundles
