"""Builds use cases over the real adapters, once per Lambda instance (and only what is asked).
Each handler builds its own at init, where Lambda runs it before the first request. The SQS and
SES adapters make their clients as they are built; `prepare` makes the clients that PynamoDB and
Powertools' Secrets Manager provider will ask the shared session for (renewal.adapters.aws)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from renewal.adapters.aws import prepare
from renewal.settings import settings

if TYPE_CHECKING:  # each factory imports its own: a handler loads only the use cases it runs
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from renewal.adapters.carrier import HttpCarrier
    from renewal.adapters.mail import SesMailer
    from renewal.adapters.stripe_payments import StripePayments
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
    from renewal.adapters.dynamodb_stores import DynamoStores
    from renewal.usecases.customer_reads import CustomerReads

    prepare("dynamodb")
    return CustomerReads(DynamoPlanCatalog(), DynamoOrderStore(), DynamoStores(), settings().online_seller())


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
        SqsActivationQueue(settings().activation_queue_url()),
    )  # fmt: skip


@cache
def idempotency_store() -> DynamoDBPersistenceLayer:
    """Where Powertools' idempotency keeps the answers of POST /checkout and POST /store/renewals."""
    from renewal.http.once import persistence_store

    return persistence_store(settings().idempotency_table())


def _stripe() -> StripePayments:
    from renewal.adapters.stripe_payments import StripePayments, stripe_secret

    config = settings().stripe()
    return StripePayments(stripe_secret(config.secret_name), api_base=config.api_base)


def _carrier() -> HttpCarrier:
    from renewal.adapters.carrier import HttpCarrier
    from renewal.adapters.secrets import hmac_secret

    config = settings().carrier()
    return HttpCarrier(config.api_url, hmac_secret(config.secret_name), timeout_s=config.timeout_s)


def _ses() -> SesMailer:
    from renewal.adapters.mail import SesMailer

    config = settings().mail()
    return SesMailer(config.sender, config.configuration_set)


@cache
def checkout_service() -> CheckoutService:
    from renewal.adapters.dynamodb import DynamoAccountStore, DynamoLineStore, DynamoPlanCatalog
    from renewal.adapters.dynamodb_orders import DynamoOrderStore
    from renewal.usecases.accounts import AccountService
    from renewal.usecases.checkout import CheckoutService, CheckoutSettings

    values = settings().checkout()
    checkout = CheckoutSettings(
        success_url=values.success_url,
        cancel_url=values.cancel_url,
        expires_after=values.expires_after,
        methods_by_currency=CheckoutSettings.parse_methods(values.methods_by_currency),
    )
    accounts = AccountService(DynamoAccountStore(), DynamoLineStore())
    prepare("dynamodb", "secretsmanager")
    return CheckoutService(DynamoPlanCatalog(), accounts, DynamoOrderStore(), _stripe(), checkout)


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
    from renewal.domain.timeutil import utc_now
    from renewal.usecases.payments import Fulfilment

    prepare("dynamodb", "secretsmanager")
    queue = SqsActivationQueue(settings().activation_queue_url())
    return Fulfilment(
        DynamoOrderStore(), DynamoLineStore(), _stripe(), queue, DynamoEventLog(), utc_now,
        accounts=DynamoAccountStore(),
    )  # fmt: skip


@cache
def activation() -> Activation:
    from renewal.adapters.dynamodb import DynamoAccountStore, DynamoLineStore
    from renewal.adapters.dynamodb_orders import DynamoOrderStore
    from renewal.adapters.dynamodb_reversals import DynamoReversalStore
    from renewal.adapters.mail import DeliverableOnly
    from renewal.adapters.queue import SqsActivationQueue
    from renewal.usecases.activation import Activation
    from renewal.usecases.reversals import ReversalPush

    prepare("dynamodb", "secretsmanager")
    lease = settings().claim_lease()
    orders, carrier = DynamoOrderStore(mail_claim_lease=lease), _carrier()
    mailer = DeliverableOnly(_ses(), DynamoAccountStore())
    return Activation(
        orders, DynamoLineStore(), mailer, carrier, SqsActivationQueue(settings().activation_queue_url()),
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
    from renewal.usecases.reminders import ReminderRun

    prepare("dynamodb")
    return ReminderRun(
        DynamoReminderIndex(), SqsReminderQueue(settings().mail_queue_url()), settings().reminder_policy()
    )


@cache
def reminder_sender() -> ReminderSender:
    from renewal.adapters.dynamodb import DynamoAccountStore, DynamoLineStore
    from renewal.adapters.dynamodb_reminders import DynamoReminderLog
    from renewal.adapters.mail import DeliverableOnly, PacedMailer
    from renewal.usecases.reminders import ReminderSender

    prepare("dynamodb")
    config = settings()
    accounts = DynamoAccountStore()
    return ReminderSender(
        accounts,
        DynamoLineStore(),
        DynamoReminderLog(config.claim_lease()),
        # Skipped mails take no share of SES's rate.
        DeliverableOnly(PacedMailer(_ses(), config.mail_rate_per_sender()), accounts),
        config.renew_url(),  # template.yaml: RenewUrl, or the stack's own site
    )


@cache
def usage_ingest() -> UsageIngest:
    from renewal.adapters.dynamodb import DynamoLineStore, DynamoPlanCatalog
    from renewal.adapters.dynamodb_reminders import DynamoUsageLedger
    from renewal.adapters.queue import SqsReminderQueue
    from renewal.adapters.secrets import hmac_secret
    from renewal.usecases.usage import UsageIngest

    prepare("dynamodb", "secretsmanager")
    config = settings()
    return UsageIngest(
        DynamoLineStore(),
        DynamoUsageLedger(),
        DynamoPlanCatalog(),
        SqsReminderQueue(config.mail_queue_url()),
        hmac_secret(config.usage_secret_name()),
        config.reminder_policy(),
    )


@cache
def reconciliation() -> Reconciliation:
    from renewal.adapters.dynamodb import DynamoLineStore
    from renewal.adapters.dynamodb_issues import DynamoIssueLog
    from renewal.adapters.dynamodb_orders import DynamoOrderStore
    from renewal.adapters.dynamodb_reversals import DynamoReversalStore
    from renewal.adapters.queue import SqsActivationQueue
    from renewal.domain.timeutil import utc_now
    from renewal.usecases.reconciliation import Reconciliation, ReconciliationSettings

    config = settings()
    orders, lines = DynamoOrderStore(), DynamoLineStore()
    tolerances = ReconciliationSettings(stuck_after=config.stuck_after(), data_tolerance_mb=config.data_tolerance_mb())
    prepare("dynamodb", "secretsmanager")
    queue = SqsActivationQueue(config.activation_queue_url())
    return Reconciliation(
        orders, orders, lines, lines, _stripe(), fulfilment(), queue, _carrier(),
        DynamoIssueLog(), tolerances, utc_now, DynamoReversalStore(), pool=lines,
    )  # fmt: skip


@cache
def mail_events() -> MailEvents:
    from renewal.adapters.dynamodb import DynamoAccountStore
    from renewal.usecases.mail_events import MailEvents

    prepare("dynamodb")
    return MailEvents(DynamoAccountStore())
