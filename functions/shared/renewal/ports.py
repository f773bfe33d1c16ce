"""What the use cases need from the outside world. Adapters implement these; unit tests use fakes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from renewal.domain.accounts import Account
from renewal.domain.issues import Issue
from renewal.domain.lines import Bundle
from renewal.domain.mail import Mail
from renewal.domain.orders import Order, PaidSession
from renewal.domain.pins import Refusal
from renewal.domain.plans import Plan
from renewal.domain.reminders import ReminderMessage
from renewal.domain.reversals import Reversal
from renewal.domain.stores import Store
from renewal.domain.usage import UsageRecord


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
    version: int = 0  # optimistic lock for bundle changes
    remind_at: datetime | None = None  # the line's key in the reminder index


@dataclass(frozen=True)
class AccountRecord:
    account: Account


class AccountExists(Exception):
    """Another request created this account first."""


class LineTaken(Exception):
    """The line was linked to someone else between our read and our write."""


class AccountHasLine(Exception):
    """The account got a line (a concurrent payment, a linked card) since we read it."""


class LineStore(Protocol):
    def get(self, iccid: str) -> LineRecord | None: ...

    def pool_candidates(self, limit: int) -> list[str]:
        """ICCIDs of unassigned lines in the online pool (any order, may be stale)."""
        ...


class AccountStore(Protocol):
    def get(self, account_id: str, *, consistent: bool = True) -> AccountRecord | None:
        """`consistent=False` may miss a write of the last second (half the read cost)."""
        ...

    def create(self, account: Account) -> None:
        """Creates `account` (no line: one is taken when its first order is paid). Raises AccountExists."""
        ...

    def link_line(self, account: Account, *, create: bool, release_iccid: str | None) -> None:
        """Links `account.iccid` to the account (creating the account when `create`), resets the
        line's PIN failures, and returns `release_iccid` to the pool, atomically.
        Raises LineTaken (or AccountExists when `create`)."""
        ...

    def save_preferences(self, account: Account) -> None: ...


class PinAttempts(Protocol):
    """Counters of PIN guesses (per card, known or not, and per caller), taken before a guess is
    judged, so concurrent guesses cannot overtake the limit."""

    def take(self, key: str, now: datetime, *, lockable: bool) -> Refusal | None:
        """Counts one guess under `key` in one conditional write, unless the limits refuse it
        (then nothing is counted). `lockable`: 10 guesses in 24 hours lock the key."""
        ...

    def give_back(self, key: str) -> None:
        """Uncounts a guess taken but not judged, or judged right."""
        ...

    def lock_if_due(self, key: str, now: datetime) -> None:
        """After a wrong guess: locks the key (until cleared) once it has had 10 in 24 hours."""
        ...

    def clear(self, key: str) -> None: ...


class WindowCounter(Protocol):
    def take(self, key: str, window_start: datetime, limit: int, expires: datetime) -> bool:
        """Counts one under `key` in the window starting at `window_start`, in one conditional
        write; False (nothing counted) once `limit` are counted there."""
        ...


# ---------------------------------------------------------------- orders and payments
class StaleWrite(Exception):
    """A conditional write lost a race; re-read and decide again."""


class OrderStore(Protocol):
    def create(self, order: Order) -> None: ...

    def get(self, order_id: str) -> Order | None: ...

    def by_payment_intent(self, payment_intent: str) -> Order | None: ...

    def list_for_account(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]: ...

    def move(self, order: Order, to: str, **changes: Any) -> Order:
        """Moves `order` from its current status to `to`, only if it still has that status.
        Raises StaleWrite otherwise."""
        ...

    def pay_with_line(self, order: Order, iccid: str, *, from_pool: bool, changes: dict[str, Any]) -> Order:
        """Moves `order` to paid with `changes` and the line `iccid`, in one transaction: with
        `from_pool`, the line leaves the pool and becomes the account's (only if the account has
        none); else only if `iccid` is still the account's line. Raises StaleWrite (the order
        moved), AccountHasLine or LineTaken."""
        ...

    def activate(
        self,
        order: Order,
        line: LineRecord,
        bundles: tuple[Bundle, ...],
        changes: dict[str, Any],
        *,
        mail_claimed_at: datetime | None = None,
        reversal: Reversal | None = None,
    ) -> None:
        """In one transaction: the order paid -> activated with `changes` (only if its status and
        refunded amount are still as read), and the line's bundles, only if the line is still at
        the version read; and `reversal`, pending, when the carrier added more than is credited.
        With `mail_claimed_at`, the same write takes the confirmation's claim at that time (what
        `claim_mail` would take: nobody can hold one on a paid order). Raises StaleWrite."""
        ...

    def fix_carrier_request(self, order: Order, data_mb: int, validity_s: int) -> Order:
        """Records what the carrier will be asked to add for this paid order, once, only if the
        order is still paid with the refunded amount read. Raises StaleWrite."""
        ...

    def set_dispute(self, order: Order, status: str) -> None:
        """Records the status of a dispute on the order's payment."""
        ...

    def refund(
        self,
        order: Order,
        refund_id: str,
        line: LineRecord | None,
        bundles: tuple[Bundle, ...],
        changes: dict[str, Any],
        reversal: Reversal | None = None,
    ) -> None:
        """In one transaction: records `refund_id` on the order (only once, and only if its status,
        refunded amount and carrier request are still as read) with `changes`, the line's bundles
        at the version read, and `reversal`, pending. Raises StaleWrite."""
        ...

    def claim_mail(self, order_id: str, now: datetime) -> bool:
        """True for the one caller that may send this order's confirmation now: the mail is not
        sent and nobody holds a live claim (a claim lapses after a minute: its holder died)."""
        ...

    def release_mail(self, order_id: str, claimed_at: datetime) -> None:
        """Gives up the claim taken at `claimed_at` (the send failed), so a retry may send."""
        ...

    def mail_sent(self, order_id: str) -> None: ...


class EventLog(Protocol):
    def seen(self, event_id: str) -> bool:
        """A shortcut for redeliveries (may miss one recorded a moment ago: the conditional
        writes of fulfilment are the guard)."""
        ...

    def record(self, event_id: str, event_type: str) -> None: ...


@dataclass(frozen=True)
class Refund:
    refund_id: str
    amount: int
    status: str


class PaymentProvider(Protocol):
    def create_session(
        self, order: Order, success_url: str, cancel_url: str, expires_at: datetime, methods: list[str]
    ) -> tuple[str, str]:
        """Returns (session id, hosted checkout URL). Raises PaymentProviderError."""
        ...

    def session(self, session_id: str) -> PaidSession:
        """Reads the Checkout Session from the provider now. Raises PaymentProviderError."""
        ...

    def expire_session(self, session_id: str) -> None:
        """Expires an open Checkout Session so it can no longer be paid. A session that is no
        longer open (completed or expired already) is not an error: read it to see which. Raises
        PaymentProviderError when the provider fails or cannot be reached."""
        ...

    def session_of_event(self, obj: dict[str, Any]) -> PaidSession:
        """The session a verified event carries as its `data.object` (no call to the provider)."""
        ...

    def completed_sessions(self, since: datetime) -> list[PaidSession]:
        """Checkout Sessions completed since `since` (for reconciliation)."""
        ...

    def refunds_for_charge(self, charge_id: str) -> list[Refund]: ...

    def verify_event(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The verified event, or InvalidEvent."""
        ...


class PaymentProviderError(Exception):
    """The payment provider failed or could not be reached."""


class InvalidEvent(Exception):
    """A webhook whose signature or body does not hold."""


class ActivationQueue(Protocol):
    """The carrier work queue: orders to activate and reversals to push to the carrier."""

    def enqueue(self, order_id: str) -> None: ...

    def enqueue_reversal(self, reversal_id: str) -> None: ...


class ReversalStore(Protocol):
    def get(self, reversal_id: str) -> Reversal | None: ...

    def carrier_done(self, reversal_id: str) -> None: ...

    def claim_mail(self, reversal_id: str, now: datetime) -> bool:
        """True for the one caller that may send this reversal's mail now (claims lapse like the
        confirmation's)."""
        ...

    def release_mail(self, reversal_id: str, claimed_at: datetime) -> None: ...

    def finish(self, reversal: Reversal, *, mail_sent: bool) -> None:
        """Done: out of the pending index (and the reversal's line marked changed)."""
        ...

    def pending(self, created_before: datetime) -> list[Reversal]:
        """Reversals still pending that were written before `created_before`, oldest first."""
        ...

    def pending_for_line(self, iccid: str) -> list[Reversal]:
        """The line's reversals still pending, oldest first."""
        ...


class Mailer(Protocol):
    def send(self, mail: Mail) -> None: ...


class MailReputation(Protocol):
    """Which addresses SES told us cannot be mailed (renewal.domain.mail_events), kept on the accounts."""

    def mark_undeliverable(self, address: str, status: str, detail: str, at: datetime) -> int:
        """Marks every account with this address; returns how many."""
        ...

    def email_status(self, address: str) -> str:
        """ "ok", "bounced" or "complained"."""
        ...


# ---------------------------------------------------------------- reminders and usage
@dataclass(frozen=True)
class DueLine:
    """A line as the reminder index holds it: enough to decide which mails are due."""

    iccid: str
    account_id: str | None
    bundles: tuple[Bundle, ...]
    remind_at: datetime


class ReminderIndex(Protocol):
    def shards(self) -> Sequence[str]: ...

    def due(self, shard: str, now: datetime) -> Iterator[DueLine]:
        """The shard's lines whose `remind_at <= now`, read from the index alone."""
        ...

    def advance(self, line: DueLine, next_check: datetime | None) -> bool:
        """Re-keys `line` at `next_check` (None: out of the index), only if it is still keyed at
        `line.remind_at` (a bundle write or another run may have moved it); False if not."""
        ...


class ReminderQueue(Protocol):
    def send(self, messages: Sequence[ReminderMessage]) -> None: ...


class ReminderLog(Protocol):
    """Which reminder and alert mails were sent, by key: the exactly-once record."""

    def claim(self, reminder_id: str, account_id: str, now: datetime) -> bool:
        """True for the one caller that may send this mail now: not sent, no live claim."""
        ...

    def is_sent(self, reminder_id: str) -> bool: ...

    def release(self, reminder_id: str, claimed_at: datetime) -> None: ...

    def mark_sent(self, reminder_id: str, now: datetime) -> None: ...


class UsageLedger(Protocol):
    def recorded(self, record_ids: Sequence[str]) -> set[str]:
        """Which of these usage records were applied already."""
        ...

    def apply(self, line: LineRecord, bundles: tuple[Bundle, ...], records: Sequence[UsageRecord]) -> None:
        """In one transaction: records each of `records` (only if new) and the line's bundles at
        the version read. Raises StaleWrite (a record was applied meanwhile, or the line changed)."""
        ...


# ---------------------------------------------------------------- the carrier (mobile network)
@dataclass(frozen=True)
class BundleProvision:
    """Ask the network to add data to a line; `order_id` is the carrier's idempotency key."""

    order_id: str
    iccid: str
    region: str
    data_mb: int
    validity_s: int


@dataclass(frozen=True)
class CarrierAdded:
    """What the carrier added for an order (its first answer, whatever a repeat asked)."""

    data_mb: int
    validity_s: int


@dataclass(frozen=True)
class ReversalRequest:
    """Ask the network to take data and validity back from the bundle `order_id` fed;
    `reversal_id` is the idempotency key."""

    reversal_id: str
    order_id: str
    iccid: str
    region: str
    data_mb: int
    validity_s: int


@dataclass(frozen=True)
class NetworkBundle:
    region: str
    data_mb: int
    expires_at: datetime


@dataclass(frozen=True)
class NetworkLine:
    """A line as the network sees it: its bundles and the orders it has applied."""

    iccid: str
    bundles: tuple[NetworkBundle, ...]
    orders: frozenset[str]


class CarrierUnavailable(Exception):
    """The carrier did not answer in time or failed (timeout, 5xx, 429): try again later."""


class CarrierRefused(Exception):
    """The carrier refused for good (unknown or lapsed line, ...): a person must look."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class Carrier(Protocol):
    def add_bundle(self, request: BundleProvision) -> CarrierAdded:
        """Returns once the carrier confirms (the same answer for a repeated order id). Raises
        CarrierUnavailable or CarrierRefused."""
        ...

    def reverse(self, request: ReversalRequest) -> CarrierAdded:
        """What the carrier took back (nothing when the order's bundle expired or restarted, or the
        order never reached it); the same answer for a repeated id. Raises CarrierUnavailable or
        CarrierRefused."""
        ...

    def line(self, iccid: str) -> NetworkLine | None:
        """The network's view of a line, None if it does not know it. Raises CarrierUnavailable."""
        ...


# ---------------------------------------------------------------- reconciliation
class IssueLog(Protocol):
    def flag(self, issue: Issue, now: datetime) -> bool:
        """Records the issue (once per issue_id; later runs update when it was last seen).
        True if it is new."""
        ...


class Fulfiller(Protocol):
    def fulfil(self, order_id: str, session_id: str | None = None, *, async_failed: bool = False) -> Any: ...


class PendingReversals(Protocol):
    def pending(self, created_before: datetime) -> list[Reversal]: ...


class AwaitingOrders(Protocol):
    def awaiting_activation(self, paid_before: datetime) -> list[str]: ...


class ChangedLines(Protocol):
    def changed_since(self, since: datetime, now: datetime) -> list[str]: ...


class PoolGauge(Protocol):
    def pool_available(self) -> int:
        """How many eSIM lines wait in the pool for a first payment."""
        ...


# ---------------------------------------------------------------- stores and the eSIM pool
class StoreDirectory(Protocol):
    def store_of_staff(self, staff_id: str) -> Store | None: ...

    def staff_name(self, staff_id: str) -> str | None: ...

    def last_receipt(self, store_id: str) -> int: ...


class StoreOrders(OrderStore, Protocol):
    def by_receipt(self, receipt_no: str) -> Order | None: ...

    def for_store(self, store_id: str, start: datetime, end: datetime) -> list[Order]: ...

    def create_store_sale(self, order: Order, store_id: str, sequence: int) -> None: ...

    def create_store_sale_with_line(self, order: Order, store_id: str, sequence: int, *, from_pool: bool) -> None: ...


class AccountsByEmail(Protocol):
    def get(self, account_id: str, *, consistent: bool = True) -> AccountRecord | None: ...

    def with_email(self, email: str, limit: int) -> list[AccountRecord]:
        """Up to `limit` accounts whose (lower-cased) email is `email`."""
        ...


class Accounts(Protocol):
    def get(self, account_id: str, *, consistent: bool = True) -> AccountRecord | None: ...


class PaysWithLine(Protocol):
    def pay_with_line(self, order: Order, iccid: str, *, from_pool: bool, changes: dict[str, Any]) -> Order: ...


class SellsWithLine(Protocol):
    def create_store_sale_with_line(self, order: Order, store_id: str, sequence: int, *, from_pool: bool) -> None: ...


class StoreLookup(Protocol):
    def store(self, store_id: str) -> Store | None: ...

    def staff_name(self, staff_id: str) -> str | None: ...
