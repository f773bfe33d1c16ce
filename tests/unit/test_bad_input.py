"""Bad input never gives a 5xx (issue 14, point 6): each case the fuzzer found, at the level where
it was answered wrongly."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Annotated, Any, cast

import pytest
import requests
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from infra.local.gateway import LocalHttpApi, Route
from renewal.adapters.dynamodb_orders import decode_cursor
from renewal.domain.errors import InvalidInput
from renewal.domain.usage import parse_usage_batch
from renewal.http.api import create_resolver
from renewal.http.schemas import CheckoutIn, StoreRenewalIn

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
NO_CONTEXT = cast(LambdaContext, None)  # these routes never read the Lambda context


def _event(body: str, base64_encoded: bool) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "POST /checkout",
        "rawPath": "/checkout",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": "POST", "path": "/checkout", "protocol": "HTTP/1.1", "sourceIp": "1.1.1.1"},
            "requestId": "r",
            "routeKey": "POST /checkout",
            "stage": "$default",
            "timeEpoch": 0,
        },
        "body": body,
        "isBase64Encoded": base64_encoded,
    }


@pytest.mark.parametrize("raw", [b"\xff", b'{"plan_id": "\xff\xfe", "currency": "EUR"}'])
def test_a_body_that_is_not_utf8_is_400_not_500(raw: bytes) -> None:
    app = create_resolver()

    @app.post("/checkout")
    def checkout(body: Annotated[CheckoutIn, Body()]) -> dict[str, Any]:
        return {"unexpected": True}

    answer = app.resolve(_event(base64.b64encode(raw).decode(), True), NO_CONTEXT)
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["error"]["code"] == "malformed_json"


def test_cash_beyond_any_till_is_refused_before_it_reaches_dynamodb() -> None:
    sale = {"iccid": "8985201000000000019", "plan_id": "p", "currency": "HKD"}
    assert StoreRenewalIn.model_validate({**sale, "cash_received": 10**12}).cash_received == 10**12
    with pytest.raises(ValidationError):
        StoreRenewalIn.model_validate({**sale, "cash_received": 10**40})  # DynamoDB holds 38 digits


def test_usage_beyond_dynamodbs_number_range_refuses_the_batch() -> None:
    record = {"record_id": "r", "iccid": "8985201000000000019", "country": "FR", "used_at": "2026-12-03T11:00:00Z"}
    body = json.dumps({"records": [{**record, "data_mb": 10**40}]}).encode()
    with pytest.raises(InvalidInput, match="data_mb"):
        parse_usage_batch(body, NOW)


def _cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


GOOD = {"order_id": {"S": "o-1"}, "account_id": {"S": "sub-a"}, "created_at": {"S": "2026-12-03T11:00:00.000Z"}}


@pytest.mark.parametrize(
    "key",
    [
        {**GOOD, "created_at": {"N": "1"}},
        {**GOOD, "order_id": {"S": 5}},
        {**GOOD, "order_id": "o-1"},
        {**GOOD, "order_id": {"S": ""}},
        {**GOOD, "created_at": {"S": "yesterday"}},
        {**GOOD, "created_at": {"S": "o", "N": "1"}},
        {**GOOD, "order_id": [1]},
    ],
)
def test_a_cursor_with_the_right_keys_but_wrong_value_types_is_422(key: dict[str, Any]) -> None:
    assert decode_cursor(_cursor(GOOD), "sub-a") == GOOD
    with pytest.raises(InvalidInput) as raised:
        decode_cursor(_cursor(key), "sub-a")
    assert raised.value.code == "invalid_cursor"


def test_the_local_gateway_answers_any_method_like_api_gateway() -> None:
    gateway = LocalHttpApi([Route("GET", "/plans", "F", None)], lambda name, event: {"statusCode": 200, "body": "{}"})
    gateway.start()
    try:
        for method in ("TRACE", "CONNECT", "BREW"):
            answer = requests.request(method, gateway.url + "/plans", timeout=10)
            assert (answer.status_code, answer.json()) == (404, {"message": "Not Found"}), method
    finally:
        gateway.stop()


@pytest.mark.filterwarnings("ignore:Received multipart")
@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=x"])
def test_a_form_body_is_refused_as_input_not_500(content_type: str) -> None:
    app = create_resolver()

    @app.post("/checkout")
    def checkout(body: Annotated[CheckoutIn, Body()]) -> dict[str, Any]:
        return {"unexpected": True}

    event = _event('{"plan_id": "p", "currency": "EUR"}', False)
    event["headers"]["content-type"] = content_type
    answer = app.resolve(event, NO_CONTEXT)
    assert answer["statusCode"] == 422, answer
    assert json.loads(answer["body"])["error"]["code"] == "validation_error"


def test_a_value_error_of_our_own_is_still_a_failure() -> None:
    app = create_resolver()

    @app.post("/checkout")
    def checkout(body: Annotated[CheckoutIn, Body()]) -> dict[str, Any]:
        raise ValueError("a bug, not bad input")

    with pytest.raises(ValueError, match="a bug"):
        app.resolve(_event('{"plan_id": "p", "currency": "EUR"}', False), NO_CONTEXT)
