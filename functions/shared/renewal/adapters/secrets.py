"""Secrets an operator creates before deploying (README "Deploying"), read at run time through
Powertools' Secrets Manager provider (cached five minutes per instance) on the shared session."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from renewal.adapters.aws import client


@cache
def secrets_provider() -> SecretsProvider:
    return SecretsProvider(boto3_client=client("secretsmanager"))


def json_secret(name_variable: str) -> dict[str, Any]:
    """The JSON secret named by environment variable `name_variable`."""
    value: Any = secrets_provider().get(os.environ[name_variable], transform="json", max_age=300)
    return dict(value)


def usage_hmac_secret() -> str:
    """The key shared with the carrier that signs POST /usage/records."""
    return str(json_secret("USAGE_HMAC_SECRET_NAME")["hmac_secret"])
