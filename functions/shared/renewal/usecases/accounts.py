"""A customer's account: made on first sight from the token, holding one line."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from renewal.domain.accounts import (
    SUPPORTED_LOCALES,
    Account,
    account_view,
    normalise_locale,
    normalise_time_zone,
    valid_time_zone,
)
from renewal.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyAttempts, Unavailable
from renewal.domain.lines import is_valid_iccid
from renewal.domain.pins import FailureWindow, verify_pin
from renewal.domain.timeutil import to_iso, utc_now
from renewal.ports import AccountExists, AccountRecord, AccountStore, LineStore, LineTaken

POOL_ATTEMPTS = 5
POOL_PAGE = 25


@dataclass(frozen=True)
class Identity:
    """Who is calling, from the verified token's claims."""

    account_id: str
    email: str
    locale: str | None = None
    time_zone: str | None = None
    groups: tuple[str, ...] = ()


class AccountService:
    def __init__(self, accounts: AccountStore, lines: LineStore, clock: Callable[[], datetime] = utc_now) -> None:
        self._accounts = accounts
        self._lines = lines
        self._clock = clock

    def view(self, identity: Identity) -> dict[str, Any]:
        """GET /account: the account, created with a fresh pool line on the first call."""
        record = self._accounts.get(identity.account_id) or self._create(identity)
        return self._view(record.account)

    def for_checkout(self, identity: Identity) -> Account:
        """The account as checkout needs it (its line, address, language and time zone), made
        on first sight as `view` makes it. One eventually consistent read of the account alone;
        a miss is read again consistently before creating (the account may be seconds old)."""
        record = (
            self._accounts.get(identity.account_id, consistent=False)
            or self._accounts.get(identity.account_id)
            or self._create(identity)
        )
        return record.account

    def preferences(self, identity: Identity) -> dict[str, Any]:
        record = self._accounts.get(identity.account_id) or self._create(identity)
        return record.account.preferences()

    def update_preferences(
        self,
        identity: Identity,
        *,
        locale: str | None = None,
        time_zone: str | None = None,
        expiry: bool | None = None,
        low_data: bool | None = None,
    ) -> dict[str, Any]:
        """PATCH semantics: only what is given changes; anything invalid changes nothing."""
        if locale is not None and locale not in SUPPORTED_LOCALES:
            raise InvalidInput(f"locale must be one of {', '.join(SUPPORTED_LOCALES)}", code="unsupported_locale")
        if time_zone is not None and not valid_time_zone(time_zone):
            raise InvalidInput(f"{time_zone!r} is not an IANA time zone", code="invalid_time_zone")
        account = (self._accounts.get(identity.account_id) or self._create(identity)).account
        changed = replace(
            account,
            locale=locale if locale is not None else account.locale,
            time_zone=time_zone if time_zone is not None else account.time_zone,
            expiry_reminders=expiry if expiry is not None else account.expiry_reminders,
            low_data_reminders=low_data if low_data is not None else account.low_data_reminders,
        )
        self._accounts.save_preferences(changed)
        return changed.preferences()

    def link_line(self, identity: Identity, iccid: str, pin: str) -> dict[str, Any]:
        """POST /account/line: link a card the customer already holds, proven by its PIN."""
        now = self._clock()
        record = self._accounts.get(identity.account_id)
        account_window = record.pin_failures if record else FailureWindow(0, None)
        self._refuse_when_locked(account_window, now)

        line = self._lines.get(iccid) if is_valid_iccid(iccid) else None
        if line is None:
            # Unknown ICCIDs count as failures too, or the 404/403 split would enumerate cards.
            if record:
                self._accounts.record_pin_failure(identity.account_id, account_window.after_failure(now))
            raise NotFound("no line with this ICCID is on file", code="line_not_found")
        if record and record.account.iccid == iccid:
            return self._view(record.account)  # already linked: a retry, not a new attempt

        self._refuse_when_locked(line.pin_failures, now)
        if not verify_pin(pin, line.pin_hash):
            self._lines.record_pin_failure(iccid, line.pin_failures.after_failure(now))
            if record:
                self._accounts.record_pin_failure(identity.account_id, account_window.after_failure(now))
            raise Forbidden("the PIN does not match this card", code="wrong_pin")
        if line.account_id not in (None, identity.account_id):
            raise Conflict("this card is linked to another account", code="line_linked_elsewhere")

        release = None
        if record and record.account.iccid:
            current = self._lines.get(record.account.iccid)
            if current and current.bundles:
                raise Conflict(
                    "your account's current line has plans on it; contact support to move to another card",
                    code="current_line_in_use",
                )
            release = record.account.iccid
        account = replace(record.account, iccid=iccid) if record else self._new_account(identity, iccid)
        try:
            self._accounts.link_line(account, create=record is None, release_iccid=release)
        except (LineTaken, AccountExists) as error:
            raise Conflict("the card or account changed meanwhile; try again", code="concurrent_change") from error
        return self._view(account)

    def _create(self, identity: Identity) -> AccountRecord:
        for _ in range(POOL_ATTEMPTS):
            candidates = self._lines.pool_candidates(POOL_PAGE)
            if not candidates:
                raise Unavailable("no eSIM lines are free right now; try again later", code="no_lines_available")
            # A random pick keeps concurrent sign-ups from all fighting over the first line.
            account = self._new_account(identity, random.choice(candidates))
            try:
                self._accounts.create_with_pool_line(account)
                return AccountRecord(account)
            except AccountExists:
                existing = self._accounts.get(identity.account_id)
                if existing:
                    return existing
            except LineTaken:
                continue
        raise Unavailable("could not reserve an eSIM line; try again", code="no_lines_available")

    def _new_account(self, identity: Identity, iccid: str | None) -> Account:
        return Account(
            account_id=identity.account_id,
            email=identity.email.strip().lower(),
            locale=normalise_locale(identity.locale),
            time_zone=normalise_time_zone(identity.time_zone),
            iccid=iccid,
            created_at=self._clock(),
        )

    def _view(self, account: Account) -> dict[str, Any]:
        line = self._lines.get(account.iccid) if account.iccid else None
        return account_view(account, line.bundles if line else (), self._clock())

    @staticmethod
    def _refuse_when_locked(window: FailureWindow, now: datetime) -> None:
        locked_until = window.locked_until(now)
        if locked_until:
            raise TooManyAttempts(
                f"too many wrong attempts; try again after {to_iso(locked_until)}",
                retry_after=max(1, int((locked_until - now).total_seconds())),
            )
