"""Handlers driven in-process with fakes injected through the composition root (renewal.wiring):
no AWS, no emulators, milliseconds. What is checked is the handler's own job: parsing the event,
calling the use case, shaping the answer (routing, status codes, error bodies, batch failures)."""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

import renewal.wiring
from renewal.usecases.reversals import ReversalPush
from tests.unit.test_carrier_activation import paid
from tests.unit.test_payments import World, official, signed
from tests.unit.test_reversals import refund

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Context:
    function_name: str = "test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id: str = "req-1"


def load_handler(function: str, monkeypatch: pytest.MonkeyPatch, **factories: Any) -> ModuleType:
    """functions/<function>/app.py imported afresh, with `renewal.wiring`'s factories replaced."""
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    for name, value in factories.items():
        monkeypatch.setattr(renewal.wiring, name, lambda value=value: value)
    name = f"handler_{function}"
    spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / function / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def http_event(
    method: str, path: str, body: bytes | str = b"", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    text = body.decode() if isinstance(body, bytes) else body
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "1.1.1.1"},
            "requestId": "r",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "timeEpoch": 0,
        },
        "body": text,
        "isBase64Encoded": False,
    }


def sqs_event(*bodies: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{n}",
                "receiptHandle": f"h{n}",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                "awsRegion": "us-east-1",
            }
            for n, body in enumerate(bodies)
        ]
    }


# ---------------------------------------------------------------- the webhook
def test_the_webhook_answers_a_signed_event_and_refuses_a_bad_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World()
    handler = load_handler("webhook", monkeypatch, fulfilment=world.fulfilment)
    order_id = world.paid_and_activated()
    event = official("charge.refunded")
    event["data"]["object"]["payment_intent"] = world.orders.orders[order_id].payment_intent
    payload, signature = signed(event)
    answer = handler.lambda_handler(
        http_event("POST", "/webhooks/stripe", payload, {"stripe-signature": signature}), Context()
    )
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["received"] is True
    forged = handler.lambda_handler(
        http_event("POST", "/webhooks/stripe", payload, {"stripe-signature": signature.replace("v1=", "v1=0")}),
        Context(),
    )
    assert forged["statusCode"] == 400
    assert json.loads(forged["body"])["error"]["code"] == "invalid_signature"
    elsewhere = handler.lambda_handler(http_event("GET", "/webhooks/stripe"), Context())
    assert elsewhere["statusCode"] in (404, 405) and "error" in json.loads(elsewhere["body"])


# ---------------------------------------------------------------- the carrier worker
def test_the_carrier_worker_activates_orders_pushes_reversals_and_fails_only_the_failed_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World()
    pusher = world.activation.reversals
    assert isinstance(pusher, ReversalPush)
    handler = load_handler("activate", monkeypatch, activation=world.activation, reversal_push=pusher)
    first, second = paid(world), paid(world)
    answer = handler.lambda_handler(sqs_event({"order_id": first}), Context())
    assert answer == {"batchItemFailures": []} and world.orders.orders[first].status == "activated"
    world.carrier.down = True  # the second fails; the batch reports only it
    answer = handler.lambda_handler(sqs_event({"order_id": second}, {"order_id": "unknown-order"}), Context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    world.carrier.down = False
    refund(world, first, "re_1", 1000)
    world.carrier.fail_next = 1  # the carrier fails this delivery: the record comes back
    with pytest.raises(BatchProcessingError):  # a batch whose every record failed fails whole
        handler.lambda_handler(sqs_event({"reversal_id": "re_1"}), Context())
    assert world.orders.reversals.items["re_1"].status == "pending"
    answer = handler.lambda_handler(sqs_event({"reversal_id": "re_1"}), Context())
    assert answer == {"batchItemFailures": []} and world.orders.reversals.items["re_1"].status == "done"
