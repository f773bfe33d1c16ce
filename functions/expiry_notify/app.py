"""The scheduled reminder run: find the lines with a reminder due and queue their mails.

EventBridge Scheduler sends `{"scheduled_time", "run_id"}`; the run decides as of the scheduled
time, so a retry (the scheduler's, or Lambda's two async retries) decides as the first attempt
did. `{"now": "<ISO 8601>"}` runs it as of another time (`make remind NOW=...`)."""

from __future__ import annotations

import renewal.startup

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from renewal.domain.timeutil import from_iso, utc_now
from renewal.tracing import TRACED_MODULES
from renewal.wiring import reminder_run

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
reminders = reminder_run()  # built at init, its AWS clients too (renewal.wiring)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    moment = event.get("now") or event.get("scheduled_time")
    as_of = from_iso(str(moment)) if moment else utc_now()
    report = reminders.run(as_of)
    logger.info("reminder run", extra={"run_id": event.get("run_id"), **report})
    metrics.add_metric(name="ReminderLinesDue", unit=MetricUnit.Count, value=report["due_lines"])
    metrics.add_metric(name="RemindersQueued", unit=MetricUnit.Count, value=report["queued"])
    return report


renewal.startup.ready()
