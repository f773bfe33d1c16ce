"""Builds use cases over the real adapters, once per Lambda instance (and only what is asked)."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache

from renewal.usecases.activation import Activation
from renewal.usecases.checkout import CheckoutService, CheckoutSettings
from renewal.usecases.payments import Fulfilment


@cache
def checkout_service() -> CheckoutService:
    from renewal.adapters.dynamodb import DynamoAccountStore, DynamoLineStore, DynamoPlanCatalog
    from renewal.adapters.dynamodb_orders import DynamoOrderStore
    from renewal.adapters.stripe_payments import StripePayments
    from renewal.usecases.accounts import AccountService

    settings = CheckoutSettings(
        success_url=os.environ["CHECKOUT_SUCCESS_URL"],
        cancel_url=os.environ["CHECKOUT_CANCEL_URL"],
        expires_after=timedelta(minutes=int(os.environ.get("CHECKOUT_EXPIRES_MINUTES", "30"))),
        methods_by_currency=CheckoutSettings.parse_methods(os.environ.get("PAYMENT_METHODS_BY_CURRENCY", "")),
    )
    accounts = AccountService(DynamoAccountStore(), DynamoLineStore())
    return CheckoutService(DynamoPlanCatalog(), accounts, DynamoOrderStore(), StripePayments(), settings)


@cache
def fulfilment() -> Fulfilment:
    from renewal.adapters.dynamodb import DynamoLineStore
    from renewal.adapters.dynamodb_orders import DynamoEventLog, DynamoOrderStore
    from renewal.adapters.queue import SqsActivationQueue
    from renewal.adapters.stripe_payments import StripePayments

    return Fulfilment(DynamoOrderStore(), DynamoLineStore(), StripePayments(), SqsActivationQueue(), DynamoEventLog())


@cache
def activation() -> Activation:
    from renewal.adapters.dynamodb import DynamoLineStore
    from renewal.adapters.dynamodb_orders import DynamoOrderStore
    from renewal.adapters.mail import SesMailer

    return Activation(DynamoOrderStore(), DynamoLineStore(), SesMailer())
