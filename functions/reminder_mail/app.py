"""Reminder and alert sender: SQS batches of queued reminders; a failed record is retried alone."""

from __future__ import annotations

import renewal.startup

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from renewal.domain.reminders import ReminderMessage
from renewal.tracing import TRACED_MODULES
from renewal.wiring import reminder_sender

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
sender = reminder_sender()  # built at init, its AWS clients too (renewal.wiring)


def send_record(record: SQSRecord) -> str:
    message = ReminderMessage.from_json(json.loads(record.body))
    outcome = sender.send(message)
    logger.info("reminder", extra={"reminder_id": message.key.id, "outcome": outcome})
    metrics.add_metric(name=f"Reminders_{outcome}", unit=MetricUnit.Count, value=1)
    return outcome


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return process_partial_response(event=event, record_handler=send_record, processor=processor, context=context)


renewal.startup.ready()
