"""Bounces and complaints from SES: the address is marked on its accounts, so no more mail goes
there (renewal.adapters.mail.DeliverableOnly) and the site tells the customer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from renewal.domain.mail_events import undeliverable
from renewal.domain.timeutil import utc_now
from renewal.ports import MailReputation


class MailEvents:
    def __init__(self, reputation: MailReputation, clock: Callable[[], datetime] = utc_now) -> None:
        self._reputation = reputation
        self._clock = clock

    def record(self, message: dict[str, Any]) -> dict[str, int]:
        """Raises NotAnSesEvent for a message it cannot read (the record fails, and after the
        queue's receives it is dead-lettered for a person to look at)."""
        report = {"addresses": 0, "accounts_marked": 0}
        for found in undeliverable(message):
            report["addresses"] += 1
            report["accounts_marked"] += self._reputation.mark_undeliverable(
                found.address, found.status, found.detail, self._clock()
            )
        return report
