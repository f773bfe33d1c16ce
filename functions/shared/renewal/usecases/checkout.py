"""A customer starts paying: a Checkout Session, and its pending order priced from OUR catalog."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from renewal.domain.errors import NotFound, PaymentProviderUnavailable, TooManyAttempts
from renewal.domain.limits import (
    MAX_OPEN_CHECKOUTS,
    SYNCS_PER_WINDOW,
    open_checkouts,
    seconds_until_one_closes,
    sync_window,
)
from renewal.domain.orders import PENDING, Order, PlanSnapshot
from renewal.domain.timeutil import to_iso, utc_now
from renewal.ports import OrderStore, PaymentProvider, PaymentProviderError, PlanCatalog, WindowCounter
from renewal.usecases.accounts import AccountService, Identity


@dataclass(frozen=True)
class CheckoutSettings:
    success_url: str
    cancel_url: str
    expires_after: timedelta
    methods_by_currency: dict[str, list[str]]

    @staticmethod
    def parse_methods(text: str) -> dict[str, list[str]]:
        """`CNY=alipay,wechat_pay;HKD=alipay` -> {"CNY": ["alipay", "wechat_pay"], ...}."""
        methods: dict[str, list[str]] = {}
        for part in filter(None, (p.strip() for p in text.split(";"))):
            currency, _, names = part.partition("=")
            methods[currency.strip().upper()] = [n.strip() for n in names.split(",") if n.strip()]
        return methods


class CheckoutService:
    def __init__(
        self,
        catalog: PlanCatalog,
        accounts: AccountService,
        orders: OrderStore,
        payments: PaymentProvider,
        settings: CheckoutSettings,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._catalog, self._accounts, self._orders, self._payments = catalog, accounts, orders, payments
        self._settings, self._clock = settings, clock

    def start(self, identity: Identity, plan_id: str, currency: str) -> dict[str, Any]:
        plan = self._catalog.get(plan_id)
        if plan is None:
            raise NotFound(f"no plan {plan_id!r}", code="plan_not_found")
        amount = plan.price_in(currency)
        # Made on first sight, as GET /account does. No line needed: a first payment takes one.
        account = self._accounts.for_checkout(identity)
        now = self._clock()
        lifetime = self._settings.expires_after + timedelta(seconds=5)
        recent, _ = self._orders.list_for_account(identity.account_id, 2 * MAX_OPEN_CHECKOUTS + 10, None)
        still_open = open_checkouts(recent, now, lifetime)
        for order in still_open:
            if order.plan.plan_id == plan.plan_id and order.currency == currency.upper() and order.checkout_url:
                return self._answer(order, order.checkout_url, self._expires_at(order.created_at))  # the same checkout
        if len(still_open) >= MAX_OPEN_CHECKOUTS:
            wait = seconds_until_one_closes(still_open, now, lifetime)
            raise TooManyAttempts(
                f"you have {len(still_open)} checkouts open; pay or wait for one to expire",
                code="too_many_open_checkouts",
                retry_after=wait,
            )
        order = Order(
            order_id=str(uuid.uuid4()),
            account_id=identity.account_id,
            iccid=account.iccid or "",  # none yet: the payment's write takes one from the pool
            plan=PlanSnapshot.of(plan),
            channel="web",
            status=PENDING,
            amount=amount,
            currency=currency.upper(),
            created_at=now,
            email=account.email,
            locale=account.locale,
            time_zone=account.time_zone,
        )
        expires_at = self._expires_at(now)
        methods = ["card", *self._settings.methods_by_currency.get(order.currency, [])]
        # The session first (it names the order id; the adapter's Stripe idempotency key is the
        # order id too), then the order once, with its session. If Stripe fails nothing is
        # written; if the write fails the session is orphaned, but its URL never reached the
        # client, so nothing can be paid through it and it expires unpaid.
        try:
            session_id, url = self._payments.create_session(
                order, self._settings.success_url, self._settings.cancel_url, expires_at, methods
            )
        except PaymentProviderError as error:
            raise PaymentProviderUnavailable(f"the payment provider failed: {error}") from error
        # The hosted page and its deadline stay on the order: its view offers "Pay now" until then.
        order = replace(order, session_id=session_id, checkout_url=url, session_expires_at=expires_at)
        self._orders.create(order)
        return self._answer(order, url, expires_at)

    def _expires_at(self, created_at: datetime) -> datetime:
        # Stripe measures its 30-minute minimum from when it receives the request: a few seconds spare.
        return (created_at + self._settings.expires_after + timedelta(seconds=5)).replace(microsecond=0)

    @staticmethod
    def _answer(order: Order, url: str, expires_at: datetime) -> dict[str, Any]:
        return {
            "order_id": order.order_id,
            "session_id": order.session_id,
            "checkout_url": url,
            "expires_at": to_iso(expires_at),
        }


class SyncLimit:
    """POST /orders/{id}/sync per account: enough for the success page's poll every 4 s, not a flood."""

    def __init__(self, counter: WindowCounter, clock: Callable[[], datetime] = utc_now) -> None:
        self._counter, self._clock = counter, clock

    def take(self, identity: Identity) -> None:
        now = self._clock()
        start, retry_after = sync_window(now)
        expires = start + timedelta(hours=1)
        if not self._counter.take(f"sync#{identity.account_id}", start, SYNCS_PER_WINDOW, expires):
            raise TooManyAttempts(
                f"at most {SYNCS_PER_WINDOW} syncs a minute", code="too_many_syncs", retry_after=retry_after
            )
