"""UTC instants at rest: ISO 8601 with a `Z`, second precision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; use an aware UTC datetime")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time without a zone: {text!r}")
    return moment.astimezone(UTC)


def claim_lease(function_timeout_seconds: float) -> timedelta:
    """A claim (on a mail about to be sent) older than twice the claiming worker's timeout belongs
    to a worker that died: Lambda has stopped it by then, so another delivery may take it over."""
    return timedelta(seconds=2 * function_timeout_seconds)


def local_time(moment: datetime | None, time_zone: str) -> str:
    """How mails, receipts and reminders show a moment: in the reader's zone, with the zone named;
    "-" when there is none."""
    if moment is None:
        return "-"
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M %Z")
