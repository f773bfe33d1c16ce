"""The activation queue (SQS)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3


class SqsActivationQueue:
    def __init__(self) -> None:
        self._client: Any = None

    def enqueue(self, order_id: str) -> None:
        if self._client is None:
            self._client = boto3.client("sqs")
        self._client.send_message(
            QueueUrl=os.environ["ACTIVATION_QUEUE_URL"], MessageBody=json.dumps({"order_id": order_id})
        )
