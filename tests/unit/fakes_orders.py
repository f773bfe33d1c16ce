"""In-memory order store, payments, queue and mailer with the adapters' contracts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from renewal.adapters.stripe_payments import paid_session
from renewal.domain.lines import Bundle
from renewal.domain.mail import Mail
from renewal.domain.orders import Order, PaidSession, require_move
from renewal.domain.reversals import Reversal
from renewal.domain.timeutil import claim_lease
from renewal.ports import InvalidEvent, LineRecord, PaymentProviderError, Refund, StaleWrite
from tests.unit.fakes import FakeAccounts, FakeLines


class FakeOrders:
    def __init__(self, lines: FakeLines, accounts: FakeAccounts | None = None) -> None:
        self.orders: dict[str, Order] = {}
        self.lines = lines
        self.accounts = accounts or FakeAccounts(lines)  # a paying write may give an account its line
        self.mail_claims: dict[str, datetime] = {}
        self.calls: list[str] = []  # the name of every read or write, in order (to count them)
        self.fail_create = False
        self.reversals = FakeReversals()

    def create(self, order: Order) -> None:
        self.calls.append("create")
        if self.fail_create:
            raise ConnectionError("the orders table is unreachable")
        if order.order_id in self.orders:
            raise StaleWrite(order.order_id)  # as DynamoDB's does_not_exist condition
        self.orders[order.order_id] = order

    def get(self, order_id: str) -> Order | None:
        self.calls.append("get")
        return self.orders.get(order_id)

    def by_payment_intent(self, payment_intent: str) -> Order | None:
        return next((o for o in self.orders.values() if o.payment_intent == payment_intent), None)

    def list_for_account(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
        mine = sorted(
            (o for o in self.orders.values() if o.account_id == account_id), key=lambda o: o.created_at, reverse=True
        )
        return mine[:limit], None

    def move(self, order: Order, to: str, **changes: Any) -> Order:
        self.calls.append("move")
        if self.orders[order.order_id].status != order.status:
            raise StaleWrite(order.order_id)
        if to != order.status:
            require_move(order.status, to)
        moved = replace(self.orders[order.order_id], status=to, **changes)
        self.orders[order.order_id] = moved
        return moved

    def pay_with_line(self, order: Order, iccid: str, *, from_pool: bool, changes: dict[str, Any]) -> Order:
        self.calls.append("pay_with_line")
        if self.orders[order.order_id].status != order.status:
            raise StaleWrite(order.order_id)
        require_move(order.status, "paid")
        self.accounts.take_line(order.account_id, iccid, from_pool)  # one transaction: all or nothing
        paid = replace(self.orders[order.order_id], status="paid", iccid=iccid, **changes)
        self.orders[order.order_id] = paid
        return paid

    def create_store_sale_with_line(self, order: Order, store_id: str, sequence: int, *, from_pool: bool) -> None:
        if order.order_id in self.orders:
            raise StaleWrite(order.order_id)
        self.accounts.take_line(order.account_id, order.iccid, from_pool)
        self.orders[order.order_id] = order

    def _write_line(self, line: LineRecord, bundles: tuple[Bundle, ...]) -> None:
        self.lines.write_bundles(line, bundles)

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
        self.calls.append("activate")
        current = self.orders[order.order_id]
        if current.status != order.status or current.refunded_amount != order.refunded_amount:
            raise StaleWrite(order.order_id)
        self._write_line(line, bundles)
        if reversal is not None:
            self.reversals.save(reversal)
        self.orders[order.order_id] = replace(self.orders[order.order_id], status="activated", **changes)
        if mail_claimed_at is not None:
            self.mail_claims[order.order_id] = mail_claimed_at

    def refund(
        self,
        order: Order,
        refund_id: str,
        line: LineRecord | None,
        bundles: tuple[Bundle, ...],
        changes: dict[str, Any],
        reversal: Reversal | None = None,
    ) -> None:
        current = self.orders[order.order_id]
        if (
            refund_id in current.refund_ids
            or current.refunded_amount != order.refunded_amount
            or current.status != order.status
            or (current.carrier_mb is None) != (order.carrier_mb is None)
        ):
            raise StaleWrite(order.order_id)
        if line is not None and bundles != line.bundles:
            self._write_line(line, bundles)
        if reversal is not None:
            self.reversals.save(reversal)
        self.orders[order.order_id] = replace(current, refund_ids=current.refund_ids | {refund_id}, **changes)

    def fix_carrier_request(self, order: Order, data_mb: int, validity_s: int) -> Order:
        current = self.orders[order.order_id]
        if (
            current.status != order.status
            or current.refunded_amount != order.refunded_amount
            or current.carrier_mb is not None
        ):
            raise StaleWrite(order.order_id)
        self.orders[order.order_id] = replace(current, carrier_mb=data_mb, carrier_s=validity_s)
        return replace(order, carrier_mb=data_mb, carrier_s=validity_s)

    def set_dispute(self, order: Order, status: str) -> None:
        self.orders[order.order_id] = replace(self.orders[order.order_id], dispute_status=status)

    def awaiting_activation(self, paid_before: datetime) -> list[str]:
        return [
            o.order_id
            for o in sorted(self.orders.values(), key=lambda o: o.paid_at or paid_before)
            if o.status == "paid" and o.paid_at is not None and o.paid_at < paid_before
        ]

    def claim_mail(self, order_id: str, now: datetime) -> bool:
        self.calls.append("claim_mail")
        held = self.mail_claims.get(order_id)
        if self.orders[order_id].mail_sent or (held is not None and held > now - claim_lease(30)):
            return False
        self.mail_claims[order_id] = now
        return True

    def release_mail(self, order_id: str, claimed_at: datetime) -> None:
        self.calls.append("release_mail")
        if self.mail_claims.get(order_id) == claimed_at and not self.orders[order_id].mail_sent:
            del self.mail_claims[order_id]

    def mail_sent(self, order_id: str) -> None:
        self.calls.append("mail_sent")
        self.orders[order_id] = replace(self.orders[order_id], mail_sent=True)


class FakePayments:
    """Stripe as our port sees it. `verify` checks webhook signatures: hand in the real adapter's
    `verify_event` (pure, given its secret) to test signed events end to end."""

    def __init__(self, verify: Callable[[bytes, str | None], dict[str, Any]] | None = None) -> None:
        self.sessions: dict[str, PaidSession] = {}
        self.refunds: dict[str, list[Refund]] = {}
        self.created: list[dict[str, Any]] = []
        self.session_reads: list[str] = []  # every session read from "Stripe" (not from an event)
        self.expired: list[str] = []  # every session we asked "Stripe" to expire
        self.fail = False
        self._verify = verify

    def create_session(
        self, order: Order, success_url: str, cancel_url: str, expires_at: datetime, methods: list[str]
    ) -> tuple[str, str]:
        if self.fail:
            raise PaymentProviderError("stripe is down")
        session_id = f"cs_{len(self.sessions) + 1}"
        self.created.append({"order_id": order.order_id, "expires_at": expires_at, "methods": methods})
        self.sessions[session_id] = PaidSession(
            session_id,
            "open",
            "unpaid",
            order.amount,
            order.currency.lower(),
            order.order_id,
            order.account_id,
            order.order_id,
            None,
        )
        return session_id, f"https://pay.example/{session_id}"

    def session(self, session_id: str) -> PaidSession:
        self.session_reads.append(session_id)
        if self.fail:
            raise PaymentProviderError("stripe is down")
        return self.sessions[session_id]

    def expire_session(self, session_id: str) -> None:
        """As the adapter: an open session becomes expired; one no longer open stays as it is."""
        self.expired.append(session_id)
        if self.fail:
            raise PaymentProviderError("stripe is down")
        if self.sessions[session_id].status == "open":
            self.sessions[session_id] = replace(self.sessions[session_id], status="expired")

    def session_of_event(self, obj: dict[str, Any]) -> PaidSession:
        return paid_session(obj)  # the real adapter's conversion: it is pure

    def completed_sessions(self, since: datetime) -> list[PaidSession]:
        if self.fail:
            raise PaymentProviderError("stripe is down")
        return [s for s in self.sessions.values() if s.status == "complete"]

    def settle(self, session_id: str, status: str, payment_status: str) -> None:
        self.sessions[session_id] = replace(
            self.sessions[session_id], status=status, payment_status=payment_status, payment_intent=f"pi_{session_id}"
        )

    def pay(self, session_id: str) -> None:
        self.sessions[session_id] = replace(
            self.sessions[session_id], status="complete", payment_status="paid", payment_intent=f"pi_{session_id}"
        )

    def refunds_for_charge(self, charge_id: str) -> list[Refund]:
        return self.refunds.get(charge_id, [])

    def verify_event(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        if self._verify is None:
            raise InvalidEvent("this fake verifies nothing")
        return self._verify(payload, signature)


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.reversals: list[str] = []

    def enqueue(self, order_id: str) -> None:
        self.sent.append(order_id)

    def enqueue_reversal(self, reversal_id: str) -> None:
        self.reversals.append(reversal_id)


class FakeReversals:
    """Reversals as the DynamoDB store keeps them (written by FakeOrders' transactions)."""

    def __init__(self) -> None:
        self.items: dict[str, Reversal] = {}
        self.claims: dict[str, datetime] = {}

    def save(self, reversal: Reversal) -> None:
        if reversal.reversal_id in self.items:
            raise StaleWrite(reversal.reversal_id)
        self.items[reversal.reversal_id] = reversal

    def get(self, reversal_id: str) -> Reversal | None:
        return self.items.get(reversal_id)

    def carrier_done(self, reversal_id: str) -> None:
        self.items[reversal_id] = replace(self.items[reversal_id], carrier_done=True)

    def claim_mail(self, reversal_id: str, now: datetime) -> bool:
        held = self.claims.get(reversal_id)
        if self.items[reversal_id].mail_sent or (held is not None and held > now - claim_lease(30)):
            return False
        self.claims[reversal_id] = now
        return True

    def release_mail(self, reversal_id: str, claimed_at: datetime) -> None:
        if self.claims.get(reversal_id) == claimed_at:
            del self.claims[reversal_id]

    def finish(self, reversal: Reversal, *, mail_sent: bool) -> None:
        rid = reversal.reversal_id
        self.items[rid] = replace(self.items[rid], status="done", mail_sent=mail_sent)

    def pending_for_line(self, iccid: str) -> list[Reversal]:
        return sorted(
            (r for r in self.items.values() if r.status == "pending" and r.iccid == iccid), key=lambda r: r.created_at
        )

    def pending(self, created_before: datetime) -> list[Reversal]:
        return sorted(
            (r for r in self.items.values() if r.status == "pending" and r.created_at < created_before),
            key=lambda r: r.created_at,
        )


class FakeMailer:
    def __init__(self) -> None:
        self.sent: list[Mail] = []
        self.fail = False

    def send(self, mail: Mail) -> None:
        if self.fail:
            raise ConnectionError("the mail service is unreachable")
        self.sent.append(mail)


class FakeEvents:
    def __init__(self) -> None:
        self.recorded: dict[str, str] = {}

    def seen(self, event_id: str) -> bool:
        return event_id in self.recorded

    def record(self, event_id: str, event_type: str) -> None:
        self.recorded.setdefault(event_id, event_type)
