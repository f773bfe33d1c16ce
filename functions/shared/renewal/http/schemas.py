"""Request and response bodies of the customer API (they also generate its OpenAPI document)."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.event_handler.openapi.types import (
    OpenAPIResponse,
    OpenAPIResponseContentModel,
    OpenAPIResponseContentSchema,
)
from pydantic import BaseModel, ConfigDict, Field


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class PlanOut(BaseModel):
    plan_id: str
    name: str
    kind: Literal["daily", "weekly", "monthly"]
    region: str
    countries: list[str] = Field(description="ISO 3166-1 alpha-2 codes")
    data_mb: int
    validity_days: int
    prices: dict[str, int] = Field(description="integer minor units per ISO 4217 currency")


class PlanList(BaseModel):
    plans: list[PlanOut]


class BundleOut(BaseModel):
    region: str
    remaining_data_mb: int
    expires_at: str


class AccountOut(BaseModel):
    account_id: str
    email: str
    locale: str
    time_zone: str
    iccid: str | None
    status: Literal["none", "active", "expired", "lapsed"]
    remaining_data_mb: int
    expires_at: str | None
    bundles: list[BundleOut]
    email_status: Literal["ok", "bounced", "complained"] = Field(
        description="bounced or complained: our mail to this address could not be delivered, so none is sent"
    )


class LinkLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    iccid: str = Field(min_length=1, max_length=32, description="19-20 digits ending in a Luhn check digit")
    pin: str = Field(min_length=1, max_length=16, description="the PIN printed on the card")


def error_doc(description: str) -> OpenAPIResponse:
    """An error answer in the OpenAPI document: `{"error": {"code", "message"}}`."""
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


ERROR_RESPONSES: dict[int, OpenAPIResponse] = {
    400: error_doc("malformed request"),
    401: error_doc("missing or bad token"),
    404: error_doc("not found"),
    422: error_doc("invalid input"),
}

# A receipt: JSON, or a printable page with Accept: text/html.
RECEIPT_CONTENT: dict[str, OpenAPIResponseContentSchema | OpenAPIResponseContentModel] = {
    "application/json": {"schema": {"type": "object"}},
    "text/html": {"schema": {"type": "string"}},
}


def answers(
    ok: int = 200,
    description: str = "done",
    extra: dict[int, OpenAPIResponse] | None = None,
    *,
    content: dict[str, OpenAPIResponseContentSchema | OpenAPIResponseContentModel] | None = None,
) -> dict[int, OpenAPIResponse]:
    """Every answer an operation gives, for its OpenAPI document: its success (`ok`, with the
    route's return type as the body unless `content` says otherwise), the errors any route can
    give, and `extra`. (API Gateway's own 401 and 429 bodies are added by `infra/openapi.py`.)"""
    success: OpenAPIResponse = {"description": description}
    if content is not None:
        success["content"] = content
    return {ok: success, **ERROR_RESPONSES, **(extra or {})}


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_id: str = Field(min_length=1, max_length=64)
    currency: str = Field(pattern="^[A-Za-z]{3}$", description="ISO 4217; the plan must be sold in it")


class CheckoutOut(BaseModel):
    order_id: str
    session_id: str
    checkout_url: str
    expires_at: str


class OrderOut(BaseModel):
    order_id: str
    account_id: str
    iccid: str | None = Field(description="null until the payment gives an account without a line its first")
    plan_id: str
    channel: str
    status: str
    amount: int
    currency: str
    refunded_amount: int
    receipt_no: str | None
    store_id: str | None
    created_at: str
    paid_at: str | None
    activated_at: str | None
    taken_back_mb: int = Field(0, description="data taken back by refunds, voids or a lost dispute (MB)")
    taken_back_seconds: int = Field(0, description="validity taken back by them (seconds)")
    dispute_status: str | None = Field(None, description="Stripe's status of a dispute on the payment, if any")
    checkout_url: str | None = Field(
        description="the Checkout Session's page where a pending order can still be paid; null once it is not"
    )


class OrderList(BaseModel):
    orders: list[OrderOut]
    next_cursor: str | None


class WebhookAck(BaseModel):
    received: bool
    duplicate: bool = False
    handled: bool = False


# Cash at a till: far above any sale, far below DynamoDB's number range (38 digits).
MAX_CASH_MINOR_UNITS = 10**12


class StoreRenewalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    iccid: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    plan_id: str = Field(min_length=1, max_length=64)
    currency: str = Field(pattern="^[A-Za-z]{3}$")
    cash_received: int = Field(ge=0, le=MAX_CASH_MINOR_UNITS, description="integer minor units of the store's currency")


class StoreRenewalOut(OrderOut):
    change_due: int


class VoidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


class ReminderChoices(BaseModel):
    expiry: bool
    low_data: bool


class PreferencesOut(BaseModel):
    locale: str
    time_zone: str
    reminders: ReminderChoices


class ReminderChoicesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expiry: bool | None = None
    low_data: bool | None = None


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locale: str | None = Field(default=None, max_length=16, description="en or zh-CN")
    time_zone: str | None = Field(default=None, max_length=64, description="IANA time zone, e.g. Asia/Hong_Kong")
    reminders: ReminderChoicesIn | None = None
