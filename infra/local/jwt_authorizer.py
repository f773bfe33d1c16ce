"""What API Gateway's JWT authorizer does, locally: take the token from the identity source,
verify its RS256 signature against the issuer's JWKS, then issuer, audience (`aud` or, for
access tokens, `client_id`), expiry and not-before. Anything else is 401.

The only local difference: the JWKS is fetched from the moto server (which serves it at
`/{pool_id}/.well-known/jwks.json`) instead of from the issuer's public URL."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import PyJWK


class Unauthorized(Exception):
    pass


@dataclass(frozen=True)
class JwtConfig:
    issuer: str
    audience: tuple[str, ...]
    jwks_url: str
    identity_source: str = "$request.header.Authorization"


class JwksCache:
    def __init__(self, ttl_s: float = 300.0) -> None:
        self._ttl = ttl_s
        self._keys: dict[str, tuple[float, dict[str, PyJWK]]] = {}
        self._lock = threading.Lock()

    def key(self, url: str, kid: str) -> PyJWK:
        with self._lock:
            cached = self._keys.get(url)
            if cached is None or time.monotonic() - cached[0] > self._ttl or kid not in cached[1]:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (local moto URL)
                    document = json.load(response)
                keys = {k["kid"]: PyJWK(k) for k in document.get("keys", []) if "kid" in k}
                cached = (time.monotonic(), keys)
                self._keys[url] = cached
        if kid not in cached[1]:
            raise Unauthorized("unknown signing key")
        return cached[1][kid]


def bearer_token(headers: dict[str, str], identity_source: str) -> str:
    header = identity_source.rsplit(".", 1)[-1].lower()
    value = headers.get(header, "").strip()
    if not value:
        raise Unauthorized("missing token")
    if value.lower().startswith("bearer "):
        value = value[7:].strip()
    return value


def verify(token: str, config: JwtConfig, jwks: JwksCache, leeway_s: int = 0) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise Unauthorized(f"malformed token: {error}") from error
    if header.get("alg") != "RS256":  # API Gateway accepts only RS256; this also refuses alg=none
        raise Unauthorized(f"unsupported alg {header.get('alg')!r}")
    key = jwks.key(config.jwks_url, str(header.get("kid", "")))
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key.key,
            algorithms=["RS256"],
            issuer=config.issuer,
            options={"verify_aud": False, "require": ["exp", "iss"]},
            leeway=leeway_s,
        )
    except jwt.PyJWTError as error:
        raise Unauthorized(str(error)) from error
    audiences = claims.get("aud") or claims.get("client_id")
    presented = set(audiences if isinstance(audiences, list) else [audiences])
    if not presented & set(config.audience):
        raise Unauthorized("audience not allowed")
    return claims


def claims_as_api_gateway_passes_them(claims: dict[str, Any]) -> dict[str, str]:
    """HTTP APIs hand claims to the integration as strings; arrays become `[a b]`."""
    shaped: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, list):
            shaped[name] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, bool):
            shaped[name] = "true" if value else "false"
        else:
            shaped[name] = str(value)
    return shaped
