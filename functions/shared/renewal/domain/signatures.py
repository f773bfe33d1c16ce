"""HMAC signatures in Stripe's scheme, for our own partners' requests: `t=<unix>,v1=<hex>`.

The carrier's usage posts to us sign the body: hex = HMAC-SHA256(secret, "<t>.<body>"). Our
requests to the carrier sign the whole request (`request_payload`): method, path, idempotency
key and body, so a captured signature cannot be replayed on another line, order or method."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from renewal.domain.errors import Unauthorized

TOLERANCE_S = 300


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def request_payload(method: str, path: str, idempotency_key: str | None, body: bytes) -> bytes:
    """What a carrier request's signature covers: `<METHOD>\n<path>\n<idempotency key or empty>\n<body>`
    (the path with its query string, as sent)."""
    return f"{method.upper()}\n{path}\n{idempotency_key or ''}\n".encode() + body


def verify_signature(
    payload: bytes,
    header: str | None,
    secret: str,
    now: datetime,
    tolerance_s: int = TOLERANCE_S,
    name: str = "signature",
) -> None:
    """Raises Unauthorized unless one `v1` of `header` signs `payload` with `secret` and its
    timestamp is within `tolerance_s` of `now` (a replayed old request is refused). Several
    `v1` values are accepted, so a secret can be rotated."""
    if not header:
        raise Unauthorized(f"missing {name} header", code="bad_signature")
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    stamps = [value for key, value in parts if key.strip() == "t"]
    signatures = [value.strip() for key, value in parts if key.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit() or not signatures:
        raise Unauthorized(f"{name} must be t=<unix>,v1=<hex>", code="bad_signature")
    timestamp = int(stamps[0])
    if abs(now.timestamp() - timestamp) > tolerance_s:
        raise Unauthorized(f"{name} timestamp is outside the tolerance", code="bad_signature")
    expected = signature_header(payload, secret, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise Unauthorized(f"{name} does not match the body", code="bad_signature")
