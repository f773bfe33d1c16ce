"""Expiry reminders against the local stack: plans bought through the real pipeline (so
activation writes the reminder index), runs through the local scheduler's `make remind` route at
chosen times, mails read from the local outbox. Exactly the right mails, once, localized."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
import requests

from infra.local.client import call
from infra.local.outbox import sent_mail
from tests.conftest import ROOT
from tests.support import buy_plan, wait_for

SCHEDULE = "ExpiryNotifyFunction-DailyReminders"


@pytest.fixture(autouse=True)
def local_only(is_local: bool) -> None:
    if not is_local:
        pytest.skip("runs reminders as of other times through the local scheduler")


def remind(outputs: dict[str, str], now: datetime) -> dict[str, Any]:
    """`make remind NOW=...`: one run as of `now`; then waits until its mail is sent."""
    answer = requests.post(
        f"{outputs['LocalControlUrl']}/schedules/{SCHEDULE}/run", json={"now": now.isoformat()}, timeout=120
    )
    assert answer.status_code == 200, answer.text
    assert wait_for(lambda: mail_queue_empty(outputs), 60), "the reminder mail queue did not drain"
    return dict(answer.json()["result"])


def mail_queue_empty(outputs: dict[str, str]) -> bool:
    sqs = boto3.client("sqs", endpoint_url=outputs["AwsEndpointUrl"], region_name=outputs["Region"],
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    attributes = sqs.get_queue_attributes(
        QueueUrl=outputs["MailQueueUrl"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(int(value) == 0 for value in attributes.values())


def subjects(outputs: dict[str, str], email: str) -> list[str]:
    return [
        str(m["subject"])
        for m in sent_mail(outputs["AwsEndpointUrl"], email)
        if "active" not in str(m["subject"]) and "生效" not in str(m["subject"])
    ]


def customer(outputs: dict[str, str], new_customer_factory: Any, plan_id: str, **preferences: Any) -> dict[str, Any]:
    person = new_customer_factory()
    if preferences:
        answer = call(outputs, "PATCH", "/account/preferences", person["token"], preferences)
        assert answer.status_code == 200, answer.text
    person["account"] = buy_plan(outputs, person["token"], plan_id)
    person["expires_at"] = datetime.fromisoformat(person["account"]["expires_at"].replace("Z", "+00:00"))
    return person


@pytest.fixture
def new_customer_factory(outputs: dict[str, str]) -> Any:
    from infra.local.client import log_in, new_credentials, sign_up

    def make() -> dict[str, Any]:
        email, password = new_credentials("remind")
        sign_up(outputs, email, password)
        return {"email": email, "token": log_in(outputs, email, password)}

    return make


def test_expiry_reminders_exactly_once_localized_and_muted(outputs: dict[str, str], new_customer_factory: Any) -> None:
    daily = customer(outputs, new_customer_factory, "eu-daily-1gb")
    weekly_zh = customer(outputs, new_customer_factory, "eu-weekly-5gb", locale="zh-CN", time_zone="Asia/Shanghai")
    monthly = customer(outputs, new_customer_factory, "eu-monthly-20gb")
    muted = customer(outputs, new_customer_factory, "eu-weekly-5gb", reminders={"expiry": False})
    people = {"daily": daily, "weekly_zh": weekly_zh, "monthly": monthly, "muted": muted}
    bought = daily["expires_at"] - timedelta(days=1)

    # Just bought: the daily plan's "1 day left" moment came before it began, so nothing is due.
    remind(outputs, bought + timedelta(minutes=1))
    assert {name: subjects(outputs, p["email"]) for name, p in people.items()} == {name: [] for name in people}

    # Six days on, a few hours before the weekly plans end: their "1 day" mail (the 7-day moment
    # came before they began); the daily plan is over; the monthly one has 24 days left. The
    # same run three times (the scheduler's and Lambda's retries) and two runs at once.
    at = weekly_zh["expires_at"] - timedelta(hours=3)
    first = remind(outputs, at)
    assert first["due_lines"] >= 3 and first["items_read"] == first["due_lines"]
    again = [threading.Thread(target=remind, args=(outputs, at)) for _ in range(2)]
    for thread in again:
        thread.start()
    for thread in again:
        thread.join()
    remind(outputs, at)
    assert subjects(outputs, daily["email"]) == ["Your eSIM plan has expired"]
    assert subjects(outputs, weekly_zh["email"]) == ["您的欧洲套餐将在3 小时后到期"]
    assert subjects(outputs, monthly["email"]) == []
    assert subjects(outputs, muted["email"]) == []

    (mail,) = [m for m in sent_mail(outputs["AwsEndpointUrl"], weekly_zh["email"]) if "到期" in str(m["subject"])]
    shanghai = weekly_zh["expires_at"].astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M CST")
    assert shanghai in str(mail["body"])
    assert f"{outputs['ApiUrl']}/app/?renew=eu-weekly-5gb" in str(mail["body"])

    # 23 days on: the monthly plan's 7-day mail; the weekly plan's expiry.
    remind(outputs, monthly["expires_at"] - timedelta(days=7) + timedelta(minutes=1))
    # After the monthly plan's end: only "expired" (its 1-day moment passed unsent: only the nearest goes).
    remind(outputs, monthly["expires_at"] + timedelta(minutes=1))
    remind(outputs, monthly["expires_at"] + timedelta(minutes=1))
    assert subjects(outputs, daily["email"]) == ["Your eSIM plan has expired"]
    assert subjects(outputs, weekly_zh["email"]) == ["您的欧洲套餐将在3 小时后到期", "您的 eSIM 套餐已到期"]
    assert subjects(outputs, monthly["email"]) == ["Your Europe plan ends in 7 days", "Your eSIM plan has expired"]
    assert subjects(outputs, muted["email"]) == []


def test_a_run_reads_only_the_accounts_due_at_scale(outputs: dict[str, str]) -> None:
    """20,000 accounts, 1 % due: the run reads (DynamoDB's ScannedCount) at most 1.1x the due."""
    answer = subprocess.run(
        [sys.executable, "-m", "infra.bench.reminder_scale", "--json", "--accounts", "20000", "--due-share", "0.01",
         "--dynamodb-url", outputs["DynamoDbEndpointUrl"], "--aws-url", outputs["AwsEndpointUrl"]],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr[-3000:]
    result = json.loads(answer.stdout)
    run = result["run"]
    print(json.dumps(result))
    assert run["due_lines"] == result["due_expected"] == 200
    assert run["queued"] == 200
    assert run["items_read"] <= 1.1 * run["due_lines"]
    assert run["capacity_units"] > 0  # DynamoDB reported what the run consumed
