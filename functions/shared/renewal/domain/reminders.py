"""The reminder rules (docs/domain.md), as pure functions: which mails are due for a line now, when the
line next needs looking at, and which low-data alert a use of data raises.

Expiry reminders: thresholds (7 days and 1 day by default) before a bundle's `expires_at`. A
threshold is due when `now >= expires_at - threshold` and the bundle's current validity began
before that moment (so a daily plan bought a minute ago gets no "1 day left" mail). When several
are due at once only the nearest is sent. From `expires_at` on the bundle is over; a line with
no live bundle left gets one "expired" mail. Low data: 75 %, 90 % and 100 % of the data since the
last top-up used, once each (when a use crosses several, only the highest is sent).

Each mail has a key (line, region, expiry or top-up, kind): a renewal moves the expiry and so
earns new reminders, and recording the key with a conditional write makes sending exactly-once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from renewal.domain.lines import Bundle
from renewal.domain.timeutil import from_iso, to_iso

EXPIRED = "expired"
ALL_REGIONS = "*"


@dataclass(frozen=True)
class ReminderPolicy:
    """Which reminders exist: expiry thresholds (nearest first) and low-data shares (highest first)."""

    expiry_before: tuple[timedelta, ...] = (timedelta(days=1), timedelta(days=7))
    low_data_percents: tuple[int, ...] = (100, 90, 75)

    def __post_init__(self) -> None:
        object.__setattr__(self, "expiry_before", tuple(sorted(set(self.expiry_before))))
        object.__setattr__(self, "low_data_percents", tuple(sorted(set(self.low_data_percents), reverse=True)))
        if any(t <= timedelta(0) for t in self.expiry_before):
            raise ValueError("expiry reminder thresholds must be positive")
        if any(not 0 < p <= 100 for p in self.low_data_percents):
            raise ValueError("low-data alert shares must be between 1 and 100")

    @classmethod
    def parse(cls, expiry_days: str | None, low_data_percents: str | None) -> ReminderPolicy:
        """From the template's parameters, e.g. "7,1" and "75,90,100"; empty or None keeps the default."""
        default = cls()
        days = [d.strip() for d in (expiry_days or "").split(",") if d.strip()]
        percents = [p.strip() for p in (low_data_percents or "").split(",") if p.strip()]
        return cls(
            expiry_before=tuple(timedelta(days=float(d)) for d in days) or default.expiry_before,
            low_data_percents=tuple(int(p) for p in percents) or default.low_data_percents,
        )


def expiry_kind(before: timedelta) -> str:
    days = before / timedelta(days=1)
    return f"expires_in_{int(days)}d" if days == int(days) else f"expires_in_{int(before.total_seconds() // 3600)}h"


def low_data_kind(percent: int) -> str:
    return f"data_used_{percent}"


def is_low_data_kind(kind: str) -> bool:
    return kind.startswith("data_used_")


@dataclass(frozen=True)
class ReminderKey:
    """One mail: for this line, this bundle's region (`*` for the whole line), this expiry (or
    top-up, for low-data alerts), this kind."""

    iccid: str
    region: str
    anchor: str  # ISO 8601: the bundle's expires_at, the line's last expiry, or the bundle's top-up
    kind: str

    @property
    def id(self) -> str:
        return f"{self.iccid}#{self.region}#{self.anchor}#{self.kind}"

    def still_applies(self, bundles: Sequence[Bundle]) -> bool:
        """False once the line moved on (renewed, topped up): a queued mail about the old expiry
        or top-up is then stale and is not sent."""
        if self.kind == EXPIRED:
            return bool(bundles) and to_iso(max(b.expires_at for b in bundles)) == self.anchor
        bundle = next((b for b in bundles if b.region == self.region), None)
        if bundle is None:
            return False
        if is_low_data_kind(self.kind):
            return to_iso(bundle.validity_began_at) == self.anchor
        return to_iso(bundle.expires_at) == self.anchor


@dataclass(frozen=True)
class ReminderMessage:
    """What the reminder run queues for the sender: the key, whose account, and the run's time."""

    key: ReminderKey
    account_id: str
    as_of: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "reminder_id": self.key.id,
            "iccid": self.key.iccid,
            "region": self.key.region,
            "anchor": self.key.anchor,
            "kind": self.key.kind,
            "account_id": self.account_id,
            "as_of": to_iso(self.as_of),
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> ReminderMessage:
        key = ReminderKey(str(body["iccid"]), str(body["region"]), str(body["anchor"]), str(body["kind"]))
        return cls(key=key, account_id=str(body["account_id"]), as_of=from_iso(str(body["as_of"])))


def _threshold_moments(bundle: Bundle, policy: ReminderPolicy) -> Iterable[tuple[datetime, timedelta]]:
    """Each threshold's moment that falls inside the bundle's current validity, nearest first."""
    for before in policy.expiry_before:
        moment = bundle.expires_at - before
        if moment > bundle.validity_began_at:
            yield moment, before


def due_reminders(iccid: str, bundles: Sequence[Bundle], now: datetime, policy: ReminderPolicy) -> list[ReminderKey]:
    """The mails due for a line now: for each live bundle the nearest due threshold; for a line
    whose bundles are all over, the one "expired" mail."""
    due: list[ReminderKey] = []
    for bundle in bundles:
        if not bundle.is_live(now):
            continue
        for moment, before in _threshold_moments(bundle, policy):
            if now >= moment:
                due.append(ReminderKey(iccid, bundle.region, to_iso(bundle.expires_at), expiry_kind(before)))
                break
    if bundles and not any(b.is_live(now) for b in bundles):
        due.append(ReminderKey(iccid, ALL_REGIONS, to_iso(max(b.expires_at for b in bundles)), EXPIRED))
    return due


def next_check(bundles: Sequence[Bundle], after: datetime, policy: ReminderPolicy) -> datetime | None:
    """The first moment after `after` at which a reminder of this line falls due (a threshold of
    a bundle, or the line's last expiry), or None when nothing is ahead."""
    moments = [m for b in bundles for m, _ in _threshold_moments(b, policy) if m > after]
    if bundles:
        moments.append(max(b.expires_at for b in bundles))
    return min((m for m in moments if m > after), default=None)


def recheck_after_write(
    bundles: Sequence[Bundle], previous: datetime | None, now: datetime, policy: ReminderPolicy
) -> datetime | None:
    """The line's index key after its bundles changed at `now`: the next moment ahead, but never
    later than a check still pending from before (a due reminder of another bundle must not be
    skipped because this one was renewed)."""
    ahead = next_check(bundles, now, policy)
    candidates = [m for m in (previous, ahead) if m is not None]
    return min(candidates, default=None)


def low_data_alert(iccid: str, bundle: Bundle, policy: ReminderPolicy) -> tuple[Bundle, ReminderKey | None]:
    """After data was drawn from `bundle`: the highest alert share now reached and not yet raised
    since the top-up, as a key, and the bundle with that share recorded as raised."""
    used = bundle.used_percent
    for percent in policy.low_data_percents:  # highest first
        if used >= percent:
            if percent <= bundle.alerted_percent:
                return bundle, None
            key = ReminderKey(iccid, bundle.region, to_iso(bundle.validity_began_at), low_data_kind(percent))
            return replace(bundle, alerted_percent=percent), key
    return bundle, None
