"""Limits in DynamoDB (LimitsTable): PIN guess counters and per-account request windows.

PIN guess counters: one item per card (known or not) and per caller, taken with a
conditional write before the guess is judged (issue 14). An item expires (TTL) a day after its
last guess, unless it holds a lock, which only `python -m infra.admin unlock-card` clears."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.models import Model

from renewal.adapters.dynamodb import UTCInstantAttribute, aws_region, condition_failed, configured_table
from renewal.domain.pins import (
    COUNTER_TTL,
    FAILURE_WINDOW,
    LOCK_AFTER,
    LOCK_WINDOW,
    MAX_ATTEMPTS,
    AttemptCounter,
    Refusal,
)

RACE_RETRIES = 100  # each round of a race lets at least one writer through; losers re-read


class PinAttemptModel(Model):
    class Meta:
        table_name = configured_table("LIMITS_TABLE")
        region = aws_region()

    key = UnicodeAttribute(hash_key=True)  # card#<iccid> or caller#<sub> (renewal.domain.pins)
    attempts = NumberAttribute(default=0)
    window_started_at = UTCInstantAttribute()
    day_attempts = NumberAttribute(default=0)
    day_started_at = UTCInstantAttribute()
    locked_at = UTCInstantAttribute(null=True)
    expires = NumberAttribute(null=True)  # TTL (epoch seconds); absent while locked

    def to_counter(self) -> AttemptCounter:
        return AttemptCounter(
            attempts=int(self.attempts or 0),
            window_started_at=self.window_started_at,
            day_attempts=int(self.day_attempts or 0),
            day_started_at=self.day_started_at,
            locked=self.locked_at is not None,
        )


def _expires(now: datetime) -> int:
    return int((now + COUNTER_TTL).timestamp())


class WindowCountModel(Model):
    """A fixed-window request count (e.g. `sync#<sub>#<window start>`), gone with its TTL."""

    class Meta:
        table_name = configured_table("LIMITS_TABLE")
        region = aws_region()

    key = UnicodeAttribute(hash_key=True)
    taken = NumberAttribute(default=0)
    expires = NumberAttribute(null=True)


class DynamoWindowCounter:
    def take(self, key: str, window_start: datetime, limit: int, expires: datetime) -> bool:
        window_key = f"{key}#{window_start.strftime('%Y%m%dT%H%M%SZ')}"
        try:
            WindowCountModel(key=window_key).update(
                actions=[WindowCountModel.taken.add(1), WindowCountModel.expires.set(int(expires.timestamp()))],
                condition=WindowCountModel.key.does_not_exist() | (WindowCountModel.taken < limit),
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True


class DynamoPinAttempts:
    def take(self, key: str, now: datetime, *, lockable: bool) -> Refusal | None:
        for _ in range(RACE_RETRIES):
            # The usual case, one write: both windows live and under their limits.
            live = (
                PinAttemptModel.locked_at.does_not_exist()
                & (PinAttemptModel.window_started_at > now - FAILURE_WINDOW)
                & (PinAttemptModel.attempts < MAX_ATTEMPTS)
                & (PinAttemptModel.day_started_at > now - LOCK_WINDOW)
            )
            if lockable:
                live = live & (PinAttemptModel.day_attempts < LOCK_AFTER)
            try:
                PinAttemptModel(key=key).update(
                    actions=[
                        PinAttemptModel.attempts.add(1),
                        PinAttemptModel.day_attempts.add(1),
                        PinAttemptModel.expires.set(_expires(now)),
                    ],
                    condition=live,
                )
                return None
            except UpdateError as error:
                if not condition_failed(error):
                    raise
            # No item, a window ran out, or a limit holds: decide from what is stored.
            try:
                stored: PinAttemptModel | None = PinAttemptModel.get(key, consistent_read=True)
            except PinAttemptModel.DoesNotExist:
                stored = None
            counter = stored.to_counter() if stored else AttemptCounter()
            refusal = counter.refusal(now, lockable=lockable)
            if refusal:
                return refusal
            after = counter.after_attempt(now)
            item = PinAttemptModel(
                key=key,
                attempts=after.attempts,
                window_started_at=after.window_started_at,
                day_attempts=after.day_attempts,
                day_started_at=after.day_started_at,
                expires=_expires(now),
            )
            # Only over exactly what was read: a concurrent guess makes this one read again.
            unchanged = (
                PinAttemptModel.key.does_not_exist()
                if stored is None
                else (
                    (PinAttemptModel.attempts == counter.attempts)
                    & (PinAttemptModel.day_attempts == counter.day_attempts)
                    & (PinAttemptModel.window_started_at == counter.window_started_at)
                    & (PinAttemptModel.day_started_at == counter.day_started_at)
                    & PinAttemptModel.locked_at.does_not_exist()
                )
            )
            try:
                item.save(condition=unchanged)
                return None
            except PutError as error:
                if not condition_failed(error):
                    raise
        raise RuntimeError(f"PIN attempts under {key} kept changing")

    def give_back(self, key: str) -> None:
        try:
            PinAttemptModel(key=key).update(
                actions=[PinAttemptModel.attempts.add(-1), PinAttemptModel.day_attempts.add(-1)],
                condition=(PinAttemptModel.attempts > 0) & (PinAttemptModel.day_attempts > 0),
            )
        except UpdateError as error:
            if not condition_failed(error):
                raise  # a window that restarted meanwhile has nothing of ours to give back

    def lock_if_due(self, key: str, now: datetime) -> None:
        try:
            PinAttemptModel(key=key).update(
                actions=[PinAttemptModel.locked_at.set(now), PinAttemptModel.expires.remove()],
                condition=(PinAttemptModel.day_attempts >= LOCK_AFTER)
                & (PinAttemptModel.day_started_at > now - LOCK_WINDOW)
                & PinAttemptModel.locked_at.does_not_exist(),
            )
        except UpdateError as error:
            if not condition_failed(error):
                raise

    def clear(self, key: str) -> None:
        try:
            PinAttemptModel(key=key).delete()
        except DeleteError as error:
            if not condition_failed(error):
                raise

    def counter(self, key: str) -> AttemptCounter | None:
        """What is stored under `key` (for the operator's unlock and for tests)."""
        try:
            return PinAttemptModel.get(key, consistent_read=True).to_counter()
        except PinAttemptModel.DoesNotExist:
            return None
