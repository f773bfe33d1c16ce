"""Customer read API: plans, the caller's account and line, linking a card, the OpenAPI document."""

from __future__ import annotations

import renewal.startup

from importlib import resources
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from renewal.http.api import CUSTOMER, caller, create_resolver, receipt_response
from renewal.http.schemas import (
    RECEIPT_CONTENT,
    AccountOut,
    LinkLineIn,
    OrderList,
    OrderOut,
    PlanList,
    PlanOut,
    PreferencesIn,
    PreferencesOut,
    answers,
    error_doc,
)
from renewal.tracing import TRACED_MODULES
from renewal.wiring import account_service, customer_reads

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
app = create_resolver()

reads = customer_reads()  # built at init, their AWS clients too (renewal.wiring)
accounts = account_service()


@app.get("/plans", summary="List plans", responses=answers(description="the plans"))
def list_plans(
    region: Annotated[str | None, Query(max_length=16, description="e.g. EU, ASIA, NA, GLOBAL")] = None,
    country: Annotated[str | None, Query(pattern="^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")] = None,
) -> PlanList:
    found = reads.plans(region=region, country=country)
    return PlanList.model_validate({"plans": [p.view() for p in found]})


@app.get("/plans/<plan_id>", summary="One plan", responses=answers(description="the plan"))
def get_plan(plan_id: Annotated[str, Path(max_length=64)]) -> PlanOut:
    return PlanOut.model_validate(reads.plan(plan_id).view())


@app.get(
    "/account",
    summary="The caller's account and line",
    security=CUSTOMER,
    responses=answers(description="the account (iccid null and status none until the first payment)"),
)
def get_account() -> AccountOut:
    return AccountOut.model_validate(accounts.view(caller(app)))


@app.post(
    "/account/line",
    summary="Link a card the customer already holds (ICCID + PIN)",
    security=CUSTOMER,
    responses=answers(
        description="the account, now holding the card",
        extra={
            403: error_doc("wrong PIN, or no card with this ICCID (the same answer)"),
            409: error_doc("card linked elsewhere, or the account's line has plans"),
            423: error_doc("card locked after 10 wrong PINs in 24 hours"),
            429: error_doc("5 guesses in 15 minutes per card or caller (Retry-After)"),
        },
    ),
)
def link_line(body: Annotated[LinkLineIn, Body()]) -> AccountOut:
    return AccountOut.model_validate(accounts.link_line(caller(app), body.iccid, body.pin))


@app.get(
    "/account/preferences",
    summary="Locale, time zone, reminders",
    security=CUSTOMER,
    responses=answers(description="the preferences"),
)
def get_preferences() -> PreferencesOut:
    return PreferencesOut.model_validate(accounts.preferences(caller(app)))


@app.patch(
    "/account/preferences",
    summary="Change some preferences",
    security=CUSTOMER,
    responses=answers(description="the preferences as changed"),
)
def patch_preferences(body: Annotated[PreferencesIn, Body()]) -> PreferencesOut:
    reminders = body.reminders
    updated = accounts.update_preferences(
        caller(app),
        locale=body.locale,
        time_zone=body.time_zone,
        expiry=reminders.expiry if reminders else None,
        low_data=reminders.low_data if reminders else None,
    )
    return PreferencesOut.model_validate(updated)


@app.get(
    "/orders",
    summary="The caller's orders, newest first",
    security=CUSTOMER,
    responses=answers(description="a page of orders"),
)
def list_orders(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> OrderList:
    found, next_cursor = reads.orders(caller(app).account_id, limit, cursor)
    return OrderList.model_validate({"orders": [o.view() for o in found], "next_cursor": next_cursor})


@app.get(
    "/orders/<order_id>",
    summary="One of the caller's orders",
    security=CUSTOMER,
    responses=answers(description="the order"),
)
def get_order(order_id: Annotated[str, Path(max_length=64)]) -> OrderOut:
    return OrderOut.model_validate(reads.order(caller(app).account_id, order_id).view())


@app.get(
    "/orders/<order_id>/receipt",
    summary="An order's receipt (JSON, or a printable page with Accept: text/html)",
    security=CUSTOMER,
    responses=answers(description="the receipt", content=RECEIPT_CONTENT),
)
def get_receipt(order_id: Annotated[str, Path(max_length=64)]) -> Response[str]:
    order, seller, staff_name = reads.receipt(caller(app).account_id, order_id)
    return receipt_response(app, order, seller, staff_name)


@app.get("/openapi.json", summary="This API's OpenAPI document", include_in_schema=False)
def openapi_document() -> Response[str]:
    # The committed copy, generated from the code by `make openapi` and checked for drift in CI.
    document = resources.files("renewal").joinpath("openapi.json").read_text()
    return Response(status_code=200, content_type="application/json", body=document)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


renewal.startup.ready()
