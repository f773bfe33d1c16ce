"""The bounce path on the local stack: an SES bounce (EventBridge's envelope, as the template's
rule delivers it) put on MailEventsQueue marks the account, GET /account says so, and the next
confirmation mail to that address is skipped while the renewal itself completes."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from infra.local.client import call, log_in, new_credentials, sign_up
from infra.local.outbox import sent_mail
from tests.support import pay, wait_for


@pytest.fixture(autouse=True)
def local_only(is_local: bool) -> None:
    if not is_local:
        pytest.skip("feeds the local mail-events queue")


def ses_bounce(address: str, kind: str = "Permanent") -> dict[str, Any]:
    """What SES publishes to EventBridge for a bounce of mail sent with our configuration set."""
    return {
        "version": "0",
        "id": f"evt-{time.time_ns()}",
        "detail-type": "Email Bounced",
        "source": "aws.ses",
        "account": "123456789012",
        "time": "2026-12-03T09:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventType": "Bounce",
            "bounce": {
                "bounceType": kind,
                "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": address, "action": "failed", "status": "5.1.1"}],
                "timestamp": "2026-12-03T09:00:00.000Z",
                "feedbackId": "0100018c-local",
            },
            "mail": {
                "timestamp": "2026-12-03T08:59:59.000Z",
                "source": "renewals@example.com",
                "messageId": "0100018c-local-mail",
                "destination": [address],
                "tags": {"ses:configuration-set": ["renewal-local-MailConfigurationSet"]},
            },
        },
    }


def queue(outputs: dict[str, str], body: dict[str, Any]) -> None:
    sqs = boto3.client(
        "sqs",
        endpoint_url=outputs["AwsEndpointUrl"],
        region_name=outputs["Region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    sqs.send_message(QueueUrl=outputs["MailEventsQueueUrl"], MessageBody=json.dumps(body))


def account(outputs: dict[str, str], token: str) -> dict[str, Any]:
    answer = call(outputs, "GET", "/account", token)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_bounce_marks_the_account_and_later_mail_is_skipped(outputs: dict[str, str]) -> None:
    email, password = new_credentials("bounce")
    sign_up(outputs, email, password)
    token = log_in(outputs, email, password)
    assert account(outputs, token)["email_status"] == "ok"

    queue(outputs, ses_bounce(email.upper(), "Transient"))  # a full mailbox says nothing lasting
    queue(outputs, ses_bounce(email.upper()))
    marked = wait_for(lambda: account(outputs, token)["email_status"] == "bounced", 30)
    assert marked, f"the account is still {account(outputs, token)['email_status']}"

    started = call(outputs, "POST", "/checkout", token, {"plan_id": "eu-daily-1gb", "currency": "EUR"})
    assert started.status_code == 201, started.text
    assert pay(started.json()["checkout_url"]).status_code == 303
    order_id = started.json()["order_id"]
    activated = wait_for(lambda: call(outputs, "GET", f"/orders/{order_id}", token).json()["status"] == "activated", 60)
    assert activated, "the renewal did not complete"
    time.sleep(2)  # the confirmation would be sent right after the activation commits
    assert sent_mail(outputs["AwsEndpointUrl"], to=email) == []
    assert account(outputs, token)["remaining_data_mb"] == 1024


def test_another_customers_mail_still_goes(outputs: dict[str, str]) -> None:
    email, password = new_credentials("kept")
    sign_up(outputs, email, password)
    token = log_in(outputs, email, password)
    queue(outputs, ses_bounce(f"someone-else-{time.time_ns()}@example.com"))
    started = call(outputs, "POST", "/checkout", token, {"plan_id": "eu-daily-1gb", "currency": "EUR"})
    assert pay(started.json()["checkout_url"]).status_code == 303
    assert wait_for(lambda: sent_mail(outputs["AwsEndpointUrl"], to=email), 60), "no confirmation was sent"
    assert account(outputs, token)["email_status"] == "ok"
