"""The moto server the local stack runs (SQS, SES, Cognito, Scheduler, Secrets Manager): moto's
own `moto_server` entry point, with fixes for speed that change no answer.

Measured with `make bench` and py-spy on moto 5.2:
- moto lists its package folder (an `isdir` for each of ~170 entries) on every request to learn
  its service names: a quarter of a simple request (ListQueues 5.0 -> 3.8 ms p50). The folder
  does not change while the server runs, so it is listed once.
- SQS recomputes every queue attribute, counting the queue's messages three times, on each
  SendMessage (to read ContentBasedDeduplication) and for each message ReceiveMessage returns (to
  read the retention period), and it reads the clock through two datetime conversions for every
  message counted. With a thousand messages queued, that was two thirds of moto's CPU during the
  throughput run. The clock is read with `time.time()` (the same epoch seconds) and the
  retention check reads the queue's retention period directly (the same value, the same test).

And two fixes that make Cognito answer as AWS does (issue 14), where the API relies on it:
- confirming a sign-up verifies the email when the pool auto-verifies it (`AutoVerifiedAttributes:
  [email]`, as template.yaml's pool does), as Cognito's confirmation by emailed code does;
- ID tokens carry the user's `email` attribute and `email_verified` (a boolean), as Cognito's do
  (moto put the login name typed at sign-in in `email`, and no `email_verified`).
And a Cognito call moto lacks: `ResendConfirmationCode` (moto answered 500, so the site's "Send
the code again" failed locally); it answers as Cognito does, mailing nothing (any code confirms).

Run as a script: `python aws_emulator.py -H host -p port`."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import Any

from moto import backends
from moto.cognitoidp import models as cognito_models
from moto.cognitoidp import responses as cognito_responses
from moto.cognitoidp.exceptions import ResourceNotFoundError, UserNotFoundError
from moto.cognitoidp.models import cognitoidp_backends, find_account_region_by_value
from moto.core import utils as moto_utils
from moto.core.responses import ActionResult
from moto.server import main
from moto.sqs import models as sqs_models

_MODULES = tuple(backends.list_of_moto_modules())
backends.list_of_moto_modules = lambda: _MODULES


def _unix_time(dt: datetime | None = None) -> float:
    return time.time() if dt is None else moto_utils.unix_time(dt)


def _unix_time_millis(dt: datetime | None = None) -> float:
    return _unix_time(dt) * 1000.0


def _within_retention(self: Any, queue_name: str, message: Any) -> bool:
    retention_period = self.get_queue(queue_name).message_retention_period
    return bool(retention_period + message.sent_timestamp / 1000 > _unix_time())


sqs_models.unix_time = _unix_time
sqs_models.unix_time_millis = _unix_time_millis
sqs_models.SQSBackend.is_message_valid_based_on_retention_period = _within_retention  # type: ignore[method-assign]

_create_jwt = cognito_models.CognitoIdpUserPool.create_jwt
_confirm_sign_up = cognito_models.CognitoIdpBackend.confirm_sign_up


def _create_jwt_with_email(
    self: Any, client_id: str, username: str, token_use: str, expires_in: int = 3600, extra_data: Any = None
) -> tuple[str, int]:
    claims = dict(extra_data or {})
    if token_use == "id":
        attributes = self._get_user(username).attribute_lookup
        if "email" in attributes:
            claims["email"] = attributes["email"]
            claims["email_verified"] = str(attributes.get("email_verified", "false")).lower() == "true"
    return _create_jwt(self, client_id, username, token_use, expires_in, claims)


def _confirm_sign_up_verifying_email(self: Any, client_id: str, username: str) -> str:
    answer = _confirm_sign_up(self, client_id, username)
    pool = next(p for p in self.user_pools.values() if client_id in p.clients)
    user = self.admin_get_user(pool.id, username)
    if "email" in pool.extended_config.get("AutoVerifiedAttributes", []) and "email" in user.attribute_lookup:
        user.update_attributes([{"Name": "email_verified", "Value": "true"}])
    return answer


cognito_models.CognitoIdpUserPool.create_jwt = _create_jwt_with_email  # type: ignore[method-assign]
cognito_models.CognitoIdpBackend.confirm_sign_up = _confirm_sign_up_verifying_email  # type: ignore[method-assign]


def _resend_confirmation_code(self: Any) -> ActionResult:
    client_id, username = self._get_param("ClientId"), self._get_param("Username")
    account, region = find_account_region_by_value("client_id", client_id, fallback=(self.current_account, self.region))
    for pool in cognitoidp_backends[account][region].user_pools.values():
        if client_id in pool.clients:
            user = pool._get_user(username)
            if user is None:
                raise UserNotFoundError("Username/client id combination not found.")
            email = next((a["Value"] for a in user.attributes if a["Name"] == "email"), username)
            details = {"Destination": email, "DeliveryMedium": "EMAIL", "AttributeName": "email"}
            return ActionResult({"CodeDeliveryDetails": details})
    raise ResourceNotFoundError(client_id)


cognito_responses.CognitoIdpResponse.resend_confirmation_code = _resend_confirmation_code  # type: ignore[attr-defined]

if __name__ == "__main__":
    main(sys.argv[1:])
