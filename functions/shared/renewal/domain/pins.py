"""Card PINs: stored only as salted hashes; guesses are counted, and limited, before they are judged."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

# A PIN has little entropy, so the real protection is the attempt limits below; the hash keeps
# PINs out of backups and logs. The iteration count is kept in the hash.
PBKDF2_ITERATIONS = 20_000
MAX_ATTEMPTS = 5  # judged guesses per card, and per caller, in FAILURE_WINDOW
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_AFTER = 10  # judged guesses of one card in LOCK_WINDOW lock it until a person clears it
LOCK_WINDOW = timedelta(hours=24)
# A counter lives this long after its last attempt (DynamoDB TTL), unless it holds a lock.
COUNTER_TTL = timedelta(hours=24)
# Judged when the ICCID is unknown, so an unknown card costs the same time as a wrong PIN.
# hash_pin("00000000", salt="5f" * 16): no card has this salt, and no guess is compared with a PIN.
DUMMY_PIN_HASH = "$".join(
    ("pbkdf2_sha256", "20000", "5f" * 16, "615ad918c9bee625f518a02f890b16089772772608e9ee92a2eea25fb61d0fac")
)


def hash_pin(pin: str, *, salt: str | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), iterations).hex()
    return f"pbkdf2_sha256${iterations}${salt}${digest}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256" or not isinstance(pin, str):
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations)).hex()
    return hmac.compare_digest(candidate, digest)


def card_key(iccid: str) -> str:
    """The counter of guesses at one card, known or not (unknown ones look the same)."""
    return f"card#{iccid}"


def caller_key(subject: str) -> str:
    """The counter of one caller's guesses (the token's `sub`, whether or not an account exists)."""
    return f"caller#{subject}"


@dataclass(frozen=True)
class Refusal:
    """Why a guess is not judged: a lock a person must clear, or a wait of `retry_after` seconds."""

    locked: bool = False
    retry_after: int = 0


@dataclass(frozen=True)
class AttemptCounter:
    """Guesses taken under one key: `attempts` since `window_started_at` (15 minutes) and
    `day_attempts` since `day_started_at` (24 hours); `locked` once a person must clear it."""

    attempts: int = 0
    window_started_at: datetime | None = None
    day_attempts: int = 0
    day_started_at: datetime | None = None
    locked: bool = False

    def _window_live(self, now: datetime) -> bool:
        return self.window_started_at is not None and now < self.window_started_at + FAILURE_WINDOW

    def _day_live(self, now: datetime) -> bool:
        return self.day_started_at is not None and now < self.day_started_at + LOCK_WINDOW

    def refusal(self, now: datetime, *, lockable: bool) -> Refusal | None:
        """None when one more guess may be judged now."""
        if self.locked or (lockable and self._day_live(now) and self.day_attempts >= LOCK_AFTER):
            return Refusal(locked=True)
        if self._window_live(now) and self.attempts >= MAX_ATTEMPTS:
            assert self.window_started_at is not None
            wait = (self.window_started_at + FAILURE_WINDOW - now).total_seconds()
            return Refusal(retry_after=max(1, math.ceil(wait)))
        return None

    def after_attempt(self, now: datetime) -> AttemptCounter:
        """One more guess taken at `now`; a window that has run out starts again."""
        counter = self
        if not self._window_live(now):
            counter = replace(counter, attempts=0, window_started_at=now)
        if not self._day_live(now):
            counter = replace(counter, day_attempts=0, day_started_at=now)
        return replace(counter, attempts=counter.attempts + 1, day_attempts=counter.day_attempts + 1)
