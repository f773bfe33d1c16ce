from datetime import UTC, datetime, timedelta

import pytest

from renewal.domain.errors import Conflict
from renewal.domain.lines import Bundle, apply_plan, is_valid_iccid, line_balance, luhn_check_digit
from renewal.domain.plans import Plan

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def plan(region: str = "EU", data_mb: int = 1024, days: int = 7) -> Plan:
    return Plan(f"{region}-{days}", "p", "weekly", region, ("FR",), data_mb, days, {"USD": 100})


def bundle(region: str = "EU", remaining: int = 500, expires_in: timedelta = timedelta(days=3)) -> Bundle:
    return Bundle(region, remaining, NOW + expires_in, NOW - timedelta(days=4), 1024)


@pytest.mark.parametrize(
    ("iccid", "valid"),
    [
        ("8985201000000000019", True),  # 19 digits, Luhn ok
        ("8985201000000000018", False),  # wrong check digit
        ("89852010000000000190", False),  # 20 digits whose last is not the Luhn digit
        ("898520100000000001", False),  # 18 digits
        ("89852010000000000x9", False),
        ("", False),
    ],
)
def test_iccid_validation(iccid: str, valid: bool) -> None:
    assert is_valid_iccid(iccid) is valid


def test_twenty_digit_iccid_with_luhn_digit_is_valid() -> None:
    body = "8944500102198304826"
    assert is_valid_iccid(body + luhn_check_digit(body))


def test_luhn_digit_matches_the_classic_example() -> None:
    assert luhn_check_digit("7992739871") == "3"


def test_new_line_has_status_none_and_no_expiry() -> None:
    balance = line_balance((), NOW)
    assert (balance.status, balance.remaining_data_mb, balance.expires_at) == ("none", 0, None)


def test_balance_sums_only_unexpired_bundles() -> None:
    bundles = [
        bundle("EU", 500, timedelta(days=3)),
        bundle("ASIA", 300, timedelta(days=9)),
        bundle("NA", 999, -timedelta(seconds=1)),
    ]
    balance = line_balance(bundles, NOW)
    assert balance.status == "active"
    assert balance.remaining_data_mb == 800
    assert balance.expires_at == NOW + timedelta(days=9)
    assert [b.region for b in balance.bundles] == ["ASIA", "EU"]


def test_expired_then_lapsed_after_180_days() -> None:
    bundles = [bundle(expires_in=-timedelta(days=1))]
    assert line_balance(bundles, NOW).status == "expired"
    # expired a day before NOW, so it lapses 180 days after that
    assert line_balance(bundles, NOW + timedelta(days=179) - timedelta(seconds=1)).status == "expired"
    assert line_balance(bundles, NOW + timedelta(days=179)).status == "lapsed"


def test_bundle_is_over_at_its_expiry_instant() -> None:
    b = bundle(expires_in=timedelta(0))
    assert not b.is_live(NOW)
    assert line_balance([b], NOW).status == "expired"


def test_activation_on_a_new_line_starts_from_zero() -> None:
    (renewed,) = apply_plan((), plan(data_mb=1024, days=7), NOW)
    assert renewed.remaining_data_mb == 1024
    assert renewed.expires_at == NOW + timedelta(days=7)


def test_activation_extends_a_live_bundle_from_its_expiry() -> None:
    (renewed,) = apply_plan([bundle(remaining=500, expires_in=timedelta(days=3))], plan(data_mb=1024, days=7), NOW)
    assert renewed.remaining_data_mb == 1524
    assert renewed.expires_at == NOW + timedelta(days=10)


def test_expired_data_never_comes_back() -> None:
    (renewed,) = apply_plan([bundle(remaining=700, expires_in=-timedelta(hours=1))], plan(data_mb=1024, days=7), NOW)
    assert renewed.remaining_data_mb == 1024
    assert renewed.expires_at == NOW + timedelta(days=7)
    assert renewed.started_at == NOW


def test_activation_leaves_other_regions_alone() -> None:
    asia = bundle("ASIA", 42, timedelta(days=2))
    result = apply_plan([asia, bundle("EU")], plan("EU"), NOW)
    assert asia in result
    assert len(result) == 2


def test_lapsed_line_cannot_be_renewed() -> None:
    with pytest.raises(Conflict) as raised:
        apply_plan([bundle(expires_in=-timedelta(days=181))], plan(), NOW)
    assert raised.value.code == "line_lapsed"


def test_two_renewals_both_count() -> None:
    once = apply_plan((), plan(data_mb=100, days=1), NOW)
    twice = apply_plan(once, plan(data_mb=100, days=1), NOW)
    assert twice[0].remaining_data_mb == 200
    assert twice[0].expires_at == NOW + timedelta(days=2)
