"""Orders: the state machine, the check that a payment matches its order, and the refund rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from renewal.domain.errors import Conflict
from renewal.domain.lines import Bundle
from renewal.domain.plans import Plan
from renewal.domain.timeutil import to_iso

PENDING, PAID, ACTIVATED, EXPIRED, FAILED, REFUNDED, VOIDED, REVIEW = (
    "pending", "paid", "activated", "expired", "failed", "refunded", "voided", "review",
)  # fmt: skip

# No state goes back; `review` waits for a person.
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({PAID, EXPIRED, FAILED, REVIEW}),
    PAID: frozenset({ACTIVATED, REFUNDED, VOIDED, REVIEW}),
    ACTIVATED: frozenset({REFUNDED, VOIDED}),
    EXPIRED: frozenset(),
    FAILED: frozenset(),
    REFUNDED: frozenset(),
    VOIDED: frozenset(),
    REVIEW: frozenset(),
}


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def require_move(current: str, target: str) -> None:
    if not can_move(current, target):
        raise Conflict(f"an order cannot go from {current} to {target}", code="invalid_transition")


@dataclass(frozen=True)
class PlanSnapshot:
    """What was sold, kept on the order so a later catalog change does not rewrite history."""

    plan_id: str
    name: str
    region: str
    data_mb: int
    validity_days: int

    @classmethod
    def of(cls, plan: Plan) -> PlanSnapshot:
        return cls(plan.plan_id, plan.name, plan.region, plan.data_mb, plan.validity_days)

    def as_plan(self) -> Plan:
        return Plan(self.plan_id, self.name, "", self.region, (), self.data_mb, self.validity_days, {})


@dataclass(frozen=True)
class Order:
    order_id: str
    account_id: str
    iccid: str
    plan: PlanSnapshot
    channel: str
    status: str
    amount: int
    currency: str
    created_at: datetime
    email: str = ""
    locale: str = "en"
    time_zone: str = "UTC"
    refunded_amount: int = 0
    receipt_no: str | None = None
    store_id: str | None = None
    session_id: str | None = None
    payment_intent: str | None = None
    paid_at: datetime | None = None
    activated_at: datetime | None = None
    new_expires_at: datetime | None = None
    review_reason: str | None = None
    refund_ids: frozenset[str] = field(default_factory=frozenset)
    staff_id: str | None = None
    cash_received: int | None = None
    void_reason: str | None = None
    mail_sent: bool = False  # the confirmation mail was accepted by the mail service

    def view(self) -> dict[str, Any]:
        """The order shape of DESIGN.md's contract."""
        return {
            "order_id": self.order_id,
            "account_id": self.account_id,
            "iccid": self.iccid,
            "plan_id": self.plan.plan_id,
            "channel": self.channel,
            "status": self.status,
            "amount": self.amount,
            "currency": self.currency,
            "refunded_amount": self.refunded_amount,
            "receipt_no": self.receipt_no,
            "store_id": self.store_id,
            "created_at": to_iso(self.created_at),
            "paid_at": to_iso(self.paid_at) if self.paid_at else None,
            "activated_at": to_iso(self.activated_at) if self.activated_at else None,
        }

    def receipt(self) -> dict[str, Any]:
        return {
            "receipt_no": self.receipt_no,
            "order_id": self.order_id,
            "channel": self.channel,
            "store_id": self.store_id,
            "staff_id": self.staff_id,
            "cash_received": self.cash_received,
            "change_due": self.cash_received - self.amount if self.cash_received is not None else None,
            "void_reason": self.void_reason,
            "items": [
                {
                    "plan_id": self.plan.plan_id,
                    "name": self.plan.name,
                    "data_mb": self.plan.data_mb,
                    "validity_days": self.plan.validity_days,
                    "amount": self.amount,
                }
            ],
            "amount": self.amount,
            "currency": self.currency,
            "refunded_amount": self.refunded_amount,
            "status": self.status,
            "iccid": self.iccid,
            "created_at": to_iso(self.created_at),
            "paid_at": to_iso(self.paid_at) if self.paid_at else None,
            "activated_at": to_iso(self.activated_at) if self.activated_at else None,
            "new_expires_at": to_iso(self.new_expires_at) if self.new_expires_at else None,
        }


def web_receipt_number(order_id: str, created_at: datetime) -> str:
    """Unique because the order id is: `W-20261125-3F9A0C1B2D4E`."""
    return f"W-{created_at:%Y%m%d}-{order_id.replace('-', '')[:12].upper()}"


@dataclass(frozen=True)
class PaidSession:
    """What Stripe says about a Checkout Session, reduced to what we check."""

    session_id: str
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    amount_total: int | None
    currency: str | None
    order_id: str | None
    account_id: str | None
    client_reference_id: str | None
    payment_intent: str | None


def mismatch(order: Order, session: PaidSession) -> str | None:
    """Why this session cannot pay for this order, or None when it can."""
    problems = []
    if session.session_id != order.session_id:
        problems.append(f"session {session.session_id} is not the order's {order.session_id}")
    if session.order_id != order.order_id or session.client_reference_id != order.order_id:
        problems.append("the session names another order")
    if session.account_id != order.account_id:
        problems.append("the session names another account")
    if session.amount_total != order.amount:
        problems.append(f"amount {session.amount_total} is not {order.amount}")
    if (session.currency or "").upper() != order.currency:
        problems.append(f"currency {session.currency} is not {order.currency}")
    return "; ".join(problems) or None


@dataclass(frozen=True)
class RefundOutcome:
    refunded_amount: int
    status: str
    bundles: tuple[Bundle, ...]
    taken_back_mb: int


def apply_refund(
    order: Order, refund_amount: int, bundles: Sequence[Bundle], now: datetime, *, full_status: str = REFUNDED
) -> RefundOutcome:
    """DESIGN.md's refund rule. A refund of x out of what is still unrefunded takes back the same
    share of the order's bundle data that is still unused; the whole of it makes the order
    `refunded` (a store void: `voided`). Never below zero, never more than was paid."""
    refundable = order.amount - order.refunded_amount
    if refund_amount <= 0 or refundable <= 0:
        return RefundOutcome(order.refunded_amount, order.status, tuple(bundles), 0)
    refund_amount = min(refund_amount, refundable)
    full = refund_amount == refundable
    taken = 0
    result = list(bundles)
    if order.status == ACTIVATED:
        for index, bundle in enumerate(result):
            if bundle.region == order.plan.region and bundle.is_live(now):
                taken = bundle.remaining_data_mb if full else bundle.remaining_data_mb * refund_amount // refundable
                result[index] = replace(bundle, remaining_data_mb=bundle.remaining_data_mb - taken)
    status = full_status if full and can_move(order.status, full_status) else order.status
    return RefundOutcome(order.refunded_amount + refund_amount, status, tuple(result), taken)
