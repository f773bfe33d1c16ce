"""Reversals: what a refund, void or lost dispute took back from a line, on its way to the carrier.

Each one is written in the same transaction as the refund it follows, keyed by the refund's id
(the carrier's idempotency key too), so nothing taken back on our side can be lost before it
reaches the network. A reversal with nothing to take (a refund before activation, a bundle that
has since expired) still carries the customer's mail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from renewal.domain.lines import Bundle
from renewal.domain.orders import Order

PENDING, DONE = "pending", "done"
REFUND, VOID, DISPUTE, ACTIVATION = "refund", "void", "dispute", "activation"


@dataclass(frozen=True)
class Reversal:
    reversal_id: str  # the refund's id (Stripe's re_..., void-<order>, the dispute's id, activation-<order>)
    order_id: str
    iccid: str
    region: str
    kind: str  # refund | void | dispute | activation (the share a refund during activation held back)
    data_mb: int  # to take back at the carrier from the bundle the order fed
    validity_s: int
    created_at: datetime
    taken_mb: int = 0  # what our books took back (what the customer is told)
    taken_s: int = 0
    amount: int = 0  # what this refund gave back, for the mail
    currency: str = ""
    left_mb: int = 0  # the region's live data after it, for the mail
    left_until: datetime | None = None
    notify: bool = True  # mail the customer once it reached the carrier
    status: str = PENDING
    carrier_done: bool = False
    mail_sent: bool = False

    @property
    def needs_carrier(self) -> bool:
        return (self.data_mb > 0 or self.validity_s > 0) and not self.carrier_done


def reversal_for(
    order: Order,
    reversal_id: str,
    kind: str,
    *,
    data_mb: int,
    validity_s: int,
    taken_mb: int,
    taken_s: int,
    amount: int,
    bundles: tuple[Bundle, ...],
    now: datetime,
) -> Reversal:
    left = next((b for b in bundles if b.region == order.plan.region and b.is_live(now)), None)
    return Reversal(
        reversal_id=reversal_id,
        order_id=order.order_id,
        iccid=order.iccid,
        region=order.plan.region,
        kind=kind,
        data_mb=data_mb,
        validity_s=validity_s,
        created_at=now,
        taken_mb=taken_mb,
        taken_s=taken_s,
        amount=amount,
        currency=order.currency,
        left_mb=left.remaining_data_mb if left else 0,
        left_until=left.expires_at if left else None,
        notify=bool(order.email) and kind != ACTIVATION,
    )
