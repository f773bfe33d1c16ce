"""Card PINs: stored only as salted hashes; wrong guesses are rate-limited per line and account."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

# A 4-8 digit PIN has little entropy, so the real protection is the attempt limit below;
# the hash keeps PINs out of backups and logs. The iteration count is kept in the hash.
PBKDF2_ITERATIONS = 20_000
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


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


@dataclass(frozen=True)
class FailureWindow:
    """Wrong-PIN failures counted since `started_at`."""

    failures: int
    started_at: datetime | None

    def locked_until(self, now: datetime) -> datetime | None:
        if self.started_at is None or now >= self.started_at + FAILURE_WINDOW:
            return None
        if self.failures >= MAX_FAILURES:
            return self.started_at + FAILURE_WINDOW
        return None

    def after_failure(self, now: datetime) -> FailureWindow:
        if self.started_at is None or now >= self.started_at + FAILURE_WINDOW:
            return FailureWindow(failures=1, started_at=now)
        return FailureWindow(failures=self.failures + 1, started_at=self.started_at)
