"""Secrets an operator creates before deploying (README "Deploying"), read at run time through
Powertools (cached five minutes per instance)."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities import parameters


def usage_hmac_secret() -> str:
    """The key shared with the carrier that signs POST /usage/records."""
    value: Any = parameters.get_secret(os.environ["USAGE_HMAC_SECRET_NAME"], transform="json", max_age=300)
    return str(value["hmac_secret"])
