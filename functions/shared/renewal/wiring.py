"""Builds use cases over the real adapters, once per Lambda instance (and only what is asked).
Each handler builds its own at init, where Lambda runs it before the first request. The SQS and
SES adapters make their clients as they are built; `prepare` makes the clients that PynamoDB and
Powertools' Secrets Manager provider will ask the shared session for (renewal.adapters.aws)."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from renewal.adapters.aws import prepare

if TYPE_CHECKING:  # each factory imports its own: a handler loads only the use cases it runs
    from renewal.usecases.accounts import AccountService
    from renewal.usecases.activation import Activation
    from renewal.usecases.checkout import CheckoutService, SyncLimit
    from renewal.usecases.customer_reads import CustomerReads
    from renewal.usecases.mail_events import MailEvents
    from renewal.usecases.payments import Fulfilment
    from renewal.usecases.reconciliation import Reconciliation
    from renewal.usecases.reminders import ReminderRun, ReminderSender
    from renewal.usecases.reversals import ReversalPush
    from renewal.usecases.store_sales import StoreSales
    from renewal.usecases.usage import UsageIngest


@cache
def account_service() -> AccountService:
    """GET/PATCH /account..., POST /account/line (customer_api)."""
    from renewal.adapters.dynamodb import DynamoAccountStore, DynamoLineStore
    from renewal.adapters.dynamodb_pins import DynamoPinAttempts
    from renewal.usecases.accounts import AccountService

    prepare("dynamodb")
    return AccountService(DynamoAccountStore(), DynamoLineStore(), attempts=DynamoPinAttempts())


@cache
def customer_reads() -> CustomerReads:
    """Plans, the caller's orders and receipts (customer_api)."""
    from renewal.adapters.dynamodb import DynamoPlanCatalog
    from renewal.adapters.dynamodb_orders import DynamoOrderStore
    from renewal.usecases.customer_reads import CustomerReads

    prepare("dynamodb")
    return CustomerReads(DynamoPlanCatalog(), DynamoOrderStore())


@cache
def store_sales() -> StoreSales:
    """Counter sales, receipts, voids and the daily report (store_api)."""
    from renewal.adapters.dynamodb import DynamoAccountStore, DynamoLineStore, DynamoPlanCatalog
    from renewal.adapters.dynamodb_orders import DynamoOrderStore
    from renewal.adapters.dynamodb_stores import DynamoStores
    from renewal.adapters.queue import SqsActivationQueue
    from renewal.usecases.store_sales import StoreSales

    prepare("dynamodb")
    return StoreSales(
        DynamoStores(), DynamoPlanCatalog(), DynamoLineStore(), DynamoAccountStore(), DynamoOrderStore(),
        SqsActivationQueue(),
    )  # fmt: skip


@cache
def checkout_service() -> CheckoutService:
    from renewal.adapters.dynamodb import DynamoAccountStore, DynamoLineStore, DynamoPlanCatalog
    from renewal.adapters.dynamodb_orders import DynamoOrderStore
    from renewal.adapters.stripe_payments import StripePayments
    from renewal.usecases.accounts import AccountService
    from renewal.usecases.checkout import CheckoutService, CheckoutSettings

    settings = CheckoutSettings(
        success_url=os.environ["CHECKOUT_SUCCESS_URL"],
        cancel_url=os.environ["CHECKOUT_CANCEL_URL"],
        expires_after=timedelta(minutes=int(os.environ.get("CHECKOUT_EXPIRES_MINUTES", "30"))),
        methods_by_currency=CheckoutSettings.parse_methods(os.environ.get("PAYMENT_METHODS_BY_CURRENCY", "")),
    )
    accounts = AccountService(DynamoAccountStore(), DynamoLineStore())
    prepare("dynamodb", "secretsmanager")
    return CheckoutService(DynamoPlanCatalog(), accounts, DynamoOrderStore(), StripePayments(), settings)


@cache
def sync_limit() -> SyncLimit:
    from renewal.adapters.dynamodb_pins import DynamoWindowCounter
    from renewal.usecases.checkout import SyncLimit

    return SyncLimit(DynamoWindowCounter())


@cache
def fulfilment() -> Fulfilment:
    from renewal.adapters.dynamodb import DynamoAccountStore, DynamoLineStore
    from renewal.adapters.dynamodb_orders import DynamoEventLog, DynamoOrderStore
    from renewal.adapters.queue import SqsActivationQueue
    from renewal.adapters.stripe_payments import StripePayments
    from renewal.domain.timeutil import utc_now
    from renewal.usecases.payments import Fulfilment

    prepare("dynamodb", "secretsmanager")
    return Fulfilment(
        DynamoOrderStore(), DynamoLineStore(), StripePayments(), SqsActivationQueue(), DynamoEventLog(), utc_now,
        accounts=DynamoAccountStore(),
    )  # fmt: skip


@cache
def activation() -> Activation:
    from renewal.adapters.carrier import HttpCarrier
    from renewal.adapters.dynamodb import DynamoAccountStore, DynamoLineStore
    from renewal.adapters.dynamodb_orders import DynamoOrderStore
    from renewal.adapters.dynamodb_reversals import DynamoReversalStore
    from renewal.adapters.mail import DeliverableOnly, SesMailer
    from renewal.adapters.queue import SqsActivationQueue
    from renewal.settings import claim_lease
    from renewal.usecases.activation import Activation
    from renewal.usecases.reversals import ReversalPush

    prepare("dynamodb", "secretsmanager")
    lease = claim_lease()
    orders, carrier = DynamoOrderStore(mail_claim_lease=lease), HttpCarrier()
    mailer = DeliverableOnly(SesMailer(), DynamoAccountStore())
    return Activation(
        orders, DynamoLineStore(), mailer, carrier, SqsActivationQueue(),
        reversals=ReversalPush(DynamoReversalStore(mail_claim_lease=lease), orders, carrier, mailer),
    )  # fmt: skip


@cache
def reversal_push() -> ReversalPush:
    """The activation's own (one carrier client and mailer per instance)."""
    pusher = activation().reversals
    assert pusher is not None
    return pusher


@cache
def reminder_run() -> ReminderRun:
    from renewal.adapters.dynamodb_reminders import DynamoReminderIndex
    from renewal.adapters.queue import SqsReminderQueue
    from renewal.settings import reminder_policy
    from renewal.usecases.reminders import ReminderRun

    prepare("dynamodb")
    return ReminderRun(DynamoReminderIndex(), SqsReminderQueue(), reminder_policy())


@cache
def reminder_sender() -> ReminderSender:
    from renewal.adapters.dynamodb import DynamoAccountStore, DynamoLineStore
    from renewal.adapters.dynamodb_reminders import DynamoReminderLog
    from renewal.adapters.mail import DeliverableOnly, PacedMailer, SesMailer
    from renewal.settings import claim_lease
    from renewal.usecases.reminders import ReminderSender

    prepare("dynamodb")
    # Each of the event source's concurrent senders takes its share of the account's SES rate.
    per_sender = float(os.environ.get("MAIL_SEND_RATE_PER_SECOND", "10")) / int(os.environ.get("MAIL_SENDERS", "1"))
    accounts = DynamoAccountStore()
    return ReminderSender(
        accounts,
        DynamoLineStore(),
        DynamoReminderLog(claim_lease()),
        # Skipped mails take no share of SES's rate.
        DeliverableOnly(PacedMailer(SesMailer(), per_sender), accounts),
        os.environ["RENEW_URL"],  # template.yaml: RenewUrl, or the stack's own site
    )


@cache
def usage_ingest() -> UsageIngest:
    from renewal.adapters.dynamodb import DynamoLineStore, DynamoPlanCatalog
    from renewal.adapters.dynamodb_reminders import DynamoUsageLedger
    from renewal.adapters.queue import SqsReminderQueue
    from renewal.adapters.secrets import usage_hmac_secret
    from renewal.settings import reminder_policy
    from renewal.usecases.usage import UsageIngest

    prepare("dynamodb", "secretsmanager")
    return UsageIngest(
        DynamoLineStore(),
        DynamoUsageLedger(),
        DynamoPlanCatalog(),
        SqsReminderQueue(),
        usage_hmac_secret,
        reminder_policy(),
    )


@cache
def reconciliation() -> Reconciliation:
    from renewal.adapters.carrier import HttpCarrier
    from renewal.adapters.dynamodb import DynamoLineStore
    from renewal.adapters.dynamodb_issues import DynamoIssueLog
    from renewal.adapters.dynamodb_orders import DynamoOrderStore
    from renewal.adapters.dynamodb_reversals import DynamoReversalStore
    from renewal.adapters.queue import SqsActivationQueue
    from renewal.adapters.stripe_payments import StripePayments
    from renewal.domain.timeutil import utc_now
    from renewal.usecases.reconciliation import Reconciliation, ReconciliationSettings

    orders, lines = DynamoOrderStore(), DynamoLineStore()
    settings = ReconciliationSettings(
        stuck_after=timedelta(minutes=float(os.environ.get("STUCK_ACTIVATION_MINUTES", "10"))),
        data_tolerance_mb=int(os.environ.get("RECONCILE_DATA_TOLERANCE_MB", "50")),
    )
    prepare("dynamodb", "secretsmanager")
    return Reconciliation(
        orders, orders, lines, lines, StripePayments(), fulfilment(), SqsActivationQueue(), HttpCarrier(),
        DynamoIssueLog(), settings, utc_now, DynamoReversalStore(), pool=lines,
    )  # fmt: skip


@cache
def mail_events() -> MailEvents:
    from renewal.adapters.dynamodb import DynamoAccountStore
    from renewal.usecases.mail_events import MailEvents

    prepare("dynamodb")
    return MailEvents(DynamoAccountStore())
