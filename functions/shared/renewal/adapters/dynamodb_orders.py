"""Orders and recorded payment events in DynamoDB (PynamoDB), with the transactions that keep an
order's status and its line's bundles in step."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from renewal.adapters.dynamodb import (
    POOL_AVAILABLE,
    AccountModel,
    BundleAttribute,
    LineModel,
    UTCInstantAttribute,
    aws_region,
    cancelled_by_condition,
    claim_mail_on,
    condition_failed,
    configured_table,
    line_bundles_update,
    release_mail_on,
    transaction_connection,
)
from renewal.adapters.dynamodb_reversals import save_reversal
from renewal.domain.errors import InvalidInput
from renewal.domain.lines import Bundle
from renewal.domain.orders import Order, PlanSnapshot, require_move
from renewal.domain.reversals import Reversal
from renewal.ports import AccountHasLine, LineRecord, LineTaken, StaleWrite


class MillisInstantAttribute(UTCInstantAttribute):
    """Sort keys need order within a second: ISO 8601 with milliseconds and `Z`."""

    def serialize(self, value: datetime) -> str:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class OrdersByAccount(GlobalSecondaryIndex["OrderModel"]):
    class Meta:
        index_name = "by_account"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    created_at = MillisInstantAttribute(range_key=True)


class OrdersByPaymentIntent(GlobalSecondaryIndex["OrderModel"]):
    class Meta:
        index_name = "by_payment_intent"
        projection = KeysOnlyProjection()

    payment_intent = UnicodeAttribute(hash_key=True)


class OrdersByStore(GlobalSecondaryIndex["OrderModel"]):
    class Meta:
        index_name = "by_store"
        projection = AllProjection()

    store_id = UnicodeAttribute(hash_key=True)
    created_at = MillisInstantAttribute(range_key=True)


class OrdersByReceipt(GlobalSecondaryIndex["OrderModel"]):
    class Meta:
        index_name = "by_receipt"
        projection = KeysOnlyProjection()

    receipt_no = UnicodeAttribute(hash_key=True)


class OrdersAwaitingActivation(GlobalSecondaryIndex["OrderModel"]):
    """Sparse: only `paid` orders carry `awaiting`, so reconciliation finds the ones activation
    has not reached without reading the table."""

    class Meta:
        index_name = "by_awaiting"
        projection = KeysOnlyProjection()

    awaiting = UnicodeAttribute(hash_key=True)
    paid_at = UTCInstantAttribute(range_key=True)


AWAITING = "activation"


class OrderModel(Model):
    class Meta:
        table_name = configured_table("ORDERS_TABLE")
        region = aws_region()

    order_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute(null=True)  # absent for a walk-in line with no online account
    iccid = UnicodeAttribute(null=True)  # absent until the order is paid, for an account with no line yet
    plan_id = UnicodeAttribute()
    plan_name = UnicodeAttribute()
    region = UnicodeAttribute()
    data_mb = NumberAttribute()
    validity_days = NumberAttribute()
    channel = UnicodeAttribute()
    status = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    refunded_amount = NumberAttribute(default=0)
    created_at = MillisInstantAttribute()
    email = UnicodeAttribute(default="")
    locale = UnicodeAttribute(default="en")
    time_zone = UnicodeAttribute(default="UTC")
    receipt_no = UnicodeAttribute(null=True)
    store_id = UnicodeAttribute(null=True)
    session_id = UnicodeAttribute(null=True)
    payment_intent = UnicodeAttribute(null=True)
    paid_at = UTCInstantAttribute(null=True)
    activated_at = UTCInstantAttribute(null=True)
    new_expires_at = UTCInstantAttribute(null=True)
    review_reason = UnicodeAttribute(null=True)
    refund_ids = UnicodeSetAttribute(null=True)
    mail_claimed_at = UTCInstantAttribute(null=True)
    mail_sent = BooleanAttribute(default=False)
    staff_id = UnicodeAttribute(null=True)
    cash_received = NumberAttribute(null=True)
    void_reason = UnicodeAttribute(null=True)
    awaiting = UnicodeAttribute(null=True)  # AWAITING while paid and not yet activated
    carrier_mb = NumberAttribute(null=True)
    carrier_s = NumberAttribute(null=True)
    generation = NumberAttribute(null=True)
    credited_mb = NumberAttribute(null=True)
    credited_s = NumberAttribute(null=True)
    taken_back_mb = NumberAttribute(default=0)
    taken_back_s = NumberAttribute(default=0)
    bundle_before = BundleAttribute(null=True)
    version_after = NumberAttribute(null=True)
    dispute_status = UnicodeAttribute(null=True)
    checkout_url = UnicodeAttribute(null=True)  # the Checkout Session's hosted page (web orders)
    session_expires_at = UTCInstantAttribute(null=True)
    by_account = OrdersByAccount()
    by_awaiting = OrdersAwaitingActivation()
    by_payment_intent = OrdersByPaymentIntent()
    by_store = OrdersByStore()
    by_receipt = OrdersByReceipt()

    def to_order(self) -> Order:
        return Order(
            order_id=self.order_id,
            account_id=self.account_id or "",
            iccid=self.iccid or "",
            plan=PlanSnapshot(self.plan_id, self.plan_name, self.region, int(self.data_mb), int(self.validity_days)),
            channel=self.channel,
            status=self.status,
            amount=int(self.amount),
            currency=self.currency,
            created_at=self.created_at,
            email=self.email,
            locale=self.locale,
            time_zone=self.time_zone,
            refunded_amount=int(self.refunded_amount or 0),
            receipt_no=self.receipt_no,
            store_id=self.store_id,
            session_id=self.session_id,
            payment_intent=self.payment_intent,
            paid_at=self.paid_at,
            activated_at=self.activated_at,
            new_expires_at=self.new_expires_at,
            review_reason=self.review_reason,
            refund_ids=frozenset(self.refund_ids or ()),
            staff_id=self.staff_id,
            cash_received=int(self.cash_received) if self.cash_received is not None else None,
            void_reason=self.void_reason,
            mail_sent=bool(self.mail_sent),
            carrier_mb=_int_or_none(self.carrier_mb),
            carrier_s=_int_or_none(self.carrier_s),
            generation=_int_or_none(self.generation),
            credited_mb=_int_or_none(self.credited_mb),
            credited_s=_int_or_none(self.credited_s),
            taken_back_mb=int(self.taken_back_mb or 0),
            taken_back_s=int(self.taken_back_s or 0),
            bundle_before=self.bundle_before.to_bundle() if self.bundle_before is not None else None,
            version_after=_int_or_none(self.version_after),
            dispute_status=self.dispute_status,
            checkout_url=self.checkout_url,
            session_expires_at=self.session_expires_at,
        )

    @classmethod
    def from_order(cls, order: Order) -> OrderModel:
        return cls(
            order_id=order.order_id,
            account_id=order.account_id or None,
            iccid=order.iccid or None,
            plan_id=order.plan.plan_id,
            plan_name=order.plan.name,
            region=order.plan.region,
            data_mb=order.plan.data_mb,
            validity_days=order.plan.validity_days,
            channel=order.channel,
            status=order.status,
            amount=order.amount,
            currency=order.currency,
            refunded_amount=order.refunded_amount,
            created_at=order.created_at,
            awaiting=AWAITING if order.status == "paid" else None,
            email=order.email,
            locale=order.locale,
            time_zone=order.time_zone,
            receipt_no=order.receipt_no,
            store_id=order.store_id,
            session_id=order.session_id,
            staff_id=order.staff_id,
            cash_received=order.cash_received,
            paid_at=order.paid_at,
            checkout_url=order.checkout_url,
            session_expires_at=order.session_expires_at,
        )


class PaymentEventModel(Model):
    class Meta:
        table_name = configured_table("PAYMENT_EVENTS_TABLE")
        region = aws_region()

    event_id = UnicodeAttribute(hash_key=True)
    event_type = UnicodeAttribute()
    recorded_at = UTCInstantAttribute()
    expires = NumberAttribute()  # TTL: Stripe stops retrying after three days; we keep 30


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _actions(changes: dict[str, Any]) -> list[Any]:
    """Update actions for `changes`, named as the Order's fields: only the model's declared
    attributes (an unknown name is a programming error, refused before anything is written)."""
    attributes = OrderModel.get_attributes()
    unknown = set(changes) - set(attributes)
    if unknown:
        raise ValueError(f"orders have no attribute {sorted(unknown)}")
    actions = []
    if "status" in changes:  # only paid orders wait for activation (index by_awaiting)
        waiting = changes["status"] == "paid"
        actions.append(OrderModel.awaiting.set(AWAITING) if waiting else OrderModel.awaiting.remove())
    for name, value in changes.items():
        attribute = attributes[name]
        if isinstance(value, Bundle):
            value = BundleAttribute.from_bundle(value)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    return actions


class DynamoOrderStore:
    def __init__(self, mail_claim_lease: timedelta | None = None) -> None:
        """`mail_claim_lease`: how long a confirmation-mail claim holds (renewal.settings.claim_lease);
        only the activation worker, which claims mails, needs one."""
        self._mail_claim_lease = mail_claim_lease

    def create(self, order: Order) -> None:
        OrderModel.from_order(order).save(condition=OrderModel.order_id.does_not_exist())

    def get(self, order_id: str) -> Order | None:
        try:
            return OrderModel.get(order_id, consistent_read=True).to_order()
        except OrderModel.DoesNotExist:
            return None

    def by_payment_intent(self, payment_intent: str) -> Order | None:
        for key in OrderModel.by_payment_intent.query(payment_intent, limit=1):
            return self.get(key.order_id)
        return None

    def list_for_account(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
        last_key = decode_cursor(cursor, account_id) if cursor else None
        page = OrderModel.by_account.query(
            account_id, scan_index_forward=False, limit=limit, last_evaluated_key=last_key
        )
        orders = [m.to_order() for m in page]
        next_key = page.last_evaluated_key
        token = base64.urlsafe_b64encode(json.dumps(next_key).encode()).decode() if next_key else None
        return orders, token

    def move(self, order: Order, to: str, **changes: Any) -> Order:
        if to != order.status:
            require_move(order.status, to)
        try:
            OrderModel(order_id=order.order_id).update(
                actions=_actions({"status": to, **changes}),
                condition=OrderModel.status == order.status,
            )
        except UpdateError as error:
            if condition_failed(error):
                raise StaleWrite(order.order_id) from error
            raise
        return replace(order, status=to, **changes)

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
        require_move(order.status, "activated")
        claim = {} if mail_claimed_at is None else {"mail_claimed_at": mail_claimed_at}
        try:
            with TransactWrite(connection=transaction_connection()) as transaction:
                # Only one writer moves the order out of `paid`, so the claim it takes is the
                # first: no claim can exist on a paid order (claim_mail runs on activated ones).
                transaction.update(
                    OrderModel(order_id=order.order_id),
                    actions=_actions({"status": "activated", **changes, **claim}),
                    condition=(OrderModel.status == order.status) & _refunded_as_read(order),
                )
                line_bundles_update(transaction, line, bundles)
                if reversal is not None:
                    save_reversal(transaction, reversal)
        except TransactWriteError as error:
            if cancelled_by_condition(error, 0) or cancelled_by_condition(error, 1):
                raise StaleWrite(order.order_id) from error
            raise

    def refund(
        self,
        order: Order,
        refund_id: str,
        line: LineRecord | None,
        bundles: tuple[Bundle, ...],
        changes: dict[str, Any],
        reversal: Reversal | None = None,
    ) -> None:
        if changes.get("status", order.status) != order.status:
            require_move(order.status, changes["status"])
        try:
            with TransactWrite(connection=transaction_connection()) as transaction:
                transaction.update(
                    OrderModel(order_id=order.order_id),
                    actions=[OrderModel.refund_ids.add({refund_id}), *_actions(changes)],
                    condition=(OrderModel.status == order.status)
                    & _refunded_as_read(order)
                    & ~OrderModel.refund_ids.contains(refund_id)
                    # activation fixing its carrier request meanwhile changes what goes back
                    & (
                        OrderModel.carrier_mb.does_not_exist()
                        if order.carrier_mb is None
                        else OrderModel.carrier_mb.exists()
                    ),
                )
                if line is not None and bundles != line.bundles:
                    line_bundles_update(transaction, line, bundles)
                if reversal is not None:
                    save_reversal(transaction, reversal)
        except TransactWriteError as error:
            if cancelled_by_condition(error, 0) or cancelled_by_condition(error, 1):
                raise StaleWrite(order.order_id) from error
            raise

    def fix_carrier_request(self, order: Order, data_mb: int, validity_s: int) -> Order:
        try:
            OrderModel(order_id=order.order_id).update(
                actions=[OrderModel.carrier_mb.set(data_mb), OrderModel.carrier_s.set(validity_s)],
                condition=(OrderModel.status == order.status)
                & _refunded_as_read(order)
                & OrderModel.carrier_mb.does_not_exist(),
            )
        except UpdateError as error:
            if condition_failed(error):
                raise StaleWrite(order.order_id) from error
            raise
        return replace(order, carrier_mb=data_mb, carrier_s=validity_s)

    def set_dispute(self, order: Order, status: str) -> None:
        OrderModel(order_id=order.order_id).update(
            actions=[OrderModel.dispute_status.set(status)], condition=OrderModel.order_id.exists()
        )

    def awaiting_activation(self, paid_before: datetime) -> list[str]:
        """Ids of orders paid before `paid_before` and still not activated, oldest first."""
        return [key.order_id for key in OrderModel.by_awaiting.query(AWAITING, OrderModel.paid_at < paid_before)]

    def claim_mail(self, order_id: str, now: datetime) -> bool:
        if self._mail_claim_lease is None:
            raise RuntimeError("claiming a mail needs the store built with mail_claim_lease")
        return claim_mail_on(
            OrderModel(order_id=order_id), OrderModel.mail_claimed_at, OrderModel.mail_sent, now, self._mail_claim_lease
        )

    def release_mail(self, order_id: str, claimed_at: datetime) -> None:
        release_mail_on(OrderModel(order_id=order_id), OrderModel.mail_claimed_at, OrderModel.mail_sent, claimed_at)

    def by_receipt(self, receipt_no: str) -> Order | None:
        for key in OrderModel.by_receipt.query(receipt_no, limit=1):
            return self.get(key.order_id)
        return None

    def for_store(self, store_id: str, start: datetime, end: datetime) -> list[Order]:
        window = OrderModel.created_at.between(start, end - timedelta(milliseconds=1))
        return [m.to_order() for m in OrderModel.by_store.query(store_id, range_key_condition=window)]

    def create_store_sale(self, order: Order, store_id: str, sequence: int) -> None:
        """The order and the store's receipt counter in one transaction: numbers are sequential
        and gapless, and a lost race (another till took `sequence`) raises StaleWrite."""
        from renewal.adapters.dynamodb_stores import StoreModel

        try:
            with TransactWrite(connection=transaction_connection()) as transaction:
                transaction.update(
                    StoreModel(store_id=store_id),
                    actions=[StoreModel.last_receipt.set(sequence)],
                    condition=StoreModel.last_receipt == sequence - 1,
                )
                transaction.save(OrderModel.from_order(order), condition=OrderModel.order_id.does_not_exist())
        except TransactWriteError as error:
            if cancelled_by_condition(error, 0) or cancelled_by_condition(error, 1):
                raise StaleWrite(store_id) from error
            raise

    def pay_with_line(self, order: Order, iccid: str, *, from_pool: bool, changes: dict[str, Any]) -> Order:
        """See ports.OrderStore.pay_with_line (issue 14: the pool line is taken at payment)."""
        require_move(order.status, "paid")
        try:
            with TransactWrite(connection=transaction_connection()) as transaction:
                transaction.update(
                    OrderModel(order_id=order.order_id),
                    actions=_actions({"status": "paid", "iccid": iccid, **changes}),
                    condition=OrderModel.status == order.status,
                )
                _account_takes_line(transaction, order.account_id, iccid, from_pool)
        except TransactWriteError as error:
            _raise_line_race(error, order.order_id, iccid)
        return replace(order, status="paid", iccid=iccid, **changes)

    def create_store_sale_with_line(self, order: Order, store_id: str, sequence: int, *, from_pool: bool) -> None:
        """create_store_sale for an online account with no line yet: the same transaction gives
        the account `order.iccid` from the pool (or checks it is still the account's)."""
        from renewal.adapters.dynamodb_stores import StoreModel

        try:
            with TransactWrite(connection=transaction_connection()) as transaction:
                transaction.update(
                    StoreModel(store_id=store_id),
                    actions=[StoreModel.last_receipt.set(sequence)],
                    condition=StoreModel.last_receipt == sequence - 1,
                )
                transaction.save(OrderModel.from_order(order), condition=OrderModel.order_id.does_not_exist())
                _account_takes_line(transaction, order.account_id, order.iccid, from_pool)
        except TransactWriteError as error:
            if cancelled_by_condition(error, 0) or cancelled_by_condition(error, 1):
                raise StaleWrite(store_id) from error
            _raise_line_race(error, order.order_id, order.iccid, offset=1)

    def mail_sent(self, order_id: str) -> None:
        OrderModel(order_id=order_id).update(actions=[OrderModel.mail_sent.set(True)])


class DynamoEventLog:
    def seen(self, event_id: str) -> bool:
        try:
            # Eventually consistent (half the cost): a miss only means fulfilment runs again,
            # and its conditional writes make that harmless.
            PaymentEventModel.get(event_id, consistent_read=False)
        except PaymentEventModel.DoesNotExist:
            return False
        return True

    def record(self, event_id: str, event_type: str) -> None:
        from renewal.domain.timeutil import utc_now

        now = utc_now()
        try:
            PaymentEventModel(
                event_id=event_id,
                event_type=event_type,
                recorded_at=now,
                expires=int((now + timedelta(days=30)).timestamp()),
            ).save(condition=PaymentEventModel.event_id.does_not_exist())
        except PutError as error:
            if not condition_failed(error):
                raise  # already recorded by a concurrent delivery: fine


def _refunded_as_read(order: Order) -> Any:
    """The refunded amount is still what `order` says (absent on orders never refunded)."""
    held = OrderModel.refunded_amount == order.refunded_amount
    return (held | OrderModel.refunded_amount.does_not_exist()) if order.refunded_amount == 0 else held


def _account_takes_line(transaction: TransactWrite, account_id: str, iccid: str, from_pool: bool) -> None:
    """Part of a paying write: with `from_pool` the account gets `iccid` only if it has no line,
    and the line leaves the pool only if it is still there; else `iccid` must still be its line."""
    if not from_pool:
        transaction.condition_check(AccountModel, account_id, condition=AccountModel.iccid == iccid)
        return
    transaction.update(
        AccountModel(account_id=account_id),
        actions=[AccountModel.iccid.set(iccid)],
        condition=AccountModel.account_id.exists() & AccountModel.iccid.does_not_exist(),
    )
    transaction.update(
        LineModel(iccid=iccid),
        actions=[LineModel.account_id.set(account_id), LineModel.pool_state.remove()],
        condition=(LineModel.pool_state == POOL_AVAILABLE) & LineModel.account_id.does_not_exist(),
    )


def _raise_line_race(error: TransactWriteError, order_id: str, iccid: str, offset: int = 0) -> None:
    """The order's write (position `offset`), the account's and the line's, in that order."""
    if cancelled_by_condition(error, offset):
        raise StaleWrite(order_id) from error
    if cancelled_by_condition(error, offset + 1):
        raise AccountHasLine(order_id) from error
    if cancelled_by_condition(error, offset + 2):
        raise LineTaken(iccid) from error
    raise error


def decode_cursor(cursor: str, account_id: str) -> dict[str, Any]:
    """The page key we handed out, or 422: garbage, or another account's cursor, is bad input."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        holder = key["account_id"]["S"]
        if set(key) != {"order_id", "account_id", "created_at"} or holder != account_id:
            raise ValueError("not this account's cursor")
        # Each value as we hand it out: {"S": "<text>"}, the time one MillisInstantAttribute reads.
        if any(set(value) != {"S"} or not isinstance(value["S"], str) or not value["S"] for value in key.values()):
            raise ValueError("a cursor value of the wrong type")
        MillisInstantAttribute().deserialize(key["created_at"]["S"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise InvalidInput("cursor is not one this API handed out", code="invalid_cursor") from error
    return dict(key)
