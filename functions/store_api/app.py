"""Partner-store routes: cash renewals at the counter, receipts, voids, the end-of-day report."""

from __future__ import annotations

import renewal.startup

from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from renewal.domain.errors import InvalidInput
from renewal.http.api import CUSTOMER, caller, create_resolver, receipt_response
from renewal.http.once import call_once, idempotency_config
from renewal.http.schemas import (
    RECEIPT_CONTENT,
    OrderOut,
    StoreRenewalIn,
    StoreRenewalOut,
    VoidIn,
    answers,
    error_doc,
)
from renewal.tracing import TRACED_MODULES
from renewal.usecases.accounts import Identity
from renewal.wiring import idempotency_store, store_sales

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
app = create_resolver()
sales = store_sales()  # built at init, its AWS clients too (renewal.wiring)
idempotency = idempotency_config("staff_id")
STAFF_ONLY = error_doc("not partner-store staff (staff_only, no_store)")


@idempotent_function(data_keyword_argument="request", config=idempotency, persistence_store=idempotency_store())
def renew_once(request: dict[str, Any]) -> dict[str, Any]:
    body = request["body"]
    staff = Identity(request["staff_id"], "", groups=tuple(request["groups"]))
    return sales.renew(
        staff,
        iccid=body.get("iccid"),
        email=body.get("email"),
        plan_id=body["plan_id"],
        currency=body["currency"],
        cash_received=body["cash_received"],
    )


@app.post(
    "/store/renewals",
    summary="A cash renewal at the counter",
    security=CUSTOMER,
    responses=answers(
        201,
        "the sale, its receipt number and the change due",
        {
            403: STAFF_ONLY,
            409: error_doc("a request with this Idempotency-Key is still running, or email_ambiguous"),
            503: error_doc("the customer has no line and none is free (no_lines_available)"),
        },
    ),
)
def store_renewal(body: Annotated[StoreRenewalIn, Body()]) -> tuple[StoreRenewalOut, int]:
    staff = caller(app)
    sales.store_for(staff)  # a customer's token is 403 before anything else
    key = app.current_event.headers.get("idempotency-key")
    if not key:
        raise InvalidInput(
            "an Idempotency-Key header is required (a double tap makes one sale)", code="idempotency_key_required"
        )
    if bool(body.iccid) == bool(body.email):
        raise InvalidInput("give exactly one of iccid or email", code="validation_error")
    request = {
        "staff_id": staff.account_id,
        "groups": list(staff.groups),
        "idempotency_key": key,
        "body": body.model_dump(),
    }
    sold = call_once(renew_once, request)
    return StoreRenewalOut.model_validate(sold), 201


@app.post(
    "/store/renewals/<order_id>/void",
    summary="Void a sale within 15 minutes",
    security=CUSTOMER,
    responses=answers(
        description="the sale, voided",
        extra={403: STAFF_ONLY, 409: error_doc("already void, or past the 15 minutes")},
    ),
)
def void_sale(order_id: Annotated[str, Path(max_length=64)], body: Annotated[VoidIn, Body()]) -> OrderOut:
    return OrderOut.model_validate(sales.void(caller(app), order_id, body.reason).view())


@app.get(
    "/store/receipts/<receipt_no>",
    summary="A receipt of your store (JSON or HTML)",
    security=CUSTOMER,
    responses=answers(description="the receipt", extra={403: STAFF_ONLY}, content=RECEIPT_CONTENT),
)
def store_receipt(receipt_no: Annotated[str, Path(max_length=64)]) -> Response[str]:
    return receipt_response(app, *sales.receipt_page(caller(app), receipt_no))


@app.get(
    "/store/reports/daily",
    summary="End-of-day totals (store's local date)",
    security=CUSTOMER,
    responses=answers(description="the day's totals", extra={403: STAFF_ONLY}),
)
def daily(
    day: Annotated[date, Query(alias="date", description="YYYY-MM-DD, the store's local date")],
) -> dict[str, Any]:
    return sales.report(caller(app), day)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    return app.resolve(event, context)


renewal.startup.ready()
