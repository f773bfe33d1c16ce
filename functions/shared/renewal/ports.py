"""What the use cases need from the outside world. Adapters implement these; unit tests use fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from renewal.domain.accounts import Account
from renewal.domain.lines import Bundle
from renewal.domain.pins import FailureWindow
from renewal.domain.plans import Plan


class PlanCatalog(Protocol):
    def all_plans(self) -> list[Plan]: ...

    def plans_in_region(self, region: str) -> list[Plan]: ...

    def get(self, plan_id: str) -> Plan | None: ...


@dataclass(frozen=True)
class LineRecord:
    iccid: str
    pin_hash: str
    account_id: str | None
    bundles: tuple[Bundle, ...] = ()
    pin_failures: FailureWindow = field(default_factory=lambda: FailureWindow(0, None))


@dataclass(frozen=True)
class AccountRecord:
    account: Account
    pin_failures: FailureWindow = field(default_factory=lambda: FailureWindow(0, None))


class AccountExists(Exception):
    """Another request created this account first."""


class LineTaken(Exception):
    """The line was linked to someone else between our read and our write."""


class LineStore(Protocol):
    def get(self, iccid: str) -> LineRecord | None: ...

    def pool_candidates(self, limit: int) -> list[str]:
        """ICCIDs of unassigned lines in the online pool (any order, may be stale)."""
        ...

    def record_pin_failure(self, iccid: str, window: FailureWindow) -> None: ...


class AccountStore(Protocol):
    def get(self, account_id: str) -> AccountRecord | None: ...

    def create_with_pool_line(self, account: Account) -> None:
        """Creates `account` and takes its line (`account.iccid`) out of the pool, atomically.
        Raises AccountExists or LineTaken."""
        ...

    def link_line(self, account: Account, *, create: bool, release_iccid: str | None) -> None:
        """Links `account.iccid` to the account (creating the account when `create`), resets the
        line's PIN failures, and returns `release_iccid` to the pool, atomically.
        Raises LineTaken (or AccountExists when `create`)."""
        ...

    def record_pin_failure(self, account_id: str, window: FailureWindow) -> None: ...
