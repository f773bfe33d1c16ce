"""The queues (SQS): the carrier work queue (activations and reversals), and reminder mail."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from renewal.adapters.aws import client
from renewal.domain.reminders import ReminderMessage


class SqsActivationQueue:
    def __init__(self, queue_url: str) -> None:
        self._client: Any = client("sqs")  # made now (at init), on the shared session
        self._url = queue_url

    def enqueue(self, order_id: str) -> None:
        self._client.send_message(QueueUrl=self._url, MessageBody=json.dumps({"order_id": order_id}))

    def enqueue_reversal(self, reversal_id: str) -> None:
        self._client.send_message(QueueUrl=self._url, MessageBody=json.dumps({"reversal_id": reversal_id}))


class SqsReminderQueue:
    """The reminder-mail queue: messages go in batches of ten (SQS's most per request)."""

    def __init__(self, queue_url: str) -> None:
        self._client: Any = client("sqs")
        self._url = queue_url

    def send(self, messages: Sequence[ReminderMessage]) -> None:
        for start in range(0, len(messages), 10):
            batch = messages[start : start + 10]
            answer = self._client.send_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(n), "MessageBody": json.dumps(m.to_json())} for n, m in enumerate(batch)],
            )
            failed = answer.get("Failed") or []
            if failed:  # the run fails and is retried; the sender's log drops what was queued twice
                raise RuntimeError(f"{len(failed)} reminder messages were not queued: {failed[0]}")
