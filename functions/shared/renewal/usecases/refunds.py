"""Taking back what a refund, a store void or a lost dispute paid for: one path for all three.

The refund rule itself is the domain's (`renewal.domain.orders.apply_refund`); here it is applied
exactly once per refund id, in one transaction with the line's bundles and a pending reversal for
the carrier, which is queued after the commit (reconciliation sweeps up any send that was lost)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from renewal.domain.orders import ACTIVATED, PAID, REFUNDED, Order, RefundOutcome, apply_refund
from renewal.domain.reversals import Reversal, reversal_for
from renewal.domain.timeutil import utc_now
from renewal.ports import ActivationQueue, LineStore, OrderStore, StaleWrite

RETRIES = 30
logger = Logger(child=True)


def send_after_commit(queue: ActivationQueue, reversal_id: str) -> None:
    """The reversal is committed, pending: a failed send is left to reconciliation's sweep rather
    than failing a refund that has already happened."""
    try:
        queue.enqueue_reversal(reversal_id)
    except Exception:
        logger.exception("reversal not queued; reconciliation will", extra={"reversal_id": reversal_id})


class RefundBook:
    def __init__(
        self,
        orders: OrderStore,
        lines: LineStore,
        queue: ActivationQueue,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._orders, self._lines, self._queue, self._clock = orders, lines, queue, clock

    def take_back(
        self,
        order_id: str,
        refund_id: str,
        amount: int,
        *,
        kind: str,
        full_status: str = REFUNDED,
        extra: dict[str, Any] | None = None,
    ) -> Order | None:
        """Applies refund `refund_id` of `amount` to the order once (a repeat changes nothing) and
        returns the order afterwards; None for an unknown order."""
        for _ in range(RETRIES):
            order = self._orders.get(order_id)
            if order is None:
                return None
            if refund_id in order.refund_ids:
                return order
            line = self._lines.get(order.iccid)
            now = self._clock()
            outcome = apply_refund(
                order,
                amount,
                line.bundles if line else (),
                now,
                full_status=full_status,
                line_version=line.version if line else None,
            )
            refunded_now = outcome.refunded_amount - order.refunded_amount
            reversal = self._reversal(order, refund_id, kind, refunded_now, outcome, now)
            changes = {**outcome.changes, **(extra or {})}
            try:
                self._orders.refund(order, refund_id, line, outcome.bundles, changes, reversal)
            except StaleWrite:
                continue  # the order or the line moved meanwhile: decide again from what is there now
            if reversal is not None:
                send_after_commit(self._queue, reversal.reversal_id)
            return replace(order, **changes)
        raise RuntimeError(f"refund {refund_id} of {order_id}: the order kept changing")

    @staticmethod
    def _reversal(
        order: Order, refund_id: str, kind: str, refunded_now: int, outcome: RefundOutcome, now: datetime
    ) -> Reversal | None:
        if refunded_now <= 0:
            return None  # nothing was refunded (already whole): nothing to tell or take back
        if order.status == ACTIVATED:
            data_mb, validity_s = outcome.taken_mb, outcome.taken_s
        elif order.status == PAID and order.carrier_mb is not None and outcome.status != PAID:
            # Refunded in full while activation may have reached the carrier: whatever the carrier
            # added for this order goes back (it does nothing if the order never reached it).
            data_mb, validity_s = order.carrier_mb, order.carrier_s or 0
        else:
            data_mb, validity_s = 0, 0  # not credited yet: activation credits only what is unrefunded
        reversal = reversal_for(
            order, refund_id, kind, data_mb=data_mb, validity_s=validity_s, taken_mb=outcome.taken_mb,
            taken_s=outcome.taken_s, amount=refunded_now,
            bundles=outcome.bundles, now=now,
        )  # fmt: skip
        return reversal if reversal.needs_carrier or reversal.notify else None
