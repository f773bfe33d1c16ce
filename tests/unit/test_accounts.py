from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from renewal.domain.errors import Conflict, Forbidden, InvalidInput, Locked, TooManyAttempts
from renewal.domain.lines import Bundle
from renewal.domain.pins import FAILURE_WINDOW, LOCK_AFTER, MAX_ATTEMPTS, card_key, hash_pin
from renewal.ports import LineRecord
from renewal.usecases.accounts import AccountService, Identity
from tests.unit.fakes import FakeAccounts, FakeLines, FakePinAttempts

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
POOL = ["8985200000000000013", "8985200000000000021"]
CARD, CARD_PIN = "8985201000000000019", "01550155"
ALICE = Identity("sub-alice", "alice@example.com", locale="zh_CN", time_zone="Asia/Shanghai")
BOB = Identity("sub-bob", "bob@example.com")


@pytest.fixture
def stores() -> tuple[FakeAccounts, FakeLines]:
    lines = FakeLines()
    for iccid in POOL:
        lines.add(LineRecord(iccid, hash_pin("9999"), None), in_pool=True)
    lines.add(LineRecord(CARD, hash_pin(CARD_PIN), None))
    return FakeAccounts(lines), lines


@pytest.fixture
def attempts() -> FakePinAttempts:
    return FakePinAttempts()


@pytest.fixture
def clock() -> list[datetime]:
    return [NOW]


@pytest.fixture
def service(stores: tuple[FakeAccounts, FakeLines], attempts: FakePinAttempts, clock: list[datetime]) -> AccountService:
    return AccountService(*stores, clock=lambda: clock[0], attempts=attempts)


def test_signing_up_takes_no_line(service: AccountService, stores) -> None:
    view = service.view(ALICE)
    assert view == {
        "account_id": "sub-alice",
        "email": "alice@example.com",
        "locale": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "iccid": None,
        "status": "none",
        "remaining_data_mb": 0,
        "expires_at": None,
        "bundles": [],
        "email_status": "ok",
    }
    assert stores[1].pool == set(POOL)  # the pool is untouched
    assert service.view(ALICE) == view  # the second call finds it
    for index in range(10):  # however many sign up (the pool holds two lines)
        assert service.view(Identity(f"sub-{index}", f"{index}@example.com"))["iccid"] is None
    assert stores[1].pool == set(POOL)


def _give_pool_line(stores, account_id: str, iccid: str) -> None:
    """What a first payment's write does (pool.pay_taking_line)."""
    stores[0].take_line(account_id, iccid, True)


def test_linking_a_held_card_returns_a_never_renewed_pool_line(service: AccountService, stores) -> None:
    service.view(ALICE)
    _give_pool_line(stores, "sub-alice", POOL[0])
    view = service.link_line(ALICE, CARD, CARD_PIN)
    assert view["iccid"] == CARD
    assert POOL[0] in stores[1].pool
    assert service.link_line(ALICE, CARD, CARD_PIN)["iccid"] == CARD  # a retry is fine


def test_a_line_that_was_ever_renewed_never_returns_to_the_pool(service: AccountService, stores) -> None:
    service.view(ALICE)
    _give_pool_line(stores, "sub-alice", POOL[0])
    stores[1].lines[POOL[0]] = replace(stores[1].lines[POOL[0]], version=1)  # renewed, then refunded: no bundles
    with pytest.raises(Conflict) as raised:
        service.link_line(ALICE, CARD, CARD_PIN)
    assert raised.value.code == "current_line_in_use"
    assert POOL[0] not in stores[1].pool


def test_linking_without_an_account_creates_it_without_taking_a_pool_line(service: AccountService, stores) -> None:
    assert service.link_line(BOB, CARD, CARD_PIN)["iccid"] == CARD
    assert stores[1].pool == set(POOL)


def test_wrong_pin_is_403_and_then_rate_limited(service: AccountService) -> None:
    service.view(ALICE)
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(Forbidden):
            service.link_line(ALICE, CARD, "00000000")
    with pytest.raises(TooManyAttempts) as raised:
        service.link_line(ALICE, CARD, CARD_PIN)  # even the right PIN waits
    assert raised.value.retry_after and raised.value.retry_after > 0


def test_card_is_locked_for_everyone_after_too_many_wrong_pins(service: AccountService) -> None:
    for index in range(MAX_ATTEMPTS):
        with pytest.raises(Forbidden):
            service.link_line(Identity(f"sub-{index}", f"{index}@example.com"), CARD, "00000000")
    with pytest.raises(TooManyAttempts):
        service.link_line(BOB, CARD, CARD_PIN)


@pytest.mark.parametrize("iccid", ["8985201000000000018", "not-an-iccid", "89852010000000000190"])
def test_a_malformed_iccid_is_422_and_counts_nothing(
    service: AccountService, attempts: FakePinAttempts, iccid: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        service.link_line(ALICE, iccid, "12345678")
    assert raised.value.code == "invalid_iccid"
    assert attempts.counters == {}


def test_an_unknown_iccid_is_answered_exactly_like_a_wrong_pin(service: AccountService) -> None:
    unknown = "8985201000000000027"
    for iccid in (unknown, CARD):
        answers = []
        for index in range(MAX_ATTEMPTS + 1):
            with pytest.raises((Forbidden, TooManyAttempts)) as raised:
                service.link_line(Identity(f"sub-{iccid}-{index}", "x@example.com"), iccid, "00000000")
            answers.append((raised.value.status, raised.value.code, raised.value.retry_after))
        assert answers == [(403, "wrong_pin", None)] * MAX_ATTEMPTS + [(429, "too_many_attempts", 900)]


def test_the_caller_is_limited_before_an_account_exists(service: AccountService, stores) -> None:
    cards = [f"898520100000000{n:03d}" for n in range(1000)]
    from renewal.domain.lines import is_valid_iccid

    valid = [c + d for c in cards for d in "0123456789" if is_valid_iccid(c + d)][: MAX_ATTEMPTS + 1]
    for iccid in valid[:MAX_ATTEMPTS]:
        with pytest.raises(Forbidden):
            service.link_line(BOB, iccid, "00000000")
    with pytest.raises(TooManyAttempts):
        service.link_line(BOB, valid[MAX_ATTEMPTS], "00000000")
    assert "sub-bob" not in stores[0].accounts  # counted under the token's sub, no account made


def test_a_right_pin_is_not_counted_against_the_caller(service: AccountService, attempts: FakePinAttempts) -> None:
    for _ in range(MAX_ATTEMPTS - 1):
        with pytest.raises(Forbidden):
            service.link_line(BOB, CARD, "00000000")
    assert service.link_line(BOB, CARD, CARD_PIN)["iccid"] == CARD
    assert card_key(CARD) not in attempts.counters  # a right PIN clears the card's count
    assert attempts.counters["caller#sub-bob"].attempts == MAX_ATTEMPTS - 1


@pytest.mark.parametrize("known", [True, False])
def test_ten_wrong_pins_in_a_day_lock_a_card_until_cleared(
    service: AccountService, attempts: FakePinAttempts, clock: list[datetime], known: bool
) -> None:
    iccid = CARD if known else "8985201000000000027"
    for index in range(LOCK_AFTER):
        clock[0] = NOW + (FAILURE_WINDOW + timedelta(seconds=1)) * (index // MAX_ATTEMPTS)
        with pytest.raises(Forbidden):
            service.link_line(Identity(f"sub-{index}", "x@example.com"), iccid, "00000000")
    for later in (timedelta(hours=1), timedelta(days=3)):  # a lock outlives the windows
        clock[0] = NOW + later
        with pytest.raises(Locked) as raised:
            service.link_line(BOB, iccid, CARD_PIN)
        assert (raised.value.status, raised.value.code) == (423, "card_locked")
    attempts.clear(card_key(iccid))  # what `python -m infra.admin unlock-card` does
    if known:
        assert service.link_line(BOB, CARD, CARD_PIN)["iccid"] == CARD


def test_a_card_linked_to_someone_else_is_a_conflict(service: AccountService) -> None:
    service.link_line(BOB, CARD, CARD_PIN)
    with pytest.raises(Conflict):
        service.link_line(ALICE, CARD, CARD_PIN)


def test_a_line_with_plans_is_not_swapped_silently(service: AccountService, stores) -> None:
    service.view(ALICE)
    iccid = POOL[0]
    _give_pool_line(stores, "sub-alice", iccid)
    live = Bundle("EU", 100, NOW + timedelta(days=2), NOW, 100)
    stores[1].lines[iccid] = LineRecord(iccid, hash_pin("9999"), "sub-alice", (live,))
    with pytest.raises(Conflict) as raised:
        service.link_line(ALICE, CARD, CARD_PIN)
    assert raised.value.code == "current_line_in_use"


def test_preferences_default_then_patch_only_what_is_given(service: AccountService) -> None:
    assert service.preferences(ALICE) == {
        "locale": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "reminders": {"expiry": True, "low_data": True},
    }
    changed = service.update_preferences(ALICE, time_zone="Europe/Paris", low_data=False)
    assert changed == {"locale": "zh-CN", "time_zone": "Europe/Paris", "reminders": {"expiry": True, "low_data": False}}
    assert service.preferences(ALICE) == changed


@pytest.mark.parametrize("change", [{"locale": "fr"}, {"time_zone": "Mars/Olympus"}])
def test_invalid_preferences_change_nothing(service: AccountService, change: dict) -> None:
    before = service.preferences(ALICE)
    with pytest.raises(InvalidInput):
        service.update_preferences(ALICE, **change)
    assert service.preferences(ALICE) == before
