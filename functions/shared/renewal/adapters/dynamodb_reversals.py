"""Reversals in DynamoDB: written inside the refund's (or activation's) own transaction, pending
in the sparse `by_pending` index until pushed to the carrier and mailed."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from renewal.adapters.dynamodb import (
    LineModel,
    UTCInstantAttribute,
    aws_region,
    change_bucket,
    claim_mail_on,
    configured_table,
    release_mail_on,
    reminder_shard,
    transaction_connection,
)
from renewal.domain.reversals import DONE, PENDING, Reversal
from renewal.domain.timeutil import utc_now


class ReversalsPending(GlobalSecondaryIndex["ReversalModel"]):
    """Sparse: only pending reversals carry `pending`, so the sweep reads just those."""

    class Meta:
        index_name = "by_pending"
        projection = AllProjection()

    pending = UnicodeAttribute(hash_key=True)
    created_at = UTCInstantAttribute(range_key=True)


class ReversalModel(Model):
    class Meta:
        table_name = configured_table("REVERSALS_TABLE")
        region = aws_region()

    reversal_id = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute()
    iccid = UnicodeAttribute()
    region = UnicodeAttribute()
    kind = UnicodeAttribute()
    data_mb = NumberAttribute()
    validity_s = NumberAttribute()
    taken_mb = NumberAttribute(default=0)
    taken_s = NumberAttribute(default=0)
    created_at = UTCInstantAttribute()
    amount = NumberAttribute(default=0)
    currency = UnicodeAttribute(default="")
    left_mb = NumberAttribute(default=0)
    left_until = UTCInstantAttribute(null=True)
    notify = BooleanAttribute(default=True)
    status = UnicodeAttribute()
    pending = UnicodeAttribute(null=True)  # PENDING while status is pending (index by_pending)
    carrier_done = BooleanAttribute(default=False)
    mail_sent = BooleanAttribute(default=False)
    mail_claimed_at = UTCInstantAttribute(null=True)
    finished_at = UTCInstantAttribute(null=True)
    by_pending = ReversalsPending()

    def to_reversal(self) -> Reversal:
        return Reversal(
            reversal_id=self.reversal_id,
            order_id=self.order_id,
            iccid=self.iccid,
            region=self.region,
            kind=self.kind,
            data_mb=int(self.data_mb),
            validity_s=int(self.validity_s),
            taken_mb=int(self.taken_mb or 0),
            taken_s=int(self.taken_s or 0),
            created_at=self.created_at,
            amount=int(self.amount or 0),
            currency=self.currency,
            left_mb=int(self.left_mb or 0),
            left_until=self.left_until,
            notify=bool(self.notify),
            status=self.status,
            carrier_done=bool(self.carrier_done),
            mail_sent=bool(self.mail_sent),
        )


def save_reversal(transaction: TransactWrite, reversal: Reversal) -> None:
    """Part of a refund's or an activation's transaction: the reversal, pending, written once
    (its id is the refund's, which the order's own condition already lets through only once)."""
    transaction.save(
        ReversalModel(
            reversal_id=reversal.reversal_id,
            order_id=reversal.order_id,
            iccid=reversal.iccid,
            region=reversal.region,
            kind=reversal.kind,
            data_mb=reversal.data_mb,
            validity_s=reversal.validity_s,
            taken_mb=reversal.taken_mb,
            taken_s=reversal.taken_s,
            created_at=reversal.created_at,
            amount=reversal.amount,
            currency=reversal.currency,
            left_mb=reversal.left_mb,
            left_until=reversal.left_until,
            notify=reversal.notify,
            status=PENDING,
            pending=PENDING,
        ),
        condition=ReversalModel.reversal_id.does_not_exist(),
    )


class DynamoReversalStore:
    def __init__(self, mail_claim_lease: timedelta | None = None) -> None:
        """`mail_claim_lease`: how long a claim on a reversal's mail holds (renewal.settings.claim_lease)."""
        self._mail_claim_lease = mail_claim_lease

    def get(self, reversal_id: str) -> Reversal | None:
        try:
            return ReversalModel.get(reversal_id, consistent_read=True).to_reversal()
        except ReversalModel.DoesNotExist:
            return None

    def carrier_done(self, reversal_id: str) -> None:
        ReversalModel(reversal_id=reversal_id).update(actions=[ReversalModel.carrier_done.set(True)])

    def claim_mail(self, reversal_id: str, now: datetime) -> bool:
        if self._mail_claim_lease is None:
            raise RuntimeError("claiming a mail needs the store built with mail_claim_lease")
        item = ReversalModel(reversal_id=reversal_id)
        return claim_mail_on(item, ReversalModel.mail_claimed_at, ReversalModel.mail_sent, now, self._mail_claim_lease)

    def release_mail(self, reversal_id: str, claimed_at: datetime) -> None:
        item = ReversalModel(reversal_id=reversal_id)
        release_mail_on(item, ReversalModel.mail_claimed_at, ReversalModel.mail_sent, claimed_at)

    def finish(self, reversal: Reversal, *, mail_sent: bool) -> None:
        """Done, out of the pending index; the line is marked changed now, so reconciliation
        compares it with the network after the carrier has taken the reversal."""
        reversal_id = reversal.reversal_id
        now = utc_now()
        with TransactWrite(connection=transaction_connection()) as transaction:
            transaction.update(
                ReversalModel(reversal_id=reversal_id),
                actions=[
                    ReversalModel.status.set(DONE),
                    ReversalModel.pending.remove(),
                    ReversalModel.mail_sent.set(mail_sent),
                    ReversalModel.finished_at.set(now),
                ],
            )
            transaction.update(
                LineModel(iccid=reversal.iccid),
                actions=[
                    LineModel.changed_at.set(now),
                    LineModel.changed_bucket.set(change_bucket(now, reminder_shard(reversal.iccid))),
                ],
                condition=LineModel.iccid.exists(),
            )

    def pending(self, created_before: datetime) -> list[Reversal]:
        return [
            m.to_reversal() for m in ReversalModel.by_pending.query(PENDING, ReversalModel.created_at < created_before)
        ]

    def pending_for_line(self, iccid: str) -> list[Reversal]:
        # Pending reversals are few at any moment (each is pushed within seconds), so reading the
        # pending partition with a filter costs less than an index of its own.
        return [
            m.to_reversal()
            for m in ReversalModel.by_pending.query(PENDING, filter_condition=ReversalModel.iccid == iccid)
        ]
