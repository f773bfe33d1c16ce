"""`Idempotency-Key` for POST routes, with Powertools idempotency: the same key and body give
the first answer again; another body is 422; a request still running is 409."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from renewal.adapters.aws import client
from renewal.domain.errors import Conflict, InvalidInput


def idempotency_config(caller_field: str) -> IdempotencyConfig:
    """Keyed on who calls and their key; the body must match on a replay. Kept for a day."""
    return IdempotencyConfig(
        event_key_jmespath=f"[{caller_field}, idempotency_key]",
        payload_validation_jmespath="body",
        expires_after_seconds=86400,
    )


def persistence_store(table_name: str) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client("dynamodb"))


def call_once(function: Callable[..., dict[str, Any]], request: dict[str, Any]) -> dict[str, Any]:
    try:
        return function(request=request)
    except IdempotencyValidationError as error:
        raise InvalidInput("this Idempotency-Key was used with another body", code="idempotency_key_reused") from error
    except IdempotencyAlreadyInProgressError as error:
        raise Conflict("a request with this Idempotency-Key is still running", code="request_in_progress") from error
