"""What Lambda's SQS event source mapping does, locally: long-poll the queue, hand batches to
the function as SQS events, delete what succeeded. With `ReportBatchItemFailures` only the
messages the function names in `batchItemFailures` stay on the queue; a function error leaves
the whole batch. Messages left on the queue come back after the visibility timeout and, after
the queue's maxReceiveCount, SQS itself moves them to the dead-letter queue."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.local.lambda_runtime import InvocationError

log = logging.getLogger("sqs-poller")


@dataclass(frozen=True)
class SqsSource:
    function: str
    queue_url: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool


class SqsPoller:
    def __init__(
        self,
        source: SqsSource,
        invoke: Callable[[str, dict[str, Any]], Any],
        sqs_client: Any,
        region: str,
        *,
        concurrency: int = 2,
        wait_seconds: int = 1,
    ) -> None:
        self.source = source
        self._invoke = invoke
        self._sqs = sqs_client
        self._region = region
        self._wait = wait_seconds
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"sqs-{source.function}-{i}", daemon=True)
            for i in range(concurrency)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=self._wait + 5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:  # keep polling, as the service would; the log says why
                if self._stopping.is_set():
                    return  # the stack is stopping: the emulators may be gone already
                log.exception("polling %s failed", self.source.queue_url)
                self._stopping.wait(1)

    def poll_once(self) -> int:
        """One receive and one invocation; returns how many messages were received."""
        answer = self._sqs.receive_message(
            QueueUrl=self.source.queue_url,
            MaxNumberOfMessages=min(self.source.batch_size, 10),
            WaitTimeSeconds=self._wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [self._record(m) for m in messages]}
        try:
            result = self._invoke(self.source.function, event)
        except InvocationError as error:
            log.warning("%s failed on a batch of %d: %s", self.source.function, len(messages), error)
            return len(messages)
        failed: set[str] = set()
        if self.source.report_batch_item_failures and isinstance(result, dict):
            failed = {str(f.get("itemIdentifier")) for f in result.get("batchItemFailures") or []}
            known = {m["MessageId"] for m in messages}
            if failed - known:
                # Lambda treats an unknown identifier as a failure of the whole batch.
                log.warning("%s reported unknown batch item ids %s", self.source.function, failed - known)
                return len(messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.source.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(messages)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("Attributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                "SentTimestamp": attributes.get("SentTimestamp", "0"),
                "SenderId": attributes.get("SenderId", "AIDAIENQZJOLO23YVJ4VO"),
                "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", "0"),
            },
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value.get("DataType", "String"),
                }
                for name, value in (message.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
            "eventSource": "aws:sqs",
            "eventSourceARN": self.source.queue_arn,
            "awsRegion": self._region,
        }
