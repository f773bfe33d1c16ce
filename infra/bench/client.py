"""What the bench does as a client of its stack: customers, checkouts, paying on the Stripe
stand-in, signing Stripe events and carrier usage, reading the tables."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

_local = threading.local()


def session() -> requests.Session:
    """One keep-alive session per thread."""
    found: requests.Session | None = getattr(_local, "session", None)
    if found is None:
        found = requests.Session()
        _local.session = found
    return found


def parallel[T, R](function: Callable[[T], R], items: Iterable[T], threads: int = 4) -> list[R]:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(function, items))


class Api:
    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs
        self.base = outputs["ApiUrl"].rstrip("/")

    def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> requests.Response:
        # A new connection per request: on a kept-alive connection the local gateway's replies
        # (headers and body written apart, Nagle on) wait ~40 ms for the client's delayed ACK.
        sent = {"Connection": "close", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if body is not None:
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        return requests.request(method, self.base + path, headers=sent, data=data, timeout=60)

    # ------------------------------------------------------------ customers
    def customer(self, tag: str) -> dict[str, str]:
        from infra.local.client import log_in, new_credentials, sign_up

        email, password = new_credentials(f"bench-{tag}")
        sign_up(self.outputs, email, password)
        token = log_in(self.outputs, email, password)
        account = self.call("GET", "/account", token)
        if account.status_code != 200:
            raise RuntimeError(f"GET /account for a new customer: {account.status_code} {account.text}")
        return {"email": email, "token": token, "iccid": account.json()["iccid"], "password": password}

    def staff(self, which: str = "DemoStaff") -> str:
        from infra.local.client import log_in

        if which == "DemoStaff":
            return log_in(self.outputs, self.outputs["DemoStaffEmail"], self.outputs["DemoStaffPassword"])
        return log_in(self.outputs, self.outputs["OtherStoreStaffEmail"], self.outputs["OtherStoreStaffPassword"])

    def checkout(self, token: str, plan_id: str = "eu-daily-1gb", currency: str = "EUR") -> dict[str, Any]:
        answer = self.call("POST", "/checkout", token, {"plan_id": plan_id, "currency": currency})
        if answer.status_code != 201:
            raise RuntimeError(f"POST /checkout: {answer.status_code} {answer.text}")
        return dict(answer.json())

    # ------------------------------------------------------------ the Stripe stand-in
    def set_webhook_url(self, url: str | None) -> None:
        answer = session().post(
            f"{self.outputs['StripeApiBase']}/_standin/webhook", params={"url": url or ""}, timeout=30
        )
        answer.raise_for_status()

    def pay(self, checkout_url: str) -> None:
        answer = session().post(checkout_url, data={"outcome": "succeeded"}, allow_redirects=False, timeout=60)
        if answer.status_code != 303:
            raise RuntimeError(f"paying {checkout_url}: {answer.status_code} {answer.text[:300]}")

    def completed_events(self, session_ids: set[str]) -> dict[str, dict[str, Any]]:
        """The stand-in's `checkout.session.completed` event of each session, by session id."""
        listing = (
            session()
            .get(
                f"{self.outputs['StripeApiBase']}/_standin/events",
                params={"type": "checkout.session.completed"},
                timeout=120,
            )
            .json()["data"]
        )
        found: dict[str, dict[str, Any]] = {}
        for entry in listing:
            event = entry["event"]
            sid = event["data"]["object"]["id"]
            if sid in session_ids:
                found[sid] = event
        return found

    def signed_webhook(self, payload: bytes) -> requests.Response:
        import stripe

        header = stripe.WebhookSignature.generate_signature_header(
            payload.decode(), self.outputs["StripeWebhookSecret"], timestamp=int(time.time())
        )
        return self.call(
            "POST",
            "/webhooks/stripe",
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
            data=payload,
        )

    def usage_headers(self, payload: bytes) -> dict[str, str]:
        stamp = str(int(time.time()))
        digest = hmac.new(
            self.outputs["UsageHmacSecret"].encode(), stamp.encode() + b"." + payload, hashlib.sha256
        ).hexdigest()
        return {"Usage-Signature": f"t={stamp},v1={digest}", "Content-Type": "application/json"}

    # ------------------------------------------------------------ tables (read-only checks)
    def dynamodb(self) -> Any:
        import boto3

        return boto3.client(
            "dynamodb",
            endpoint_url=self.outputs["DynamoDbEndpointUrl"],
            region_name=self.outputs["Region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def sqs(self) -> Any:
        import boto3

        return boto3.client(
            "sqs",
            endpoint_url=self.outputs["AwsEndpointUrl"],
            region_name=self.outputs["Region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def table(self, logical_id: str) -> str:
        prefix = self.outputs["StackName"] + "-"
        names = self.dynamodb().list_tables(Limit=100)["TableNames"]
        return next(n for n in names if n.startswith(prefix) and logical_id in n)

    def get_items(self, table: str, key_name: str, keys: list[str]) -> list[dict[str, Any]]:
        client = self.dynamodb()
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request = {
                table: {"Keys": [{key_name: {"S": k}} for k in keys[start : start + 100]], "ConsistentRead": True}
            }
            while request:
                answer = client.batch_get_item(RequestItems=request)
                items.extend(answer["Responses"].get(table, []))
                request = answer.get("UnprocessedKeys") or {}
        return items
