"""SES bounces and complaints: SQS batches of SES events (EventBridge's envelope, or SNS's); each
address that cannot be mailed is marked on its accounts. A record it cannot read fails alone."""

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
from renewal.wiring import mail_events

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
recorder = mail_events()  # built at init, its AWS clients too (renewal.wiring)


def record_event(record: SQSRecord) -> dict[str, int]:
    report = recorder.record(json.loads(record.body))
    logger.info("mail event", extra=report)
    metrics.add_metric(name="UndeliverableAddresses", unit=MetricUnit.Count, value=report["addresses"])
    return report


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return process_partial_response(event=event, record_handler=record_event, processor=processor, context=context)


renewal.startup.ready()
