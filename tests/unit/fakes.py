"""In-memory stores with the same contracts as the DynamoDB adapters (fakes, not mocks)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from renewal.domain.accounts import Account
from renewal.domain.lines import Bundle
from renewal.domain.pins import FailureWindow
from renewal.domain.reminders import ReminderPolicy, recheck_after_write
from renewal.domain.timeutil import utc_now
from renewal.ports import AccountExists, AccountRecord, LineRecord, LineTaken, StaleWrite


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

    def pool_candidates(self, limit: int) -> list[str]:
        return sorted(self.pool)[:limit]

    def pool_size(self) -> int:
        return len(self.pool)

    def record_pin_failure(self, iccid: str, window: FailureWindow) -> None:
        self.lines[iccid] = replace(self.lines[iccid], pin_failures=window)

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

    def create_with_pool_line(self, account: Account) -> None:
        assert account.iccid
        if account.account_id in self.accounts:
            raise AccountExists(account.account_id)
        if account.iccid not in self.lines.pool:
            raise LineTaken(account.iccid)
        self.lines.pool.discard(account.iccid)
        self.lines.lines[account.iccid] = replace(self.lines.lines[account.iccid], account_id=account.account_id)
        self.accounts[account.account_id] = AccountRecord(account)

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
        self.lines.lines[account.iccid] = replace(
            line, account_id=account.account_id, pin_failures=FailureWindow(0, None)
        )
        self.accounts[account.account_id] = AccountRecord(account)

    def record_pin_failure(self, account_id: str, window: FailureWindow) -> None:
        self.accounts[account_id] = replace(self.accounts[account_id], pin_failures=window)

    def save_preferences(self, account: Account) -> None:
        record = self.accounts[account.account_id]
        self.accounts[account.account_id] = replace(record, account=account)
