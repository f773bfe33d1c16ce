"""Identity (issue 14, point 2): the token's email is trusted only when Cognito verified it, and a
store sale by email refuses an email that more than one account holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from renewal.domain.accounts import Account
from renewal.domain.errors import Conflict
from renewal.domain.orders import Order
from renewal.domain.pins import hash_pin
from renewal.domain.plans import plan_from_dict
from renewal.domain.stores import Store
from renewal.http.api import caller, create_resolver
from renewal.ports import AccountRecord, LineRecord
from renewal.usecases.accounts import Identity
from renewal.usecases.store_sales import StoreSales
from tests.unit.fakes import FakeAccounts, FakeLines
from tests.unit.fakes_orders import FakeOrders, FakeQueue

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
STORE = Store("HKG-T1", "Airport T1", "Chek Lap Kok", "HKD", "Asia/Hong_Kong")
PLAN = plan_from_dict(
    {"plan_id": "asia-daily-1gb", "name": "Asia daily 1 GB", "kind": "daily", "region": "ASIA", "countries": ["HK"],
     "data_mb": 1024, "validity_days": 1, "prices": {"HKD": 3100}}
)  # fmt: skip
STAFF = Identity("staff-1", "staff@example.com", groups=("store-staff",))


def _answer(claims: dict[str, str]) -> tuple[int, dict[str, Any]]:
    app = create_resolver()

    @app.get("/me")
    def me() -> dict[str, Any]:
        return {"email": caller(app).email}

    event = {
        "version": "2.0",
        "routeKey": "GET /me",
        "rawPath": "/me",
        "rawQueryString": "",
        "headers": {},
        "requestContext": {
            "http": {"method": "GET", "path": "/me", "protocol": "HTTP/1.1", "sourceIp": "1.1.1.1"},
            "requestId": "r",
            "routeKey": "GET /me",
            "stage": "$default",
            "timeEpoch": 0,
            "authorizer": {"jwt": {"claims": claims, "scopes": None}},
        },
        "isBase64Encoded": False,
    }
    answer = app.resolve(event, cast(LambdaContext, None))
    return answer["statusCode"], json.loads(answer["body"])


ID_TOKEN = {"sub": "sub-1", "token_use": "id", "email": "ann@example.com"}


@pytest.mark.parametrize("verified", [None, "false", "False", ""])
def test_a_token_whose_email_is_not_verified_is_refused(verified: str | None) -> None:
    claims = dict(ID_TOKEN) if verified is None else {**ID_TOKEN, "email_verified": verified}
    status, body = _answer(claims)
    assert (status, body["error"]["code"]) == (403, "email_not_verified")


def test_a_verified_email_is_trusted() -> None:
    assert _answer({**ID_TOKEN, "email_verified": "true"}) == (200, {"email": "ann@example.com"})


class _Stores:
    def store_of_staff(self, staff_id: str) -> Store | None:
        return STORE

    def last_receipt(self, store_id: str) -> int:
        return 0

    def staff_name(self, staff_id: str) -> str | None:
        return None


class _Catalog:
    def all_plans(self) -> list[Any]:
        return [PLAN]

    def plans_in_region(self, region: str) -> list[Any]:
        return [PLAN]

    def get(self, plan_id: str) -> Any:
        return PLAN if plan_id == PLAN.plan_id else None


class _StoreOrders(FakeOrders):
    def by_receipt(self, receipt_no: str) -> Order | None:
        return next((o for o in self.orders.values() if o.receipt_no == receipt_no), None)

    def for_store(self, store_id: str, start: datetime, end: datetime) -> list[Order]:
        return []

    def create_store_sale(self, order: Order, store_id: str, sequence: int) -> None:
        self.create(order)


def _sales(accounts: FakeAccounts, lines: FakeLines) -> tuple[StoreSales, _StoreOrders]:
    orders = _StoreOrders(lines)
    return StoreSales(_Stores(), _Catalog(), lines, accounts, orders, FakeQueue(), lambda: NOW), orders


def _account(accounts: FakeAccounts, lines: FakeLines, account_id: str, email: str, iccid: str) -> None:
    lines.add(LineRecord(iccid, hash_pin("12345678"), account_id))
    accounts.accounts[account_id] = AccountRecord(Account(account_id, email, "en", "UTC", iccid, NOW))


def test_a_store_sale_by_email_refuses_an_email_that_two_accounts_hold() -> None:
    lines = FakeLines()
    accounts = FakeAccounts(lines)
    _account(accounts, lines, "a-1", "shared@example.com", "8985201000000000019")
    _account(accounts, lines, "a-2", "shared@example.com", "8985201000000000027")
    _account(accounts, lines, "a-3", "only@example.com", "8985201000000000035")
    sales, orders = _sales(accounts, lines)
    sale = dict(plan_id=PLAN.plan_id, currency="HKD", cash_received=5000, iccid=None)
    with pytest.raises(Conflict) as refused:
        sales.renew(STAFF, email="Shared@Example.com", **sale)  # type: ignore[arg-type]
    assert (refused.value.status, refused.value.code) == (409, "email_ambiguous")
    assert orders.orders == {}  # nothing sold
    sold = sales.renew(STAFF, email="only@example.com", **sale)  # type: ignore[arg-type]
    assert sold["iccid"] == "8985201000000000035" and sold["change_due"] == 1900


def test_a_store_sale_by_email_for_an_account_without_a_line_takes_one_from_the_pool() -> None:
    lines = FakeLines()
    lines.add(LineRecord("8985200000000000013", hash_pin("1"), None), in_pool=True)
    accounts = FakeAccounts(lines)
    accounts.accounts["a-1"] = AccountRecord(Account("a-1", "new@example.com", "en", "UTC", None, NOW))
    orders = _StoreOrders(lines, accounts)
    sales = StoreSales(_Stores(), _Catalog(), lines, accounts, orders, FakeQueue(), lambda: NOW)
    sold = sales.renew(STAFF, iccid=None, email="new@example.com", plan_id=PLAN.plan_id, currency="HKD",
                       cash_received=3100)  # fmt: skip
    assert sold["iccid"] == "8985200000000000013" == accounts.accounts["a-1"].account.iccid
    assert lines.pool == set() and lines.lines["8985200000000000013"].account_id == "a-1"
