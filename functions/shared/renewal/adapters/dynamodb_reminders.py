"""DynamoDB for reminders and usage: the reminder index (a sparse GSI of the lines table), the
log of reminder mails sent, and the ledger of carrier usage records."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from renewal.adapters.dynamodb import (
    REMINDER_SHARDS,
    LineModel,
    UTCInstantAttribute,
    aws_region,
    cancelled_by_condition,
    condition_failed,
    configured_table,
    line_bundles_update,
    transaction_connection,
)
from renewal.domain.lines import Bundle
from renewal.domain.usage import UsageRecord
from renewal.ports import DueLine, LineRecord, StaleWrite

KEEP_REMINDER_LOG = timedelta(days=400)  # longer than any plan, so an old key is never re-sent
KEEP_USAGE_RECORDS = timedelta(days=400)  # carriers re-send for days at most; a year is margin
PAGE = 500


class ReminderLogModel(Model):
    class Meta:
        table_name = configured_table("REMINDER_LOG_TABLE")
        region = aws_region()

    reminder_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    claimed_at = UTCInstantAttribute(null=True)
    sent_at = UTCInstantAttribute(null=True)
    expires = NumberAttribute()  # TTL


class UsageRecordModel(Model):
    class Meta:
        table_name = configured_table("USAGE_RECORDS_TABLE")
        region = aws_region()

    record_id = UnicodeAttribute(hash_key=True)
    iccid = UnicodeAttribute()
    country = UnicodeAttribute()
    data_mb = NumberAttribute()
    used_at = UTCInstantAttribute()
    expires = NumberAttribute()  # TTL


class DynamoReminderIndex:
    """Counts what it reads, so a run can report (and a test can check) that it read only the
    lines that were due."""

    def __init__(self) -> None:
        self.items_read = 0
        self.capacity_units = 0.0
        self._counting = threading.Lock()  # a run reads its shards in parallel threads

    def shards(self) -> Sequence[str]:
        return [str(n) for n in range(REMINDER_SHARDS)]

    def due(self, shard: str, now: datetime) -> Iterator[DueLine]:
        connection = LineModel._get_connection()
        start: dict[str, Any] | None = None
        while True:
            page = connection.query(
                shard,
                LineModel.remind_at <= now,
                index_name=LineModel.by_remind_at.Meta.index_name,
                exclusive_start_key=start,
                limit=PAGE,
                return_consumed_capacity="TOTAL",
            )
            with self._counting:
                self.items_read += int(page.get("ScannedCount", 0))
                self.capacity_units += float(page.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0))
            for item in page.get("Items", []):
                line = LineModel.from_raw_data(item)
                yield DueLine(
                    iccid=line.iccid,
                    account_id=line.account_id,
                    bundles=tuple(b.to_bundle() for b in line.bundles or ()),
                    remind_at=line.remind_at or now,  # a key of the index: always set
                )
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def advance(self, line: DueLine, next_check: datetime | None) -> bool:
        actions: list[Any] = (
            [LineModel.remind_at.remove(), LineModel.remind_shard.remove()]
            if next_check is None
            else [LineModel.remind_at.set(next_check)]
        )
        try:
            LineModel(iccid=line.iccid).update(actions=actions, condition=LineModel.remind_at == line.remind_at)
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True


class DynamoReminderLog:
    def __init__(self, claim_lease: timedelta) -> None:
        """`claim_lease`: how long a sender's claim holds (renewal.settings.claim_lease)."""
        self._claim_lease = claim_lease

    def claim(self, reminder_id: str, account_id: str, now: datetime) -> bool:
        try:
            ReminderLogModel(reminder_id=reminder_id).update(
                actions=[
                    ReminderLogModel.account_id.set(account_id),
                    ReminderLogModel.claimed_at.set(now),
                    ReminderLogModel.expires.set(int(time.time() + KEEP_REMINDER_LOG.total_seconds())),
                ],
                condition=ReminderLogModel.sent_at.does_not_exist()
                & (
                    ReminderLogModel.claimed_at.does_not_exist()
                    | (ReminderLogModel.claimed_at < now - self._claim_lease)
                ),
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def is_sent(self, reminder_id: str) -> bool:
        try:
            item = ReminderLogModel.get(reminder_id, consistent_read=True)
        except ReminderLogModel.DoesNotExist:
            return False
        return item.sent_at is not None

    def release(self, reminder_id: str, claimed_at: datetime) -> None:
        try:
            ReminderLogModel(reminder_id=reminder_id).update(
                actions=[ReminderLogModel.claimed_at.remove()],
                condition=(ReminderLogModel.claimed_at == claimed_at) & ReminderLogModel.sent_at.does_not_exist(),
            )
        except UpdateError as error:
            if not condition_failed(error):
                raise  # someone else's claim by now: leave it

    def mark_sent(self, reminder_id: str, now: datetime) -> None:
        ReminderLogModel(reminder_id=reminder_id).update(actions=[ReminderLogModel.sent_at.set(now)])


class DynamoUsageLedger:
    def recorded(self, record_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        unique = list(dict.fromkeys(record_ids))
        for start in range(0, len(unique), 100):  # BatchGetItem takes 100 keys
            for item in UsageRecordModel.batch_get(unique[start : start + 100], attributes_to_get=["record_id"]):
                found.add(item.record_id)
        return found

    def apply(self, line: LineRecord, bundles: tuple[Bundle, ...], records: Sequence[UsageRecord]) -> None:
        if len(records) > 99:
            raise ValueError("a transaction holds at most 99 records besides the line")
        expires = int(time.time() + KEEP_USAGE_RECORDS.total_seconds())
        try:
            with TransactWrite(connection=transaction_connection()) as transaction:
                line_bundles_update(transaction, line, bundles)
                for record in records:
                    transaction.save(
                        UsageRecordModel(
                            record_id=record.record_id,
                            iccid=record.iccid,
                            country=record.country,
                            data_mb=record.data_mb,
                            used_at=record.used_at,
                            expires=expires,
                        ),
                        condition=UsageRecordModel.record_id.does_not_exist(),
                    )
        except TransactWriteError as error:
            if any(cancelled_by_condition(error, i) for i in range(len(records) + 1)):
                raise StaleWrite(line.iccid) from error
            raise
