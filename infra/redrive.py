"""Moves the messages of a dead-letter queue back to the queue they came from, after the cause
(a carrier outage, an SES quota) is fixed. Activation and reminder sending are idempotent, so a
message that was in fact handled does nothing the second time.

    python -m infra.redrive activation|mail [--outputs .local/outputs.json]

Reads the queue URLs from the outputs file (the local stack's, or a deployed stack's Outputs in
the same flat shape). On AWS `aws sqs start-message-move-task --source-arn <dead-letter queue
arn>` does the same server-side."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

QUEUES = {
    "activation": ("ActivationDeadLetterQueueUrl", "ActivationQueueUrl"),
    "mail": ("MailDeadLetterQueueUrl", "MailQueueUrl"),
}


def redrive(sqs: Any, source_url: str, target_url: str) -> int:
    moved = 0
    while True:
        batch = sqs.receive_message(QueueUrl=source_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not batch:
            return moved
        entries = [{"Id": str(n), "MessageBody": m["Body"]} for n, m in enumerate(batch)]
        answer = sqs.send_message_batch(QueueUrl=target_url, Entries=entries)
        sent = {e["Id"] for e in answer.get("Successful", [])}
        done = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch) if str(n) in sent]
        if done:  # only what reached the queue leaves the dead-letter queue
            sqs.delete_message_batch(QueueUrl=source_url, Entries=done)
        moved += len(done)
        if answer.get("Failed"):
            raise RuntimeError(f"could not move {len(answer['Failed'])} messages: {answer['Failed'][0]}")


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(prog="python -m infra.redrive", description=__doc__.split("\n\n")[0])
    parser.add_argument("queue", choices=sorted(QUEUES))
    parser.add_argument("--outputs", type=Path, default=Path(".local/outputs.json"))
    args = parser.parse_args(argv)
    if not args.outputs.exists():
        print(f"{args.outputs} not found: start the stack (make run) or pass --outputs")
        return 2
    outputs = json.loads(args.outputs.read_text())
    source_name, target_name = QUEUES[args.queue]
    endpoint = outputs.get("AwsEndpointUrl")  # the local stack's moto; absent for a deployed stack
    if endpoint:
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=outputs.get("Region"))
    moved = redrive(sqs, outputs[source_name], outputs[target_name])
    print(f"moved {moved} messages from {source_name} back to {target_name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
