"""Activation: a paid order's plan reaches the carrier (the mobile network) exactly once, then
our tables change in one transaction (which also claims the confirmation mail), then one
confirmation mail, written from what that transaction committed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from renewal.domain.errors import Conflict
from renewal.domain.lines import Bundle, credit, line_balance, require_renewable
from renewal.domain.mail import confirmation_mail
from renewal.domain.orders import (
    ACTIVATED,
    PAID,
    REVIEW,
    Order,
    activation_credit,
    validity_seconds,
    web_receipt_number,
)
from renewal.domain.reversals import ACTIVATION as ACTIVATION_KIND
from renewal.domain.reversals import reversal_for
from renewal.domain.timeutil import utc_now
from renewal.ports import (
    ActivationQueue,
    BundleProvision,
    Carrier,
    CarrierRefused,
    LineStore,
    Mailer,
    OrderStore,
    StaleWrite,
)
from renewal.usecases.refunds import send_after_commit
from renewal.usecases.reversals import ReversalPush

logger = Logger(child=True)
RETRIES = 25


class ConfirmationPending(Exception):
    """Another delivery holds this order's mail claim and has not sent it yet: try again later."""


class Activation:
    def __init__(
        self,
        orders: OrderStore,
        lines: LineStore,
        mailer: Mailer,
        carrier: Carrier,
        queue: ActivationQueue,
        clock: Callable[[], datetime] = utc_now,
        reversals: ReversalPush | None = None,
    ) -> None:
        self._orders, self._lines, self._mailer, self._carrier = orders, lines, mailer, carrier
        self._queue, self._clock, self._reversals = queue, clock, reversals

    @property
    def reversals(self) -> ReversalPush | None:
        return self._reversals

    def activate(self, order_id: str) -> str:
        """Returns the order's status afterwards. Safe to run for the same order any number of
        times, at once. What the carrier is asked to add is fixed on the order first (the
        unrefunded share of the plan), then the carrier adds it, keyed by the order id (so repeats
        add it once); only once it confirms does the order move paid -> activated and the line's
        bundles change, in one transaction guarded by the order's status and refunded amount and
        the line's version. If a refund landed after the carrier call, only the unrefunded share
        is credited and a reversal for the rest is written in the same transaction. A fully
        refunded order is never activated. CarrierUnavailable propagates: the order stays `paid`
        and SQS delivers it again. A refusal moves the order to `review` and credits nothing."""
        for _ in range(RETRIES):
            order = self._orders.get(order_id)
            if order is None:
                logger.warning("activation for an unknown order", extra={"order_id": order_id})
                return "unknown"
            if order.status == ACTIVATED:
                self._confirm(order_id)
                return ACTIVATED
            if order.status != PAID:
                return order.status  # refunded before activation, in review, ...
            line = self._lines.get(order.iccid)
            now = self._clock()
            credit_mb, credit_s = activation_credit(order)
            try:
                if line is None:
                    self._orders.move(order, REVIEW, review_reason="the order's line is not on file")
                    return REVIEW
                try:
                    require_renewable(line.bundles, now)
                except Conflict as refused:
                    self._orders.move(order, REVIEW, review_reason=refused.message)
                    return REVIEW
                if order.carrier_mb is None:
                    order = self._orders.fix_carrier_request(order, credit_mb, credit_s)
            except StaleWrite:
                continue  # the order moved meanwhile (refunded, or activated by a duplicate)
            if self._reversals is not None:
                # The network applies what we took back before what we add next, in our order: a
                # void's reversal still on its way would otherwise land after this order extended
                # the bundle it was meant to end.
                self._reversals.push_pending(order.iccid)
            try:
                added = self._carrier.add_bundle(
                    BundleProvision(
                        order.order_id, order.iccid, order.plan.region, order.carrier_mb or 0, order.carrier_s or 0
                    )
                )
            except CarrierRefused as refused:
                try:
                    self._orders.move(
                        order, REVIEW, review_reason=f"the carrier refused ({refused.code}): {refused.reason}"
                    )
                except StaleWrite:
                    continue
                return REVIEW
            credited_mb, credited_s = min(credit_mb, added.data_mb), min(credit_s, added.validity_s)
            bundles = credit(
                line.bundles, order.plan.as_plan(), now, order_id=order.order_id, data_mb=credited_mb,
                validity_s=credited_s,
            )  # fmt: skip
            renewed = next(b for b in bundles if b.region == order.plan.region)
            changes: dict[str, Any] = {
                "activated_at": now,
                "receipt_no": order.receipt_no or web_receipt_number(order.order_id, order.created_at),
                "new_expires_at": renewed.expires_at,
                "generation": renewed.generation,
                "credited_mb": credited_mb,
                "credited_s": credited_s,
                # Held back at activation counts as taken back already.
                "taken_back_mb": order.plan.data_mb - credited_mb,
                "taken_back_s": validity_seconds(order.plan) - credited_s,
                "bundle_before": next((b for b in line.bundles if b.region == order.plan.region), None),
                "version_after": line.version + 1,
            }
            reversal = None
            if added.data_mb > credited_mb or added.validity_s > credited_s:
                # A refund landed between the carrier call and now: the carrier takes back the rest.
                reversal = reversal_for(
                    order, f"activation-{order.order_id}", ACTIVATION_KIND, data_mb=added.data_mb - credited_mb,
                    validity_s=added.validity_s - credited_s, taken_mb=0, taken_s=0, amount=0, bundles=bundles,
                    now=now,
                )  # fmt: skip
            # The transaction that activates also settles the mail: a claim on it (taken now, for
            # the lease), or, with no address to mail (a walk-in line), marked sent outright.
            claimed_at = self._clock() if order.email else None
            if not order.email:
                changes["mail_sent"] = True
            try:
                self._orders.activate(order, line, bundles, changes, mail_claimed_at=claimed_at, reversal=reversal)
            except StaleWrite:
                continue  # another renewal of this line, a refund, or a duplicate got there first
            if reversal is not None:
                send_after_commit(self._queue, reversal.reversal_id)
            if claimed_at is not None:
                self._send_confirmation(replace(order, status=ACTIVATED, **changes), bundles, claimed_at)
            return ACTIVATED
        raise RuntimeError(f"could not activate {order_id}: the line kept changing")

    def _send_confirmation(self, order: Order, bundles: tuple[Bundle, ...], claimed_at: datetime) -> None:
        """The mail of an order this delivery has just activated and claimed the mail of, from
        what it committed (no reads): sent, then marked sent; released if the send fails."""
        self._mail(order, line_balance(bundles, self._clock()).remaining_data_mb, claimed_at)

    def _confirm(self, order_id: str) -> None:
        """An order found already activated (a redelivery, a duplicate, or a worker that died
        after its commit): one confirmation per order, claimed, sent, then marked sent. A
        delivery that finds the mail claimed but not yet sent fails, so SQS brings it back; by
        then the mail is sent, or the claim has lapsed because its holder died and this delivery
        sends it."""
        claimed_at = self._clock()
        if not self._orders.claim_mail(order_id, claimed_at):
            current = self._orders.get(order_id)
            if current is not None and not current.mail_sent:
                raise ConfirmationPending(f"the confirmation of {order_id} is claimed but not sent yet")
            return
        order = self._orders.get(order_id)
        if order is None:
            return
        if not order.email:  # a walk-in line without an online account: the paper receipt is it
            self._orders.mail_sent(order_id)
            return
        line = self._lines.get(order.iccid)
        balance = line_balance(line.bundles, self._clock()).remaining_data_mb if line else 0
        self._mail(order, balance, claimed_at)

    def _mail(self, order: Order, balance_mb: int, claimed_at: datetime) -> None:
        """Sends the confirmation under the claim taken at `claimed_at`, then marks it sent; a
        failed send gives the claim up, so the redelivered message sends it."""
        try:
            self._mailer.send(confirmation_mail(order, balance_mb))
        except Exception:
            self._orders.release_mail(order.order_id, claimed_at)
            raise
        self._orders.mail_sent(order.order_id)
