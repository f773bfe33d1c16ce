"""DESIGN.md's reminder rules, as pure functions: which mail is due for a bundle or a line now.

Expiry reminders: thresholds 7 days and 1 day before `expires_at`. A threshold is due when
`now >= expires_at - threshold` and the bundle's current validity began before that moment (so
a daily plan bought a minute ago gets no "1 day left" mail). When several are due at once only
the nearest is sent. From `expires_at` on the bundle is over; a line with no live bundle left
gets one "expired" mail. Low data: 75 %, 90 % and 100 % of the data since the last top-up used,
once each. Each mail is identified by a key, so sending can be made exactly-once by recording
the key with a conditional write."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from renewal.domain.timeutil import to_iso

EXPIRY_THRESHOLDS: tuple[tuple[str, timedelta], ...] = (
    ("expires_in_1d", timedelta(days=1)),
    ("expires_in_7d", timedelta(days=7)),
)
LOW_DATA_THRESHOLDS: tuple[tuple[str, int], ...] = (("data_used_100", 100), ("data_used_90", 90), ("data_used_75", 75))


@dataclass(frozen=True)
class ReminderKey:
    """One mail: for this line, this bundle's region, this expiry (or top-up), this kind."""

    iccid: str
    region: str
    anchor: str  # the bundle's expires_at, or its last top-up for low-data mails, ISO 8601
    kind: str

    @property
    def id(self) -> str:
        return f"{self.iccid}#{self.region}#{self.anchor}#{self.kind}"


def due_expiry_reminder(
    iccid: str, region: str, expires_at: datetime, validity_began_at: datetime, now: datetime
) -> ReminderKey | None:
    """The nearest expiry threshold that is due for a live bundle, if any."""
    if now >= expires_at:
        return None  # over: the line-level "expired" mail covers it
    for kind, before in EXPIRY_THRESHOLDS:  # nearest first
        moment = expires_at - before
        if now >= moment and validity_began_at < moment:
            return ReminderKey(iccid, region, to_iso(expires_at), kind)
    return None


def next_expiry_check(expires_at: datetime, validity_began_at: datetime) -> datetime:
    """When this bundle next needs looking at: its earliest threshold still ahead of its
    validity's start, else its expiry. The reminder index is keyed by this instant, so a run
    reads only the bundles that are due."""
    moments = [expires_at - before for _, before in EXPIRY_THRESHOLDS if expires_at - before > validity_began_at]
    return min(moments, default=expires_at)


def due_line_expired(iccid: str, expiries: Sequence[datetime], now: datetime) -> ReminderKey | None:
    """One "your plan has expired" mail when the line's last bundle is over."""
    if not expiries or any(now < e for e in expiries):
        return None
    last = max(expiries)
    return ReminderKey(iccid, "*", to_iso(last), "expired")


def due_low_data_alerts(
    iccid: str,
    region: str,
    topped_up_at: datetime,
    data_mb_at_top_up: int,
    remaining_mb: int,
    already_sent: Iterable[str],
) -> ReminderKey | None:
    """The highest low-data threshold crossed since the last top-up and not yet sent."""
    if data_mb_at_top_up <= 0:
        return None
    used_percent = (data_mb_at_top_up - remaining_mb) * 100 / data_mb_at_top_up
    sent = set(already_sent)
    for kind, percent in LOW_DATA_THRESHOLDS:  # highest first
        if used_percent >= percent:
            key = ReminderKey(iccid, region, to_iso(topped_up_at), kind)
            return None if key.kind in sent else key
    return None
