"""How much a reminder run reads, at scale: seeds N lines (each an account's) of which a share
is due, runs the real reminder run (real adapter, DynamoDB Local) and reports the items and
capacity DynamoDB says it read, beside a naive scan of the same table.

    python -m infra.bench.reminder_scale --dynamodb-url http://127.0.0.1:8000 \\
        [--aws-url http://127.0.0.1:5001] [--accounts 20000] [--due-share 0.01] [--json]

It makes its own Lines table (from template.yaml's definition, under a throwaway stack name) and
deletes it afterwards, so it never touches a running stack's data. With --aws-url the run queues
into a throwaway SQS queue in moto as it would in AWS; without, into a counting queue."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": REGION}


class CountingQueue:
    def __init__(self) -> None:
        self.sent = 0

    def send(self, messages: Sequence[Any]) -> None:
        self.sent += len(messages)


def _iccid(n: int) -> str:
    from renewal.domain.lines import luhn_check_digit

    body = f"8985209{n:011d}"
    return body + luhn_check_digit(body)


def create_lines_table(dynamodb_url: str, aws_url: str) -> str:
    from infra.local.provision import Provisioner
    from infra.local.template import LocalStack, load_template

    stack = LocalStack(load_template(ROOT / "template.yaml"), f"renewal-scale-{uuid.uuid4().hex[:8]}", REGION, {})
    created = Provisioner(stack, dynamodb_url, aws_url).create_only(["LinesTable"])
    return str(created["LinesTable"].ref)


def seed(accounts: int, due_share: float, now: datetime, workers: int = 16) -> int:
    """Writes the lines; returns how many are due at `now`."""
    from renewal.adapters.dynamodb import BundleAttribute, LineModel, reminder_index_key, reminder_shard
    from renewal.domain.lines import Bundle

    due_every = round(1 / due_share) if due_share > 0 else 0

    variants: dict[tuple[bool, int], dict[str, Any]] = {}

    def template(due: bool, days: int) -> dict[str, Any]:
        """One line of each kind, made and serialized by the real model; lines differ only in
        their keys, so each item is a copy of its kind's with those changed (cheap enough that
        DynamoDB Local, not this process, sets the pace)."""
        if (due, days) not in variants:
            # Due: 6 days left of a monthly bought 24 days ago (its 7-day reminder fell due yesterday).
            # Not due: 10 to 40 days left of a plan bought today.
            expires = now + timedelta(days=days)
            bought = now - timedelta(days=24) if due else now - timedelta(minutes=5)
            bundle = Bundle("EU", 1000, expires, bought, 1000, topped_up_at=bought, plan_id="eu-monthly-20gb")
            shard, remind_at = reminder_index_key(_iccid(0), (bundle,), None, bought)
            model = LineModel(
                iccid="-",
                pin_hash="-",
                account_id="-",
                bundles=[BundleAttribute.from_bundle(bundle)],
                remind_shard=shard,
                remind_at=remind_at,
            )
            variants[(due, days)] = model.serialize()
        return variants[(due, days)]

    def line(n: int) -> dict[str, Any]:
        due = due_every > 0 and n % due_every == 0
        iccid = _iccid(n)
        item = {**template(due, 6 if due else 10 + n % 30), "iccid": {"S": iccid}, "account_id": {"S": f"scale-{n}"}}
        if "remind_shard" in item:
            item["remind_shard"] = {"S": reminder_shard(iccid)}
        return item

    # Items made by the real model (serialize), written with plain BatchWriteItem calls: the
    # same items as `LineModel.batch_write()` writes, at about twice the speed on DynamoDB Local.
    table = LineModel.Meta.table_name
    clients = [_dynamodb_client() for _ in range(workers)]

    def write(start: int) -> None:
        client = clients[(start // 1000) % workers]
        for first in range(start, min(start + 1000, accounts), 25):
            items = [line(n) for n in range(first, min(first + 25, accounts))]
            request: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in items]}
            while request:
                request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(write, range(0, accounts, 1000)))
    return sum(1 for n in range(accounts) if due_every and n % due_every == 0)


def _dynamodb_client() -> Any:
    import boto3

    return boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"], **CREDENTIALS)


def naive_scan() -> dict[str, float]:
    """What a run without the index would read: every line."""
    from renewal.adapters.dynamodb import LineModel

    connection = LineModel._get_connection()
    items, units, start = 0, 0.0, None
    while True:
        page = connection.scan(exclusive_start_key=start, return_consumed_capacity="TOTAL")
        items += int(page.get("ScannedCount", 0))
        units += float(page.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0))
        start = page.get("LastEvaluatedKey")
        if not start:
            return {"items_read": items, "capacity_units": units}


def measure(dynamodb_url: str, aws_url: str | None, accounts: int, due_share: float, scan: bool) -> dict[str, Any]:
    import boto3

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = REGION
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_url
    table = create_lines_table(dynamodb_url, aws_url or "http://127.0.0.1:9")
    os.environ["LINES_TABLE"] = table  # before the adapters are imported: models bind their table then
    sys.path.insert(0, str(ROOT / "functions" / "shared"))
    from renewal.adapters.dynamodb_reminders import DynamoReminderIndex
    from renewal.domain.reminders import ReminderPolicy
    from renewal.usecases.reminders import ReminderRun

    queue: Any = CountingQueue()
    queue_url = None
    if aws_url:
        from renewal.adapters.queue import SqsReminderQueue

        sqs = boto3.client("sqs", endpoint_url=aws_url, **CREDENTIALS)
        queue_url = sqs.create_queue(QueueName=f"{table}-mail")["QueueUrl"]
        os.environ["AWS_ENDPOINT_URL_SQS"] = aws_url
        queue = SqsReminderQueue(queue_url)
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        started = time.perf_counter()
        due = seed(accounts, due_share, now)
        seeded_s = time.perf_counter() - started
        started = time.perf_counter()
        report = ReminderRun(DynamoReminderIndex(), queue, ReminderPolicy()).run(now)
        run_s = time.perf_counter() - started
        result: dict[str, Any] = {
            "accounts": accounts,
            "due_expected": due,
            "seed_seconds": round(seeded_s, 2),
            "run_seconds": round(run_s, 3),
            "mails_queued_per_second": round(report["queued"] / run_s, 1) if run_s else None,
            "read_ratio": round(report["items_read"] / max(1, report["due_lines"]), 3),
            "run": report,
            "queue": "sqs (moto)" if aws_url else "counting (in memory)",
        }
        if scan:
            started = time.perf_counter()
            result["naive_scan"] = {**naive_scan(), "seconds": round(time.perf_counter() - started, 3)}
        return result
    finally:
        boto3.client("dynamodb", endpoint_url=dynamodb_url, **CREDENTIALS).delete_table(TableName=table)
        if queue_url and aws_url:
            boto3.client("sqs", endpoint_url=aws_url, **CREDENTIALS).delete_queue(QueueUrl=queue_url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.bench.reminder_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dynamodb-url", required=True)
    parser.add_argument("--aws-url")
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--due-share", type=float, default=0.01)
    parser.add_argument("--scan", action="store_true", help="also scan the table, for comparison")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.dynamodb_url, args.aws_url, args.accounts, args.due_share, args.scan)
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
