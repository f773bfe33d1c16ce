"""The carrier worker: SQS batches of {"order_id"} (activate a paid order) or {"reversal_id"} (push a
refund's reversal to the carrier and mail it); a failed record is retried alone."""

from __future__ import annotations

import renewal.startup

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from renewal.tracing import TRACED_MODULES
from renewal.wiring import activation, reversal_push

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
activator = activation()  # built at init, its AWS clients too (renewal.wiring)
reversals = reversal_push()


def activate_record(record: SQSRecord) -> str:
    message = json.loads(record.body)
    if "reversal_id" in message:
        outcome = reversals.push(message["reversal_id"])
        logger.info("reversal", extra={"reversal_id": message["reversal_id"], "status": outcome})
        metrics.add_metric(name=f"Reversals_{outcome}", unit=MetricUnit.Count, value=1)
        return outcome
    order_id = message["order_id"]
    status = activator.activate(order_id)
    logger.info("activation", extra={"order_id": order_id, "status": status})
    metrics.add_metric(name=f"Orders_{status}", unit=MetricUnit.Count, value=1)
    return status


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return process_partial_response(event=event, record_handler=activate_record, processor=processor, context=context)


renewal.startup.ready()
