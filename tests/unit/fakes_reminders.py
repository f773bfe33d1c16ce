"""In-memory reminder index, reminder log, reminder queue and usage ledger, with the contracts of
the DynamoDB and SQS adapters."""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from renewal.domain.lines import Bundle
from renewal.domain.reminders import ReminderMessage
from renewal.domain.timeutil import claim_lease
from renewal.domain.usage import UsageRecord
from renewal.ports import DueLine, LineRecord, StaleWrite
from tests.unit.fakes import FakeLines


class FakeReminderIndex:
    """The lines' `remind_at`, sharded like the real index; counts the items it reads."""

    def __init__(self, lines: FakeLines, shard_count: int = 4) -> None:
        self.lines = lines
        self.shard_count = shard_count
        self.items_read = 0
        self.advance_fails = False  # a run that dies after queueing, before moving lines on

    def shards(self) -> Sequence[str]:
        return [str(n) for n in range(self.shard_count)]

    def due(self, shard: str, now: datetime) -> Iterator[DueLine]:
        for line in sorted(self.lines.lines.values(), key=lambda r: (r.remind_at or now, r.iccid)):
            if str(zlib.crc32(line.iccid.encode()) % self.shard_count) != shard:
                continue
            if line.remind_at is not None and line.remind_at <= now:
                self.items_read += 1
                yield DueLine(line.iccid, line.account_id, line.bundles, line.remind_at)

    def advance(self, line: DueLine, next_check: datetime | None) -> bool:
        if self.advance_fails:
            raise ConnectionError("the run died before moving the lines on")
        current = self.lines.lines[line.iccid]
        if current.remind_at != line.remind_at:
            return False
        self.lines.lines[line.iccid] = replace(current, remind_at=next_check)
        return True


class FakeReminderQueue:
    def __init__(self) -> None:
        self.messages: list[ReminderMessage] = []

    def send(self, messages: Sequence[ReminderMessage]) -> None:
        self.messages.extend(messages)

    def take_all(self) -> list[ReminderMessage]:
        taken, self.messages = self.messages, []
        return taken


class FakeReminderLog:
    def __init__(self) -> None:
        self.claims: dict[str, datetime] = {}
        self.sent: dict[str, datetime] = {}

    def claim(self, reminder_id: str, account_id: str, now: datetime) -> bool:
        held = self.claims.get(reminder_id)
        if reminder_id in self.sent or (held is not None and held > now - claim_lease(60)):
            return False
        self.claims[reminder_id] = now
        return True

    def is_sent(self, reminder_id: str) -> bool:
        return reminder_id in self.sent

    def release(self, reminder_id: str, claimed_at: datetime) -> None:
        if self.claims.get(reminder_id) == claimed_at and reminder_id not in self.sent:
            del self.claims[reminder_id]

    def mark_sent(self, reminder_id: str, now: datetime) -> None:
        self.sent[reminder_id] = now


class FakeUsageLedger:
    def __init__(self, lines: FakeLines) -> None:
        self.lines = lines
        self.records: dict[str, UsageRecord] = {}
        self.lose_races = 0  # how many applies lose to a concurrent writer first

    def recorded(self, record_ids: Sequence[str]) -> set[str]:
        return {r for r in record_ids if r in self.records}

    def apply(self, line: LineRecord, bundles: tuple[Bundle, ...], records: Sequence[UsageRecord]) -> None:
        if self.lose_races:
            self.lose_races -= 1
            current = self.lines.lines[line.iccid]
            self.lines.lines[line.iccid] = replace(current, version=current.version + 1)
            raise StaleWrite(line.iccid)
        if any(r.record_id in self.records for r in records):
            raise StaleWrite(line.iccid)
        self.lines.write_bundles(line, bundles)
        self.records.update({r.record_id: r for r in records})
