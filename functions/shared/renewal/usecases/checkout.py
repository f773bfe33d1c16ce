"""A customer starts paying: a pending order priced from OUR catalog, and a Checkout Session."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from renewal.domain.errors import DomainError, NotFound
from renewal.domain.orders import PENDING, Order, PlanSnapshot
from renewal.domain.timeutil import to_iso, utc_now
from renewal.ports import OrderStore, PaymentProvider, PaymentProviderError, PlanCatalog
from renewal.usecases.accounts import AccountService, Identity


class PaymentProviderUnavailable(DomainError):
    status = 502
    code = "payment_provider_unavailable"


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
        account = self._accounts.view(identity)  # made on first sight, as GET /account does
        now = self._clock()
        order = Order(
            order_id=str(uuid.uuid4()),
            account_id=identity.account_id,
            iccid=account["iccid"],
            plan=PlanSnapshot.of(plan),
            channel="web",
            status=PENDING,
            amount=amount,
            currency=currency.upper(),
            created_at=now,
            email=account["email"],
            locale=account["locale"],
            time_zone=account["time_zone"],
        )
        self._orders.create(order)
        # Stripe measures its 30-minute minimum from when it receives the request: a few seconds spare.
        expires_at = (now + self._settings.expires_after + timedelta(seconds=5)).replace(microsecond=0)
        methods = ["card", *self._settings.methods_by_currency.get(order.currency, [])]
        try:
            session_id, url = self._payments.create_session(
                order, self._settings.success_url, self._settings.cancel_url, expires_at, methods
            )
        except PaymentProviderError as error:
            # The order stays pending; it expires with nothing charged.
            raise PaymentProviderUnavailable(f"the payment provider failed: {error}") from error
        self._orders.move(order, PENDING, session_id=session_id)
        order = replace(order, session_id=session_id)
        return {
            "order_id": order.order_id,
            "session_id": session_id,
            "checkout_url": url,
            "expires_at": to_iso(expires_at),
        }
