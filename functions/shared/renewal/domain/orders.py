"""Orders: the state machine, the check that a payment matches its order, and the refund rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from renewal.domain.errors import Conflict
from renewal.domain.lines import DAY_S, Bundle
from renewal.domain.plans import Plan
from renewal.domain.timeutil import to_iso, utc_now

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
    # What the carrier is asked to add (fixed once, before the first call: the carrier answers a
    # repeated order id with its first answer), then what activation credited and to which
    # generation of the region's bundle; what refunds took back since (held-back shares included).
    carrier_mb: int | None = None
    carrier_s: int | None = None
    generation: int | None = None
    credited_mb: int | None = None
    credited_s: int | None = None
    taken_back_mb: int = 0
    taken_back_s: int = 0
    # The region's bundle just before this order was credited (None: there was none) and the
    # line's version just after: a store void with nothing applied since restores it exactly.
    bundle_before: Bundle | None = None
    version_after: int | None = None
    dispute_status: str | None = None  # Stripe's dispute status while one is open or once closed
    checkout_url: str | None = None  # the Checkout Session's hosted page (web orders)
    session_expires_at: datetime | None = None  # when that session stops taking payment

    def payable_url(self, now: datetime) -> str | None:
        """The hosted page where this order can still be paid: only while it is pending and its
        session has not expired (a client offers "Pay now" with it), else None."""
        if self.status != PENDING or not self.checkout_url or self.session_expires_at is None:
            return None
        return self.checkout_url if now < self.session_expires_at else None

    def view(self, now: datetime | None = None) -> dict[str, Any]:
        """The order shape of the API (docs/api.md), as of `now` (the clock when not given)."""
        return {
            "order_id": self.order_id,
            "account_id": self.account_id,
            "iccid": self.iccid or None,  # none until the payment takes the account's first line
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
            "taken_back_mb": self.taken_back_mb,
            "taken_back_seconds": self.taken_back_s,
            "dispute_status": self.dispute_status,
            "checkout_url": self.payable_url(now or utc_now()),
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
            "taken_back_mb": self.taken_back_mb,
            "taken_back_seconds": self.taken_back_s,
            "dispute_status": self.dispute_status,
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


def share(total: int, refunded: int, amount: int) -> int:
    """The part of `total` (MB or seconds) that `refunded` out of `amount` pays for, rounded down:
    rounding favours the customer, and the shares of successive refunds add up exactly."""
    if amount <= 0:
        return total
    return total * min(max(refunded, 0), amount) // amount


def validity_seconds(plan: PlanSnapshot) -> int:
    return plan.validity_days * DAY_S


def activation_credit(order: Order) -> tuple[int, int]:
    """(MB, seconds) activation credits: the unrefunded share of what was bought."""
    data, validity = order.plan.data_mb, validity_seconds(order.plan)
    return (
        data - share(data, order.refunded_amount, order.amount),
        validity - share(validity, order.refunded_amount, order.amount),
    )


@dataclass(frozen=True)
class RefundOutcome:
    """What one refund (or void, or lost dispute) does: the order's new totals and status, the
    line's bundles afterwards, and what was taken back from them now (what the carrier must take
    back too)."""

    refunded_amount: int
    status: str
    bundles: tuple[Bundle, ...]
    taken_mb: int
    taken_s: int
    taken_back_mb: int  # the order's running totals
    taken_back_s: int
    restored: bool = False  # a void that put the bundle back exactly as it was before the sale

    @property
    def changes(self) -> dict[str, Any]:
        return {
            "refunded_amount": self.refunded_amount,
            "status": self.status,
            "taken_back_mb": self.taken_back_mb,
            "taken_back_s": self.taken_back_s,
        }


def apply_refund(
    order: Order,
    refund_amount: int,
    bundles: Sequence[Bundle],
    now: datetime,
    *,
    full_status: str = REFUNDED,
    line_version: int | None = None,
) -> RefundOutcome:
    """The refund rule (docs/domain.md). After refunds totalling R of the order's amount A, the
    order's share taken back is floor(D x R / A) MB of its data D and floor(V x R / A) seconds of
    its validity V, less what it took already; only from the bundle generation the order fed
    (nothing once that bundle expired or restarted), never more than the order's own unused
    data, and the expiry never before `now`. Refunding all of it makes the order `refunded` (a
    store void: `voided`). Before activation nothing is taken: activation credits only the
    unrefunded share. A void of a sale whose line has not changed since (`line_version` equal to
    the version the sale's activation left) restores the bundle exactly as it was."""
    refundable = order.amount - order.refunded_amount
    unchanged = RefundOutcome(
        order.refunded_amount, order.status, tuple(bundles), 0, 0, order.taken_back_mb, order.taken_back_s
    )
    if refund_amount <= 0 or refundable <= 0:
        return unchanged
    refunded = order.refunded_amount + min(refund_amount, refundable)
    full = refunded == order.amount
    status = full_status if full and can_move(order.status, full_status) else order.status
    if order.status != ACTIVATED:
        return replace(unchanged, refunded_amount=refunded, status=status)
    result = list(bundles)
    index = next((i for i, b in enumerate(result) if b.region == order.plan.region), None)
    bundle = result[index] if index is not None else None
    if bundle is None or bundle.generation != order.generation or not bundle.is_live(now):
        return replace(unchanged, refunded_amount=refunded, status=status)  # nothing of it is left to take
    assert index is not None
    if full and full_status == VOIDED and order.version_after is not None and line_version == order.version_after:
        before = order.bundle_before
        restored_bundle = before if before is not None and before.region == order.plan.region else None
        taken_mb = bundle.remaining_data_mb - (restored_bundle.remaining_data_mb if restored_bundle else 0)
        end = restored_bundle.expires_at if restored_bundle and restored_bundle.is_live(now) else now
        taken_s = max(0, int((bundle.expires_at - max(end, now)).total_seconds()))
        if restored_bundle is None:
            del result[index]
        else:
            result[index] = restored_bundle
        return RefundOutcome(
            refunded,
            status,
            tuple(result),
            max(0, taken_mb),
            taken_s,
            order.plan.data_mb,
            validity_seconds(order.plan),
            restored=True,
        )
    want_mb = max(0, share(order.plan.data_mb, refunded, order.amount) - order.taken_back_mb)
    want_s = max(0, share(validity_seconds(order.plan), refunded, order.amount) - order.taken_back_s)
    mine = bundle.contribution(order.order_id)
    taken_mb = min(want_mb, mine.remaining_mb if mine else 0, bundle.remaining_data_mb)
    new_expiry = max(now, bundle.expires_at - timedelta(seconds=want_s))
    taken_s = int((bundle.expires_at - new_expiry).total_seconds())
    contributions = tuple(
        replace(c, remaining_mb=c.remaining_mb - taken_mb, validity_s=max(0, c.validity_s - taken_s))
        if c.order_id == order.order_id
        else c
        for c in bundle.contributions
    )
    result[index] = replace(
        bundle,
        remaining_data_mb=bundle.remaining_data_mb - taken_mb,
        expires_at=new_expiry,
        data_mb_at_top_up=max(0, bundle.data_mb_at_top_up - taken_mb),
        contributions=contributions,
    )
    return RefundOutcome(
        refunded,
        status,
        tuple(result),
        taken_mb,
        taken_s,
        order.taken_back_mb + taken_mb,
        order.taken_back_s + taken_s,
    )
