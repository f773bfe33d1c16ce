"""A customer starts paying: a Checkout Session, and its pending order priced from OUR catalog."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from renewal.domain.errors import Conflict, NotFound, PaymentProviderUnavailable
from renewal.domain.orders import PENDING, Order, PlanSnapshot
from renewal.domain.timeutil import to_iso, utc_now
from renewal.ports import OrderStore, PaymentProvider, PaymentProviderError, PlanCatalog
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
        account = self._accounts.for_checkout(identity)  # made on first sight, as GET /account does
        if not account.iccid:
            raise Conflict("your account has no line to renew", code="no_line")
        now = self._clock()
        order = Order(
            order_id=str(uuid.uuid4()),
            account_id=identity.account_id,
            iccid=account.iccid,
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
        # Stripe measures its 30-minute minimum from when it receives the request: a few seconds spare.
        expires_at = (now + self._settings.expires_after + timedelta(seconds=5)).replace(microsecond=0)
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
        return {
            "order_id": order.order_id,
            "session_id": session_id,
            "checkout_url": url,
            "expires_at": to_iso(expires_at),
        }
