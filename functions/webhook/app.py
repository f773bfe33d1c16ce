"""POST /webhooks/stripe: verify the signature over the raw body, record the event once, fulfil."""

from __future__ import annotations

import renewal.startup

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from renewal.http.api import create_resolver, raw_body
from renewal.http.schemas import WebhookAck, answers, error_doc
from renewal.tracing import TRACED_MODULES
from renewal.wiring import fulfilment

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
app = create_resolver()
payments = fulfilment()  # built at init, its AWS clients too (renewal.wiring)


@app.post(
    "/webhooks/stripe",
    summary="Stripe events (signed)",
    responses=answers(
        description="recorded (or a duplicate)",
        extra={
            502: error_doc("Stripe failed while fulfilling; Stripe retries"),
            503: error_doc("no eSIM line free for a first payment (no_lines_available); Stripe retries"),
        },
    ),
)
def stripe_webhook() -> WebhookAck:
    payload = raw_body(app)  # the signature covers the raw bytes
    return WebhookAck.model_validate(
        payments.handle_webhook(payload, app.current_event.headers.get("stripe-signature"))
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


renewal.startup.ready()
