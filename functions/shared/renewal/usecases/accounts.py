"""A customer's account: made on first sight from the token; its line comes with its first paid
order (renewal.usecases.pool), or is a card the customer links."""

from __future__ import annotations

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
from renewal.domain.errors import Conflict, Forbidden, InvalidInput, Locked, TooManyAttempts
from renewal.domain.lines import is_valid_iccid
from renewal.domain.pins import DUMMY_PIN_HASH, Refusal, caller_key, card_key, verify_pin
from renewal.domain.timeutil import utc_now
from renewal.ports import AccountExists, AccountRecord, AccountStore, LineStore, LineTaken, PinAttempts


@dataclass(frozen=True)
class Identity:
    """Who is calling, from the verified token's claims."""

    account_id: str
    email: str
    locale: str | None = None
    time_zone: str | None = None
    groups: tuple[str, ...] = ()


class AccountService:
    def __init__(
        self,
        accounts: AccountStore,
        lines: LineStore,
        clock: Callable[[], datetime] = utc_now,
        *,
        attempts: PinAttempts | None = None,
    ) -> None:
        self._accounts = accounts
        self._lines = lines
        self._clock = clock
        self._attempts = attempts  # PIN guess counters: only the function that links cards has them

    def view(self, identity: Identity) -> dict[str, Any]:
        """GET /account: the account, created on the first call (with no line until a payment)."""
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
        """POST /account/line: link a card the customer already holds, proven by its PIN.

        Each guess is counted (per card and per caller) in a conditional write before it is
        judged, so concurrent guesses cannot pass the limit. An unknown ICCID is judged like a
        wrong PIN, against a dummy hash: the same answer, the same limits, the same time."""
        if self._attempts is None:
            raise RuntimeError("AccountService.link_line needs the PIN attempt counters")
        if not is_valid_iccid(iccid):
            raise InvalidInput("iccid must be 19-20 digits ending in a Luhn check digit", code="invalid_iccid")
        record = self._accounts.get(identity.account_id)
        if record and record.account.iccid == iccid:
            return self._view(record.account)  # already linked: a retry, not a new guess
        now = self._clock()
        caller, card = caller_key(identity.account_id), card_key(iccid)
        self._refuse(self._attempts.take(caller, now, lockable=False))
        card_refusal = self._attempts.take(card, now, lockable=True)
        if card_refusal:
            self._attempts.give_back(caller)  # not judged
            self._refuse(card_refusal)
        line = self._lines.get(iccid)
        if not verify_pin(pin, line.pin_hash if line else DUMMY_PIN_HASH) or line is None:
            self._attempts.lock_if_due(card, now)
            raise Forbidden("the PIN does not match this card", code="wrong_pin")
        self._attempts.give_back(caller)  # a right PIN is not a failure
        self._attempts.clear(card)
        if line.account_id not in (None, identity.account_id):
            raise Conflict("this card is linked to another account", code="line_linked_elsewhere")

        release = None
        if record and record.account.iccid:
            current = self._lines.get(record.account.iccid)
            if current and (current.bundles or current.version):  # ever renewed: never back to the pool
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
        """A new account takes no line: the write that moves its first order to paid does."""
        account = self._new_account(identity, None)
        try:
            self._accounts.create(account)
        except AccountExists:
            existing = self._accounts.get(identity.account_id)
            if existing:
                return existing
            raise
        return AccountRecord(account)

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
    def _refuse(refusal: Refusal | None) -> None:
        if refusal is None:
            return
        if refusal.locked:
            raise Locked(
                "this card is locked after too many wrong PINs; contact support to unlock it", code="card_locked"
            )
        raise TooManyAttempts(
            f"too many wrong attempts; try again in {refusal.retry_after} seconds", retry_after=refusal.retry_after
        )
