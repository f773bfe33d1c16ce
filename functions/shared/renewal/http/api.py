"""One way to build an API function's resolver, so every route answers errors the same way:
`{"error": {"code", "message"}}`, never the library's default shape, never a 500 for bad input."""

from __future__ import annotations

import base64
import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from renewal.domain.errors import DomainError, Forbidden
from renewal.domain.orders import Order
from renewal.domain.receipts import Seller, asked_language, receipt_html
from renewal.usecases.accounts import Identity

logger = Logger()

# Named in each protected route's OpenAPI `security`; API Gateway's JWT authorizer enforces it.
COGNITO = "cognito"


def security_schemes() -> dict[str, Any]:
    """For the OpenAPI document only (`make openapi`): Powertools' OpenAPI models take ~120 ms to
    import, so no function pays for them at cold start."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {COGNITO: HTTPBearer(bearerFormat="JWT", description="Cognito ID token (Authorization: Bearer)")}


CUSTOMER: list[dict[str, list[str]]] = [{COGNITO: []}]


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps({"error": {"code": code, "message": message}}),
        headers=headers or {},
    )


def _describe(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is not valid"


def create_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.exception_handler(DomainError)
    def _domain_error(error: DomainError) -> Response[str]:
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
        return error_response(error.status, error.code, error.message, headers)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response[str]:
        errors = list(error.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(HTTPStatus.BAD_REQUEST, "malformed_json", "the body is not valid JSON")
        return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", _describe(errors))

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(_: UnicodeDecodeError) -> Response[str]:
        # A body that is not UTF-8 (API Gateway passes it base64-encoded) cannot be JSON.
        return error_response(HTTPStatus.BAD_REQUEST, "malformed_json", "the body is not UTF-8 JSON")

    @app.exception_handler(ValueError)
    def _unreadable(error: ValueError) -> Response[str]:
        # Powertools reads a multipart/form-data body as a form and raises ValueError on a bad
        # one; every body of this API is JSON, so that is bad input. Any other ValueError is ours.
        if (app.current_event.headers.get("content-type") or "").strip().lower().startswith("multipart/"):
            return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", "body: send application/json")
        raise error

    @app.not_found
    def _no_route(_: Exception) -> Response[str]:
        return error_response(HTTPStatus.NOT_FOUND, "route_not_found", "no such route")

    return app


def raw_body(app: APIGatewayHttpResolver) -> bytes:
    """The request's bytes as the sender signed them: API Gateway's base64 decoded, never JSON
    parsed and re-serialised (webhook and usage signatures cover the raw body)."""
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


def receipt_response(
    app: APIGatewayHttpResolver, order: Order, seller: Seller, staff_name: str | None = None
) -> Response[str]:
    """A receipt as JSON, or as a printable page when the client asks for HTML; both name the
    seller (with its tax number) and, for a store sale, the staff member by name."""
    headers = app.current_event.headers
    if "text/html" in (headers.get("accept") or ""):
        page = receipt_html(order, seller, staff_name=staff_name, locale=asked_language(headers.get("accept-language")))
        return Response(200, "text/html; charset=utf-8", page)
    data = {**order.receipt(), "seller": seller.view(), "staff_name": staff_name}
    return Response(200, "application/json", json.dumps(data))


def caller(app: APIGatewayHttpResolver) -> Identity:
    """The verified caller. API Gateway's JWT authorizer has already checked the token; a route
    reached without claims is a deployment mistake, answered as unauthenticated."""
    claims = app.current_event.request_context.authorizer.jwt_claim or {}
    subject = claims.get("sub")
    if not subject:
        raise _Unauthenticated("a valid bearer token is required")
    if claims.get("token_use") != "id":
        # API Gateway also admits access tokens; they lack the email an account is made from.
        raise _Unauthenticated("send the Cognito ID token, not the access token", code="id_token_required")
    if str(claims.get("email_verified", "")).lower() != "true":
        # The token's email is the account's (receipts, reminders, store look-ups): trusted only
        # once Cognito has verified it. API Gateway passes the boolean claim as "true"/"false".
        raise Forbidden("confirm your email address first", code="email_not_verified")
    return Identity(
        account_id=str(subject),
        email=str(claims.get("email", "")),
        locale=claims.get("locale"),
        time_zone=claims.get("zoneinfo"),
        groups=parse_groups(claims.get("cognito:groups")),
    )


def parse_groups(value: Any) -> tuple[str, ...]:
    """API Gateway hands array claims over as text such as `[store-staff other]`."""
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return tuple(part for part in text.replace(",", " ").split() if part)


class _Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
