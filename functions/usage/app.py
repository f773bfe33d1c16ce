"""POST /usage/records: the carrier's signed usage batches (Usage-Signature over the raw body)."""

from __future__ import annotations

import renewal.startup

import json
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from renewal.http.api import create_resolver, raw_body
from renewal.http.schemas import answers
from renewal.tracing import TRACED_MODULES
from renewal.wiring import usage_ingest

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
app = create_resolver()
ingest = usage_ingest()  # built at init, its AWS clients too (renewal.wiring)


@app.post(
    "/usage/records",
    summary="Carrier usage records (signed)",
    description=(
        'Body: {"records": [{"record_id", "iccid", "country", "data_mb", "used_at"}]}, at most 1,000. '
        "Header Usage-Signature: t=<unix>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>. Each record counts "
        "once; a bad record refuses the whole batch (422); a bad signature is 401 and changes nothing."
    ),
    responses=answers(
        202, "applied: counts, duplicates, unknown ICCIDs", content={"application/json": {"schema": {"type": "object"}}}
    ),
)
def usage_records() -> Response[str]:
    payload = raw_body(app)  # the signature covers the raw bytes
    report = ingest.ingest(payload, app.current_event.headers.get("usage-signature"))
    return Response(202, "application/json", json.dumps(report))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


renewal.startup.ready()
