from datetime import UTC, datetime, timedelta

import pytest

from renewal.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyAttempts, Unavailable
from renewal.domain.lines import Bundle
from renewal.domain.pins import MAX_FAILURES, hash_pin
from renewal.ports import LineRecord
from renewal.usecases.accounts import AccountService, Identity
from tests.unit.fakes import FakeAccounts, FakeLines

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
POOL = ["8985200000000000013", "8985200000000000021"]
CARD, CARD_PIN = "8985201000000000019", "0155"
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
def service(stores: tuple[FakeAccounts, FakeLines]) -> AccountService:
    return AccountService(*stores, clock=lambda: NOW)


def test_first_view_creates_the_account_with_a_fresh_pool_line(service: AccountService, stores) -> None:
    view = service.view(ALICE)
    assert view["iccid"] in POOL
    assert view | {"iccid": None} == {
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
    assert view["iccid"] not in stores[1].pool
    assert service.view(ALICE)["iccid"] == view["iccid"]  # the second call finds it


def test_two_accounts_get_two_lines_and_an_empty_pool_is_a_clear_503(service: AccountService) -> None:
    assert service.view(ALICE)["iccid"] != service.view(BOB)["iccid"]
    with pytest.raises(Unavailable):
        service.view(Identity("sub-carol", "carol@example.com"))


def test_linking_a_held_card_returns_the_pool_line(service: AccountService, stores) -> None:
    pool_line = service.view(ALICE)["iccid"]
    view = service.link_line(ALICE, CARD, CARD_PIN)
    assert view["iccid"] == CARD
    assert pool_line in stores[1].pool
    assert service.link_line(ALICE, CARD, CARD_PIN)["iccid"] == CARD  # a retry is fine


def test_linking_without_an_account_creates_it_without_taking_a_pool_line(service: AccountService, stores) -> None:
    assert service.link_line(BOB, CARD, CARD_PIN)["iccid"] == CARD
    assert stores[1].pool == set(POOL)


def test_wrong_pin_is_403_and_then_rate_limited(service: AccountService) -> None:
    service.view(ALICE)
    for _ in range(MAX_FAILURES):
        with pytest.raises(Forbidden):
            service.link_line(ALICE, CARD, "0000")
    with pytest.raises(TooManyAttempts) as raised:
        service.link_line(ALICE, CARD, CARD_PIN)  # even the right PIN waits
    assert raised.value.retry_after and raised.value.retry_after > 0


def test_card_is_locked_for_everyone_after_too_many_wrong_pins(service: AccountService) -> None:
    for index in range(MAX_FAILURES):
        with pytest.raises(Forbidden):
            service.link_line(Identity(f"sub-{index}", f"{index}@example.com"), CARD, "0000")
    with pytest.raises(TooManyAttempts):
        service.link_line(BOB, CARD, CARD_PIN)


@pytest.mark.parametrize("iccid", ["8985201000000000027", "8985201000000000018", "not-an-iccid"])
def test_unknown_iccid_is_404_well_formed_or_not(service: AccountService, iccid: str) -> None:
    with pytest.raises(NotFound):
        service.link_line(ALICE, iccid, "1234")


def test_a_card_linked_to_someone_else_is_a_conflict(service: AccountService) -> None:
    service.link_line(BOB, CARD, CARD_PIN)
    with pytest.raises(Conflict):
        service.link_line(ALICE, CARD, CARD_PIN)


def test_a_line_with_plans_is_not_swapped_silently(service: AccountService, stores) -> None:
    iccid = service.view(ALICE)["iccid"]
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
