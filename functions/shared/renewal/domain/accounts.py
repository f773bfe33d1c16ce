"""Accounts: a Cognito user and the one line it holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from renewal.domain.lines import Bundle, line_balance
from renewal.domain.timeutil import to_iso

SUPPORTED_LOCALES = ("en", "zh-CN")
DEFAULT_LOCALE = "en"
DEFAULT_TIME_ZONE = "UTC"


def normalise_locale(value: str | None) -> str:
    """Maps what Cognito or a browser says (`zh`, `zh_CN`, `en-GB`) onto a locale we write in."""
    if not value:
        return DEFAULT_LOCALE
    lowered = value.replace("_", "-").lower()
    if lowered.startswith("zh"):
        return "zh-CN"
    return DEFAULT_LOCALE


def normalise_time_zone(value: str | None) -> str:
    if not value:
        return DEFAULT_TIME_ZONE
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return DEFAULT_TIME_ZONE
    return value


@dataclass(frozen=True)
class Account:
    account_id: str
    email: str
    locale: str
    time_zone: str
    iccid: str | None
    created_at: datetime
    expiry_reminders: bool = True
    low_data_reminders: bool = True
    # "ok", or "bounced" / "complained" once SES told us mail to `email` cannot be delivered
    # (renewal.domain.mail_events): no more mail goes there, and the site says so.
    email_status: str = "ok"

    def preferences(self) -> dict[str, Any]:
        return {
            "locale": self.locale,
            "time_zone": self.time_zone,
            "reminders": {"expiry": self.expiry_reminders, "low_data": self.low_data_reminders},
        }


def valid_time_zone(value: str) -> bool:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def account_view(account: Account, bundles: Sequence[Bundle], now: datetime) -> dict[str, Any]:
    """The account shape of the API (docs/api.md, GET /openapi.json)."""
    balance = line_balance(bundles, now)
    return {
        "account_id": account.account_id,
        "email": account.email,
        "locale": account.locale,
        "time_zone": account.time_zone,
        "iccid": account.iccid,
        "status": balance.status,
        "remaining_data_mb": balance.remaining_data_mb,
        "expires_at": to_iso(balance.expires_at) if balance.expires_at else None,
        "bundles": [b.view() for b in balance.bundles],
        "email_status": account.email_status,
    }
