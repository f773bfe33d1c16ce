"""POST /usage/records as the carrier sends it: signed batches, each record counted once, never
below zero, low-data alerts at 75 %, 90 % and 100 % once each. Runs against any stack whose
outputs carry UsageHmacSecret; the alert mails are checked where the outbox is readable."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from infra.local.client import call
from tests.support import buy_plan, wait_for


def post_usage(outputs: dict[str, str], records: list[dict[str, Any]], secret: str | None = None) -> requests.Response:
    import hashlib
    import hmac

    body = json.dumps({"records": records}).encode()
    stamp = int(time.time())
    digest = hmac.new((secret or outputs["UsageHmacSecret"]).encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    return requests.post(
        outputs["ApiUrl"].rstrip("/") + "/usage/records",
        data=body,
        headers={"Content-Type": "application/json", "Usage-Signature": f"t={stamp},v1={digest.hexdigest()}"},
        timeout=30,
    )


def record(iccid: str, mb: int, minutes_ago: int = 5, country: str = "FR") -> dict[str, Any]:
    at = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"record_id": f"u-{uuid.uuid4().hex}", "iccid": iccid, "country": country, "data_mb": mb, "used_at": at}


def remaining(outputs: dict[str, str], token: str) -> int:
    return int(call(outputs, "GET", "/account", token).json()["remaining_data_mb"])


def alert_subjects(outputs: dict[str, str], email: str) -> list[str]:
    from infra.local.outbox import sent_mail

    return [str(m["subject"]) for m in sent_mail(outputs["AwsEndpointUrl"], email) if "data" in str(m["subject"])]


def test_signed_usage_counts_once_and_alerts_once_each(
    outputs: dict[str, str], new_customer: dict, is_local: bool
) -> None:
    if not is_local:
        pytest.skip("buying the plan needs the local Stripe stand-in's hosted page")
    token = new_customer["token"]
    account = buy_plan(outputs, token, "eu-daily-1gb")  # 1,024 MB
    iccid = account["iccid"]

    unsigned = post_usage(outputs, [record(iccid, 100)], secret="not-the-carriers-secret")
    assert unsigned.status_code == 401 and unsigned.json()["error"]["code"] == "bad_signature"
    assert remaining(outputs, token) == 1024

    later, earlier = record(iccid, 500, minutes_ago=5), record(iccid, 200, minutes_ago=50)
    first = post_usage(outputs, [later])
    assert first.status_code == 202, first.text
    assert first.json()["applied"] == 1
    again = post_usage(outputs, [earlier, later])  # out of order, with a duplicate
    assert again.json() | {"unknown_iccids": []} == {
        "received": 2, "applied": 1, "duplicates": 1, "unknown_iccids": [], "uncovered_mb": 0, "alerts_queued": 0
    }  # fmt: skip
    assert remaining(outputs, token) == 324  # 700 of 1,024 used: 68 %

    crossing_75 = record(iccid, 60)  # 74.2 % -> no; 76 % after the next
    assert post_usage(outputs, [crossing_75, record(iccid, 20)]).json()["alerts_queued"] == 1  # 76.3 %
    assert post_usage(outputs, [record(iccid, 10)]).json()["alerts_queued"] == 0  # 77.3 %: nothing new
    assert post_usage(outputs, [record(iccid, 140)]).json()["alerts_queued"] == 1  # 91 %
    last = record(iccid, 500)
    assert post_usage(outputs, [last]).json() | {"unknown_iccids": []} == {
        "received": 1, "applied": 1, "duplicates": 0, "unknown_iccids": [], "uncovered_mb": 406, "alerts_queued": 1
    }  # fmt: skip
    assert remaining(outputs, token) == 0  # never below zero
    assert post_usage(outputs, [last]).json()["duplicates"] == 1

    if is_local:
        # One mail each (a standard SQS queue does not keep their order).
        expected = sorted(f"You have used {p}% of your Europe data" for p in (75, 90, 100))
        arrived = wait_for(lambda: sorted(alert_subjects(outputs, new_customer["email"])) == expected, 20)
        assert arrived, alert_subjects(outputs, new_customer["email"])
        time.sleep(2)  # nothing more arrives later
        assert sorted(alert_subjects(outputs, new_customer["email"])) == expected


def test_bad_batches_are_refused_whole(outputs: dict[str, str], new_customer: dict) -> None:
    iccid = "8944500000000000212"  # any well-formed ICCID: the batch is refused before any is looked up
    good = record(iccid, 10)
    for bad in ([good, {**record(iccid, 10), "data_mb": -5}], [{**good, "country": "XX"}], []):
        answer = post_usage(outputs, bad)
        assert answer.status_code == 422, answer.text
        assert set(answer.json()["error"]) == {"code", "message"}
    unknown = post_usage(outputs, [record("8944500000000000774", 10)])
    assert unknown.status_code == 202 and unknown.json()["unknown_iccids"] == ["8944500000000000774"]
    missing = requests.post(outputs["ApiUrl"].rstrip("/") + "/usage/records", data=b"{}", timeout=30)
    assert missing.status_code == 401
