"""Settings every function reads from its environment (template.yaml sets them), in one place."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache

from renewal.domain.receipts import Seller
from renewal.domain.reminders import ReminderPolicy
from renewal.domain.timeutil import claim_lease as lease_for


@cache
def reminder_policy() -> ReminderPolicy:
    """Reminder thresholds: ExpiryReminderDays and LowDataAlertPercents in template.yaml."""
    return ReminderPolicy.parse(os.environ.get("EXPIRY_REMINDER_DAYS"), os.environ.get("LOW_DATA_ALERT_PERCENTS"))


def claim_lease() -> timedelta:
    """How long this worker's mail claims hold: derived from its own timeout, which template.yaml
    passes as FUNCTION_TIMEOUT_SECONDS from the same Mappings.Sizing entry as the function's Timeout."""
    return lease_for(float(os.environ["FUNCTION_TIMEOUT_SECONDS"]))


@cache
def online_seller() -> Seller:
    """Who sells online, as receipts name them: SELLER_NAME, SELLER_ADDRESS and SELLER_TAX_ID
    (template.yaml's SellerName, SellerAddress and SellerTaxId)."""
    return Seller(
        name=os.environ.get("SELLER_NAME") or "My eSIM Ltd",
        address=os.environ.get("SELLER_ADDRESS") or "",
        tax_id=os.environ.get("SELLER_TAX_ID") or "",
    )
