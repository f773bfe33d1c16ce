"""Settings: what each function reads from its environment (template.yaml sets it), read once,
typed, and handed by the composition root (renewal.wiring) to what needs it. The one module that
reads the environment (besides the DynamoDB base's table names, until the models are configured
from here too). A variable a function needs and lacks fails its init, naming the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from renewal.domain.receipts import Seller
from renewal.domain.reminders import ReminderPolicy
from renewal.domain.timeutil import claim_lease as lease_for


class MissingSetting(RuntimeError):
    """A variable this function needs is not set: a deployment mistake, raised at init."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not set: template.yaml gives it to the functions that need it")
        self.name = name


@dataclass(frozen=True)
class CarrierSettings:
    api_url: str
    secret_name: str
    timeout_s: float


@dataclass(frozen=True)
class MailSettings:
    sender: str
    configuration_set: str | None  # routes SES's bounces and complaints back to us


@dataclass(frozen=True)
class StripeSettings:
    secret_name: str
    api_base: str | None  # only the local stack points the SDK elsewhere


@dataclass(frozen=True)
class CheckoutValues:
    success_url: str
    cancel_url: str
    expires_after: timedelta
    methods_by_currency: str  # `CNY=alipay,wechat_pay;HKD=alipay` (CheckoutSettings.parse_methods)


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment; each section below is typed and checked when built."""

    env: Mapping[str, str]

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(dict(os.environ))

    def require(self, name: str) -> str:
        value = self.env.get(name)
        if not value:
            raise MissingSetting(name)
        return value

    def optional(self, name: str, default: str) -> str:
        return self.env.get(name) or default

    def number(self, name: str, default: float) -> float:
        text = self.optional(name, str(default))
        try:
            return float(text)
        except ValueError as error:
            raise MissingSetting(f"{name} (a number, not {text!r})") from error

    def carrier(self) -> CarrierSettings:
        return CarrierSettings(
            self.require("CARRIER_API_URL"),
            self.require("CARRIER_SECRET_NAME"),
            self.number("CARRIER_TIMEOUT_SECONDS", 5),
        )

    def mail(self) -> MailSettings:
        return MailSettings(self.require("MAIL_FROM"), self.env.get("MAIL_CONFIGURATION_SET") or None)

    def stripe(self) -> StripeSettings:
        return StripeSettings(self.require("STRIPE_SECRET_NAME"), self.env.get("STRIPE_API_BASE") or None)

    def checkout(self) -> CheckoutValues:
        return CheckoutValues(
            self.require("CHECKOUT_SUCCESS_URL"),
            self.require("CHECKOUT_CANCEL_URL"),
            timedelta(minutes=self.number("CHECKOUT_EXPIRES_MINUTES", 30)),
            self.optional("PAYMENT_METHODS_BY_CURRENCY", ""),
        )

    def activation_queue_url(self) -> str:
        return self.require("ACTIVATION_QUEUE_URL")

    def mail_queue_url(self) -> str:
        return self.require("MAIL_QUEUE_URL")

    def idempotency_table(self) -> str:
        return self.require("IDEMPOTENCY_TABLE")

    def usage_secret_name(self) -> str:
        return self.require("USAGE_HMAC_SECRET_NAME")

    def renew_url(self) -> str:
        return self.require("RENEW_URL")

    def mail_rate_per_sender(self) -> float:
        """Each of the event source's concurrent senders takes its share of the account's SES rate."""
        return self.number("MAIL_SEND_RATE_PER_SECOND", 10) / self.number("MAIL_SENDERS", 1)

    def stuck_after(self) -> timedelta:
        return timedelta(minutes=self.number("STUCK_ACTIVATION_MINUTES", 10))

    def data_tolerance_mb(self) -> int:
        return int(self.number("RECONCILE_DATA_TOLERANCE_MB", 50))

    def reminder_policy(self) -> ReminderPolicy:
        """Reminder thresholds: ExpiryReminderDays and LowDataAlertPercents in template.yaml."""
        return ReminderPolicy.parse(self.env.get("EXPIRY_REMINDER_DAYS"), self.env.get("LOW_DATA_ALERT_PERCENTS"))

    def online_seller(self) -> Seller:
        """Who sells online, as receipts name them (template.yaml's SellerName, SellerAddress and
        SellerTaxId)."""
        return Seller(
            name=self.optional("SELLER_NAME", "My eSIM Ltd"),
            address=self.optional("SELLER_ADDRESS", ""),
            tax_id=self.optional("SELLER_TAX_ID", ""),
        )

    def claim_lease(self) -> timedelta:
        """How long this worker's mail claims hold: derived from its own timeout, which template.yaml
        passes as FUNCTION_TIMEOUT_SECONDS from the same Mappings.Sizing entry as its Timeout."""
        return lease_for(float(self.require("FUNCTION_TIMEOUT_SECONDS")))


@cache
def settings() -> Settings:
    """This function's settings, read once per instance (at init, by renewal.wiring)."""
    return Settings.from_environment()


@cache
def reminder_policy() -> ReminderPolicy:
    """The thresholds every write of a line's bundles re-keys the reminder index by."""
    return Settings.from_environment().reminder_policy()


def claim_lease() -> timedelta:
    return Settings.from_environment().claim_lease()
