"""Activation worker: SQS batches of {"order_id"}; a failed record is retried alone."""

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
from renewal.wiring import activation

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
activator = activation()  # built at init, its AWS clients too (renewal.wiring)


def activate_record(record: SQSRecord) -> str:
    order_id = json.loads(record.body)["order_id"]
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
