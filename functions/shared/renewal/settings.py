"""Settings every function reads from its environment (template.yaml sets them), in one place."""

from __future__ import annotations

import os
from functools import cache

from renewal.domain.reminders import ReminderPolicy


@cache
def reminder_policy() -> ReminderPolicy:
    """Reminder thresholds: ExpiryReminderDays and LowDataAlertPercents in template.yaml."""
    return ReminderPolicy.parse(os.environ.get("EXPIRY_REMINDER_DAYS"), os.environ.get("LOW_DATA_ALERT_PERCENTS"))
