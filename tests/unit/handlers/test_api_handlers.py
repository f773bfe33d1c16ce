"""The customer and store APIs driven in-process, with fakes injected through renewal.wiring:
routing, status codes and error bodies as a client sees them, without AWS or the emulators."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from renewal.domain.receipts import Seller
from renewal.usecases.accounts import AccountService
from renewal.usecases.customer_reads import CustomerReads
from tests.unit.handlers.test_carrier_and_webhook_handlers import Context, http_event, load_handler
from tests.unit.test_payments import ALICE, Catalog, World

ROOT = Path(__file__).resolve().parents[3]
HANDLERS = sorted((ROOT / "functions").glob("*/app.py"))
# What a handler may import from our package: the composition root and what it hands out.
ALLOWED = ("renewal.startup", "renewal.tracing", "renewal.wiring", "renewal.http", "renewal.domain", "renewal.usecases")
FORBIDDEN_EXTERNAL = ("boto3", "botocore", "pynamodb", "stripe")


class NoStores:
    def store(self, store_id: str) -> None:
        return None

    def staff_name(self, staff_id: str) -> None:
        return None


def signed_in(event: dict[str, Any], sub: str = "alice", email: str = "alice@example.com") -> dict[str, Any]:
    """As API Gateway's JWT authorizer hands a verified ID token's claims to the function."""
    claims = {"sub": sub, "email": email, "email_verified": "true", "token_use": "id"}
    event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


@pytest.fixture
def customer_api(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, World]:
    world = World()
    reads = CustomerReads(Catalog(), world.orders, NoStores(), Seller("My eSIM Ltd", "1 Main St", "TAX-1"))
    accounts = AccountService(world.accounts, world.lines, lambda: world.now[0])
    return load_handler("customer_api", monkeypatch, customer_reads=reads, account_service=accounts), world


def answer(handler: Any, event: dict[str, Any]) -> tuple[int, Any]:
    result = handler.lambda_handler(event, Context())
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def test_the_customer_api_serves_plans_to_anyone_and_accounts_to_the_signed_in(customer_api: Any) -> None:
    handler, _ = customer_api
    status, body = answer(handler, http_event("GET", "/plans"))
    assert status == 200 and [p["plan_id"] for p in body["plans"]] == ["eu-weekly-5gb"]
    status, body = answer(handler, http_event("GET", "/plans/nope"))
    assert status == 404 and body["error"]["code"] == "plan_not_found"
    status, body = answer(handler, signed_in(http_event("GET", "/account")))
    assert status == 200 and body["iccid"] is None and body["status"] == "none"
    status, body = answer(handler, http_event("GET", "/account"))  # no claims: a deployment mistake
    assert status == 401 and "error" in body


def test_the_customer_api_answers_only_the_owner_and_refuses_bad_input(customer_api: Any) -> None:
    handler, world = customer_api
    order_id = world.paid_and_activated()
    assert world.orders.orders[order_id].account_id == ALICE.account_id
    status, body = answer(handler, signed_in(http_event("GET", f"/orders/{order_id}")))
    assert status == 200 and body["status"] == "activated"
    status, body = answer(handler, signed_in(http_event("GET", f"/orders/{order_id}"), sub="mallory"))
    assert status == 404 and body["error"]["code"] == "order_not_found"
    status, body = answer(handler, signed_in(http_event("GET", f"/orders/{order_id}/receipt")))
    assert status == 200 and body["receipt_no"].startswith("W-") and body["seller"]["tax_id"] == "TAX-1"
    status, body = answer(handler, signed_in(http_event("PATCH", "/account/preferences", '{"locale": "xx"}')))
    assert status == 422 and "error" in body


@pytest.mark.parametrize("handler_file", HANDLERS, ids=lambda p: p.parent.name)
def test_handlers_reach_adapters_only_through_the_composition_root(handler_file: Path) -> None:
    """All nine modules are named `app`, so import-linter cannot name them: their imports are
    read here. A handler that builds its own adapters (or talks to an SDK) fails."""
    tree = ast.parse(handler_file.read_text())
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
    ours = [m for m in imported if m.startswith("renewal")]
    assert ours and ours[0] == "renewal.startup", "renewal.startup goes first (it holds the collector off)"
    assert [m for m in ours if not m.startswith(ALLOWED)] == [], handler_file
    assert [m for m in imported if m.split(".")[0] in FORBIDDEN_EXTERNAL] == [], handler_file
