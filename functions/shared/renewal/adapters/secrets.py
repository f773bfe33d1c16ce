"""Secrets an operator creates before deploying (README "Deploying"), read at run time through
Powertools' Secrets Manager provider (cached five minutes per instance) on the shared session."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from renewal.adapters.aws import client


@cache
def secrets_provider() -> SecretsProvider:
    return SecretsProvider(boto3_client=client("secretsmanager"))


def json_secret(secret_name: str) -> dict[str, Any]:
    """The JSON secret `secret_name` (cached five minutes)."""
    value: Any = secrets_provider().get(secret_name, transform="json", max_age=300)
    return dict(value)


def hmac_secret(secret_name: str) -> Callable[[], str]:
    """The `hmac_secret` of a secret shared with the carrier (it signs our requests and its usage
    posts), read when asked, so a rotated secret takes effect within the cache's five minutes."""
    return lambda: str(json_secret(secret_name)["hmac_secret"])
