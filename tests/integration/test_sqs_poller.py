"""The local SQS event source behaves like Lambda's: successes are deleted, items named in
batchItemFailures come back, and after maxReceiveCount SQS moves them to the dead-letter queue."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra.local import emulators
from infra.local.lambda_runtime import InvocationError
from infra.local.sqs_poller import SqsPoller, SqsSource

CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def sqs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    logs = tmp_path_factory.mktemp("moto")
    port = emulators.free_port()
    process: subprocess.Popen[bytes] = emulators.start_moto(port, logs)
    try:
        emulators.wait_for_moto(f"http://127.0.0.1:{port}", process, logs)
        yield boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{port}", **CREDENTIALS)
    finally:
        process.terminate()
        process.wait(timeout=10)


def queues(sqs: Any, name: str, max_receives: int = 2) -> tuple[str, str, str]:
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives})
    queue = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "1", "RedrivePolicy": policy})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return queue, arn, dlq


def drain(poller: SqsPoller, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        poller.poll_once()


def bodies(sqs: Any, url: str) -> list[str]:
    found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return sorted(m["Body"] for m in found)


def test_partial_batch_failures_end_in_the_dead_letter_queue(sqs: Any) -> None:
    queue, arn, dlq = queues(sqs, "partial")
    for body in ("good-1", "poison", "good-2"):
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    seen: list[dict[str, Any]] = []

    def function(_: str, event: dict[str, Any]) -> dict[str, Any]:
        seen.extend(event["Records"])
        failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "poison"]
        return {"batchItemFailures": failures}

    poller = SqsPoller(SqsSource("fn", queue, arn, 10, True), function, sqs, "us-east-1", wait_seconds=1)
    drain(poller, 5)
    assert sorted({r["body"] for r in seen}) == ["good-1", "good-2", "poison"]
    assert [r["body"] for r in seen].count("good-1") == 1  # deleted after the first success
    assert [r["body"] for r in seen].count("poison") == 2  # maxReceiveCount, then the DLQ
    assert seen[0]["eventSource"] == "aws:sqs" and seen[0]["eventSourceARN"] == arn
    assert bodies(sqs, queue) == []
    assert bodies(sqs, dlq) == ["poison"]


def test_a_function_error_leaves_the_whole_batch(sqs: Any) -> None:
    queue, arn, dlq = queues(sqs, "crashing", max_receives=5)
    sqs.send_message(QueueUrl=queue, MessageBody="a")
    calls = []

    def function(_: str, event: dict[str, Any]) -> dict[str, Any]:
        calls.append(event)
        if len(calls) == 1:
            raise InvocationError("Runtime.ExitError", "worker died after commit")
        return {"batchItemFailures": []}

    poller = SqsPoller(SqsSource("fn", queue, arn, 10, True), function, sqs, "us-east-1", wait_seconds=1)
    drain(poller, 3.5)
    assert len(calls) == 2  # redelivered after the visibility timeout, then deleted
    assert calls[1]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert bodies(sqs, queue) == [] and bodies(sqs, dlq) == []
