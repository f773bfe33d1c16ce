"""The reminder and usage rules (docs/domain.md), as pure functions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from renewal.domain.errors import DomainError, InvalidInput, Unauthorized
from renewal.domain.lines import Bundle
from renewal.domain.reminders import (
    ReminderKey,
    ReminderPolicy,
    due_reminders,
    low_data_alert,
    next_check,
    recheck_after_write,
)
from renewal.domain.usage import draw_usage, parse_usage_batch, usage_signature, verify_usage_signature

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ICCID = "8985200000000000010"
DAY = timedelta(days=1)
POLICY = ReminderPolicy()


def live(expires_in: timedelta, began_ago: timedelta, region: str = "EU", remaining: int = 500) -> Bundle:
    return Bundle(region, remaining, NOW + expires_in, NOW - began_ago, 1000, topped_up_at=NOW - began_ago)


def kinds(*bundles: Bundle, now: datetime = NOW) -> list[str]:
    return [k.kind for k in due_reminders(ICCID, bundles, now, POLICY)]


def test_expiry_thresholds_nearest_only() -> None:
    assert kinds(live(30 * DAY, DAY)) == []
    assert kinds(live(7 * DAY, 20 * DAY)) == ["expires_in_7d"]
    assert kinds(live(6 * DAY, 20 * DAY)) == ["expires_in_7d"]
    assert kinds(live(DAY, 20 * DAY)) == ["expires_in_1d"]  # both due: only the nearest
    assert kinds(live(timedelta(hours=2), 20 * DAY)) == ["expires_in_1d"]  # expiring today


def test_a_plan_just_bought_gets_no_reminder_for_thresholds_before_it_began() -> None:
    assert kinds(live(DAY - timedelta(minutes=1), timedelta(minutes=1))) == []  # a daily plan
    assert kinds(live(5 * DAY, 2 * DAY)) == []  # a weekly plan: its 7-day moment came before it began
    assert kinds(live(DAY - timedelta(seconds=1), 2 * DAY)) == ["expires_in_1d"]


def test_expiry_is_an_instant_and_the_line_expires_once_its_last_bundle_is_over() -> None:
    eu, asia = live(DAY, 20 * DAY), live(3 * DAY, 20 * DAY, region="ASIA")
    assert kinds(eu, asia, now=NOW + DAY - timedelta(seconds=1)) == ["expires_in_1d", "expires_in_7d"]
    assert kinds(eu, asia, now=NOW + DAY) == ["expires_in_7d"]  # EU over at its instant; ASIA lives on
    expired = due_reminders(ICCID, (eu, asia), NOW + 3 * DAY, POLICY)
    assert [(k.kind, k.region, k.anchor) for k in expired] == [("expired", "*", "2026-11-28T09:00:00Z")]


def test_keys_differ_per_expiry_so_a_renewal_earns_new_reminders() -> None:
    (first,) = due_reminders(ICCID, (live(DAY, 20 * DAY),), NOW, POLICY)
    (renewed,) = due_reminders(ICCID, (live(8 * DAY, 20 * DAY),), NOW + 7 * DAY, POLICY)
    assert first.id != renewed.id
    assert first.id == f"{ICCID}#EU#2026-11-26T09:00:00Z#expires_in_1d"


def test_a_key_stops_applying_once_the_line_moved_on() -> None:
    bundle = live(DAY, 20 * DAY)
    (key,) = due_reminders(ICCID, (bundle,), NOW, POLICY)
    assert key.still_applies((bundle,))
    renewed = Bundle("EU", 1500, NOW + 8 * DAY, bundle.started_at, 1500, topped_up_at=NOW)
    assert not key.still_applies((renewed,))
    assert not ReminderKey(ICCID, "ASIA", key.anchor, key.kind).still_applies((bundle,))


def test_next_check_is_the_next_threshold_inside_the_validity_or_the_last_expiry() -> None:
    monthly = live(30 * DAY, timedelta(0))
    assert next_check((monthly,), NOW, POLICY) == NOW + 23 * DAY
    assert next_check((monthly,), NOW + 23 * DAY, POLICY) == NOW + 29 * DAY
    assert next_check((monthly,), NOW + 29 * DAY, POLICY) == NOW + 30 * DAY  # the "expired" mail
    assert next_check((monthly,), NOW + 30 * DAY, POLICY) is None
    assert next_check((live(DAY, timedelta(0)),), NOW, POLICY) == NOW + DAY  # daily: only its expiry
    assert next_check((), NOW, POLICY) is None


def test_a_bundle_write_never_skips_a_check_still_pending() -> None:
    asia = live(30 * DAY, timedelta(0), region="ASIA")
    pending = NOW - timedelta(hours=1)  # another bundle's reminder fell due and the run has not come yet
    assert recheck_after_write((asia,), pending, NOW, POLICY) == pending
    assert recheck_after_write((asia,), None, NOW, POLICY) == NOW + 23 * DAY


def test_policy_from_parameters() -> None:
    policy = ReminderPolicy.parse("1,7,3", "90, 50")
    assert policy.expiry_before == (DAY, 3 * DAY, 7 * DAY)
    assert policy.low_data_percents == (90, 50)
    assert ReminderPolicy.parse("", None) == POLICY
    with pytest.raises(ValueError, match="positive"):
        ReminderPolicy.parse("0", "")
    assert kinds(live(3 * DAY, 20 * DAY)) == ["expires_in_7d"]
    assert [k.kind for k in due_reminders(ICCID, (live(3 * DAY, 20 * DAY),), NOW, policy)] == ["expires_in_3d"]


def test_low_data_alerts_highest_crossed_once_per_top_up() -> None:
    def alert(remaining: int, raised: int = 0) -> tuple[str | None, int]:
        bundle = Bundle("EU", remaining, NOW + DAY, NOW, 1000, topped_up_at=NOW, alerted_percent=raised)
        marked, key = low_data_alert(ICCID, bundle, POLICY)
        return (key.kind if key else None), marked.alerted_percent

    assert alert(260) == (None, 0)
    assert alert(250) == ("data_used_75", 75)
    assert alert(100) == ("data_used_90", 90)  # 75 and 90 crossed at once: only 90
    assert alert(0) == ("data_used_100", 100)
    assert alert(0, raised=100) == (None, 100)
    assert alert(100, raised=90) == (None, 90)
    assert alert(0, raised=90) == ("data_used_100", 100)


# ---------------------------------------------------------------- usage signature and batch
SECRET = "usage_secret"


def batch(*records: dict[str, object]) -> bytes:
    return json.dumps({"records": list(records)}).encode()


def record(record_id: str = "r1", **changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "record_id": record_id, "iccid": ICCID, "country": "fr", "data_mb": 10, "used_at": "2026-11-25T08:00:00Z"
    }  # fmt: skip
    return {**base, **changes}


def test_usage_signature_is_stripes_scheme_and_checked_in_constant_time() -> None:
    body = batch(record())
    stamp = int(NOW.timestamp())
    header = usage_signature(body, SECRET, stamp)
    verify_usage_signature(body, header, SECRET, NOW)
    verify_usage_signature(body, f"t={stamp},v1=00ff,v1={header.split('v1=')[1]}", SECRET, NOW)  # rotated keys
    for bad in (
        None,
        "",
        "t=x,v1=ab",
        f"t={stamp}",
        usage_signature(body, "other", stamp),
        usage_signature(body + b" ", SECRET, stamp),
    ):
        with pytest.raises(Unauthorized):
            verify_usage_signature(body, bad, SECRET, NOW)
    with pytest.raises(Unauthorized, match="tolerance"):
        verify_usage_signature(body, usage_signature(body, SECRET, stamp - 301), SECRET, NOW)


def test_usage_batch_parsing() -> None:
    (parsed,) = parse_usage_batch(batch(record(), record()), NOW)  # the same record twice counts once
    assert (parsed.country, parsed.data_mb, parsed.used_at) == ("FR", 10, NOW - timedelta(hours=1))
    bad_batches = [
        batch(),
        b'{"records": {}}',
        batch(record(data_mb=-1)),
        batch(record(data_mb=1.5)),
        batch(record(data_mb=True)),
        batch(record(iccid="8985200000000000013")),  # Luhn
        batch(record(country="XX")),
        batch(record(used_at="2026-11-25T08:00:00")),  # no zone
        batch(record(used_at="2026-11-25T10:00:00Z")),  # the future
        batch(record(extra=1)),
        batch(record(), record(data_mb=11)),  # one id, two contents
        batch(*[record(str(n)) for n in range(1001)]),
    ]
    for body in bad_batches:
        with pytest.raises(InvalidInput):
            parse_usage_batch(body, NOW)
    with pytest.raises(DomainError, match="JSON") as malformed:
        parse_usage_batch(b"{", NOW)
    assert malformed.value.status == 400


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


def test_the_mail_says_what_is_left_as_of_the_run_not_the_threshold() -> None:
    from renewal.domain.mail import ReminderFacts, reminder_mail

    def subject(left: timedelta, locale: str = "en") -> str:
        facts = ReminderFacts(
            "expires_in_7d", "a@example.com", locale, "UTC", ICCID, "EU", 10, NOW + left, "https://r", NOW
        )
        return reminder_mail(facts).subject

    assert subject(7 * DAY - timedelta(minutes=1)) == "Your Europe plan ends in 7 days"
    assert subject(5 * DAY + timedelta(hours=23)) == "Your Europe plan ends in 6 days"  # found late by a daily run
    assert subject(DAY) == "Your Europe plan ends in 1 day"
    assert subject(timedelta(hours=3)) == "Your Europe plan ends in 3 hours"
    assert subject(timedelta(minutes=10)) == "Your Europe plan ends in 1 hour"
    assert subject(timedelta(hours=3), "zh-CN") == "您的欧洲套餐将在3 小时后到期"
