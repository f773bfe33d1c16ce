"""Reminders: the scheduled run that finds what is due and queues it, and the sender that turns
each queued reminder into one localized mail, exactly once."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from renewal.domain.lines import Bundle
from renewal.domain.mail import ReminderFacts, reminder_mail
from renewal.domain.reminders import (
    EXPIRED,
    ReminderMessage,
    ReminderPolicy,
    due_reminders,
    is_low_data_kind,
    next_check,
)
from renewal.domain.timeutil import to_iso, utc_now
from renewal.ports import AccountStore, DueLine, LineStore, Mailer, ReminderIndex, ReminderLog, ReminderQueue

logger = Logger(child=True)
FLUSH_EVERY = 100  # lines per queue flush: queue first, then move the lines on in the index


@dataclass
class ShardTally:
    due_lines: int = 0
    queued: int = 0
    without_account: int = 0
    moved_on: int = 0
    moved_by_others: int = 0


class ReminderRun:
    """One run: for every line whose index key is due, queue each due reminder, then move the
    line's key to its next check. Queue-then-move makes a crash or a retry queue a reminder twice
    at worst, never lose it; the sender's log sends it once. Overlapping runs race only on the
    move, which is conditional."""

    def __init__(self, index: ReminderIndex, queue: ReminderQueue, policy: ReminderPolicy, workers: int = 8) -> None:
        self._index = index
        self._queue = queue
        self._policy = policy
        self._workers = workers

    def run(self, now: datetime) -> dict[str, Any]:
        counters = ("items_read", "capacity_units")  # what the index adapter counts, if it counts
        before = {c: getattr(self._index, c) for c in counters if hasattr(self._index, c)}
        shards = list(self._index.shards())
        with ThreadPoolExecutor(max_workers=max(1, min(self._workers, len(shards)))) as pool:
            tallies = list(pool.map(lambda shard: self._run_shard(shard, now), shards))
        report: dict[str, Any] = {"as_of": to_iso(now)}
        for name in ShardTally.__dataclass_fields__:
            report[name] = sum(getattr(t, name) for t in tallies)
        for counter, start in before.items():  # this run's share: a warm instance keeps its adapter
            report[counter] = getattr(self._index, counter) - start
        return report

    def _run_shard(self, shard: str, now: datetime) -> ShardTally:
        tally = ShardTally()
        batch: list[DueLine] = []
        for line in self._index.due(shard, now):
            tally.due_lines += 1
            batch.append(line)
            if len(batch) >= FLUSH_EVERY:
                self._flush(batch, now, tally)
                batch = []
        if batch:
            self._flush(batch, now, tally)
        return tally

    def _flush(self, lines: list[DueLine], now: datetime, tally: ShardTally) -> None:
        messages = []
        for line in lines:
            if line.account_id is None:
                tally.without_account += 1  # a store-only line: nobody to mail
                continue
            messages += [
                ReminderMessage(k, line.account_id, now)
                for k in due_reminders(line.iccid, line.bundles, now, self._policy)
            ]
        self._queue.send(messages)
        tally.queued += len(messages)
        for line in lines:
            if self._index.advance(line, next_check(line.bundles, now, self._policy)):
                tally.moved_on += 1
            else:
                tally.moved_by_others += 1  # renewed meanwhile, or another run got there first


class ReminderPending(Exception):
    """Another delivery holds this reminder's claim and has not sent it yet: try again later."""


class ReminderSender:
    """Sends one queued reminder or alert: only to the line's account, only if not muted, only
    while it is still true (not renewed or topped up since), and only once."""

    def __init__(
        self,
        accounts: AccountStore,
        lines: LineStore,
        log: ReminderLog,
        mailer: Mailer,
        renew_url: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._accounts = accounts
        self._lines = lines
        self._log = log
        self._mailer = mailer
        self._renew_url = renew_url
        self._clock = clock

    def send(self, message: ReminderMessage) -> str:
        key = message.key
        record = self._accounts.get(message.account_id)
        if record is None:
            return "no_account"
        account = record.account
        wanted = account.low_data_reminders if is_low_data_kind(key.kind) else account.expiry_reminders
        if not wanted:
            return "muted"  # not sent and not recorded: unmuting later does not resurrect it
        line = self._lines.get(key.iccid)
        if line is None or line.account_id != account.account_id or not key.still_applies(line.bundles):
            return "stale"
        claimed_at = self._clock()
        if not self._log.claim(key.id, account.account_id, claimed_at):
            if self._log.is_sent(key.id):
                return "duplicate"
            raise ReminderPending(f"{key.id} is claimed but not sent yet")
        try:
            self._mailer.send(
                reminder_mail(self._facts(message, account.email, account.locale, account.time_zone, line.bundles))
            )
        except Exception:
            self._log.release(key.id, claimed_at)  # the redelivered message sends it
            raise
        self._log.mark_sent(key.id, self._clock())
        return "sent"

    def _facts(
        self, message: ReminderMessage, email: str, locale: str, time_zone: str, bundles: tuple[Bundle, ...]
    ) -> ReminderFacts:
        key = message.key
        if key.kind == EXPIRED:
            last = max(bundles, key=lambda b: b.expires_at)
            remaining, expires_at, plan_id, region = 0, last.expires_at, last.plan_id, last.region
        else:
            bundle = next(b for b in bundles if b.region == key.region)
            remaining, expires_at = bundle.remaining_data_mb, bundle.expires_at
            plan_id, region = bundle.plan_id, bundle.region
        renew_url = self._renew_url.replace("{plan_id}", plan_id or "").replace("{region}", region)
        return ReminderFacts(
            kind=key.kind,
            to=email,
            locale=locale,
            time_zone=time_zone,
            iccid=key.iccid,
            region=key.region,
            remaining_mb=remaining,
            expires_at=expires_at,
            renew_url=renew_url,
            as_of=message.as_of,
        )
