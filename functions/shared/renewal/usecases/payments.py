"""Fulfilment: what Stripe says about a payment, applied to our order exactly once.

One function, `fulfil`, keyed on the order and its session (never on an event or message id),
decides from a snapshot of the session and moves the order with conditional writes, so it is
safe to call any number of times at once: from the webhook, from POST /orders/{id}/sync, from
reconciliation, from a retry. The webhook hands in the session its verified event carries (every
`checkout.session.*` event's session is already in the state that event is about); sync and
reconciliation re-read it from Stripe."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from renewal.domain.errors import Conflict, DomainError, NotFound, PaymentProviderUnavailable
from renewal.domain.orders import ACTIVATED, EXPIRED, FAILED, PAID, PENDING, REVIEW, Order, PaidSession, mismatch
from renewal.domain.reversals import DISPUTE, REFUND
from renewal.domain.timeutil import utc_now
from renewal.ports import (
    AccountStore,
    ActivationQueue,
    EventLog,
    InvalidEvent,
    LineStore,
    OrderStore,
    PaymentProvider,
    PaymentProviderError,
    StaleWrite,
)
from renewal.usecases.pool import pay_taking_line
from renewal.usecases.refunds import RefundBook

logger = Logger(child=True)
metrics = Metrics()  # shares the handler's metric set; flushed by its log_metrics
RETRIES = 10


class BadEvent(DomainError):
    status = 400
    code = "invalid_event"


def _not_cancellable(order: Order) -> Conflict:
    if order.status in (PAID, ACTIVATED):
        return Conflict("the order is paid already: it cannot be cancelled", code="order_already_paid")
    if order.status == PENDING:  # the session completed and waits for an asynchronous payment
        return Conflict("the payment is being processed: the order cannot be cancelled", code="payment_in_progress")
    return Conflict(f"the order is {order.status}: only a pending order can be cancelled", code="order_not_pending")


class Fulfilment:
    def __init__(
        self,
        orders: OrderStore,
        lines: LineStore,
        payments: PaymentProvider,
        queue: ActivationQueue,
        events: EventLog,
        clock: Callable[[], datetime] = utc_now,
        accounts: AccountStore | None = None,
    ) -> None:
        self._orders, self._lines, self._payments = orders, lines, payments
        self._queue, self._events, self._clock = queue, events, clock
        self._refunds = RefundBook(orders, lines, queue, clock)
        self._accounts = accounts  # for the first payment of an account without a line

    # ------------------------------------------------------------ the one fulfilment function
    def fulfil(
        self,
        order_id: str,
        session_id: str | None = None,
        *,
        async_failed: bool = False,
        session: PaidSession | None = None,
    ) -> Order:
        """Moves a pending order as its Checkout Session says: paid (and queued for activation),
        expired, failed, or review when a paid session does not match the order (amount,
        currency, order, account, session). `session` is a snapshot already verified (a signed
        webhook's), used as it is with no call to Stripe; without it the session (`session_id`,
        else the order's) is read from Stripe whenever the order is found still pending."""
        for _ in range(RETRIES):
            order = self._orders.get(order_id)
            if order is None:
                raise NotFound("no such order", code="order_not_found")
            if order.status == PAID:
                self._queue.enqueue(order.order_id)  # harmless again: activation applies once
                return order
            if order.status != PENDING or not order.session_id:
                return order
            try:
                snapshot = session or self._payments.session(session_id or order.session_id)
            except PaymentProviderError as error:
                # 502: the success page may sync again; Stripe retries a webhook that is not 2xx.
                raise PaymentProviderUnavailable(f"the payment provider failed: {error}") from error
            try:
                if snapshot.status == "complete" and snapshot.payment_status in ("paid", "no_payment_required"):
                    problem = mismatch(order, snapshot)
                    if problem:
                        logger.warning("payment does not match its order", extra={"order_id": order_id, "why": problem})
                        return self._orders.move(order, REVIEW, review_reason=problem)
                    paid = self._move_to_paid(
                        order, {"paid_at": self._clock(), "payment_intent": snapshot.payment_intent}
                    )
                    self._queue.enqueue(paid.order_id)
                    return paid
                if snapshot.session_id != order.session_id:
                    return order  # another session's news does not change this order
                if snapshot.status == "expired":
                    return self._orders.move(order, EXPIRED)
                if async_failed and snapshot.payment_status != "paid":
                    return self._orders.move(order, FAILED)
                return order  # open, or complete and awaiting an async payment
            except StaleWrite:
                continue  # someone else moved it: read again
        raise RuntimeError(f"order {order_id} kept changing under fulfilment")

    def _move_to_paid(self, order: Order, changes: dict[str, Any]) -> Order:
        """pending -> paid; an order without a line takes the account's, or one from the pool in
        the same write (renewal.usecases.pool). Raises StaleWrite when the order moved."""
        if order.iccid:
            return self._orders.move(order, PAID, **changes)
        if self._accounts is None:
            raise RuntimeError("Fulfilment needs the account store to pay an order without a line")
        return pay_taking_line(self._orders, self._accounts, self._lines, order, changes)

    def sync(self, account_id: str, order_id: str) -> Order:
        """POST /orders/{id}/sync: the customer's own order, fulfilled from what Stripe says now."""
        from renewal.usecases.orders import own_order

        return self.fulfil(own_order(self._orders, account_id, order_id).order_id)

    def cancel(self, account_id: str, order_id: str) -> Order:
        """POST /orders/{id}/cancel: the customer gives up their own pending order. The session is
        expired at Stripe first, so nothing can be paid through it afterwards, and the order moves
        only the way fulfilment moves it: `expired`, or `paid` when the payment completed first
        (then 409, and the paid order goes on to activation like any other)."""
        from renewal.usecases.orders import own_order

        order = own_order(self._orders, account_id, order_id)
        if order.status == EXPIRED:
            return order  # cancelled (or lapsed) already: the same answer again
        if order.status != PENDING:
            raise _not_cancellable(order)
        if not order.session_id:  # never offered for payment: nothing at Stripe to stop
            raise Conflict("the order has no payment session to cancel", code="order_not_cancellable")
        try:
            self._payments.expire_session(order.session_id)
        except PaymentProviderError as error:
            raise PaymentProviderUnavailable(f"the payment provider failed: {error}") from error
        order = self.fulfil(order.order_id)  # re-reads the session: expired, or paid in between
        if order.status != EXPIRED:
            raise _not_cancellable(order)
        return order

    # ------------------------------------------------------------ the webhook
    def handle_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        try:
            event = self._payments.verify_event(payload, signature)
        except InvalidEvent as error:
            raise BadEvent(
                str(error), code="invalid_signature" if "signature" in str(error).lower() else "invalid_event"
            ) from error
        event_id, event_type = event.get("id"), event.get("type")
        obj = (event.get("data") or {}).get("object")
        if not isinstance(event_id, str) or not isinstance(event_type, str) or not isinstance(obj, dict):
            raise BadEvent("the event has no id, type or data.object")
        if self._events.seen(event_id):
            return {"received": True, "duplicate": True}
        handled = self._dispatch(event_type, obj)
        self._events.record(event_id, event_type)
        return {"received": True, "handled": handled}

    def _dispatch(self, event_type: str, obj: dict[str, Any]) -> bool:
        if event_type.startswith("checkout.session."):
            order_id = (obj.get("metadata") or {}).get("order_id") or obj.get("client_reference_id")
            if (
                not order_id
                or not isinstance(obj.get("id"), str)
                or event_type
                not in (
                    "checkout.session.completed",
                    "checkout.session.async_payment_succeeded",
                    "checkout.session.async_payment_failed",
                    "checkout.session.expired",
                )
            ):
                return False
            # The signed event's session is Stripe's word on what happened: no need to ask again.
            session = self._payments.session_of_event(obj)
            try:
                self.fulfil(
                    str(order_id),
                    session.session_id,
                    async_failed=event_type.endswith("async_payment_failed"),
                    session=session,
                )
            except NotFound:
                logger.warning("event for an order we do not have", extra={"order_id": order_id})
                return False
            return True
        if event_type == "charge.refunded":
            metadata = obj.get("metadata") or {}
            return self.apply_refunds(str(obj.get("id")), obj.get("payment_intent"), metadata.get("order_id"))
        if event_type in ("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed"):
            return self.apply_dispute(obj)
        return False

    # ------------------------------------------------------------ disputes
    def apply_dispute(self, dispute: dict[str, Any]) -> bool:
        """A dispute on an order's payment: its status is recorded on the order (shown in its view
        and receipt) and counted; one closed as lost takes back like a full refund, keyed by the
        dispute's id; one won changes nothing else."""
        dispute_id, status, intent = dispute.get("id"), dispute.get("status"), dispute.get("payment_intent")
        if not isinstance(dispute_id, str) or not isinstance(status, str) or not isinstance(intent, str):
            raise BadEvent("the dispute has no id, status or payment_intent")
        order = self._orders.by_payment_intent(intent)
        if order is None:
            logger.warning("dispute for a payment we do not know", extra={"dispute_id": dispute_id})
            return False
        if order.dispute_status is None:
            metrics.add_metric(name="Disputes", unit=MetricUnit.Count, value=1)
        if status == "lost":
            metrics.add_metric(name="DisputesLost", unit=MetricUnit.Count, value=1)
            self._refunds.take_back(
                order.order_id, dispute_id, order.amount - order.refunded_amount, kind=DISPUTE,
                extra={"dispute_status": status},
            )  # fmt: skip
            current = self._orders.get(order.order_id)
            if current is not None and current.dispute_status != status:
                self._orders.set_dispute(current, status)  # the refund was recorded before (nothing left)
            return True
        self._orders.set_dispute(order, status)
        return True

    # ------------------------------------------------------------ refunds
    def apply_refunds(self, charge_id: str, payment_intent: Any, order_id: Any = None) -> bool:
        """Every succeeded refund of the charge, each applied once (by its id). The order is found
        by its payment intent, or by the order id our checkout put in the payment's metadata (the
        payment-intent index is eventually consistent)."""
        order = self._orders.by_payment_intent(payment_intent) if isinstance(payment_intent, str) else None
        if order is None and isinstance(order_id, str):
            order = self._orders.get(order_id)
            if order is not None and order.payment_intent not in (None, payment_intent):
                order = None  # names our order, but paid with something else
        if order is None:
            return False
        if order.status == PENDING:  # the refund overtook the payment's own events: settle that first
            order = self.fulfil(order.order_id)
        try:
            refunds = self._payments.refunds_for_charge(charge_id)
        except PaymentProviderError as error:
            raise PaymentProviderUnavailable(f"the payment provider failed: {error}") from error
        for refund in refunds:
            if refund.status != "succeeded":
                continue
            self._refunds.take_back(order.order_id, refund.refund_id, refund.amount, kind=REFUND)
        return True
