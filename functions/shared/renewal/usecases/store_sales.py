"""Partner-store renewals: a walk-in customer pays cash, staff ring it up, the same activation
queue applies it. Staff act only for the store our own data says they work for."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from renewal.domain.errors import Conflict, Forbidden, NotFound
from renewal.domain.lines import is_valid_iccid
from renewal.domain.orders import PAID, VOIDED, Order, PlanSnapshot
from renewal.domain.receipts import Seller
from renewal.domain.reversals import VOID as VOID_KIND
from renewal.domain.stores import Store, change_due, daily_report, require_store_currency, require_voidable
from renewal.domain.timeutil import utc_now
from renewal.ports import (
    AccountsByEmail,
    ActivationQueue,
    LineStore,
    PlanCatalog,
    StaleWrite,
    StoreDirectory,
    StoreOrders,
)
from renewal.usecases.accounts import Identity
from renewal.usecases.pool import sell_taking_line
from renewal.usecases.refunds import RefundBook

STAFF_GROUP = "store-staff"
RETRIES = 30


class StoreSales:
    def __init__(
        self,
        stores: StoreDirectory,
        catalog: PlanCatalog,
        lines: LineStore,
        accounts: AccountsByEmail,
        orders: StoreOrders,
        queue: ActivationQueue,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._stores, self._catalog, self._lines, self._accounts = stores, catalog, lines, accounts
        self._orders, self._queue, self._clock = orders, queue, clock
        self._refunds = RefundBook(orders, lines, queue, clock)

    def store_for(self, staff: Identity) -> Store:
        if STAFF_GROUP not in staff.groups:
            raise Forbidden("store routes are for partner-store staff", code="staff_only")
        store = self._stores.store_of_staff(staff.account_id)
        if store is None:
            raise Forbidden("you are not assigned to a store", code="no_store")
        return store

    def renew(
        self, staff: Identity, *, iccid: str | None, email: str | None, plan_id: str, currency: str, cash_received: int
    ) -> dict[str, Any]:
        store = self.store_for(staff)
        plan = self._catalog.get(plan_id)
        if plan is None:
            raise NotFound(f"no plan {plan_id!r}", code="plan_not_found")
        require_store_currency(store, currency)
        price = plan.price_in(store.currency)
        change = change_due(price, cash_received)
        account_id, line_iccid, contact, locale = self._find_line(iccid, email)
        now = self._clock()
        order = Order(
            order_id=str(uuid.uuid4()),
            account_id=account_id,
            iccid=line_iccid,
            plan=PlanSnapshot.of(plan),
            channel="store",
            status=PAID,
            amount=price,
            currency=store.currency,
            created_at=now,
            email=contact,
            store_id=store.store_id,
            staff_id=staff.account_id,
            cash_received=cash_received,
            paid_at=now,
            time_zone=store.time_zone,
            locale=locale,
        )
        for _ in range(RETRIES):
            sequence = self._stores.last_receipt(store.store_id) + 1
            numbered = replace(order, receipt_no=store.receipt_number(sequence))
            try:
                if numbered.iccid:
                    self._orders.create_store_sale(numbered, store.store_id, sequence)
                else:  # an online account with no line yet: this sale takes one from the pool
                    numbered = sell_taking_line(
                        self._orders, self._accounts, self._lines, numbered, store.store_id, sequence
                    )
            except StaleWrite:
                continue  # another till took this number: take the next
            self._queue.enqueue(numbered.order_id)
            return {**numbered.view(), "receipt_no": numbered.receipt_no, "change_due": change}
        raise RuntimeError("could not number the receipt: the store is too busy")

    def _find_line(self, iccid: str | None, email: str | None) -> tuple[str, str, str, str]:
        """(account id, ICCID, email to mail, the customer's language: receipts are in it when known)."""
        if iccid:
            line = self._lines.get(iccid) if is_valid_iccid(iccid) else None
            if line is None:
                raise NotFound("no line with this ICCID is on file", code="line_not_found")
            return line.account_id or "", line.iccid, "", "en"
        matches = self._accounts.with_email(email or "", 2)
        if len(matches) > 1:  # the by_email index is not unique: never guess whose line it is
            raise Conflict("more than one account has this email; sell to the card's ICCID", code="email_ambiguous")
        record = matches[0] if matches else None
        if record is None:
            raise NotFound("no customer has this email", code="customer_not_found")
        account = record.account
        return account.account_id, account.iccid or "", account.email, account.locale

    def receipt(self, staff: Identity, receipt_no: str) -> Order:
        store = self.store_for(staff)
        order = self._orders.by_receipt(receipt_no)
        if order is None or order.store_id != store.store_id:
            raise NotFound("no such receipt at your store", code="receipt_not_found")
        return order

    def receipt_page(self, staff: Identity, receipt_no: str) -> tuple[Order, Seller, str | None]:
        """The receipt with what its page names: the store as seller, the staff member by name."""
        order = self.receipt(staff, receipt_no)
        staff_name = self._stores.staff_name(order.staff_id) if order.staff_id else None
        return order, self.store_for(staff).seller(), staff_name

    def report(self, staff: Identity, day: date) -> dict[str, Any]:
        store = self.store_for(staff)
        start, end = store.local_day(day)
        orders = self._orders.for_store(store.store_id, start, end)
        names = {s: n for s in {o.staff_id for o in orders if o.staff_id} if (n := self._stores.staff_name(s))}
        return daily_report(store, day, orders, names)

    def void(self, staff: Identity, order_id: str, reason: str) -> Order:
        """A store sale voided within 15 minutes: taken back like a full refund (restored exactly
        when nothing else was applied to the line since), keyed `void-<order id>`."""
        store = self.store_for(staff)
        order = self._orders.get(order_id)
        if order is None or order.store_id != store.store_id:
            raise NotFound("no such sale at your store", code="order_not_found")
        require_voidable(order, self._clock())
        voided = self._refunds.take_back(
            order.order_id, f"void-{order.order_id}", order.amount - order.refunded_amount, kind=VOID_KIND,
            full_status=VOIDED, extra={"void_reason": reason},
        )  # fmt: skip
        if voided is None:
            raise NotFound("no such sale at your store", code="order_not_found")
        return voided
