"""In-memory stores with the same contracts as the DynamoDB adapters (fakes, not mocks)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from renewal.domain.accounts import Account
from renewal.domain.lines import Bundle
from renewal.domain.pins import LOCK_AFTER, AttemptCounter, Refusal
from renewal.domain.reminders import ReminderPolicy, recheck_after_write
from renewal.domain.timeutil import utc_now
from renewal.ports import AccountExists, AccountHasLine, AccountRecord, LineRecord, LineTaken, StaleWrite


class FakeLines:
    def __init__(self) -> None:
        self.lines: dict[str, LineRecord] = {}
        self.pool: set[str] = set()
        self.changed: dict[str, datetime] = {}  # iccid -> when its bundles last changed
        self.reads: list[str] = []  # the iccid of every get, in order (to count reads)

    def add(self, record: LineRecord, *, in_pool: bool = False) -> None:
        self.lines[record.iccid] = record
        if in_pool:
            self.pool.add(record.iccid)

    def get(self, iccid: str) -> LineRecord | None:
        self.reads.append(iccid)
        return self.lines.get(iccid)

    def pool_available(self) -> int:
        return len(self.pool)

    def pool_candidates(self, limit: int) -> list[str]:
        return sorted(self.pool)[:limit]

    def changed_since(self, since: datetime, now: datetime) -> list[str]:
        return sorted(iccid for iccid, moment in self.changed.items() if since <= moment <= now)

    def write_bundles(self, line: LineRecord, bundles: Sequence[Bundle], now: datetime | None = None) -> None:
        """As the DynamoDB adapter writes bundles: at the version read, re-keyed in the reminder index."""
        current = self.lines[line.iccid]
        if current.version != line.version:
            raise StaleWrite(line.iccid)
        moment = now or utc_now()
        remind_at = recheck_after_write(bundles, current.remind_at, moment, ReminderPolicy())
        self.changed[line.iccid] = moment
        self.lines[line.iccid] = replace(
            current, bundles=tuple(bundles), version=current.version + 1, remind_at=remind_at
        )


class FakeAccounts:
    def __init__(self, lines: FakeLines) -> None:
        self.accounts: dict[str, AccountRecord] = {}
        self.lines = lines
        self.reads: list[tuple[str, bool]] = []  # (account id, consistent) of every get
        self.lagging: set[str] = set()  # accounts an eventually consistent read does not see yet

    def get(self, account_id: str, *, consistent: bool = True) -> AccountRecord | None:
        self.reads.append((account_id, consistent))
        if not consistent and account_id in self.lagging:
            return None
        return self.accounts.get(account_id)

    def create(self, account: Account) -> None:
        if account.account_id in self.accounts:
            raise AccountExists(account.account_id)
        self.accounts[account.account_id] = AccountRecord(account)

    def take_line(self, account_id: str, iccid: str, from_pool: bool) -> None:
        """What a paying write does to the account and the line (ports.OrderStore.pay_with_line)."""
        record = self.accounts.get(account_id)
        if not from_pool:
            if record is None or record.account.iccid != iccid:
                raise AccountHasLine(account_id)
            return
        if record is None or record.account.iccid:
            raise AccountHasLine(account_id)
        if iccid not in self.lines.pool or self.lines.lines[iccid].account_id:
            raise LineTaken(iccid)
        self.lines.pool.discard(iccid)
        self.lines.lines[iccid] = replace(self.lines.lines[iccid], account_id=account_id)
        self.accounts[account_id] = replace(record, account=replace(record.account, iccid=iccid))

    def link_line(self, account: Account, *, create: bool, release_iccid: str | None) -> None:
        assert account.iccid
        if create and account.account_id in self.accounts:
            raise AccountExists(account.account_id)
        line = self.lines.lines[account.iccid]
        if line.account_id not in (None, account.account_id):
            raise LineTaken(account.iccid)
        if release_iccid:
            released = self.lines.lines[release_iccid]
            if released.account_id != account.account_id or released.bundles:
                raise LineTaken(release_iccid)
            self.lines.lines[release_iccid] = replace(released, account_id=None)
            self.lines.pool.add(release_iccid)
        self.lines.pool.discard(account.iccid)
        self.lines.lines[account.iccid] = replace(line, account_id=account.account_id)
        self.accounts[account.account_id] = AccountRecord(account)

    def with_email(self, email: str, limit: int) -> list[AccountRecord]:
        wanted = email.strip().lower()
        return [r for r in self.accounts.values() if r.account.email == wanted][:limit]

    def save_preferences(self, account: Account) -> None:
        record = self.accounts[account.account_id]
        self.accounts[account.account_id] = replace(record, account=account)


class FakePinAttempts:
    """PIN guess counters with the DynamoDB adapter's rules (renewal.domain.pins), one at a time."""

    def __init__(self) -> None:
        self.counters: dict[str, AttemptCounter] = {}

    def take(self, key: str, now: datetime, *, lockable: bool) -> Refusal | None:
        counter = self.counters.get(key, AttemptCounter())
        refusal = counter.refusal(now, lockable=lockable)
        if refusal is None:
            self.counters[key] = counter.after_attempt(now)
        return refusal

    def give_back(self, key: str) -> None:
        counter = self.counters.get(key)
        if counter and counter.attempts > 0 and counter.day_attempts > 0:
            self.counters[key] = replace(counter, attempts=counter.attempts - 1, day_attempts=counter.day_attempts - 1)

    def lock_if_due(self, key: str, now: datetime) -> None:
        counter = self.counters.get(key)
        if counter and counter.day_attempts >= LOCK_AFTER:
            self.counters[key] = replace(counter, locked=True)

    def clear(self, key: str) -> None:
        self.counters.pop(key, None)
