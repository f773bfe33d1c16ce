"""Scheduled reconciliation: our orders and bundles against Stripe and the mobile network.

EventBridge Scheduler sends `{"now": <the scheduled time>, "run_id"}`; `make reconcile NOW=...`
runs it as of another time. Returns the report (what was mended, what was flagged)."""

from __future__ import annotations

import renewal.startup

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from renewal.domain.timeutil import from_iso
from renewal.tracing import TRACED_MODULES
from renewal.wiring import reconciliation

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
reconciler = reconciliation()  # built at init, its AWS clients too (renewal.wiring)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    moment = event.get("now")
    report = reconciler.run(from_iso(str(moment)) if moment else None)
    metrics.add_metric(name="OrdersWaiting", unit=MetricUnit.Count, value=report["orders_waiting"])
    metrics.add_metric(name="OrdersRequeued", unit=MetricUnit.Count, value=len(report["requeued"]))
    metrics.add_metric(name="ReconciliationIssues", unit=MetricUnit.Count, value=report["new_issues"])
    metrics.add_metric(name="PoolSize", unit=MetricUnit.Count, value=report["pool_size"])
    return report


renewal.startup.ready()
