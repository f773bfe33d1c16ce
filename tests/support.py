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
