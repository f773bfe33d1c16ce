"""Small helpers the integration and end-to-end tests share."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests


def wait_for(predicate: Callable[[], Any], seconds: float) -> Any:
    """The predicate's first truthy value, or its last falsy one after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def pay(checkout_url: str, outcome: str = "succeeded") -> requests.Response:
    """What the stand-in's hosted page buttons do: a form POST with the outcome."""
    return requests.post(checkout_url, data={"outcome": outcome}, allow_redirects=False, timeout=30)


def buy_plan(outputs: dict[str, str], token: str, plan_id: str, currency: str = "EUR") -> dict[str, Any]:
    """Checks out, pays on the stand-in's page and returns the account once the plan is on it."""
    from infra.local.client import call

    before = call(outputs, "GET", "/account", token).json()
    started = call(outputs, "POST", "/checkout", token, {"plan_id": plan_id, "currency": currency})
    assert started.status_code == 201, started.text
    assert pay(started.json()["checkout_url"]).status_code == 303
    order_id = started.json()["order_id"]
    activated = wait_for(lambda: call(outputs, "GET", f"/orders/{order_id}", token).json()["status"] == "activated", 15)
    assert activated, f"order {order_id} was not activated"
    after = call(outputs, "GET", "/account", token).json()
    assert after["remaining_data_mb"] > before["remaining_data_mb"] or before["status"] == "active"
    return dict(after)


def adapter_environment(outputs: dict[str, str], *tables: str) -> dict[str, str]:
    """The environment a process needs to run our DynamoDB adapters against the local stack's
    tables (logical ids, e.g. "LinesTable" -> LINES_TABLE=<stack>-LinesTable), as a function's."""
    import os
    import re
    from pathlib import Path

    stack = outputs["StackName"]
    names = {re.sub(r"(?<!^)(?=[A-Z])", "_", table).upper(): f"{stack}-{table}" for table in tables}
    return {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "functions" / "shared"),
        "AWS_ENDPOINT_URL_DYNAMODB": outputs["DynamoDbEndpointUrl"],
        "AWS_REGION": outputs["Region"],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        **names,
    }
