"""POST /checkout (start paying for a plan), POST /orders/{order_id}/sync (what the success
page calls: re-read the payment from Stripe and fulfil it if paid) and POST
/orders/{order_id}/cancel (expire the session at Stripe, then fulfil: expired, or paid first)."""

from __future__ import annotations

import renewal.startup

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from renewal.http.api import CUSTOMER, caller, create_resolver
from renewal.http.once import call_once, idempotency_config
from renewal.http.schemas import CheckoutIn, CheckoutOut, OrderOut, answers, error_doc
from renewal.tracing import TRACED_MODULES
from renewal.usecases.accounts import Identity
from renewal.wiring import checkout_service, fulfilment, idempotency_store, sync_limit

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
app = create_resolver()
checkouts = checkout_service()  # built at init, their AWS clients too (renewal.wiring)
payments = fulfilment()
syncs = sync_limit()

idempotency = idempotency_config("account_id")


@idempotent_function(data_keyword_argument="request", config=idempotency, persistence_store=idempotency_store())
def start_checkout_once(request: dict[str, Any]) -> dict[str, Any]:
    body = request["body"]
    return checkouts.start(Identity(**request["identity"]), body["plan_id"], body["currency"])


@app.post(
    "/checkout",
    summary="Start paying for a plan",
    security=CUSTOMER,
    responses=answers(
        201,
        "the Checkout Session and its pending order",
        {
            409: error_doc("a request with this Idempotency-Key is still running"),
            429: error_doc("3 checkouts already open (too_many_open_checkouts; Retry-After)"),
            502: error_doc("Stripe failed (payment_provider_unavailable); nothing was written"),
        },
    ),
)
def checkout(body: Annotated[CheckoutIn, Body()]) -> tuple[CheckoutOut, int]:
    identity = caller(app)
    key = app.current_event.headers.get("idempotency-key")
    if not key:
        started = checkouts.start(identity, body.plan_id, body.currency)
    else:
        request = {
            "account_id": identity.account_id,
            "idempotency_key": key,
            "identity": {
                "account_id": identity.account_id,
                "email": identity.email,
                "locale": identity.locale,
                "time_zone": identity.time_zone,
            },
            "body": body.model_dump(),
        }
        started = call_once(start_checkout_once, request)
    return CheckoutOut.model_validate(started), 201


@app.post(
    "/orders/<order_id>/sync",
    summary="Re-read the payment from Stripe",
    security=CUSTOMER,
    responses=answers(
        description="the order as Stripe's payment leaves it",
        extra={
            429: error_doc("more than 20 syncs a minute (too_many_syncs; Retry-After)"),
            502: error_doc("Stripe failed (payment_provider_unavailable); the page may sync again"),
            503: error_doc("paid, but no eSIM line is free for a first plan (no_lines_available); sync again"),
        },
    ),
)
def sync_order(order_id: Annotated[str, Path(max_length=64)]) -> OrderOut:
    identity = caller(app)
    syncs.take(identity)
    return OrderOut.model_validate(payments.sync(identity.account_id, order_id).view())


@app.post(
    "/orders/<order_id>/cancel",
    summary="Give up a pending order: its Checkout Session is expired first",
    security=CUSTOMER,
    responses=answers(
        description="the order, expired (again if it already was)",
        extra={
            409: error_doc("not pending: order_already_paid (also in between), payment_in_progress, order_not_pending"),
            502: error_doc("Stripe failed (payment_provider_unavailable); the order stays as it was"),
        },
    ),
)
def cancel_order(order_id: Annotated[str, Path(max_length=64)]) -> OrderOut:
    return OrderOut.model_validate(payments.cancel(caller(app).account_id, order_id).view())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    return app.resolve(event, context)


renewal.startup.ready()
