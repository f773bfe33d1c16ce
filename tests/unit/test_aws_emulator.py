"""The local moto server's speed fixes (infra/local/aws_emulator.py) keep moto's answers: the
retention check still drops messages older than the queue's retention period, without
recomputing every queue attribute for each message received."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sqs import models as sqs_models

import infra.local.aws_emulator  # noqa: F401  (applies the fixes, as the server script does)


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def _queue(url: str) -> Any:
    return sqs_models.sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_queue(url.rsplit("/", 1)[1])


def test_a_message_past_the_retention_period_is_not_received(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="kept", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="new")
    sqs.send_message(QueueUrl=url, MessageBody="old")
    old = next(m for m in _queue(url)._messages if m.body == "old")
    old.sent_timestamp -= 61_000  # sent 61 s ago, against a 60 s retention

    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])

    assert [m["Body"] for m in received] == ["new"]  # moto stops at the expired one, as before the fix


def test_receiving_does_not_recount_the_queue_for_each_message(sqs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    url = sqs.create_queue(QueueName="busy")["QueueUrl"]
    for i in range(10):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    counted = []
    attributes = sqs_models.Queue.attributes

    def counting(queue: Any) -> Any:
        counted.append(queue.name)
        return attributes.fget(queue)  # type: ignore[attr-defined]

    monkeypatch.setattr(sqs_models.Queue, "attributes", property(counting))

    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]

    assert len(received) == 10
    assert len(counted) < len(received)  # moto alone computes them (three counts each) per message


def test_the_service_list_is_moto_s_own() -> None:
    from moto import backends

    assert set(backends.list_of_moto_modules()) >= {"sqs", "ses", "cognitoidp", "secretsmanager", "scheduler"}


# ---------------------------------------------------------------- Cognito as AWS answers (issue 14)
def _pool(idp: Any, auto_verify: bool) -> tuple[str, str]:
    pool = idp.create_user_pool(
        PoolName="p", UsernameAttributes=["email"], AutoVerifiedAttributes=["email"] if auto_verify else []
    )["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="c", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    return pool, client


def _id_token_claims(idp: Any, client: str, login: str) -> dict[str, Any]:
    import jwt

    token = idp.initiate_auth(
        ClientId=client, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": login, "PASSWORD": "Pass-word-1"}
    )["AuthenticationResult"]["IdToken"]
    return dict(jwt.decode(token, options={"verify_signature": False}))


@pytest.mark.parametrize("auto_verify", [True, False])
def test_confirming_a_sign_up_verifies_the_email_and_the_id_token_says_so(auto_verify: bool) -> None:
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name="us-east-1")
        _, client = _pool(idp, auto_verify)
        idp.sign_up(ClientId=client, Username="ann@example.com", Password="Pass-word-1",
                    UserAttributes=[{"Name": "email", "Value": "ann@example.com"}])  # fmt: skip
        idp.confirm_sign_up(ClientId=client, Username="ann@example.com", ConfirmationCode="000000")
        claims = _id_token_claims(idp, client, "ann@example.com")
        assert claims["email"] == "ann@example.com"
        assert claims["email_verified"] is auto_verify  # a boolean, as Cognito's


def test_an_admin_made_user_without_a_verified_email_gets_email_verified_false() -> None:
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name="us-east-1")
        pool, client = _pool(idp, True)
        idp.admin_create_user(UserPoolId=pool, Username="bo@example.com", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "bo@example.com"}])  # fmt: skip
        idp.admin_set_user_password(UserPoolId=pool, Username="bo@example.com", Password="Pass-word-1", Permanent=True)
        assert _id_token_claims(idp, client, "bo@example.com")["email_verified"] is False


def test_resend_confirmation_code_answers_as_cognito_does() -> None:
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name="us-east-1")
        pool = idp.create_user_pool(PoolName="p", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
        client = idp.create_user_pool_client(UserPoolId=pool, ClientName="web")["UserPoolClient"]["ClientId"]
        idp.sign_up(
            ClientId=client, Username="a@example.com", Password="Pass-word-123",
            UserAttributes=[{"Name": "email", "Value": "a@example.com"}],
        )  # fmt: skip
        sent = idp.resend_confirmation_code(ClientId=client, Username="a@example.com")
        assert sent["CodeDeliveryDetails"] == {
            "Destination": "a@example.com", "DeliveryMedium": "EMAIL", "AttributeName": "email",
        }  # fmt: skip
        with pytest.raises(idp.exceptions.UserNotFoundException):
            idp.resend_confirmation_code(ClientId=client, Username="nobody@example.com")
