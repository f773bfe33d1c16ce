"""Reversals reach the carrier: each pending reversal is pushed (idempotent by its id, the
refund's), then the customer's mail about it is sent once, then it is done. Delivered by the
carrier work queue; reconciliation re-queues any still pending after a while and flags those that
keep failing, so nothing taken back on our side is silently kept by the network."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aws_lambda_powertools import Logger

from renewal.domain.mail import take_back_mail
from renewal.domain.reversals import DONE, Reversal
from renewal.domain.timeutil import utc_now
from renewal.ports import Carrier, Mailer, OrderStore, ReversalRequest, ReversalStore

logger = Logger(child=True)


class ReversalsPending(Exception):
    """The line has reversals still to reach the carrier before anything is added: retry later."""


class MailPending(Exception):
    """Another delivery holds this reversal's mail claim and has not sent it yet: try again later."""


class ReversalPush:
    def __init__(
        self,
        reversals: ReversalStore,
        orders: OrderStore,
        carrier: Carrier,
        mailer: Mailer,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._reversals, self._orders, self._carrier, self._mailer, self._clock = (
            reversals, orders, carrier, mailer, clock,
        )  # fmt: skip

    def push(self, reversal_id: str) -> str:
        """`done`, or `unknown`. CarrierUnavailable and CarrierRefused propagate: the message comes
        back, and after the queue's last try it waits in the dead-letter queue while
        reconciliation flags the reversal for a person."""
        reversal = self._reversals.get(reversal_id)
        if reversal is None:
            logger.warning("push of an unknown reversal", extra={"reversal_id": reversal_id})
            return "unknown"
        if reversal.status == DONE:
            return DONE
        if reversal.needs_carrier:
            taken = self._carrier.reverse(
                ReversalRequest(
                    reversal.reversal_id, reversal.order_id, reversal.iccid, reversal.region, reversal.data_mb,
                    reversal.validity_s,
                )
            )  # fmt: skip
            logger.info(
                "carrier reversal",
                extra={"reversal_id": reversal_id, "taken_mb": taken.data_mb, "taken_s": taken.validity_s},
            )
            self._reversals.carrier_done(reversal_id)
        mail_sent = reversal.mail_sent
        if reversal.notify and not mail_sent:
            mail_sent = self._mail(reversal)
        self._reversals.finish(reversal, mail_sent=mail_sent)
        return DONE

    def push_pending(self, iccid: str) -> None:
        """The line's oldest pending reversal, before anything is added to the line; if more are
        still pending, ReversalsPending (the activation comes back once they are through: one
        carrier call besides its own per delivery keeps the worker within its timeout)."""
        pending = self._reversals.pending_for_line(iccid)
        if not pending:
            return
        self.push(pending[0].reversal_id)
        if len(pending) > 1:
            raise ReversalsPending(f"{len(pending) - 1} more reversals of {iccid} go to the carrier first")

    def _mail(self, reversal: Reversal) -> bool:
        reversal_id, claimed_at = reversal.reversal_id, self._clock()
        if not self._reversals.claim_mail(reversal_id, claimed_at):
            current = self._reversals.get(reversal_id)
            if current is not None and not current.mail_sent:
                raise MailPending(f"the mail of reversal {reversal_id} is claimed but not sent yet")
            return True
        order = self._orders.get(reversal.order_id)
        if order is None or not order.email:
            return False
        mail = take_back_mail(
            order, reversal.kind, reversal.amount, reversal.taken_mb, reversal.taken_s, reversal.left_mb,
            reversal.left_until,
        )  # fmt: skip
        try:
            self._mailer.send(mail)
        except Exception:
            self._reversals.release_mail(reversal_id, claimed_at)
            raise
        return True
