"""Errors the domain and use cases raise; the HTTP layer turns each into `{"error": {...}}`."""

from __future__ import annotations


class DomainError(Exception):
    """A failure a client can act on. `status` is the HTTP status it maps to."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.retry_after = retry_after


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


class Locked(DomainError):
    status = 423
    code = "locked"


class Unavailable(DomainError):
    status = 503
    code = "unavailable"


class PaymentProviderUnavailable(DomainError):
    """The payment provider failed or could not be reached: the caller may retry."""

    status = 502
    code = "payment_provider_unavailable"
